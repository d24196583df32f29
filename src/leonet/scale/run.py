"""Plan, execute and finish partitioned scenario runs and sweeps.

:func:`plan_scenario` / :func:`plan_sweep` check every input and the output folder before any
work and say how much is left (``Plan.todo``: a resumed run skips the partitions already
written); :func:`execute` runs the missing tasks on the chosen scheduler
(:mod:`leonet.scale.engine`), then merges the partitions (:func:`~leonet.scale.regional.merge_job`)
and writes the final tables:

* a single run: ``cells.parquet``, ``regions.parquet``, ``border.parquet`` (when a region is
  inactive at some instant) and ``leonet.duckdb`` (those tables and ``timeseries``);
* a sweep: ``cells/variant=K/part-0.parquet``, ``summary.parquet`` (one row per variant and
  region, the axes as columns), ``border.parquet`` and ``leonet.duckdb``;
* a scenario with a ``[capacity]`` section: its intervals are tasks too
  (:mod:`leonet.scale.capacity`, partitions in ``capacity/`` or ``capacity/variant=K/``), and
  ``capacity_cells.parquet``, ``capacity_regions.parquet``, ``capacity_rules.parquet`` (the
  tables of a one-shot ``leonet run``) go beside the others (for a sweep, in ``capacity/variant=K/``).

The manifest then says ``state: complete``. Final tables are derived from the partitions, so a
resumed run rewrites them identically.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from leonet.errors import InputError
from leonet.export.files import write_table
from leonet.export.tables import figure_tables, write_duckdb
from leonet.jobs.regional import ScenarioRun
from leonet.jobs.scenario import Scenario, load_scenario
from leonet.scale.capacity import CapacityDataset, CapacityPlan, execute_capacity, scenario_capacity_plan
from leonet.scale.dataset import MANIFEST, Task, manifest_chunk_instants, prepare_folder, remove_staging, write_manifest
from leonet.scale.engine import EngineEvents, check_scheduler, run_tasks
from leonet.scale.regional import TABLES, PartitionedRun, ScenarioJob, merge_job, scenario_job, with_axes
from leonet.scale.sweep import SweepSpec, load_sweep


@dataclass
class Plan:
    """A checked run: its jobs (one per variant), the ScenarioRun shells their results fill,
    every task, and ``todo`` (those without a partition yet)."""

    jobs: list[ScenarioJob]
    shells: list[ScenarioRun]
    folder: Path
    tasks: list[Task]
    todo: list[Task]
    fingerprint: dict[str, Any]
    sweep: SweepSpec | None = None
    notes: list[str] = field(default_factory=list)
    capacity: list[CapacityPlan | None] = field(default_factory=list)

    @property
    def total_instants(self) -> int:
        return sum(t.i1 - t.i0 for t in self.tasks)

    @property
    def todo_instants(self) -> int:
        return sum(t.i1 - t.i0 for t in self.todo)

    @property
    def key_prefix(self) -> str:
        digest = hashlib.sha256(json.dumps(self.fingerprint, sort_keys=True).encode()).hexdigest()[:16]
        return f"leonet-{digest}"


def plan_scenario(scenario: Scenario | str | Path, output_dir: str | Path | None = None, *, policy_db: str | None = None,
                  chunk_instants: int | None = None, resume: bool = False) -> Plan:
    """A single scenario as a partitioned run in ``output_dir`` (default the scenario's [output] dir)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    folder = Path(output_dir if output_dir is not None else sc.output_dir)
    requested = chunk_instants
    chunk_instants = _resumed_chunks(folder, chunk_instants, resume)
    notes: list[str] = []
    job, shell = scenario_job(sc, folder, policy_db=policy_db, chunk_instants=chunk_instants, notes=notes)
    return _plan([job], [shell], folder, resume, None, notes, requested)


def plan_sweep(sweep: SweepSpec | str | Path, output_dir: str | Path | None = None, *, policy_db: str | None = None,
               chunk_instants: int | None = None, resume: bool = False) -> Plan:
    """Every point of a sweep (:mod:`leonet.scale.sweep`) as one partitioned run."""
    spec = sweep if isinstance(sweep, SweepSpec) else load_sweep(sweep)
    folder = Path(output_dir if output_dir is not None else spec.output_dir)
    requested = chunk_instants
    chunk_instants = _resumed_chunks(folder, chunk_instants, resume)
    jobs, shells, notes = [], [], []
    for k, (axes, sc) in enumerate(spec.variants()):
        job, shell = scenario_job(sc, folder, policy_db=policy_db, chunk_instants=chunk_instants, sweep=True, variant=k, axes=axes,
                                  notes=notes)
        jobs.append(job)
        shells.append(shell)
    return _plan(jobs, shells, folder, resume, spec, notes, requested)


def _resumed_chunks(folder: Path, chunk_instants: int | None, resume: bool) -> int | None:
    """A resumed run keeps its instants per task unless told otherwise."""
    return manifest_chunk_instants(folder) if resume and chunk_instants is None else chunk_instants


def _plan(jobs: list[ScenarioJob], shells: list[ScenarioRun], folder: Path, resume: bool, sweep: SweepSpec | None, notes: list[str],
          requested_chunk: int | None = None) -> Plan:
    """``requested_chunk``: the instants per task asked for, which a [capacity] section's tasks
    take too (a resumed one keeps its own, from its manifest)."""
    tasks = [t for j in jobs for t in j.tasks()]
    fingerprint = {"kind": "sweep" if sweep else "scenario", "variants": [j.fingerprint() for j in jobs]}
    prepare_folder(folder, fingerprint, tasks, resume, list(TABLES))
    todo = [t for t in tasks if not jobs[t.variant].done(t)] if resume else list(tasks)
    caps: list[CapacityPlan | None] = []
    for job, shell in zip(jobs, shells):
        if job.scenario.capacity is None:
            caps.append(None)
            continue
        sub = folder / "capacity" / (f"variant={job.variant}" if sweep else "")
        # A run killed while planning may have no capacity manifest yet: then it starts afresh.
        cap = scenario_capacity_plan(job.scenario, job.source, job.policy, shell.satellites, job.area(), sub,
                                     resume=resume and (sub / MANIFEST).is_file(), chunk_instants=requested_chunk)
        caps.append(cap)
        # Capacity tasks ride in the same engine run as variants after the coverage ones.
        k = len(jobs) + len(caps) - 1
        tasks += [Task(k, t.chunk, t.i0, t.i1) for t in cap.tasks]
        todo += [Task(k, t.chunk, t.i0, t.i1) for t in cap.todo]
    return Plan(jobs, shells, folder, tasks, todo, fingerprint, sweep, notes, caps)


class _Runner:
    """The engine's runner over the plan's jobs (a task names its variant; variants past the
    coverage jobs are the capacity plans')."""

    def __init__(self, jobs: list[ScenarioJob], caps: list[CapacityPlan | None] | None = None):
        self.jobs = jobs
        self.caps = caps or []

    def compute(self, task: Task, threads: int | None) -> dict[str, Any]:
        n = len(self.jobs)
        if task.variant < n:
            return self.jobs[task.variant].compute(task, threads)
        cap = self.caps[task.variant - n]
        assert cap is not None
        return cap.job.compute(Task(0, task.chunk, task.i0, task.i1), threads)


def execute(plan: Plan, scheduler: str = "none", *, workers: int | None = None, events: EngineEvents | None = None) -> PartitionedRun:
    """Run the plan's missing tasks, merge, write the final tables; see the module doc."""
    started = time.perf_counter()
    scheduler = check_scheduler(scheduler)
    results = run_tasks(_Runner(plan.jobs, plan.capacity), plan.todo, scheduler, workers=workers, events=events, key_prefix=plan.key_prefix)
    remove_staging(plan.folder, list(TABLES))
    capacity: list[CapacityDataset | None] = []
    for cap in plan.capacity or [None] * len(plan.jobs):
        # Its tasks are done: this only merges and writes the tables.
        capacity.append(None if cap is None else execute_capacity(cap, "none", fmt="parquet", out_dir=plan.folder if plan.sweep is None else None,
                                                                  names=("capacity_cells", "capacity_regions", "capacity_rules")))
    runs = []
    for job, shell in zip(plan.jobs, plan.shells):
        res, base = merge_job(job, job.area())
        shell.result, shell.baseline = res, base
        shell.seconds = time.perf_counter() - started
        runs.append(shell)
    out = PartitionedRun(runs, plan.folder, results, len(plan.todo), len(plan.tasks) - len(plan.todo), time.perf_counter() - started,
                         axes=[dict(j.axes) for j in plan.jobs], capacity=capacity)
    out.paths = _write_final(plan, runs)
    if plan.sweep is None and capacity and capacity[0] is not None:
        out.paths |= {f"capacity_{k}": p for k, p in capacity[0].paths.items()}
    write_manifest(plan.folder, plan.fingerprint, plan.tasks, "complete", {
        "outputs": sorted(str(p.relative_to(plan.folder)) for p in out.paths.values()),
        "variants": [{"variant": j.variant, "axes": {k: v for k, v in j.axes}, "scenario": j.scenario.name} for j in plan.jobs],
    })
    for run in runs:
        run.paths = out.paths
    return out


def _write_final(plan: Plan, runs: list[ScenarioRun]) -> dict[str, Path]:
    folder = plan.folder
    paths: dict[str, Path] = {}
    if plan.sweep is None:
        run = runs[0]
        for name, table in figure_tables(run.result, run.scenario.beam_radius_km).items():
            paths[name] = folder / f"{name}.parquet"
            write_table(table, paths[name], "parquet")
        paths["duckdb"] = _duckdb(folder, {n: p for n, p in paths.items()}, sweep=False)
        return paths
    summaries, borders = [], []
    for job, run in zip(plan.jobs, runs):
        tables = figure_tables(run.result, run.scenario.beam_radius_km)
        axes = {k: v for k, v in job.axes}
        cells = with_axes(tables["cells"], axes)
        p = folder / "cells" / f"variant={job.variant}" / "part-0.parquet"
        p.parent.mkdir(parents=True, exist_ok=True)
        write_table(cells, p, "parquet")
        for row in run.summary():
            summaries.append({"variant": job.variant, **axes, **row})
        if "border" in tables:
            borders.extend({"variant": job.variant, **axes, **b} for b in tables["border"].to_pylist())
    paths["summary"] = folder / "summary.parquet"
    write_table(pa.Table.from_pylist(summaries), paths["summary"], "parquet")
    if borders:
        paths["border"] = folder / "border.parquet"
        write_table(pa.Table.from_pylist(borders), paths["border"], "parquet")
    paths["duckdb"] = _duckdb(folder, dict(paths), sweep=True)
    return paths


def _duckdb(folder: Path, files: dict[str, Path], sweep: bool) -> Path:
    """``leonet.duckdb``: the final tables and the partitioned ``timeseries`` (and, for a sweep, ``cells``)."""
    parts = {"timeseries": (folder / "timeseries", ["variant", "chunk"] if sweep else ["chunk"])}
    if sweep:
        parts["cells"] = (folder / "cells", ["variant"])
    return write_duckdb(folder / "leonet.duckdb", files, parts)


def check_output_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output {folder} is a file; give a folder")
