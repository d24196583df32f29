"""GroundPoints: the one row-major ground-point type (WGS84 positions, verticals, names),
against the ellipsoid's analytic values, and its use by the visibility kernel."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.constants import WGS84_A_KM, WGS84_B_KM
from leonet.coverage.visibility import blocked, visibility, visibility_brute_force
from leonet.errors import InputError
from leonet.geometry import unit_vector
from leonet.ground.points import GroundPoints


def test_from_geodetic_positions_on_the_ellipsoid() -> None:
    """Equator and poles at the ellipsoid's radii (1 nm), heights along the normal, row-major shapes."""
    p = GroundPoints.from_geodetic([0.0, 0.0, 90.0, -90.0, 45.0], [0.0, 90.0, 0.0, 0.0, 10.0], [0.0, 0.0, 0.0, 0.0, 1.5], name=list("abcde"))
    assert len(p) == 5 and p.itrf_km.shape == (5, 3) and p.up.shape == (5, 3) and p.lat_deg.shape == (5,)
    np.testing.assert_allclose(p.itrf_km[0], [WGS84_A_KM, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(p.itrf_km[1], [0.0, WGS84_A_KM, 0.0], atol=1e-9)
    np.testing.assert_allclose(p.itrf_km[2], [0.0, 0.0, WGS84_B_KM], atol=1e-9)
    np.testing.assert_allclose(p.itrf_km[3], [0.0, 0.0, -WGS84_B_KM], atol=1e-9)
    # A height moves the point along its vertical by exactly that much.
    base = GroundPoints.from_geodetic(45.0, 10.0)
    np.testing.assert_allclose(p.itrf_km[4] - base.itrf_km[0], 1.5 * unit_vector(45.0, 10.0), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(p.up, axis=1), 1.0, rtol=1e-15)
    assert list(p.name) == list("abcde") and p.name.dtype == object
    assert GroundPoints.from_geodetic(1.0, 2.0).name is None  # scalars are one point; names optional


def test_take_concat_empty() -> None:
    a = GroundPoints.from_geodetic([10.0, 20.0, 30.0], [1.0, 2.0, 3.0], [0.0, 0.1, 0.2], name=["x", "y", "z"])
    b = GroundPoints.from_geodetic([-5.0], [100.0], name=["w"])
    t = a.take([2, 0])
    np.testing.assert_array_equal(t.lat_deg, [30.0, 10.0])
    np.testing.assert_array_equal(t.itrf_km, a.itrf_km[[2, 0]])
    np.testing.assert_array_equal(t.up, a.up[[2, 0]])
    assert list(t.name) == ["z", "x"]
    assert list(a.take(a.lat_deg > 15.0).name) == ["y", "z"] and len(a.take(slice(1, None))) == 2
    c = GroundPoints.concat([a, b])
    assert len(c) == 4 and list(c.name) == ["x", "y", "z", "w"]
    np.testing.assert_array_equal(c.itrf_km, np.vstack([a.itrf_km, b.itrf_km]))
    assert GroundPoints.concat([a, GroundPoints.from_geodetic(0.0, 0.0)]).name is None  # names only if all have them
    e = GroundPoints.empty()
    assert len(e) == 0 and e.itrf_km.shape == (0, 3) and e.up.shape == (0, 3)
    assert len(GroundPoints.concat([])) == 0


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="latitudes"):
        GroundPoints.from_geodetic([91.0], [0.0])
    with pytest.raises(InputError, match="same length"):
        GroundPoints.from_geodetic([1.0, 2.0], [0.0])
    with pytest.raises(InputError, match="finite"):
        GroundPoints.from_geodetic([np.nan], [0.0])
    with pytest.raises(InputError, match="alt_km"):
        GroundPoints.from_geodetic([1.0, 2.0], [0.0, 0.0], [0.0, 0.0, 0.0])
    with pytest.raises(InputError, match="km"):
        GroundPoints.from_geodetic([1.0], [0.0], -5000.0)  # metres given as km
    with pytest.raises(InputError, match="names"):
        GroundPoints.from_geodetic([1.0, 2.0], [0.0, 0.0], name=["only one"])


def test_visibility_derives_its_blocked_layout_once() -> None:
    """The kernel takes GroundPoints as they are: its (3, n) layout holds the same positions and
    verticals, is built once per GroundPoints object, and gives the brute-force answer exactly."""
    rng = np.random.default_rng(9)
    lat, lon = np.degrees(np.arcsin(rng.uniform(-1, 1, 300))), rng.uniform(-180, 180, 300)
    pts = GroundPoints.from_geodetic(lat, lon, rng.uniform(0.0, 3.0, 300))
    lay = blocked(pts)
    np.testing.assert_array_equal(lay.pos_km, pts.itrf_km.T)
    np.testing.assert_array_equal(lay.up, pts.up.T)
    r = GroundPoints.from_geodetic(rng.uniform(-60, 60, 400), rng.uniform(-180, 180, 400), 550.0).itrf_km[:, None, :]
    v = visibility(pts, r, 10.0, pairs=True, max_elevation=True)
    from leonet.coverage import visibility as V

    assert V._LAYOUTS.get(pts) is not None  # kept for the next call
    assert V._layout(pts) is V._layout(pts)
    ref = visibility_brute_force(pts, r, 10.0, pairs=True, max_elevation=True)
    np.testing.assert_array_equal(v.counts, ref.counts)
    np.testing.assert_array_equal(v.sat_index, ref.sat_index)
    assert v.counts.sum() > 0
