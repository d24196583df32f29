"""Max-min by parametric max flow against the successive LPs, the bottleneck definition (one LP
per level) and edge cases; on random regions and on a real Taiwan step at H3 resolution 5."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from capacity_support import maxmin_certificate_gaps, net, random_region
from refdata import ref_file

from leonet.capacity.allocate import FREEZE_SLACK, maxmin_lp, violations
from leonet.capacity.maxflow import FlowGraph, maxmin_flow


def assert_same_as_lp(n, flow, lp) -> None:
    """Shares equal within the LP's own error: each LP level freezes cells FREEZE_SLACK below
    their level, which frees at most FREEZE_SLACK x the flow for later levels (so a cell with
    small demand may get up to that / its demand more from the LP), plus HiGHS's 1e-7."""
    d = n.demand_mbps
    live = d > 0
    tol = 1e-6 + 2 * FREEZE_SLACK * lp.cell_mbps.sum() / np.where(live, d, 1.0)
    diff = np.abs(flow.cell_mbps - lp.cell_mbps) / np.where(live, d, 1.0)
    assert np.all(diff[live] <= tol[live]), (diff.max(), np.argmax(diff))
    assert np.all(flow.cell_mbps[~live] == 0.0)
    assert flow.cell_mbps.sum() == pytest.approx(lp.cell_mbps.sum(), rel=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_flow_equals_successive_lps_on_random_regions(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    n = random_region(rng, n_sats=int(rng.integers(10, 60)), n_cells=int(rng.integers(10, 90)), backhaul=seed % 3 != 0)
    flow, lp = maxmin_flow(n), maxmin_lp(n)
    assert max(violations(flow, n).values()) < 1e-6
    assert_same_as_lp(n, flow, lp)
    for level, gap, slack in maxmin_certificate_gaps(n, flow.cell_mbps):
        assert gap <= slack + 1e-6, (level, gap, slack)  # no level can grow: max-min fair by definition


def test_flow_is_exact_where_the_lps_freeze_slack_shows() -> None:
    # c0 (demand 10,000) sees only A (1,000): it is the bottleneck at share 0.1 and A is full.
    # c1 (demand 1) sees A and B (0.5) and rises on B alone to 0.5. The LP freezes c0 a little
    # below 1,000 (FREEZE_SLACK), which hands c1 ~1e-4 Mbps of A; the max flow freezes exactly.
    n = net([10_000, 1], [(0, 0), (0, 1), (1, 1)], [1000, 0.5])
    a = maxmin_flow(n)
    assert np.allclose(a.cell_mbps, [1000.0, 0.5], rtol=0, atol=1e-9)
    assert_same_as_lp(n, a, maxmin_lp(n))


def test_edge_cases() -> None:
    # nothing to serve
    n = net([0.0, 0.0], [(0, 0), (0, 1)], [10])
    assert np.all(maxmin_flow(n).cell_mbps == 0.0)
    # a cell without any link gets 0 and does not hold the others at 0
    n = net([5, 5, 5], [(0, 0), (0, 1)], [4])
    assert np.allclose(maxmin_flow(n).cell_mbps, [2, 2, 0], atol=1e-12)
    # a satellite with no capacity: its only cell sits at level 0, the others still fill
    n = net([5, 5], [(0, 0), (1, 1)], [0.0, 4.0])
    assert np.allclose(maxmin_flow(n).cell_mbps, [0, 4], atol=1e-12)
    # everything met at the first flow
    n = net([1, 2], [(0, 0), (0, 1)], [100])
    a = maxmin_flow(n)
    assert np.allclose(a.cell_mbps, [1, 2], atol=1e-12) and a.lps == 1
    # backhaul: no gateway anywhere gives nothing; one gateway (3) behind one satellite feeds only its cell
    n = net([5, 5], [(0, 0), (1, 1)], [4, 4], backhaul=True)
    assert np.all(maxmin_flow(n).cell_mbps == 0.0)
    n = net([5, 5], [(0, 0), (1, 1)], [4, 4], feeder_links=[(1, 0)], gateways=[3], backhaul=True)
    a = maxmin_flow(n)
    assert np.allclose(a.cell_mbps, [0, 3], atol=1e-12) and np.allclose(a.feeder_flow, [3], atol=1e-12)
    # demands over nine orders of magnitude
    n = net([1e-3, 1e6, 5.0], [(0, 0), (0, 1), (1, 1), (1, 2)], [2.0, 3.0])
    assert_same_as_lp(n, maxmin_flow(n), maxmin_lp(n))


def test_flow_graph_matches_the_lp_rows() -> None:
    # Every LP capacity appears once as an arc; the undirected laser arc carries flow both ways.
    n = random_region(np.random.default_rng(5), n_sats=8, n_cells=6, n_gw=2)
    g = FlowGraph(n, np.flatnonzero(n.demand_mbps > 0))
    assert g.pairs[1] - g.pairs[0] == len(n.pair_sat) and g.feeder[1] - g.feeder[0] == len(n.feeder_sat)
    a, b = g.laser
    assert np.all(g.cap0[2 * a:2 * b:2] == n.laser_mbps) and np.all(g.cap0[2 * a + 1:2 * b:2] == n.laser_mbps)
    assert np.all(g.cap0[2 * g.pairs[0]:2 * g.pairs[1]:2] == n.beam_mbps[n.pair_sat])
    no_bh = dataclasses.replace(n, backhaul=False)
    assert maxmin_flow(no_bh).cell_mbps.sum() >= maxmin_flow(n).cell_mbps.sum() - 1e-9  # backhaul only takes away


@pytest.fixture(scope="module")
def taiwan_step():
    """The flow network of one real instant: Taiwan and land within 300 km at H3 resolution 5
    (893 cells), the 2024-10-23 snapshot, gateways and +Grid lasers, every cell active."""
    from leonet import api
    from leonet.capacity import run as capacity_run
    from leonet.coverage.regional import build_area
    from leonet.ground.gateways import load_gateways, packaged_gateways_path
    from leonet.ground.regions import Region
    from leonet.policy.model import ServicePolicy
    from leonet.times import TimeGrid

    c = api.load(str(ref_file("tle/starlink_20241023_celestrak_gp.tle")))
    sats = api.serving_satellites(c)[0]
    area = build_area([Region.country("TWN")], 5, 300.0)
    nets = []
    solve = capacity_run.solve

    def keep(n, *args):
        nets.append(n)
        return solve(n, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(capacity_run, "solve", keep)
        t = TimeGrid("2024-10-23T00:00:00Z", "15s", "15s").t_ns
        res = capacity_run.run_capacity(sats, area, t, ServicePolicy.active_everywhere(), load_gateways(packaged_gateways_path()), rule_effects=False)
    assert res.method == "flow" and len(nets) == 1  # 'auto' is the max flow for a region
    return nets[0]


def test_flow_equals_successive_lps_on_a_real_taiwan_step(taiwan_step) -> None:
    n = taiwan_step
    assert n.n_cells == 893 and len(n.pair_sat) > 20_000 and len(n.laser) and len(n.feeder_sat)
    flow, lp = maxmin_flow(n), maxmin_lp(n)
    assert max(violations(flow, n).values()) < 1e-6
    assert_same_as_lp(n, flow, lp)
    live = n.demand_mbps > 0
    low_flow, low_lp = (np.min(a.cell_mbps[live] / n.demand_mbps[live]) for a in (flow, lp))
    assert low_flow == pytest.approx(low_lp / (1 - FREEZE_SLACK), rel=1e-9)  # the first level: no freeze slack yet
    gaps = maxmin_certificate_gaps(n, flow.cell_mbps)
    assert gaps and all(gap <= slack + 1e-4 for _, gap, slack in gaps), gaps
