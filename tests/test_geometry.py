"""leonet.geometry against analytic cases: unit vectors, great circles, chords, the elevation
and the elevation-mask predicate (NumPy and numba agree bit for bit)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from leonet.constants import EARTH_MEAN_RADIUS_KM, WGS84_A_KM
from leonet.errors import InputError
from leonet.geometry import (
    above_mask,
    above_mask8,
    above_mask_jit,
    chord_for_distance,
    elevation_deg,
    great_circle_km,
    highest_sin8,
    line_of_sight_jit,
    mask_sin,
    sin_elevation,
    unit_vector,
)

QUARTER_KM = math.pi / 2 * EARTH_MEAN_RADIUS_KM  # 10,007.5 km: pole to equator


def test_unit_vector_axes_and_norm() -> None:
    np.testing.assert_allclose(unit_vector(0.0, 0.0), [1.0, 0.0, 0.0], atol=1e-16)
    np.testing.assert_allclose(unit_vector(0.0, 90.0), [0.0, 1.0, 0.0], atol=1e-16)
    np.testing.assert_allclose(unit_vector(90.0, 123.0), [0.0, 0.0, 1.0], atol=1e-16)
    np.testing.assert_allclose(unit_vector(-90.0, 0.0), [0.0, 0.0, -1.0], atol=1e-16)
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-90, 90, (4, 5)), rng.uniform(-180, 180, (4, 5))
    u = unit_vector(lat, lon)
    assert u.shape == (4, 5, 3)
    np.testing.assert_allclose(np.linalg.norm(u, axis=-1), 1.0, rtol=1e-15)
    assert unit_vector(np.zeros(3), 10.0).shape == (3, 3)  # broadcast


def test_great_circle_known_distances() -> None:
    """Quarter and half circumferences on the mean sphere, one degree of arc, and the
    symmetric, zero and broadcast cases (tolerance 1 um: rounding only)."""
    assert great_circle_km(0.0, 0.0, 90.0, 0.0) == pytest.approx(QUARTER_KM, abs=1e-9)
    assert great_circle_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(QUARTER_KM, abs=1e-9)
    assert great_circle_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(2 * QUARTER_KM, abs=1e-9)
    assert great_circle_km(90.0, 0.0, -90.0, 77.0) == pytest.approx(2 * QUARTER_KM, abs=1e-9)
    assert great_circle_km(10.0, 20.0, 11.0, 20.0) == pytest.approx(EARTH_MEAN_RADIUS_KM * math.pi / 180, abs=1e-9)
    assert great_circle_km(0.0, 179.5, 0.0, -179.5) == pytest.approx(EARTH_MEAN_RADIUS_KM * math.pi / 180, abs=1e-9)  # across 180
    assert great_circle_km(25.03, 121.56, 25.03, 121.56) == 0.0
    assert great_circle_km(0.0, 0.0, 90.0, 0.0, radius_km=1.0) == pytest.approx(math.pi / 2, abs=1e-15)
    rng = np.random.default_rng(2)
    a, b, c, d = rng.uniform(-90, 90, 50), rng.uniform(-180, 180, 50), rng.uniform(-90, 90, 50), rng.uniform(-180, 180, 50)
    np.testing.assert_array_equal(great_circle_km(a, b, c, d), great_circle_km(c, d, a, b))
    # Against the angle between unit vectors (atan2 form, accurate at any angle), 1 um.
    u, v = unit_vector(a, b), unit_vector(c, d)
    ang = np.arctan2(np.linalg.norm(np.cross(u, v), axis=-1), np.sum(u * v, axis=-1))
    np.testing.assert_allclose(great_circle_km(a, b, c, d), ang * EARTH_MEAN_RADIUS_KM, atol=1e-6)
    assert great_circle_km(np.zeros((3, 1)), 0.0, 0.0, np.arange(4.0)).shape == (3, 4)


def test_chord_for_distance() -> None:
    """The straight line between unit vectors a great-circle distance apart: sqrt(2) at a
    quarter circle, 2 at (and beyond) the antipode, and what a k-d tree of unit vectors measures."""
    assert chord_for_distance(QUARTER_KM) == pytest.approx(math.sqrt(2.0), rel=1e-15)
    assert chord_for_distance(2 * QUARTER_KM) == pytest.approx(2.0, rel=1e-15)
    assert chord_for_distance(1e6) == pytest.approx(2.0, rel=1e-15)
    assert chord_for_distance(0.0) == 0.0
    d = float(great_circle_km(10.0, 20.0, 12.0, 25.0))
    assert chord_for_distance(d) == pytest.approx(float(np.linalg.norm(unit_vector(10.0, 20.0) - unit_vector(12.0, 25.0))), rel=1e-12)


def test_elevation_overhead_horizon_and_below() -> None:
    up = unit_vector(30.0, 40.0)
    east = np.array([-math.sin(math.radians(40.0)), math.cos(math.radians(40.0)), 0.0])
    assert elevation_deg(550.0 * up, up) == pytest.approx(90.0, abs=1e-12)  # straight overhead: exact to rounding
    assert elevation_deg(-550.0 * up, up) == pytest.approx(-90.0, abs=1e-12)
    assert elevation_deg(1000.0 * east, up) == pytest.approx(0.0, abs=1e-12)  # on the horizon
    for el in (-30.0, 0.5, 25.0, 60.0, 89.999):
        d = 800.0 * (math.cos(math.radians(el)) * east + math.sin(math.radians(el)) * up)
        assert elevation_deg(d, up) == pytest.approx(el, abs=1e-11)
        assert sin_elevation(d, up) == pytest.approx(math.sin(math.radians(el)), abs=1e-15)
    assert np.isnan(elevation_deg(np.array([np.nan, 0.0, 1.0]), up))
    assert np.isnan(sin_elevation(np.array([np.nan, 0.0, 1.0]), up))


@njit(cache=False)
def _kernel_verdicts(du: np.ndarray, dd: np.ndarray, sin_m: float) -> np.ndarray:
    out = np.empty(du.shape[0], np.bool_)
    for k in range(du.shape[0]):
        out[k] = above_mask_jit(du[k], dd[k], sin_m)
    return out


def test_above_mask_is_the_elevation_test_in_numpy_and_numba() -> None:
    """The predicate's verdict is elevation >= mask except within rounding of the mask, and the
    numba form gives the NumPy verdict bit for bit (including exactly at the mask)."""
    rng = np.random.default_rng(3)
    n = 20_000
    d = rng.normal(size=(n, 3)) * rng.uniform(1.0, 3000.0, (n, 1))
    up = unit_vector(rng.uniform(-90, 90, n), rng.uniform(-180, 180, n))
    d[:10] = np.nan
    du = np.sum(d * up, axis=-1)
    dd = np.sum(d * d, axis=-1)
    for mask in (-20.0, 0.0, 25.0, 80.0):
        s = mask_sin(mask)
        verdict = above_mask(du, dd, s)
        assert not verdict[:10].any()  # NaN: never in view
        el = elevation_deg(d, up)
        clear = np.abs(el - mask) > 1e-9
        np.testing.assert_array_equal(verdict[clear], (el >= mask)[clear])
        np.testing.assert_array_equal(_kernel_verdicts(du, dd, s), verdict)
    # At the mask exactly: a 3-4-5 triangle, where sqrt(25) * 0.6 rounds to 3.0.
    assert above_mask(3.0, 25.0, 0.6) and not above_mask(2.9999999999, 25.0, 0.6)
    assert above_mask(0.0, 4.0, 0.0)  # on the horizon with a 0 deg mask: in view
    assert _kernel_verdicts(np.array([3.0]), np.array([25.0]), 0.6)[0]


@njit(cache=False)
def _lane_verdicts(s: np.ndarray, p: np.ndarray, u: np.ndarray, sin_m: float, max_range2: float, tiny_km: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per point (row of ``p``, ``u``) and group of eight targets (``s`` ``(3, 8 k)``): the
    intrinsics' mask and highest sine, and the same from the scalar functions target by target."""
    groups = s.shape[1] // 8
    masks = np.empty((p.shape[0], groups), np.uint64)
    best = np.empty((p.shape[0], groups))
    masks_ref = np.zeros((p.shape[0], groups), np.uint64)
    best_ref = np.full((p.shape[0], groups), -2.0)
    sx, sy, sz = s[0], s[1], s[2]
    for q in range(p.shape[0]):
        px, py, pz, ux, uy, uz = p[q, 0], p[q, 1], p[q, 2], u[q, 0], u[q, 1], u[q, 2]
        for g in range(groups):
            masks[q, g] = above_mask8(sx, sy, sz, 8 * g, px, py, pz, ux, uy, uz, sin_m, max_range2)
            best[q, g] = highest_sin8(sx, sy, sz, 8 * g, px, py, pz, ux, uy, uz, sin_m, max_range2, tiny_km)
            for k in range(8):
                i = 8 * g + k
                du, dd = line_of_sight_jit(sx[i], sy[i], sz[i], px, py, pz, ux, uy, uz)
                if above_mask_jit(du, dd, sin_m) and dd <= max_range2:
                    masks_ref[q, g] |= np.uint64(1) << np.uint64(k)
                    best_ref[q, g] = max(best_ref[q, g], du / max(math.sqrt(dd), tiny_km))
    return masks, best, masks_ref, best_ref


