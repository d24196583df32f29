"""Scenario runs (regional or global coverage and service) as partitioned, resumable runs.

The window is cut into time chunks of ``chunk_instants``; each chunk is a task
(:class:`~leonet.scale.dataset.Task`) that loads the scenario's element sets and cells once per
worker process, computes that chunk's visibility and policy, and writes one partition of each
table:

* ``timeseries``: the rows of ``timeseries.parquet`` of a one-shot run for those instants;
* ``partials``: per cell, the chunk's :class:`~leonet.coverage.partial.ChunkPartial` for
  coverage (``cov_*``) and for service (``srv_*``), and instants active / served;
* ``gaps``: the chunk's inner coverage (``kind`` 0) and service (``kind`` 1) gaps;
* ``chunks``: one row: instants, SGP4 failures, seconds.

:func:`finalize` then folds the partials in time order (memory: a few arrays per cell) into the
figures of merit and region summaries, equal bit for bit to :func:`leonet.jobs.regional.run_scenario`
over the whole window, and writes ``cells``, ``regions`` and ``border`` tables and a DuckDB
database. Memory per task is one chunk: ``cells x chunk_instants`` counts plus the states of
``satellites x chunk_instants``, whatever the window's length.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from leonet.coverage.fom import FiguresOfMerit
from leonet.coverage.partial import ChunkPartial, FomMerger, chunk_partial
from leonet.coverage.regional import (
    TIME_CHUNK,
    AnalysisArea,
    CellStats,
    RegionalFigures,
    regional_counts,
    sgp4_failure_text,
    timeseries_rows,
)
from leonet.errors import InputError
from leonet.export.tables import timeseries_table
from leonet.jobs.regional import ScenarioRun, scenario_area, scenario_constellation, scenario_policy, scenario_satellites
from leonet.jobs.scenario import Scenario
from leonet.orbits.satellites import Satellites
from leonet.policy.model import ServicePolicy
from leonet.scale.dataset import Task, read_partition, task_done, write_partition
from leonet.times import TimeGrid
from leonet.version import __version__

TABLES = ("partials", "gaps", "chunks", "timeseries")
DONE_TABLE = "timeseries"
WORLD = "world"  # regions = ["world"]: every H3 cell of the globe at h3_res
# A chunk's counts are cells x instants x 2 bytes (x ~4 with the partials): keep them under this.
CHUNK_BYTES = 256 * 2**20


def chunk_instants_for(cells: int, requested: int | None = None) -> int:
    """Instants per chunk: ``requested``, else the regional engine's ``TIME_CHUNK`` capped so
    that one chunk's ``(cells, instants)`` counts stay under ``CHUNK_BYTES``."""
    if requested is not None:
        if requested < 1:
            raise InputError(f"chunk instants must be at least 1, got {requested}")
        return int(requested)
    return int(max(1, min(TIME_CHUNK, CHUNK_BYTES // max(1, 2 * cells))))


def is_world(sc: Scenario) -> bool:
    return [r.strip().lower() for r in sc.regions] == [WORLD]


def build_scenario_area(sc: Scenario) -> AnalysisArea:
    """The scenario's cells: :func:`~leonet.jobs.regional.scenario_area`, or every cell of the
    globe when ``regions = ["world"]`` (labelled 'world', no target polygon)."""
    if not is_world(sc):
        return scenario_area(sc)
    from leonet.ground.cells import all_cells, cell_centers, cells_to_country
    from leonet.ground.points import GroundPoints
    from leonet.ground.population import population_for_cells

    cells = all_cells(sc.h3_res)
    lat, lon = cell_centers(cells)
    return AnalysisArea(sc.h3_res, cells, GroundPoints.from_geodetic(lat, lon), np.full(cells.size, WORLD), np.asarray(population_for_cells(cells), np.float64),
                        (), cells_to_country(cells))


# Per worker process: element sets and cells are built once and reused by every task of a run.
_CACHE: dict[str, Any] = {}


def _cached(key: str, build: Callable[[], Any]) -> Any:
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = build()
    return _CACHE[key]


@dataclass(frozen=True)
class ScenarioJob:
    """One scenario as a partitioned run (picklable: what a task carries). ``source``: where the
    element sets come from, resolved on the client (absolute path, URL or preset); ``policy``:
    the service policy (the scenario's, and a control-plane store's if one was given);
    ``variant`` and ``axes``: a sweep's point and its axis values (columns of every table)."""

    scenario: Scenario
    source: str
    policy: ServicePolicy
    grid_start_ns: int
    grid_step_ns: int
    grid_count: int
    chunk_instants: int
    folder: str
    sweep: bool = False
    variant: int = 0
    axes: tuple[tuple[str, Any], ...] = ()
    source_digest: str = ""

    @property
    def grid(self) -> TimeGrid:
        return TimeGrid.from_count(self.grid_start_ns, self.grid_step_ns, self.grid_count)

    @property
    def step_s(self) -> float:
        # As run_regional: the step of a one-instant grid is taken as 60 s.
        return self.grid_step_ns / 1e9 if self.grid_count > 1 else 60.0

    def tasks(self) -> list[Task]:
        n, k = self.grid_count, self.chunk_instants
        return [Task(self.variant, c, i, min(i + k, n)) for c, i in enumerate(range(0, n, k))]

    def fingerprint(self) -> dict[str, Any]:
        """What makes two runs the same run (resume checks it)."""
        sc = dataclasses.asdict(self.scenario)
        sc.pop("path", None)
        sc.pop("output_dir", None)
        return {"scenario": json.loads(json.dumps(sc, default=str)), "source": self.source, "source_digest": self.source_digest,
                "policy": self.policy.name, "policy_rules": len(self.policy.rules), "grid": [self.grid_start_ns, self.grid_step_ns, self.grid_count],
                "chunk_instants": self.chunk_instants, "axes": [[k, _plain(v)] for k, v in self.axes], "leonet": __version__}

    # ---- worker side -----------------------------------------------------------------
    def sats_key(self) -> str:
        sc = self.scenario
        return f"sats|{self.source}|{self.source_digest}|{sc.start}|{json.dumps(sc.launches, sort_keys=True, default=str)}"

    def area_key(self) -> str:
        sc = self.scenario
        return f"area|{sc.regions}|{sc.h3_res}|{sc.neighbours_within_km}|{sc.path.parent if sc.path else ''}"

    def satellites(self) -> Satellites:
        def build() -> Satellites:
            from leonet.sources.load import load

            return scenario_satellites(self.scenario, load(self.source, epoch=self.scenario.start))

        return _cached(self.sats_key(), build)

    def area(self) -> AnalysisArea:
        return _cached(self.area_key(), lambda: build_scenario_area(self.scenario))

    def compute(self, task: Task, threads: int | None) -> dict[str, Any]:
        """Compute one chunk and write its partition (see the module doc)."""
        started = time.perf_counter()
        sc = self.scenario
        area, sats = self.area(), self.satellites()
        t = self.grid_start_ns + self.grid_step_ns * np.arange(task.i0, task.i1, dtype=np.int64)
        counts, overhead, failures = regional_counts(sats, area, t, sc.min_elevation_deg, sc.max_range_km, workers=threads)
        active = self.policy.active(area.cells, area.res, t, country=area.country)
        served = (counts > 0) & active
        ts = timeseries_rows(area, t, counts, served, overhead)
        cov = chunk_partial(counts)
        srv = chunk_partial(np.where(active, counts, 0))
        n = task.i1 - task.i0
        axes = {k: _plain(v) for k, v in self.axes}
        timeseries = timeseries_table(ts, ts["cells_covered"])  # every cell active: served = covered
        partials = {f"cov_{k}": v for k, v in cov.columns().items()} | {f"srv_{k}": v for k, v in srv.columns().items()}
        partials |= {"active_count": active.sum(axis=1, dtype=np.int64), "served_count": served.sum(axis=1, dtype=np.int64)}
        gaps = {"kind": np.concatenate([np.zeros(cov.gap_place.size, np.int8), np.ones(srv.gap_place.size, np.int8)]),
                "place": np.concatenate([cov.gap_place, srv.gap_place]), "length": np.concatenate([cov.gap_len, srv.gap_len])}
        chunk = {"i0": [task.i0], "i1": [task.i1], "instants": [n], "sgp4_failures": [json.dumps({str(k): v for k, v in failures.items()})],
                 "seconds": [time.perf_counter() - started]}
        tables = {"partials": _table(partials, axes, len(area)), "gaps": pa.table(gaps), "chunks": _table(chunk, axes, 1),
                  "timeseries": with_axes(timeseries, axes)}
        write_partition(Path(self.folder), task, self.sweep, tables, DONE_TABLE)
        return {"instants": n, "peak_rss_mb": _peak_rss_mb()}

    def done(self, task: Task) -> bool:
        return task_done(Path(self.folder), task, self.sweep, DONE_TABLE)


def _table(cols: dict[str, Any], axes: dict[str, Any], rows: int) -> pa.Table:
    """Columns, then the sweep's axis values repeated on every row."""
    return with_axes(pa.table({k: (v if isinstance(v, list) else np.asarray(v)) for k, v in cols.items()}), axes)


def with_axes(table: pa.Table, axes: dict[str, Any]) -> pa.Table:
    for k, v in axes.items():
        table = table.append_column(k, pa.array([v] * table.num_rows))
    return table


def _plain(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool)) else str(v)


def _digest(source: str) -> str:
    """SHA-256 of an element-set file (so that a changed file is a different run); '' for URLs and presets."""
    p = Path(source)
    if not p.is_file():
        return ""
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- client side ----------------------------------------------------------------------
@dataclass
class ChunkedResult(RegionalFigures):
    """A partitioned run's merged result: what :class:`~leonet.coverage.regional.RegionalResult`
    gives except the ``(cells, times)`` arrays, which stay on disk (the ``timeseries`` table)."""

    area: AnalysisArea
    grid: TimeGrid
    step_s: float
    policy: ServicePolicy
    min_elevation_deg: float
    coverage_fom: FiguresOfMerit
    service_fom: FiguresOfMerit
    sgp4_failures: str
    cell_stats: CellStats = field(repr=False)

    @property
    def stats(self) -> CellStats:  # type: ignore[override]
        return self.cell_stats


def merge_job(job: ScenarioJob, area: AnalysisArea) -> tuple[ChunkedResult, ChunkedResult]:
    """Fold a finished job's partitions, in time order, into its result under the policy and
    the comparison with service active everywhere (same visibility)."""
    folder = Path(job.folder)
    n_cells = len(area)
    cov, srv = FomMerger(n_cells, job.step_s), FomMerger(n_cells, job.step_s)
    active = np.zeros(n_cells, np.int64)
    served = np.zeros(n_cells, np.int64)
    failures: dict[int, int] = {}
    for task in job.tasks():
        p = read_partition(folder, "partials", task, job.sweep)
        g = read_partition(folder, "gaps", task, job.sweep)
        c = read_partition(folder, "chunks", task, job.sweep)
        if p.num_rows != n_cells:
            raise InputError(f"{folder}: partition {task.partition(job.sweep)} has {p.num_rows} cells, the run {n_cells}; "
                             "the folder holds another run's partitions")
        cols = {k: p.column(k).to_numpy() for k in p.column_names}
        kind = g.column("kind").to_numpy()
        place, length = g.column("place").to_numpy(), g.column("length").to_numpy()
        n = task.i1 - task.i0
        for prefix, merger, k in (("cov_", cov, 0), ("srv_", srv, 1)):
            sel = kind == k
            merger.add(ChunkPartial.from_columns(n, {a[len(prefix):]: v for a, v in cols.items() if a.startswith(prefix)},
                                                 {"place": place[sel], "length": length[sel]}))
        active += cols["active_count"]
        served += cols["served_count"]
        for code, k in json.loads(c.column("sgp4_failures")[0].as_py()).items():
            failures[int(code)] = failures.get(int(code), 0) + int(k)
    assert cov.vmin is not None and cov.vmax is not None
    cov_fom, srv_fom = cov.result(), srv.result()
    times = job.grid_count
    stats = CellStats(times, cov.vsum, cov.vmin, cov.vmax, active, served)
    sc = job.scenario
    res = ChunkedResult(area, job.grid, job.step_s, job.policy, sc.min_elevation_deg, cov_fom, srv_fom, sgp4_failure_text(failures), stats)
    base_stats = CellStats(times, cov.vsum, cov.vmin, cov.vmax, np.full(n_cells, times, np.int64), cov.ge[:, 0].copy())
    base = dataclasses.replace(res, policy=ServicePolicy.active_everywhere(), service_fom=cov_fom, cell_stats=base_stats)
    return res, base


@dataclass
class PartitionedRun:
    """What :func:`leonet.scale.run.run_partitioned` returns: per variant the
    :class:`~leonet.jobs.regional.ScenarioRun` (its ``result`` a :class:`ChunkedResult`), the
    folder, task results, tasks computed now and tasks found done, and the paths written."""

    runs: list[ScenarioRun]
    folder: Path
    task_results: list[dict[str, Any]]
    computed: int
    reused: int
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)
    axes: list[dict[str, Any]] = field(default_factory=list)
    capacity: list[Any] = field(default_factory=list)  # per variant, a [capacity] section's leonet.scale.capacity.CapacityDataset (or None)


def scenario_job(sc: Scenario, folder: Path, *, policy_db: str | None = None, chunk_instants: int | None = None, sweep: bool = False,
                 variant: int = 0, axes: tuple[tuple[str, Any], ...] = (), notes: list[str] | None = None) -> tuple[ScenarioJob, ScenarioRun]:
    """The job of one scenario, checked on the client before any work (element sets load, the
    area builds, the policy resolves), and the :class:`ScenarioRun` shell its result fills."""
    from leonet.jobs.regional import scenario_grid

    notes = notes if notes is not None else []
    grid = scenario_grid(sc)
    policy = scenario_policy(sc)
    if policy_db:
        from leonet.control import load_policy

        policy = load_policy(policy_db, default=policy)
    const, source = scenario_constellation(sc, None, notes)
    sats = scenario_satellites(sc, const, notes)
    area = build_scenario_area(sc)
    job = ScenarioJob(sc, source, policy, grid.start_ns, grid.step_ns, grid.count, chunk_instants_for(len(area), chunk_instants),
                      str(folder), sweep, variant, axes, _digest(source))
    # The client's satellites and cells serve an in-process run too.
    _CACHE.setdefault(job.area_key(), area)
    _CACHE.setdefault(job.sats_key(), sats)
    shell = ScenarioRun(sc, None, None, const, sats, source, grid, notes)  # type: ignore[arg-type]
    return job, shell

