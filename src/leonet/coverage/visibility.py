"""Which satellites each ground point sees: counts, (cell, satellite) pairs, best elevation.

The test is exact on the WGS84 ellipsoid. For a ground point at ITRF ``p`` (km) with geodetic
up unit vector ``u`` and a satellite at ITRF ``s``, with ``d = s - p``::

    visible  <=>  d . u >= |d| sin(min_elevation)   and   |d| <= max_range_km

Satellites whose position is NaN (SGP4 failed) are never visible.

Cost is far below ``cells x satellites``. The search radius ``lam`` is an Earth central angle
that provably contains every satellite visible from any of the points (:func:`search_radius_rad`;
computed per step from the highest satellite present). Points are grouped once into blocks of
neighbours (Hilbert order on a cube map of their directions, so any input order works; about
``BLOCK_POINTS`` points at H3 resolution 5 spacing, scaled to the points' spacing), each cut
into sub-blocks of about ``SUB_POINTS``, each with a centre and a radius ``rho``; the cells
never change, so :func:`blocked` does this once per :class:`GroundPoints`. At each step the
satellites are binned by direction on a latitude/longitude grid (bins about ``lam / 2``); each
block collects, from the bins its ``lam + rho`` cap touches (every longitude for a cap over a
pole, two runs across the antimeridian), the satellites inside that cap. Then bounds decide
most pairs without the per-pair test, provably as the test would (:mod:`leonet.coverage.scan`):
a satellite close enough to a sub-block's centre is in view of all its points, one far enough
of none; each point runs the exact test only on the ring of satellites in between (about a
sixth of those it sees at resolution 5), and the highest elevation only on the few satellites
whose upper bound reaches the best lower bound. Satellites with no position in the call, or
that come nowhere near the points' cap at any step (a regional study), are dropped first.
Without pairs, all steps of a call run in one numba kernel call: on one thread for small work
(where threads wait for each other more than they save, above all on a busy machine), else
threads share the steps, or for few steps the blocks of each step (a parallel region per step). With pairs,
each step runs alone (threads share its blocks) and its pairs are written before the next.
:func:`visibility_brute_force` is a pure-NumPy reference that tests every pair with the same
floating-point expression, so the two agree exactly.

Memory per call, for ``C`` points, ``T`` times and ``P`` visible pairs: counts ``2 C T`` bytes;
with ``pairs=True`` offsets ``8 T (C + 1)`` and satellite indices ``4 P`` bytes, plus a working
store of ~11 bytes per point for one step, kept for the next call (one store per process;
~95 MB allocated, 23 MB of it touched, for a global resolution-5 step); with ``max_elevation=True`` ``4 C T`` bytes (plus ``8 C T`` while it is
built); other temporaries are per step, ``O(C + satellites)``. With the 10,744-satellite Starlink snapshot of 2026-08-22 and a
25 deg mask a point sees ~47 satellites on average, so one step of global H3 res 4 (288,122
cells) is ~13.4 M pairs, 54 MB with offsets, and res 5 (2,016,842 cells) ~94 M pairs, 376 MB.
A call with pairs over several steps holds them twice while it joins its steps' arrays. For
long runs feed time chunks (:func:`iter_visibility`) and reduce each chunk's pairs before the
next.

Speed: ``bench/global_coverage.py`` (that snapshot; ``--baseline`` for a side-by-side run
with another checkout). Pairs are found in the same scan as the counts, step by step: each
block keeps its candidate satellites (ascending rows), each sub-block a bit per candidate for
those all its points see and for its unsure ones, each point one word with a bit per unsure
satellite that passes the exact test (:func:`~leonet.coverage.scan.scan_block`); the counts then
size the step's output exactly and :func:`~leonet.coverage.scan.write_pairs` writes every point's
satellites in the points' own order, sixteen entries at a time where the CPU compresses vectors
in one instruction. At resolution 5 writing the 376 MB of pairs is about a quarter of a step.
Big pairs arrays (32 MB and more) come from buffers kept for reuse once the caller has dropped
them (:func:`release_buffers`): a loop over steps that holds at most the previous result gets
no fresh pages to fault in.
"""

from __future__ import annotations

import math
import sys
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numba import njit

from leonet.constants import WGS84_A_KM, WGS84_B_KM, WGS84_E2
from leonet.coverage.scan import (
    TINY_KM,
    bin_satellites,
    gather_bounds,
    new_array,
    new_store,
    no_store,
    scan_step,
    scan_step_serial,
    scan_steps_serial,
    scan_steps_threads,
    write_pairs,
    write_pairs_serial,
)
from leonet.cpu import Scratch, anonymous_array, cores_shared, share_blocks
from leonet.errors import InputError
from leonet.geometry import above_mask, mask_sin
from leonet.ground.points import GroundPoints

# Largest angle between the geodetic normal and the geocentric direction on the ellipsoid
# (at 45.1 deg latitude, ~0.1924 deg): tan(geocentric lat) = (1 - e2) tan(geodetic lat).
MAX_VERTICAL_DEVIATION_RAD = math.atan(1.0 / math.sqrt(1.0 - WGS84_E2)) - math.atan(math.sqrt(1.0 - WGS84_E2))
# Added to every search radius and block radius so that rounding can never drop a visible satellite.
SEARCH_MARGIN_RAD = 1e-7
BIN_FRACTION = 0.5  # bin size / search radius: smaller bins gather fewer far satellites but visit more bins
MIN_BIN_RAD = math.radians(0.5)  # keeps the grid small (<= 259,200 bins) when the search radius is tiny
BLOCK_POINTS = 768  # points per block at H3 resolution 5 spacing: they share one gathered candidate list
SUB_POINTS = 24  # points per sub-block at that spacing: they share one sure/unsure split
RES5_STEP_RAD = 0.00273  # median angle between neighbours along the Hilbert curve at H3 resolution 5
SIZE_EXPONENT = 1.5  # sizes scale as (RES5_STEP_RAD / step) ** this (tuned at H3 resolutions 4 and 5)
_HILBERT_BITS = 16  # per axis of a cube face, for the spatial order of points (~0.1 km cells)
_JUMP_FACTOR = 8.0  # a step along the curve this many times the median one starts a new block


