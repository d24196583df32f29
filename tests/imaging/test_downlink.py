"""Age of data: zero in view of a gateway and the next contact really in view; over laser paths,
direct light time in view of a gateway, laser paths against networkx's shortest path on the same
link graph, the direct-only default unchanged, and the fall back to direct contact when no laser
works."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from leonet.constants import C_M_S
from leonet.ground.gateways import parse_gateways_text
from leonet.ground.points import GroundPoints
from leonet.imaging.access import AccessWindows, Sensor
from leonet.imaging.downlink import age_of_data
from leonet.network.links import (
    DEFAULT_ISL_MAX_RANGE_KM,
    DEFAULT_MIN_GRAZING_ALT_KM,
    ground_links,
    laser_links_up,
    plus_grid,
)
from leonet.network.shells import infer_shells
from leonet.orbits.frames import enu_basis, geodetic_to_itrf, look_angles
from leonet.orbits.propagate import propagate
from leonet.search import bisect_crossing
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import NS_PER_S, parse_time

EPOCH = "2025-01-01T00:00:00Z"
T0 = parse_time(EPOCH)
GW_LAT, GW_LON = 40.0, 10.0


@pytest.fixture(scope="module")
def shell():
    # 6 planes of 12 (72 >= the 60 a shell needs to be inferred), 550 km, 53 deg.
    return walker_constellation([WalkerShell("w", 6, 12, 550.0, 53.0)], epoch=EPOCH)


@pytest.fixture(scope="module")
def gateway():
    return parse_gateways_text(f"name,lat_deg,lon_deg,kind\ngw,{GW_LAT},{GW_LON},gateway\n", fmt=None)


def _windows(sat_index, t_ns) -> AccessWindows:
    n = len(sat_index)
    t = np.full(n, t_ns, dtype=np.int64)
    z = np.zeros(n, bool)
    return AccessWindows(np.zeros(n, np.int64), np.asarray(sat_index, np.int64), t, t, t, np.zeros(n), z, z, int(T0), int(T0 + 3 * 3600 * NS_PER_S), Sensor())


def _graph_at(c, t_ns, mask_deg=25.0):
    """The same link graph as the network package builds, as a networkx graph (km weights);
    gateway node 'gw'. Also the satellites' positions and elevations at the gateway."""
    r = propagate(c.satrecs, np.array([t_ns]), frame="itrf", velocities=False).r_km[:, 0]
    sh = infer_shells(c, T0)
    links = plus_grid(sh.shell, sh.plane, sh.slot, sh.u_deg)
    up, length = laser_links_up(r, links, DEFAULT_ISL_MAX_RANGE_KM, DEFAULT_MIN_GRAZING_ALT_KM)
    g = nx.DiGraph()
    g.add_nodes_from(range(len(c)))
    for (a, b), ln in zip(links[up], length[up]):
        g.add_edge(int(a), int(b), weight=float(ln))
        g.add_edge(int(b), int(a), weight=float(ln))
    gw = GroundPoints.from_geodetic(np.array([GW_LAT]), np.array([GW_LON]), name=["gw"])
    gl = ground_links(gw.itrf_km, r, ground_up=gw.up, min_elevation_deg=mask_deg)
    for s, ln in zip(gl.sat, gl.length_km):
        g.add_edge(int(s), "gw", weight=float(ln))
    _, el, _ = look_angles(np.array([GW_LAT]), np.array([GW_LON]), 0.0, r[:, None, :])
    return g, r, el[0, :, 0], int(up.sum())


@pytest.fixture(scope="module")
def scene(shell):
    """An instant with a satellite in view of the gateway and one out of view that reaches it
    over lasers."""
    for k in range(120):
        t = T0 + k * 60 * NS_PER_S
        g, r, el, n_up = _graph_at(shell, t)
        seen = np.flatnonzero(el >= 25.0 + 0.5)
        if not seen.size:
            continue
        dist = nx.single_source_dijkstra_path_length(g.reverse(copy=True), "gw", weight="weight")
        far = [s for s in dist if s != "gw" and el[s] < 0.0 and nx.shortest_path_length(g, s, "gw") >= 3]
        if far:
            return t, int(seen[0]), int(far[0]), dist[far[0]], r, n_up
    pytest.fail("no instant with a satellite in view and a laser-connected one out of view")


