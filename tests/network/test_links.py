"""Links: laser length and grazing altitude against analytic geometry (and Hypatia's stated range),
ground-to-satellite links against look angles."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.constants import WGS72_A_KM
from leonet.ground.points import GroundPoints
from leonet.network import ground_links, laser_geometry, max_range_for_grazing_km
from leonet.orbits.frames import look_angles
from leonet.orbits.propagate import propagate
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import parse_time

T0 = parse_time("2025-01-01T00:00:00Z")


def test_laser_geometry_analytic() -> None:
    r = WGS72_A_KM + 550.0
    theta = np.radians([10.0, 40.0, 80.0])
    pos = np.zeros((4, 3))
    pos[0] = [r, 0, 0]
    pos[1:, 0], pos[1:, 1] = r * np.cos(theta), r * np.sin(theta)
    links = np.array([[0, 1], [0, 2], [0, 3]])
    length, graze = laser_geometry(pos, links)
    np.testing.assert_allclose(length, 2 * r * np.sin(theta / 2), rtol=1e-12)
    np.testing.assert_allclose(graze, r * np.cos(theta / 2) - WGS72_A_KM, rtol=1e-12)
    # Hypatia's description.txt: 5,016,591.233 m for 550 km and an 80 km grazing altitude.
    assert max_range_for_grazing_km(550.0, 80.0) * 1e3 == pytest.approx(5016591.2330984278, abs=1e-3)


def test_ground_links_against_look_angles() -> None:
    c = walker_constellation([WalkerShell("x", 12, 12, 550.0, 53.0)], epoch=T0)
    r = propagate(c.satrecs, np.array([T0]), frame="itrf", velocities=False).r_km
    lat, lon = np.array([25.03, 51.5, -33.9, 0.0]), np.array([121.56, -0.13, 151.2, 10.0])
    g = GroundPoints.from_geodetic(lat, lon, name=["a", "b", "c", "d"])
    _, el, rng = look_angles(lat, lon, 0.0, r)
    for mask, max_km in ((10.0, None), (None, 2500.0), (15.0, 1500.0)):
        gl = ground_links(g.itrf_km, r[:, 0], ground_up=g.up, min_elevation_deg=mask, max_range_km=max_km)
        want = np.ones(el.shape[:2], bool)
        if mask is not None:
            want &= el[..., 0] >= mask
        if max_km is not None:
            want &= rng[..., 0] <= max_km
        got = np.zeros_like(want)
        got[gl.ground, gl.sat] = True
        assert np.array_equal(got, want) and want.any()
        np.testing.assert_allclose(gl.length_km, rng[gl.ground, gl.sat, 0], rtol=1e-9)


def _ground_links_arrays(g_km, s_km, up, mask_deg, max_km, usable):  # type: ignore[no-untyped-def]
    """The array expression ground_links evaluates term by term (G x N temporaries)."""
    from leonet.geometry import above_mask, mask_sin

    d2 = np.einsum("ij,ij->i", g_km, g_km)[:, None] + np.einsum("ij,ij->i", s_km, s_km)[None, :] - 2.0 * (g_km @ s_km.T)
    np.maximum(d2, 0.0, out=d2)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(d2)
        if max_km is not None:
            ok &= d2 <= max_km * max_km
        if mask_deg is not None:
            ok &= above_mask(up @ s_km.T - np.einsum("ij,ij->i", up, g_km)[:, None], d2, mask_sin(mask_deg))
    ok &= usable[None, :]
    gi, si = np.nonzero(ok)
    return gi, si, np.sqrt(d2[gi, si])


@pytest.mark.parametrize(("mask", "max_km"), [(25.0, None), (None, 1100.0), (10.0, 2000.0)])
def test_ground_links_equal_the_array_expression_bit_for_bit(mask, max_km) -> None:
    """The compiled pass keeps the same pairs, in the same order, with the same lengths to the
    bit as the NumPy expression over (G, N) arrays (a failed satellite's NaN row, satellites
    left out by ``sat_usable``): routes' latencies depend on these bits."""
    c = walker_constellation([WalkerShell("x", 24, 20, 550.0, 53.0)], epoch=T0)
    r = propagate(c.satrecs, np.array([T0]), frame="itrf", velocities=False).r_km[:, 0].copy()
    r[7] = np.nan
    usable = np.ones(len(r), bool)
    usable[::5] = False
    rng = np.random.default_rng(2)
    g = GroundPoints.from_geodetic(rng.uniform(-60, 60, 40), rng.uniform(-180, 180, 40))
    gl = ground_links(g.itrf_km, r, ground_up=g.up, min_elevation_deg=mask, max_range_km=max_km, sat_usable=usable)
    gi, si, length = _ground_links_arrays(g.itrf_km, r, g.up, mask, max_km, usable)
    assert gi.size > 40
    np.testing.assert_array_equal(gl.ground, gi)
    np.testing.assert_array_equal(gl.sat, si)
    np.testing.assert_array_equal(gl.length_km, length)


