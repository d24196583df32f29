"""Routing series as partitioned, resumable runs: ``leonet route ... --scheduler X``.

A one-shot ``leonet route`` keeps every step's routes in memory (~2.8 MB per step for 100
cities all pairs: one hour at 1 s is ~10 GB). Here the grid is cut into time chunks; each task
builds the router with the run's start as the shells' epoch (so every chunk has the same
lasers and node ids), routes its instants and writes ``routes/chunk=N/part-0.parquet``: the rows
of ``leonet route`` (``t_ns`` from the run's start). The client probes the first instant before
any work (checking every input and giving the node names, ``nodes.parquet``), and at the end
summarises the dataset per pair with DuckDB, out of core (``summary.parquet``): reachable
fraction, RTT min/median/max, median hops, path changes (across chunk boundaries too), the
great-circle fibre RTT and the median ratio to it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from leonet.export.files import write_table
from leonet.export.results import nodes_table, routes_table
from leonet.network.run import RouteRun, run_routes
from leonet.orbits.satellites import Satellites
from leonet.scale.dataset import Task, TaskPlan, prepare_folder, remove_staging, task_done, write_manifest
from leonet.scale.engine import EngineEvents, check_scheduler, run_tasks
from leonet.scale.regional import _cached, _digest, _peak_rss_mb, chunk_instants_for
from leonet.times import TimeGrid
from leonet.version import __version__

TABLE = "routes"
ROUTE_CHUNK = 64  # instants per task by default (the routing kernel's own chunk)


@dataclass(frozen=True)
class RouteJob:
    """What a routing task carries: the element-set ``source`` (loaded on the worker at
    ``epoch_ns``), the endpoints and pairs, the grid, and :func:`~leonet.network.run.run_routes`'s
    link options (``options``: mode, link rules, sites, inactive countries)."""

    source: tuple[str, ...]
    source_digest: str
    endpoints: Any
    pairs: tuple[np.ndarray, np.ndarray] | None
    options: tuple[tuple[str, Any], ...]
    grid_start_ns: int
    grid_step_ns: int
    grid_count: int
    chunk_instants: int
    folder: str
    states: tuple[str, ...] | None = ("operational",)

    def tasks(self) -> list[Task]:
        n, k = self.grid_count, self.chunk_instants
        return [Task(0, c, i, min(i + k, n)) for c, i in enumerate(range(0, n, k))]

    def serving(self, c: Satellites) -> Satellites:
        """The satellites that carry traffic: those in ``states`` (as ``leonet.route``'s)."""
        if self.states is None:
            return c
        from leonet.sources.fleet import serving

        return serving(c, self.states).constellation

    def satellites(self) -> Satellites:
        def build() -> Satellites:
            from leonet.sources.load import load

            return self.serving(load(list(self.source), epoch=self.grid_start_ns))

        return _cached(self.sats_key(), build)

    def sats_key(self) -> str:
        return f"route-sats|{self.source}|{self.source_digest}|{self.grid_start_ns}|{self.states}"

    def route(self, t_ns: np.ndarray) -> RouteRun:
        return run_routes(self.satellites(), self.endpoints, t_ns, pairs=self.pairs, epoch_ns=self.grid_start_ns, **dict(self.options))

    def compute(self, task: Task, threads: int | None) -> dict[str, Any]:
        t = self.grid_start_ns + self.grid_step_ns * np.arange(task.i0, task.i1, dtype=np.int64)
        table = routes_table(self.route(t))
        path = Path(self.folder) / TABLE / task.partition(False) / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table(table, path, "parquet")
        return {"instants": task.i1 - task.i0, "rows": table.num_rows, "peak_rss_mb": _peak_rss_mb()}

    def done(self, task: Task) -> bool:
        return task_done(Path(self.folder), task, False, TABLE)

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "routes", "source": list(self.source), "source_digest": self.source_digest,
                "endpoints": [str(n) for n in self.endpoints.name], "lat": [float(x) for x in self.endpoints.lat_deg],
                "lon": [float(x) for x in self.endpoints.lon_deg], "pairs": None if self.pairs is None else [list(map(int, p)) for p in self.pairs],
                "options": [[k, v if isinstance(v, (str, int, float, bool, type(None))) else repr(v)] for k, v in self.options if k != "sites"],
                "sites": None if dict(self.options).get("sites") is None else len(dict(self.options)["sites"].name),
                "grid": [self.grid_start_ns, self.grid_step_ns, self.grid_count], "chunk_instants": self.chunk_instants,
                "states": None if self.states is None else list(self.states), "leonet": __version__}


@dataclass
class RoutePlan(TaskPlan):
    job: RouteJob
    probe: RouteRun
    tasks: list[Task]
    todo: list[Task]
    fingerprint: dict[str, Any]
    folder: Path


