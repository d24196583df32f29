"""Where the tasks of a partitioned run execute: in this process, on Dask's local processes, or
on a Dask scheduler anywhere.

``scheduler``:

* ``"none"``: one task after the other in this process (for debugging; SGP4 and the
  visibility kernel still use every core).
* ``"local"``: an embedded :class:`distributed.LocalCluster` of ``workers`` processes (default:
  the cores), one thread each; nothing to start.
* ``"tcp://HOST:PORT"``: a running ``dask scheduler`` with ``dask worker`` s anywhere. Workers
  need leonet installed and must reach the output folder and the element-set files by the same
  paths (a shared file system), or load element sets from a URL.

A task is a small picklable object: its run's description (element-set source, area, grid,
policy) and its instants, never propagated arrays. A task writes its own partition and returns
a few numbers. Dask retries a task whose worker died (``retries``; its partition is written
again under the same name, so the output has no duplicates).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from leonet.errors import InputError
from leonet.scale.dataset import Task

SCHEDULERS = ("none", "local", "tcp://HOST:PORT")
CONNECT_TIMEOUT_S = 10


class TaskRunner(Protocol):
    """What the engine runs: ``compute(task, threads)`` writes the task's partition and
    returns a small dict (its wall seconds, peak RSS)."""

    def compute(self, task: Task, threads: int | None) -> dict[str, Any]: ...


@dataclass
class EngineEvents:
    """Callbacks for the caller (the CLI draws them): ``progress(instants)`` as tasks finish,
    ``dashboard(url)`` once when a distributed scheduler serves one, ``note(text)``."""

    progress: Callable[[int], None] | None = None
    dashboard: Callable[[str], None] | None = None
    note: Callable[[str], None] | None = None


def check_scheduler(scheduler: str) -> str:
    """``scheduler`` if valid, else an error naming the choices (before any work)."""
    s = (scheduler or "").strip()
    if s in ("none", "local") or (s.startswith("tcp://") and ":" in s[6:] and s[6:].rsplit(":", 1)[1].isdigit()):
        return s
    raise InputError(f"--scheduler {scheduler!r}: give none, local or tcp://HOST:PORT (a running `dask scheduler`)")


def _run_one(runner: TaskRunner, task: Task, threads: int | None) -> dict[str, Any]:
    """A task on a worker: numba's threads limited to the worker's share of the cores."""
    if threads:
        import numba

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    started = time.perf_counter()
    out = runner.compute(task, threads)
    return {"seconds": time.perf_counter() - started, "pid": os.getpid(), **out}


def run_tasks(
    runner: TaskRunner,
    tasks: Sequence[Task],
    scheduler: str = "none",
    *,
    workers: int | None = None,
    retries: int = 3,
    events: EngineEvents | None = None,
    key_prefix: str = "leonet",
) -> list[dict[str, Any]]:
    """Run ``tasks`` (their partitions get written) and return each one's result dict (with
    ``task``), in the order given. Raises the first task error (others are cancelled)."""
    ev = events or EngineEvents()
    scheduler = check_scheduler(scheduler)
    if not tasks:
        return []
    if scheduler == "none":
        out = []
        for t in tasks:
            out.append(_run_one(runner, t, None) | {"task": t})
            if ev.progress:
                ev.progress(t.i1 - t.i0)
        return out
    return _run_dask(runner, list(tasks), scheduler, workers, retries, ev, key_prefix)


def _run_dask(runner: TaskRunner, tasks: list[Task], scheduler: str, workers: int | None, retries: int, ev: EngineEvents, key_prefix: str) -> list[dict[str, Any]]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        import dask

        n = workers or os.cpu_count() or 1
        # Dask's nannies export MALLOC_TRIM_THRESHOLD_; setting it turns off glibc's dynamic mmap
        # threshold, so each chunk's large NumPy temporaries are mapped and page-faulted afresh
        # (bench/scale.py: local tasks ran 1.4-1.9x slower than on `dask worker --no-nanny`). Keep glibc's default.
        environ = {k: v for k, v in dict(dask.config.get("distributed.nanny.pre-spawn-environ", {})).items() if k != "MALLOC_TRIM_THRESHOLD_"}
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", host="127.0.0.1")
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with `dask scheduler` "
                             "and workers with `dask worker tcp://HOST:PORT`, or use --scheduler local") from None
    try:
        link = _dashboard(client)
        if link and ev.dashboard:
            ev.dashboard(link)
        if scheduler != "local" and not client.scheduler_info().get("workers") and ev.note:
            ev.note(f"no workers are connected to {scheduler} yet: tasks wait for one (`dask worker {scheduler}`)")
        threads = 1
        futures = {}
        for t in tasks:
            # The key names the partition: a task submitted twice is computed once.
            key = f"{key_prefix}-v{t.variant}-c{t.chunk}"
            futures[client.submit(_run_one, runner, t, threads, key=key, retries=retries, pure=False)] = t
        results: dict[Task, dict[str, Any]] = {}
        try:
            for fut in as_completed(list(futures)):
                t = futures[fut]
                results[t] = fut.result() | {"task": t}
                if ev.progress:
                    ev.progress(t.i1 - t.i0)
        except BaseException:
            client.cancel(list(futures))
            raise
        return [results[t] for t in tasks]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dashboard(client: Any) -> str | None:
    """The scheduler's dashboard URL, when it serves one (bokeh installed there)."""
    try:
        services = client.scheduler_info().get("services", {})
    except Exception:  # noqa: BLE001 - a scheduler that cannot say has no link to give
        return None
    return client.dashboard_link if "dashboard" in services else None
