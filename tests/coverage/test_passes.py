"""Passes over ground points: agreement with Skyfield's find_events, edge cases, the CLI."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from refdata import data_dir
from sgp4.api import WGS72, Satrec

from leonet.cli.main import cli
from leonet.coverage.passes import (
    MAX_COARSE_STEP_S,
    Passes,
    default_coarse_step_s,
    find_passes,
)
from leonet.errors import InputError
from leonet.orbits.eop import builtin_eop
from leonet.orbits.frames import itrf_to_geodetic, look_angles
from leonet.orbits.propagate import propagate, propagate_pairs, top_angular_rate_rad_s
from leonet.sources.load import load_file
from leonet.times import NS_PER_S, format_time, ns_to_jd2, parse_time

DATA = data_dir()
SNAP = DATA / "tle" / "starlink_20241023_celestrak_gp.tle"
needs_data = pytest.mark.skipif(not SNAP.is_file(), reason=f"reference data not found in {DATA}")

T0 = parse_time("2024-10-23T00:00:00Z")
HOUR_NS = 3600 * NS_PER_S
SITES = {"seattle": (47.6062, -122.3321, 0.056), "sydney": (-33.8688, 151.2093, 0.0)}


# ---- helpers ------------------------------------------------------------------------------
def circular_sats(n: int, alt_km: float = 550.0, inc_deg: float = 53.0, epoch_ns: int = T0, bstar: float = 2e-5) -> list[Satrec]:
    """n near-circular SGP4 satellites spread in RAAN and mean anomaly (no data files needed)."""
    jd, fr = ns_to_jd2(epoch_ns)
    mu, re = 398600.8, 6378.135
    no = np.sqrt(mu / (re + alt_km) ** 3) * 60.0  # rad/min
    out = []
    for k in range(n):
        s = Satrec()
        s.sgp4init(WGS72, "i", 90000 + k, float(jd + fr - 2433281.5), bstar, 0.0, 0.0, 1e-4, 0.0,
                   np.radians(inc_deg), np.radians((k * 137.5) % 360), no, np.radians((k * 47.0) % 360))
        out.append(s)
    return out


def dense_elevation(sats: list[Satrec], site: tuple[float, float, float], t_ns: np.ndarray) -> np.ndarray:
    """Elevation (sats, times) from leonet's propagate + look_angles (NaN where SGP4 fails)."""
    st = propagate(sats, t_ns, velocities=False, workers=1)
    return look_angles(np.array([site[0]]), np.array([site[1]]), site[2], st.r_km)[1][0]


def assert_same_passes(a: Passes, b: Passes, tol_s: float) -> None:
    assert len(a) == len(b)
    np.testing.assert_array_equal(a.sat_index, b.sat_index)
    for name in ("rise_ns", "culminate_ns", "set_ns"):
        diff = np.abs(getattr(a, name) - getattr(b, name)) / NS_PER_S
        assert diff.max(initial=0) <= tol_s, (name, diff.max())
    np.testing.assert_allclose(a.max_elevation_deg, b.max_elevation_deg, atol=1e-5)
    np.testing.assert_array_equal(a.rise_at_start, b.rise_at_start)
    np.testing.assert_array_equal(a.set_at_end, b.set_at_end)


@pytest.fixture(scope="module")
def starlink200():
    if not SNAP.is_file():
        pytest.skip(f"reference data not found in {DATA}")
    c = load_file(SNAP)
    return c.take(np.linspace(0, len(c) - 1, 200).astype(np.int64))


