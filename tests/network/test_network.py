"""Network: shell inference, +Grid lasers, ground links, routing against networkx, Hypatia's scenario."""

from __future__ import annotations

import math
from functools import lru_cache

import networkx as nx
import numpy as np
import pytest
from sgp4.api import WGS72, Satrec
from shapely.geometry import box

from leonet.ground.regions import Region
from leonet.network import (
    GroundNodes,
    LinkRule,
    Router,
    endpoint_activity,
    ground_links,
    infer_shells,
    laser_geometry,
    max_range_for_grazing_km,
    plus_grid,
    read_hypatia,
    route_series,
)
from leonet.network.routing import FIBRE_REFRACTIVE_INDEX, SPEED_OF_LIGHT_M_S
from leonet.orbits.frames import look_angles
from leonet.orbits.propagate import propagate
from leonet.policy.model import ServicePolicy
from leonet.sources.constellation import WGS72_RADIUS_KM, Constellation
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import NS_PER_DAY, parse_time

T0 = parse_time("2025-01-01T00:00:00Z")
_EPOCH_1949_NS = parse_time("1949-12-31T00:00:00Z")


def noisy_walker(shells: list[WalkerShell], seed: int = 1, raising: int = 40) -> tuple[Constellation, np.ndarray, np.ndarray, np.ndarray]:
    """A Walker constellation written as element sets of scattered epochs (+-2 days, RAAN and
    argument of latitude moved there with SGP4's secular rates) with noise on inclination
    (0.01 deg), altitude (~0.5 km), RAAN (0.1 deg) and argument of latitude (0.3 deg), plus
    ``raising`` satellites scattered between 300 and 450 km. Returns it and the true
    shell/plane/slot."""
    rng = np.random.default_rng(seed)
    base = walker_constellation(shells, epoch=T0)
    true_shell = np.concatenate([np.full(s.total, k) for k, s in enumerate(shells)])
    true_plane = np.concatenate([s.slots()[0] for s in shells])
    true_slot = np.concatenate([s.slots()[1] for s in shells])
    sats = []
    for k, s0 in enumerate(base.satrecs):  # building a test fixture, one satellite at a time
        d_days = rng.uniform(-2.0, 2.0)
        dt_min = d_days * 1440.0
        epoch = (T0 - _EPOCH_1949_NS) / NS_PER_DAY + d_days
        n = s0.no_kozai * (1.0 + rng.normal(0.0, 5e-5))  # ~0.5 km in altitude
        inc = s0.inclo + math.radians(rng.normal(0.0, 0.01))
        raan = s0.nodeo + math.radians(rng.normal(0.0, 0.1)) + s0.nodedot * dt_min
        u = s0.mo + math.radians(rng.normal(0.0, 0.3)) + (s0.argpdot + s0.mdot) * dt_min
        s = Satrec()
        s.sgp4init(WGS72, "i", k + 1, epoch, 0.0, 0.0, 0.0, 1e-4, 0.0, inc, u % (2 * math.pi), n, raan % (2 * math.pi))
        sats.append((s, d_days))
    for j in range(raising):
        alt = rng.uniform(300.0, 450.0)
        n = math.sqrt(398600.8 / (WGS72_RADIUS_KM + alt) ** 3) * 60.0
        s = Satrec()
        s.sgp4init(WGS72, "i", 90_000 + j, (T0 - _EPOCH_1949_NS) / NS_PER_DAY, 0.0, 0.0, 0.0, 1e-4, 0.0, math.radians(53.0),
                   rng.uniform(0, 2 * math.pi), n, rng.uniform(0, 2 * math.pi))
        sats.append((s, 0.0))
    m = len(sats)
    c = Constellation(
        tuple(s for s, _ in sats), np.arange(1, m + 1), np.array([""] * m, dtype=object), np.array([""] * m, dtype=object),
        np.array(["U"] * m, dtype=object), np.array([T0 + int(d * NS_PER_DAY) for _, d in sats], dtype=np.int64),
    )
    pad = np.full(raising, -1)
    return c, np.r_[true_shell, pad], np.r_[true_plane, pad], np.r_[true_slot, pad]


