"""Imaging studies (``leonet track``) as partitioned, resumable runs: ``leonet track ... --scheduler X``.

The access search (:func:`leonet.imaging.access.find_access`) runs on a coarse grid of the
whole window; here that grid is cut into time chunks of ``chunk_instants`` coarse instants. A
task searches its chunk plus a *halo* of ``halo`` instants on either side (at least
:data:`HALO_S` seconds, so that an ordinary LEO pass starting in the chunk ends inside it),
and keeps the windows it *owns*: those whose last sample below the access threshold before the
window (``j_rise``, see :class:`~leonet.search.Windows`) lies in its chunk (a window open at
the run's start belongs to the first chunk). Every window is owned by exactly one task.

Why the result equals the one-shot run bit for bit: a window, its peak and its edges are
decided by the coarse samples from one before its rise sample to one after its set sample
(candidate peaks look at their two neighbours, crossings are bisected between the samples
around them, the highest elevation is a golden-section search between the crossings). When
those samples all lie in the grid searched, the same samples (the same instants of the same
global grid, positions from the same SGP4 calls) give the same floating-point operations, so
the same window. A task checks this for each window it owns; a window that runs past its halo
(a long access: a high orbit, a wide sensor) is searched again for that (target, satellite)
row alone over a grid extended until the window's set sample and one more are inside it. A
window crossing any number of chunk boundaries is therefore one window, as in the one-shot run.

The age of data of each window (:func:`leonet.imaging.downlink.age_of_data`: the next gateway
contact after its peak, or the laser path at that instant) depends on that window alone and the
run's window, so each task computes it for the windows it owns. The client concatenates the
partitions, sorts the windows as ``find_access`` does, and computes the figures of merit per
target from them (:func:`leonet.imaging.fom.figures`); ``accesses.csv`` and ``summary.json`` are
then the files ``leonet track -o accesses.csv --summary-json summary.json`` writes.

Layout: ``OUT/manifest.json``, ``OUT/access/chunk=NNNNNN/part-0.parquet`` (each task's windows
and ages: target and satellite rows, times in UTC ns), then ``accesses.csv``,
``accesses.parquet`` (the CSV's rows plus the age-of-data columns) and ``summary.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leonet.errors import InputError
from leonet.export.files import write_json, write_table
from leonet.export.listings import access_table, write_access_csv
from leonet.imaging.access import (
    WINDOW_COLUMNS,
    AccessWindows,
    Sensor,
    _Geometry,
    access_grid,
    access_on_grid,
    access_rows_on_grid,
    rate_deg_s,
    sorted_windows,
    tolerance_ns,
)
from leonet.imaging.downlink import DEFAULT_GATEWAY_MIN_ELEVATION_DEG, AgeOfData, age_of_data
from leonet.imaging.fom import figures
from leonet.imaging.targets import Targets
from leonet.imaging.track import MAX_DOWNLINK_STEP_S, TrackResult
from leonet.orbits.satellites import Satellites
from leonet.scale.dataset import Task, TaskPlan, manifest_chunk_instants, prepare_folder, remove_staging, task_done, write_manifest
from leonet.scale.engine import EngineEvents, check_scheduler, run_tasks
from leonet.scale.regional import _cached, _digest, _peak_rss_mb
from leonet.version import __version__

TABLE = "access"
#: Coarse instants per task by default (6 h at a 20 s step).
IMAGING_CHUNK = 1080
#: The halo around a chunk covers at least this (s): a LEO pass above a 0 deg mask lasts < 25 min.
HALO_S = 1800.0
AGE_COLUMNS = ("collect_ns", "downlink_ns", "age_s", "gateway", "route", "downlink_sat")


@dataclass(frozen=True, eq=False)
class TrackJob:
    """What an imaging task carries (picklable): the element-set ``source`` (loaded on the
    worker at ``epoch_ns``), the targets, the sensor, the window ``[start_ns, end_ns]`` and its
    search step, the age-of-data options, the chunking and the output folder."""

    source: tuple[str, ...]
    source_digest: str
    epoch_ns: int
    targets: Targets
    sensor: Sensor
    start_ns: int
    end_ns: int
    step_s: float
    tolerance_s: float
    downlink: bool
    gateways: str | None
    gateway_min_elevation_deg: float
    lasers: bool
    chunk_instants: int
    halo: int
    folder: str

    def grid(self) -> np.ndarray:
        return access_grid(self.start_ns, self.end_ns, self.step_s)

    def tasks(self) -> list[Task]:
        m, k = len(self.grid()), self.chunk_instants
        return [Task(0, c, i, min(i + k, m)) for c, i in enumerate(range(0, m, k))]

    def satellites(self) -> Satellites:
        def build() -> Satellites:
            from leonet.sources.load import load

            return load(list(self.source), epoch=self.epoch_ns)

        return _cached(f"track-sats|{self.source}|{self.source_digest}|{self.epoch_ns}", build)

    def sites(self):
        from leonet.ground.gateways import load_gateways

        return _cached(f"track-gateways|{self.gateways}", lambda: load_gateways(self.gateways).gateways)

    def compute(self, task: Task, threads: int | None) -> dict[str, Any]:
        table = self.windows_table(task)
        path = Path(self.folder) / TABLE / task.partition(False) / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table(table, path, "parquet")
        return {"instants": task.i1 - task.i0, "rows": table.num_rows, "peak_rss_mb": _peak_rss_mb()}

    def windows_table(self, task: Task) -> pa.Table:
        """The windows ``task`` owns, with their age of data (see the module doc)."""
        src, grid = self.satellites(), self.grid()
        m = len(grid)
        e0, e1 = max(0, task.i0 - self.halo), min(m, task.i1 + self.halo)
        geo = _Geometry(src, self.targets, self.sensor)
        w, tol = rate_deg_s(src, self.targets), tolerance_ns(self.tolerance_s)
        cols = access_on_grid(geo, grid[e0:e1], w, tol)
        j_rise, j_set = cols["j_rise"] + e0, cols["j_set"] + e0  # global indices (-1 / m at the run's edges)
        own = ((j_rise >= task.i0) & (j_rise < task.i1)) | ((task.i0 == 0) & (j_rise < 0))
        whole = (e1 == m) | (j_set <= e1 - 2)
        keep = {k: v[own & whole] for k, v in cols.items()}
        longer = own & ~whole
        if longer.any():
            more = self._long_windows(geo, grid, w, tol, cols["target"][longer], cols["sat_index"][longer], j_rise[longer], e1)
            keep = {k: np.concatenate([keep[k], more[k]]) for k in keep}
        windows = AccessWindows(**{k: keep[k] for k in WINDOW_COLUMNS}, analysis_start_ns=self.start_ns, analysis_end_ns=self.end_ns, sensor=self.sensor)
        out = {k: keep[k] for k in WINDOW_COLUMNS}
        n = len(windows)
        if self.downlink and n:
            age = age_of_data(windows, src, self.sites(), self.gateway_min_elevation_deg, step_s=min(self.step_s, MAX_DOWNLINK_STEP_S), lasers=self.lasers)
            out |= {k: getattr(age, k) for k in AGE_COLUMNS}
        else:  # no age asked for (or no window): the columns keep their types
            out |= {"collect_ns": windows.peak_ns, "downlink_ns": np.full(n, -1, np.int64), "age_s": np.full(n, np.nan), "gateway": np.full(n, "", object),
                    "route": np.full(n, "none", object), "downlink_sat": np.full(n, -1, np.int64)}
        return pa.table({k: pa.array(np.asarray(v).astype(str), pa.string()) if k in ("gateway", "route") else pa.array(v) for k, v in out.items()})

    def _long_windows(self, geo: _Geometry, grid: np.ndarray, w: np.ndarray, tol: int, row_t: np.ndarray, row_s: np.ndarray,
                      j_rise: np.ndarray, b: int) -> dict[str, np.ndarray]:
        """Windows that run past the halo, searched again row by row over a grid extended
        (doubling) until each one's set sample and the one after it are inside."""
        m = len(grid)
        a = max(0, int(j_rise.min()) - 1)  # one sample before the earliest rise sample
        pending = {(int(t), int(s), int(j)): k for k, (t, s, j) in enumerate(zip(row_t, row_s, j_rise))}
        found: dict[int, dict[str, Any]] = {}
        while pending:
            b = min(m, b + max(self.chunk_instants, b - a))
            keys = list(pending)
            rt = np.array([k[0] for k in keys], np.int64)
            rs = np.array([k[1] for k in keys], np.int64)
            cols = access_rows_on_grid(geo, rt, rs, grid[a:b], w, tol)
            jr, js = cols["j_rise"] + a, cols["j_set"] + a
            for i in range(len(jr)):  # the few long windows only
                key = (int(cols["target"][i]), int(cols["sat_index"][i]), int(jr[i]))
                if key in pending and (b == m or js[i] <= b - 2):
                    found[pending.pop(key)] = {k: v[i] for k, v in cols.items()}
            if b == m and pending:
                raise InputError(f"{len(pending)} access windows could not be found again over the whole grid (a bug in leonet)")
        rows = [found[k] for k in sorted(found)]
        return {k: np.array([r[k] for r in rows], dtype=np.asarray(rows[0][k]).dtype) for k in rows[0]}

    def done(self, task: Task) -> bool:
        return task_done(Path(self.folder), task, False, TABLE)

    def fingerprint(self) -> dict[str, Any]:
        t = self.targets
        h = hashlib.sha256()
        for arr in (t.name.astype(str), t.group.astype(str), t.kind.astype(str), t.offsets, t.sample_t_ns, t.samples.lat_deg, t.samples.lon_deg, t.samples.alt_km):
            h.update(np.ascontiguousarray(arr).tobytes() if np.asarray(arr).dtype != object else "|".join(map(str, arr)).encode())
        return {"kind": "track", "source": list(self.source), "source_digest": self.source_digest, "epoch_ns": self.epoch_ns,
                "targets": len(t), "targets_digest": h.hexdigest(), "sensor": [self.sensor.min_elevation_deg, self.sensor.max_off_nadir_deg,
                                                                               self.sensor.sun_min_elevation_deg],
                "window": [self.start_ns, self.end_ns], "step_s": self.step_s, "tolerance_s": self.tolerance_s, "downlink": self.downlink,
                "gateways": self.gateways, "gateways_digest": _digest(self.gateways) if self.gateways else "",
                "gateway_min_elevation_deg": self.gateway_min_elevation_deg, "lasers": self.lasers,
                "chunk_instants": self.chunk_instants, "halo": self.halo, "leonet": __version__}