# ---- agreement with Skyfield --------------------------------------------------------------
def skyfield_passes(sat, topos, t0, t1, mask: float) -> list[dict]:
    """find_events split into passes: rise/set None where the window cuts the pass."""
    t, events = sat.find_events(topos, t0, t1, altitude_degrees=mask)
    if not len(t):
        return []
    ns = [int(round(d.timestamp() * 1e6)) * 1000 for d in t.utc_datetime()]
    alt = (sat - topos).at(t).altaz()[0].degrees
    passes: list[dict] = []
    cur = None
    for k, ev in enumerate(events):
        if cur is None or ev == 0:
            cur = {"rise": None, "culminations": [], "set": None}
            passes.append(cur)
        if ev == 0:
            cur["rise"] = ns[k]
        elif ev == 1:
            cur["culminations"].append((ns[k], float(alt[k])))
        else:
            cur["set"] = ns[k]
            cur = None
    return passes


@pytest.mark.parametrize("site_name", sorted(SITES))
@pytest.mark.parametrize("mask", [10.0, 25.0])
def test_matches_skyfield_find_events(starlink200, site_name: str, mask: float) -> None:
    """Same passes as Skyfield's EarthSatellite.find_events, events within 1 s, peaks within
    0.01 deg; and Skyfield's own altitude at leonet's events is the mask / leonet's peak."""
    sf = pytest.importorskip("skyfield.api")
    ts = sf.load.timescale()
    lat, lon, alt_km = SITES[site_name]
    topos = sf.wgs84.latlon(lat, lon, elevation_m=alt_km * 1000.0)
    t1_ns = T0 + 6 * HOUR_NS
    sf_t0, sf_t1 = ts.from_datetime(datetime(2024, 10, 23, tzinfo=UTC)), ts.from_datetime(datetime(2024, 10, 23, 6, tzinfo=UTC))
    found = find_passes(starlink200, lat, lon, alt_km, T0, t1_ns, mask)
    assert len(found) > 50

    def sf_time(t_ns: np.ndarray):
        return ts.utc(2024, 10, 23, 0, 0, (np.asarray(t_ns) - T0) / NS_PER_S)

    worst = {"rise": 0.0, "culminate": 0.0, "set": 0.0, "elevation": 0.0, "alt_at_crossing": 0.0, "alt_at_peak": 0.0}
    n_sf = 0
    for i, satrec in enumerate(starlink200.satrecs):
        sat = sf.EarthSatellite.from_satrec(satrec, ts)
        ref = skyfield_passes(sat, topos, sf_t0, sf_t1, mask)
        mine = found.for_satellite(i)
        n_sf += len(ref)
        assert len(ref) == len(mine), f"satellite {starlink200.norad_id[i]}: Skyfield {len(ref)} passes, leonet {len(mine)}"
        for j, p in enumerate(ref):
            assert (p["rise"] is None) == bool(mine.rise_at_start[j])
            assert (p["set"] is None) == bool(mine.set_at_end[j])
            if p["rise"] is not None:
                worst["rise"] = max(worst["rise"], abs(p["rise"] - mine.rise_ns[j]) / NS_PER_S)
            if p["set"] is not None:
                worst["set"] = max(worst["set"], abs(p["set"] - mine.set_ns[j]) / NS_PER_S)
            assert len(p["culminations"]) <= 1
            if p["culminations"]:
                t_c, el_c = p["culminations"][0]
                worst["culminate"] = max(worst["culminate"], abs(t_c - mine.culminate_ns[j]) / NS_PER_S)
                worst["elevation"] = max(worst["elevation"], abs(el_c - mine.max_elevation_deg[j]))
            else:  # the window cut the pass before or after its peak: leonet's peak is an edge
                assert mine.culminate_ns[j] in (found.start_ns, found.end_ns)
        # Skyfield's altitude at leonet's events (frame agreement, independent of search steps).
        crossings = np.concatenate([mine.rise_ns[~mine.rise_at_start], mine.set_ns[~mine.set_at_end]])
        if len(crossings):
            alt_deg = (sat - topos).at(sf_time(crossings)).altaz()[0].degrees
            worst["alt_at_crossing"] = max(worst["alt_at_crossing"], float(np.max(np.abs(alt_deg - mask))))
        if len(mine):
            alt_deg = (sat - topos).at(sf_time(mine.culminate_ns)).altaz()[0].degrees
            worst["alt_at_peak"] = max(worst["alt_at_peak"], float(np.max(np.abs(alt_deg - mine.max_elevation_deg))))
    assert n_sf == len(found)
    print(f"\n{site_name} mask {mask}: {len(found)} passes; worst differences {worst}")
    assert worst["rise"] <= 1.0 and worst["culminate"] <= 1.0 and worst["set"] <= 1.0
    assert worst["elevation"] <= 0.01
    # 0.01 s tolerance at <= 1 deg/s, and the same SGP4 / GMST-1982 / UT1 frame.
    assert worst["alt_at_crossing"] <= 0.01
    assert worst["alt_at_peak"] <= 1e-6