@pytest.mark.parametrize("floor", [False, True])
def test_ground_links_by_blocks_equal_the_one_call_products(floor: bool, monkeypatch) -> None:
    """100 cities and 2,304 satellites: the products in blocks of 64-column panels (several
    blocks; at the floor, 36 of them) give the pairs and their order of the one-call array
    expression, and their lengths to 1e-12 (here, to the bit: OpenBLAS puts every column in the
    same kernel panel either way; another BLAS or CPU need not, and the test does not ask it)."""
    import leonet.network.links as links
    from leonet.ground.cities import top_cities

    if floor:
        monkeypatch.setattr(links, "BLAS_SINGLE_THREAD_MAX", 1)  # 64 columns a block
    c = walker_constellation([WalkerShell("x", 72, 22, 550.0, 53.0), WalkerShell("y", 36, 20, 570.0, 70.0)], epoch=T0)
    r = propagate(c.satrecs, T0 + np.arange(3) * 600 * 10**9, frame="itrf", velocities=False).r_km
    cities = top_cities(100)
    g = GroundPoints.from_geodetic(cities.lat_deg, cities.lon_deg)
    usable = np.ones(len(c), bool)
    assert len(links.column_blocks(100, len(c))) == (36 if floor else 3)
    for k in range(r.shape[1]):
        s = np.ascontiguousarray(r[:, k])
        for mask, max_km in ((25.0, None), (None, 1100.0)):
            gl = ground_links(g.itrf_km, s, ground_up=g.up, min_elevation_deg=mask, max_range_km=max_km)
            gi, si, length = _ground_links_arrays(g.itrf_km, s, g.up, mask, max_km, usable)
            assert gi.size > 500
            np.testing.assert_array_equal(gl.ground, gi)
            np.testing.assert_array_equal(gl.sat, si)
            np.testing.assert_allclose(gl.length_km, length, rtol=1e-12, atol=0)


def test_ground_links_on_two_threads_equal_one_bit_for_bit(monkeypatch) -> None:
    """The blocks of satellites shared by two threads give the very pairs, order and lengths of
    one thread (each block's products and pass are the same computation)."""
    import leonet.network.links as links
    from leonet.ground.cities import top_cities

    c = walker_constellation([WalkerShell("x", 72, 22, 550.0, 53.0), WalkerShell("y", 36, 20, 570.0, 70.0)], epoch=T0)
    s = np.ascontiguousarray(propagate(c.satrecs, np.array([T0]), frame="itrf", velocities=False).r_km[:, 0])
    cities = top_cities(100)
    g = GroundPoints.from_geodetic(cities.lat_deg, cities.lon_deg)
    monkeypatch.setattr(links, "BLAS_SINGLE_THREAD_MAX", 1)  # 36 blocks
    monkeypatch.setattr(links, "cores_free", lambda limit=None, **kw: 1)
    one = ground_links(g.itrf_km, s, ground_up=g.up, min_elevation_deg=25.0)
    monkeypatch.setattr(links, "cores_free", lambda limit=None, **kw: 2)
    monkeypatch.setattr(links, "PARALLEL_MIN_PAIRS", 0)
    two = ground_links(g.itrf_km, s, ground_up=g.up, min_elevation_deg=25.0)
    assert one.ground.size > 500
    for a, b in ((one.ground, two.ground), (one.sat, two.sat), (one.length_km, two.length_km)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(__import__("platform").machine() not in ("x86_64", "AMD64"), reason="einsum's summation order is x86-64's")
def test_laser_geometry_equals_the_einsum_expression_bit_for_bit() -> None:
    """The compiled laser geometry gives the bits of the NumPy expression it replaced (einsum
    dot products): route latencies add these lengths up. Random positions with a NaN one and
    a zero-length link."""
    rng = np.random.default_rng(4)
    r = rng.normal(size=(3000, 3)) * 7000.0
    r[3] = np.nan
    r[11] = r[10]
    links = rng.integers(0, 3000, size=(50_000, 2))
    links[:2] = [[10, 11], [3, 4]]
    ra = r[links[:, 0]]
    d = r[links[:, 1]] - ra
    dd = np.einsum("ij,ij->i", d, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(-np.einsum("ij,ij->i", ra, d) / dd, 0.0, 1.0)
    closest = ra + t[:, None] * d
    length, graze = laser_geometry(r, links)
    np.testing.assert_array_equal(length, np.sqrt(dd))
    np.testing.assert_array_equal(graze, np.sqrt(np.einsum("ij,ij->i", closest, closest)) - WGS72_A_KM)


def test_laser_geometry_refuses_bad_links() -> None:
    from leonet.errors import InputError

    r = np.zeros((4, 3))
    for bad in (np.array([[0, 1, 2]]), np.array([[0, 4]]), np.array([[-1, 0]])):
        with pytest.raises(InputError, match="laser links"):
            laser_geometry(r, bad)
    assert laser_geometry(r, np.zeros((0, 2), np.int64))[0].shape == (0,)
