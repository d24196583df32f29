"""Regional coverage and effective service: the engine behind ``leonet demo`` / ``run`` / ``coverage``.

For target regions (countries) and, optionally, the land of neighbouring countries within a
distance, at an H3 resolution: which satellites are in view of each cell at each instant, the
figures of merit, and the effective service under a :class:`~leonet.policy.ServicePolicy`
(in view AND active). Work is chunked over time so memory stays bounded for long windows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

from leonet.constants import EARTH_MEAN_RADIUS_KM, EARTH_ROTATION_RAD_S
from leonet.coverage.fom import FiguresOfMerit, figures_of_merit, weighted_mean
from leonet.cpu import fork_share, usable_cores
from leonet.errors import InputError
from leonet.geometry import any_within, chord_for_distance, unit_vector
from leonet.ground.points import GroundPoints
from leonet.ground.regions import Region
from leonet.orbits.frames import itrf_to_geodetic
from leonet.orbits.propagate import States
from leonet.orbits.satellites import Satellites
from leonet.policy.model import ServicePolicy

TIME_CHUNK = 240  # instants per chunk: (sats x 240 x 3) float64, 37 MB for 6,448 sats; big enough to run SGP4 on all cores


@dataclass
class AnalysisArea:
    """Cells under study. ``cells`` (C,) uint64; ``points``: their centres on the ellipsoid
    (:class:`~leonet.ground.points.GroundPoints`, C); ``region`` (C,) label: the target's code
    for target cells, else the cell's country code."""

    res: int
    cells: np.ndarray
    points: GroundPoints
    region: np.ndarray
    population: np.ndarray
    targets: tuple[Region, ...]
    country: np.ndarray  # (C,) ISO alpha-3 of each cell from cells_to_country ('' at sea)

    def __len__(self) -> int:
        return len(self.cells)

    @property
    def lat_deg(self) -> np.ndarray:
        """(C,) cell-centre latitudes, deg."""
        return self.points.lat_deg

    @property
    def lon_deg(self) -> np.ndarray:
        """(C,) cell-centre longitudes, deg."""
        return self.points.lon_deg

    def members(self, label: str) -> np.ndarray:
        return self.region == label


def build_area(targets: Sequence[Region], res: int = 5, neighbours_within_km: float = 0.0) -> AnalysisArea:
    """Target regions' cells plus the land cells of other countries within
    ``neighbours_within_km`` (great-circle, between cell centres) of a target cell."""
    from leonet.ground.cells import cell_centers, cells_to_country, region_cells
    from leonet.ground.population import population_for_cells

    if not targets:
        raise InputError("give at least one target region")
    target_cells = [r.cells_at(res) for r in targets]
    for r, c in zip(targets, target_cells):
        if not c.size:
            raise InputError(f"region {r.name!r} has no H3 cells at resolution {res}")
    all_target = np.unique(np.concatenate(target_cells))
    cells = all_target
    if neighbours_within_km > 0:
        geoms = [r.geometry for r in targets if r.geometry is not None]
        if not geoms:
            tl, tn = cell_centers(all_target)
            geoms = [shapely.MultiPoint(np.stack([tn, tl], -1))]
        # A degree-buffer that surely contains the true distance band (degrees of longitude
        # shrink with latitude), cut back to the exact distance below.
        lat_max = max(abs(b) for g in geoms for b in (shapely.bounds(g)[1], shapely.bounds(g)[3]))
        deg = neighbours_within_km / 111.0 / max(np.cos(np.radians(min(lat_max + neighbours_within_km / 111.0, 89.0))), 0.05)
        band = shapely.intersection(shapely.union_all(geoms).buffer(deg), shapely.box(-180, -90, 180, 90))
        cand = region_cells(band, res, contain="center")
        cand = np.setdiff1d(cand, all_target)
        if cand.size:
            cl, cn = cell_centers(cand)
            tl, tn = cell_centers(all_target)
            near = any_within(unit_vector(tl, tn), unit_vector(cl, cn), chord_for_distance(neighbours_within_km))
            cells = np.concatenate([all_target, cand[near]])
    country = cells_to_country(cells)
    # Neighbours are land cells of a country: open sea is not a service market here.
    keep = np.ones(len(cells), dtype=bool)
    keep[len(all_target):] = country[len(all_target):] != ""
    cells, country = cells[keep], country[keep]
    lat, lon = cell_centers(cells)
    label = country.astype(object)
    for r in targets:
        label[r.member_mask(cells, res, country)] = r.key
    pop = population_for_cells(cells)
    return AnalysisArea(res, cells, GroundPoints.from_geodetic(lat, lon), label.astype(str), np.asarray(pop, dtype=np.float64), tuple(targets), country)