def test_ut1_agrees_with_skyfield() -> None:
    """leonet's UT1-UTC table is built from Skyfield's builtin one: they must agree."""
    sf = pytest.importorskip("skyfield.api")
    ts = sf.load.timescale()
    for iso in ("2020-03-01T00:00:00Z", "2024-10-23T00:00:00Z", "2024-10-23T17:30:00Z"):
        dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        assert abs(float(ts.from_datetime(dt).dut1) - float(builtin_eop().ut1_minus_utc_s(parse_time(iso)))) < 1e-6


# ---- the method's guarantees, on synthetic satellites (no data needed) ---------------------
def test_independent_of_coarse_step() -> None:
    """From a 5 s to a 120 s coarse step the passes are the same: passes shorter than the step
    are found by refining sampled maxima."""
    sats = circular_sats(80)
    site = SITES["seattle"]
    t1 = T0 + 4 * HOUR_NS
    for mask in (25.0, 70.0):
        ref = find_passes(sats, *site, T0, t1, mask, coarse_step_s=5.0)
        assert len(ref) > (5 if mask > 50 else 40)
        if mask > 50:
            assert ref.duration_s.min() < 60.0  # shorter than the longer steps below
        for step in (17.0, 60.0, MAX_COARSE_STEP_S):
            assert_same_passes(find_passes(sats, *site, T0, t1, mask, coarse_step_s=step), ref, 0.011)


def test_chunking_does_not_change_the_result() -> None:
    sats = circular_sats(30)
    args = (*SITES["sydney"], T0, T0 + 3 * HOUR_NS, 25.0, 20.0)
    whole = find_passes(sats, *args)
    assert len(whole) >= 8 and len(np.unique(whole.sat_index)) > 5
    assert_same_passes(find_passes(sats, *args, chunk_states=3 * 541), whole, 0.0)  # 3 satellites a chunk


