"""Visibility kernel: exact agreement with the brute-force reference, with look angles, and the
search bound that makes it fast."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np
import pytest
from visibility_checks import assert_same

from leonet.constants import WGS84_A_KM, WGS84_B_KM
from leonet.coverage.visibility import (
    BLOCK_POINTS,
    SUB_POINTS,
    _to_degrees,
    blocked,
    footprint_half_angle_rad,
    iter_visibility,
    search_radius_rad,
    visibility,
    visibility_brute_force,
    visibility_counts,
)
from leonet.errors import InputError
from leonet.ground.points import GroundPoints
from leonet.orbits.frames import enu_basis, geodetic_to_itrf, itrf_to_geodetic, look_angles
from leonet.orbits.propagate import propagate

SNAPSHOT = "tle/starlink_20241023_celestrak_gp.tle"


# ---- helpers ----------------------------------------------------------------------------
def h3_centers(res: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres (lat, lon deg) of every H3 cell at ``res``."""
    try:
        from leonet.ground.cells import all_cells, cell_centers

        lat, lon = cell_centers(all_cells(res))
        return np.asarray(lat, float), np.asarray(lon, float)
    except ImportError:  # cells.py not there: h3 directly
        import h3

        cells = [c for base in h3.get_res0_cells() for c in h3.cell_to_children(base, res)]
        ll = np.array([h3.cell_to_latlng(c) for c in cells])
        return ll[:, 0], ll[:, 1]


