"""The numba kernels behind :func:`leonet.coverage.visibility.visibility`.

Each time step bins the satellites by direction (:func:`bin_satellites`); each block of nearby
ground points gathers from the bins every satellite within ``lam + rho`` of its
centre (:func:`gather`), then works through its sub-blocks of a few points. When the pairs are
wanted, the scan also keeps the block's candidates, each sub-block's bits over them (those all
its points see, and its unsure ones) and each point's word with a bit per unsure satellite that
passes the exact test; :func:`write_pairs` turns those into the CSR lists afterwards, in the
points' order.

Most pairs are decided without the per-pair test, and provably the same way. On a sphere
through a point at geocentric radius ``R`` a satellite at radius ``r`` has geocentric elevation
at least ``e > 0`` exactly when the central angle ``theta`` between them is at most
``acos(R cos e / r) - e`` (law of sines in the centre-point-satellite triangle), and that
angle shrinks as ``R`` or ``e`` grows. The geodetic elevation differs from the geocentric one by
at most the angle ``dev`` between the point's geodetic up and its geocentric direction. So with
a block's radii in ``[R_lo, R_hi]`` and deviations below ``dev``, and a sub-block of angular
radius ``rho`` around its centre:

- every point of the sub-block sees the satellite (it is *sure*) when
  ``theta_centre + rho <= acos(R_hi cos(m + dev) / r) - (m + dev)``;
- no point sees it when ``theta_centre - rho > acos(R_lo cos(m - dev) / r) - (m - dev)``;
- only the satellites in between (*unsure*, a ring ~1-2 deg wide at the footprint's edge)
  get the exact test (:func:`leonet.geometry.above_mask_jit`, the project's one elevation test,
  eight satellites at a time through :func:`leonet.geometry.above_mask8`).

Comparisons run on cosines with a margin of ``SURE_MARGIN`` (1e-7, centimetres on the ground),
far above rounding, so a pair decided without the test is decided as the test would decide it.
The shortcut applies when ``m - dev > 0`` and there is no range limit; otherwise every gathered
satellite is unsure and tested, as before.

The highest elevation in view per point is the largest ``du / |d|`` over the satellites it
sees; by the same monotony the block bounds every satellite's sine of elevation from above and
every sure satellite's from below (``|sin a - sin b| <= |a - b|`` takes care of ``dev``), and
only satellites whose upper bound reaches the best lower bound can be the highest. The block
narrows its candidates so, each group of ``MAX_GROUP_SUBS`` sub-blocks narrows the block's, each
sub-block the group's (over ever smaller caps: ~56, ~19, then ~4 satellites at resolution 5),
and each point evaluates the sub-block's few exactly, with the same floating-point expression as
the reference (:func:`leonet.geometry.highest_sin8`, eight at a time).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros

from leonet.coverage._bits import VECTOR_COMPRESS, compress16, pdep, popcount, prefetch
from leonet.geometry import above_mask8, above_mask_jit, highest_sin8, line_of_sight_jit

SURE_MARGIN = 1e-7  # on cosines and sines of elevation: far above rounding, centimetres on the ground
LANES = 8  # loops over satellites run in multiples of this (padded): the width of geometry's above_mask8 and highest_sin8, vectorised loops' too
WRITE_AHEAD = 16  # cells the pairs writer prefetches ahead (10% less time on one thread, less on two: memory-bound)
U_CAP = 64  # unsure satellites of a sub-block that one word per point covers; more: a bit per entry
MAX_GROUP_SUBS = 8  # sub-blocks that share one narrowed list of candidates for the highest elevation
SURE_MAX_RADIUS_RAD = 0.5  # blocks wider than this (scattered points) test every pair
TINY_KM = 1e-300  # floor of the range in sin(elevation) = d.u / |d|: a satellite at the point gives 0, not NaN


@njit(cache=True)
def bin_satellites(r_sat: np.ndarray, n_lat: int, n_lon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Counting sort of the finite satellites of ``r_sat`` ``(sats, 3)`` by geocentric lat/lon bin.

    Returns ``start`` ``(n_lat * n_lon + 1,)`` (bin b holds sorted rows ``start[b]:start[b+1]``,
    bins row-major by latitude), ``order`` (sorted row -> satellite row, ascending in a bin),
    ``xyz`` ``(3, m)`` sorted positions (km) and ``unit`` ``(3, m)`` their directions."""
    n = r_sat.shape[0]
    dlat = math.pi / n_lat
    dlon = 2.0 * math.pi / n_lon
    bin_of = np.empty(n, np.int64)
    start = np.zeros(n_lat * n_lon + 1, np.int64)
    for k in range(n):
        x, y, z = r_sat[k, 0], r_sat[k, 1], r_sat[k, 2]
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(z)):
            bin_of[k] = -1
            continue
        r = math.sqrt(x * x + y * y + z * z)
        lat = math.asin(min(1.0, max(-1.0, z / r))) if r > 0.0 else 0.0
        i = min(n_lat - 1, max(0, int((lat + 0.5 * math.pi) / dlat)))
        j = min(n_lon - 1, max(0, int((math.atan2(y, x) + math.pi) / dlon)))
        b = i * n_lon + j
        bin_of[k] = b
        start[b + 1] += 1
    for b in range(n_lat * n_lon):
        start[b + 1] += start[b]
    m = start[n_lat * n_lon]
    fill = start[:-1].copy()
    order = np.empty(m, np.int32)
    xyz = np.empty((3, m))
    unit = np.empty((3, m))
    for k in range(n):
        b = bin_of[k]
        if b >= 0:
            p = fill[b]
            fill[b] = p + 1
            order[p] = k
            r = math.sqrt(r_sat[k, 0] ** 2 + r_sat[k, 1] ** 2 + r_sat[k, 2] ** 2)
            for d in range(3):
                xyz[d, p] = r_sat[k, d]
                unit[d, p] = r_sat[k, d] / r if r > 0.0 else 0.0
    return start, order, xyz, unit