def test_matches_dense_sampling() -> None:
    """Every run above the mask on a 0.5 s grid is one pass, with events within 0.5 s."""
    sats = circular_sats(60, alt_km=350.0, inc_deg=70.0)
    site = SITES["sydney"]
    t = T0 + np.arange(0, 3 * 3600 * 2 + 1) * (NS_PER_S // 2)
    el = dense_elevation(sats, site, t)
    found = find_passes(sats, *site, int(t[0]), int(t[-1]), 20.0)
    above = np.pad(el >= 20.0, ((0, 0), (1, 1)))
    sat_r, k_r = np.nonzero(~above[:, :-1] & above[:, 1:])  # first sample of each run
    sat_s, k_s = np.nonzero(above[:, :-1] & ~above[:, 1:])  # one past its last sample
    assert len(found) == len(sat_r) > 8
    order = np.lexsort((sat_r, t[k_r]))
    np.testing.assert_array_equal(found.sat_index, sat_r[order])
    assert np.all(np.abs(found.rise_ns - t[k_r[order]]) <= NS_PER_S // 2)
    assert np.all(np.abs(found.set_ns - t[k_s[order] - 1]) <= NS_PER_S // 2)
    peak = np.array([np.max(el[s, a:b]) for s, a, b in zip(sat_r[order], k_r[order], k_s[order])])
    assert np.all(found.max_elevation_deg >= peak - 1e-9)
    assert np.all(found.max_elevation_deg - peak < 0.05)


def test_mask_89_finds_a_pass_shorter_than_the_step() -> None:
    """A zenith pass above 89 deg lasts ~3 s; with a 20 s step it lies between samples."""
    sat = circular_sats(1)[0]
    t_zenith = T0 + 1234 * NS_PER_S + 437_000_000
    r = propagate([sat], np.array([t_zenith]), velocities=False).r_km[0, 0]
    lat, lon, _ = itrf_to_geodetic(r)
    site = (float(lat), float(lon), 0.0)
    t0, t1 = t_zenith - 597_300_000_000, t_zenith + 600 * NS_PER_S  # zenith 9.3 s from a sample
    grid = np.append(np.arange(t0, t1, 20 * NS_PER_S), t1)
    assert dense_elevation([sat], site, grid).max() < 89.0  # the coarse samples never see it
    found = find_passes([sat], *site, t0, t1, 89.0, coarse_step_s=20.0)
    assert len(found) == 1
    assert found.max_elevation_deg[0] > 89.99
    assert abs(found.culminate_ns[0] - t_zenith) < 0.1 * NS_PER_S
    assert 0 < found.duration_s[0] < 20.0
    fine = np.arange(t_zenith - 10 * NS_PER_S, t_zenith + 10 * NS_PER_S, NS_PER_S // 100)
    el = dense_elevation([sat], site, fine)[0]
    up = np.flatnonzero(el >= 89.0)
    assert abs(found.rise_ns[0] - fine[up[0]]) <= NS_PER_S // 100
    assert abs(found.set_ns[0] - fine[up[-1]]) <= NS_PER_S // 100


def test_pass_in_progress_at_start_and_unfinished_at_end() -> None:
    sats = circular_sats(30)
    site = SITES["seattle"]
    full = find_passes(sats, *site, T0, T0 + 3 * HOUR_NS, 25.0)
    p = full.take(np.flatnonzero(~full.rise_at_start & ~full.set_at_end & (full.duration_s > 120))[:1])
    i, rise, cul, set_ = int(p.sat_index[0]), int(p.rise_ns[0]), int(p.culminate_ns[0]), int(p.set_ns[0])
    tol = 0.011 * NS_PER_S

    # Starts before the peak: rise is the window start, the rest as before.
    start = (rise + cul) // 2
    got = find_passes(sats, *site, start, T0 + 3 * HOUR_NS, 25.0).for_satellite(i)
    assert got.rise_at_start[0] and got.rise_ns[0] == start and not got.set_at_end[0]
    assert abs(got.culminate_ns[0] - cul) <= tol and abs(got.set_ns[0] - set_) <= tol
    assert got.max_elevation_deg[0] == pytest.approx(p.max_elevation_deg[0], abs=1e-6)

    # Starts after the peak: the highest point in the window is its start.
    start = (cul + set_) // 2
    got = find_passes(sats, *site, start, T0 + 3 * HOUR_NS, 25.0).for_satellite(i)
    assert got.rise_at_start[0] and got.culminate_ns[0] == start
    el_start = dense_elevation([sats[i]], site, np.array([start]))[0, 0]
    assert got.max_elevation_deg[0] == pytest.approx(el_start, abs=1e-9)
    assert 25.0 < got.max_elevation_deg[0] < p.max_elevation_deg[0]

    # Ends before the set.
    end = (cul + set_) // 2
    got = find_passes(sats, *site, T0, end, 25.0).for_satellite(i)
    assert got.set_at_end[-1] and got.set_ns[-1] == end
    assert abs(got.rise_ns[-1] - rise) <= tol and abs(got.culminate_ns[-1] - cul) <= tol


def test_window_shorter_than_the_coarse_step() -> None:
    sats = circular_sats(30)
    site = SITES["seattle"]
    full = find_passes(sats, *site, T0, T0 + 3 * HOUR_NS, 25.0)
    k = int(np.flatnonzero(~full.rise_at_start)[0])
    i, rise = int(full.sat_index[k]), int(full.rise_ns[k])
    # 8 s around the rise, 30 s step: the grid is just the two ends.
    got = find_passes(sats, *site, rise - 3 * NS_PER_S, rise + 5 * NS_PER_S, 25.0, coarse_step_s=30.0).for_satellite(i)
    assert len(got) == 1 and not got.rise_at_start[0] and got.set_at_end[0]
    assert abs(got.rise_ns[0] - rise) <= 0.011 * NS_PER_S
    assert got.culminate_ns[0] == rise + 5 * NS_PER_S  # still climbing at the window's end
    # 4 s entirely inside the pass.
    cul = int(full.culminate_ns[k])
    got = find_passes(sats, *site, cul - 2 * NS_PER_S, cul + 2 * NS_PER_S, 25.0).for_satellite(i)
    assert len(got) == 1 and got.rise_at_start[0] and got.set_at_end[0]
    assert abs(got.culminate_ns[0] - cul) <= 0.011 * NS_PER_S
    assert got.max_elevation_deg[0] == pytest.approx(full.max_elevation_deg[k], abs=1e-6)


def test_no_satellites() -> None:
    got = find_passes([], 0.0, 0.0, 0.0, T0, T0 + HOUR_NS)
    assert len(got) == 0
    assert got.sat_index.dtype == np.int64 and got.rise_ns.dtype == np.int64
    assert got.max_elevation_deg.dtype == np.float64 and got.rise_at_start.dtype == bool


def test_sgp4_failure_is_never_a_pass() -> None:
    """A satellite decaying (SGP4 error) while overhead: its pass ends where SGP4 fails, and the
    other satellites' passes are unchanged."""
    good = circular_sats(20)
    dying = circular_sats(1, alt_km=200.0, bstar=1.0)[0]
    t = T0 + np.arange(0, 3600) * NS_PER_S
    st = propagate([dying], t, velocities=False)
    fail = int(np.flatnonzero(st.error[0])[0])
    assert 60 < fail < 3600
    t_fail = int(t[fail])
    lat, lon, _ = itrf_to_geodetic(st.r_km[0, fail - 3])  # overhead 3 s before it fails
    site = (float(lat), float(lon), 0.0)
    end = T0 + 2 * HOUR_NS
    alone = find_passes(good, *site, T0, end, 10.0, coarse_step_s=20.0)
    mixed = find_passes(good + [dying], *site, T0, end, 10.0, coarse_step_s=20.0)
    dying_passes = mixed.for_satellite(len(good))
    assert len(dying_passes) >= 1
    assert np.all(dying_passes.set_ns <= t_fail) and np.all(dying_passes.set_ns > t_fail - 2 * NS_PER_S)
    assert np.all(np.isfinite(mixed.max_elevation_deg))
    assert_same_passes(mixed.take(mixed.sat_index < len(good)), alone, 0.0)
    # Failed for the whole window: no pass at all.
    assert len(find_passes([dying], *site, t_fail, t_fail + HOUR_NS, 0.0)) == 0


def test_propagate_pairs_matches_propagate() -> None:
    sats = circular_sats(13)
    rng = np.random.default_rng(1)
    t = T0 + rng.integers(0, 6 * HOUR_NS, 40)
    grid = propagate(sats, t, velocities=False, workers=1).r_km
    si, ti = rng.integers(0, 13, 500), rng.integers(0, 40, 500)
    r, err = propagate_pairs(sats, si, t[ti], block_sats=3)
    np.testing.assert_allclose(r, grid[si, ti], rtol=0, atol=1e-9)
    assert not err.any()


def test_default_step_and_rate_bound() -> None:
    w = top_angular_rate_rad_s(circular_sats(1, alt_km=550.0))
    assert 0.014 < w[0] < 0.017  # ~7.6 km/s over ~520 km, plus margins
    assert default_coarse_step_s(circular_sats(3, alt_km=550.0)) == pytest.approx(20.0 / np.degrees(w[0]))
    assert 20.0 < default_coarse_step_s(circular_sats(3, alt_km=550.0)) < 30.0
    assert default_coarse_step_s(circular_sats(3, alt_km=550.0) + circular_sats(1, alt_km=270.0)) < 12.0
    assert default_coarse_step_s([]) == 30.0
    # The bound holds: elevation rates on a dense grid never exceed it.
    sats = circular_sats(10, alt_km=550.0)
    t = T0 + np.arange(0, 7200) * NS_PER_S
    el = dense_elevation(sats, SITES["sydney"], t)
    assert np.nanmax(np.abs(np.diff(el, axis=1))) < np.degrees(top_angular_rate_rad_s(sats).min())


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"end_ns": T0}, "must end after it starts"),
        ({"min_elevation_deg": 90.0}, "below 90"),
        ({"lat_deg": 91.0}, "latitude"),
        ({"alt_km": 500.0}, "kilometres"),
        ({"coarse_step_s": 0.0}, "coarse_step_s"),
        ({"coarse_step_s": 600.0}, "at most 120"),
        ({"tolerance_s": -1.0}, "tolerance_s"),
        ({"start_ns": "yesterday-ish"}, "cannot read time"),
    ],
)
def test_bad_input_is_explained(kwargs: dict, text: str) -> None:
    args = {"lat_deg": 10.0, "lon_deg": 20.0, "alt_km": 0.0, "start_ns": T0, "end_ns": T0 + HOUR_NS} | kwargs
    with pytest.raises(InputError, match=text):
        find_passes(circular_sats(2), **args)


