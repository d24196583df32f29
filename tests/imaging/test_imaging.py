"""Imaging: Sun position vs Skyfield/JPL, access windows vs Skyfield find_events, the synodic
revisit of an equatorial orbit, figures of merit, sensor constraints, tracks, age of data, CLI."""

from __future__ import annotations

import json
import math
import warnings
from datetime import UTC, datetime

import numpy as np
import pytest
from click.testing import CliRunner

from leonet.imaging.access import AccessWindows, Sensor, find_access
from leonet.imaging.fom import figures
from leonet.imaging.sun import sun_elevation_deg
from leonet.imaging.targets import make_targets, read_target_file
from leonet.orbits.frames import geodetic_to_itrf
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import NS_PER_S, parse_time

T0 = parse_time("2024-10-23T00:00:00Z")
SNAP = "tle/starlink_20241023_celestrak_gp.tle"


def _skyfield_loader():
    sf = pytest.importorskip("skyfield.api")
    sd = pytest.importorskip("skyfield_data")
    with warnings.catch_warnings():  # its bundled finals2000A.all is old; only DE421 is read here
        warnings.simplefilter("ignore", RuntimeWarning)
        path = sd.get_skyfield_data_path()
    loader = sf.Loader(path, verbose=False)
    return sf, loader, loader.timescale(builtin=True)


@pytest.fixture(scope="module")
def starlink(tle_snapshot):
    c = tle_snapshot(SNAP).constellation
    return c.take(np.linspace(0, len(c) - 1, 40).astype(np.int64))


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // NS_PER_S, UTC).replace(microsecond=(ns % NS_PER_S) // 1000)


def test_sun_elevation_matches_skyfield_de421() -> None:
    """Almanac formula vs Skyfield's apparent Sun from JPL DE421 (skyfield-data, no download):
    within 0.05 deg over 2019-2030 at random places (measured: < 0.01 deg)."""
    sf, loader, ts = _skyfield_loader()
    eph = loader("de421.bsp")
    rng = np.random.default_rng(7)
    t = parse_time("2019-01-01") + rng.integers(0, 11 * 365 * 86_400, 60) * NS_PER_S
    lat, lon = rng.uniform(-85, 85, 60), rng.uniform(-180, 180, 60)
    mine = sun_elevation_deg(lat, lon, t)
    times = ts.from_datetimes([_utc(int(x)) for x in t])
    ref = np.array([(eph["earth"] + sf.wgs84.latlon(la, lo)).at(times[i]).observe(eph["sun"]).apparent().altaz()[0].degrees for i, (la, lo) in enumerate(zip(lat, lon))])
    err = np.abs(mine - ref).max()
    print(f"\nSun elevation vs Skyfield/DE421: max {err:.4f} deg")
    assert err < 0.05
    assert sun_elevation_deg(0.0, 0.0, parse_time("2024-03-20T12:07:00Z")) > 88.0  # equinox noon at 0,0