def halo_for(step_s: float) -> int:
    """Instants of halo: :data:`HALO_S` and two more samples."""
    return int(math.ceil(HALO_S / float(step_s))) + 2


@dataclass
class TrackPlan(TaskPlan):
    job: TrackJob
    tasks: list[Task]
    todo: list[Task]
    fingerprint: dict[str, Any]
    folder: Path


@dataclass
class TrackDataset:
    """A finished partitioned imaging run: the merged :class:`~leonet.imaging.track.TrackResult`
    (equal to the one-shot run's), tasks computed and reused, and the files written."""

    folder: Path
    result: TrackResult
    computed: int
    reused: int
    seconds: float
    task_results: list[dict] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)


def plan_track(satellites: Satellites, sources: list[str], targets: Targets, sensor: Sensor, start_ns: int, end_ns: int, step_s: float,
               folder: str | Path, *, epoch_ns: int | None = None, tolerance_s: float = 0.01, downlink: bool = True, gateways: str | Path | None = None,
               gateway_min_elevation_deg: float = DEFAULT_GATEWAY_MIN_ELEVATION_DEG, lasers: bool = False, chunk_instants: int | None = None,
               resume: bool = False) -> TrackPlan:
    """Check everything and the output folder; say what is left. ``satellites``: what
    ``sources`` load to (kept for this process's tasks); ``epoch_ns``: the epoch presets are
    generated at (default ``start_ns``, as ``leonet track``)."""
    folder = Path(folder)
    grid = access_grid(int(start_ns), int(end_ns), step_s)  # checks the window and the step
    tolerance_ns(tolerance_s)
    if not len(targets):
        raise InputError("no targets; give at least one")
    if lasers:
        from leonet.sources.constellation import Constellation

        if not isinstance(satellites, Constellation):
            raise InputError("laser paths need the imaging satellites as element sets (a Constellation); launch batches have no laser model")
    if resume and chunk_instants is None:
        chunk_instants = manifest_chunk_instants(folder)
    k = int(chunk_instants or IMAGING_CHUNK)
    if k < 1:
        raise InputError(f"chunk instants must be at least 1, got {k}")
    source = tuple(str(Path(x).resolve()) if Path(x).is_file() else x for x in sources)
    gw = str(Path(gateways).resolve()) if gateways else None
    if downlink:
        from leonet.ground.gateways import load_gateways

        sites = load_gateways(gw).gateways  # a bad gateway file fails now, not in a task
        if not len(sites):
            raise InputError("no gateways to downlink to in the gateway file; give another or --no-downlink")
    ep = int(start_ns if epoch_ns is None else epoch_ns)
    job = TrackJob(source, ",".join(_digest(x) for x in source), ep, targets, sensor, int(start_ns), int(end_ns), float(step_s), float(tolerance_s),
                   bool(downlink), gw, float(gateway_min_elevation_deg), bool(lasers), k, halo_for(step_s), str(folder))
    _cached(f"track-sats|{job.source}|{job.source_digest}|{job.epoch_ns}", lambda: satellites)
    tasks = job.tasks()
    assert tasks[-1].i1 == len(grid)
    fp = {"variants": [job.fingerprint()]}
    prepare_folder(folder, fp, tasks, resume, [TABLE])
    todo = [t for t in tasks if not job.done(t)] if resume else tasks
    return TrackPlan(job, tasks, todo, fp, folder)


