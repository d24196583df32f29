"""A partitioned run on disk: hive-style Parquet partitions, one per task, and a manifest.

Layout of an output folder ``OUT``::

    OUT/manifest.json                                  what the run is (its fingerprint), its tasks, its state
    OUT/<table>/[variant=K/]chunk=NNNNNN/part-0.parquet one partition per task and table

Every file is written beside its final name and renamed into place (``write_table``), so a
reader, or a run killed at any moment, never leaves a partial file under a final name. A task
writes its tables in a fixed order and the one named by ``done_table`` last, so a task is done
exactly when that file exists; a task killed between two renames is simply computed again
(a partition's name is fixed, so a second writer replaces it: no duplicates). Read a table with
``pyarrow.dataset.dataset("OUT/timeseries", partitioning="hive")`` or DuckDB's
``read_parquet('OUT/timeseries/**/*.parquet', hive_partitioning = true)``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from leonet.errors import InputError
from leonet.export.files import write_json, write_table

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Task:
    """One partition of a run: ``variant`` (a sweep's point, 0 for a single run), ``chunk``
    (time chunk number) and its instants ``[i0, i1)`` on the run's time grid."""

    variant: int
    chunk: int
    i0: int
    i1: int

    def partition(self, sweep: bool) -> str:
        """The hive-style partition path, e.g. ``variant=2/chunk=000007``."""
        leaf = f"chunk={self.chunk:06d}"
        return f"variant={self.variant}/{leaf}" if sweep else leaf


class TaskPlan:
    """What the plans of partitioned runs share (each a dataclass with a ``todo`` list of the
    :class:`Task` s that have no partition yet)."""

    todo: list[Task]

    @property
    def todo_instants(self) -> int:
        """Instants still to compute (progress bars count these)."""
        return sum(t.i1 - t.i0 for t in self.todo)


def partition_file(folder: Path, table: str, task: Task, sweep: bool) -> Path:
    return folder / table / task.partition(sweep) / "part-0.parquet"


def write_partition(folder: Path, task: Task, sweep: bool, tables: Mapping[str, pa.Table], done_table: str) -> None:
    """Write ``tables`` of ``task``, ``done_table`` last (its presence marks the task done)."""
    names = [n for n in tables if n != done_table] + [done_table]
    for name in names:
        path = partition_file(folder, name, task, sweep)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table(tables[name], path, "parquet")


def task_done(folder: Path, task: Task, sweep: bool, done_table: str) -> bool:
    return partition_file(folder, done_table, task, sweep).is_file()


def read_partition(folder: Path, table: str, task: Task, sweep: bool) -> pa.Table:
    return pq.read_table(partition_file(folder, table, task, sweep))


def read_manifest(folder: Path) -> dict[str, Any] | None:
    p = folder / MANIFEST
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{p} is not a readable leonet manifest ({exc}); remove the folder or choose another") from None


def prepare_folder(folder: Path, fingerprint: dict[str, Any], tasks: list[Task], resume: bool, tables: list[str]) -> None:
    """Check the output folder before any work: a new run needs a folder without a run in it
    (no stored data is lost); ``resume`` needs the same run's manifest (same fingerprint).
    Writes the manifest with ``state: running``."""
    old = read_manifest(folder)
    if old is None:
        if resume:
            raise InputError(f"--resume: {folder} holds no run to resume (no {MANIFEST}); run without --resume first")
        if any((folder / t).exists() for t in tables):
            raise InputError(f"{folder} already holds partitions but no {MANIFEST}; remove them or choose another output folder")
    else:
        if not resume:
            raise InputError(f"{folder} already holds a run ({old.get('state', '?')}); add --resume to finish it, or choose another output folder")
        if old.get("fingerprint") != fingerprint:
            a, b = _flat(fingerprint), _flat(old.get("fingerprint", {}))
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))[:6]
            raise InputError(f"--resume: the run in {folder} was started with different inputs ({', '.join(diff)}); "
                             "resume it with the same scenario and options, or choose another output folder")
    folder.mkdir(parents=True, exist_ok=True)
    write_manifest(folder, fingerprint, tasks, "running")


def remove_staging(folder: Path, tables: list[str]) -> None:
    """Temporaries left by writers killed mid-write (hidden, never read as partitions). Called
    once every task is done: a task of a killed client may still be writing until then."""
    for t in tables:
        for tmp in (folder / t).rglob(".*.tmp") if (folder / t).is_dir() else ():
            tmp.unlink(missing_ok=True)


def write_manifest(folder: Path, fingerprint: dict[str, Any], tasks: list[Task], state: str, extra: Mapping[str, Any] | None = None) -> None:
    doc = {
        "format": "leonet partitioned run",
        "format_version": FORMAT_VERSION,
        "state": state,
        "fingerprint": fingerprint,
        "tasks": [[t.variant, t.chunk, t.i0, t.i1] for t in tasks],
        **(dict(extra) if extra else {}),
    }
    write_json(doc, folder / MANIFEST)


def remove_tree(path: Path) -> None:
    """Remove a derived folder (final tables rebuilt from the partitions)."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        os.unlink(path)


def _flat(doc: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a.b.0": value}`` of nested dicts and lists (to name what differs)."""
    if isinstance(doc, dict):
        return {k: v for key, val in doc.items() for k, v in _flat(val, f"{prefix}{key}.").items()}
    if isinstance(doc, list):
        return {k: v for i, val in enumerate(doc) for k, v in _flat(val, f"{prefix}{i}.").items()}
    return {prefix.rstrip("."): doc}


def manifest_chunk_instants(folder: Path) -> int | None:
    """The instants per task of the run in ``folder`` (a resume keeps them), if any."""
    old = read_manifest(folder)
    try:
        return int(old["fingerprint"]["variants"][0]["chunk_instants"]) if old else None
    except (KeyError, IndexError, TypeError, ValueError):
        return None