SHELLS = [
    WalkerShell("550km-53", 72, 22, 550.0, 53.0, raan0_deg=2.0),
    WalkerShell("540km-53.2", 72, 22, 540.0, 53.2, raan0_deg=2.0),
    WalkerShell("570km-70", 36, 20, 570.0, 70.0, raan0_deg=2.0),
    WalkerShell("630km-51.9", 34, 34, 630.0, 51.9, raan0_deg=2.0),
]


def true_plus_grid(shells: list[WalkerShell]) -> set[tuple[int, int]]:
    out, base = set(), 0
    for s in shells:
        for p in range(s.planes):
            for k in range(s.sats_per_plane):
                a = base + p * s.sats_per_plane + k
                out.add(tuple(sorted((a, base + p * s.sats_per_plane + (k + 1) % s.sats_per_plane))))
                out.add(tuple(sorted((a, base + ((p + 1) % s.planes) * s.sats_per_plane + k))))
        base += s.total
    return out


def test_walker_with_noise_recovered_exactly() -> None:
    c, shell, plane, slot = noisy_walker(SHELLS)
    a = infer_shells(c, T0)
    assert np.array_equal(a.unassigned, np.flatnonzero(shell < 0))  # the raising satellites, and only them
    assert len(a.shells) == len(SHELLS)
    for k, ws in enumerate(SHELLS):
        m = shell == k
        found = np.unique(a.shell[m])
        assert found.size == 1 and (a.shell == found[0]).sum() == ws.total
        info = a.shells[int(found[0])]
        assert (info.planes, info.sats_per_plane, info.without_plane) == (ws.planes, ws.sats_per_plane, 0)
        assert abs(info.inclination_deg - ws.inclination_deg) < 0.01 and abs(info.altitude_km - ws.altitude_km) < 0.5
        assert np.array_equal(a.plane[m], plane[m])  # plane 0 is the lowest RAAN, as generated
        assert np.array_equal(a.slot[m], slot[m])
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    assert set(map(tuple, links.tolist())) == true_plus_grid(SHELLS)


def test_j2_drift_matches_analytic_rate() -> None:
    """SGP4's secular nodal rate (used to bring RAANs to one epoch) against -3/2 n J2 (R/a)^2 cos i."""
    c = walker_constellation([WalkerShell("x", 1, 1, 550.0, 53.0, phasing=0)], epoch=T0)
    s = c.satrecs[0]
    n = s.no_kozai  # rad/min (Brouwer mean motion after sgp4init)
    analytic = -1.5 * n * s.j2 * (1.0 / s.a) ** 2 * math.cos(s.inclo)
    assert s.nodedot == pytest.approx(analytic, rel=0.01)
    assert math.degrees(s.nodedot) * 1440 == pytest.approx(-4.49, abs=0.02)  # deg/day at 550 km, 53 deg (by hand: 15.05 rev/day)


def test_snapshot_2024_shells_next_to_gen1_filings(tle_snapshot) -> None:
    c = tle_snapshot("tle/starlink_20241023_celestrak_gp.tle").constellation
    a = infer_shells(c)
    # Gen1 filing (FCC 2021): (inclination, altitude, planes); the polar shells are one shell here.
    filed = [(53.0, 550.0, 72), (53.2, 540.0, 72), (70.0, 570.0, 36), (97.6, 560.0, 10)]
    lines, found = [], []
    for inc, alt, planes in filed:
        near = [s for s in a.shells if abs(s.inclination_deg - inc) < 0.1 and abs(s.altitude_km - alt) < 5.0]
        assert len(near) == 1, (inc, alt, [s.describe() for s in a.shells])
        s = near[0]
        lines.append(f"filed {inc} deg {alt} km {planes} planes -> {s.describe()}")
        assert s.planes <= planes
        found.append(s)
    assert found[0].planes == 72 and found[1].planes == 72  # the two big 53 deg shells are complete
    assert 0.02 < a.unassigned.size / len(c) < 0.1  # raising/lowering satellites
    print("\n".join(lines))