def test_elevation_only_access_matches_skyfield_find_events(starlink) -> None:
    """With only an elevation mask, window starts and ends agree with Skyfield's find_events
    rise/set within 1 s, and the windows are the same ones."""
    sf, _, ts = _skyfield_loader()
    lat, lon, mask = 25.03, 121.56, 10.0
    t1 = T0 + 6 * 3600 * NS_PER_S
    acc = find_access(starlink, make_targets(points=[("taipei", lat, lon)]), Sensor(min_elevation_deg=mask), T0, t1, 20.0)
    topos = sf.wgs84.latlon(lat, lon)
    worst, worst_alt, n_ref = 0.0, 0.0, 0
    for i, satrec in enumerate(starlink.satrecs):
        sat = sf.EarthSatellite.from_satrec(satrec, ts)
        t, ev = sat.find_events(topos, ts.from_datetime(_utc(T0)), ts.from_datetime(_utc(t1)), altitude_degrees=mask)
        ns = np.array([round(d.timestamp() * 1e6) * 1000 for d in t.utc_datetime()], dtype=np.int64)
        rises, sets = ns[ev == 0], ns[ev == 2]
        mine = acc.sat_index == i
        starts = acc.start_ns[mine & ~acc.start_at_edge]
        ends = acc.end_ns[mine & ~acc.end_at_edge]
        assert len(starts) == len(rises) and len(ends) == len(sets), f"satellite {starlink.norad_id[i]}"
        if len(rises):
            worst = max(worst, np.abs(starts - rises).max() / NS_PER_S)
        if len(sets):
            worst = max(worst, np.abs(ends - sets).max() / NS_PER_S)
        n_ref += len(rises)
        edges = np.r_[starts, ends]
        if len(edges):  # Skyfield's own altitude at leonet's edges: the mask
            alt = (sat - topos).at(ts.from_datetimes([_utc(int(x)) for x in edges])).altaz()[0].degrees
            worst_alt = max(worst_alt, float(np.abs(alt - mask).max()))
    print(f"\n{len(acc)} windows, {n_ref} Skyfield rises; worst edge difference {worst:.4f} s; Skyfield altitude at edges within {worst_alt:.4f} deg of the mask")
    assert n_ref > 20 and worst <= 1.0 and worst_alt < 0.02


def test_equatorial_orbit_revisits_at_synodic_period() -> None:
    """One circular equatorial satellite over an equatorial target: coverage starts repeat at
    the synodic period 2 pi / (u_dot - omega_earth), u_dot from SGP4's secular rates."""
    c = walker_constellation([WalkerShell("eq", 1, 1, 550.0, 0.0, phasing=0)], epoch="2025-01-01T00:00:00Z")
    s = c.satrecs[0]
    u_dot = (s.mdot + s.argpdot + s.nodedot) / 60.0  # rad/s
    omega = 2.0 * math.pi * 1.00273790935 / 86_400.0  # GMST-1982 rate (the ITRF's rotation)
    synodic_s = 2.0 * math.pi / (u_dot - omega)
    tg = make_targets(points=[("eq", 0.0, 30.0)])
    acc = find_access(c, tg, Sensor(min_elevation_deg=20.0), "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", 20.0)
    d = np.diff(acc.start_ns[~acc.start_at_edge]) / NS_PER_S
    fom = figures(acc, tg)
    print(f"\nsynodic {synodic_s:.3f} s; start intervals {d.min():.3f}..{d.max():.3f} s; revisit mean {fom.revisit_interval_mean_s[0]:.3f} s")
    assert len(d) >= 10
    assert np.abs(d - synodic_s).max() < 1.0
    assert abs(fom.revisit_interval_mean_s[0] - synodic_s) < 1.0
    inner_gaps = (acc.start_ns[1:] - acc.end_ns[:-1]) / NS_PER_S
    assert abs(fom.gap_max_s[0] - max(inner_gaps.max(), fom.gap_max_s[0])) < 1e-6
    assert np.abs(inner_gaps + acc.duration_s[:-1] - synodic_s).max() < 1.0


def _windows(target, start, end, t0=0, t1=1000) -> AccessWindows:
    n = len(target)
    z = np.zeros(n, dtype=bool)
    return AccessWindows(np.asarray(target), np.zeros(n, np.int64), np.asarray(start) * NS_PER_S, np.asarray(end) * NS_PER_S,
                         np.asarray(start) * NS_PER_S, np.zeros(n), z, z, t0 * NS_PER_S, t1 * NS_PER_S, Sensor())


