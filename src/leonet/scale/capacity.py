"""Capacity runs (``leonet capacity``, a scenario's ``[capacity]``) as partitioned, resumable runs.

Each instant of the time grid is one scheduling interval, and intervals are independent given
the inputs (satellites, cells, gateways, policy, parameters; the lasers' +Grid is inferred once
at the run's start, as the one-shot run does). So the grid is cut into tasks of whole
intervals; a task loads the element sets, cells and gateways once per worker process, runs
:func:`leonet.capacity.run.iter_capacity` over its intervals and writes one partition of each
table:

* ``cells``: the (time, cell) rows of ``leonet capacity``'s OUT for those intervals;
* ``stats``: one row: LPs solved, solver seconds, worst violation, flow removed by the
  cells-per-beam cap, objective gap, instants, seconds;
* ``regions``: per (interval, region) the sums over the region's cells that the region table,
  the summary and the rules' effects are made of (:class:`~leonet.capacity.run.RegionSeries`),
  one column ``without_K`` per policy rule K left out. Written last: its file marks the task done.

The client then streams the ``cells`` partitions in time order into ``capacity.<fmt>`` and joins
the ``regions`` partitions into the run's series, from which ``capacity.regions.<fmt>`` and
``capacity.rules.<fmt>`` are made exactly as the one-shot run makes them: per-interval sums are
stored as float64 and only concatenated, and the means over the window are taken once, on the
joined series. The files equal ``leonet capacity -o capacity.<fmt>``'s (CSV bit for bit;
Parquet the same table and metadata apart from ``created_utc`` and ``command_line``).

Layout: ``OUT/manifest.json``, ``OUT/{cells,stats,regions}/chunk=NNNNNN/part-0.parquet``, then
``OUT/capacity.<fmt>``, ``OUT/capacity.regions.<fmt>`` and (with policy rules)
``OUT/capacity.rules.<fmt>``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leonet.capacity.params import CapacityParams
from leonet.capacity.run import STEP_CHUNK, CapacityResult, RegionSeries, cap_note, iter_capacity
from leonet.coverage.regional import AnalysisArea, build_area
from leonet.errors import InputError
from leonet.export.capacity import capacity_cells_table, capacity_regions_table, capacity_rules_table, write_table_stream
from leonet.export.files import write_table
from leonet.ground.regions import Region
from leonet.jobs.scenario import Scenario
from leonet.orbits.satellites import Satellites
from leonet.policy.model import ServicePolicy
from leonet.scale.dataset import (
    Task,
    TaskPlan,
    manifest_chunk_instants,
    partition_file,
    prepare_folder,
    read_partition,
    remove_staging,
    task_done,
    write_manifest,
    write_partition,
)
from leonet.scale.engine import EngineEvents, check_scheduler, run_tasks
from leonet.scale.regional import _cached, _digest, _peak_rss_mb
from leonet.times import TimeGrid, parse_time
from leonet.version import __version__

TABLES = ("cells", "stats", "regions")
DONE_TABLE = "regions"
#: Intervals per task by default (16 min at 15 s; a multiple of the stage's own chunk) ...
CAPACITY_CHUNK = 2 * STEP_CHUNK
#: ... fewer when a task's (time, cell) rows would pass this.
CHUNK_ROWS = 4_000_000
STAT_SUMS = ("lps", "solve_s", "cap_removed_mbps", "steps", "seconds")
STAT_MAXES = ("max_violation_mbps", "objective_gap_max")


def capacity_chunk_for(cells: int, requested: int | None = None) -> int:
    """Intervals per task: ``requested``, else :data:`CAPACITY_CHUNK` capped so that a task's
    (time, cell) rows stay under :data:`CHUNK_ROWS`."""
    if requested is not None:
        if int(requested) < 1:
            raise InputError(f"--chunk-instants must be at least 1, got {requested}")
        return int(requested)
    return int(max(1, min(CAPACITY_CHUNK, CHUNK_ROWS // max(1, cells))))


@dataclass(frozen=True, eq=False)
class CapacityJob:
    """What a capacity task carries (picklable): where the element sets come from (``source``,
    loaded on the worker at ``epoch_ns`` and cut to the satellites in ``states``; or the
    ``scenario`` whose satellites, launch batches included, and cells are used), the regions
    and resolution, the policy, the gateway file, the model's parameters and options, the
    per-cell demand and per-satellite generations (small arrays), the grid, the chunking and the
    output folder. Never positions."""

    source: tuple[str, ...]
    source_digest: str
    epoch_ns: int
    states: tuple[str, ...] | None
    targets: tuple[Region, ...]
    h3_res: int
    policy: ServicePolicy
    gateways: str
    params: CapacityParams
    fairness: str
    method: str
    demand_mbps: np.ndarray | None
    generation: np.ndarray | None
    backhaul: bool
    rule_effects: bool
    grid_start_ns: int
    grid_step_ns: int
    grid_count: int
    chunk_instants: int
    folder: str
    scenario: Scenario | None = None

    @property
    def grid(self) -> TimeGrid:
        return TimeGrid.from_count(self.grid_start_ns, self.grid_step_ns, self.grid_count)

    def tasks(self) -> list[Task]:
        n, k = self.grid_count, self.chunk_instants
        return [Task(0, c, i, min(i + k, n)) for c, i in enumerate(range(0, n, k))]

    def rules(self) -> list[str]:
        """The policy rules left out one at a time (the ``without_K`` columns), in order."""
        return [r.describe() for r in self.policy.rules] if self.rule_effects else []

    # ---- worker side -----------------------------------------------------------------
    def sats_key(self) -> str:
        sc = self.scenario
        extra = f"|{sc.start}|{json.dumps(sc.launches, sort_keys=True, default=str)}|{sc.states}" if sc is not None else ""
        return f"capacity-sats|{self.source}|{self.source_digest}|{self.epoch_ns}|{self.states}{extra}"

    def area_key(self) -> str:
        if self.scenario is not None:
            sc = self.scenario
            return f"area|{sc.regions}|{sc.h3_res}|{sc.neighbours_within_km}|{sc.path.parent if sc.path else ''}"
        return f"capacity-area|{[r.key for r in self.targets]}|{self.h3_res}"

    def satellites(self) -> Satellites:
        def build() -> Satellites:
            from leonet.sources.load import load

            c = load(list(self.source), epoch=self.epoch_ns)
            if self.scenario is not None:
                from leonet.jobs.regional import scenario_satellites

                return scenario_satellites(self.scenario, c, [])
            if self.states is None:
                return c
            from leonet.sources.fleet import serving

            return serving(c, self.states).constellation

        return _cached(self.sats_key(), build)

    def area(self) -> AnalysisArea:
        if self.scenario is not None:
            from leonet.scale.regional import build_scenario_area

            return _cached(self.area_key(), lambda: build_scenario_area(self.scenario))
        return _cached(self.area_key(), lambda: build_area(self.targets, self.h3_res, 0.0))

    def sites(self):
        from leonet.ground.gateways import load_gateways

        return _cached(f"capacity-gateways|{self.gateways}", lambda: load_gateways(self.gateways))

    def chunks(self, task: Task) -> Iterator[CapacityResult]:
        """The task's intervals as :func:`iter_capacity` yields them (the lasers' epoch is the run's start)."""
        t = self.grid_start_ns + self.grid_step_ns * np.arange(task.i0, task.i1, dtype=np.int64)
        return iter_capacity(self.satellites(), self.area(), t, self.policy, self.sites(), self.params, fairness=self.fairness, method=self.method,
                             demand_mbps=self.demand_mbps, generation=self.generation, backhaul=self.backhaul, rule_effects=self.rule_effects,
                             epoch_ns=self.grid_start_ns, chunk_instants=STEP_CHUNK)

    def compute(self, task: Task, threads: int | None) -> dict[str, Any]:
        started = time.perf_counter()
        cells, series, stats, method = [], [], [], ""
        for res in self.chunks(task):
            cells.append(capacity_cells_table(res))
            series.append(res.series())
            stats.append(res.stats)
            method = res.method
        s = RegionSeries.concat(series)
        st = {k: [float(sum(x[k] for x in stats))] for k in STAT_SUMS} | {k: [float(max(x[k] for x in stats))] for k in STAT_MAXES}
        st |= {"i0": [task.i0], "i1": [task.i1], "method": [method], "task_seconds": [time.perf_counter() - started]}
        tables = {"cells": pa.concat_tables(cells), "stats": pa.table(st), "regions": series_table(s, self.rules())}
        write_partition(Path(self.folder), task, False, tables, DONE_TABLE)
        return {"instants": task.i1 - task.i0, "rows": tables["cells"].num_rows, "peak_rss_mb": _peak_rss_mb()}

    def done(self, task: Task) -> bool:
        return task_done(Path(self.folder), task, False, DONE_TABLE)

    def fingerprint(self) -> dict[str, Any]:
        """What makes two runs the same run (``--resume`` checks it)."""
        arr = lambda a: "" if a is None else hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()  # noqa: E731
        sc = None
        if self.scenario is not None:
            sc = dataclasses.asdict(self.scenario)
            sc.pop("path", None)
            sc.pop("output_dir", None)
            sc = json.loads(json.dumps(sc, default=str))
        return {"kind": "capacity", "source": list(self.source), "source_digest": self.source_digest, "epoch_ns": self.epoch_ns,
                "states": None if self.states is None else list(self.states), "regions": [r.key for r in self.targets], "h3_res": self.h3_res,
                "cells_digest": _area_digest(self.area()), "policy": self.policy.describe(), "rules": [r.describe() for r in self.policy.rules],
                "gateways": self.gateways, "gateways_digest": _digest(self.gateways), "params": {p["parameter"]: p["value"] for p in self.params.table()},
                "fairness": self.fairness, "method": self.method, "demand_digest": arr(self.demand_mbps), "generation_digest": arr(self.generation),
                "backhaul": self.backhaul, "rule_effects": self.rule_effects, "grid": [self.grid_start_ns, self.grid_step_ns, self.grid_count],
                "chunk_instants": self.chunk_instants, "scenario": sc, "leonet": __version__}


