"""The sure/unsure split of the visibility kernel (leonet.coverage.scan): its bounds hold on the
ellipsoid, they decide most pairs, and the kernel that uses them equals the brute-force
reference on dense point sets at the poles, the antimeridian and 45 deg, with satellites at
several altitudes and exactly at the edges of the bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from visibility_checks import assert_same

from leonet.coverage.scan import SURE_MARGIN, _cos_reach, _sin_elevation_bound
from leonet.coverage.visibility import blocked, visibility, visibility_brute_force
from leonet.geometry import elevation_deg
from leonet.ground.points import GroundPoints
from leonet.orbits.frames import enu_basis, geodetic_to_itrf

CLUSTERS = [(89.9, 0.0), (-89.4, 120.0), (0.3, 179.9), (45.1, -60.0), (-45.2, 179.6)]


def dense_points(rng: np.random.Generator, per_cluster: int = 700, spread_deg: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clusters of points about as dense as H3 resolution 5 (every ~0.15 deg) at the poles, the
    antimeridian and the latitudes where the vertical tilts most; heights from the Dead Sea to
    highlands."""
    lat, lon = [], []
    for la, lo in CLUSTERS:
        e = enu_basis(np.array([la]), np.array([lo]))[0]
        c = geodetic_to_itrf(la, lo, 0.0)
        off = rng.uniform(-1.0, 1.0, (per_cluster, 2)) * math.radians(spread_deg) * 6371.0
        p = c + off[:, :1] * e[0] + off[:, 1:] * e[1]
        u = p / np.linalg.norm(p, axis=1, keepdims=True)
        lat.append(np.degrees(np.arcsin(u[:, 2])))
        lon.append(np.degrees(np.arctan2(u[:, 1], u[:, 0])))
    la, lo = np.concatenate(lat), np.concatenate(lon)
    return la, lo, rng.uniform(-0.4, 5.0, la.size)


def sats_at(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, el_deg: np.ndarray, sat_alt_km: np.ndarray) -> np.ndarray:
    """One satellite per point at geodetic elevation ``el_deg`` (a random azimuth) and about
    ``sat_alt_km`` high: ``(points, 3)`` ITRF km."""
    p = geodetic_to_itrf(lat, lon, alt)
    enu = enu_basis(lat, lon)
    az = rng.uniform(0.0, 2.0 * np.pi, lat.size)
    el = np.radians(el_deg)
    look = (np.cos(el) * np.sin(az))[:, None] * enu[:, 0] + (np.cos(el) * np.cos(az))[:, None] * enu[:, 1] + np.sin(el)[:, None] * enu[:, 2]
    r0 = np.linalg.norm(p, axis=1)
    pl = np.einsum("ij,ij->i", p, look)
    target = r0 + sat_alt_km
    rho = -pl + np.sqrt(pl * pl + target * target - r0 * r0)
    return p + rho[:, None] * look


def constellation(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, mask_deg: float, steps: int) -> np.ndarray:
    """``(sats, steps, 3)``: satellites over the clusters at 150-2000 km, plus satellites put a
    hair above and below the mask (the test's own edge), straight overhead and at the mask
    shifted by the vertical's tilt (the bound's edges) of random points."""
    out = []
    for _ in range(steps):
        k = rng.choice(lat.size, 900)
        shift = rng.uniform(-6.0, 6.0, (900, 2))
        s_lat = np.clip(lat[k] + shift[:, 0], -90.0, 90.0)
        s_lon = lon[k] + shift[:, 1]
        s_alt = rng.choice([150.0, 340.0, 550.0, 1200.0, 2000.0], 900) + rng.uniform(-5.0, 5.0, 900)
        near = geodetic_to_itrf(s_lat, s_lon, s_alt)
        j = rng.choice(lat.size, 600)
        el = mask_deg + rng.choice([1e-9, -1e-9, 1e-6, -1e-6, 0.19, -0.19, 0.3, 90.0 - mask_deg - 1e-6], 600)
        edge = sats_at(rng, lat[j], lon[j], alt[j], el, rng.choice([340.0, 550.0, 1200.0], 600))
        out.append(np.concatenate([near, edge]))
    r = np.stack(out, axis=1)
    r[3, 0] = np.nan
    return r


@pytest.mark.parametrize("mask_deg", [10.0, 25.0, 40.0])
def test_kernel_matches_brute_force_on_dense_points(mask_deg: float) -> None:
    rng = np.random.default_rng(int(mask_deg))
    lat, lon, alt = dense_points(rng)
    r = constellation(rng, lat, lon, alt, mask_deg, 3)
    gp = GroundPoints.from_geodetic(lat, lon, alt)
    ref = visibility_brute_force(gp, r, mask_deg, pairs=True, max_elevation=True, workers=2)
    assert ref.counts.sum() > 50_000  # the case is not trivially empty
    for sizes in ((None, None), (64, 4), (256, 16), (40, 1), (128, 24)):  # 24: more points than the scratch starts with
        pts = blocked(gp, *sizes)
        for threads in (1, 2):
            assert_same(visibility(pts, r, mask_deg, pairs=True, max_elevation=True, threads=threads), ref)
            assert_same(visibility(pts, r[:, :1], mask_deg, threads=threads), visibility_brute_force(gp, r[:, :1], mask_deg))


