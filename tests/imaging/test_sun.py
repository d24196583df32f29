"""The Sun (truncated VSOP87, nutation, aberration, topocentric parallax) against Skyfield with
JPL DE421: elevation within 0.001 deg, Sun-limited access edges within 0.1 s."""

from __future__ import annotations

import numpy as np
import pytest
from skyfield_ref import skyfield_loader, utc_datetime

from leonet.imaging.access import Sensor, find_access
from leonet.imaging.sun import sun_elevation_deg
from leonet.imaging.targets import make_targets
from leonet.sources.walker import preset_constellation
from leonet.times import NS_PER_S, parse_time

ELEVATION_TOL_DEG = 0.001
EDGE_TOL_S = 0.1


@pytest.fixture(scope="module")
def sky():
    sf, loader, ts = skyfield_loader()
    eph = loader("de421.bsp")
    earth, sun = eph["earth"], eph["sun"]

    def elevation(lat: float, lon: float, t_ns: np.ndarray) -> np.ndarray:
        """Skyfield's apparent topocentric Sun elevation (no refraction), deg."""
        obs = earth + sf.wgs84.latlon(lat, lon)
        times = ts.from_datetimes([utc_datetime(int(x)) for x in np.atleast_1d(t_ns)])
        return obs.at(times).observe(sun).apparent().altaz()[0].degrees

    return elevation


def _bisect(f, lo: np.ndarray, hi: np.ndarray, level: float, iters: int = 40) -> np.ndarray:
    """Crossing of ``f(t) = level`` between ``lo`` and ``hi`` (int ns arrays, f - level changes sign)."""
    f_lo = f(lo) - level
    for _ in range(iters):
        mid = (lo + hi) // 2
        f_mid = f(mid) - level
        same = np.sign(f_mid) == np.sign(f_lo)
        lo, hi, f_lo = np.where(same, mid, lo), np.where(same, hi, mid), np.where(same, f_mid, f_lo)
    return (lo + hi) // 2


def test_elevation_matches_de421_within_a_thousandth_of_a_degree(sky) -> None:
    # 2000 to mid-2026, where leonet's UT1-UTC table and Skyfield's agree (measured: max 0.0002 deg).
    rng = np.random.default_rng(13)
    n = 200
    t = parse_time("2000-01-01") + rng.integers(0, int(26.4 * 365.25 * 86400), n) * NS_PER_S
    lat, lon = rng.uniform(-85, 85, n), rng.uniform(-180, 180, n)
    mine = sun_elevation_deg(lat, lon, t)
    ref = np.array([sky(lat[k], lon[k], t[k : k + 1])[0] for k in range(n)])
    err = np.abs(mine - ref)
    print(f"\nSun elevation vs Skyfield/DE421 ({n} dates and places): max {err.max():.5f} deg, median {np.median(err):.5f} deg")
    assert err.max() < ELEVATION_TOL_DEG
    assert sun_elevation_deg(0.0, 0.0, parse_time("2024-03-20T12:07:00Z")) > 88.0  # equinox noon at 0,0


def test_sun_crossings_of_ten_degrees_within_a_tenth_of_a_second(sky) -> None:
    # Where the Sun crosses 10 deg (the optical threshold), at several places and seasons.
    places = [(0.0, 0.0), (25.03, 121.56), (-33.9, 18.4), (60.2, 24.9), (-54.8, -68.3), (40.7, -74.0)]
    days = ["2021-03-20", "2023-06-21", "2025-12-21"]
    diffs = []
    for lat, lon in places:
        for day in days:
            t0 = parse_time(day + "T00:00:00Z")
            grid = t0 + np.arange(0, 86400 + 600, 600, dtype=np.int64) * NS_PER_S
            el = sun_elevation_deg(lat, lon, grid) - 10.0
            k = np.flatnonzero(np.sign(el[:-1]) != np.sign(el[1:]))
            if not k.size:
                continue
            lo, hi = grid[k], grid[k + 1]
            mine = _bisect(lambda t, la=lat, lo_=lon: sun_elevation_deg(la, lo_, t), lo.copy(), hi.copy(), 10.0)
            theirs = _bisect(lambda t, la=lat, lo_=lon: sky(la, lo_, t), lo.copy(), hi.copy(), 10.0, iters=32)
            diffs.extend(((mine - theirs) / NS_PER_S).tolist())
    diffs = np.abs(np.array(diffs))
    print(f"\nSun at 10 deg vs Skyfield/DE421: {diffs.size} crossings, max {diffs.max():.3f} s")
    assert diffs.size >= 25
    assert diffs.max() < EDGE_TOL_S


def test_sun_limited_access_edges_match_skyfield(sky) -> None:
    # Optical access to a target: window edges set by the Sun (at 10 deg) sit where Skyfield's
    # Sun crosses 10 deg, within 0.1 s.
    lat, lon = 25.03, 121.56
    c = preset_constellation("starlink-gen1", "2025-03-01T00:00:00Z")
    c = c.take(np.arange(0, len(c), 4))
    targets = make_targets(points=[("taipei", lat, lon)])
    t0 = parse_time("2025-03-01T00:00:00Z")
    grid = t0 + np.arange(0, 86400, 600, dtype=np.int64) * NS_PER_S
    el = sun_elevation_deg(lat, lon, grid) - 10.0
    crossings = grid[np.flatnonzero(np.sign(el[:-1]) != np.sign(el[1:]))]  # morning and evening
    edges = []
    for tc in crossings:  # an hour either side of each crossing is enough and keeps the search short
        acc = find_access(c, targets, Sensor(min_elevation_deg=10.0, sun_min_elevation_deg=10.0), tc - 3600 * NS_PER_S, tc + 3600 * NS_PER_S, 20.0)
        edges.append(np.concatenate([acc.start_ns[~acc.start_at_edge], acc.end_ns[~acc.end_at_edge]]))
    edges = np.concatenate(edges)
    at_sun = np.abs(sun_elevation_deg(lat, lon, edges) - 10.0) < 1e-4
    sun_edges = np.unique(edges[at_sun])
    assert sun_edges.size >= 2  # morning and evening
    half = 5 * NS_PER_S
    theirs = _bisect(lambda t: sky(lat, lon, t), sun_edges - half, sun_edges + half, 10.0, iters=32)
    diff = np.abs(sun_edges - theirs) / NS_PER_S
    print(f"\nSun-limited access edges vs Skyfield/DE421: {sun_edges.size} edges, max {diff.max():.3f} s")
    assert diff.max() < EDGE_TOL_S
