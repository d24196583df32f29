"""Capacity allocation in one scheduling interval: kernels over arrays, no files.

The network of one interval (:class:`StepNetwork`) is a single-commodity flow network: every
user's traffic comes from the Internet through *some* gateway, so the traffic of different
users is interchangeable and no multi-commodity formulation is needed; this one is exact.
Forward link (Internet -> users)::

    source -> gateway g          capacity gateway_mbps[g] (its Ka antennas)
    gateway g -> satellite s     when s is above the gateway's mask; all links of s together
                                 at most feeder_mbps[s] (the satellite's gateway link)
    satellite <-> satellite      laser links that are up, laser_mbps each way
    satellite s -> cell c        when c sees s (user mask); at most beam_mbps[s] (frequency reuse:
                                 no two beams of one satellite on one cell, so one beam's rate);
                                 all cells of s together at most min(down_mbps, beams x beam_mbps)
    cell c -> sink               at most demand_mbps[c] (0 for inactive cells)

Beam time inside an interval is treated as divisible by the LPs (a fluid model). The cap of
``beams x cells_per_beam`` distinct cells per satellite is an integer constraint, applied after
the solve by :func:`cap_cells_per_satellite`: each satellite keeps the links that carry most of
their cell's allocation, gives what it no longer sends to cells within the cap again, and the
flow lost is reported. The approximation admits cells within the cap as it goes.

Fairness is on the share of demand met, ``a_c / d_c``, which with demand proportional to
subscribers is fairness on the rate per subscriber:

* **max-min**, two exact methods giving the same allocation: :func:`leonet.capacity.maxflow.maxmin_flow`
  (the default for regions: progressive filling by parametric maximum flow, exact levels from
  minimum cuts; see that module) and :func:`maxmin_lp`, kept for checking: progressive
  filling by successive LPs (HiGHS, through
  ``highspy``; each LP re-solves the last one's model from its basis): maximise the common
  share ``t`` of the cells not yet frozen;
  cells whose row has a non-zero dual are bottlenecked (no feasible flow gives all of them more
  than ``t`` while the others keep at least ``t``) and are frozen at ``t``; repeat.
* **proportional** (:func:`proportional_lp`): maximise ``sum_c d_c log(a_c / d_c)``. log is
  replaced by the minimum of tangents (an outer approximation: the LP optimum is an upper bound
  of the true optimum): a few at shares spaced geometrically in ``[PWL_MIN_SHARE, 1]``, then
  cutting planes, a tangent at each cell's share wherever the estimate is off by more than the
  tolerance, until the gap between the LP's bound and the true objective of its allocation is
  within the tolerance. That gap bounds the error and is returned (``objective_gap``).
* **approximation** (:func:`waterfill`): for global grids. Each round, every cell still short
  asks to be admitted by the satellite in view with the most free beam slots (a satellite
  admits the lowest shares met first), splits its unmet demand evenly over its admitted
  satellites with capacity left, and each satellite scales all requests by one factor to fit
  (equal share of demand at that satellite); up to ``rounds`` rounds. Backhaul is a per-satellite bound (:func:`backhaul_bounds`). The gap to the LP is
  measured on regions (bench/capacity.py, tests/capacity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from leonet.errors import InputError

PWL_MIN_SHARE = 1e-4  # smallest breakpoint of the log approximation; shares below it are valued by the first tangent
DUAL_TOL = 1e-9  # a dual above this (relative to 1) marks a bottlenecked cell
FREEZE_SLACK = 1e-7  # frozen cells keep share >= level * (1 - FREEZE_SLACK): room for the solver's tolerances


@dataclass(frozen=True)
class StepNetwork:
    """One interval's flow network. Shapes: ``S`` satellites, ``C`` cells, ``G`` gateways, ``P``
    user links, ``F`` gateway links, ``L`` laser links. Rates in Mbps.

    ``demand_mbps`` (C,); ``pair_sat``/``pair_cell`` (P,) int; ``down_mbps``, ``beams``,
    ``beam_mbps``, ``feeder_mbps`` (S,); ``feeder_sat``/``feeder_gw`` (F,) int;
    ``gateway_mbps`` (G,); ``laser`` (L, 2) int; ``laser_mbps`` scalar. ``backhaul`` False
    leaves gateways and lasers out (satellites limited only by their user side)."""

    demand_mbps: np.ndarray
    pair_sat: np.ndarray
    pair_cell: np.ndarray
    down_mbps: np.ndarray
    beams: np.ndarray
    beam_mbps: np.ndarray
    feeder_mbps: np.ndarray
    feeder_sat: np.ndarray
    feeder_gw: np.ndarray
    gateway_mbps: np.ndarray
    laser: np.ndarray
    laser_mbps: float
    backhaul: bool = True

    @property
    def n_sats(self) -> int:
        return len(self.down_mbps)

    @property
    def n_cells(self) -> int:
        return len(self.demand_mbps)

    def user_cap_mbps(self) -> np.ndarray:
        """(S,) what a satellite can send to all its cells: downlink and beam time."""
        return np.minimum(self.down_mbps, self.beams * self.beam_mbps)

    def check(self) -> None:
        s, c = self.n_sats, self.n_cells
        if self.pair_sat.shape != self.pair_cell.shape:
            raise InputError("pair_sat and pair_cell must have the same shape (P,)")
        if self.pair_sat.size and (self.pair_sat.max() >= s or self.pair_cell.max() >= c or min(self.pair_sat.min(), self.pair_cell.min()) < 0):
            raise InputError("user links index satellites or cells out of range")
        if self.feeder_sat.size and (self.feeder_sat.max() >= s or self.feeder_gw.max() >= len(self.gateway_mbps)):
            raise InputError("gateway links index satellites or gateways out of range")
        if self.laser.size and (self.laser.max() >= s or self.laser.min() < 0):
            raise InputError("laser links index satellites out of range")
        if np.any(self.demand_mbps < 0) or not np.all(np.isfinite(self.demand_mbps)):
            raise InputError("demand must be finite and >= 0")


@dataclass(frozen=True)
class Allocation:
    """A solution: ``pair_mbps`` (P,) on user links, ``cell_mbps`` (C,), ``feeder_flow`` (F,),
    ``laser_flow`` (L,) signed (positive: from ``laser[:, 0]`` to ``laser[:, 1]``), ``lps``
    solved, ``objective_gap`` (proportional fairness: bound minus achieved objective, else 0),
    ``method``."""

    pair_mbps: np.ndarray
    cell_mbps: np.ndarray
    feeder_flow: np.ndarray
    laser_flow: np.ndarray
    lps: int = 0
    objective_gap: float = 0.0
    method: str = ""


# ---- the LP --------------------------------------------------------------------------------
def _flow_rows(net: StepNetwork) -> tuple[sp.csr_matrix, np.ndarray, list[tuple[float, float]], int, int, int, sp.csr_matrix]:
    """The feasibility rows ``A x <= b`` over variables [x (P), g (F), l+ (L), l- (L)], their
    bounds, the sizes and the cell-sum matrix ``M`` (C, vars) with ``M v = a``."""
    p, c, s = len(net.pair_sat), net.n_cells, net.n_sats
    f = len(net.feeder_sat) if net.backhaul else 0
    ln = len(net.laser) if net.backhaul else 0
    nv = p + f + 2 * ln
    rows, cols, vals, b = [], [], [], []
    r0 = 0

    def add(r: np.ndarray, col: np.ndarray, v: np.ndarray | float) -> None:
        rows.append(r)
        cols.append(col)
        vals.append(np.broadcast_to(np.asarray(v, float), r.shape))

    ip = np.arange(p)
    # user side of each satellite: sum_c x <= min(down, beams * beam)
    add(r0 + net.pair_sat, ip, 1.0)
    b.append(net.user_cap_mbps())
    r0 += s
    if net.backhaul:
        ig = p + np.arange(f)
        # conservation: sum x(s) - sum g(s) + sum lasers out - sum lasers in <= 0
        add(r0 + net.pair_sat, ip, 1.0)
        add(r0 + net.feeder_sat[:f], ig, -1.0)
        if ln:
            lp_, lm = p + f + np.arange(ln), p + f + ln + np.arange(ln)
            a_, b_ = net.laser[:, 0], net.laser[:, 1]
            add(r0 + a_, lp_, 1.0)
            add(r0 + b_, lp_, -1.0)
            add(r0 + b_, lm, 1.0)
            add(r0 + a_, lm, -1.0)
        b.append(np.zeros(s))
        r0 += s
        add(r0 + net.feeder_sat[:f], ig, 1.0)  # the satellite's gateway link
        b.append(net.feeder_mbps.astype(float))
        r0 += s
        add(r0 + net.feeder_gw[:f], ig, 1.0)  # each gateway's antennas
        b.append(net.gateway_mbps.astype(float))
        r0 += len(net.gateway_mbps)
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, nv))
    bounds = np.zeros((nv, 2))
    bounds[:p, 1] = net.beam_mbps[net.pair_sat]
    bounds[p:p + f, 1] = np.inf
    bounds[p + f:, 1] = net.laser_mbps
    M = sp.csr_matrix((np.ones(p), (net.pair_cell, ip)), shape=(c, nv))
    return A, np.concatenate(b), bounds, p, f, ln, M


class _Model:
    """A HiGHS model ``min cost.v`` s.t. ``row_lo <= A v <= row_up``, ``lo <= v <= up``, kept
    between solves so that a changed model re-solves from the last basis (dual simplex)."""

    def __init__(self, cost: np.ndarray, A: sp.spmatrix, row_lo: np.ndarray, row_up: np.ndarray, bounds: np.ndarray, resolve: str = "primal") -> None:
        import highspy
        from highspy._core import _Highs

        self.inf = highspy.kHighsInf
        # The solver itself: highspy's Python class around it prints a banner to stdout when
        # made (only the CLI may print) and adds callbacks that are not used here.
        h = _Highs()
        h.setOptionValue("output_flag", False)
        # The first solve by interior point (with crossover, so a basis and duals come out: ~5x
        # faster than simplex on the Taiwan region at res 5); re-solves by primal simplex from
        # that basis (freezing cells keeps the last solution feasible; ~3x faster than dual).
        h.setOptionValue("solver", "ipm")
        lp = highspy.HighsLp()
        csc = sp.csc_matrix(A)
        lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
        lp.col_cost_ = np.asarray(cost, float)
        lp.col_lower_ = np.asarray(bounds[:, 0], float)
        lp.col_upper_ = np.where(np.isinf(bounds[:, 1]), self.inf, bounds[:, 1])
        lp.row_lower_ = np.where(np.isinf(row_lo), -self.inf, row_lo)
        lp.row_upper_ = np.where(np.isinf(row_up), self.inf, row_up)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        h.passModel(lp)
        self.h = h
        self.solves = 0
        self.resolve = resolve  # 'primal' after bound changes that keep the solution feasible, 'dual' after adding rows

    def run(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Solve; (column values, row duals, objective)."""
        import highspy

        if self.solves == 1:
            self.h.setOptionValue("solver", "simplex")
            self.h.setOptionValue("simplex_strategy", 4 if self.resolve == "primal" else 1)
        self.h.run()
        self.solves += 1
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS could not solve the capacity LP: {self.h.modelStatusToString(self.h.getModelStatus())}")  # every LP here is feasible (zero flow)
        sol = self.h.getSolution()
        return np.asarray(sol.col_value), np.asarray(sol.row_dual), float(self.h.getInfo().objective_function_value)