def test_laser_geometry_analytic() -> None:
    r = WGS72_RADIUS_KM + 550.0
    theta = np.radians([10.0, 40.0, 80.0])
    pos = np.zeros((4, 3))
    pos[0] = [r, 0, 0]
    pos[1:, 0], pos[1:, 1] = r * np.cos(theta), r * np.sin(theta)
    links = np.array([[0, 1], [0, 2], [0, 3]])
    length, graze = laser_geometry(pos, links)
    np.testing.assert_allclose(length, 2 * r * np.sin(theta / 2), rtol=1e-12)
    np.testing.assert_allclose(graze, r * np.cos(theta / 2) - WGS72_RADIUS_KM, rtol=1e-12)
    # Hypatia's description.txt: 5,016,591.233 m for 550 km and an 80 km grazing altitude.
    assert max_range_for_grazing_km(550.0, 80.0) * 1e3 == pytest.approx(5016591.2330984278, abs=1e-3)


def test_ground_links_against_look_angles() -> None:
    c = walker_constellation([WalkerShell("x", 12, 12, 550.0, 53.0)], epoch=T0)
    r = propagate(c.satrecs, np.array([T0]), frame="itrf", velocities=False).r_km
    lat, lon = np.array([25.03, 51.5, -33.9, 0.0]), np.array([121.56, -0.13, 151.2, 10.0])
    g = GroundNodes.from_geodetic(["a", "b", "c", "d"], lat, lon)
    _, el, rng = look_angles(lat, lon, 0.0, r)
    for mask, max_km in ((10.0, None), (None, 2500.0), (15.0, 1500.0)):
        gl = ground_links(g.r_km, r[:, 0], ground_up=g.up, min_elevation_deg=mask, max_range_km=max_km)
        want = np.ones(el.shape[:2], bool)
        if mask is not None:
            want &= el[..., 0] >= mask
        if max_km is not None:
            want &= rng[..., 0] <= max_km
        got = np.zeros_like(want)
        got[gl.ground, gl.sat] = True
        assert np.array_equal(got, want) and want.any()
        np.testing.assert_allclose(gl.length_km, rng[gl.ground, gl.sat, 0], rtol=1e-9)


def _brute_force_isl_routes(r: np.ndarray, links: np.ndarray, ground: GroundNodes, rule: LinkRule, pairs, isl_km: float) -> list[float]:
    """networkx on the same graph, ground stations attached only for the pair routed (so they cannot relay)."""
    from leonet.network.links import laser_links_up

    up, length = laser_links_up(r, links, isl_km, 0.0)
    base = nx.Graph()
    base.add_nodes_from(range(len(r)))
    base.add_weighted_edges_from((int(a), int(b), float(w) * 1e3) for (a, b), w in zip(links[up], length[up]))
    gl = ground_links(ground.r_km, r, ground_up=ground.up, min_elevation_deg=rule.min_elevation_deg, max_range_km=rule.max_range_km)
    out = []
    for s, d in pairs:
        g = base.copy()
        for end, tag in ((s, "s"), (d, "d")):
            m = gl.ground == end
            g.add_weighted_edges_from(((tag, int(x), float(w) * 1e3) for x, w in zip(gl.sat[m], gl.length_km[m])))
        try:
            out.append(nx.dijkstra_path_length(g, "s", "d"))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            out.append(math.inf)
    return out


