"""The regional engine: service invariants, sub-satellite counts against brute force, outputs."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from leonet.coverage.regional import build_area, run_regional
from leonet.coverage.visibility import visibility_brute_force
from leonet.ground.regions import Region
from leonet.orbits.frames import itrf_to_geodetic
from leonet.orbits.propagate import propagate
from leonet.policy.model import ServicePolicy
from leonet.sources.walker import preset_constellation
from leonet.times import TimeGrid


@pytest.fixture(scope="module")
def setup():
    c = preset_constellation("starlink-gen1", epoch="2025-01-01T00:00:00Z")
    twn = Region.country("TWN")
    area = build_area((twn,), res=4, neighbours_within_km=250)
    grid = TimeGrid.from_span("2025-01-01T00:00:00Z", "2h", "120s")
    pol = ServicePolicy.active_everywhere().deactivate(twn, start="2025-01-01T01:00:00Z")
    res = run_regional(c, area, grid.t_ns, pol, min_elevation_deg=25.0)
    return c, twn, area, grid, res


def test_area_has_target_and_neighbours(setup) -> None:
    _, _, area, _, _ = setup
    labels = set(area.region.tolist())
    assert "TWN" in labels and "CHN" in labels
    assert len(np.unique(area.cells)) == len(area.cells)


def test_inactive_region_is_never_served_even_with_satellites_overhead(setup) -> None:
    _, _, area, grid, res = setup
    m = area.members("TWN")
    after = grid.t_ns >= grid.start_ns + 3600 * 10**9
    assert (res.counts[m][:, after] > 0).any(), "satellites must be in view for the invariant to mean something"
    assert not res.served[m][:, after].any()


def test_active_region_is_served_whenever_a_satellite_is_in_view(setup) -> None:
    _, _, area, grid, res = setup
    m = area.members("TWN")
    before = grid.t_ns < grid.start_ns + 3600 * 10**9
    np.testing.assert_array_equal(res.served[m][:, before], res.counts[m][:, before] > 0)
    np.testing.assert_array_equal(res.served[~m], res.counts[~m] > 0)


def test_counts_match_brute_force_and_overhead_matches_point_in_polygon(setup) -> None:
    c, twn, area, grid, res = setup
    st = propagate(c.satrecs, grid.t_ns, frame="itrf", velocities=False)
    ref = visibility_brute_force(area.points, st.r_km, 25.0).counts
    np.testing.assert_array_equal(res.counts, ref)
    lat, lon, _ = itrf_to_geodetic(st.r_km)
    inside = shapely.contains_xy(twn.geometry, lon, lat).sum(axis=0)
    np.testing.assert_array_equal(res.overhead[0], inside)


def test_timeseries_and_summary_are_consistent(setup) -> None:
    _, _, area, grid, res = setup
    ts = res.timeseries()
    twn_rows = ts["region"] == "TWN"
    assert twn_rows.sum() == grid.count
    assert (ts["cells"][twn_rows] == area.members("TWN").sum()).all()
    assert (ts["cells_served"][twn_rows][grid.count // 2 + 1:] == 0).all()
    summary = {r["region"]: r for r in res.region_summary()}
    assert summary["TWN"]["served_time_percent"] == pytest.approx(50.0, abs=0.01)
    assert summary["TWN"]["cells_not_served"] == 0  # served in the first hour
    border = res.border_effect(15.0)
    assert border and border[0]["inactive_region"] == "TWN"


@pytest.mark.parametrize(("code", "leaf"), [("TWN", 2), ("FJI", 2), ("TWN", 1), ("TWN", 4)])  # Fiji straddles the antimeridian
def test_propagating_only_nearby_satellites_changes_nothing(tle_snapshot, code: str, leaf: int, monkeypatch) -> None:
    """Between instants where every satellite is propagated, only those that can reach the
    region are: visibility (counts, pairs, max elevation) equals propagating them all, and the
    states propagated equal the full run's (whatever the size of the intervals propagated whole)."""
    import leonet.coverage.regional as regional
    from leonet.coverage.regional import chunk_positions

    monkeypatch.setattr(regional, "LEAF_INSTANTS", leaf)
    from leonet.coverage.visibility import visibility, visible_cap

    c = tle_snapshot("tle/starlink_20241023_celestrak_gp.tle").constellation
    area = build_area((Region.country(code),), res=4, neighbours_within_km=200)
    t = TimeGrid.from_span("2024-10-23T00:00:00Z", "2h", "60s").t_ns
    bounds = c.motion_bounds()
    cap = visible_cap(area.points, float(bounds[1].max()), 25.0)
    full_failures: dict[int, int] = {}
    part_failures: dict[int, int] = {}
    r_part = chunk_positions(c, t, cap, bounds, part_failures)
    r_full = chunk_positions(c, t, None, None, full_failures)
    done = np.isfinite(r_part)
    assert 0.05 < done.mean() < 0.5  # the filter really skips most states
    assert np.array_equal(r_part[done], r_full[done])
    a = visibility(area.points, r_part, 25.0, pairs=True, max_elevation=True)
    b = visibility(area.points, r_full, 25.0, pairs=True, max_elevation=True)
    assert a.counts.sum() > 0
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.sat_index, b.sat_index)
    np.testing.assert_array_equal(a.max_elevation_deg, b.max_elevation_deg)
    assert part_failures == full_failures


