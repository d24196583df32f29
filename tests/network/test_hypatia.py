"""Hypatia's Starlink-550 scenario: its ISLs equal the inferred +Grid, and its routes match networkx
with sane round-trip times."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from routing_checks import brute_force_isl_routes, check_paths_valid

from leonet.constants import C_M_S
from leonet.network import LinkRule, Router, infer_shells, plus_grid, read_hypatia, route_series
from leonet.orbits.propagate import propagate


@lru_cache(maxsize=1)
def _hypatia(data_dir_str: str):
    return read_hypatia(f"{data_dir_str}/hypatia-starlink550")


def test_hypatia_inferred_grid_equals_its_isls(data_dir) -> None:
    h = _hypatia(str(data_dir))
    assert (len(h.constellation), h.planes, h.sats_per_plane, len(h.isls), len(h.ground)) == (1584, 72, 22, 3168, 100)
    a = infer_shells(h.constellation)
    assert np.array_equal(a.plane, np.arange(1584) // 22) and np.array_equal(a.slot, np.arange(1584) % 22)
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    assert np.array_equal(links, np.unique(np.sort(h.isls, axis=1), axis=0))


def test_hypatia_routes_match_networkx_and_rtts_are_sane(data_dir) -> None:
    h = _hypatia(str(data_dir))
    rule = LinkRule(None, h.max_gsl_length_m / 1e3)
    router = Router(1584, h.isls, h.ground, user_links=rule, isl_max_range_km=h.max_isl_length_m / 1e3, min_grazing_alt_km=0.0)
    s, d = np.meshgrid(np.arange(100), np.arange(100), indexing="ij")
    keep = s != d
    t = h.epoch_ns + np.array([0, 60]) * 10**9
    routes = route_series(router, h.constellation.satrecs, t, s[keep], d[keep])
    assert (routes.hops >= 2).all()  # every city pair reachable: ground, satellites, ground
    assert routes.src_id.min() == 1584 and routes.dst_id.max() == 1683  # Hypatia's node ids
    r = propagate(h.constellation.satrecs, t, frame="itrf", velocities=False).r_km
    rng = np.random.default_rng(0)
    sample = rng.choice(keep.sum(), 25, replace=False)
    for k in range(2):
        pairs = [(int(routes.src[p]), int(routes.dst[p])) for p in sample]
        want = brute_force_isl_routes(r[:, k], h.isls, h.ground, rule, pairs, h.max_isl_length_m / 1e3)
        np.testing.assert_allclose(routes.length_m[k, sample], want, rtol=1e-9)
        check_paths_valid(routes, r[:, k], h.ground.itrf_km, 1584, k)
    # Physics: never faster than light along the straight chord; RTT = (there + back) / c.
    chord_m = np.linalg.norm(h.ground.itrf_km[routes.src] - h.ground.itrf_km[routes.dst], axis=1) * 1e3
    assert (routes.rtt_ms >= 2 * chord_m / C_M_S * 1e3).all()
    np.testing.assert_allclose(routes.rtt_ms, 2 * routes.length_m / C_M_S * 1e3)
    names = list(h.ground.name)

    def rtt(a: str, b: str) -> float:
        p = np.flatnonzero((routes.src == names.index(a)) & (routes.dst == names.index(b)))[0]
        return float(routes.rtt_ms[0, p])

    # Tens of ms, a little above great-circle fibre's 1.468 / 1 advantage wiped out by the grid's zig-zag.
    assert 37 < rtt("New-York-Newark", "London") < 60  # vacuum great circle 37.2 ms, fibre 54.6 ms
    assert 64 < rtt("Tokyo", "London") < 130  # vacuum great circle 63.8 ms
    assert 5 < rtt("Paris", "London") < 20
    ratio = routes.fibre_ratio
    assert 0.6 < np.median(ratio) < 1.5


def test_hypatia_routes_equal_scipy_dijkstra_bit_for_bit(data_dir) -> None:
    """Every pair's latency, path and hop count at 8 instants equal scipy's csgraph Dijkstra on
    the router's own edges with its predecessors walked back (the router before issue 17):
    the bucket queue, the early stop and the compiled path walk change nothing, and the
    Walker geometry produces no tie that they would settle otherwise."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    h = _hypatia(str(data_dir))
    router = Router(1584, h.isls, h.ground, user_links=LinkRule(None, h.max_gsl_length_m / 1e3), isl_max_range_km=h.max_isl_length_m / 1e3,
                    min_grazing_alt_km=0.0)
    s, d = np.meshgrid(np.arange(100), np.arange(100), indexing="ij")
    src, dst = s[s != d], d[s != d]
    t = h.epoch_ns + np.arange(8) * 97 * 10**9
    r = propagate(h.constellation.satrecs, t, frame="itrf", velocities=False).r_km
    for k in range(t.size):
        pos = np.ascontiguousarray(r[:, k])
        st = router.step(pos, src, dst)
        heads, tails, weights, _ = router.edges(pos)
        n = router.n_nodes
        dist, pred = dijkstra(csr_matrix((weights, (heads, tails)), shape=(n, n)), directed=True, indices=1584 + np.arange(100), return_predecessors=True)
        np.testing.assert_array_equal(st.latency_m, dist[src, 1684 + dst])
        for p in range(0, src.size, 7):
            node, walk = 1684 + dst[p], []
            while node >= 0:
                walk.append(node)
                node = pred[src[p], node]
            want = router.out_id[np.array(walk[::-1])]
            assert st.hops[p] == want.size - 1
            np.testing.assert_array_equal(st.path[p, -want.size :], want)
            assert (st.path[p, : -want.size] == -1).all()