def search_radius_rad(
    r_ground_min_km: float,
    r_ground_max_km: float,
    r_sat_min_km: float,
    r_sat_max_km: float,
    min_elevation_deg: float,
    vertical_deviation_rad: float = MAX_VERTICAL_DEVIATION_RAD,
) -> float:
    """Earth central angle (rad) that contains every satellite visible from any ground point.

    Ground points have geocentric radii in ``[r_ground_min_km, r_ground_max_km]``, satellites
    in ``[r_sat_min_km, r_sat_max_km]``; ``vertical_deviation_rad`` bounds the angle between a
    point's geodetic up and its geocentric direction. A geodetic elevation of at least ``m`` is
    a geocentric elevation of at least ``e = m - deviation``; for a satellite no lower than the
    point the geocentric elevation falls monotonically with the central angle ``lam`` as
    ``cos(lam + e) = R cos(e) / r``, so ``lam <= acos(R_min cos(e) / r_max) - e``. Satellites
    below the point's radius have elevation <= 0 and are never seen when ``e > 0``; when
    ``e <= 0`` and some satellite is that low, the bound is the whole sphere (pi).
    """
    e = math.radians(min_elevation_deg) - vertical_deviation_rad
    if e <= 0.0 and r_sat_min_km < r_ground_max_km:
        return math.pi
    x = min(1.0, r_ground_min_km * math.cos(e) / r_sat_max_km)
    return min(math.pi, max(0.0, math.acos(x) - e) + SEARCH_MARGIN_RAD)


def footprint_half_angle_rad(altitude_km: np.ndarray | float, min_elevation_deg: float, ground_alt_km: float = 0.0) -> np.ndarray:
    """Footprint radius as an Earth central angle (rad), conservative on the WGS84 ellipsoid.

    ``altitude_km``: satellite height(s) above the ellipsoid, any shape; returns the same shape.
    The spherical-Earth angle ``acos(R cos(e) / (R + h)) - e`` taken at its worst case: ground
    radius the polar radius (less the tilt of the vertical) plus ``ground_alt_km``, satellite
    radius the equatorial radius plus ``altitude_km``, and the mask lowered by the largest
    geodetic/geocentric vertical deviation (0.19 deg). It is meant for bounding searches
    (a satellite farther than this from a point is never visible from it); the visibility test
    itself is exact on the ellipsoid and does not use it.
    """
    h = np.asarray(altitude_km, dtype=np.float64)
    dev = MAX_VERTICAL_DEVIATION_RAD
    # A point at geodetic height hg is p = q + hg u for q on the ellipsoid, so |p| >= b cos(dev) + hg
    # and a satellite at height h has |s| <= a + h. Below the ellipsoid (hg < 0) the vertical
    # tilts a little more from p: tan(tilt) = |q| sin(dev_q) / (|q| cos(dev_q) + hg).
    r_ground = WGS84_B_KM * math.cos(dev) + ground_alt_km
    if ground_alt_km < 0.0:
        dev = math.atan(WGS84_A_KM * math.sin(dev) / r_ground)
    e = math.radians(min_elevation_deg) - dev
    x = np.minimum(1.0, r_ground * math.cos(e) / (WGS84_A_KM + h))
    return np.clip(np.arccos(x) - e + SEARCH_MARGIN_RAD, 0.0, math.pi)


@dataclass(frozen=True, eq=False)
class BlockedPoints:
    """The kernel's layout of :class:`~leonet.ground.points.GroundPoints` (``cells`` of them),
    derived by :func:`blocked` (and cached per ``GroundPoints`` by :func:`visibility`).

    ``pos_km``: ``(3, cells)`` ITRF, ``up``: ``(3, cells)`` geodetic up unit vectors
    (component-major so the kernel reads contiguous rows). ``r_min_km``/``r_max_km``: extreme
    geocentric radii; ``vertical_deviation_rad``: largest angle between ``up`` and the
    geocentric direction (for the search bound). Blocks of nearby points, whatever the input
    order: ``perm`` ``(cells,)`` lists the points along Hilbert curves on a cube map of their
    directions, block ``b`` is ``perm[block_start[b]:block_start[b + 1]]`` (at most
    ``block_points``), every point of it within ``block_radius_rad[b]`` (central angle) of the
    unit vector ``block_center[:, b]``. Each block is cut into sub-blocks of up to
    ``SUB_POINTS`` consecutive points: sub-block ``s`` is ``perm[sub_start[s]:sub_start[s + 1]]``,
    within ``sub_radius_rad[s]`` of ``sub_center[:, s]``; block ``b`` holds sub-blocks
    ``block_sub[b]:block_sub[b + 1]``. Per block: geocentric radii within ``[block_r_lo_km[b],
    block_r_hi_km[b]]`` and vertical deviations below ``block_dev_rad[b]``.
    ``pos_sorted_km``/``up_sorted``: ``pos_km``/``up`` in ``perm`` order (contiguous per block).
    ``inv_perm`` ``(cells,)``: each point's place in ``perm``; ``cell_sub`` ``(cells,)``: the
    sub-block of each point; ``sub_block`` ``(subs,)``: the block of each sub-block (all int32,
    for writing pairs in the points' own order).
    """

    pos_km: np.ndarray
    up: np.ndarray
    r_min_km: float
    r_max_km: float
    vertical_deviation_rad: float
    perm: np.ndarray
    block_start: np.ndarray
    block_center: np.ndarray
    block_radius_rad: np.ndarray
    sub_start: np.ndarray
    block_sub: np.ndarray
    sub_center: np.ndarray
    sub_radius_rad: np.ndarray
    block_r_lo_km: np.ndarray
    block_r_hi_km: np.ndarray
    block_dev_rad: np.ndarray
    pos_sorted_km: np.ndarray
    up_sorted: np.ndarray
    inv_perm: np.ndarray
    cell_sub: np.ndarray
    sub_block: np.ndarray

    def __len__(self) -> int:
        return int(self.pos_km.shape[1])


