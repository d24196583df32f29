"""Routing: all pairs against networkx Floyd-Warshall, broken links reported at their step,
service policy at the endpoints, gateway and bent-pipe modes."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from routing_checks import check_paths_valid
from shapely.geometry import box

from leonet.constants import C_M_S, FIBRE_REFRACTIVE_INDEX
from leonet.ground.points import GroundPoints
from leonet.ground.regions import Region
from leonet.network import LinkRule, Router, endpoint_activity, ground_links, infer_shells, laser_geometry, plus_grid, route_series
from leonet.orbits.propagate import propagate
from leonet.policy.model import ServicePolicy
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import parse_time

T0 = parse_time("2025-01-01T00:00:00Z")


def test_floyd_warshall_small_case_all_pairs() -> None:
    """All pairs on a small Walker shell against networkx Floyd-Warshall plus the min over entry
    and exit satellites (Hypatia's formula)."""
    c = walker_constellation([WalkerShell("x", 10, 10, 550.0, 53.0)], epoch=T0)
    a = infer_shells(c, T0, min_shell_satellites=20)
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    lat = np.array([25.0, 51.5, 40.7, -33.9, 1.3, 35.7])
    lon = np.array([121.5, -0.1, -74.0, 151.2, 103.8, 139.7])
    g = GroundPoints.from_geodetic(lat, lon, name=list("abcdef"))
    rule = LinkRule(10.0, None)
    router = Router(len(c), links, g, user_links=rule, isl_max_range_km=6000.0, min_grazing_alt_km=80.0)
    s, d = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    keep = s != d
    t = np.array([T0, T0 + 300 * 10**9])
    routes = route_series(router, c.satrecs, t, s[keep], d[keep])
    r = propagate(c.satrecs, t, frame="itrf", velocities=False).r_km
    from leonet.network.links import laser_links_up

    for k in range(2):
        up, length = laser_links_up(r[:, k], links, 6000.0, 80.0)
        gx = nx.Graph()
        gx.add_nodes_from(range(len(c)))
        gx.add_weighted_edges_from((int(x), int(y), float(w) * 1e3) for (x, y), w in zip(links[up], length[up]))
        dsat = nx.floyd_warshall_numpy(gx, nodelist=range(len(c)), weight="weight")
        gl = ground_links(g.itrf_km, r[:, k], ground_up=g.up, min_elevation_deg=10.0)
        gsl = np.full((6, len(c)), np.inf)
        gsl[gl.ground, gl.sat] = gl.length_km * 1e3
        want = np.min(gsl[:, :, None, None] + dsat[None, :, :, None] + gsl.T[None, None, :, :], axis=(1, 2))  # (6, 6)
        got = np.full((6, 6), np.inf)
        got[routes.src, routes.dst] = np.where(routes.hops[k] >= 0, routes.length_m[k], np.inf)
        np.testing.assert_allclose(got[keep], want[keep], rtol=1e-9)
        assert np.isfinite(want[keep]).sum() >= 10
        check_paths_valid(routes, r[:, k], g.itrf_km, len(c), k)
    # The all-pairs overview (what `leonet route` prints for many pairs) against the per-pair summary.
    summ, o = routes.summary(), routes.overview()
    assert o["reachable"] == pytest.approx(np.mean([x["reachable"] for x in summ]), abs=1e-12)
    assert o["ratio_to_fibre_median"] == np.nanmedian([x["ratio_to_fibre_median"] for x in summ])
    assert o["path_changes"] == sum(x["path_changes"] for x in summ)


def test_broken_links_reported_at_the_step_they_break() -> None:
    c = walker_constellation([WalkerShell("x", 12, 12, 550.0, 53.0)], epoch=T0)
    a = infer_shells(c, T0, min_shell_satellites=20)
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    t = T0 + np.arange(0, 1800, 60) * 10**9
    r = propagate(c.satrecs, t, frame="itrf", velocities=False).r_km
    lengths = np.stack([laser_geometry(r[:, k], links)[0] for k in range(t.size)])  # (T, L)
    limit = float(np.median(lengths))  # cross-plane links stretch and shrink with latitude
    g = GroundPoints.from_geodetic(np.array([25.0, 35.0]), np.array([121.5, 139.7]), name=["a", "b"])
    router = Router(len(c), links, g, isl_max_range_km=limit, min_grazing_alt_km=0.0)
    routes = route_series(router, c.satrecs, t, np.array([0]), np.array([1]))
    up = lengths <= limit
    assert np.array_equal(routes.laser_up, up)
    want = sorted((int(t[k + 1]), int(links[l, 0]), int(links[l, 1])) for k, l in zip(*np.nonzero(up[:-1] & ~up[1:])))
    assert want and routes.broken_links() == want


def test_policy_inactive_user_has_no_route() -> None:
    c = walker_constellation([WalkerShell("x", 24, 22, 550.0, 53.0)], epoch=T0)
    a = infer_shells(c, T0)
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    g = GroundPoints.from_geodetic(np.array([25.03, 51.51, 35.69]), np.array([121.56, -0.13, 139.69]), name=["Taipei", "London", "Tokyo"])
    t = T0 + np.arange(0, 600, 60) * 10**9
    off = ServicePolicy.active_everywhere().deactivate(Region.polygon(box(-1.0, 51.0, 1.0, 52.0), "London"), start=int(t[5]))
    active = endpoint_activity(off, g, t)
    assert active[[0, 2]].all() and active[1, :5].all() and not active[1, 5:].any()
    router = Router(len(c), links, g, isl_max_range_km=6000.0)
    src, dst = np.array([0, 1, 0, 2]), np.array([1, 0, 2, 0])
    on = route_series(router, c.satrecs, t, src, dst)
    pol = route_series(router, c.satrecs, t, src, dst, active)
    assert (pol.hops[5:, :2] == -1).all() and np.isnan(pol.rtt_ms[5:, :2]).all()
    np.testing.assert_array_equal(pol.hops[:5], on.hops[:5])
    np.testing.assert_array_equal(pol.hops[:, 2:], on.hops[:, 2:])  # Taipei-Tokyo untouched
    assert (on.hops[:, :2] >= 2).all()


def test_gateway_and_bentpipe_modes() -> None:
    c = walker_constellation([WalkerShell("x", 36, 22, 550.0, 53.0)], epoch=T0)
    a = infer_shells(c, T0)
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    users = GroundPoints.from_geodetic(np.array([25.03, 51.51]), np.array([121.56, -0.13]), name=["Taipei", "London"])
    gws = GroundPoints.from_geodetic(np.array([24.5, 51.0]), np.array([121.0, -1.0]), name=["gw-tw", "gw-uk"])
    pops = GroundPoints.from_geodetic(np.array([25.05, 51.5]), np.array([121.5, -0.1]), name=["pop-tw", "pop-uk"])
    t = T0 + np.arange(0, 300, 60) * 10**9
    out = {}
    for mode in ("bentpipe", "gateway"):
        router = Router(len(c), links, users, mode=mode, isl_max_range_km=6000.0, gateways=gws, pops=pops)
        out[mode] = route_series(router, c.satrecs, t, np.array([0, 1]), np.array([1, 0]))
    n = len(c)
    bp, gw = out["bentpipe"], out["gateway"]
    ok = bp.hops >= 0
    assert ok.any() and (bp.hops[ok] == 4).all()  # user, satellite, gateway, PoP, destination
    for k in range(t.size):
        for p in range(2):
            if bp.hops[k, p] >= 0:
                path = bp.paths[k][p, -5:]
                assert path[1] < n and n + 2 <= path[2] < n + 4 and n + 4 <= path[3] < n + 6 and path[4] == bp.dst_id[p]
    assert (gw.hops >= 0).all()
    # Lasers only add options: never slower than bent-pipe, and the far end of Taipei -> London
    # leaves the sky at the UK gateway (node n + 3), not at the Taiwanese one.
    assert (gw.rtt_ms[ok] <= bp.rtt_ms[ok] + 1e-9).all()
    assert all(gw.paths[k][0, -3] == n + 3 for k in range(t.size))
    # RTT counts fibre at c / 1.468 and space at c.
    np.testing.assert_allclose(gw.rtt_ms, 2 * (gw.length_m + (FIBRE_REFRACTIVE_INDEX - 1) * gw.fibre_m) / C_M_S * 1e3)
    assert (gw.fibre_m > 0).all()


def test_path_changed_against_padded_comparison() -> None:
    """Paths of different widths per step (right-aligned, -1 before): a change is any node
    that differs once both are padded to one width, becoming (un)reachable included."""
    rng = np.random.default_rng(4)
    paths, hops = [], []
    for _ in range(30):
        width = int(rng.integers(1, 6))
        p = np.full((12, width), -1)
        h = rng.integers(-1, width, 12)
        for i, n in enumerate(h):
            if n >= 0:
                p[i, width - n - 1 :] = rng.integers(0, 3, n + 1)
        paths.append(p)
        hops.append(h)
    from leonet.network.routing import _paths_differ  # what route_series fills Routes.changed with, step by step

    want = np.zeros((30, 12), bool)
    for k in range(1, 30):
        w = max(paths[k].shape[1], paths[k - 1].shape[1])
        a, b = (np.pad(x, ((0, 0), (w - x.shape[1], 0)), constant_values=-1) for x in (paths[k - 1], paths[k]))
        want[k] = (a != b).any(axis=1)
    assert want.sum() > 50 and not want.all()
    got = np.zeros((30, 12), bool)
    for k in range(1, 30):
        got[k] = _paths_differ(paths[k - 1], paths[k])
    np.testing.assert_array_equal(got, want)


def test_nanmedian_columns_equals_numpys() -> None:
    import warnings

    from leonet.network.routing import nanmedian_columns

    rng = np.random.default_rng(11)
    for steps in (1, 2, 7, 60, 601):
        x = rng.uniform(0, 100, (steps, 300))
        x[rng.random(x.shape) < 0.3] = np.nan
        x[:, 0], x[:, 1], x[: steps // 2 + 1, 2] = np.nan, 7.0, np.inf
        y = rng.integers(0, 9, (steps, 200)).astype(float)  # ties: even counts average two equal or adjacent values
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for a in (x, y):
                np.testing.assert_array_equal(nanmedian_columns(a), np.nanmedian(a, axis=0))
