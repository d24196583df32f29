"""The capacity run: satellites, cells, population, gateways and a policy in; per (time, cell)
allocations out. The edge that wires the arrays of :mod:`leonet.capacity.allocate`.

Per scheduling interval (each instant of the time grid): satellites in view of every cell
(:func:`leonet.coverage.visibility.visibility`, the same elevation test as coverage), gateway
links (:func:`leonet.network.links.ground_links`), +Grid laser links that are up
(:func:`leonet.network.links.laser_links_up`; each satellite keeps its ``lasers`` shortest ones,
a link works when both ends keep it), demand of active cells; then the allocation. Only the
satellites that serve a cell and those within ``laser_hops`` laser hops of them enter the
flow network, with the gateways they see.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from leonet.capacity.allocate import Allocation, StepNetwork, cap_cells_per_satellite, maxmin_lp, proportional_lp, violations, waterfill
from leonet.capacity.maxflow import maxmin_flow
from leonet.capacity.params import V2MINI, CapacityParams, Supply, infer_generation, supply
from leonet.coverage.regional import AnalysisArea
from leonet.coverage.visibility import visibility
from leonet.errors import InputError
from leonet.ground.gateways import GroundSites
from leonet.network.links import DEFAULT_ISL_MAX_RANGE_KM, DEFAULT_MIN_GRAZING_ALT_KM, ground_links, laser_links_up
from leonet.network.run import laser_topology
from leonet.orbits.satellites import Satellites, SatelliteUnion
from leonet.policy.model import ServicePolicy
from leonet.sources.constellation import Constellation

FAIRNESS = ("maxmin", "proportional")
METHODS = ("auto", "flow", "lp", "approx")
LP_MAX_CELLS = 3_000  # 'auto' solves exactly (max flow or LP) up to this many cells per step, else the approximation
STEP_CHUNK = 32  # instants propagated and scanned at once: bounds the positions and pairs held


def satellite_generations(satellites: Satellites) -> np.ndarray:
    """(sats,) generation codes: inferred from designators and names for element sets; launch
    batches (new satellites) are v2 mini."""
    parts = satellites.parts if isinstance(satellites, SatelliteUnion) else (satellites,)
    out = []
    for p in parts:
        if isinstance(p, Constellation):
            out.append(infer_generation(p.intl_designator, p.name))
        else:
            out.append(np.full(len(p), V2MINI, np.int8))
    return np.concatenate(out) if out else np.zeros(0, np.int8)


def demand_from_population(population: np.ndarray, params: CapacityParams) -> np.ndarray:
    """(cells,) busy-hour demand, Mbps: population x take rate x busy-hour rate per subscriber."""
    return np.asarray(population, dtype=np.float64) * params.take_rate * params.busy_hour_mbps


def gateway_capacity_mbps(sites: GroundSites, params: CapacityParams) -> np.ndarray:
    """(gateways,) Mbps: antennas (the file's count, else ``gateway_default_antennas``) x
    ``gateway_antenna_mbps``."""
    n = np.where(sites.antennas > 0, sites.antennas, params.gateway_default_antennas)
    return n.astype(np.float64) * params.gateway_antenna_mbps


def keep_shortest(links: np.ndarray, length_km: np.ndarray, terminals: np.ndarray) -> np.ndarray:
    """(L,) bool: each satellite keeps its ``terminals[s]`` shortest links; a link works when
    both its ends keep it."""
    if not len(links):
        return np.zeros(0, bool)
    ends = np.r_[links[:, 0], links[:, 1]]
    order = np.lexsort((np.r_[length_km, length_km], ends))
    e = ends[order]
    first = np.r_[0, np.flatnonzero(e[1:] != e[:-1]) + 1]
    rank = np.arange(e.size) - np.repeat(first, np.diff(np.r_[first, e.size]))
    ok = np.zeros(2 * len(links), bool)
    ok[order] = rank < terminals[e]
    return ok[: len(links)] & ok[len(links):]


def highest_satellites(points, cells: np.ndarray, sats: np.ndarray, r_km: np.ndarray, per_cell: int) -> tuple[np.ndarray, np.ndarray]:
    """The user links ``(cells, sats)`` (P,) cut to the ``per_cell`` satellites highest in each
    cell's sky (positions ``r_km`` (S, 3); ``points`` the cells' ground points)."""
    if not cells.size or per_cell <= 0:
        return cells, sats
    d = r_km[sats] - points.itrf_km[cells]
    sin_el = np.einsum("ij,ij->i", d, points.up[cells]) / np.linalg.norm(d, axis=1)
    order = np.lexsort((-sin_el, cells))
    c = cells[order]
    first = np.r_[0, np.flatnonzero(c[1:] != c[:-1]) + 1]
    rank = np.arange(c.size) - np.repeat(first, np.diff(np.r_[first, c.size]))
    keep = np.sort(order[rank < per_cell])
    return cells[keep], sats[keep]


def nearest_lasers(r_km: np.ndarray, terminals: np.ndarray, max_range_km: float = DEFAULT_ISL_MAX_RANGE_KM) -> np.ndarray:
    """Laser links ``(L, 2)`` of one instant for the approximation: each satellite to its
    ``terminals`` nearest neighbours within ``max_range_km`` (a k-d tree query, milliseconds for
    10,000 satellites, where inferring shells for the +Grid takes most of a second). In-plane
    and adjacent-plane neighbours are the nearest ones in a Walker shell, so this is close to
    the +Grid; :func:`keep_shortest` then leaves each satellite at most its terminals."""
    from scipy.spatial import cKDTree

    alive = np.flatnonzero(np.isfinite(r_km).all(axis=1) & (terminals > 0))
    k = int(terminals.max(initial=0))
    if alive.size < 2 or k < 1:
        return np.zeros((0, 2), np.int64)
    dist, idx = cKDTree(r_km[alive]).query(r_km[alive], k=min(k + 1, alive.size), distance_upper_bound=max_range_km)
    a = np.repeat(np.arange(alive.size), idx.shape[1] - 1)
    b = idx[:, 1:].reshape(-1)
    ok = np.isfinite(dist[:, 1:].reshape(-1))
    lo, hi = np.minimum(alive[a[ok]], alive[b[ok]]), np.maximum(alive[a[ok]], alive[b[ok]])
    key = np.unique(lo.astype(np.int64) * r_km.shape[0] + hi)  # each link once
    return np.stack([key // r_km.shape[0], key % r_km.shape[0]], 1)


@dataclass
class StepGeometry:
    """What one instant's networks share: satellite rows in the network (``rows``, global),
    local user links, gateway links and lasers."""

    rows: np.ndarray
    pair_sat: np.ndarray
    pair_cell: np.ndarray
    feeder_sat: np.ndarray
    feeder_gw: np.ndarray
    laser: np.ndarray


def step_geometry(cells: np.ndarray, sats: np.ndarray, r_km: np.ndarray, gw_points, links: np.ndarray | None, sup: Supply,
                  params: CapacityParams, backhaul: bool) -> StepGeometry:
    """One instant: ``cells``/``sats`` (P,) user links (global satellite rows), positions
    ``r_km`` (S, 3) (NaN: not serving), gateways' points, +Grid ``links`` (L, 2) or None for
    :func:`nearest_lasers`."""
    serving = np.flatnonzero(np.bincount(sats, minlength=r_km.shape[0]))  # np.unique, without sorting millions of pairs
    if links is None:  # the approximation: nearest-neighbour lasers of this instant
        links = nearest_lasers(r_km, sup.lasers)
    if not backhaul or not serving.size:
        rows = serving
        return StepGeometry(rows, np.searchsorted(rows, sats), cells, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
    n = r_km.shape[0]
    alive = np.isfinite(r_km).all(axis=1)
    up, length = laser_links_up(r_km, links, DEFAULT_ISL_MAX_RANGE_KM, DEFAULT_MIN_GRAZING_ALT_KM) if len(links) else (np.zeros(0, bool), np.zeros(0))
    up &= alive[links[:, 0]] & alive[links[:, 1]] if len(links) else up
    lk = links[up]
    lk = lk[keep_shortest(lk, length[up], sup.lasers)] if len(lk) else lk
    reach = np.zeros(n, bool)
    reach[serving] = True
    if len(lk):
        adj = sp.csr_matrix((np.ones(2 * len(lk)), (np.r_[lk[:, 0], lk[:, 1]], np.r_[lk[:, 1], lk[:, 0]])), shape=(n, n))
        for _ in range(int(params.laser_hops)):
            nxt = reach | (adj @ reach.astype(np.float64) > 0)
            if (nxt == reach).all():
                break
            reach = nxt
    rows = np.flatnonzero(reach)
    gl = ground_links(gw_points.itrf_km, r_km[rows], ground_up=gw_points.up, min_elevation_deg=params.gateway_min_elevation_deg)
    local = np.full(n, -1, np.int64)
    local[rows] = np.arange(rows.size)
    lk = lk[reach[lk[:, 0]] & reach[lk[:, 1]]] if len(lk) else lk
    return StepGeometry(rows, local[sats], cells, gl.sat.astype(np.int64), gl.ground.astype(np.int64), local[lk] if len(lk) else np.zeros((0, 2), np.int64))


def check_method(method: str, fairness: str) -> None:
    """Raise :class:`InputError` unless ``method`` is one of :data:`METHODS` and can give
    ``fairness`` ('flow' is max-min only)."""
    if method not in METHODS:
        raise InputError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if method == "flow" and fairness != "maxmin":
        raise InputError(f"method 'flow' (exact max flow) gives max-min fairness only; for {fairness} fairness use 'lp' or 'auto'")


def exact_method(fairness: str) -> str:
    """The exact method 'auto' uses for regional runs: parametric max flow for max-min (the
    same allocation as the LPs, 30-100x faster on the Taiwan area), the LP for proportional."""
    return "flow" if fairness == "maxmin" else "lp"


def solve(net: StepNetwork, fairness: str, method: str, params: CapacityParams) -> Allocation:
    """One allocation by ``method`` ('flow', 'lp' or 'approx') and ``fairness`` (the
    approximation is the same for both: it approximates max-min; 'flow' is max-min only)."""
    if method == "approx":
        return waterfill(net, laser_hops=params.laser_hops, cells_per_beam=params.cells_per_beam)
    if method == "flow":
        check_method(method, fairness)
        return maxmin_flow(net)
    return maxmin_lp(net) if fairness == "maxmin" else proportional_lp(net, params.pwl_breakpoints, params.pwl_tolerance)


@dataclass
class CapacityResult:
    """Allocations over time. ``demand_mbps`` (C,) busy-hour demand of every cell (what it
    would ask if active); ``active`` (C, T); ``allocated_mbps`` (C, T) (0 where inactive);
    ``served_by`` per instant ``(cells, ids, start)``: the cells that got capacity and the
    catalogue numbers serving each (``ids[start[k]:start[k + 1]]`` for ``cells[k]``, largest
    flow first); ``without`` rule description ->
    allocations ``(C, T)`` with that policy rule left out (the rule's effect); ``stats``:
    LPs (or max flows) solved, seconds, worst capacity violation, flow removed by the cells-per-beam cap,
    proportional-fairness objective gap."""

    area: AnalysisArea
    t_ns: np.ndarray
    params: CapacityParams
    fairness: str
    method: str
    policy: ServicePolicy
    demand_mbps: np.ndarray
    active: np.ndarray
    allocated_mbps: np.ndarray
    served_by: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    without: dict[str, np.ndarray] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    step_seconds: np.ndarray | None = None  # (T,) wall time of each instant: its share of propagation and visibility, links, every allocation

    @property
    def subscribers(self) -> np.ndarray:
        """(C,) population x take rate."""
        return self.area.population * self.params.take_rate

    def sold_out(self, allocated: np.ndarray | None = None) -> np.ndarray:
        """(C, T) bool: active cells with demand that get less than ``sold_out_share`` of it."""
        a = self.allocated_mbps if allocated is None else allocated
        d = self.demand_mbps[:, None]
        return self.active & (d > 0) & (a < self.params.sold_out_share * d * (1.0 - 1e-9))

    def labels(self) -> list[str]:
        from leonet.coverage.regional import region_labels

        return region_labels(self.area)

    def series(self) -> RegionSeries:
        """Per region and instant sums (what the region table, the summary and the rules' effects
        are made of; small, so a streamed run keeps them for the whole window)."""
        labels = self.labels()
        member = [self.area.members(label) for label in labels]
        act = self.active
        sold = self.sold_out()
        subs = self.subscribers
        stack = lambda f: np.array([f(m) for m in member]).reshape(len(labels), len(self.t_ns))
        return RegionSeries(
            labels, self.t_ns.copy(), np.array([int(m.sum()) for m in member]), np.array([float(self.area.population[m].sum()) for m in member]),
            stack(lambda m: _instant_sums(self.demand_mbps[m, None] * act[m])),
            stack(lambda m: _instant_sums(self.allocated_mbps[m])),
            stack(lambda m: _instant_sums(subs[m, None] * act[m])),
            stack(lambda m: act[m].sum(axis=0)).astype(np.int64),
            stack(lambda m: sold[m].sum(axis=0)).astype(np.int64),
            {rule: stack(lambda m, a=a: _instant_sums(a[m])) for rule, a in self.without.items()},
        )

    def region_rows(self) -> dict[str, np.ndarray]:
        """One row per (time, region): demand of active cells, allocation, share met, cells
        sold out (the ``OUT.regions`` table, ``t_ns`` for the time)."""
        return self.series().rows()

    def region_summary(self) -> list[dict]:
        """Per region, means over the instants (see :meth:`RegionSeries.summary`)."""
        return self.series().summary()

    def rule_effects(self) -> list[dict]:
        """Per policy rule and region (see :meth:`RegionSeries.rule_effects`)."""
        return self.series().rule_effects()


def _instant_sums(x: np.ndarray) -> np.ndarray:
    """(T,) sums over the cells of ``x`` (cells, T), each instant's sum the same floating-point
    operations whatever T: NumPy sums a (cells, 1) column pairwise but the columns of a wider
    array row by row, so a time-chunked run (leonet.scale.capacity) would differ in the last bits."""
    return np.ascontiguousarray(x.T).sum(axis=1)


@dataclass
class RegionSeries:
    """Per region (``labels``, R) and instant (``t_ns``, T) sums over the region's cells, all
    ``(R, T)``: demand of active cells, allocation, subscribers in active cells, active cells,
    cells sold out; ``without``: rule -> allocation with the rule left out. ``cells`` and
    ``population`` (R,). Series of consecutive time chunks join with :meth:`concat`."""

    labels: list[str]
    t_ns: np.ndarray
    cells: np.ndarray
    population: np.ndarray
    demand_mbps: np.ndarray
    allocated_mbps: np.ndarray
    subscribers: np.ndarray
    active_cells: np.ndarray
    sold_out: np.ndarray
    without: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def concat(cls, parts: list[RegionSeries]) -> RegionSeries:
        first = parts[0]
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts], axis=-1)
        return cls(first.labels, cat("t_ns"), first.cells, first.population, cat("demand_mbps"), cat("allocated_mbps"), cat("subscribers"),
                   cat("active_cells"), cat("sold_out"), {k: np.concatenate([p.without[k] for p in parts], axis=1) for k in first.without})

    def rows(self) -> dict[str, np.ndarray]:
        """One row per (time, region), times in order, regions in ``labels`` order."""
        n_r, n_t = self.demand_mbps.shape
        d, a = self.demand_mbps.T.reshape(-1), self.allocated_mbps.T.reshape(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(d > 0, a / np.where(d > 0, d, 1.0), np.nan)
        return {"t_ns": np.repeat(self.t_ns, n_r), "region": np.tile(np.array(self.labels, dtype=object), n_t), "demand_mbps": d,
                "allocated_mbps": a, "share_met": share, "cells_sold_out": self.sold_out.T.reshape(-1)}

    def summary(self) -> list[dict]:
        """Per region, means over the instants: demand and allocation (Mbps) of active cells,
        share met, capacity per subscriber (Mbps), cells sold out, share of cell-instants
        active, cells and population."""
        out = []
        for k, label in enumerate(self.labels):
            d, a, s = self.demand_mbps[k], self.allocated_mbps[k], self.subscribers[k]
            out.append({
                "region": label, "cells": int(self.cells[k]), "population": float(self.population[k]),
                "active_share": float(self.active_cells[k].sum() / (self.cells[k] * len(self.t_ns))) if self.cells[k] else float("nan"),
                "demand_mbps": float(d.mean()), "allocated_mbps": float(a.mean()),
                "share_met": float(a.sum() / d.sum()) if d.sum() > 0 else float("nan"),
                "mbps_per_subscriber": float(a.sum() / s.sum()) if s.sum() > 0 else float("nan"),
                "cells_sold_out": float(self.sold_out[k].mean()),
            })
        return out

    def rule_effects(self) -> list[dict]:
        """For each policy rule: per region, the mean allocation (Mbps) with and without the rule
        and the gain the rule brings (negative: what it takes away; for a region switched off,
        its neighbours' gain is what the dark region frees)."""
        out = []
        for rule, alloc in self.without.items():
            for k, label in enumerate(self.labels):
                with_ = float(self.allocated_mbps[k].mean())
                wo = float(alloc[k].mean())
                out.append({"rule": rule, "region": label, "allocated_mbps_with_rule": with_, "allocated_mbps_without_rule": wo,
                            "gain_mbps": with_ - wo, "gain_percent": 100.0 * (with_ - wo) / wo if wo > 0 else float("nan")})
        return out


def run_capacity(
    satellites: Satellites,
    area: AnalysisArea,
    t_ns: np.ndarray,
    policy: ServicePolicy,
    sites: GroundSites,
    params: CapacityParams = CapacityParams(),
    **options,
) -> CapacityResult:
    """Allocate satellite capacity to the cells of ``area`` at each instant of ``t_ns``: the
    chunks of :func:`iter_capacity` (same arguments) joined into one result."""
    return concat_results(list(iter_capacity(satellites, area, t_ns, policy, sites, params, **options)))


def concat_results(parts: list[CapacityResult]) -> CapacityResult:
    """Results of consecutive time chunks of one run as one."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    cat = lambda name: np.concatenate([getattr(p, name) for p in parts], axis=-1)
    stats = {k: sum(p.stats[k] for p in parts) for k in ("lps", "solve_s", "cap_removed_mbps", "steps", "seconds")}
    stats |= {k: max(p.stats[k] for p in parts) for k in ("max_violation_mbps", "objective_gap_max")}
    stats["setup_s"] = first.stats["setup_s"]
    res = CapacityResult(first.area, cat("t_ns"), first.params, first.fairness, first.method, first.policy, first.demand_mbps, cat("active"),
                         cat("allocated_mbps"), [x for p in parts for x in p.served_by],
                         {k: np.concatenate([p.without[k] for p in parts], axis=1) for k in first.without}, stats,
                         step_seconds=cat("step_seconds"))
    res.notes = _cap_note(res)
    return res


def _cap_note(res: CapacityResult) -> list[str]:
    return cap_note(res.params.cells_per_beam, res.stats)


def cap_note(cells_per_beam: int, stats: dict[str, float]) -> list[str]:
    """What the per-beam cap cost over a run (``stats``: its summed ``cap_removed_mbps`` and
    ``steps``), as a note line; none when it cost nothing."""
    removed, steps = stats["cap_removed_mbps"], max(stats["steps"], 1.0)
    if removed <= 0:
        return []
    return [f"the cap of {cells_per_beam} cell(s) per beam per interval lost {removed / steps:,.0f} Mbps per instant on average "
            "after the top-up (exact solutions are rounded to whole beams)"]


def iter_capacity(
    satellites: Satellites,
    area: AnalysisArea,
    t_ns: np.ndarray,
    policy: ServicePolicy,
    sites: GroundSites,
    params: CapacityParams = CapacityParams(),
    *,
    fairness: str = "maxmin",
    method: str = "auto",
    demand_mbps: np.ndarray | None = None,
    generation: np.ndarray | None = None,
    backhaul: bool = True,
    rule_effects: bool = True,
    epoch_ns: int | None = None,
    chunk_instants: int = STEP_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> Iterator[CapacityResult]:
    """Allocate satellite capacity to the cells of ``area`` at each instant of ``t_ns``, one
    :class:`CapacityResult` per ``chunk_instants`` instants: a caller that writes each chunk
    and keeps only its :meth:`CapacityResult.series` holds ``cells x chunk_instants`` values
    whatever the window.

    ``satellites``: those that serve (see :func:`leonet.api.serving_satellites`); ``sites``:
    gateways (:func:`~leonet.ground.gateways.load_gateways`; points of presence are ignored);
    ``demand_mbps`` (C,): per-cell demand instead of :func:`demand_from_population`;
    ``generation`` (sats,) codes instead of :func:`satellite_generations`. ``rule_effects``:
    also allocate with each policy rule left out (one more allocation per rule and instant).
    ``epoch_ns``: when shells (for lasers) are inferred, default ``t_ns[0]``. Everything is
    checked before the first chunk is computed."""
    if fairness not in FAIRNESS:
        raise InputError(f"fairness {fairness!r} is not one of {', '.join(FAIRNESS)}")
    check_method(method, fairness)
    if int(chunk_instants) < 1:
        raise InputError(f"chunk_instants must be at least 1, got {chunk_instants}")
    t = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
    if not t.size:
        raise InputError("the time grid is empty")
    if method == "auto":
        method = exact_method(fairness) if len(area) <= LP_MAX_CELLS else "approx"
    gen = satellite_generations(satellites) if generation is None else np.asarray(generation, np.int8)
    if gen.shape != (len(satellites),):
        raise InputError(f"generation must have one code per satellite ({len(satellites)}), got {gen.shape}")
    d_all = demand_from_population(area.population, params) if demand_mbps is None else np.asarray(demand_mbps, np.float64)
    if d_all.shape != (len(area),) or np.any(~np.isfinite(d_all)) or np.any(d_all < 0):
        raise InputError(f"demand must be {len(area)} finite values >= 0 (one per cell)")
    return _chunks(satellites, area, t, policy, sites, params, fairness, method, d_all, gen, backhaul, rule_effects, epoch_ns, int(chunk_instants), progress)


def _chunks(satellites, area, t, policy, sites, params, fairness, method, d_all, gen, backhaul, rule_effects, epoch_ns, chunk, progress) -> Iterator[CapacityResult]:
    started = time.perf_counter()
    sup = supply(params, gen)
    gws = sites.gateways
    gw_cap = gateway_capacity_mbps(gws, params)
    if not backhaul:
        links = np.zeros((0, 2), np.int64)
    elif method == "approx":
        links = None  # nearest-neighbour lasers per instant (see nearest_lasers)
    else:
        links = laser_topology(satellites, int(t[0]) if epoch_ns is None else int(epoch_ns))[0]
    variants: list[tuple[str, ServicePolicy]] = [("", policy)]
    if rule_effects:
        for k, rule in enumerate(policy.rules):
            rest = policy.rules[:k] + policy.rules[k + 1:]
            variants.append((rule.describe(), ServicePolicy(policy.default_active, rest, policy.name)))
    norad = np.asarray(satellites.norad_id)
    n_c = len(area)
    setup_s = time.perf_counter() - started
    for i in range(0, t.size, chunk):
        j = min(i + chunk, t.size)
        t_chunk = time.perf_counter()
        tc = t[i:j]
        actives = [p.active(area.cells, area.res, tc, country=area.country) for _, p in variants]
        allocs = [np.zeros((n_c, j - i)) for _ in variants]
        served_by: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        stats = {"lps": 0.0, "solve_s": 0.0, "max_violation_mbps": 0.0, "cap_removed_mbps": 0.0, "objective_gap_max": 0.0,
                 "steps": float(j - i), "setup_s": setup_s}
        r = satellites.at(tc).serving_positions()
        vis = visibility(area.points, r, params.min_elevation_deg, pairs=True)
        step_seconds = np.full(j - i, (time.perf_counter() - t_chunk) / (j - i))
        for k in range(j - i):
            t_step = time.perf_counter()
            cells, sats = vis.pairs(k)
            cells, sats = highest_satellites(area.points, cells.astype(np.int64), sats.astype(np.int64), r[:, k], params.sats_per_cell)
            geo = step_geometry(cells, sats, r[:, k], gws.points, links, sup, params, backhaul)
            s = sup.take(geo.rows)
            for v, act in enumerate(actives):
                dem = d_all * act[:, k]
                keep = dem[geo.pair_cell] > 0  # inactive cells get nothing: their links go
                net = StepNetwork(dem, geo.pair_sat[keep], geo.pair_cell[keep], s.down_mbps, s.beams, s.beam_mbps, s.feeder_mbps,
                                  geo.feeder_sat, geo.feeder_gw, gw_cap, geo.laser, params.laser_mbps, backhaul)
                t0 = time.perf_counter()
                al = solve(net, fairness, method, params)
                if method != "approx":  # the approximation admits cells within the cap itself
                    al, removed = cap_cells_per_satellite(al, net, params.cells_per_beam)
                else:
                    removed = 0.0
                stats["solve_s"] += time.perf_counter() - t0
                stats["lps"] += al.lps
                stats["cap_removed_mbps"] += removed
                stats["objective_gap_max"] = max(stats["objective_gap_max"], al.objective_gap)
                stats["max_violation_mbps"] = max(stats["max_violation_mbps"], max(violations(al, net, params.laser_hops).values()))
                allocs[v][:, k] = al.cell_mbps
                if v == 0:
                    served_by.append(_served_by(al, net, norad[geo.rows]))
            step_seconds[k] += time.perf_counter() - t_step
            if progress:
                progress(1)
        stats["seconds"] = time.perf_counter() - t_chunk + (setup_s if i == 0 else 0.0)
        res = CapacityResult(area, tc, params, fairness, method, policy, d_all, actives[0], allocs[0], served_by,
                             {name: a for (name, _), a in zip(variants[1:], allocs[1:])}, stats, step_seconds=step_seconds)
        res.notes = _cap_note(res)
        yield res


def _served_by(al: Allocation, net: StepNetwork, norad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells with flow and who serves them, as arrays: ``cells`` (K,) area indices ascending,
    ``ids`` (pairs,) catalogue numbers by cell then flow (largest first), ``start`` (K + 1,)
    offsets of each cell's run in ``ids``."""
    x = al.pair_mbps
    k = np.flatnonzero(x > 1e-6)
    order = k[np.lexsort((-x[k], net.pair_cell[k]))]
    c = net.pair_cell[order]
    cut = np.r_[0, np.flatnonzero(c[1:] != c[:-1]) + 1] if c.size else np.zeros(0, np.int64)
    return c[cut], norad[net.pair_sat[order]], np.r_[cut, c.size]