# ---- CLI -----------------------------------------------------------------------------------
@needs_data
def test_cli_passes_csv(tmp_path: Path) -> None:
    ids = "44714,44715,45544,46042,47780,52581"
    out = tmp_path / "p.csv"
    res = CliRunner().invoke(
        cli,
        ["passes", str(SNAP), "--lat", "47.6062", "--lon", "-122.3321", "--alt-m", "56", "--start", "2024-10-23T00:00:00Z",
         "--duration", "12h", "--min-elevation-deg", "25", "--sats", ids, "--format", "csv", "-o", str(out)],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    with out.open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["norad_id", "rise_utc", "culminate_utc", "set_utc", "max_elevation_deg"]
        rows = list(reader)
    c = load_file(SNAP).select(norad_ids=[int(x) for x in ids.split(",")])
    ref = find_passes(c, 47.6062, -122.3321, 0.056, T0, T0 + 12 * HOUR_NS, 25.0)
    assert len(rows) == len(ref) > 5
    assert [r["rise_utc"] for r in rows] == sorted(r["rise_utc"] for r in rows)
    assert [int(r["norad_id"]) for r in rows] == list(c.norad_id[ref.sat_index])
    assert [r["rise_utc"] for r in rows] == list(format_time(ref.rise_ns, "ms"))
    for r in rows:
        for k in ("rise_utc", "culminate_utc", "set_utc"):
            assert len(r[k]) == len("2024-10-23T00:00:00.000Z") and r[k].endswith("Z")
        assert r["rise_utc"] <= r["culminate_utc"] <= r["set_utc"]
        assert 25.0 <= float(r["max_elevation_deg"]) <= 90.0
    assert f"{len(rows)} passes" in res.stderr


def test_cli_passes_bad_latitude(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["passes", "--preset", "oneweb", "--lat", "100", "--lon", "0", "--start", "2025-01-01T00:00:00Z",
              "--duration", "1h", "--format", "csv", "-o", str(tmp_path / "p.csv")]
    )
    assert res.exit_code == 2
    assert "'--lat'" in res.stderr and "100" in res.stderr and "-90.0<=x<=90.0" in res.stderr
