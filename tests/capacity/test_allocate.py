"""Allocation kernels against hand-solved cases, brute force and their own capacity limits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from capacity_support import brute_maxmin_shares, net, random_net, shares

from leonet.capacity.allocate import (
    backhaul_bounds,
    cap_cells_per_satellite,
    maxmin_lp,
    proportional_lp,
    pwl_log_error,
    violations,
    waterfill,
)
from leonet.capacity.maxflow import maxmin_flow

MAXMIN = pytest.mark.parametrize("maxmin", [maxmin_lp, maxmin_flow], ids=["lp", "flow"])  # the two exact methods


@MAXMIN
def test_lp_equals_the_hand_solved_case(maxmin) -> None:
    # A (10) sees c0, c1; B (6) sees c1, c2; demands 8, 8, 2: 16 of 18 can be served, every
    # cell at 8/9 of its demand (A: c0 64/9 and 26/9 of c1; B: 38/9 of c1 and c2 16/9).
    n = net([8, 8, 2], [(0, 0), (0, 1), (1, 1), (1, 2)], [10, 6])
    a = maxmin(n)
    assert np.allclose(a.cell_mbps, [64 / 9, 64 / 9, 16 / 9], atol=1e-6)
    # Fairness is on the share of demand: with c2 asking 0.5, all three get 16 / 16.5 of theirs.
    b = maxmin(dataclasses.replace(n, demand_mbps=np.array([8, 8, 0.5])))
    assert np.allclose(b.cell_mbps, np.array([8, 8, 0.5]) * 32 / 33, atol=1e-6)
    # Two levels: c0 alone on A (3), c1 and c2 on B (10): c0 at 3/8, c1 and c2 at 10/10.
    c = maxmin(net([8, 8, 2], [(0, 0), (1, 1), (1, 2)], [3, 10]))
    assert np.allclose(c.cell_mbps, [3, 8, 2], atol=1e-6) and (maxmin is maxmin_flow or c.lps == 2)


@MAXMIN
def test_backhaul_limits_hand_solved(maxmin) -> None:
    # One satellite (10) over a cell asking 20, its only gateway carries 4.
    n = net([20], [(0, 0)], [10], feeder_links=[(0, 0)], gateways=[4], backhaul=True)
    assert maxmin(n).cell_mbps[0] == pytest.approx(4.0, abs=1e-6)
    # Two satellites: 0 serves the cell and sees no gateway, 1 sees a big gateway; a 3 Mbps laser joins them.
    n2 = net([20], [(0, 0)], [10, 10], feeder_links=[(1, 0)], gateways=[100], lasers=[(0, 1)], laser_mbps=3.0, backhaul=True)
    a = maxmin(n2)
    assert a.cell_mbps[0] == pytest.approx(3.0, abs=1e-6)
    assert a.laser_flow[0] == pytest.approx(-3.0, abs=1e-6)  # from satellite 1 to satellite 0
    assert max(violations(a, n2).values()) < 1e-6
    # Without lasers nothing reaches the cell.
    assert maxmin(dataclasses.replace(n2, laser=np.zeros((0, 2), np.int64))).cell_mbps[0] == pytest.approx(0.0, abs=1e-6)


@MAXMIN
@pytest.mark.parametrize("seed", range(6))
def test_maxmin_matches_brute_force(seed: int, maxmin) -> None:
    rng = np.random.default_rng(seed)
    n = random_net(rng, backhaul=seed % 2 == 1)
    a = maxmin(n)
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
    for a in (maxmin_lp(n), maxmin_flow(n), proportional_lp(n), waterfill(n), waterfill(n, cells_per_beam=1)):
        v = violations(a, n)
        assert max(v.values()) < 1e-6, (a.method, v)
        assert np.all(a.cell_mbps <= n.demand_mbps + 1e-6)
    for exact in (maxmin_lp(n), maxmin_flow(n)):
        capped, _ = cap_cells_per_satellite(exact, n, 1)
        assert max(violations(capped, n).values()) < 1e-6
        assert np.all(np.bincount(n.pair_sat[capped.pair_mbps > 0], minlength=n.n_sats) <= n.beams)


def test_inactive_cell_gets_nothing_and_frees_capacity() -> None:
    n = net([8, 8, 2], [(0, 0), (0, 1), (1, 1), (1, 2)], [10, 6])
    dark = dataclasses.replace(n, demand_mbps=np.array([8.0, 0.0, 2.0]))  # c1 switched off
    for solve in (maxmin_lp, maxmin_flow, proportional_lp, waterfill):
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