def test_eight_lane_forms_give_the_scalar_verdicts_and_highest_sine() -> None:
    """above_mask8 and highest_sin8 equal the scalar test and sine target by target, bit for
    bit: random skies, NaN targets, range limits, negative and steep masks, and targets exactly
    at the mask (where the verdict depends on the last bit of sqrt(dd) * sin_m)."""
    rng = np.random.default_rng(11)
    n = 3000
    p = unit_vector(rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)) * 6371.0
    u = unit_vector(rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)) * 0.001 + p / 6371.0
    u /= np.linalg.norm(u, axis=1)[:, None]
    s = unit_vector(rng.uniform(-90, 90, 64), rng.uniform(-180, 180, 64)).T * rng.uniform(6500.0, 8000.0, 64)
    s[:, 5] = np.nan  # a failed state: never in view
    s[1, 17] = np.nan
    s[:, 30] = p[0]  # at the first point itself: dd = 0, the range floor decides the sine
    s = np.ascontiguousarray(s)
    for mask, max_range in ((25.0, None), (0.0, None), (-30.0, 2500.0), (-90.0, None), (80.0, None), (10.0, 1800.0)):
        r2 = math.inf if max_range is None else max_range**2
        masks, best, masks_ref, best_ref = _lane_verdicts(s, p, u, mask_sin(mask), r2, 1e-300)
        np.testing.assert_array_equal(masks, masks_ref)
        np.testing.assert_array_equal(best, best_ref)
        assert masks.any() and not (masks == 0xFF).all()
    # Targets exactly at a 25 deg mask from one point, in every direction.
    m = math.radians(25.0)
    east = np.cross([0.0, 0.0, 1.0], u[1])
    east /= np.linalg.norm(east)
    north = np.cross(u[1], east)
    az = rng.uniform(0.0, 2.0 * math.pi, 64)
    sky = math.cos(m) * (np.cos(az)[:, None] * north + np.sin(az)[:, None] * east) + math.sin(m) * u[1]
    s = np.ascontiguousarray((p[1] + rng.uniform(500.0, 2500.0, (64, 1)) * sky).T)
    masks, best, masks_ref, best_ref = _lane_verdicts(s, p[1:2], u[1:2], mask_sin(25.0), math.inf, 1e-300)
    np.testing.assert_array_equal(masks, masks_ref)
    np.testing.assert_array_equal(best, best_ref)
    seen = int(np.unpackbits(masks.view(np.uint8)).sum())
    assert 0 < seen < 64  # rounding puts some on each side: the test is at the boundary