def blocked(points: GroundPoints, block_points: int | None = None, sub_points: int | None = None) -> BlockedPoints:
    """The blocked ``(3, cells)`` layout of ``points`` for the kernel; ``block_points`` and
    ``sub_points`` set the block and sub-block sizes (tuning knobs, not semantic ones; by default
    ``BLOCK_POINTS`` and ``SUB_POINTS`` scaled to the points' spacing, so that blocks cover about
    the same angle whatever the resolution). :func:`visibility` calls this itself (once per
    ``GroundPoints`` object); call it directly to time it or to choose the sizes."""
    if not isinstance(points, GroundPoints):
        raise InputError("points must be a GroundPoints; build it with GroundPoints.from_geodetic(lat_deg, lon_deg, alt_km)")
    for name, v in (("block_points", block_points), ("sub_points", sub_points)):
        if v is not None and v < 1:
            raise InputError(f"{name} must be at least 1, got {v}")
    pos = points.itrf_km  # (cells, 3)
    up = points.up
    r = np.linalg.norm(pos, axis=1)
    unit = pos / r[:, None] if len(points) else np.zeros((0, 3))
    perm, block_start, center, radius, step = _blocks(unit, block_points)
    n = len(points)
    if sub_points is None:
        sub_points = int(np.clip(round(SUB_POINTS * (RES5_STEP_RAD / max(step, 1e-9)) ** SIZE_EXPONENT), 1, 4 * SUB_POINTS))
    # Sub-blocks: every sub_points consecutive points of a block.
    first = np.zeros(n, dtype=bool)
    first[block_start[:-1]] = True
    in_block = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    sub_start = np.append(np.flatnonzero(in_block % sub_points == 0), n).astype(np.int64)
    block_sub = np.searchsorted(sub_start, block_start).astype(np.int64)
    sub_center, sub_radius = _caps(unit[perm], sub_start)
    dev = _angle_rad(up, unit) if n else np.zeros(0)
    rp, dp = r[perm], dev[perm]
    starts = block_start[:-1]
    inv_perm = np.empty(n, np.int32)
    inv_perm[perm] = np.arange(n, dtype=np.int32)
    cell_sub = np.repeat(np.arange(sub_start.size - 1, dtype=np.int32), np.diff(sub_start))[inv_perm]
    sub_block = np.repeat(np.arange(block_sub.size - 1, dtype=np.int32), np.diff(block_sub))
    return BlockedPoints(
        pos_km=np.ascontiguousarray(pos.T),
        up=np.ascontiguousarray(up.T),
        r_min_km=float(r.min()) if r.size else WGS84_B_KM,
        r_max_km=float(r.max()) if r.size else WGS84_A_KM,
        vertical_deviation_rad=float(dev.max()) + 1e-12 if r.size else 0.0,
        perm=perm,
        block_start=block_start,
        block_center=np.ascontiguousarray(center.T),
        block_radius_rad=radius,
        sub_start=sub_start,
        block_sub=block_sub,
        sub_center=np.ascontiguousarray(sub_center.T),
        sub_radius_rad=sub_radius,
        block_r_lo_km=np.minimum.reduceat(rp, starts) if n else np.zeros(0),
        block_r_hi_km=np.maximum.reduceat(rp, starts) if n else np.zeros(0),
        block_dev_rad=np.maximum.reduceat(dp, starts) + 1e-9 if n else np.zeros(0),
        pos_sorted_km=np.ascontiguousarray(pos[perm].T),
        up_sorted=np.ascontiguousarray(up[perm].T),
        inv_perm=inv_perm,
        cell_sub=cell_sub,
        sub_block=sub_block,
    )


# One layout per GroundPoints object, dropped with it (a layout holds no reference to its points).
_LAYOUTS: weakref.WeakKeyDictionary[GroundPoints, BlockedPoints] = weakref.WeakKeyDictionary()


def _layout(points: GroundPoints | BlockedPoints) -> BlockedPoints:
    if isinstance(points, BlockedPoints):
        return points
    if not isinstance(points, GroundPoints):
        raise InputError("points must be a GroundPoints; build it with GroundPoints.from_geodetic(lat_deg, lon_deg, alt_km)")
    lay = _LAYOUTS.get(points)
    if lay is None:
        lay = _LAYOUTS[points] = blocked(points)
    return lay