def test_in_view_satellite_downlinks_at_light_time(shell, gateway, scene) -> None:
    t, seen, _, _, r, n_up = scene
    assert n_up > 72  # in-plane rings and some cross-plane links work
    res = age_of_data(_windows([seen], t), shell, gateway, 25.0, lasers=True)
    slant_km = np.linalg.norm(r[seen] - geodetic_to_itrf(GW_LAT, GW_LON, 0.0))
    assert res.route[0] == "direct-now" and res.gateway[0] == "gw" and res.downlink_sat[0] == seen
    assert res.age_s[0] == pytest.approx(slant_km * 1e3 / C_M_S, rel=1e-9)
    assert 1e-3 < res.age_s[0] < 1e-2
    # Without lasers the same image is 'on the ground' at once (the light time is not modelled).
    old = age_of_data(_windows([seen], t), shell, gateway, 25.0)
    assert old.route[0] == "direct-now" and old.age_s[0] == 0.0


def test_laser_path_matches_networkx_and_beats_waiting(shell, gateway, scene) -> None:
    t, _, far, path_km, _, _ = scene
    res = age_of_data(_windows([far], t), shell, gateway, 25.0, lasers=True)
    expected = path_km * 1e3 / C_M_S
    assert res.route[0] == "laser" and res.gateway[0] == "gw" and res.downlink_sat[0] != far
    assert abs(res.age_s[0] - expected) <= 1e-9 * expected
    assert res.downlink_ns[0] == t + round(expected * NS_PER_S)
    direct = age_of_data(_windows([far], t), shell, gateway, 25.0)
    assert direct.route[0] == "direct-later" and direct.age_s[0] > res.age_s[0] + 60.0


def _reference_direct(windows, c, gateways, mask_deg, step_s=20.0, horizon_s=6 * 3600.0, tol_s=0.01):
    """The direct-contact algorithm as it was before lasers (kept as the oracle of the default)."""
    from leonet.deployment.batch import as_satellites as as_source

    src = as_source(c)
    n = len(windows)
    collect = windows.peak_ns.copy()
    down = np.full(n, -1, dtype=np.int64)
    gw_name = np.full(n, "", dtype=object)
    gw_pos = geodetic_to_itrf(gateways.lat_deg, gateways.lon_deg, gateways.alt_km)
    gw_up = enu_basis(gateways.lat_deg, gateways.lon_deg)[:, 2, :]
    sin_mask = np.sin(np.radians(mask_deg))

    def best(sat_rows, t):
        r = src.at_pairs(sat_rows, t)
        d = r[:, None, :] - gw_pos[None, :, :]
        s = np.einsum("pgk,gk->pg", d, gw_up) / np.linalg.norm(d, axis=-1)
        s = np.where(np.isfinite(s), s, -2.0)
        g = np.argmax(s, axis=1)
        return s[np.arange(len(g)), g] - sin_mask, g

    m_now, g_now = best(windows.sat_index, collect)
    now = m_now >= 0.0
    down[now], gw_name[now] = collect[now], gateways.name[g_now[now]]
    todo = np.flatnonzero(~now)
    step_ns = int(round(step_s * NS_PER_S))
    limit = windows.analysis_end_ns + int(horizon_s * NS_PER_S)
    tol_ns = max(1, int(round(tol_s * NS_PER_S)))
    k0 = 0
    while todo.size:
        ks = np.arange(k0 + 1, k0 + 46, dtype=np.int64)
        t = np.minimum(collect[todo][:, None] + ks[None, :] * step_ns, limit)
        sat = np.broadcast_to(windows.sat_index[todo][:, None], t.shape)
        hit = best(sat.ravel(), t.ravel())[0].reshape(t.shape) >= 0.0
        has = hit.any(axis=1)
        j = np.argmax(hit, axis=1)
        rows, jj = todo[has], j[has]
        hi = t[has, jj]
        lo = np.where(jj > 0, t[has, np.maximum(jj - 1, 0)], collect[rows] if k0 == 0 else collect[rows] + k0 * step_ns)
        t_c = bisect_crossing(lambda sr, tt: best(sr, tt)[0], 0.0, windows.sat_index[rows], lo, hi, np.zeros(len(rows), bool), tol_ns)
        _, g = best(windows.sat_index[rows], hi)
        down[rows], gw_name[rows] = t_c, gateways.name[g]
        todo = todo[~has & (t[:, -1] < limit)]
        k0 += 45
    return down, np.where(down >= 0, (down - collect) / NS_PER_S, np.nan), gw_name