def _check_paths_valid(routes, r_km: np.ndarray, ground_r: np.ndarray, n: int, k: int) -> None:
    """Every reported path is a chain of real links whose lengths add up to the reported length."""
    pos = np.concatenate([r_km, ground_r])
    for p in range(routes.src.size):
        h = routes.hops[k, p]
        if h < 0:
            continue
        nodes = routes.paths[k][p, -(h + 1) :]
        assert (routes.paths[k][p, : -(h + 1)] == -1).all()
        assert nodes[0] == routes.src_id[p] and nodes[-1] == routes.dst_id[p]
        assert (nodes[1:-1] < n).all()  # no ground relays
        seg = np.linalg.norm(np.diff(pos[nodes], axis=0), axis=1).sum() * 1e3
        assert seg == pytest.approx(routes.length_m[k, p], rel=1e-9)


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
        want = _brute_force_isl_routes(r[:, k], h.isls, h.ground, rule, pairs, h.max_isl_length_m / 1e3)
        np.testing.assert_allclose(routes.length_m[k, sample], want, rtol=1e-9)
        _check_paths_valid(routes, r[:, k], h.ground.r_km, 1584, k)
    # Physics: never faster than light along the straight chord; RTT = (there + back) / c.
    chord_m = np.linalg.norm(h.ground.r_km[routes.src] - h.ground.r_km[routes.dst], axis=1) * 1e3
    assert (routes.rtt_ms >= 2 * chord_m / SPEED_OF_LIGHT_M_S * 1e3).all()
    np.testing.assert_allclose(routes.rtt_ms, 2 * routes.length_m / SPEED_OF_LIGHT_M_S * 1e3)
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


def test_floyd_warshall_small_case_all_pairs() -> None:
    """All pairs on a small Walker shell against networkx Floyd-Warshall plus the min over entry
    and exit satellites (Hypatia's formula)."""
    c = walker_constellation([WalkerShell("x", 10, 10, 550.0, 53.0)], epoch=T0)
    a = infer_shells(c, T0, min_shell_satellites=20)
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    lat = np.array([25.0, 51.5, 40.7, -33.9, 1.3, 35.7])
    lon = np.array([121.5, -0.1, -74.0, 151.2, 103.8, 139.7])
    g = GroundNodes.from_geodetic(list("abcdef"), lat, lon)
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
        gl = ground_links(g.r_km, r[:, k], ground_up=g.up, min_elevation_deg=10.0)
        gsl = np.full((6, len(c)), np.inf)
        gsl[gl.ground, gl.sat] = gl.length_km * 1e3
        want = np.min(gsl[:, :, None, None] + dsat[None, :, :, None] + gsl.T[None, None, :, :], axis=(1, 2))  # (6, 6)
        got = np.full((6, 6), np.inf)
        got[routes.src, routes.dst] = np.where(routes.hops[k] >= 0, routes.length_m[k], np.inf)
        np.testing.assert_allclose(got[keep], want[keep], rtol=1e-9)
        assert np.isfinite(want[keep]).sum() >= 10
        _check_paths_valid(routes, r[:, k], g.r_km, len(c), k)


def test_broken_links_reported_at_the_step_they_break() -> None:
    c = walker_constellation([WalkerShell("x", 12, 12, 550.0, 53.0)], epoch=T0)
    a = infer_shells(c, T0, min_shell_satellites=20)
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    t = T0 + np.arange(0, 1800, 60) * 10**9
    r = propagate(c.satrecs, t, frame="itrf", velocities=False).r_km
    lengths = np.stack([laser_geometry(r[:, k], links)[0] for k in range(t.size)])  # (T, L)
    limit = float(np.median(lengths))  # cross-plane links stretch and shrink with latitude
    g = GroundNodes.from_geodetic(["a", "b"], np.array([25.0, 35.0]), np.array([121.5, 139.7]))
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
    g = GroundNodes.from_geodetic(["Taipei", "London", "Tokyo"], np.array([25.03, 51.51, 35.69]), np.array([121.56, -0.13, 139.69]))
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
    users = GroundNodes.from_geodetic(["Taipei", "London"], np.array([25.03, 51.51]), np.array([121.56, -0.13]))
    gws = GroundNodes.from_geodetic(["gw-tw", "gw-uk"], np.array([24.5, 51.0]), np.array([121.0, -1.0]))
    pops = GroundNodes.from_geodetic(["pop-tw", "pop-uk"], np.array([25.05, 51.5]), np.array([121.5, -0.1]))
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
    np.testing.assert_allclose(gw.rtt_ms, 2 * (gw.length_m + (FIBRE_REFRACTIVE_INDEX - 1) * gw.fibre_m) / SPEED_OF_LIGHT_M_S * 1e3)
    assert (gw.fibre_m > 0).all()