def _allocation(v: np.ndarray, net: StepNetwork, p: int, f: int, ln: int, lps: int, gap: float, method: str) -> Allocation:
    x = np.clip(v[:p], 0.0, None)
    cell = np.bincount(net.pair_cell, x, minlength=net.n_cells)
    lf = v[p + f:p + f + ln] - v[p + f + ln:p + f + 2 * ln] if ln else np.zeros(len(net.laser))
    return Allocation(x, cell, v[p:p + f] if f else np.zeros(len(net.feeder_sat)), lf, lps, gap, method)


def servable_cells(net: StepNetwork) -> np.ndarray:
    """(C,) bool: cells with demand and at least one user link."""
    seen = np.zeros(net.n_cells, bool)
    seen[net.pair_cell] = True
    return seen & (net.demand_mbps > 0)


def maxmin_lp(net: StepNetwork, max_lps: int = 500) -> Allocation:
    """Weighted max-min fair allocation (equal share of demand, lexicographically maximised),
    exactly, by progressive filling with HiGHS LPs (each re-solve starts from the last basis);
    see the module doc. Frozen cells keep ``FREEZE_SLACK`` below their level (room for the
    solver's tolerances), which lets a later level rise by up to that x the flow frozen, over
    its cells' demand; :func:`leonet.capacity.maxflow.maxmin_flow` has no such slack."""
    net.check()
    A, b, bounds, p, f, ln, M = _flow_rows(net)
    nv = A.shape[1]
    d = net.demand_mbps.astype(float)
    live = np.flatnonzero(servable_cells(net))
    if not live.size:
        return _allocation(np.zeros(nv), net, p, f, ln, 0, 0.0, "lp-maxmin")
    Ml = M[live]
    n = live.size
    # columns [flow..., u (n) share of each live cell, t]; rows: flow rows <= b;
    # d_c u_c - a_c <= 0; t - u_c <= 0 (while c is not frozen); a_c <= d_c.
    # Freezing only changes bounds (u_c fixed, its t row dropped), so each re-solve starts
    # from the last basis.
    I = sp.identity(n, format="csr")
    AA = sp.vstack([sp.hstack([A, sp.csr_matrix((A.shape[0], n + 1))]),
                    sp.hstack([-Ml, sp.diags(d[live]), sp.csr_matrix((n, 1))]),
                    sp.hstack([sp.csr_matrix((n, nv)), -I, sp.csr_matrix(np.ones((n, 1)))]),
                    sp.hstack([Ml, sp.csr_matrix((n, n + 1))])], format="csr")
    r_fair = A.shape[0] + n
    up = np.concatenate([b, np.zeros(n), np.zeros(n), d[live]])
    cost = np.zeros(nv + n + 1)
    cost[-1] = -1.0
    model = _Model(cost, AA, np.full(up.size, -np.inf), up, np.vstack([bounds, np.tile([0.0, 1.0], (n + 1, 1))]))
    frozen = np.zeros(n, bool)
    v = np.zeros(nv + n + 1)
    while not frozen.all():
        if model.solves >= max_lps:
            raise RuntimeError(f"max-min filling did not finish in {max_lps} LPs")
        v, dual, _ = model.run()
        t = float(np.clip(v[-1], 0.0, 1.0))
        if t >= 1.0 - 1e-9:
            break
        y = np.abs(dual[r_fair:r_fair + n])
        hit = np.flatnonzero(~frozen & (y > DUAL_TOL))
        if not hit.size:  # degenerate duals: freeze all (documented fallback; tests check fairness by brute force)
            hit = np.flatnonzero(~frozen)
        frozen[hit] = True
        level = t * (1.0 - FREEZE_SLACK)
        for k in hit.tolist():
            model.h.changeColBounds(nv + k, level, level)
            model.h.changeRowBounds(r_fair + k, -model.inf, model.inf)
    return _allocation(v[:nv], net, p, f, ln, model.solves, 0.0, "lp-maxmin")