def random_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform points on the sphere plus hard places: the poles, near them, the antimeridian."""
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    special_lat = [90.0, -90.0, 89.99, -89.99, 88.0, -87.5, 0.0, 0.0, 0.0, 45.1, -45.1, 60.0, -70.0, 53.0]
    special_lon = [0.0, 123.0, -179.99, 179.99, 180.0, -180.0, 180.0, -180.0, 179.9999, 179.95, -179.95, -179.5, 179.5, 0.0]
    k = len(special_lat)
    lat[:k], lon[:k] = special_lat, special_lon
    lat[k : k + 40] = rng.choice([-1.0, 1.0], 40) * rng.uniform(80.0, 90.0, 40)  # polar caps
    lon[k + 40 : k + 80] = rng.choice([-1.0, 1.0], 40) * rng.uniform(175.0, 180.0, 40)  # antimeridian
    alt = rng.uniform(-0.4, 5.0, n)
    return lat, lon, alt


def random_satellites(rng: np.random.Generator, n: int, times: int, alt_km: tuple[float, float] = (300.0, 2000.0)) -> np.ndarray:
    """``(n, times, 3)`` ITRF km: random directions, some over the poles and the antimeridian."""
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, (n, times))))
    lon = rng.uniform(-180.0, 180.0, (n, times))
    m = n // 10
    lat[:m] = rng.choice([-1.0, 1.0], (m, times)) * rng.uniform(75.0, 90.0, (m, times))
    lon[m : 2 * m] = rng.choice([-1.0, 1.0], (m, times)) * rng.uniform(170.0, 180.0, (m, times))
    return geodetic_to_itrf(lat, lon, rng.uniform(*alt_km, (n, times)))


def sats_at_elevation(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, el_deg: float, sat_alt_km: np.ndarray) -> np.ndarray:
    """For each ground point, a satellite ``(points, 3)`` at geodetic elevation ``el_deg``, a
    random azimuth and about ``sat_alt_km`` above the ellipsoid (slant range solved on a sphere
    of the point's radius; the exact height comes out of itrf_to_geodetic)."""
    p = geodetic_to_itrf(lat, lon, alt)
    enu = enu_basis(lat, lon)
    az = rng.uniform(0.0, 2.0 * np.pi, lat.size)
    el = np.radians(el_deg)
    look = (np.cos(el) * np.sin(az))[:, None] * enu[:, 0] + (np.cos(el) * np.cos(az))[:, None] * enu[:, 1] + np.sin(el) * enu[:, 2]
    r0 = np.linalg.norm(p, axis=1)
    pl = np.einsum("ij,ij->i", p, look)
    target = r0 + sat_alt_km
    rho = -pl + np.sqrt(pl * pl + target * target - r0 * r0)
    return p + rho[:, None] * look


# ---- the search bound -------------------------------------------------------------------
@pytest.mark.parametrize("mask_deg", [0.0, 10.0, 25.0, 40.0, 70.0])
def test_footprint_bound_holds_on_the_ellipsoid(mask_deg: float) -> None:
    rng = np.random.default_rng(int(mask_deg) + 1)
    n = 40_000
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lat[: n // 4] = rng.choice([-1.0, 1.0], n // 4) * rng.uniform(40.0, 90.0, n // 4)  # worst deviation ~45 deg, flattest ~90
    lon = rng.uniform(-180.0, 180.0, n)
    alt = rng.choice([0.0, -0.4, 2.0], n) * rng.uniform(0.0, 1.0, n)  # Dead Sea to highlands
    s = sats_at_elevation(rng, lat, lon, alt, mask_deg, rng.uniform(300.0, 1500.0, n))
    _, _, h_sat = itrf_to_geodetic(s)
    p = geodetic_to_itrf(lat, lon, alt)
    cosang = np.einsum("ij,ij->i", p, s) / (np.linalg.norm(p, axis=1) * np.linalg.norm(s, axis=1))
    central = np.arccos(np.clip(cosang, -1.0, 1.0))
    bound = footprint_half_angle_rad(h_sat, mask_deg, ground_alt_km=-0.4)
    assert np.all(central <= bound), f"bound broken by {np.max(central - bound):.3g} rad"
    assert np.max(central / bound) > 0.98  # and tight: the worst cases come within 2%
    # The naive spherical formula (mean radius, mask as is) would miss satellites: the test bites.
    r_mean, e = 6371.0, np.radians(mask_deg)
    naive = np.arccos(r_mean * np.cos(e) / (r_mean + h_sat)) - e
    assert np.any(central > naive)


@pytest.mark.parametrize("mask_deg", [0.0, 25.0, 40.0])
def test_kernel_search_radius_holds_and_is_tight(mask_deg: float) -> None:
    """The radius the kernel searches (from the actual point and satellite radii) contains
    every satellite at the mask; on its worst case (every point at the latitude where the
    vertical tilts most, satellites at one radius) it is exact to 0.1%, so any tighter radius
    would lose satellites."""
    rng = np.random.default_rng(int(mask_deg) + 100)
    n = 40_000

    def ratio(lat: np.ndarray, alt: np.ndarray) -> float:
        lon = rng.uniform(-180.0, 180.0, lat.size)
        s = sats_at_elevation(rng, lat, lon, alt, mask_deg, np.full(lat.size, 550.0))
        pts = blocked(GroundPoints.from_geodetic(lat, lon, alt))
        r_sat = np.linalg.norm(s, axis=1)
        lam = search_radius_rad(pts.r_min_km, pts.r_max_km, r_sat.min(), r_sat.max(), mask_deg, pts.vertical_deviation_rad)
        p = pts.pos_km.T
        central = np.arccos(np.clip(np.einsum("ij,ij->i", p, s) / (np.linalg.norm(p, axis=1) * r_sat), -1.0, 1.0))
        return float(central.max() / lam)

    sign = rng.choice([-1.0, 1.0], n)
    assert ratio(sign * rng.uniform(0.0, 90.0, n), rng.uniform(-0.4, 5.0, n)) <= 1.0  # anywhere
    assert 0.999 < ratio(sign * 45.096, np.zeros(n)) <= 1.0  # the worst case


def test_footprint_half_angle_values() -> None:
    # 550 km, 25 deg: ~8.5 deg on a 6371 km sphere; the conservative value is a little larger.
    lam = np.degrees(footprint_half_angle_rad(550.0, 25.0))
    assert 8.5 < lam < 9.1
    assert footprint_half_angle_rad(np.array([[550.0, 1200.0]]), 25.0).shape == (1, 2)
    assert np.all(np.diff(footprint_half_angle_rad(np.array([300.0, 550.0, 1200.0]), 25.0)) > 0)
    assert footprint_half_angle_rad(550.0, 90.0) < 0.004  # only the vertical's tilt remains
    assert search_radius_rad(WGS84_B_KM, WGS84_A_KM, 6000.0, 7000.0, -5.0) == math.pi  # satellites below, negative mask


def test_boundary_satellites_are_found() -> None:
    """Satellites a hair above the mask at every azimuth, on points where the ellipsoid's
    vertical tilts most (45 deg) or the radius is least (poles): the binning must keep them."""
    rng = np.random.default_rng(7)
    n = 3000
    lat = np.concatenate([rng.choice([-1.0, 1.0], n // 2) * rng.uniform(44.0, 46.0, n // 2), rng.choice([-1.0, 1.0], n - n // 2) * rng.uniform(85.0, 90.0, n - n // 2)])
    lon = rng.uniform(-180.0, 180.0, n)
    alt = np.zeros(n)
    s = sats_at_elevation(rng, lat, lon, alt, 25.0 + 1e-7, np.full(n, 550.0))
    pts = GroundPoints.from_geodetic(lat, lon, alt)
    v = visibility(pts, s[:, None, :], 25.0, pairs=True)
    ref = visibility_brute_force(pts, s[:, None, :], 25.0, pairs=True)
    assert_same(v, ref)
    own = np.array([i in v.sats_in_view(i, 0) for i in range(n)])
    assert own.all()  # each point sees the satellite placed for it


# ---- kernel == brute force ----------------------------------------------------------------
@pytest.mark.parametrize("mask_deg", [0.0, 25.0, 40.0])
@pytest.mark.parametrize("max_range_km", [None, 1200.0])
def test_matches_brute_force_random(mask_deg: float, max_range_km: float | None) -> None:
    rng = np.random.default_rng(11)
    lat, lon, alt = random_points(rng, 700)
    r = random_satellites(rng, 2500, 3)
    r[7, 1] = np.nan  # failed SGP4 states
    r[9, :, 2] = np.nan
    ref = visibility_brute_force(GroundPoints.from_geodetic(lat, lon, alt), r, mask_deg, max_range_km, pairs=True, max_elevation=True, block_pairs=50_000, workers=2)
    assert ref.counts.sum() > 1000  # the case is not trivially empty
    assert not np.isin(9, ref.sat_index)
    # Blocks of one point exercise each point's own cap at the poles and the antimeridian;
    # the default blocks of these scattered points are wide caps.
    for block_points in (1, 5, 64, BLOCK_POINTS):
        pts = blocked(GroundPoints.from_geodetic(lat, lon, alt), block_points=block_points)
        assert_same(visibility(pts, r, mask_deg, max_range_km, pairs=True, max_elevation=True), ref)


@pytest.mark.parametrize("mask_deg", [-30.0, 60.0, 89.0])
def test_matches_brute_force_odd_masks(mask_deg: float) -> None:
    """Negative masks with satellites below the ground's radius (whole-sphere search) and steep ones."""
    rng = np.random.default_rng(12)
    lat, lon, alt = random_points(rng, 400)
    r = random_satellites(rng, 1500, 2, alt_km=(-50.0, 3000.0))
    pts = GroundPoints.from_geodetic(lat, lon, alt)
    assert_same(visibility(pts, r, mask_deg, pairs=True, max_elevation=True), visibility_brute_force(pts, r, mask_deg, pairs=True, max_elevation=True))


def test_matches_brute_force_on_real_snapshot(tle_snapshot: Callable) -> None:
    c = tle_snapshot(SNAPSHOT).constellation
    t0 = int(np.max(c.epoch_ns))
    t_ns = t0 + np.array([0, 1800, 5400], dtype=np.int64) * 1_000_000_000
    r = propagate(c.satrecs, t_ns, velocities=False).r_km
    lat, lon = h3_centers(2)
    rng = np.random.default_rng(5)
    plat, plon, palt = random_points(rng, 300)
    pts = GroundPoints.from_geodetic(np.concatenate([lat, plat]), np.concatenate([lon, plon]), np.concatenate([np.zeros(lat.size), palt]))
    for mask_deg, max_range_km, times in [(25.0, None, slice(None)), (0.0, None, slice(0, 1)), (40.0, 1000.0, slice(1, 2)), (25.0, 900.0, slice(2, 3))]:
        rt = r[:, times]
        v = visibility(pts, rt, mask_deg, max_range_km, pairs=True, max_elevation=True)
        assert_same(v, visibility_brute_force(pts, rt, mask_deg, max_range_km, pairs=True, max_elevation=True, workers=2))
        if mask_deg == 25.0 and max_range_km is None:
            assert 5.0 < v.counts[: lat.size].mean() < 100.0  # thousands of Starlinks: tens in view


# ---- agreement with look angles ----------------------------------------------------------
def test_agrees_with_look_angles() -> None:
    rng = np.random.default_rng(3)
    lat, lon, alt = random_points(rng, 300)
    r = random_satellites(rng, 2000, 1)
    mask = 25.0
    v = visibility(GroundPoints.from_geodetic(lat, lon, alt), r, mask, max_range_km=1500.0, pairs=True, max_elevation=True)
    _, el, rng_km = look_angles(lat, lon, alt, r)  # (points, sats, 1)
    el, rng_km = el[..., 0], rng_km[..., 0]
    seen = np.zeros(el.shape, bool)
    cells, sats = v.pairs(0)
    seen[cells, sats] = True
    # Same verdict as look_angles, except within round-off of the mask or range edge.
    expect = (el >= mask) & (rng_km <= 1500.0)
    edge = (np.abs(el - mask) < 1e-9) | (np.abs(rng_km - 1500.0) < 1e-9)
    assert np.array_equal(seen[~edge], expect[~edge])
    assert seen.sum() > 500
    best = np.where(seen, el, -np.inf).max(axis=1)
    has = seen.any(axis=1)
    np.testing.assert_allclose(v.max_elevation_deg[has, 0], best[has], atol=1e-4)
    assert np.isnan(v.max_elevation_deg[~has, 0]).all()


# ---- NaN satellites and edge cases ----------------------------------------------------------
def test_nan_satellites_never_visible() -> None:
    lat, lon = np.array([10.0, -35.0, 89.0]), np.array([20.0, 150.0, -179.0])
    up = geodetic_to_itrf(lat, lon, 550.0)  # straight overhead of each point
    r = np.repeat(up, 4, axis=0)[:, None, :].repeat(2, axis=1)  # 12 sats, 2 times
    r[0, :] = np.nan
    r[5, 0, 1] = np.nan  # one component is enough
    r[:, 1] = np.nan  # second time: everything failed
    pts = GroundPoints.from_geodetic(lat, lon)
    v = visibility(pts, r, 25.0, pairs=True, max_elevation=True)
    assert v.counts[:, 0].tolist() == [3, 3, 4]
    assert not np.isin([0, 5], v.sat_index).any()
    assert v.counts[:, 1].tolist() == [0, 0, 0] and np.isnan(v.max_elevation_deg[:, 1]).all()
    np.testing.assert_allclose(v.max_elevation_deg[:, 0], 90.0, atol=1e-3)
    assert_same(v, visibility_brute_force(pts, r, 25.0, pairs=True, max_elevation=True))


def test_no_satellites_one_cell_and_mask_90() -> None:
    pts = GroundPoints.from_geodetic(np.array([25.0]), np.array([121.5]), 0.1)
    v = visibility(pts, np.empty((0, 3, 3)), pairs=True, max_elevation=True)
    assert v.counts.shape == (1, 3) and not v.counts.any()
    assert v.offsets is not None and v.offsets.shape == (3, 2) and not v.offsets.any()
    assert v.sat_index is not None and v.sat_index.size == 0
    assert np.isnan(v.max_elevation_deg).all()
    assert_same(v, visibility_brute_force(pts, np.empty((0, 3, 3)), pairs=True, max_elevation=True))

    rng = np.random.default_rng(2)
    r = random_satellites(rng, 500, 2)
    r[0, 0] = geodetic_to_itrf(25.0, 121.5, 550.0)
    one = visibility(pts, r, 25.0, pairs=True)
    assert one.counts.shape == (1, 2) and one.counts[0, 0] >= 1 and 0 in one.sats_in_view(0, 0)
    assert_same(one, visibility_brute_force(pts, r, 25.0, pairs=True))
    steep = visibility(pts, r, 90.0, pairs=True)  # needs d exactly along the vertical
    assert_same(steep, visibility_brute_force(pts, r, 90.0, pairs=True))
    assert steep.counts.sum() <= 1

    none = GroundPoints.from_geodetic(np.empty(0), np.empty(0))
    v0 = visibility(none, r, pairs=True, max_elevation=True)
    assert v0.counts.shape == (0, 2) and v0.offsets is not None and v0.offsets.shape == (2, 1)


# ---- API --------------------------------------------------------------------------------
def test_pairs_chunks_and_shorthand() -> None:
    rng = np.random.default_rng(4)
    lat, lon, alt = random_points(rng, 500)
    r = random_satellites(rng, 2000, 5)
    pts = GroundPoints.from_geodetic(lat, lon, alt)
    v = visibility(pts, r, pairs=True)
    for t in range(5):
        cells, sats = v.pairs(t)
        assert cells.size == sats.size == v.counts[:, t].sum()
        assert np.all(np.diff(cells) >= 0)
        for c in rng.choice(len(pts), 20):
            got = v.sats_in_view(int(c), t)
            assert np.array_equal(got, sats[cells == c]) and np.all(np.diff(got) > 0)  # ascending, no repeats
    assert v.offsets is not None and np.all(v.offsets[1:, 0] == v.offsets[:-1, -1])
    parts = list(iter_visibility(pts, r, 2, pairs=True))
    assert [t0 for t0, _ in parts] == [0, 2, 4]
    np.testing.assert_array_equal(np.concatenate([p.counts for _, p in parts], axis=1), v.counts)
    for t0, p in parts:
        for k in range(p.counts.shape[1]):
            np.testing.assert_array_equal(p.pairs(k)[1], v.pairs(t0 + k)[1])
    np.testing.assert_array_equal(visibility_counts(lat, lon, alt, r), v.counts)
    with pytest.raises(InputError, match="pairs were not computed"):
        visibility(pts, r).pairs(0)


def test_blocks_cover_their_points_and_order_does_not_matter() -> None:
    lat, lon = h3_centers(2)
    pts = blocked(GroundPoints.from_geodetic(lat, lon), BLOCK_POINTS, SUB_POINTS)
    assert np.array_equal(np.sort(pts.perm), np.arange(len(pts)))
    sizes = np.diff(pts.block_start)
    assert sizes.sum() == len(pts) and sizes.max() <= BLOCK_POINTS
    unit = (pts.pos_km / np.linalg.norm(pts.pos_km, axis=0)).T[pts.perm]
    center = np.repeat(pts.block_center.T, sizes, axis=0)
    angle = np.arccos(np.clip(np.einsum("ij,ij->i", unit, center), -1.0, 1.0))
    assert np.all(angle <= np.repeat(pts.block_radius_rad, sizes) + 1e-7)
    # Neighbours, not strangers: compared with the cap that holds a block's worth of sphere.
    ideal = np.arccos(1.0 - 2.0 * BLOCK_POINTS / len(pts))
    assert np.median(pts.block_radius_rad) < 2.0 * ideal and pts.block_radius_rad.max() < 4.0 * ideal
    # Sub-blocks tile each block and hold their points too; per-block radii and deviations bound them.
    sub_sizes = np.diff(pts.sub_start)
    assert sub_sizes.max() <= SUB_POINTS and np.array_equal(pts.sub_start[pts.block_sub], pts.block_start)
    sub_center = np.repeat(pts.sub_center.T, sub_sizes, axis=0)
    sub_angle = np.arccos(np.clip(np.einsum("ij,ij->i", unit, sub_center), -1.0, 1.0))
    assert np.all(sub_angle <= np.repeat(pts.sub_radius_rad, sub_sizes) + 1e-7)
    radius = np.linalg.norm(pts.pos_sorted_km, axis=0)
    assert np.all(radius >= np.repeat(pts.block_r_lo_km, sizes)) and np.all(radius <= np.repeat(pts.block_r_hi_km, sizes))
    assert np.array_equal(pts.pos_sorted_km, pts.pos_km[:, pts.perm]) and np.array_equal(pts.up_sorted, pts.up[:, pts.perm])
    dev = np.arccos(np.clip(np.einsum("ij,ij->i", pts.up_sorted.T, unit), -1.0, 1.0))
    assert np.all(dev <= np.repeat(pts.block_dev_rad, sizes))
    # The same points shuffled: the same answer point by point.
    rng = np.random.default_rng(8)
    r = random_satellites(rng, 1500, 1)
    shuffle = rng.permutation(len(pts))
    a = visibility(pts, r, pairs=True, max_elevation=True)
    b = visibility(GroundPoints.from_geodetic(lat[shuffle], lon[shuffle]), r, pairs=True, max_elevation=True)
    np.testing.assert_array_equal(a.counts[shuffle], b.counts)
    np.testing.assert_array_equal(a.max_elevation_deg[shuffle], b.max_elevation_deg)
    for j in rng.choice(len(pts), 50):
        np.testing.assert_array_equal(a.sats_in_view(int(shuffle[j]), 0), b.sats_in_view(int(j), 0))


def test_bad_input() -> None:
    pts = GroundPoints.from_geodetic(np.array([0.0]), np.array([0.0]))
    r = np.zeros((2, 1, 3))
    with pytest.raises(InputError, match="sats, times, 3"):
        visibility(pts, np.zeros((2, 3)))
    with pytest.raises(InputError, match="min_elevation_deg"):
        visibility(pts, r, 91.0)
    with pytest.raises(InputError, match="max_range_km"):
        visibility(pts, r, 25.0, max_range_km=0.0)
    with pytest.raises(InputError, match="latitudes"):
        GroundPoints.from_geodetic(np.array([91.0]), np.array([0.0]))
    with pytest.raises(InputError, match="same length"):
        GroundPoints.from_geodetic(np.array([1.0, 2.0]), np.array([0.0]))
    with pytest.raises(InputError, match="finite"):
        GroundPoints.from_geodetic(np.array([np.nan]), np.array([0.0]))
    with pytest.raises(InputError, match="GroundPoints"):
        visibility((np.zeros(1), np.zeros(1)), r)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="times_per_chunk"):
        next(iter_visibility(pts, r, 0))
    with pytest.raises(InputError, match="sub_points"):
        blocked(pts, sub_points=0)
    with pytest.raises(InputError, match="block_points"):
        blocked(pts, block_points=0)


# ---- threads, steps per call and the regional satellite filter ---------------------------------
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n_times", [1, 3, 9])  # 1 and 3: threads share each step's points; 9: they share the steps
def test_threads_and_steps_match_brute_force(threads: int, n_times: int) -> None:
    """Every way of running the kernel (one thread or several, over points or over steps)
    gives the brute-force answer exactly."""
    rng = np.random.default_rng(40 + n_times)
    lat, lon, alt = random_points(rng, 500)
    r = random_satellites(rng, 1200, n_times)
    r[5, 0] = np.nan
    if n_times > 2:
        r[:, 1] = np.nan  # a step with no satellite at all
    pts = GroundPoints.from_geodetic(lat, lon, alt)
    ref = visibility_brute_force(pts, r, 25.0, 1800.0, pairs=True, max_elevation=True)
    assert_same(visibility(pts, r, 25.0, 1800.0, pairs=True, max_elevation=True, threads=threads), ref)
    assert_same(visibility(pts, r, 25.0, 1800.0, threads=threads), visibility_brute_force(pts, r, 25.0, 1800.0))


@pytest.mark.parametrize("threads", [1, 2])
def test_regional_points_drop_far_satellites_exactly(threads: int) -> None:
    """A small region (Taiwan-sized, and one across the antimeridian) sees only nearby
    satellites; the kernel drops the rest first and still reports the original rows."""
    from leonet.coverage.visibility import _layout, _near_satellites, _step_search_radii

    rng = np.random.default_rng(9)
    r = random_satellites(rng, 3000, 12)
    for lat0, lon0 in ((23.5, 121.0), (-17.0, 179.5)):
        lat = lat0 + rng.uniform(-2.0, 2.0, 300)
        lon = (lon0 + rng.uniform(-1.5, 1.5, 300) + 180.0) % 360.0 - 180.0
        pts = GroundPoints.from_geodetic(lat, lon)
        lay = _layout(pts)
        rows = _near_satellites(lay, r, _step_search_radii(lay, r, 25.0))
        assert rows is not None and rows.size < 0.5 * r.shape[0]  # the filter really drops satellites
        ref = visibility_brute_force(pts, r, 25.0, pairs=True, max_elevation=True)
        assert ref.counts.sum() > 100 and np.isin(ref.sat_index, rows).all()
        assert_same(visibility(pts, r, 25.0, pairs=True, max_elevation=True, threads=threads), ref)


def test_big_pairs_buffers_are_reused_only_once_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pairs arrays come from buffers kept for reuse (here every size is 'big'): a result the
    caller still holds is never written again, whatever comes after; a dropped one is reused;
    release_buffers() lets the free ones go."""
    import leonet.coverage.visibility as vis

    monkeypatch.setattr(vis, "OUTPUT_REUSE_MIN_BYTES", 0)
    monkeypatch.setattr(vis, "_OUTPUTS", [])
    rng = np.random.default_rng(5)
    pts = GroundPoints.from_geodetic(rng.uniform(20.0, 26.0, 400), rng.uniform(118.0, 124.0, 400))
    # Satellites over the region only: the call keeps them all, so its pairs are the buffer's.
    lat = np.radians(rng.uniform(13.0, 33.0, (1500, 3)))
    lon = np.radians(rng.uniform(111.0, 131.0, (1500, 3)))
    r = 6928.0 * np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=2)
    ref = [vis.visibility_brute_force(pts, r[:, t : t + 1], 25.0, pairs=True) for t in range(3)]
    held = [vis.visibility(pts, r[:, t : t + 1], 25.0, pairs=True) for t in range(3)]
    kept = [h.sat_index.copy() for h in held]
    for t in range(3):  # three results alive at once: three buffers, none shared
        np.testing.assert_array_equal(held[t].sat_index, ref[t].sat_index)
        for t2 in range(t):
            assert not np.shares_memory(held[t].sat_index, held[t2].sat_index)
    base = held[1].sat_index.base
    assert any(b is base for b in vis._OUTPUTS)
    view = held[1].sat_index[2:5]
    del held[1]
    again = vis.visibility(pts, r[:, 1:2], 25.0, pairs=True)  # a view of step 1 is still alive
    assert not np.shares_memory(again.sat_index, view)
    del view, again, base
    newest = vis.visibility(pts, r[:, 2:3], 25.0, pairs=True)  # now a dropped buffer is free
    assert any(newest.sat_index.base is b for b in vis._OUTPUTS)
    np.testing.assert_array_equal(newest.sat_index, ref[2].sat_index)
    for t in (0, 2):  # what the caller holds was never overwritten
        np.testing.assert_array_equal(held[t if t == 0 else 1].sat_index, kept[t])
    del newest
    joined = vis.visibility(pts, r, 25.0, pairs=True)  # three steps joined into one kept buffer
    np.testing.assert_array_equal(joined.sat_index, np.concatenate([ref[t].sat_index for t in range(3)]))
    assert any(joined.sat_index.base is b for b in vis._OUTPUTS)
    for t in (0, 2):
        np.testing.assert_array_equal(held[t if t == 0 else 1].sat_index, kept[t])
    del joined
    vis.release_buffers()
    assert all(sys.getrefcount(b) > 2 for b in vis._OUTPUTS)


def test_highest_sines_to_degrees_is_numpys_arcsin_and_degrees() -> None:
    """_to_degrees (kernel and reference both use it) gives np.degrees(np.arcsin(...)) as
    float32 bit for bit, NaN for the -2 of 'nothing in view', whatever the threads."""
    rng = np.random.default_rng(5)
    s = np.concatenate([rng.uniform(-1.0, 1.0, 300_000), rng.uniform(0.99, 1.0, 10_000), [1.0, -1.0, 0.0, -0.0, 1.0 + 2e-16,
                        -1.0 - 2e-16, 5e-324, 1e-300, -2.0]])
    s[::97] = -2.0
    want = np.degrees(np.arcsin(np.clip(s, -1.0, 1.0))).astype(np.float32)
    want[s <= -1.5] = np.nan
    for threads in (1, 2):
        got = _to_degrees(s.reshape(-1, 1), threads)
        assert got.dtype == np.float32 and got.shape == (s.size, 1)
        np.testing.assert_array_equal(got[:, 0], want)