def _angle_rad(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between rows of ``a`` and ``b`` ``(n, 3)``, via atan2(|a x b|, a . b): accurate near 0."""
    ax, ay, az = a[:, 0], a[:, 1], a[:, 2]
    bx, by, bz = b[:, 0], b[:, 1], b[:, 2]
    cross = np.sqrt((ay * bz - az * by) ** 2 + (az * bx - ax * bz) ** 2 + (ax * by - ay * bx) ** 2)
    return np.arctan2(cross, ax * bx + ay * by + az * bz)


@njit(cache=True)
def _hilbert_index(x: np.ndarray, y: np.ndarray, bits: int) -> np.ndarray:  # pragma: no cover - compiled
    """Distance along a Hilbert curve of the grid cells ``(x, y)`` (int64 arrays, < 2**bits)."""
    n = 1 << bits
    out = np.empty(x.shape[0], np.int64)
    for k in range(x.shape[0]):
        xk, yk, d = x[k], y[k], 0
        s = n >> 1
        while s > 0:
            rx = 1 if (xk & s) > 0 else 0
            ry = 1 if (yk & s) > 0 else 0
            d += s * s * ((3 * rx) ^ ry)
            if ry == 0:  # rotate the quadrant to the curve's standard orientation
                if rx == 1:
                    xk = n - 1 - xk
                    yk = n - 1 - yk
                xk, yk = yk, xk
            s >>= 1
        out[k] = d
    return out


def _spatial_order(unit: np.ndarray) -> np.ndarray:
    """Order of unit vectors ``(n, 3)`` along a Hilbert curve on each face of a cube map (faces
    one after another): consecutive points are neighbours except across face edges and holes."""
    major = np.argmax(np.abs(unit), axis=1)
    sign = np.take_along_axis(unit, major[:, None], axis=1)[:, 0] < 0.0
    face = (2 * major + sign).astype(np.int64)
    other = np.array([[1, 2], [0, 2], [0, 1]])[major]  # the two minor axes
    denom = np.abs(np.take_along_axis(unit, major[:, None], axis=1))
    uv = np.take_along_axis(unit, other, axis=1) / denom  # gnomonic face coordinates in [-1, 1]
    q = np.clip(np.floor((uv + 1.0) * (0.5 * (1 << _HILBERT_BITS))), 0, (1 << _HILBERT_BITS) - 1).astype(np.int64)
    key = (face << (2 * _HILBERT_BITS)) | _hilbert_index(np.ascontiguousarray(q[:, 0]), np.ascontiguousarray(q[:, 1]), _HILBERT_BITS)
    return np.argsort(key, kind="stable").astype(np.int64)


def _blocks(unit: np.ndarray, size: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Cut unit vectors ``(n, 3)``, in spatial order, into blocks of nearby points.

    A block is at most ``size`` consecutive points and also ends where the curve jumps (a gap
    of more than ``_JUMP_FACTOR`` x the median step: a face edge or a hole in a regional set).
    Returns ``perm`` ``(n,)`` int64, ``block_start`` ``(blocks + 1,)`` int64, block centres
    ``(blocks, 3)`` (normalised mean direction), radii ``(blocks,)`` (rad, the largest angle
    from the centre to a member, plus a margin for rounding) and the median step (rad) along the
    curve. ``size`` None: ``BLOCK_POINTS`` scaled to that step."""
    n = unit.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros((0, 3)), np.zeros(0), 0.0
    perm = _spatial_order(unit)
    ordered = unit[perm]
    step = _angle_rad(ordered[1:], ordered[:-1])
    median_step = float(np.median(step)) if step.size else 0.0
    if size is None:
        size = int(np.clip(round(BLOCK_POINTS * (RES5_STEP_RAD / max(median_step, 1e-9)) ** SIZE_EXPONENT), 16, 4 * BLOCK_POINTS))
    jump = np.flatnonzero(step > _JUMP_FACTOR * max(median_step, 1e-12)) + 1
    # Runs between jumps, each cut every `size` points.
    run_start = np.zeros(n, dtype=np.int64)
    run_start[jump] = jump
    run_start = np.maximum.accumulate(run_start)
    first = (np.arange(n) - run_start) % size == 0
    block_start = np.append(np.flatnonzero(first), n).astype(np.int64)
    center, radius = _caps(ordered, block_start)
    return perm, block_start, center, radius, median_step


def _caps(ordered: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre ``(groups, 3)`` (normalised mean direction) and radius ``(groups,)`` (rad, the
    largest angle from the centre to a member, plus a margin for rounding) of each group
    ``ordered[starts[g]:starts[g + 1]]`` of unit vectors ``(n, 3)``."""
    if starts.size < 2:
        return np.zeros((0, 3)), np.zeros(0)
    sums = np.add.reduceat(ordered, starts[:-1], axis=0)
    norm = np.linalg.norm(sums, axis=1)
    # A group whose members cancel out (only with scattered points) gets any centre and radius pi.
    degenerate = norm < 1e-9
    center = np.where(degenerate[:, None], np.array([1.0, 0.0, 0.0]), sums / np.where(degenerate, 1.0, norm)[:, None])
    ang = _angle_rad(ordered, np.repeat(center, np.diff(starts), axis=0))
    radius = np.maximum.reduceat(ang, starts[:-1]) + SEARCH_MARGIN_RAD
    radius[degenerate] = math.pi
    return center, radius


@dataclass(frozen=True, eq=False)
class Visibility:
    """Satellites in view of each ground point at each time.

    ``counts``: ``(cells, times)`` uint16, satellites in view.
    ``offsets``: ``(times, cells + 1)`` int64 or None: the satellites that cell ``c`` sees at
    time ``t`` are ``sat_index[offsets[t, c]:offsets[t, c + 1]]`` (ascending); each time's
    pairs are contiguous, ``offsets[t, -1] == offsets[t + 1, 0]``.
    ``sat_index``: ``(pairs,)`` int32 satellite rows (into the ``(sats, times, 3)`` input) or None.
    ``max_elevation_deg``: ``(cells, times)`` float32 highest elevation in view, NaN where none; or None.
    """

    counts: np.ndarray
    offsets: np.ndarray | None = None
    sat_index: np.ndarray | None = None
    max_elevation_deg: np.ndarray | None = None

    def pairs(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``(cell, satellite)`` pairs in view at time index ``t``: two ``(pairs_t,)`` int32
        arrays, sorted by cell then satellite (COO form)."""
        if self.offsets is None or self.sat_index is None:
            raise InputError("pairs were not computed; call visibility(..., pairs=True)")
        n_cells = self.counts.shape[0]
        cells = np.repeat(np.arange(n_cells, dtype=np.int32), self.counts[:, t].astype(np.int64))
        return cells, self.sat_index[self.offsets[t, 0] : self.offsets[t, -1]]

    def sats_in_view(self, cell: int, t: int) -> np.ndarray:
        """Satellite rows (int32, ascending) that ``cell`` sees at time index ``t``."""
        if self.offsets is None or self.sat_index is None:
            raise InputError("pairs were not computed; call visibility(..., pairs=True)")
        return self.sat_index[self.offsets[t, cell] : self.offsets[t, cell + 1]]


# ---- argument checks ------------------------------------------------------------------------
def _check_args(points: GroundPoints | BlockedPoints, r_sat_km: np.ndarray, min_elevation_deg: float,
                max_range_km: float | None) -> tuple[BlockedPoints, np.ndarray, float, float]:
    lay = _layout(points)
    r = np.asarray(r_sat_km)
    if r.ndim != 3 or r.shape[2] != 3:
        raise InputError(f"satellite positions must have shape (sats, times, 3) in km, got {r.shape}")
    if r.shape[0] > np.iinfo(np.uint16).max:
        raise InputError(f"{r.shape[0]} satellites: counts are uint16, so at most 65,535 satellites per call")
    if max_range_km is None:
        max_range2 = math.inf
    elif not max_range_km > 0.0:
        raise InputError(f"max_range_km must be a positive number of km or None, got {max_range_km!r}")
    else:
        max_range2 = float(max_range_km) ** 2
    sin_m = mask_sin(min_elevation_deg)
    return lay, r, sin_m, max_range2


DEGREES_CHUNK = 1 << 16  # values per pass of _to_degrees: its temporaries stay in the cache
# np.degrees(x) is x * (180 / pi) rounded once (NumPy's npy_rad2deg), but element by element:
# the same product as a vectorised multiply takes ~10x longer.
_RAD_TO_DEG = 180.0 / math.pi


def _to_degrees(max_sin: np.ndarray, threads: int = 1) -> np.ndarray:
    """Highest sine of elevation (C-contiguous) -> degrees as float32; -2 (nothing in view) ->
    NaN; ``np.degrees(np.arcsin(clip(s, -1, 1)))`` exactly. Whole-chunk passes (a boolean
    gather and scatter cost ~2x more), ``threads`` sharing the chunks (NumPy releases the
    GIL): the same values whatever the chunks and threads."""
    out = np.empty(max_sin.shape, np.float32)
    src, dst = max_sin.reshape(-1), out.reshape(-1)

    def work(k: int) -> None:
        part = slice(k * DEGREES_CHUNK, (k + 1) * DEGREES_CHUNK)
        v = np.clip(src[part], -1.0, 1.0)
        np.arcsin(v, out=v)
        np.multiply(v, _RAD_TO_DEG, out=v)
        d = dst[part]
        d[:] = v
        d[src[part] <= -1.5] = np.nan

    chunks = -(-src.size // DEGREES_CHUNK)
    share_blocks(work, chunks, threads if chunks >= 8 else 1)
    return out


def _grid_for(lam: float) -> tuple[int, int]:
    bin_rad = max(MIN_BIN_RAD, BIN_FRACTION * lam)
    return max(1, int(math.pi / bin_rad)), max(1, int(2.0 * math.pi / bin_rad))


def _block_stride(nblocks: int) -> int:
    for stride in (7919, 7927, 7933):  # primes: one of them is coprime to any nblocks
        if math.gcd(stride, nblocks) == 1:
            return stride
    return 1  # pragma: no cover - nblocks divisible by three primes > 7900 is impossible here


def _finite_states(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The states of ``r`` ``(sats, times, 3)`` with every coordinate finite, flat: satellite
    rows, steps, positions ``(k, 3)`` and radii ``(k,)``. After a region's filter
    (:func:`leonet.coverage.regional.chunk_positions`) most states are NaN, so the per-step
    set-up works on these alone."""
    with np.errstate(invalid="ignore"):  # the sum is NaN (or inf) where any coordinate is not finite
        s_i, t_i = np.nonzero(np.isfinite(r[:, :, 0] + r[:, :, 1] + r[:, :, 2]))
    p = r[s_i, t_i]
    return s_i, t_i, p, np.sqrt(np.einsum("kj,kj->k", p, p))


def _step_search_radii(points: BlockedPoints, r: np.ndarray, min_elevation_deg: float,
                       states: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Search radius of each step of ``r`` ``(sats, times, 3)``: ``(times,)``, -1 where no
    satellite position is finite (or there are no points). ``states``: :func:`_finite_states`
    of ``r``, if already known."""
    lam = np.full(r.shape[1], -1.0)
    if not len(points) or not r.shape[0]:
        return lam
    _, t_i, _, rad = states if states is not None else _finite_states(r)
    lo = np.full(r.shape[1], np.inf)
    hi = np.full(r.shape[1], -np.inf)
    np.minimum.at(lo, t_i, rad)
    np.maximum.at(hi, t_i, rad)
    for t in np.flatnonzero(np.isfinite(lo)).tolist():
        lam[t] = search_radius_rad(points.r_min_km, points.r_max_km, float(lo[t]), float(hi[t]), min_elevation_deg,
                                   points.vertical_deviation_rad)
    return lam


def _area_cap(points: BlockedPoints) -> tuple[np.ndarray, float]:
    """A unit vector and a central angle (rad) whose cap holds every point (pi when the points
    spread over much of the globe)."""
    w = np.diff(points.block_start).astype(np.float64)
    s = (points.block_center * w).sum(axis=1)
    norm = float(np.linalg.norm(s))
    if norm < 1e-9:
        return np.array([1.0, 0.0, 0.0]), math.pi
    c = s / norm
    ang = np.arccos(np.clip(c @ points.block_center, -1.0, 1.0)) + points.block_radius_rad
    return c, float(min(math.pi, ang.max() + SEARCH_MARGIN_RAD)) if ang.size else math.pi


def visible_cap(points: GroundPoints | BlockedPoints, r_sat_max_km: float, min_elevation_deg: float) -> tuple[np.ndarray, float]:
    """A unit vector ``(3,)`` and a central angle (rad) such that every satellite no farther
    than ``r_sat_max_km`` from the Earth's centre and visible from some of ``points`` lies
    within that angle of the vector (pi: anywhere)."""
    lay = _layout(points)
    if not len(lay):
        return np.array([1.0, 0.0, 0.0]), 0.0
    centre, cap = _area_cap(lay)
    lam = search_radius_rad(lay.r_min_km, lay.r_max_km, 0.0, r_sat_max_km, min_elevation_deg, lay.vertical_deviation_rad)
    return centre, min(math.pi, cap + lam + SEARCH_MARGIN_RAD)


def _near_satellites(points: BlockedPoints, r: np.ndarray, lam: np.ndarray,
                     states: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray | None:
    """Rows of the satellites that come within ``lam + cap`` of the points' cap at some step
    (the only ones any point can see), ascending; None when that is (nearly) all of them.
    ``states``: :func:`_finite_states` of ``r``, if already known."""
    centre, cap = _area_cap(points)
    reach = float(lam.max()) + cap + SEARCH_MARGIN_RAD
    if reach >= 0.5 * math.pi or not r.shape[0]:  # a hemisphere or more: most satellites anyway
        return None
    s_i, _, p, rad = states if states is not None else _finite_states(r)
    near = np.zeros(r.shape[0], dtype=bool)
    near[s_i[p @ centre >= math.cos(reach) * rad]] = True  # NaN states are not in the list
    rows = np.flatnonzero(near)
    return rows if rows.size < 0.8 * r.shape[0] else None


PARALLEL_MIN_PAIRS = 10_000_000  # candidate tests per call below which threads cost more than they save


def _threads_for(points: BlockedPoints, n_sats: int, n_times: int, lam: float) -> int:
    """Threads for a call: one for small work (a parallel region's start-up and, on a busy
    machine, waiting for descheduled threads cost more than the work) and where this process's
    siblings already use the cores (:func:`leonet.cpu.cores_shared`), else all of numba's
    threads, busy machine or not: with a CPU-bound competitor on every core, two threads still
    finished Taiwan's 240 steps (~16 million candidate tests) 1.29x and a global resolution-4
    step 1.35-1.65x sooner than one (each thread takes its share of the cores), while 4 million
    tests came out even and 1 million slower (an A/B of one against two threads;
    ``bench/busy.py``)."""
    import numba

    threads = numba.get_num_threads()
    if threads <= 1 or cores_shared():
        return 1
    frac = (1.0 - math.cos(min(math.pi, 2.0 * lam))) / 2.0  # share of satellites a block gathers, roughly
    work = len(points) * max(1, n_sats) * max(frac, 1e-3) * n_times
    return 1 if work < PARALLEL_MIN_PAIRS else threads


def visibility(
    points: GroundPoints | BlockedPoints,
    r_sat_km: np.ndarray,
    min_elevation_deg: float = 25.0,
    max_range_km: float | None = None,
    pairs: bool = False,
    max_elevation: bool = False,
    threads: int | None = None,
) -> Visibility:
    """Satellites at or above ``min_elevation_deg`` (and within ``max_range_km``) of each point.

    ``points``: :class:`~leonet.ground.points.GroundPoints` (``cells``; its blocked layout is
    derived on the first call and kept for the next ones), or a :class:`BlockedPoints` from
    :func:`blocked`; ``r_sat_km``: ``(sats, times, 3)`` ITRF km,
    NaN rows never visible. ``pairs``: also return which satellites (CSR per time, see
    :class:`Visibility`); the scan keeps a few bytes per point and the pairs are written after
    it, step by step. ``max_elevation``: also the highest elevation in view. ``threads``: numba
    threads (default: one for small work, else numba's threads less the cores other processes
    keep busy, see :func:`_threads_for`). Satellites that come nowhere near the points in the
    whole call are dropped first; then, without pairs, all steps run in one kernel call
    (threads share the steps) or, for few steps, step by step (threads share the points); with
    pairs, step by step. Pass time chunks to bound the size of the returned pairs.
    """
    import numba

    points, r, sin_m, max_range2 = _check_args(points, r_sat_km, min_elevation_deg, max_range_km)
    n_cells, n_times = len(points), r.shape[1]
    counts = np.zeros((n_cells, n_times), dtype=np.uint16)
    max_sin_all = np.full((n_cells, n_times), -2.0) if max_elevation else np.full((1, 1), -2.0)
    # Rows with no position at any step (e.g. far from a region, see chunk_positions) go first:
    # a NaN coordinate is never in view.
    with np.errstate(invalid="ignore"):
        alive = np.isfinite(r[:, :, 0]).any(axis=1) if r.size else np.zeros(r.shape[0], bool)
    rows = np.flatnonzero(alive) if not alive.all() else None
    if rows is not None:
        r = r[rows]
    states = _finite_states(r)
    lam = _step_search_radii(points, r, min_elevation_deg, states)
    near = _near_satellites(points, r, lam, states) if (lam >= 0.0).any() else None
    del states
    if near is not None:
        r = r[near]
        rows = near if rows is None else rows[near]
    r = np.ascontiguousarray(r, dtype=np.float64)
    n_lat = np.ones(n_times, np.int64)
    n_lon = np.ones(n_times, np.int64)
    for t in np.flatnonzero(lam >= 0.0).tolist():
        n_lat[t], n_lon[t] = _grid_for(float(lam[t]))
    n_threads = threads if threads is not None else _threads_for(points, r.shape[0], n_times, float(lam.max(initial=0.0)))
    n_threads = max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS))
    pts = (points.pos_sorted_km, points.up_sorted, points.perm, points.block_start, points.block_center,
           points.block_radius_rad, points.sub_start, points.block_sub, points.sub_center, points.sub_radius_rad,
           points.block_r_lo_km, points.block_r_hi_km, points.block_dev_rad)
    test = (sin_m, math.cos(math.radians(float(min_elevation_deg))), max_range2)
    steps = (r, lam, n_lat, n_lon)
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        if pairs:
            offsets, sat_index = _scan_pairs(points, pts, steps, test, n_threads, counts, max_sin_all, max_elevation)
        elif n_threads == 1:
            scan_steps_serial(pts, steps, test, max_elevation, (counts, max_sin_all))
        elif n_times >= 2 * n_threads:
            scan_steps_threads(pts, steps, test, max_elevation, (counts, max_sin_all))
        else:  # few steps over many points: threads share each step's blocks
            _scan_each_step(pts, steps, test, counts, max_sin_all, max_elevation)
    finally:
        numba.set_num_threads(previous)
    max_elevation_deg = _to_degrees(max_sin_all, n_threads) if max_elevation else None
    del max_sin_all
    if not pairs:
        return Visibility(counts, None, None, max_elevation_deg)
    if rows is not None:  # kept rows -> the caller's rows, in place (mode "raise" would buffer the whole out)
        np.take(rows.astype(np.int32), sat_index, out=sat_index, mode="clip")
    return Visibility(counts, offsets, sat_index, max_elevation_deg)


def _step_bins(steps: tuple, t: int) -> tuple:
    r, lam, n_lat, n_lon = steps
    start, order, xyz, unit = bin_satellites(r[:, t, :], int(n_lat[t]), int(n_lon[t]))
    return (start, order, xyz, unit, int(n_lat[t]), int(n_lon[t]), float(lam[t]))


def _scan_each_step(pts: tuple, steps: tuple, test: tuple, counts: np.ndarray, max_sin_all: np.ndarray, want_max: bool) -> None:
    """Counts (and highest sines of elevation) step by step, the threads sharing each step's
    blocks: for few steps over many points."""
    stride = _block_stride(max(1, pts[3].size - 1))
    nothing = no_store()
    for t in np.flatnonzero(steps[1] >= 0.0).tolist():
        scan_step(pts, _step_bins(steps, t), test, stride, False, want_max, (counts, max_sin_all, t), nothing)


_SCRATCH = Scratch()  # the pairs pass's working store (~23 MB touched for a global resolution-5 step)
_SCRATCH_LOCK = threading.Lock()  # one call at a time uses it; others allocate their own


OUTPUT_REUSE_MIN_BYTES = 32 << 20  # pairs arrays at least this big are recycled once their caller drops them
OUTPUT_REUSE_KEPT = 2  # buffers kept: a caller may hold the previous step's pairs while asking for the next
_OUTPUTS: list[np.ndarray] = []  # the last big pairs buffers handed out, oldest first
_OUTPUTS_LOCK = threading.Lock()


def _pairs_output(size: int) -> np.ndarray:
    """A ``(size,)`` int32 array for a call's pairs. A big one is a view of a buffer kept here
    (the last ``OUTPUT_REUSE_KEPT``): once the caller has dropped every array that refers to
    one (``sys.getrefcount`` shows only this module's references), a later call of a similar
    size writes into it again, which saves the kernel faulting in ~0.4 GB of fresh pages per
    global resolution-5 step. A buffer still referred to is never reused. Fresh ones are
    :func:`~leonet.cpu.anonymous_array` (small pages); :func:`release_buffers` frees the free
    kept ones."""
    if size * 4 < OUTPUT_REUSE_MIN_BYTES:
        return np.empty(size, np.int32)
    with _OUTPUTS_LOCK:
        for k in range(len(_OUTPUTS)):
            # A free one has two references: the list's and the argument's.
            if sys.getrefcount(_OUTPUTS[k]) <= 2 and size <= _OUTPUTS[k].size <= size + size // 4:
                buf = _OUTPUTS.pop(k)
                _OUTPUTS.append(buf)  # now the newest
                return buf[:size]
        buf = anonymous_array(size + size // 32, np.int32)  # room for a step with a few more pairs
        out = buf[:size]
        assert out.base is buf  # anonymous_array's 1-D array is a base of its own: the count sees the caller's views
        while len(_OUTPUTS) >= OUTPUT_REUSE_KEPT:  # make room: a free one that did not fit, else the oldest
            free = [k for k in range(len(_OUTPUTS)) if sys.getrefcount(_OUTPUTS[k]) <= 2]
            _OUTPUTS.pop(free[0] if free else 0)
        _OUTPUTS.append(buf)
        return out


def release_buffers() -> None:
    """Frees the pairs buffers kept for reuse (:func:`_pairs_output`) that nothing else refers
    to: after a large computation, returns their memory before the process ends. (The pairs
    pass's working store, ~0.1 GB after a global resolution-5 step, stays.)"""
    with _OUTPUTS_LOCK:
        _OUTPUTS[:] = [_OUTPUTS[k] for k in range(len(_OUTPUTS)) if sys.getrefcount(_OUTPUTS[k]) > 2]


def _scan_pairs(points: BlockedPoints, pts: tuple, steps: tuple, test: tuple, n_threads: int, counts: np.ndarray,
                max_sin_all: np.ndarray, want_max: bool) -> tuple[np.ndarray, np.ndarray]:
    """Counts, highest sines of elevation and pairs, step by step, in one scan per step.

    The scan keeps what decides each pair (each block's candidate rows, each sub-block's bits
    over them and each point's word of tested unsure satellites,
    :func:`~leonet.coverage.scan.new_store`); the step's counts then size its pairs exactly and
    :func:`~leonet.coverage.scan.write_pairs` writes them in the cells' order, every slot once.
    Returns ``offsets`` ``(times, cells + 1)`` and the satellite rows ``(pairs,)`` int32 (one
    array per call: a multi-step call joins its steps into it)."""
    lam = steps[1]
    n_cells, n_times = len(points), lam.size
    offsets = np.empty((n_times, n_cells + 1), dtype=np.int64)  # every row is written below
    stride = _block_stride(max(1, points.block_start.size - 1))
    parts = 8 * n_threads if n_threads > 1 else 1
    chunks: list[np.ndarray] = []
    total = 0
    cells = (points.inv_perm, points.cell_sub, points.sub_start, points.sub_block)
    kept = _SCRATCH_LOCK.acquire(blocking=False)
    alloc = _SCRATCH.get if kept else new_array
    try:
        for t in range(n_times):
            if lam[t] < 0.0:
                offsets[t, :] = total
                continue
            bins = _step_bins(steps, t)
            store = new_store(points.block_start, points.block_sub, gather_bounds(pts, bins), alloc)
            out = (counts, max_sin_all, t)  # column t written in place
            if n_threads == 1:
                scan_step_serial(pts, bins, test, True, want_max, out, store)
            else:
                scan_step(pts, bins, test, stride, True, want_max, out, store)
            offsets[t, 0] = 0
            np.cumsum(counts[:, t], dtype=np.int64, out=offsets[t, 1:])
            n_t = int(offsets[t, -1])
            sat_t = _pairs_output(n_t) if n_times == 1 else np.empty(n_t, dtype=np.int32)
            if n_t:
                if n_threads == 1:
                    write_pairs_serial(cells, store, offsets[t], sat_t)
                else:
                    write_pairs(cells, store, offsets[t], sat_t, parts)
            if total:
                offsets[t, :] += total
            total += n_t
            chunks.append(sat_t)
    finally:
        if kept:
            _SCRATCH_LOCK.release()
    if len(chunks) == 1:
        return offsets, chunks[0]
    return offsets, np.concatenate(chunks, out=_pairs_output(total)) if chunks else np.empty(0, np.int32)


def iter_visibility(points: GroundPoints | BlockedPoints, r_sat_km: np.ndarray, times_per_chunk: int, **kwargs: object) -> Iterator[tuple[int, Visibility]]:
    """:func:`visibility` over successive chunks of ``times_per_chunk`` time steps.

    Yields ``(t0, Visibility)`` where the chunk covers time indices ``t0 .. t0 + chunk - 1``;
    ``kwargs`` go to :func:`visibility`. Only one chunk's pairs are alive at a time if the
    caller drops each before asking for the next."""
    if times_per_chunk < 1:
        raise InputError(f"times_per_chunk must be at least 1, got {times_per_chunk}")
    r = np.asarray(r_sat_km)
    if r.ndim != 3:
        raise InputError(f"satellite positions must have shape (sats, times, 3) in km, got {r.shape}")
    for t0 in range(0, r.shape[1], times_per_chunk):
        yield t0, visibility(points, r[:, t0 : t0 + times_per_chunk], **kwargs)  # type: ignore[arg-type]


# ---- reference ---------------------------------------------------------------------------------
def visibility_brute_force(
    points: GroundPoints | BlockedPoints,
    r_sat_km: np.ndarray,
    min_elevation_deg: float = 25.0,
    max_range_km: float | None = None,
    pairs: bool = False,
    max_elevation: bool = False,
    block_pairs: int = 1 << 18,
    workers: int = 1,
) -> Visibility:
    """Reference for :func:`visibility`: every (point, satellite) pair tested in NumPy.

    Same arguments and result. Points are taken in blocks of about ``block_pairs`` pairs
    (``~10 x 8 x block_pairs`` bytes of temporaries per worker); ``workers`` threads share the
    blocks (NumPy releases the GIL). The test is the kernel's expression term by term, so the
    two agree bit for bit. Cost ``cells x sats`` per step: for tests and benchmarks only.
    """
    points, r, sin_m, max_range2 = _check_args(points, r_sat_km, min_elevation_deg, max_range_km)
    n_cells, n_sats, n_times = len(points), r.shape[0], r.shape[1]
    counts = np.zeros((n_cells, n_times), dtype=np.uint16)
    max_sin_all = np.full((n_cells, n_times), -2.0) if max_elevation else None
    offsets = np.zeros((n_times, n_cells + 1), dtype=np.int64) if pairs else None
    chunks: list[np.ndarray] = []
    total = 0
    blk = max(1, block_pairs // max(n_sats, 1))
    px, py, pz = (points.pos_km[i][:, None] for i in range(3))
    ux, uy, uz = (points.up[i][:, None] for i in range(3))

    def run_block(c0: int, sx: np.ndarray, sy: np.ndarray, sz: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Counts, best sine of elevation and visible satellite rows (by cell, then row) of one block."""
        c1 = min(n_cells, c0 + blk)
        dx = sx - px[c0:c1]
        dy = sy - py[c0:c1]
        dz = sz - pz[c0:c1]
        du = dx * ux[c0:c1]
        du += dy * uy[c0:c1]
        du += dz * uz[c0:c1]
        dd = dx * dx
        dd += dy * dy
        dd += dz * dz
        vis = above_mask(du, dd, sin_m)
        vis &= dd <= max_range2
        best = None
        if max_elevation:
            sv = np.where(vis, du / np.maximum(np.sqrt(dd), TINY_KM), -2.0)
            best = sv.max(axis=1) if n_sats else np.full(c1 - c0, -2.0)
        rows = np.nonzero(vis)[1].astype(np.int32) if pairs else None
        return vis.sum(axis=1), best, rows

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for t in range(n_times):
            s = r[:, t, :].astype(np.float64)
            sx, sy, sz = s[:, 0], s[:, 1], s[:, 2]  # NaN rows fail every comparison: never visible
            starts = range(0, n_cells, blk)
            # map() yields in order; only the small per-block results are kept.
            for c0, (cnt, best, rows) in zip(starts, pool.map(lambda c0, sx=sx, sy=sy, sz=sz: run_block(c0, sx, sy, sz), starts)):
                c1 = min(n_cells, c0 + blk)
                counts[c0:c1, t] = cnt
                if max_sin_all is not None:
                    max_sin_all[c0:c1, t] = best
                if rows is not None:
                    chunks.append(rows)
            if offsets is not None:
                offsets[t, 0] = total
                offsets[t, 1:] = total + np.cumsum(counts[:, t], dtype=np.int64)
                total = int(offsets[t, -1])
    sat_index = (np.concatenate(chunks) if chunks else np.empty(0, np.int32)) if pairs else None
    return Visibility(counts, offsets, sat_index, _to_degrees(max_sin_all) if max_sin_all is not None else None)


def visibility_counts(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    alt_km: np.ndarray | float,
    r_sat_km: np.ndarray,
    min_elevation_deg: float = 25.0,
    max_range_km: float | None = None,
) -> np.ndarray:
    """Satellites in view ``(cells, times)`` uint16 of WGS84 points (deg, deg, km; ``(cells,)``)
    given ITRF positions ``(sats, times, 3)`` km. Shorthand for :func:`visibility` that prepares
    the points each call; build :class:`GroundPoints` once instead when calling repeatedly."""
    points = GroundPoints.from_geodetic(lat_deg, lon_deg, alt_km)
    return visibility(points, r_sat_km, min_elevation_deg, max_range_km).counts


def warm_kernels() -> None:
    """Compile every numba kernel of this module into numba's on-disk cache (``__pycache__``
    beside the source), with the argument types real calls use, so that the first job after an
    install does not pay the compilation (~5 s). ``make venv`` runs it; calling it again only
    loads the cache."""
    rng = np.random.default_rng(0)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, 200)))
    lon = rng.uniform(-180.0, 180.0, 200)
    pts = GroundPoints.from_geodetic(lat, lon)
    u = rng.normal(size=(300, 8, 3))
    r = u / np.linalg.norm(u, axis=2, keepdims=True) * 6928.0
    for threads in (1, 2):
        for steps in (1, 8):  # few steps: threads share the points; many: they share the steps
            visibility(pts, r[:, :steps], 25.0, threads=threads)
            visibility(pts, r[:, :steps], 25.0, pairs=True, max_elevation=True, threads=threads)