@dataclass(frozen=True)
class CellStats:
    """Per-cell sums over a window of ``times`` instants ``(cells,)``: satellites in view
    (``sats_sum`` int64, ``sats_min``, ``sats_max``), instants active under the policy
    (``active_count``) and served (in view and active, ``served_count``). What the region
    summaries and the border effect need, whether the counts are held (one-shot) or merged
    from time chunks."""

    times: int
    sats_sum: np.ndarray
    sats_min: np.ndarray
    sats_max: np.ndarray
    active_count: np.ndarray
    served_count: np.ndarray

    @classmethod
    def of(cls, counts: np.ndarray, active: np.ndarray) -> CellStats:
        """From ``counts`` and ``active`` ``(cells, times)``."""
        return cls(counts.shape[1], counts.sum(axis=1, dtype=np.int64), counts.min(axis=1), counts.max(axis=1),
                   active.sum(axis=1, dtype=np.int64), ((counts > 0) & active).sum(axis=1, dtype=np.int64))


def region_labels(area: AnalysisArea) -> list[str]:
    """Targets first, then the other regions by number of cells."""
    targets = [r.key for r in area.targets]
    others, counts = np.unique(area.region[~np.isin(area.region, targets)], return_counts=True)
    return targets + [str(o) for o in others[np.argsort(-counts)]]


def timeseries_rows(area: AnalysisArea, t_ns: np.ndarray, counts: np.ndarray, served: np.ndarray, overhead: np.ndarray) -> dict[str, np.ndarray]:
    """One row per (time, region), times in order, regions as :func:`region_labels`: the
    ``leonet coverage`` columns plus ``cells_served``. ``counts``/``served`` ``(cells, times)``,
    ``overhead`` ``(targets, times)``."""
    rows: dict[str, list] = {k: [] for k in ("t_ns", "region", "cells", "cells_covered", "cells_served",
                                             "sats_in_view_min", "sats_in_view_mean", "sats_in_view_max", "sats_overhead")}
    target_keys = [r.key for r in area.targets]
    n_t = len(t_ns)
    for label in region_labels(area):
        m = area.members(label)
        c = counts[m]
        k = target_keys.index(label) if label in target_keys else -1
        rows["t_ns"].append(t_ns)
        rows["region"].append(np.full(n_t, label, dtype=object))
        rows["cells"].append(np.full(n_t, int(m.sum())))
        rows["cells_covered"].append((c > 0).sum(axis=0))
        rows["cells_served"].append(served[m].sum(axis=0))
        rows["sats_in_view_min"].append(c.min(axis=0))
        rows["sats_in_view_mean"].append(c.mean(axis=0))
        rows["sats_in_view_max"].append(c.max(axis=0))
        rows["sats_overhead"].append(overhead[k] if k >= 0 else np.full(n_t, -1))
    order = np.argsort(np.concatenate(rows["t_ns"]), kind="stable")
    return {key: np.concatenate(v)[order] for key, v in rows.items()}