def test_bounds_hold_and_decide_most_pairs() -> None:
    """For single points (sub-blocks of radius 0): a satellite within the inner angle is in
    view, one beyond the outer angle is not, and the elevation bounds bracket the exact
    elevation; on a Starlink-like shell most visible pairs are decided by the bounds alone."""
    rng = np.random.default_rng(77)
    n = 60_000
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lat[: n // 3] = rng.choice([-1.0, 1.0], n // 3) * rng.uniform(40.0, 50.0, n // 3)
    lon = rng.uniform(-180.0, 180.0, n)
    alt = rng.uniform(-0.4, 5.0, n)
    mask = 25.0
    el_true = np.where(rng.uniform(size=n) < 0.5, mask + rng.normal(0.0, 0.3, n), rng.uniform(-10.0, 90.0, n))
    s = sats_at(rng, lat, lon, alt, np.clip(el_true, -20.0, 90.0), rng.uniform(300.0, 1300.0, n))
    pts = blocked(GroundPoints.from_geodetic(lat, lon, alt), 1, 1)
    p = pts.pos_km.T
    up = pts.up.T
    big_r = np.linalg.norm(p, axis=1)
    r_sat = np.linalg.norm(s, axis=1)
    cos_t = np.einsum("ij,ij->i", p / big_r[:, None], s / r_sat[:, None])
    dev = np.arccos(np.clip(np.einsum("ij,ij->i", up, p / big_r[:, None]), -1.0, 1.0)) + 1e-9
    m = math.radians(mask)
    k_in = np.array([_cos_reach(a, b, math.cos(m + d), math.sin(m + d)) for a, b, d in zip(big_r, r_sat, dev)])
    k_out = np.array([_cos_reach(a, b, math.cos(m - d), math.sin(m - d)) for a, b, d in zip(big_r, r_sat, dev)])
    el = elevation_deg(s - p, up)
    seen = el >= mask
    sure = cos_t >= k_in + SURE_MARGIN
    never = cos_t < k_out - SURE_MARGIN
    assert seen[sure].all() and not seen[never].any()
    assert sure.sum() > 0.8 * seen.sum()  # the bound decides most visible pairs without the test
    lo = np.array([_sin_elevation_bound(c, a, b) for c, a, b in zip(cos_t, big_r, r_sat)])
    sin_el = np.sin(np.radians(el))
    assert np.all(sin_el <= lo + dev + SURE_MARGIN) and np.all(sin_el >= lo - dev - SURE_MARGIN)


def test_gather_bounds_hold_for_every_block() -> None:
    """The pairs pass sizes each block's storage from :func:`gather_bounds` (and writes without
    bounds checks): it must never be below what :func:`gather` returns for that block."""
    from leonet.coverage.scan import bin_satellites, gather, gather_bounds
    from leonet.coverage.visibility import _grid_for, _step_search_radii

    rng = np.random.default_rng(5)
    lat, lon, alt = dense_points(rng, per_cluster=300)
    r = constellation(rng, lat, lon, alt, 25.0, 1)
    for sizes in ((None, None), (1, 1), (512, 16)):
        pts = blocked(GroundPoints.from_geodetic(lat, lon, alt), *sizes)
        lam = float(_step_search_radii(pts, r, 25.0)[0])
        n_lat, n_lon = _grid_for(lam)
        start, order, xyz, unit = bin_satellites(np.ascontiguousarray(r[:, 0]), n_lat, n_lon)
        tup = (pts.pos_sorted_km, pts.up_sorted, pts.perm, pts.block_start, pts.block_center, pts.block_radius_rad)
        bound = gather_bounds(tup, (start, order, xyz, unit, n_lat, n_lon, lam))
        for b in range(bound.size):
            c = pts.block_center[:, b]
            got = gather(start, order, xyz, unit, n_lat, n_lon, c[0], c[1], c[2], lam + pts.block_radius_rad[b], True)[2]
            assert got.size <= bound[b]
            assert np.all(np.diff(got) > 0)  # ascending rows: the order the pairs are written in


def test_pairs_do_not_depend_on_earlier_calls() -> None:
    """The pairs pass reuses its working store between calls: a large call, a small one and the
    large one again give the brute-force answers, and the third equals the first."""
    rng = np.random.default_rng(8)
    lat, lon, alt = dense_points(rng, per_cluster=400)
    r = constellation(rng, lat, lon, alt, 25.0, 2)
    big = GroundPoints.from_geodetic(lat, lon, alt)
    small = GroundPoints.from_geodetic(lat[:50], lon[:50], alt[:50])
    first = visibility(big, r, 25.0, pairs=True, max_elevation=True)
    assert_same(first, visibility_brute_force(big, r, 25.0, pairs=True, max_elevation=True, workers=2))
    assert_same(visibility(small, r[:, :1], 25.0, pairs=True), visibility_brute_force(small, r[:, :1], 25.0, pairs=True))
    assert_same(visibility(big, r, 25.0, pairs=True, max_elevation=True), first)


def _capture(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple]:
    """Records the arguments of every call of ``leonet.coverage.visibility.<name>``."""
    import leonet.coverage.visibility as vis

    calls: list[tuple] = []
    real = getattr(vis, name)

    def spy(*args: object) -> object:
        out = real(*args)
        # Arrays as they were right after the call (the caller may reuse them in place).
        calls.append((*(a.copy() if isinstance(a, np.ndarray) else a for a in args), out))
        return out

    monkeypatch.setattr(vis, name, spy)
    return calls


def test_wide_sub_blocks_keep_a_bit_per_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sub-block with more unsure satellites than one word holds (large sub-blocks; blocks
    too wide for the shortcut, where every gathered satellite is unsure) keeps a bit per entry
    for each point instead of its list: the pairs still equal the reference."""
    from leonet.coverage.scan import U_CAP

    stores = _capture(monkeypatch, "new_store")
    rng = np.random.default_rng(11)
    lat, lon, alt = dense_points(rng, per_cluster=300)
    r = constellation(rng, lat, lon, alt, 25.0, 1)
    gp = GroundPoints.from_geodetic(lat, lon, alt)
    ref = visibility_brute_force(gp, r, 25.0, pairs=True, max_elevation=True, workers=2)
    for sizes in ((2048, 2048), (None, None)):
        stores.clear()
        assert_same(visibility(blocked(gp, *sizes), r, 25.0, pairs=True, max_elevation=True, threads=1), ref)
        listed = stores[-1][-1][3][:, 1]
        assert listed.max() <= U_CAP
        if sizes[0] is None:
            assert (listed >= 0).mean() > 0.5  # most sub-blocks of the default sizes list theirs
        else:
            assert (listed == -1).any()  # the case this test is for


def test_pairs_writers_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's paths (sixteen entries at a time by vector compress, eight set bits at a
    time, one slot at a time at the end of each range; one thread or several ranges) write the
    same pairs, whatever this CPU prefers."""
    from leonet.coverage.scan import write_pairs, write_pairs_serial

    writes = _capture(monkeypatch, "write_pairs_serial")
    rng = np.random.default_rng(12)
    lat, lon, alt = dense_points(rng, per_cluster=300)
    r = constellation(rng, lat, lon, alt, 25.0, 1)
    gp = GroundPoints.from_geodetic(lat, lon, alt)
    v = visibility(gp, r, 25.0, pairs=True, threads=1)
    assert_same(v, visibility_brute_force(gp, r, 25.0, pairs=True, workers=2))
    cells, store, offsets, written, _ = writes[-1]  # rows of the satellites the call kept
    assert written.size == v.sat_index.size > 100_000
    for simd in (True, False):
        for parts in (1, 3, 64):
            out = np.full(written.size, -1, np.int32)
            write_pairs(cells, store, offsets, out, parts, simd)
            np.testing.assert_array_equal(out, written)
        out = np.full(written.size, -1, np.int32)
        write_pairs_serial(cells, store, offsets, out, simd)
        np.testing.assert_array_equal(out, written)


_BOUNDS_CHECKED = """
import numpy as np
from leonet.coverage.visibility import visibility, visibility_brute_force
from leonet.ground.points import GroundPoints
rng = np.random.default_rng(4)
pts = GroundPoints.from_geodetic(np.degrees(np.arcsin(rng.uniform(-1, 1, 3000))), rng.uniform(-180, 180, 3000))
u = rng.normal(size=(400, 2, 3))
r = u / np.linalg.norm(u, axis=2, keepdims=True) * rng.uniform(6700.0, 7400.0, (400, 1, 1))
for mask in (0.0, 25.0):
    for threads in (1, 2):
        v = visibility(pts, r, mask, pairs=True, max_elevation=True, threads=threads)
        ref = visibility_brute_force(pts, r, mask, pairs=True, max_elevation=True)
        assert np.array_equal(v.counts, ref.counts) and np.array_equal(v.sat_index, ref.sat_index)
        assert np.array_equal(v.max_elevation_deg, ref.max_elevation_deg, equal_nan=True)
print("ok")
"""


def test_kernels_stay_in_bounds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The scan and the pairs writer compiled with numba's bounds checks (a fresh cache): no
    padded candidate list or store word reaches past its array, with and without the shortcut
    (masks 0 and 25 deg), pairs and highest elevations on, one thread and two."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", _BOUNDS_CHECKED], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]