@njit(cache=True)
def _radix_order(keys: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - compiled
    """Stable ascending order of ``keys[:n]`` (int32 in [0, 65536)): two 8-bit counting-sort
    passes, ~5x quicker than argsort on the few hundred keys a block gathers."""
    lo = np.zeros(257, np.int64)
    hi = np.zeros(257, np.int64)
    for q in range(n):
        lo[(keys[q] & 255) + 1] += 1
        hi[(keys[q] >> 8) + 1] += 1
    for d in range(256):
        lo[d + 1] += lo[d]
        hi[d + 1] += hi[d]
    tmp = np.empty(n, np.int64)
    for q in range(n):
        d = keys[q] & 255
        tmp[lo[d]] = q
        lo[d] += 1
    out = np.empty(n, np.int64)
    for j in range(n):
        q = tmp[j]
        d = keys[q] >> 8
        out[hi[d]] = q
        hi[d] += 1
    return out


@njit(cache=True)
def _cap_bins(n_lat: int, n_lon: int, cx: float, cy: float, cz: float, radius: float) -> tuple[int, int, int, int, float]:  # pragma: no cover - compiled
    """The bins a cap of central angle ``radius`` around the unit vector ``(cx, cy, cz)``
    touches: latitude rows ``i0..i1`` and longitude columns ``a..z`` (``a > z``: the run wraps
    the antimeridian; every longitude for a cap over a pole), and ``cos(radius)`` (-2: whole
    sphere)."""
    half_pi = 0.5 * math.pi
    dlat = math.pi / n_lat
    dlon = 2.0 * math.pi / n_lon
    lat_c = math.asin(min(1.0, max(-1.0, cz)))
    lon_c = math.atan2(cy, cx)
    whole = radius >= math.pi
    cos_r = math.cos(radius) if not whole else -2.0
    i0, i1, a, z = 0, n_lat - 1, 0, n_lon - 1
    if not whole:
        lat0 = lat_c - radius
        lat1 = lat_c + radius
        i0 = max(0, int(math.floor((lat0 + half_pi) / dlat)))
        i1 = min(n_lat - 1, int(math.floor((lat1 + half_pi) / dlat)))
        # Longitude half-width of a spherical cap is asin(sin r / cos lat); over a pole, all.
        if lat0 > -half_pi and lat1 < half_pi:
            s = math.sin(radius) / math.cos(lat_c)
            if s < 1.0:
                w = math.asin(s)
                j0 = int(math.floor((lon_c - w + math.pi) / dlon))
                j1 = int(math.floor((lon_c + w + math.pi) / dlon))
                if j1 - j0 + 1 < n_lon:
                    a = j0 % n_lon
                    z = j1 % n_lon
    return i0, i1, a, z, cos_r


@njit(cache=True)
def _bins_size(start: np.ndarray, n_lon: int, i0: int, i1: int, a: int, z: int) -> int:  # pragma: no cover - compiled
    """Satellites in the bins of :func:`_cap_bins`: at least as many as the cap holds."""
    size = 0
    for i in range(i0, i1 + 1):
        row = i * n_lon
        if a <= z:
            size += start[row + z + 1] - start[row + a]
        else:  # the cap wraps the antimeridian: two runs
            size += start[row + n_lon] - start[row + a] + start[row + z + 1] - start[row]
    return size


@njit(cache=True)
def gather(start: np.ndarray, order: np.ndarray, xyz: np.ndarray, unit: np.ndarray, n_lat: int, n_lon: int,
           cx: float, cy: float, cz: float, radius: float, by_row: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Satellites within central angle ``radius`` of the unit vector ``(cx, cy, cz)``: the bins
    the cap touches (:func:`_cap_bins`), then an exact dot-product test. Returns their positions
    ``(3, m)`` (km), directions ``(3, m)`` and rows ``(m,)``, ascending by row when ``by_row``."""
    i0, i1, a, z, cos_r = _cap_bins(n_lat, n_lon, cx, cy, cz, radius)
    size = _bins_size(start, n_lon, i0, i1, a, z)
    gi = np.empty(size, np.int32)
    gk = np.empty(size, np.int64)
    m = 0
    for i in range(i0, i1 + 1):
        row = i * n_lon
        for part in range(1 if a <= z else 2):
            if part == 0:
                lo = start[row + a]
                hi = start[row + (z if a <= z else n_lon - 1) + 1]
            else:
                lo = start[row]
                hi = start[row + z + 1]
            for k in range(lo, hi):
                if unit[0, k] * cx + unit[1, k] * cy + unit[2, k] * cz >= cos_r:
                    gi[m] = order[k]
                    gk[m] = k
                    m += 1
    sel = _radix_order(gi, m) if by_row else np.arange(m)
    g = np.empty((3, m))
    gu = np.empty((3, m))
    rows = np.empty(m, np.int32)
    for q in range(m):
        k = gk[sel[q]]
        for d in range(3):
            g[d, q] = xyz[d, k]
            gu[d, q] = unit[d, k]
        rows[q] = order[k]
    return g, gu, rows


@njit(cache=True)
def gather_bounds(pts: tuple, bins: tuple) -> np.ndarray:  # pragma: no cover - compiled
    """Per block ``(blocks,)``: satellites in the bins its ``lam + rho`` cap touches, at least
    as many as :func:`gather` returns for it (sizes the pairs pass's storage)."""
    block_center, block_radius = pts[4], pts[5]
    start, n_lat, n_lon, lam = bins[0], bins[4], bins[5], bins[6]
    out = np.empty(block_radius.shape[0], np.int64)
    for b in range(block_radius.shape[0]):
        i0, i1, a, z, _ = _cap_bins(n_lat, n_lon, block_center[0, b], block_center[1, b], block_center[2, b], lam + block_radius[b])
        out[b] = _bins_size(start, n_lon, i0, i1, a, z)
    return out


@njit(cache=True, inline="always")
def _sin_elevation_bound(cos_theta: float, r_ground: float, r_sat: float) -> float:  # pragma: no cover - compiled
    """Sine of the geocentric elevation of a satellite at radius ``r_sat`` seen from radius
    ``r_ground`` at central angle ``acos(cos_theta)``: ``(r cos t - R) / |d|``; it grows with
    ``cos_theta`` and falls with ``r_ground``."""
    dd = r_sat * r_sat + r_ground * r_ground - 2.0 * r_sat * r_ground * cos_theta
    return (r_sat * cos_theta - r_ground) / math.sqrt(max(dd, 1e-30))


@njit(cache=True, inline="always")
def _cos_reach(r_ground: float, r_sat: float, cos_e: float, sin_e: float) -> float:  # pragma: no cover - compiled
    """``cos(acos(R cos e / r) - e)``: the cosine of the largest central angle at which a
    satellite at radius ``r`` has geocentric elevation ``e`` (> 0) from radius ``R``; 2 (no
    angle) when the satellite is not above ``R``."""
    x = r_ground * cos_e / r_sat
    if not x < cos_e:
        return 2.0
    return x * cos_e + math.sqrt(max(0.0, 1.0 - x * x)) * sin_e


# The kernels take their many arrays in tuples (numba types each tuple by its members):
# ``pts`` = (pos (3, cells), up (3, cells), perm, block_start, block_center (3, blocks),
# block_radius, sub_start, block_sub, sub_center (3, subs), sub_radius, block_r_lo, block_r_hi,
# block_dev), :class:`~leonet.coverage.visibility.BlockedPoints`' fields, ``pos`` and ``up`` in
# ``perm`` order; ``bins`` = (start, order, xyz, unit, n_lat, n_lon, lam), one step's satellites
# from :func:`bin_satellites` and its search radius; ``steps`` = (r (sats, times, 3), lam
# (times,), n_lat (times,), n_lon (times,)); ``test`` = (sin_m, cos_m, max_range2);
# ``out`` = (counts (cells, times), max_sin (cells, times) or (1, 1), the column to write);
# ``store`` = (ent_row, bits, info (blocks, 3), sub_at (subs, 2)), what a step's scan keeps
# for writing its pairs (:func:`new_store`, :func:`write_pairs`): block ``b``'s entries
# (satellite rows, ascending; 64 of padding after the last block) start at
# ``ent_row[info[b, 0]]``, ``info[b, 1]`` words of bits cover them, its words start at
# ``bits[info[b, 2]]``. Sub-block ``s``'s words start at ``bits[sub_at[s, 0]]``: the entries all
# its points see, then (``sub_at[s, 1]`` unsure satellites, at most U_CAP) the unsure entries
# and one word per point, bit ``i`` for the ``i``-th unsure one; or (``sub_at[s, 1] == -1``) a
# bit per entry for each point.


def new_array(key: str, size: int, dtype: type) -> np.ndarray:
    """A fresh ``(size,)`` array: :func:`new_store`'s allocator where nothing is kept."""
    return np.empty(size, dtype)


def new_store(block_start: np.ndarray, block_sub: np.ndarray, bound: np.ndarray,
              alloc: Callable[[str, int, type], np.ndarray] = new_array) -> tuple:
    """Storage for one step's pairs, from each block's bound on its gathered satellites
    (:func:`gather_bounds`, ``(blocks,)``): block ``b`` may keep ``bound[b]`` entries and
    ``ceil(bound[b] / 64)`` words of bits two per sub-block (its sure bits and its unsure
    entries') and one per point; it fills its words from the start of its share, so only the
    pages it fills are touched. ``alloc(name, size, dtype)``:
    where the big arrays come from (e.g. :meth:`leonet.cpu.Scratch.get`, reused between calls)."""
    blocks = bound.shape[0]
    n_subs = int(block_sub[-1]) if block_sub.size else 0
    per_block = (np.diff(block_start) + 2 * np.diff(block_sub)) * ((bound + 63) // 64)
    info = np.zeros((blocks, 3), np.int64)
    if blocks:
        np.cumsum(bound[:-1], out=info[1:, 0])
        np.cumsum(per_block[:-1], out=info[1:, 2])
    return (alloc("entries", int(bound.sum()) + 64, np.int32), alloc("bits", int(per_block.sum()), np.uint64), info,
            alloc("sub_at", 2 * n_subs, np.int64).reshape(n_subs, 2))


@njit(cache=True)
def no_store() -> tuple:  # pragma: no cover - compiled
    """A ``store`` of the right types for scans that keep nothing."""
    return np.zeros(1, np.int32), np.zeros(1, np.uint64), np.zeros((1, 3), np.int64), np.zeros((1, 2), np.int64)


@njit(cache=True)
def scan_block(b: int, pts: tuple, bins: tuple, test: tuple, keep_pairs: bool, want_max: bool, out: tuple, store: tuple) -> None:  # pragma: no cover - compiled
    """One time step for block ``b`` (points ``perm[block_start[b]:block_start[b + 1]]``):
    ``counts[c]`` and, with ``want_max``, ``max_sin[c]`` (-2 when none).

    See the module docstring for the sure/unsure split: the block splits its gathered
    satellites once (sure for the whole block / possible / never), each sub-block splits the
    block's possible-but-not-sure ones again, and each point tests only its sub-block's unsure
    satellites. With ``keep_pairs`` the block also keeps, in ``store``, its entries (the rows
    of the satellites some point may see, ascending), per sub-block its bits over the entries
    (those all its points see, and its unsure ones), and per point one word with a bit per
    unsure satellite (set: in view): all :func:`write_pairs` needs, without a second scan. Loops over
    satellites run to a multiple of ``LANES`` (padded with NaN satellites, never in view)."""
    pos, up, perm, block_start, block_center, block_radius, sub_start, block_sub, sub_center, sub_radius, b_r_lo, b_r_hi, b_dev = pts
    start, order, xyz, unit, n_lat, n_lon, lam = bins
    sin_m, cos_m, max_range2 = test
    counts, max_sin, col = out
    ent_row, bits, info, sub_at = store
    cx, cy, cz = block_center[0, b], block_center[1, b], block_center[2, b]
    g, gu, rows = gather(start, order, xyz, unit, n_lat, n_lon, cx, cy, cz, lam + block_radius[b], keep_pairs)
    m = rows.shape[0]
    r_lo, r_hi, dev = b_r_lo[b], b_r_hi[b], b_dev[b]
    cos_d, sin_d = math.cos(dev), math.sin(dev)
    sin_out = sin_m * cos_d - cos_m * sin_d  # sin(m - dev)
    sure = sin_out > 0.0 and max_range2 == math.inf and block_radius[b] < SURE_MAX_RADIUS_RAD
    cos_in, sin_in = cos_m * cos_d - sin_m * sin_d, sin_m * cos_d + cos_m * sin_d
    cos_out = cos_m * cos_d + sin_m * sin_d
    # Per satellite: cos of the largest central angle at which every point of the block surely
    # sees it (k_in; 2 = none) and beyond which none can (k_out; -2 = no bound, 2 = none sees it).
    # One workspace of each type for the block (rows used up to m, n_kept, n_mid or n_top):
    # a few allocations per block rather than dozens.
    fw = np.empty((34, m + LANES))
    gux, guy, guz, g_r, g_in, g_hi, g_lo = fw[27], fw[28], fw[29], fw[30], fw[31], fw[32], fw[33]
    k_in, k_out, r_sat, c_blk, s_blk = fw[0], fw[1], fw[2], fw[3], fw[4]
    kx, ky, kz, ux, uy, uz = fw[5], fw[6], fw[7], fw[8], fw[9], fw[10]
    mux, muy, muz, m_in, m_out, sin_in_m, sin_out_m = fw[11], fw[12], fw[13], fw[14], fw[15], fw[16], fw[17]
    tux, tuy, tuz, t_r, t_in, t_hi, tx, ty, tz = fw[18], fw[19], fw[20], fw[21], fw[22], fw[23], fw[24], fw[25], fw[26]
    iw = np.empty((5, m + LANES), np.int64)  # s_top holds padded candidates too
    keep, mid, top, s_top, u_at = iw[0], iw[1], iw[2], iw[3], iw[4]
    bw = np.empty((3, m + 1), np.uint8)
    # Per sub-block: which of the block's middle satellites are sure (s_sure), which unsure
    # (s_maybe and not s_sure; u_at: where in the kept list, at ux, uy, uz).
    k_sure, s_sure, s_maybe = bw[0], bw[1], bw[2]
    k_row = np.empty(m + 1, np.int32)
    for k in range(m):
        r_sat[k] = math.sqrt(g[0, k] * g[0, k] + g[1, k] * g[1, k] + g[2, k] * g[2, k])
        c = gu[0, k] * cx + gu[1, k] * cy + gu[2, k] * cz
        c_blk[k] = c
        s_blk[k] = math.sqrt(max(0.0, 1.0 - c * c))
    if sure:
        for k in range(m):
            ki = _cos_reach(r_hi, r_sat[k], cos_in, sin_in)
            ko = _cos_reach(r_lo, r_sat[k], cos_out, sin_out)
            k_in[k] = ki + SURE_MARGIN if ki < 1.5 else 2.0
            k_out[k] = ko - SURE_MARGIN if ko < 1.5 else 2.0
    else:
        k_in[:] = 2.0
        k_out[:] = -2.0
    # The block's split: keep the satellites some point may see (ascending rows stay ascending).
    cr, sr = math.cos(block_radius[b]), math.sin(block_radius[b])
    n_kept = 0
    for k in range(m):
        c_near = 1.0 if c_blk[k] >= cr else c_blk[k] * cr + s_blk[k] * sr  # cos(max(0, theta - rho))
        keep[n_kept] = k
        n_kept += c_near >= k_out[k]
    n_mid = 0  # kept satellites not sure for the whole block: mid[:n_mid]
    n_sure_b = 0
    for j in range(n_kept):
        k = keep[j]
        kx[j], ky[j], kz[j] = g[0, k], g[1, k], g[2, k]
        k_row[j] = rows[k]
        f = c_blk[k] * cr - s_blk[k] * sr >= k_in[k]  # cos(theta + rho)
        k_sure[j] = f
        n_sure_b += f
        mid[n_mid] = j
        n_mid += 1 - f
    for i in range(n_mid):
        k = keep[mid[i]]
        mux[i], muy[i], muz[i], m_in[i], m_out[i] = gu[0, k], gu[1, k], gu[2, k], k_in[k], k_out[k]
    # Sines of those angles (0 for the sentinels): a sub-block of radius rho then tests
    # cos(theta + rho) >= m_in as cos(theta) >= cos(a_in - rho) (with a_in >= rho, i.e.
    # m_in <= cos(rho)), and cos(max(0, theta - rho)) >= m_out as cos(theta) >= cos(a_out + rho):
    # no square root per satellite and sub-block. The decisions are those of the angles
    # themselves to rounding, far inside SURE_MARGIN.
    for i in range(n_mid):
        sin_in_m[i] = math.sqrt(max(0.0, 1.0 - m_in[i] * m_in[i]))
        sin_out_m[i] = math.sqrt(max(0.0, 1.0 - m_out[i] * m_out[i]))
    # Candidates for the highest elevation: upper bound over the block >= the best lower bound
    # of a satellite every point sees; each group of sub-blocks narrows them again.
    n_top = 0
    if want_max:
        best_lo = -math.inf
        if sure:
            for j in range(n_kept):
                if k_sure[j]:
                    k = keep[j]
                    c_far = c_blk[k] * cr - s_blk[k] * sr
                    best_lo = max(best_lo, _sin_elevation_bound(c_far, r_hi, r_sat[k]) - dev - SURE_MARGIN)
        for j in range(n_kept):
            k = keep[j]
            c_near = 1.0 if c_blk[k] >= cr else c_blk[k] * cr + s_blk[k] * sr
            hi = _sin_elevation_bound(c_near, r_lo, r_sat[k]) + dev + SURE_MARGIN
            top[n_top] = j
            n_top += hi >= best_lo
    for i in range(n_top):
        k = keep[top[i]]
        tux[i], tuy[i], tuz[i], t_r[i], t_in[i] = gu[0, k], gu[1, k], gu[2, k], r_sat[k], k_in[k]
    n_topp = _pad_candidates(n_top, tux, tuy, tuz, t_r, t_in)
    n_g = n_gp = 0  # the candidates of the current group of sub-blocks: s_top[:n_g] (kept index), gux.. (n_g padded)
    n_s = n_sp = 0  # those of the current sub-block, at tx, ty, tz (n_s padded)
    cnt = np.empty(max(1, block_start[b + 1] - block_start[b]), np.int64)
    # keep_pairs: the block's entries are its kept satellites (ascending rows). Each sub-block
    # keeps one bit per entry for the satellites all its points see (the block's sure ones, then
    # its own), one bit per entry for its unsure ones (at most U_CAP) and, per point, one word
    # with a bit per unsure satellite that the exact test passes (write_pairs deposits it at the
    # unsure entries' bits). A sub-block with more unsure satellites keeps, per point, one bit
    # per entry instead.
    words = (n_kept + 63) >> 6
    block_bits = np.zeros(words, np.uint64)
    mid_w = np.zeros(words + 1 if keep_pairs else 1, np.int64)  # mid[mid_w[w]:mid_w[w + 1]]: the middle entries in word w
    if keep_pairs:
        i = 0
        for w in range(words + 1):
            while i < n_mid and mid[i] < 64 * w:
                i += 1
            mid_w[w] = i
    h_at = info[b, 2] if keep_pairs else 0  # where the next sub-block's words go
    if keep_pairs:
        e0 = info[b, 0]
        info[b, 1] = words
        for j in range(n_kept):
            ent_row[e0 + j] = k_row[j]
            block_bits[j >> 6] |= np.uint64(k_sure[j]) << np.uint64(j & 63)
    for s in range(block_sub[b], block_sub[b + 1]):
        sx, sy, sz = sub_center[0, s], sub_center[1, s], sub_center[2, s]
        scr, ssr = math.cos(sub_radius[s]), math.sin(sub_radius[s])
        q0, q1 = sub_start[s], sub_start[s + 1]
        nq = q1 - q0
        if want_max and (s - block_sub[b]) % MAX_GROUP_SUBS == 0:
            # The candidates for the highest elevation of the next few sub-blocks: the block's,
            # narrowed by the bounds over a cap that holds those sub-blocks.
            s_end = min(s + MAX_GROUP_SUBS, block_sub[b + 1])
            gx = gy = gz = 0.0
            for t in range(s, s_end):
                gx += sub_center[0, t]
                gy += sub_center[1, t]
                gz += sub_center[2, t]
            norm = math.sqrt(gx * gx + gy * gy + gz * gz)
            g_rad = math.pi
            if norm > 1e-9:
                gx, gy, gz = gx / norm, gy / norm, gz / norm
                g_rad = 0.0
                for t in range(s, s_end):
                    c = gx * sub_center[0, t] + gy * sub_center[1, t] + gz * sub_center[2, t]
                    g_rad = max(g_rad, math.acos(min(1.0, max(-1.0, c))) + sub_radius[t])
                g_rad += 1e-7  # acos near 1 is good to ~2e-8 rad
            gcr, gsr = math.cos(min(g_rad, math.pi)), math.sin(min(g_rad, math.pi))
            best_lo = _cap_elevation_bounds(n_topp, tux, tuy, tuz, t_r, t_in, gx, gy, gz, gcr, gsr, r_lo, r_hi, dev, t_hi, g_lo)
            if not sure or g_rad >= SURE_MAX_RADIUS_RAD:
                best_lo = -math.inf
            n_g = 0
            for i in range(n_top):
                s_top[n_g] = i
                n_g += t_hi[i] >= best_lo
            for i in range(n_g):
                j = s_top[i]
                gux[i], guy[i], guz[i], g_r[i], g_in[i] = tux[j], tuy[j], tuz[j], t_r[j], t_in[j]
                s_top[i] = top[j]
            n_gp = _pad_candidates(n_g, gux, guy, guz, g_r, g_in)
            s_top[n_g:n_gp] = 0  # padding reads a real entry's position (never kept)
        if want_max:
            # The group's candidates narrowed again by the bounds over this sub-block's cap:
            # ~4 of ~19 at resolution 5, so each point evaluates one vector of LANES.
            best_lo = _cap_elevation_bounds(n_gp, gux, guy, guz, g_r, g_in, sx, sy, sz, scr, ssr, r_lo, r_hi, dev, g_hi, g_lo)
            if not sure or sub_radius[s] >= SURE_MAX_RADIUS_RAD:
                best_lo = -math.inf
            n_s = 0
            for i in range(n_gp):
                j = s_top[i]
                tx[n_s], ty[n_s], tz[n_s] = kx[j], ky[j], kz[j]
                n_s += g_hi[i] >= best_lo
            n_sp = (n_s + LANES - 1) // LANES * LANES
            for i in range(n_s, n_sp):  # padding: never in view, elevation -2
                tx[i] = ty[i] = tz[i] = math.nan
        n_sure = n_sure_b
        for i in range(n_mid):  # branch-free, so that it vectorises
            c = mux[i] * sx + muy[i] * sy + muz[i] * sz
            f = (c >= m_in[i] * scr + sin_in_m[i] * ssr) & (m_in[i] <= scr)
            s_sure[i] = f
            s_maybe[i] = c >= m_out[i] * scr - sin_out_m[i] * ssr
            n_sure += f
        n_u = 0
        for i in range(n_mid):  # branch-free: most of them are sure or out
            u_at[n_u] = mid[i]
            n_u += s_maybe[i] & (1 - s_sure[i])
        wide = n_u > U_CAP
        if keep_pairs:
            sub_at[s, 0] = h_at
            sub_at[s, 1] = -1 if wide else n_u
            # Word by word in registers: mid ascends, so each word's middle entries are one run.
            for w in range(words):
                acc_s = block_bits[w]
                acc_u = np.uint64(0)
                for i in range(mid_w[w], mid_w[w + 1]):
                    sh = np.uint64(mid[i] & 63)
                    acc_s |= np.uint64(s_sure[i]) << sh
                    acc_u |= np.uint64(s_maybe[i] & (1 - s_sure[i])) << sh
                bits[h_at + w] = acc_s
                if not wide:
                    bits[h_at + words + w] = acc_u
            h_at += words if wide else 2 * words
        for i in range(n_u):
            j = u_at[i]
            ux[i], uy[i], uz[i] = kx[j], ky[j], kz[j]
        # Padded with satellites never in view (NaN) to a multiple of LANES: the loops over them
        # then run vectorised to the end, not ~half of them in the scalar remainder.
        n_up = (n_u + LANES - 1) // LANES * LANES
        for i in range(n_u, n_up):
            ux[i] = uy[i] = uz[i] = math.nan
        # The exact test of the unsure satellites.
        if keep_pairs and not wide:
            if n_u:
                for qq in range(nq):
                    q = q0 + qq
                    px, py, pz = pos[0, q], pos[1, q], pos[2, q]
                    vx, vy, vz = up[0, q], up[1, q], up[2, q]
                    acc = np.uint64(0)
                    for i in range(0, n_up, LANES):
                        acc |= above_mask8(ux, uy, uz, i, px, py, pz, vx, vy, vz, sin_m, max_range2) << np.uint64(i)
                    bits[h_at + qq] = acc
                    cnt[qq] = np.uint64(n_sure) + popcount(acc)
                h_at += nq
            else:
                cnt[:nq] = n_sure
        elif keep_pairs:
            for qq in range(nq):
                q = q0 + qq
                px, py, pz = pos[0, q], pos[1, q], pos[2, q]
                vx, vy, vz = up[0, q], up[1, q], up[2, q]
                base = h_at + qq * words
                for w in range(words):
                    bits[base + w] = 0
                n = n_sure
                for i in range(n_u):
                    du, dd = line_of_sight_jit(ux[i], uy[i], uz[i], px, py, pz, vx, vy, vz)
                    h = above_mask_jit(du, dd, sin_m) & (dd <= max_range2)
                    j = u_at[i]
                    bits[base + (j >> 6)] |= np.uint64(h) << np.uint64(j & 63)
                    n += h
                cnt[qq] = n
            h_at += nq * words
        else:
            for qq in range(nq):
                q = q0 + qq
                px, py, pz = pos[0, q], pos[1, q], pos[2, q]
                vx, vy, vz = up[0, q], up[1, q], up[2, q]
                n = np.uint64(n_sure)
                for i in range(0, n_up, LANES):
                    n += popcount(above_mask8(ux, uy, uz, i, px, py, pz, vx, vy, vz, sin_m, max_range2))
                cnt[qq] = n
        for qq in range(nq):
            counts[perm[q0 + qq], col] = cnt[qq]
        if not want_max:
            continue
        for qq in range(nq):
            q = q0 + qq
            px, py, pz = pos[0, q], pos[1, q], pos[2, q]
            vx, vy, vz = up[0, q], up[1, q], up[2, q]
            best = -2.0
            for i in range(0, n_sp, LANES):
                best = max(best, highest_sin8(tx, ty, tz, i, px, py, pz, vx, vy, vz, sin_m, max_range2, TINY_KM))
            max_sin[perm[q], col] = best


@njit(cache=True, inline="always")
def _pad_candidates(n: int, ux: np.ndarray, uy: np.ndarray, uz: np.ndarray, r_sat: np.ndarray, k_in: np.ndarray) -> int:  # pragma: no cover - compiled
    """Pads candidates ``i < n`` for :func:`_cap_elevation_bounds` to a multiple of ``LANES``
    with ones whose bounds are NaN (never kept) and whose lower bound is -2, so that its loop
    runs vectorised to the end; returns the padded count."""
    n_pad = (n + LANES - 1) // LANES * LANES
    for i in range(n, n_pad):
        ux[i] = uy[i] = uz[i] = math.nan
        r_sat[i], k_in[i] = 1.0, 2.0
    return n_pad


@njit(cache=True, inline="always")
def _cap_elevation_bounds(n: int, ux: np.ndarray, uy: np.ndarray, uz: np.ndarray, r_sat: np.ndarray, k_in: np.ndarray,
                          cx: float, cy: float, cz: float, cos_rho: float, sin_rho: float, r_lo: float, r_hi: float,
                          dev: float, hi: np.ndarray, lo: np.ndarray) -> float:  # pragma: no cover - compiled
    """Bounds on the sine of elevation of candidates ``i < n`` (directions ``ux, uy, uz``,
    radii ``r_sat``, block's sure-cosines ``k_in``) over the points of a cap of radius ``rho``
    around ``(cx, cy, cz)`` (in a block with radii ``[r_lo, r_hi]`` and deviation ``dev``):
    ``hi[i]`` above the sine at every point, ``lo[i]`` below it where every point surely sees
    the candidate (else -2). Returns the largest ``lo`` (-2 when none): no candidate whose
    ``hi`` is below it can be a point's highest. Branch-free, so that it vectorises."""
    for i in range(n):
        c = ux[i] * cx + uy[i] * cy + uz[i] * cz
        sn = math.sqrt(max(0.0, 1.0 - c * c))
        c_far = c * cos_rho - sn * sin_rho
        c_near = 1.0 if c >= cos_rho else c * cos_rho + sn * sin_rho
        hi[i] = _sin_elevation_bound(c_near, r_lo, r_sat[i]) + dev + SURE_MARGIN
        low = _sin_elevation_bound(c_far, r_hi, r_sat[i]) - dev - SURE_MARGIN
        lo[i] = low if c_far >= k_in[i] else -2.0
    return _max_reduce(lo, n)


@njit(cache=True, fastmath={"nnan", "nsz"})
def _max_reduce(a: np.ndarray, n: int) -> float:  # pragma: no cover - compiled
    """Largest of ``a[:n]`` (-2 when empty). The fast-math flags only let LLVM vectorise the
    reduction; the values are finite and a max is exact, so the result is unchanged."""
    best = -2.0
    for k in range(n):
        best = max(best, a[k])
    return best


@njit(parallel=True, cache=True)
def scan_step(pts: tuple, bins: tuple, test: tuple, stride: int, keep_pairs: bool, want_max: bool, out: tuple, store: tuple) -> None:  # pragma: no cover - compiled
    """One time step, threads sharing the blocks (:func:`scan_block`): for few steps over
    many points, and for every step whose pairs are kept."""
    nblocks = pts[3].shape[0] - 1
    for kb in prange(nblocks):
        # Coprime stride: each thread's share of blocks is spread over the whole point list,
        # which balances dense (mid-latitude) and sparse regions between threads.
        scan_block((kb * stride) % nblocks, pts, bins, test, keep_pairs, want_max, out, store)


@njit(cache=True)
def scan_step_serial(pts: tuple, bins: tuple, test: tuple, keep_pairs: bool, want_max: bool, out: tuple, store: tuple) -> None:  # pragma: no cover - compiled
    """:func:`scan_step` on this thread alone."""
    for b in range(pts[3].shape[0] - 1):
        scan_block(b, pts, bins, test, keep_pairs, want_max, out, store)


@njit(cache=True)
def _write_cells(c0: int, c1: int, cells: tuple, store: tuple, offsets: np.ndarray, sat_out: np.ndarray,
                 simd: bool) -> None:  # pragma: no cover - compiled
    """The satellite rows of cells ``c0 .. c1 - 1`` into ``sat_out[offsets[c]:offsets[c + 1]]``:
    the entries of the cell's sub-block that all its points see and the unsure ones the cell's
    word marks, in entry order. ``cells`` = (inv_perm, cell_sub, sub_start, sub_block). With
    ``simd``, sixteen entries at a time through :func:`~leonet.coverage._bits.compress16`,
    else eight set bits at a time. Both write past a cell's last slot (rewritten by the cells
    that follow, in this range), so the range's last cells are written one slot at a time.
    Unsigned indices: numba then skips its negative-index fix-ups."""
    inv_perm, cell_sub, sub_start, sub_block = cells
    ent_row, bits, info, sub_at = store
    one = np.uint64(1)
    most = 1
    for b in range(info.shape[0]):
        most = max(most, info[b, 1])
    loc = np.zeros(most, np.uint64)
    part_end = offsets[c1]
    for c in range(c0, c1):
        # Cells come in their own order, the store in the blocks': fetch ahead what a later
        # cell reads there (its sub-block's row of sub_at, then its bits).
        if c + 2 * WRITE_AHEAD < c1:
            prefetch(sub_at, np.uint64(2 * cell_sub[c + 2 * WRITE_AHEAD]))
        if c + WRITE_AHEAD < c1:
            s_next = cell_sub[c + WRITE_AHEAD]
            at_next = sub_at[s_next, 0]
            prefetch(bits, np.uint64(at_next))
            prefetch(bits, np.uint64(at_next + 2 * info[sub_block[s_next], 1] + inv_perm[c + WRITE_AHEAD] - sub_start[s_next]))
        s = cell_sub[c]
        b = sub_block[s]
        e0, words = info[b, 0], info[b, 1]
        sa, n_u = sub_at[s, 0], sub_at[s, 1]
        qq = inv_perm[c] - sub_start[s]
        uw = np.uint64(sa + words)
        if n_u >= 0:
            # The cell's word (bit i: the i-th unsure satellite is seen) deposited at the
            # unsure entries' bits, word by word.
            x = bits[uw + np.uint64(words + qq)] if n_u > 0 else np.uint64(0)
            for k in range(words):
                m = bits[uw + np.uint64(k)]
                loc[k] = bits[np.uint64(sa + k)] | pdep(x, m)
                pc = popcount(m)
                x = (x >> (pc >> one)) >> (pc - (pc >> one))  # x >> pc, pc up to 64
        else:  # a word per entry
            base = uw + np.uint64(qq * words)
            for k in range(words):
                loc[k] = bits[np.uint64(sa + k)] | bits[base + np.uint64(k)]
        w = np.uint64(offsets[c])
        if simd and offsets[c + 1] + 16 <= part_end:
            for k in range(words):
                x = loc[k]
                e = np.uint64(e0 + (k << 6))
                for h in range(4):
                    m16 = (x >> np.uint64(h << 4)) & np.uint64(0xFFFF)
                    compress16(ent_row, e + np.uint64(h << 4), m16, sat_out, w)
                    w += popcount(m16)
        elif offsets[c + 1] + 8 <= part_end:
            # Eight set bits at a time, unconditionally (past the last set bit, trailing_zeros
            # is 64 and reads the padding after the entries): no mispredicted exit per bit.
            for k in range(words):
                x = loc[k]
                e = np.uint64(e0 + (k << 6))
                w_end = w + popcount(x)
                while w < w_end:
                    for i in range(8):
                        sat_out[w + np.uint64(i)] = ent_row[e + np.uint64(trailing_zeros(x))]
                        x &= x - one
                    w += np.uint64(8)
                w = w_end
        else:  # the range's last cells: exactly
            for k in range(words):
                x = loc[k]
                e = np.uint64(e0 + (k << 6))
                while x:
                    sat_out[w] = ent_row[e + np.uint64(trailing_zeros(x))]
                    w += one
                    x &= x - one


@njit(parallel=True, cache=True)
def write_pairs(cells: tuple, store: tuple, offsets: np.ndarray, sat_out: np.ndarray, parts: int,
                simd: bool = VECTOR_COMPRESS) -> None:  # pragma: no cover - compiled
    """A step's pairs from what its scan kept (:func:`scan_block` with ``keep_pairs``), in the
    cells' order: ``parts`` ranges of cells, shared by the threads, each written sequentially.
    ``cells`` = (inv_perm, cell_sub, sub_start, sub_block); ``simd``: see :func:`_write_cells`
    (by default, where the CPU compresses in one instruction)."""
    n = cells[0].shape[0]
    for k in prange(parts):
        _write_cells(k * n // parts, (k + 1) * n // parts, cells, store, offsets, sat_out, simd)


@njit(cache=True)
def write_pairs_serial(cells: tuple, store: tuple, offsets: np.ndarray, sat_out: np.ndarray,
                       simd: bool = VECTOR_COMPRESS) -> None:  # pragma: no cover - compiled
    """:func:`write_pairs` on this thread alone."""
    _write_cells(0, cells[0].shape[0], cells, store, offsets, sat_out, simd)


@njit(cache=True)
def _one_step(t: int, pts: tuple, steps: tuple, test: tuple, want_max: bool, out: tuple) -> None:  # pragma: no cover - compiled
    """Step ``t`` of ``r`` ``(sats, times, 3)``: bin its satellites, scan every block into
    column ``t`` of ``counts``/``max_sin`` ``(cells, times)``. Steps with ``lam[t] < 0`` (no
    satellite position) are skipped."""
    r, lam, n_lat, n_lon = steps
    if lam[t] < 0.0:
        return
    start, order, xyz, unit = bin_satellites(r[:, t, :], n_lat[t], n_lon[t])
    bins = (start, order, xyz, unit, n_lat[t], n_lon[t], lam[t])
    store = no_store()
    for b in range(pts[3].shape[0] - 1):
        scan_block(b, pts, bins, test, False, want_max, (out[0], out[1], t), store)


@njit(parallel=True, cache=True)
def scan_steps_threads(pts: tuple, steps: tuple, test: tuple, want_max: bool, out: tuple) -> None:  # pragma: no cover - compiled
    """Every step in one call, threads sharing the steps (:func:`_one_step`): one parallel
    region per chunk of steps, not one per step (counts and highest elevations only)."""
    for t in prange(steps[0].shape[1]):
        _one_step(t, pts, steps, test, want_max, out)


@njit(cache=True)
def scan_steps_serial(pts: tuple, steps: tuple, test: tuple, want_max: bool, out: tuple) -> None:  # pragma: no cover - compiled
    """:func:`scan_steps_threads` on this thread alone (small work, or a busy machine)."""
    for t in range(steps[0].shape[1]):
        _one_step(t, pts, steps, test, want_max, out)