def _area_digest(area: AnalysisArea) -> str:
    """The cells, their regions and population (a changed GeoJSON region is a different run)."""
    h = hashlib.sha256(np.ascontiguousarray(area.cells).tobytes())
    h.update("|".join(map(str, area.region)).encode())
    h.update(np.ascontiguousarray(area.population, dtype=np.float64).tobytes())
    return h.hexdigest()


def series_table(s: RegionSeries, rules: list[str]) -> pa.Table:
    """A :class:`RegionSeries` (R regions, T instants) as R x T rows, instant-major."""
    n_r, n_t = len(s.labels), len(s.t_ns)
    flat = lambda a: np.ascontiguousarray(np.asarray(a).T).reshape(-1)  # noqa: E731
    cols = {"t_ns": np.repeat(s.t_ns, n_r), "region": pa.array(np.tile(np.array(s.labels, dtype=object), n_t), pa.string()),
            "cells": np.tile(s.cells.astype(np.int64), n_t), "population": np.tile(s.population.astype(np.float64), n_t),
            "demand_mbps": flat(s.demand_mbps), "allocated_mbps": flat(s.allocated_mbps), "subscribers": flat(s.subscribers),
            "active_cells": flat(s.active_cells).astype(np.int64), "sold_out": flat(s.sold_out).astype(np.int64)}
    cols |= {f"without_{k}": flat(s.without[r]) for k, r in enumerate(rules)}
    return pa.table(cols)