def merge_track(job: TrackJob, tasks: list[Task]) -> TrackResult:
    """The run's :class:`~leonet.imaging.track.TrackResult` from its partitions."""
    parts = [pq.read_table(Path(job.folder) / TABLE / t.partition(False) / "part-0.parquet") for t in tasks]
    table = pa.concat_tables(parts) if parts else None
    cols = {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names} if table is not None else {}
    windows = sorted_windows({k: cols[k] for k in WINDOW_COLUMNS}, job.start_ns, job.end_ns, job.sensor)
    order = np.lexsort((cols["sat_index"], cols["target"], cols["start_ns"]))
    age = None
    if job.downlink and len(windows):
        age = AgeOfData(*(np.asarray(cols[k])[order].astype(object) if k in ("gateway", "route") else np.asarray(cols[k])[order] for k in AGE_COLUMNS))
    return TrackResult(job.targets, job.sensor, job.start_ns, job.end_ns, np.asarray(job.satellites().norad_id, dtype=np.int64), windows,
                       figures(windows, job.targets), age, job.lasers)


def execute_track(plan: TrackPlan, scheduler: str = "none", *, workers: int | None = None, events: EngineEvents | None = None) -> TrackDataset:
    """Run the missing tasks, merge, and write ``accesses.csv``, ``accesses.parquet`` and
    ``summary.json``; the manifest then says ``complete``."""
    started = time.perf_counter()
    digest = hashlib.sha256(json.dumps(plan.fingerprint, sort_keys=True).encode()).hexdigest()[:16]
    results = run_tasks(plan.job, plan.todo, check_scheduler(scheduler), workers=workers, events=events, key_prefix=f"leonet-track-{digest}")
    remove_staging(plan.folder, [TABLE])
    res = merge_track(plan.job, plan.tasks)
    names = plan.job.targets.name
    paths = {"csv": plan.folder / "accesses.csv", "parquet": plan.folder / "accesses.parquet", "summary": plan.folder / "summary.json"}
    write_access_csv(res.windows, res.norad_id, names, paths["csv"])
    table = access_table(res.windows, res.norad_id, names)
    if res.age is not None:
        a = res.age
        table = table.append_column("age_s", pa.array(a.age_s)).append_column("route", pa.array(a.route.astype(str))) \
                     .append_column("gateway", pa.array(a.gateway.astype(str))).append_column("downlink_norad_id", pa.array(
                         np.where(a.downlink_sat >= 0, res.norad_id[np.maximum(a.downlink_sat, 0)], -1)))
    write_table(table, paths["parquet"], "parquet")
    write_json(res.summary(), paths["summary"])
    write_manifest(plan.folder, plan.fingerprint, plan.tasks, "complete", {"outputs": ["accesses.csv", "accesses.parquet", "summary.json", f"{TABLE}/"]})
    return TrackDataset(plan.folder, res, len(plan.todo), len(plan.tasks) - len(plan.todo), time.perf_counter() - started, results, paths)


__all__ = ["HALO_S", "IMAGING_CHUNK", "TABLE", "TrackDataset", "TrackJob", "TrackPlan", "execute_track", "halo_for", "merge_track", "plan_track"]