def test_without_lasers_the_direct_model_is_unchanged(shell, gateway, scene) -> None:
    t = scene[0]
    # Every satellite collecting at two instants, a short horizon so that some find no contact.
    w = AccessWindows(np.zeros(144, np.int64), np.tile(np.arange(72), 2), *(np.repeat([t, t + 777 * NS_PER_S], 72),) * 3,
                      np.zeros(144), np.zeros(144, bool), np.zeros(144, bool), int(T0), int(t + 600 * NS_PER_S), Sensor())
    res = age_of_data(w, shell, gateway, 25.0, horizon_s=0.0)
    down, age, name = _reference_direct(w, shell, gateway, 25.0, horizon_s=0.0)
    np.testing.assert_array_equal(res.downlink_ns, down)
    np.testing.assert_array_equal(res.age_s, age)
    assert list(res.gateway) == list(name)
    routes = res.route_counts()
    assert routes["laser"] == 0 and routes["direct-now"] > 0 and routes["direct-later"] > 0 and routes["none"] > 0
    assert np.all((res.route == "direct-now") == (res.age_s == 0.0))
    assert np.all((res.route == "none") == np.isnan(res.age_s))


def test_lasers_out_of_range_fall_back_to_direct_contact(shell, gateway, scene) -> None:
    t, seen, far, _, r, _ = scene
    sats = np.arange(72)
    off = age_of_data(_windows(sats, t), shell, gateway, 25.0, lasers=True, max_laser_range_km=1.0)
    direct = age_of_data(_windows(sats, t), shell, gateway, 25.0)
    assert not np.any(off.route == "laser")
    later = direct.route != "direct-now"
    assert later[far] and not later[seen]
    np.testing.assert_array_equal(off.downlink_ns[later], direct.downlink_ns[later])
    np.testing.assert_array_equal(off.age_s[later], direct.age_s[later])
    assert list(off.route[later]) == list(direct.route[later])
    slant = np.linalg.norm(r[~later] - geodetic_to_itrf(GW_LAT, GW_LON, 0.0), axis=1)
    np.testing.assert_allclose(off.age_s[~later], slant * 1e3 / C_M_S, rtol=1e-9)
    on = age_of_data(_windows(sats, t), shell, gateway, 25.0, lasers=True)
    assert on.route_counts()["laser"] > 0 and np.all(on.age_s[on.route == "laser"] < 0.2)  # light time, never a wait


def test_age_of_data_is_zero_in_view_of_a_gateway(starlink) -> None:
    """An image taken right over a gateway is on the ground at once; others wait for the next
    contact, which is then really in view (elevation at the gateway >= mask)."""
    from leonet.imaging.access import find_access
    from leonet.imaging.targets import make_targets
    from leonet.orbits.propagate import propagate_pairs

    t0 = parse_time("2024-10-23T00:00:00Z")  # the snapshot's day
    gws = parse_gateways_text("name,lat_deg,lon_deg,kind\nhere,25.0,121.5,gateway\nfar,-33.9,18.4,gateway\n", fmt=None)
    tg = make_targets(points=[("taipei", 25.03, 121.56)])
    acc = find_access(starlink, tg, Sensor(40.0), t0, t0 + 6 * 3600 * NS_PER_S, 20.0)
    age = age_of_data(acc, starlink, gws, 25.0)
    assert len(acc) > 3 and np.all(age.age_s == 0.0) and set(age.gateway) == {"here"}
    far = age_of_data(acc, starlink, gws.select(np.array([False, True])), 25.0, horizon_s=86_400.0)
    ok = far.downlink_ns >= 0
    assert ok.any() and np.all(far.age_s[ok] > 0)
    r, _ = propagate_pairs(starlink.satrecs, acc.sat_index[ok], far.downlink_ns[ok] + NS_PER_S // 10)
    _, el, _ = look_angles(np.array([-33.9]), np.array([18.4]), 0.0, r[None, :, :])
    assert el.min() >= 25.0 - 0.01