def series_from_table(table: pa.Table, rules: list[str]) -> RegionSeries:
    """The inverse of :func:`series_table` (the values themselves, not recomputed)."""
    col = lambda k: table.column(k).to_numpy()  # noqa: E731
    t_all = col("t_ns")
    n_t = int(np.unique(t_all).size)
    n_r = table.num_rows // max(1, n_t)
    grid = lambda k: np.ascontiguousarray(col(k).reshape(n_t, n_r).T)  # noqa: E731
    labels = [str(x) for x in table.column("region").to_pylist()[:n_r]]
    return RegionSeries(labels, t_all[::n_r].copy(), col("cells")[:n_r].copy(), col("population")[:n_r].copy(), grid("demand_mbps"),
                        grid("allocated_mbps"), grid("subscribers"), grid("active_cells"), grid("sold_out"),
                        {r: grid(f"without_{k}") for k, r in enumerate(rules)})


@dataclass
class CapacityPlan(TaskPlan):
    """A checked capacity run: its job, every task, ``todo`` (those without a partition yet)."""

    job: CapacityJob
    tasks: list[Task]
    todo: list[Task]
    fingerprint: dict[str, Any]
    folder: Path

    @property
    def key_prefix(self) -> str:
        return "leonet-capacity-" + hashlib.sha256(json.dumps(self.fingerprint, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class CapacityDataset:
    """A finished partitioned capacity run: the joined region ``series``, the merged ``stats``,
    the area, fairness and method, notes, tasks computed and reused, the files written."""

    folder: Path
    series: RegionSeries
    stats: dict[str, float]
    area: AnalysisArea
    fairness: str
    method: str
    rows: int
    computed: int
    reused: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    task_results: list[dict] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)


def plan_capacity(satellites: Satellites, sources: list[str], targets: tuple[Region, ...], h3_res: int, grid: TimeGrid, policy: ServicePolicy,
                  gateways: str | Path, folder: str | Path, *, params: CapacityParams = CapacityParams(), fairness: str = "maxmin",
                  method: str = "auto", demand_mbps: np.ndarray | None = None, generation: np.ndarray | None = None, backhaul: bool = True,
                  rule_effects: bool = True, states: tuple[str, ...] | None = ("operational",), area: AnalysisArea | None = None,
                  scenario: Scenario | None = None, chunk_instants: int | None = None, resume: bool = False) -> CapacityPlan:
    """Check the output folder and say what is left. The inputs are those :func:`leonet.api.capacity`
    has checked (``satellites``: the serving ones, what ``sources`` load to and ``states``
    keeps; ``area``: the cells, if built). A resumed run keeps its chunking unless told otherwise."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output {folder} is a file; give a folder for a partitioned run")
    if resume and chunk_instants is None:
        chunk_instants = manifest_chunk_instants(folder)
    source = tuple(str(Path(x).resolve()) if Path(x).is_file() else x for x in sources)
    job = CapacityJob(source, ",".join(_digest(x) for x in source), int(grid.start_ns) if scenario is None else parse_time(scenario.start), None if states is None else tuple(states), tuple(targets),
                      int(h3_res), policy, str(Path(gateways).resolve()), params, fairness, method,
                      None if demand_mbps is None else np.asarray(demand_mbps, np.float64), None if generation is None else np.asarray(generation, np.int8),
                      bool(backhaul), bool(rule_effects), int(grid.start_ns), int(grid.step_ns), int(grid.count), 1, str(folder), scenario)
    cells = len(area) if area is not None else len(job.area())
    job = dataclasses.replace(job, chunk_instants=capacity_chunk_for(cells, chunk_instants))
    # The client's satellites and cells serve an in-process run too.
    _cached(job.sats_key(), lambda: satellites)
    if area is not None:
        _cached(job.area_key(), lambda: area)
    tasks = job.tasks()
    fp = {"variants": [job.fingerprint()]}
    prepare_folder(folder, fp, tasks, resume, list(TABLES))
    todo = [t for t in tasks if not job.done(t)] if resume else tasks
    return CapacityPlan(job, tasks, todo, fp, folder)


def scenario_capacity_plan(sc: Scenario, source: str, policy: ServicePolicy, satellites: Satellites, area: AnalysisArea, folder: Path, *,
                           resume: bool = False, chunk_instants: int | None = None) -> CapacityPlan:
    """A scenario's ``[capacity]`` section (as :func:`leonet.jobs.regional.scenario_capacity`:
    its first ``steps`` intervals from the scenario's start, the packaged gateways, each rule's
    effect) as a partitioned run in ``folder``; ``satellites``: the scenario's (launch batches
    included), ``area`` its cells."""
    from leonet.ground.gateways import packaged_gateways_path
    from leonet.jobs.regional import scenario_capacity_inputs

    spec = sc.capacity
    grid, params = scenario_capacity_inputs(sc)
    return plan_capacity(satellites, [source], tuple(area.targets), sc.h3_res, grid, policy, packaged_gateways_path(), folder, params=params,
                         fairness=spec.fairness, method=spec.method, backhaul=spec.backhaul, area=area, scenario=sc, chunk_instants=chunk_instants, resume=resume)


def merge_stats(folder: Path, tasks: list[Task]) -> tuple[dict[str, float], str]:
    rows = [read_partition(folder, "stats", t, False).to_pylist()[0] for t in tasks]
    stats = {k: float(sum(r[k] for r in rows)) for k in STAT_SUMS} | {k: float(max(r[k] for r in rows)) for k in STAT_MAXES}
    return stats, str(rows[0]["method"])


def merge_series(job: CapacityJob, tasks: list[Task]) -> RegionSeries:
    """The run's region series from its ``regions`` partitions, in time order."""
    rules = job.rules()
    return RegionSeries.concat([series_from_table(read_partition(Path(job.folder), "regions", t, False), rules) for t in tasks])


