"""Allocation kernels against hand-solved cases, brute force and their own capacity limits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.optimize import linprog

from leonet.capacity.allocate import (
    StepNetwork,
    backhaul_bounds,
    cap_cells_per_satellite,
    maxmin_lp,
    proportional_lp,
    pwl_log_error,
    violations,
    waterfill,
)


def net(demand, pairs, down, *, beams=None, beam=None, feeder=None, feeder_links=(), gateways=(), lasers=(), laser_mbps=100.0, backhaul=False):
    s = len(down)
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    fl = np.array(feeder_links, dtype=np.int64).reshape(-1, 2)
    return StepNetwork(
        demand_mbps=np.array(demand, float), pair_sat=pairs[:, 0], pair_cell=pairs[:, 1], down_mbps=np.array(down, float),
        beams=np.ones(s) if beams is None else np.array(beams, float), beam_mbps=np.array(down, float) if beam is None else np.array(beam, float),
        feeder_mbps=np.full(s, 1e9) if feeder is None else np.array(feeder, float), feeder_sat=fl[:, 0], feeder_gw=fl[:, 1],
        gateway_mbps=np.array(gateways, float), laser=np.array(lasers, dtype=np.int64).reshape(-1, 2), laser_mbps=laser_mbps, backhaul=backhaul)


def random_net(rng, n_sats=3, n_cells=5, backhaul=False):
    pairs = [(s, c) for s in range(n_sats) for c in range(n_cells) if rng.random() < 0.6]
    pairs += [(int(rng.integers(n_sats)), c) for c in range(n_cells)]  # every cell sees someone
    pairs = sorted(set(pairs))
    down = rng.uniform(2, 20, n_sats)
    kw = {}
    if backhaul:
        kw = dict(feeder=rng.uniform(2, 30, n_sats), feeder_links=[(0, 0), (n_sats - 1, 1)], gateways=rng.uniform(3, 15, 2),
                  lasers=[(k, k + 1) for k in range(n_sats - 1)], laser_mbps=float(rng.uniform(1, 10)), backhaul=True)
    return net(rng.uniform(0.5, 15, n_cells), pairs, down, beams=np.full(n_sats, 2.0), beam=down / 1.5, **kw)


def shares(n: StepNetwork, a: np.ndarray) -> np.ndarray:
    m = n.demand_mbps > 0
    return a[m] / n.demand_mbps[m]


def test_lp_equals_the_hand_solved_case() -> None:
    # A (10) sees c0, c1; B (6) sees c1, c2; demands 8, 8, 2: 16 of 18 can be served, every
    # cell at 8/9 of its demand (A: c0 64/9 and 26/9 of c1; B: 38/9 of c1 and c2 16/9).
    n = net([8, 8, 2], [(0, 0), (0, 1), (1, 1), (1, 2)], [10, 6])
    a = maxmin_lp(n)
    assert np.allclose(a.cell_mbps, [64 / 9, 64 / 9, 16 / 9], atol=1e-6)
    # Fairness is on the share of demand: with c2 asking 0.5, all three get 16 / 16.5 of theirs.
    b = maxmin_lp(dataclasses.replace(n, demand_mbps=np.array([8, 8, 0.5])))
    assert np.allclose(b.cell_mbps, np.array([8, 8, 0.5]) * 32 / 33, atol=1e-6)
    # Two levels: c0 alone on A (3), c1 and c2 on B (10): c0 at 3/8, c1 and c2 at 10/10.
    c = maxmin_lp(net([8, 8, 2], [(0, 0), (1, 1), (1, 2)], [3, 10]))
    assert np.allclose(c.cell_mbps, [3, 8, 2], atol=1e-6) and c.lps == 2


def test_backhaul_limits_hand_solved() -> None:
    # One satellite (10) over a cell asking 20, its only gateway carries 4.
    n = net([20], [(0, 0)], [10], feeder_links=[(0, 0)], gateways=[4], backhaul=True)
    assert maxmin_lp(n).cell_mbps[0] == pytest.approx(4.0, abs=1e-6)
    # Two satellites: 0 serves the cell and sees no gateway, 1 sees a big gateway; a 3 Mbps laser joins them.
    n2 = net([20], [(0, 0)], [10, 10], feeder_links=[(1, 0)], gateways=[100], lasers=[(0, 1)], laser_mbps=3.0, backhaul=True)
    a = maxmin_lp(n2)
    assert a.cell_mbps[0] == pytest.approx(3.0, abs=1e-6)
    assert a.laser_flow[0] == pytest.approx(-3.0, abs=1e-6)  # from satellite 1 to satellite 0
    assert max(violations(a, n2).values()) < 1e-6
    # Without lasers nothing reaches the cell.
    assert maxmin_lp(dataclasses.replace(n2, laser=np.zeros((0, 2), np.int64))).cell_mbps[0] == pytest.approx(0.0, abs=1e-6)


def brute_maxmin_shares(n: StepNetwork) -> np.ndarray:
    """Max-min fair shares by the definition: progressive filling where a cell is frozen only
    when an LP shows it cannot exceed the current level while the others keep theirs (no duals)."""
    from leonet.capacity.allocate import _flow_rows

    A, b, bounds, p, f, ln, M = _flow_rows(n)
    M = M.toarray()
    d = n.demand_mbps
    live = d > 0
    share = np.zeros(n.n_cells)
    frozen = ~live
    nv = A.shape[1]
    Ad = A.toarray()
    while not frozen.all():
        U = np.flatnonzero(~frozen)
        rows = [np.c_[Ad, np.zeros(len(b))], np.c_[-M[U], d[U]], np.c_[M[live], np.zeros(live.sum())]]
        rhs = [b, np.zeros(U.size), d[live]]
        Fz = np.flatnonzero(frozen & live)
        if Fz.size:
            rows.append(np.c_[-M[Fz], np.zeros(Fz.size)])
            rhs.append(-share[Fz] * d[Fz] * (1 - 1e-9))
        c = np.zeros(nv + 1)
        c[-1] = -1
        res = linprog(c, A_ub=np.vstack(rows), b_ub=np.concatenate(rhs), bounds=[*map(tuple, bounds), (0, 1)], method="highs")
        t = res.x[-1]
        stuck = []
        for cc in U:  # can cc go above t while every other unfrozen cell keeps t?
            obj = np.zeros(nv + 1)
            obj[:nv] = -M[cc]
            fix = np.c_[-M[U], d[U] * 0]
            r2 = linprog(obj, A_ub=np.vstack([rows[0], fix, rows[2], *rows[3:]]), b_ub=np.concatenate([b, -t * d[U] * (1 - 1e-9), *rhs[2:]]),
                         bounds=[*map(tuple, bounds), (0, 1)], method="highs")
            if -r2.fun <= t * d[cc] * (1 + 1e-7) + 1e-9:
                stuck.append(cc)
        if t >= 1 - 1e-9:
            stuck = list(U)
        assert stuck, "some cell must be stuck at the optimum level"
        share[stuck] = min(t, 1.0)
        frozen[stuck] = True
    return share


@pytest.mark.parametrize("seed", range(6))
def test_maxmin_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = random_net(rng, backhaul=seed % 2 == 1)
    a = maxmin_lp(n)
    expect = brute_maxmin_shares(n)
    got = a.cell_mbps / n.demand_mbps
    assert np.allclose(np.sort(got), np.sort(expect), atol=1e-5), (got, expect)
    assert np.allclose(got, expect, atol=1e-5)
    # and no other allocation we can make is lexicographically better (sorted shares)
    for other in (proportional_lp(n), waterfill(n)):
        o, g = np.sort(shares(n, other.cell_mbps)), np.sort(got)
        k = np.flatnonzero(np.abs(o - g) > 1e-6)
        assert not k.size or g[k[0]] > o[k[0]]


@pytest.mark.parametrize("seed", range(8))
def test_no_capacity_is_exceeded(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = random_net(rng, n_sats=4, n_cells=7, backhaul=True)
    for a in (maxmin_lp(n), proportional_lp(n), waterfill(n), waterfill(n, cells_per_beam=1)):
        v = violations(a, n)
        assert max(v.values()) < 1e-6, (a.method, v)
        assert np.all(a.cell_mbps <= n.demand_mbps + 1e-6)
    capped, _ = cap_cells_per_satellite(maxmin_lp(n), n, 1)
    assert max(violations(capped, n).values()) < 1e-6
    assert np.all(np.bincount(n.pair_sat[capped.pair_mbps > 0], minlength=n.n_sats) <= n.beams)


def test_inactive_cell_gets_nothing_and_frees_capacity() -> None:
    n = net([8, 8, 2], [(0, 0), (0, 1), (1, 1), (1, 2)], [10, 6])
    dark = dataclasses.replace(n, demand_mbps=np.array([8.0, 0.0, 2.0]))  # c1 switched off
    for solve in (maxmin_lp, proportional_lp, waterfill):
        a, b = solve(n), solve(dark)
        assert b.cell_mbps[1] == 0.0
        assert np.all(b.cell_mbps[[0, 2]] >= a.cell_mbps[[0, 2]] - 1e-6)  # neighbours gain or keep


def test_proportional_error_is_within_the_tolerance() -> None:
    rng = np.random.default_rng(7)
    for _ in range(4):
        n = random_net(rng, n_sats=4, n_cells=8, backhaul=True)
        a = proportional_lp(n, 4, tolerance=1e-4)
        assert 0.0 <= a.objective_gap <= 1e-4
        assert max(violations(a, n).values()) < 1e-6
    assert pwl_log_error(48) < pwl_log_error(24) < pwl_log_error(12)  # the starting tangents' own bound shrinks with their number


def test_proportional_close_to_exact_convex_optimum() -> None:
    from scipy.optimize import minimize

    # No backhaul, each cell on one beam-limited satellite set: solve exactly with SLSQP.
    n = net([8, 8, 2, 5], [(0, 0), (0, 1), (1, 1), (1, 2), (1, 3), (0, 3)], [10, 6])
    a = proportional_lp(n, 8, tolerance=1e-5)
    d = n.demand_mbps
    P = len(n.pair_sat)

    def obj(x):
        cell = np.bincount(n.pair_cell, x, minlength=4)
        return -np.sum(d / d.sum() * np.log(np.maximum(cell / d, 1e-12)))

    cons = [{"type": "ineq", "fun": lambda x, s=s: n.down_mbps[s] - x[n.pair_sat == s].sum()} for s in range(2)]
    cons += [{"type": "ineq", "fun": lambda x, c=c: d[c] - x[n.pair_cell == c].sum()} for c in range(4)]
    ex = minimize(obj, np.full(P, 0.5), constraints=cons, bounds=[(0, None)] * P, method="SLSQP", options={"ftol": 1e-12, "maxiter": 500})
    assert ex.success
    assert -obj(a.pair_mbps) >= -ex.fun - 1e-5 - 1e-7  # the LP's allocation is within its stated gap of the exact optimum


def test_approximation_bounds_and_laser_relay() -> None:
    n2 = net([20], [(0, 0)], [10, 10], feeder_links=[(1, 0)], gateways=[100], lasers=[(0, 1)], laser_mbps=3.0, backhaul=True)
    assert np.allclose(backhaul_bounds(n2), [3.0, 100.0])  # relayed: one laser; above the gateway: all of it (its feeder is unlimited here)
    assert waterfill(n2).cell_mbps[0] == pytest.approx(3.0)