class RegionalFigures:
    """Region summaries and the border effect from per-cell figures of merit and
    :class:`CellStats` (``self.area``, ``self.stats``, ``self.coverage_fom``, ``self.service_fom``)."""

    area: AnalysisArea
    coverage_fom: FiguresOfMerit
    service_fom: FiguresOfMerit

    @property
    def stats(self) -> CellStats:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def labels(self) -> list[str]:
        """Targets first, then the other regions by number of cells."""
        return region_labels(self.area)

    def region_summary(self) -> list[dict]:
        """Per region: cells and population served or not, and mean figures of merit."""
        out = []
        st = self.stats
        for label in self.labels():
            m = self.area.members(label)
            n = int(m.sum())
            pop = self.area.population[m]
            served_any = st.served_count[m] > 0
            cov = self.coverage_fom
            srv = self.service_fom
            # Integer sums divided once: the same bits as the mean over the (cells, times) arrays.
            samples = n * st.times
            out.append({
                "region": label,
                "cells": n,
                "population": float(pop.sum()),
                "active_time_percent": float(np.float64(st.active_count[m].sum()) / samples * 100.0) if n else float("nan"),
                "sats_in_view_mean": float(np.float64(st.sats_sum[m].sum()) / samples) if n else float("nan"),
                "sats_in_view_min": int(st.sats_min[m].min()),
                "sats_in_view_max": int(st.sats_max[m].max()),
                "covered_time_percent": float(cov.percent_covered_by_at_least[m, 0].mean()),
                "covered_time_percent_pop_weighted": weighted_mean(cov.percent_covered_by_at_least[m, 0], pop),
                "served_time_percent": float(srv.percent_covered_by_at_least[m, 0].mean()),
                "served_time_percent_pop_weighted": weighted_mean(srv.percent_covered_by_at_least[m, 0], pop),
                "cells_served": int(served_any.sum()),
                "cells_not_served": int((~served_any).sum()),
                "population_not_served": float(pop[~served_any].sum()),
                "coverage_gap_max_s": float(np.nanmax(cov.gap_max_s[m])) if m.any() else 0.0,
                "service_gap_max_s": float(np.nanmax(srv.gap_max_s[m])) if m.any() else 0.0,
            })
        return out

    def border_effect(self, beam_radius_km: float) -> list[dict]:
        """For each region inactive at some instant: cells of other regions, active at some
        instant, that a user beam of radius ``beam_radius_km`` centred on the cell centre would
        reach into the inactive region. Tested as: centre-to-centre distance at most the beam
        radius plus the inactive cell's circumradius (the H3 mean edge length at this resolution)."""
        import h3

        a = self.area
        st = self.stats
        active_any = st.active_count > 0
        inactive_any_all = st.active_count < st.times
        out = []
        xyz = unit_vector(a.lat_deg, a.lon_deg)
        reach_km = beam_radius_km + h3.average_hexagon_edge_length(a.res, unit="km")
        for label in self.labels():
            m = a.members(label)
            inactive_any = inactive_any_all[m]
            if not inactive_any.any():
                continue
            near = np.flatnonzero(~m)[any_within(xyz[m][inactive_any], xyz[~m], chord_for_distance(reach_km))]
            near = near[active_any[near]]
            out.append({
                "inactive_region": label,
                "beam_radius_km": beam_radius_km,
                "reach_km": round(reach_km, 3),
                "neighbour_cells": int(near.size),
                "neighbour_population": float(a.population[near].sum()),
                "by_region": {str(k): int(v) for k, v in zip(*np.unique(a.region[near], return_counts=True))},
                "cells": a.cells[near],
            })
        return out


@dataclass
class RegionalResult(RegionalFigures):
    """Everything the reports need. Arrays: ``counts`` (cells, times) satellites in view;
    ``active`` (cells, times) policy state; ``overhead`` (targets, times) satellites whose
    sub-satellite point is inside each target region."""

    area: AnalysisArea
    t_ns: np.ndarray
    step_s: float
    counts: np.ndarray
    active: np.ndarray
    overhead: np.ndarray
    policy: ServicePolicy
    min_elevation_deg: float
    coverage_fom: FiguresOfMerit
    service_fom: FiguresOfMerit
    sgp4_failures: str

    @cached_property
    def served(self) -> np.ndarray:
        return (self.counts > 0) & self.active

    @cached_property
    def stats(self) -> CellStats:  # type: ignore[override]
        return CellStats.of(self.counts, self.active)

    def timeseries(self) -> dict[str, np.ndarray]:
        """One row per (time, region): the ``leonet coverage`` columns plus ``cells_served``."""
        return timeseries_rows(self.area, self.t_ns, self.counts, self.served, self.overhead)