def execute_capacity(plan: CapacityPlan, scheduler: str = "none", *, workers: int | None = None, events: EngineEvents | None = None, fmt: str = "csv",
                     metadata: Mapping[str, str] | None = None, names: tuple[str, str, str] | None = None, out_dir: Path | None = None,
                     ) -> CapacityDataset:
    """Run the missing tasks, then write ``capacity.<fmt>`` (the partitions' rows, streamed),
    ``capacity.regions.<fmt>`` and, when the policy has rules, ``capacity.rules.<fmt>``
    (``names``: other file names, without extension) in the run's folder (or ``out_dir``);
    the manifest then says ``complete``."""
    if fmt not in ("csv", "parquet"):
        raise InputError(f"--format {fmt}: choose csv or parquet")
    started = time.perf_counter()
    job, folder = plan.job, plan.folder
    results = run_tasks(job, plan.todo, check_scheduler(scheduler), workers=workers, events=events, key_prefix=plan.key_prefix)
    remove_staging(folder, list(TABLES))
    ext = "csv" if fmt == "csv" else "parquet"
    cells_name, regions_name, rules_name = names or ("capacity", "capacity.regions", "capacity.rules")
    final = Path(out_dir) if out_dir is not None else folder
    paths = {"cells": final / f"{cells_name}.{ext}", "regions": final / f"{regions_name}.{ext}"}
    parts = (pq.read_table(partition_file(folder, "cells", t, False)) for t in plan.tasks)
    rows = write_table_stream(parts, paths["cells"], fmt, metadata)
    series = merge_series(job, plan.tasks)
    write_table(capacity_regions_table(series), paths["regions"], fmt, metadata=metadata)
    if series.without:
        paths["rules"] = final / f"{rules_name}.{ext}"
        write_table(capacity_rules_table(series), paths["rules"], fmt, metadata=metadata)
    stats, method = merge_stats(folder, plan.tasks)
    write_manifest(folder, plan.fingerprint, plan.tasks, "complete", {"outputs": sorted(str(p.resolve()) if out_dir is not None else p.name for p in paths.values())
                                                                      + [f"{t}/" for t in TABLES]})
    area = job.area()
    notes = cap_note(job.params.cells_per_beam, stats)
    return CapacityDataset(folder, series, stats, area, job.fairness, method, rows, len(plan.todo), len(plan.tasks) - len(plan.todo),
                           time.perf_counter() - started, notes, results, paths)


__all__ = ["CAPACITY_CHUNK", "CapacityDataset", "CapacityJob", "CapacityPlan", "capacity_chunk_for", "execute_capacity", "merge_series",
           "plan_capacity", "scenario_capacity_plan", "series_from_table", "series_table"]