def test_plane_angle_of_an_equatorial_orbit_is_the_axis_latitude() -> None:
    """A circular equatorial orbit's plane is the equator: its angle from a unit vector at
    latitude phi is phi (the position's velocity given in ITRF, the Earth's rotation taken off)."""
    from leonet.constants import EARTH_ROTATION_RAD_S
    from leonet.coverage.regional import plane_angles
    from leonet.orbits.propagate import States

    r_km = 6921.0
    lon = np.radians(np.arange(0, 360, 30.0))
    p = np.stack([r_km * np.cos(lon), r_km * np.sin(lon), np.zeros_like(lon)], axis=-1)[:, None, :]
    v_space = 7.6 * np.stack([-np.sin(lon), np.cos(lon), np.zeros_like(lon)], axis=-1)[:, None, :]
    v_itrf = v_space - EARTH_ROTATION_RAD_S * np.stack([-p[..., 1], p[..., 0], np.zeros_like(p[..., 0])], axis=-1)
    st = States(np.zeros(1, np.int64), p, v_itrf, np.zeros((lon.size, 1), np.uint8), "itrf")
    for phi in (0.0, 12.5, 45.0, -70.0):
        axis = np.array([np.cos(np.radians(phi)), 0.0, np.sin(np.radians(phi))])
        np.testing.assert_allclose(np.degrees(plane_angles(st, axis)), abs(phi), atol=1e-9)
    assert np.isnan(plane_angles(States(np.zeros(1, np.int64), p, None, np.zeros((lon.size, 1), np.uint8), "itrf"), axis)).all()


def test_orbital_planes_of_real_satellites_turn_slower_than_the_bound(tle_snapshot) -> None:
    """The pruning rests on PLANE_RATE_RAD_S: over a day at 60 s, no Starlink plane (SGP4, every
    satellite of the 2024-10 snapshot that propagates) turns faster, seen from the ground, about
    any of several axes."""
    from leonet.coverage.regional import PLANE_RATE_RAD_S, plane_angles

    c = tle_snapshot("tle/starlink_20241023_celestrak_gp.tle").constellation
    t = TimeGrid.from_span("2024-10-23T00:00:00Z", "24h", "60s").t_ns
    st = c.take(np.arange(0, len(c), 4)).at(t, velocities=True)
    rng = np.random.default_rng(7)
    worst = 0.0
    for axis in rng.normal(size=(6, 3)):
        ang = plane_angles(st, axis / np.linalg.norm(axis))
        rate = np.abs(np.diff(ang, axis=1)) / 60.0
        worst = max(worst, float(np.nanmax(rate)))
    assert 0.5 * PLANE_RATE_RAD_S < worst <= PLANE_RATE_RAD_S