def test_figures_of_merit_against_brute_force() -> None:
    """Union, gaps, response time (mean and percentiles) and time-average gap against a 0.1 s
    sampling of the same windows."""
    tg = make_targets(points=[("a", 0.0, 0.0), ("b", 1.0, 1.0), ("c", 2.0, 2.0)])
    # a: overlapping windows merge; b: none; c: one window touching the start.
    w = _windows([0, 0, 0, 0, 2], [100, 150, 400, 900, 0], [200, 250, 450, 950, 300])
    f = figures(w, tg)
    assert list(f.access_count) == [4, 0, 1] and list(f.coverage_intervals) == [3, 0, 1]
    assert f.coverage_time_s[0] == pytest.approx(150 + 50 + 50)
    assert f.gap_max_s[0] == pytest.approx(450) and f.gap_count[0] == 4  # 0-100, 250-400, 450-900, 950-1000
    assert f.tracking_continuity[1] == 0 and f.gap_max_s[1] == 1000
    assert f.revisit_interval_mean_s[0] == pytest.approx((300 + 500) / 2)
    t = np.arange(0, 1000, 0.1) + 0.05
    for k, (starts, ends) in enumerate([([100, 400, 900], [250, 450, 950]), ([], []), ([0], [300])]):
        covered = np.zeros(t.size, bool)
        nxt = np.full(t.size, 1000.0)
        for s, e in zip(starts, ends):
            covered |= (t >= s) & (t < e)
        for s in sorted(starts, reverse=True):
            nxt = np.where(t < s, s, nxt)
        resp = np.where(covered, 0.0, nxt - t)
        assert f.response_time_mean_s[k] == pytest.approx(resp.mean(), abs=0.1)
        for j, p in enumerate(f.percentiles):
            assert f.response_time_percentile_s[k, j] == pytest.approx(np.percentile(resp, p), abs=0.2), (k, p)
        assert f.time_average_gap_s[k] == pytest.approx(2 * resp.mean(), abs=0.2)


def test_off_nadir_and_sun_constraints_bind_at_window_edges(starlink) -> None:
    """Where a window edge is set by the cone (or the Sun), the independent geometry there is at
    the limit: 30 deg off nadir (or the Sun at 10 deg)."""
    from leonet.coverage.passes import propagate_pairs

    tg = make_targets(points=[("p", 10.0, 20.0)])
    t1 = T0 + 12 * 3600 * NS_PER_S
    acc = find_access(starlink, tg, Sensor(0.0, 30.0, None), T0, t1, 20.0)
    assert len(acc) > 5
    edges = np.r_[acc.start_ns[~acc.start_at_edge], acc.end_ns[~acc.end_at_edge]]
    sats = np.r_[acc.sat_index[~acc.start_at_edge], acc.sat_index[~acc.end_at_edge]]
    r, _ = propagate_pairs(starlink.satrecs, sats, edges)
    p = geodetic_to_itrf(10.0, 20.0, 0.0)
    los = p - r
    off = np.degrees(np.arccos(np.sum(-r * los, axis=1) / (np.linalg.norm(r, axis=1) * np.linalg.norm(los, axis=1))))
    assert np.abs(off - 30.0).max() < 0.02
    day = find_access(starlink, tg, Sensor(0.0, None, 10.0), T0, t1, 20.0)
    sun_at = sun_elevation_deg(10.0, 20.0, np.r_[day.start_ns, day.end_ns])
    assert sun_at.min() >= 10.0 - 0.01  # never in darkness
    assert np.any(np.abs(sun_at - 10.0) < 0.01)  # and the Sun sets some edges