def pwl_breakpoints(k: int) -> np.ndarray:
    """``k`` shares spaced geometrically in [PWL_MIN_SHARE, 1] (tangent points of log)."""
    return np.geomspace(PWL_MIN_SHARE, 1.0, max(2, int(k)))


def pwl_log_error(k: int) -> float:
    """Largest gap between log and the minimum of its tangents at :func:`pwl_breakpoints`,
    over shares in [PWL_MIN_SHARE, 1] (the starting tangents of :func:`proportional_lp`).
    With ratio ``r`` between neighbouring tangent points the gap is largest where two tangents
    meet, and by scale invariance of log it depends on ``r`` only: the tangents at 1 and ``r``
    meet at ``x = r log(r) / (r - 1)``, where the gap is ``x - 1 - log(x)``."""
    s = pwl_breakpoints(k)
    r = s[1] / s[0]
    x = r * np.log(r) / (r - 1.0)
    return float((x - 1.0) - np.log(x))


def proportional_lp(net: StepNetwork, breakpoints: int = 8, tolerance: float = 1e-3, max_rounds: int = 30) -> Allocation:
    """Proportional fair allocation: maximise ``sum_c w_c log(a_c/d_c)`` (``w_c = d_c / sum d``)
    with log replaced by the minimum of tangents: ``breakpoints`` of them at shares spaced
    geometrically in [PWL_MIN_SHARE, 1], then, round by round, a tangent at each cell's share
    wherever the LP's estimate of its log exceeds the true log by more than ``tolerance``
    (cutting planes; each round adds rows and re-solves from the last basis). Stops when the
    bound on the objective's error, ``sum_c w_c (z_c - log s_c)``, is at most ``tolerance`` (or
    after ``max_rounds``); that bound is returned as ``objective_gap``."""
    net.check()
    A, b, bounds, p, f, ln, M = _flow_rows(net)
    nv = A.shape[1]
    d = net.demand_mbps.astype(float)
    live_idx = np.flatnonzero(servable_cells(net))
    n = live_idx.size
    if not n:
        return _allocation(np.zeros(nv), net, p, f, ln, 0, 0.0, "lp-proportional")
    sk = pwl_breakpoints(breakpoints)
    dl = d[live_idx]
    w = dl / dl.sum()  # weights normalised: the objective in the LP is O(1)
    # columns [flow..., z (n)]; rows: z_c - a_c/(d_c s) <= log(s) - 1 per tangent s; a_c <= d_c
    Ml = M[live_idx].tocsr()
    Z = sp.identity(n, format="csr")

    def tangents(cells: np.ndarray, share: np.ndarray) -> sp.csr_matrix:
        return sp.hstack([sp.diags(-1.0 / (dl[cells] * share)) @ Ml[cells], Z[cells]], format="csr")

    every = np.arange(n)
    AA = sp.vstack([sp.hstack([A, sp.csr_matrix((A.shape[0], n))]), *(tangents(every, np.full(n, s_)) for s_ in sk),
                    sp.hstack([Ml, sp.csr_matrix((n, n))])], format="csr")
    up = np.concatenate([b, np.repeat(np.log(sk) - 1.0, n), dl])
    zb = np.column_stack([np.full(n, np.log(PWL_MIN_SHARE) - 1.0 - 1.0 / PWL_MIN_SHARE), np.zeros(n)])
    model = _Model(np.concatenate([np.zeros(nv), -w]), AA, np.full(up.size, -np.inf), up, np.vstack([bounds, zb]), resolve="dual")
    gap = np.inf
    while True:
        v, _, _ = model.run()
        a = np.asarray(Ml @ v[:nv]).ravel()
        share = np.clip(a / dl, PWL_MIN_SHARE, 1.0)
        excess = v[nv:] - np.log(share)
        gap = float(np.sum(w * np.maximum(excess, 0.0)))
        if gap <= tolerance or model.solves >= max_rounds:
            break
        add = np.flatnonzero(excess > tolerance)
        if not add.size:
            break
        rows = tangents(add, share[add])
        model.h.addRows(add.size, np.full(add.size, -model.inf), np.log(share[add]) - 1.0, rows.nnz,
                        rows.indptr[:-1].astype(np.int32), rows.indices.astype(np.int32), rows.data.astype(float))
    return _allocation(v[:nv], net, p, f, ln, model.solves, gap, "lp-proportional")


