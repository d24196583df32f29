"""Access windows: against Skyfield find_events, the synodic revisit of an equatorial orbit, the
off-nadir cone and the Sun binding at window edges, moving targets clipped to their tracks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skyfield_ref import skyfield_loader, utc_datetime

from leonet.imaging.access import Sensor, find_access
from leonet.imaging.fom import figures
from leonet.imaging.sun import sun_elevation_deg
from leonet.imaging.targets import make_targets, read_target_file
from leonet.orbits.frames import geodetic_to_itrf
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import NS_PER_S, parse_time

T0 = parse_time("2024-10-23T00:00:00Z")


def test_elevation_only_access_matches_skyfield_find_events(starlink) -> None:
    """With only an elevation mask, window starts and ends agree with Skyfield's find_events
    rise/set within 1 s, and the windows are the same ones."""
    sf, _, ts = skyfield_loader()
    lat, lon, mask = 25.03, 121.56, 10.0
    t1 = T0 + 6 * 3600 * NS_PER_S
    acc = find_access(starlink, make_targets(points=[("taipei", lat, lon)]), Sensor(min_elevation_deg=mask), T0, t1, 20.0)
    topos = sf.wgs84.latlon(lat, lon)
    worst, worst_alt, n_ref = 0.0, 0.0, 0
    for i, satrec in enumerate(starlink.satrecs):
        sat = sf.EarthSatellite.from_satrec(satrec, ts)
        t, ev = sat.find_events(topos, ts.from_datetime(utc_datetime(T0)), ts.from_datetime(utc_datetime(t1)), altitude_degrees=mask)
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
            alt = (sat - topos).at(ts.from_datetimes([utc_datetime(int(x)) for x in edges])).altaz()[0].degrees
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


def test_off_nadir_and_sun_constraints_bind_at_window_edges(starlink) -> None:
    """Where a window edge is set by the cone (or the Sun), the independent geometry there is at
    the limit: 30 deg off nadir (or the Sun at 10 deg)."""
    from leonet.orbits.propagate import propagate_pairs

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