def run_regional(
    satellites: Satellites,
    area: AnalysisArea,
    t_ns: np.ndarray,
    policy: ServicePolicy,
    min_elevation_deg: float = 25.0,
    max_range_km: float | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> RegionalResult:
    """Propagate, find satellites in view of every cell, apply the policy; see the module doc.

    ``satellites``: any :class:`~leonet.orbits.satellites.Satellites` (SGP4 element sets,
    launch batches raising their orbits, both joined); only serving states count (a launch
    batch satellite serves no one until it reaches its shell). ``t_ns``: (times,) UTC ns."""
    t = np.asarray(t_ns, dtype=np.int64)
    if t.size < 1:
        raise InputError("the time grid is empty")
    step_s = float(np.median(np.diff(t))) / 1e9 if t.size > 1 else 60.0
    counts, overhead, failures = regional_counts(satellites, area, t, min_elevation_deg, max_range_km, progress, workers)
    active = policy.active(area.cells, area.res, t, country=area.country)
    cov = figures_of_merit(counts, step_s)
    srv = figures_of_merit(np.where(active, counts, 0), step_s)
    return RegionalResult(area, t, step_s, counts, active, overhead, policy, min_elevation_deg, cov, srv, sgp4_failure_text(failures))


def sgp4_failure_text(failures: dict[int, int]) -> str:
    """``{SGP4 error code: states}`` in words."""
    return "all states propagated" if not failures else "; ".join(f"{n} states failed with SGP4 error {c}" for c, n in sorted(failures.items()))


def regional_counts(
    satellites: Satellites,
    area: AnalysisArea,
    t_ns: np.ndarray,
    min_elevation_deg: float = 25.0,
    max_range_km: float | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """Satellites in view of every cell ``(cells, times)`` uint16, satellites over each target
    ``(targets, times)`` int32 and SGP4 failures ``{code: states}``, computed over chunks of
    ``TIME_CHUNK`` instants (memory: one chunk's states at a time, per process). ``workers``:
    processes sharing the chunks when a region's filter applies (default every usable core,
    see :func:`_chunk_processes`; 1 keeps everything in this process), else SGP4's workers."""
    from leonet.coverage.visibility import visibility, visible_cap

    t = np.asarray(t_ns, dtype=np.int64)
    n_cells, n_t = len(area), t.size
    counts = np.zeros((n_cells, n_t), dtype=np.uint16)
    overhead = np.zeros((len(area.targets), n_t), dtype=np.int32)
    target_geoms = [r.geometry for r in area.targets]
    for g in target_geoms:
        if g is not None:
            shapely.prepare(g)  # point-in-polygon runs on every chunk
    target_cell_sets = [r.cells_at(area.res) for r in area.targets]
    failures: dict[int, int] = {}
    bounds = satellites.motion_bounds()
    cap = visible_cap(area.points, float(bounds[1].max()), min_elevation_deg) if bounds is not None and len(satellites) else None
    buf = np.empty((len(satellites), min(TIME_CHUNK, n_t), 3)) if cap is not None else None
    spans = [(i, min(i + TIME_CHUNK, n_t)) for i in range(0, n_t, TIME_CHUNK)]

    def one_chunk(k: int, threads: int | None = None, sgp4_workers: int | None = workers) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
        i, j = spans[k]
        fails: dict[int, int] = {}
        r = chunk_positions(satellites, t[i:j], cap, bounds, fails, sgp4_workers, None if buf is None else buf[:, : j - i])
        vis = visibility(area.points, r, min_elevation_deg, max_range_km, threads=threads)  # blocked once, then reused
        return vis.counts, _overhead_counts(r, target_geoms, target_cell_sets, area.res), fails

    def store(k: int, out: tuple[np.ndarray, np.ndarray, dict[int, int]]) -> None:
        i, j = spans[k]
        counts[:, i:j], overhead[:, i:j] = out[0], out[1]
        for code, n in out[2].items():
            failures[code] = failures.get(code, 0) + n
        if progress:
            progress(j - i)

    processes = _chunk_processes(workers, len(spans), cap is not None)
    if processes == 1:
        for k in range(len(spans)):
            store(k, one_chunk(k))
        return counts, overhead, failures
    # With a region's filter every chunk is small, serial work (a few SGP4 calls per interval,
    # one kernel call): whole chunks go to forked copies of this process, which run
    # single-threaded. numba's kernels are loaded here first, on one satellite directly over a
    # cell, so that the copies inherit them rather than each loading them again.
    above = area.points.itrf_km[:1, None, :] * (1.0 + 550.0 / EARTH_MEAN_RADIUS_KM)
    visibility(area.points, np.repeat(above, 2, axis=1), min_elevation_deg, max_range_km, threads=1)
    for k, out in fork_share(lambda k: one_chunk(k, threads=1, sgp4_workers=1), len(spans), processes):
        store(k, out)
    return counts, overhead, failures


#: Fewest time chunks for which regional_counts shares chunks between processes.
PARALLEL_MIN_CHUNKS = 2


def _chunk_processes(workers: int | None, chunks: int, filtered: bool) -> int:
    """Processes for :func:`regional_counts`: ``workers`` (default every usable core, as
    :func:`~leonet.orbits.propagate.propagate`'s pool: processes taking the next chunk as they
    free up keep their speed on a busy machine) when a region's filter makes each chunk a
    serial job and there are at least :data:`PARALLEL_MIN_CHUNKS`; else 1 (unfiltered chunks
    are parallel inside SGP4 and the visibility kernel)."""
    if not filtered or chunks < PARALLEL_MIN_CHUNKS:
        return 1
    return max(1, min(usable_cores() if workers is None else int(workers), chunks))


SAMPLE_EVERY_S = 2400.0  # spacing of the instants at which every satellite is propagated (chunk_positions)
LEAF_INSTANTS = 4  # an interval with at most this many inner instants is propagated whole, not halved


def chunk_positions(
    satellites: Satellites,
    t_ns: np.ndarray,
    cap: tuple[np.ndarray, float] | None,
    bounds: tuple[np.ndarray, np.ndarray] | None,
    failures: dict[int, int],
    workers: int | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Serving ITRF positions ``(sats, times, 3)`` km at ``t_ns`` (times,) of every satellite
    that can be in view of a region, NaN for the others (never in view).

    ``cap``: ``(unit vector (3,), angle rad)`` holding every satellite visible from the region
    (:func:`~leonet.coverage.visibility.visible_cap`); ``bounds``: ``(rate_rad_s, r_max_km)``
    (:meth:`~leonet.orbits.satellites.Satellites.motion_bounds`). Every satellite is propagated
    at instants about :data:`SAMPLE_EVERY_S` apart (and the last). An interval between two
    instants where a satellite's position is known is then halved: the satellite is propagated
    at the middle instant only if, turning at its top rate from where it was at both ends, it
    could reach the cap inside the interval (its angle from the cap's axis at an inner instant
    is at least the mean of the two end angles less the rate times half the interval) and its
    orbital plane could too (the same bound on the plane's angle from the axis, turning at
    :data:`PLANE_RATE_RAD_S`: a satellite is never closer to the axis than its plane is), and
    so on down to intervals of at most :data:`LEAF_INSTANTS` inner instants, propagated whole
    for the satellites that can reach the cap. A satellite with no usable position at an end of an
    interval (SGP4 failed, not serving, or farther out than its bound) is propagated at every
    instant of it, as is one that failed SGP4 at a sampled instant. A satellite outside the cap
    at an instant cannot be in view then, so counts, pairs and overhead figures equal those
    from propagating everything. With no cap or bounds, or a cap over a hemisphere or more,
    every satellite is propagated at every instant. SGP4 error counts are added to
    ``failures`` (code -> states) for the states propagated. ``out``: a ``(sats, times, 3)``
    float64 array to write into (reused between chunks, it saves faulting in fresh pages every
    chunk)."""
    m = len(t_ns)
    step_s = float(np.median(np.diff(t_ns))) / 1e9 if m > 1 else SAMPLE_EVERY_S
    every = max(1, int(SAMPLE_EVERY_S // max(step_s, 1e-9)))

    def add_errors(st: object) -> None:
        for code, n in st.error_counts().items():  # type: ignore[attr-defined]
            failures[code] = failures.get(code, 0) + n

    if cap is None or bounds is None or cap[1] >= 0.5 * np.pi or m < 3:
        st = satellites.at(t_ns, workers=workers)
        add_errors(st)
        return st.serving_positions()
    rate, r_max = bounds
    axis, cap_rad = cap

    def angles(r_st: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        """Angle (rad) of each position ``(rows, k, 3)`` from the cap's axis; NaN where the
        position is unknown or outside its satellite's radius bound (then no bound holds)."""
        with np.errstate(invalid="ignore"):
            rad = np.sqrt(np.einsum("stk,stk->st", r_st, r_st))
            ang = np.arccos(np.clip(np.einsum("stk,k->st", r_st, axis) / rad, -1.0, 1.0))
            return np.where(rad <= r_max[rows, None], ang, np.nan)

    sample = np.unique(np.r_[np.arange(0, m, every), m - 1])
    coarse = satellites.at(t_ns[sample], velocities=True, workers=workers)
    rc = coarse.serving_positions()
    with np.errstate(invalid="ignore"):
        rad = np.sqrt(np.einsum("stk,stk->st", coarse.r_km, coarse.r_km))
    if np.any(rad > r_max[:, None]):  # a bound does not hold (odd elements): take no risk
        st = satellites.at(t_ns, workers=workers)
        add_errors(st)
        return st.serving_positions()
    add_errors(coarse)
    always = (coarse.error != 0).any(axis=1) | ~np.isfinite(rc).all(axis=(1, 2))
    ang_c = angles(rc, slice(None))
    pln_c = plane_angles(coarse, axis)
    r = out if out is not None else np.empty((len(satellites), m, 3))
    r.fill(np.nan)
    r[:, sample] = rc

    def propagate(rows: np.ndarray, a: int, b: int, planes: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        st = satellites.take(rows).at(t_ns[a:b], velocities=planes, workers=workers)
        add_errors(st)
        pos = st.serving_positions()
        r[rows, a:b] = pos
        return pos, (plane_angles(st, axis) if planes else None)

    # Intervals to refine: (first, last instant, satellite rows, their angles from the cap's axis
    # and their orbital planes' angles from it, at both ends).
    todo = [(int(sample[k]), int(sample[k + 1]), np.arange(len(satellites)), ang_c[:, k], ang_c[:, k + 1], pln_c[:, k], pln_c[:, k + 1], always)
            for k in range(len(sample) - 1)]
    while todo:
        a, b, rows, ang_a, ang_b, pln_a, pln_b, keep = todo.pop()
        if b - a < 2:
            continue
        half_s = (t_ns[b] - t_ns[a]) / 2e9
        with np.errstate(invalid="ignore"):
            near = 0.5 * (ang_a + ang_b) - rate[rows] * half_s <= cap_rad + 1e-9
            # A position lies in its orbital plane: the plane must come within the cap too.
            plane_far = 0.5 * (pln_a + pln_b) - PLANE_RATE_RAD_S * half_s > cap_rad + 1e-9
        take = keep | (near & ~plane_far) | np.isnan(ang_a) | np.isnan(ang_b)
        if not take.any():
            continue
        rows, ang_a, ang_b, pln_a, pln_b, keep = rows[take], ang_a[take], ang_b[take], pln_a[take], pln_b[take], keep[take]
        if b - a - 1 <= LEAF_INSTANTS:
            propagate(rows, a + 1, b)
            continue
        mid = (a + b) // 2
        pos, pln = propagate(rows, mid, mid + 1, planes=True)
        ang_m, pln_m = angles(pos, rows)[:, 0], pln[:, 0]  # type: ignore[index]
        todo.append((a, mid, rows, ang_a, ang_m, pln_a, pln_m, keep))
        todo.append((mid, b, rows, ang_m, ang_b, pln_m, pln_b, keep))
    return r


#: Fastest turn (rad/s) of a satellite's orbital plane seen from the Earth: the Earth's rotation
#: plus a bound, 20 times the J2 nodal regression and short-period wobble of a LEO plane
#: (about 1e-6 rad/s), on how fast the osculating plane turns in space.
PLANE_RATE_RAD_S = EARTH_ROTATION_RAD_S + 2e-5


def plane_angles(states: States, axis: np.ndarray) -> np.ndarray:
    """Angle (rad) between the unit vector ``axis`` (ITRF) and the orbital plane of each state
    ``(sats, times)`` (the plane of the position and the inertial velocity, expressed in ITRF
    axes); NaN where unknown (no velocity, a failed state, or a plane that is not defined). A
    satellite is never closer to ``axis`` than its plane is."""
    n, m = states.shape
    if states.v_kms is None or states.frame != "itrf":
        return np.full((n, m), np.nan)
    p, v = states.r_km, states.v_kms
    # Velocity in space, in ITRF axes: the frame's rotation added back (polar motion is off).
    vi = v + EARTH_ROTATION_RAD_S * np.stack([-p[..., 1], p[..., 0], np.zeros_like(p[..., 0])], axis=-1)
    h = np.cross(p, vi)
    with np.errstate(invalid="ignore", divide="ignore"):
        hn = np.sqrt(np.einsum("stk,stk->st", h, h))
        s = np.abs(np.einsum("stk,k->st", h, axis)) / hn
        ok = np.isfinite(s) & (hn > 1e-6 * np.einsum("stk,stk->st", p, p))  # a plane is defined
    return np.where(ok, np.arcsin(np.clip(s, 0.0, 1.0)), np.nan)


def _overhead_counts(r_km: np.ndarray, geoms: list, cell_sets: list[np.ndarray], res: int) -> np.ndarray:
    """Satellites whose sub-satellite point is inside each target ``(targets, times)``.

    ``r_km``: ITRF (sats, times, 3). Geocentric latitude differs from geodetic by at most
    0.2 deg, so a cheap geocentric box with that margin picks the candidates, and only those
    get exact geodetic coordinates and a point-in-polygon test (cell sets: the H3 cell of the
    sub-satellite point).
    """
    out = np.zeros((len(geoms), r_km.shape[1]), dtype=np.int32)
    # Only states with a position (most satellites have none between the sampled instants)
    # can be over a region: gather those once, as flat (state,) arrays.
    s_all, t_all = np.nonzero(np.isfinite(r_km[:, :, 0]))
    p = r_km[s_all, t_all]
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    gc_lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    gc_lon = np.degrees(np.arctan2(y, x))
    for k, (g, cells) in enumerate(zip(geoms, cell_sets)):
        if g is not None:
            x0, y0, x1, y1 = shapely.bounds(g)
        else:
            from leonet.ground.cells import cell_centers

            cl, cn = cell_centers(cells)
            x0, y0, x1, y1 = cn.min() - 1.0, cl.min() - 1.0, cn.max() + 1.0, cl.max() + 1.0
        margin = 0.25
        cand = np.flatnonzero((gc_lon >= x0 - margin) & (gc_lon <= x1 + margin) & (gc_lat >= y0 - margin) & (gc_lat <= y1 + margin))
        if not cand.size:
            continue
        tt = t_all[cand]
        lat, lon, _ = itrf_to_geodetic(p[cand])
        if g is not None:
            inside = shapely.contains_xy(g, lon, lat)
        else:
            import h3.api.numpy_int as h3n

            idx = np.fromiter((h3n.latlng_to_cell(a, b, res) for a, b in zip(lat, lon)), np.uint64, lat.size)
            inside = np.isin(idx, cells)
        np.add.at(out[k], tt[inside], 1)
    return out