@dataclass
class RouteDataset:
    """A finished partitioned routing run: the folder, per-pair ``summary`` rows (as
    ``Routes.summary()``), tasks computed and reused, and the probe run (shells, notes)."""

    folder: Path
    summary: list[dict]
    computed: int
    reused: int
    rows: int
    probe: RouteRun
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)


def plan_routes(satellites: Satellites, sources: list[str], endpoints: Any, grid: TimeGrid, folder: str | Path, *, pairs=None,
                chunk_instants: int | None = None, resume: bool = False, states: tuple[str, ...] | None = ("operational",), **options: Any) -> RoutePlan:
    """Check everything (a first-instant probe routes for real) and the folder; say what is left."""
    folder = Path(folder)
    if resume and chunk_instants is None:
        from leonet.scale.dataset import manifest_chunk_instants

        chunk_instants = manifest_chunk_instants(folder)
    # Files by absolute path: a worker elsewhere reads the same shared path.
    source = tuple(str(Path(x).resolve()) if Path(x).is_file() else x for x in sources)
    job = RouteJob(source, ",".join(_digest(x) for x in source), endpoints, pairs, tuple(sorted(options.items())), grid.start_ns, grid.step_ns, grid.count,
                   chunk_instants or ROUTE_CHUNK, str(folder), None if states is None else tuple(states))
    job = dataclasses.replace(job, chunk_instants=chunk_instants_for(1, job.chunk_instants))
    _cached(job.sats_key(), lambda: job.serving(satellites))
    probe = job.route(np.array([grid.start_ns], np.int64))
    tasks = job.tasks()
    fp = {"variants": [job.fingerprint()]}
    prepare_folder(folder, fp, tasks, resume, [TABLE])
    todo = [t for t in tasks if not job.done(t)] if resume else tasks
    return RoutePlan(job, probe, tasks, todo, fp, folder)


def execute_routes(plan: RoutePlan, scheduler: str = "none", *, workers: int | None = None, events: EngineEvents | None = None) -> RouteDataset:
    """Run the missing tasks, then write ``nodes.parquet`` and ``summary.parquet``."""
    import duckdb

    started = time.perf_counter()
    digest = hashlib.sha256(json.dumps(plan.fingerprint, sort_keys=True).encode()).hexdigest()[:16]
    run_tasks(plan.job, plan.todo, check_scheduler(scheduler), workers=workers, events=events, key_prefix=f"leonet-routes-{digest}")
    remove_staging(plan.folder, [TABLE])
    paths = {"nodes": plan.folder / "nodes.parquet", "summary": plan.folder / "summary.parquet"}
    write_table(nodes_table(plan.probe), paths["nodes"], "parquet")
    r = plan.probe.routes
    fibre = pa.table({"src": r.src_id, "dst": r.dst_id, "fibre_rtt_ms": np.asarray(r.fibre_rtt_ms, float), "k": np.arange(r.src_id.size)})
    con = duckdb.connect()
    try:
        con.register("fibre", fibre)
        summary = pa.Table.from_pandas(con.execute(_SUMMARY_SQL, [str(plan.folder / TABLE / "**" / "*.parquet")]).fetchdf(), preserve_index=False)
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(plan.folder / TABLE / "**" / "*.parquet")]).fetchone()[0]
    finally:
        con.close()
    write_table(summary, paths["summary"], "parquet")
    write_manifest(plan.folder, plan.fingerprint, plan.tasks, "complete", {"outputs": ["nodes.parquet", "summary.parquet", f"{TABLE}/"]})
    return RouteDataset(plan.folder, summary.to_pylist(), len(plan.todo), len(plan.tasks) - len(plan.todo), int(rows), plan.probe,
                        time.perf_counter() - started, paths)


# Per pair, in the order of the probe's pairs; a change is a path differing from the previous
# instant's (becoming reachable or unreachable counts), as Routes.path_changed.
_SUMMARY_SQL = """
WITH r AS (
  SELECT src, dst, t_ns, hops, rtt_ms, path,
         lag(path) OVER w IS DISTINCT FROM path AND row_number() OVER w > 1 AS changed
  FROM read_parquet(?) WINDOW w AS (PARTITION BY src, dst ORDER BY t_ns)
)
SELECT r.src, r.dst, avg((r.hops IS NOT NULL)::DOUBLE) AS reachable, min(rtt_ms) AS rtt_ms_min, median(rtt_ms) AS rtt_ms_median,
       max(rtt_ms) AS rtt_ms_max, median(hops)::DOUBLE AS hops_median, count(*) FILTER (WHERE changed) AS path_changes,
       any_value(f.fibre_rtt_ms) AS fibre_rtt_ms, median(rtt_ms / f.fibre_rtt_ms) AS ratio_to_fibre_median,
       count(*) AS instants
FROM r JOIN fibre f USING (src, dst)
GROUP BY r.src, r.dst ORDER BY min(f.k)
"""