def test_moving_target_is_clipped_to_its_track(starlink, tmp_path) -> None:
    """A stationary 'ship' sampled over 3 h has the point target's windows, cut to its span; a
    moving one is read from a target file; figures use the track's span as the window."""
    t_a, t_b = T0 + 3600 * NS_PER_S, T0 + 4 * 3600 * NS_PER_S
    tg = make_targets(points=[("pt", 20.0, 120.0)], tracks=[("ship", np.array([t_a, t_b]), np.array([20.0, 20.0]), np.array([120.0, 120.0]))])
    acc = find_access(starlink, tg, Sensor(10.0), T0, T0 + 6 * 3600 * NS_PER_S, 20.0)
    pt, sh = acc.target == 0, acc.target == 1
    clip_s = np.clip(acc.start_ns[pt], t_a, t_b)
    clip_e = np.clip(acc.end_ns[pt], t_a, t_b)
    keep = clip_e > clip_s
    np.testing.assert_allclose(np.sort(acc.start_ns[sh]), np.sort(clip_s[keep]), atol=0.02 * NS_PER_S)
    np.testing.assert_allclose(np.sort(acc.end_ns[sh]), np.sort(clip_e[keep]), atol=0.02 * NS_PER_S)
    assert figures(acc, tg).window_s[1] == pytest.approx(3 * 3600)
    f = tmp_path / "t.csv"
    f.write_text("name,lat_deg,lon_deg,time_utc\nship,20,120,2024-10-23T01:00:00Z\nship,21,121,2024-10-23T02:00:00Z\nport,22,114,\n")
    targets = read_target_file(f)
    assert list(targets.kind) == ["point", "track"]
    lat, lon, _, valid = targets.geodetic(np.array([1, 1, 1]), np.array([t_a - 1, t_a + 1800 * NS_PER_S, t_b]))
    assert list(valid) == [False, True, False] and lat[1] == pytest.approx(20.5) and lon[1] == pytest.approx(120.5)


def test_age_of_data_is_zero_in_view_of_a_gateway(starlink) -> None:
    """An image taken right over a gateway is on the ground at once; others wait for the next
    contact, which is then really in view (elevation at the gateway >= mask)."""
    from leonet.coverage.passes import propagate_pairs
    from leonet.ground.gateways import parse_gateways_text
    from leonet.imaging.downlink import age_of_data
    from leonet.orbits.frames import look_angles

    gws = parse_gateways_text("name,lat_deg,lon_deg,kind\nhere,25.0,121.5,gateway\nfar,-33.9,18.4,gateway\n", fmt=None)
    tg = make_targets(points=[("taipei", 25.03, 121.56)])
    acc = find_access(starlink, tg, Sensor(40.0), T0, T0 + 6 * 3600 * NS_PER_S, 20.0)
    age = age_of_data(acc, starlink, gws, 25.0)
    assert len(acc) > 3 and np.all(age.age_s == 0.0) and set(age.gateway) == {"here"}
    far = age_of_data(acc, starlink, gws.select(np.array([False, True])), 25.0, horizon_s=86_400.0)
    ok = far.downlink_ns >= 0
    assert ok.any() and np.all(far.age_s[ok] > 0)
    r, _ = propagate_pairs(starlink.satrecs, acc.sat_index[ok], far.downlink_ns[ok] + NS_PER_S // 10)
    _, el, _ = look_angles(np.array([-33.9]), np.array([18.4]), 0.0, r[None, :, :])
    assert el.min() >= 25.0 - 0.01


def test_track_cli(tle_snapshot, tmp_path) -> None:
    from leonet.cli.main import cli

    path = tle_snapshot(SNAP).path
    out, js = tmp_path / "acc.csv", tmp_path / "s.json"
    res = CliRunner().invoke(cli, ["track", str(path), "--target", "25.03,121.56", "--max-off-nadir-deg", "45", "--min-elevation-deg", "15",
                                   "--sun-min-elevation-deg", "0", "--start", "2024-10-23T02:00:00Z", "--duration", "30min", "--step", "30s",
                                   "--format", "csv", "-o", str(out), "--summary-json", str(js)])
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    assert lines[0] == "target,norad_id,start_utc,end_utc,max_elevation_deg" and len(lines) > 10
    summary = json.loads(js.read_text())
    row = summary["targets"][0]
    assert row["access_count"] == len(lines) - 1 and 0 < row["tracking_continuity"] <= 1
    assert "response_time_p90_s" in row and "age_of_data_mean_s" in row and "revisit" in res.output
    bad = CliRunner().invoke(cli, ["track", str(path), "--start", "2024-10-23", "--duration", "1h", "--step", "30s", "--format", "csv", "-o", str(out)])
    assert bad.exit_code == 2 and "--target" in bad.output