def test_mask_sin_values_and_errors() -> None:
    assert mask_sin(0.0) == 0.0 and mask_sin(90.0) == 1.0 and mask_sin(-90.0) == -1.0
    assert mask_sin(30.0) == pytest.approx(0.5, abs=1e-16)
    for bad in (91.0, -90.5, float("nan"), float("inf"), "ten"):
        with pytest.raises(InputError, match="min_elevation_deg"):
            mask_sin(bad)  # type: ignore[arg-type]


def test_elevation_from_a_real_station_geometry() -> None:
    """A satellite 550 km straight above a point of the equator: 90 deg at that point, and at a
    point 10 deg of longitude away, the spherical-triangle elevation."""
    sat = np.array([WGS84_A_KM + 550.0, 0.0, 0.0])
    assert elevation_deg(sat - np.array([WGS84_A_KM, 0.0, 0.0]), unit_vector(0.0, 0.0)) == pytest.approx(90.0, abs=1e-12)
    g = WGS84_A_KM * unit_vector(0.0, 10.0)  # on the equator the ellipsoid normal is radial
    lam = math.radians(10.0)
    expected = math.degrees(math.atan2(math.cos(lam) - WGS84_A_KM / (WGS84_A_KM + 550.0), math.sin(lam)))
    assert elevation_deg(sat - g, unit_vector(0.0, 10.0)) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("n_points", [50, 5000])  # pairs compared directly, and a k-d tree
def test_any_within_agrees_with_a_kd_tree(n_points: int) -> None:
    from scipy.spatial import cKDTree

    from leonet.geometry import any_within, chord_for_distance, unit_vector

    rng = np.random.default_rng(3)
    pts = unit_vector(rng.uniform(20, 26, n_points), rng.uniform(118, 124, n_points))
    q = unit_vector(rng.uniform(18, 28, 1000), rng.uniform(116, 126, 1000))
    chord = chord_for_distance(60.0)
    got = any_within(pts, q, chord)
    dist, _ = cKDTree(pts).query(q, distance_upper_bound=chord)
    assert 0 < got.sum() < len(q)
    np.testing.assert_array_equal(got, np.isfinite(dist))
    assert not any_within(pts[:0], q, chord).any() and any_within(pts, q[:0], chord).shape == (0,)