# ---- the fast approximation ----------------------------------------------------------------
def backhaul_bounds(net: StepNetwork, laser_hops: int = 6) -> np.ndarray:
    """(S,) Mbps a satellite may send to users as far as backhaul allows, approximately: a
    satellite above gateways gets its feeder link, at most the sum over those gateways of the
    gateway's capacity split evenly among the satellites above it; one above none gets its laser
    terminals' rate if a satellite above a gateway is within ``laser_hops`` laser hops, else 0.
    Gateway capacity used over lasers is not charged (optimistic)."""
    s = net.n_sats
    if not net.backhaul:
        return np.full(s, np.inf)
    n_above = np.bincount(net.feeder_gw, minlength=len(net.gateway_mbps)).astype(float)
    per = net.gateway_mbps / np.maximum(n_above, 1.0)
    gw_share = np.bincount(net.feeder_sat, per[net.feeder_gw], minlength=s)
    bound = np.minimum(gw_share, net.feeder_mbps)
    sees = np.zeros(s, bool)
    sees[net.feeder_sat] = True
    if len(net.laser):
        deg = np.bincount(net.laser.ravel(), minlength=s)
        adj = sp.csr_matrix((np.ones(2 * len(net.laser)), (np.r_[net.laser[:, 0], net.laser[:, 1]], np.r_[net.laser[:, 1], net.laser[:, 0]])), shape=(s, s))
        reach = sees.copy()
        for _ in range(int(laser_hops)):
            nxt = reach | (adj @ reach.astype(float) > 0)
            if (nxt == reach).all():
                break
            reach = nxt
        relay = reach & ~sees
        bound[relay] = deg[relay] * net.laser_mbps
    return bound


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal ``groups`` values (sorted input)."""
    first = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    return np.arange(groups.size) - np.repeat(first, np.diff(np.r_[first, groups.size]))


def waterfill(net: StepNetwork, rounds: int = 32, laser_hops: int = 6, cells_per_beam: int | None = None,
              start: np.ndarray | None = None, budget: np.ndarray | None = None, allowed: np.ndarray | None = None) -> Allocation:
    """The fast approximation (see the module doc); vectorised, at most ``rounds`` passes over
    the user links still able to carry more (the set shrinks as cells are met and satellites
    run out, so later passes are cheap).

    With ``cells_per_beam`` a satellite takes on at most ``beams x cells_per_beam`` cells: each
    round every cell still short asks to be admitted by the satellite in view with the most free
    slots, and a satellite admits the cells with the lowest share of demand met first. ``start``
    (P,) flows to build on, ``budget`` (S,) what each satellite may still send (default its user
    side and backhaul bound) and ``allowed`` (P,) the user links that may carry more: used to top
    up an LP solution after :func:`cap_cells_per_satellite`."""
    net.check()
    d = net.demand_mbps.astype(float)
    c_all, s_all = net.pair_cell, net.pair_sat
    x = np.zeros(len(s_all)) if start is None else np.asarray(start, float).copy()
    left = np.minimum(net.user_cap_mbps(), backhaul_bounds(net, laser_hops)) if budget is None else np.asarray(budget, float).copy()
    unmet = np.maximum(d - np.bincount(c_all, x, minlength=net.n_cells), 0.0)
    limit = None if cells_per_beam is None else (net.beams * int(cells_per_beam)).astype(np.int64)
    # the links in play, sorted by cell (as the visibility pairs come)
    idx = np.flatnonzero(np.ones(len(s_all), bool) if allowed is None else np.asarray(allowed, bool))
    idx = idx[np.argsort(c_all[idx], kind="stable")]
    admitted = x[idx] > 0 if limit is not None else np.ones(idx.size, bool)
    used = np.bincount(s_all[idx[admitted]], minlength=net.n_sats) if limit is not None else None
    for _ in range(int(rounds)):
        c, s = c_all[idx], s_all[idx]
        room = net.beam_mbps[s] - x[idx]
        alive = (room > 1e-9) & (left[s] > 1e-9) & (unmet[c] > 1e-9)
        if not alive.all():  # drop what can carry no more
            idx, admitted, c, s, room = idx[alive], admitted[alive], c[alive], s[alive], room[alive]
        if not idx.size:
            break
        if limit is not None:
            slots = limit - used
            want = np.flatnonzero(~admitted & (slots[s] > 0))
            if want.size:
                wc, ws = c[want], slots[s[want]]
                cut = np.r_[0, np.flatnonzero(wc[1:] != wc[:-1]) + 1]
                best = np.maximum.reduceat(ws, cut)
                is_best = ws == np.repeat(best, np.diff(np.r_[cut, wc.size]))
                first = want[is_best]
                fc = c[first]
                ask = first[np.r_[True, fc[1:] != fc[:-1]]]  # each cell asks one satellite: the one with most free slots
                share = 1.0 - unmet[c[ask]] / np.where(d[c[ask]] > 0, d[c[ask]], 1.0)
                o = ask[np.lexsort((-unmet[c[ask]], share, s[ask]))]
                take = o[_rank_within(s[o]) < slots[s[o]]]
                admitted[take] = True
                used += np.bincount(s[take], minlength=net.n_sats)
            live = admitted
        else:
            live = np.ones(idx.size, bool)
        if not live.any():
            break
        lc, ls, li = c[live], s[live], idx[live]
        n = np.bincount(lc, minlength=net.n_cells)
        req = np.minimum(unmet[lc] / np.maximum(n[lc], 1), room[live])
        load = np.bincount(ls, req, minlength=net.n_sats)
        scale = np.where(load > left, left / np.maximum(load, 1e-300), 1.0)
        give = req * scale[ls]
        if limit is None and give.sum() <= 1e-9 * max(d.sum(), 1.0):
            break  # nothing moves any more
        x[li] += give
        left -= np.bincount(ls, give, minlength=net.n_sats)
        unmet -= np.bincount(lc, give, minlength=net.n_cells)
        np.maximum(left, 0.0, out=left)
        np.maximum(unmet, 0.0, out=unmet)
    cell = np.bincount(c_all, x, minlength=net.n_cells)
    return Allocation(x, cell, np.zeros(len(net.feeder_sat)), np.zeros(len(net.laser)), 0, 0.0, "waterfill")


# ---- after the solve ------------------------------------------------------------------------
def cap_cells_per_satellite(alloc: Allocation, net: StepNetwork, cells_per_beam: int, top_up: bool = True) -> tuple[Allocation, float]:
    """Keep at most ``beams x cells_per_beam`` cells per satellite: the links that carry the
    largest part of their cell's allocation (a cell served mostly by one satellite keeps that
    link). With ``top_up`` what a satellite no longer sends goes back out by :func:`waterfill`
    within the same cap (cells left with nothing are admitted where slots are free), so its
    backhaul flows stay valid. Returns the allocation and the flow (Mbps) lost in all. No
    capacity is exceeded: a satellite sends at most what it sent."""
    x = alloc.pair_mbps.copy()
    used = x > 0
    if not used.any():
        return alloc, 0.0
    limit = (net.beams * int(cells_per_beam)).astype(np.int64)
    idx = np.flatnonzero(used)
    frac = x[idx] / np.maximum(alloc.cell_mbps[net.pair_cell[idx]], 1e-300)
    order = idx[np.lexsort((-x[idx], -frac, net.pair_sat[idx]))]
    drop = order[_rank_within(net.pair_sat[order]) >= limit[net.pair_sat[order]]]
    if not drop.size:
        return alloc, 0.0
    x[drop] = 0.0
    if top_up:
        # What a satellite no longer sends its backhaul still delivers: give it out again.
        budget = np.bincount(net.pair_sat, alloc.pair_mbps, minlength=net.n_sats) - np.bincount(net.pair_sat, x, minlength=net.n_sats)
        x = waterfill(net, start=x, budget=np.maximum(budget, 0.0), cells_per_beam=cells_per_beam).pair_mbps
    removed = float(alloc.pair_mbps.sum() - x.sum())
    cell = np.bincount(net.pair_cell, x, minlength=net.n_cells)
    return Allocation(x, cell, alloc.feeder_flow, alloc.laser_flow, alloc.lps, alloc.objective_gap, alloc.method), removed


def violations(alloc: Allocation, net: StepNetwork, laser_hops: int = 6) -> dict[str, float]:
    """Worst excess (Mbps) over each capacity of :class:`StepNetwork` (0 up to rounding for a
    feasible allocation): cell demand, beam (per user link), satellite user side, and for an LP
    the gateway link of a satellite, gateway, laser and flow conservation at satellites; for the
    approximation its per-satellite backhaul bound (:func:`backhaul_bounds` with ``laser_hops``)."""
    s = net.n_sats
    x = alloc.pair_mbps
    sent = np.bincount(net.pair_sat, x, minlength=s)
    out = {
        "negative": float(max(0.0, -x.min(initial=0.0))),
        "demand": float(np.max(alloc.cell_mbps - net.demand_mbps, initial=0.0)),
        "beam": float(np.max(x - net.beam_mbps[net.pair_sat], initial=0.0)),
        "satellite": float(np.max(sent - net.user_cap_mbps(), initial=0.0)),
    }
    if net.backhaul and alloc.method.startswith(("lp", "flow")):
        g = alloc.feeder_flow
        into = np.bincount(net.feeder_sat, g, minlength=s)
        out["feeder"] = float(np.max(into - net.feeder_mbps, initial=0.0))
        out["gateway"] = float(np.max(np.bincount(net.feeder_gw, g, minlength=len(net.gateway_mbps)) - net.gateway_mbps, initial=0.0))
        lf = alloc.laser_flow
        out["laser"] = float(np.max(np.abs(lf) - net.laser_mbps, initial=0.0))
        net_in = into + np.bincount(net.laser[:, 1], lf, minlength=s) - np.bincount(net.laser[:, 0], lf, minlength=s) if len(net.laser) else into
        out["conservation"] = float(np.max(sent - net_in, initial=0.0))
    elif net.backhaul:
        out["backhaul"] = float(np.max(sent - backhaul_bounds(net, laser_hops), initial=0.0))
    return out
