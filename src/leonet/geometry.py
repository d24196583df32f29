"""Geometry kernels: the one home for unit vectors, great circles and the elevation-mask test.

Vectors have the xyz axis last, ``(..., 3)``; inputs broadcast together; angles in degrees
unless a name ends in ``_rad``; lengths in km. Great circles are on the IUGG mean sphere
(:data:`~leonet.constants.EARTH_MEAN_RADIUS_KM`) unless a radius is given.

**The elevation mask.** From a ground point with local vertical ``u`` (the WGS84 ellipsoid
normal, :func:`unit_vector` of its geodetic latitude and longitude), a line of sight ``d`` (km)
is at or above the mask ``m`` when::

    d . u >= |d| sin(m)

:func:`above_mask` is that test on ``du = d . u`` and ``dd = d . d`` and nothing else: no
division, no inverse trigonometry, so it is exact at the horizon and at the zenith, NaN
positions fail it, and the same floating-point expression gives the same verdict in NumPy and
in numba kernels (:data:`above_mask_jit`, inlined into them; :func:`above_mask8` and
:func:`highest_sin8` take eight targets at once, lane by lane the same operations). Every stage that asks "is this
satellite in view" (coverage counts, ground links of the network, gateway contacts) uses it;
searches that need the elevation itself (passes, imaging access) use :func:`elevation_deg`.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from leonet.constants import EARTH_MEAN_RADIUS_KM
from leonet.errors import InputError

__all__ = [
    "unit_vector",
    "great_circle_km",
    "chord_for_distance",
    "any_within",
    "above_mask",
    "above_mask_jit",
    "line_of_sight_jit",
    "above_mask8",
    "highest_sin8",
    "mask_sin",
    "sin_elevation",
    "elevation_deg",
]


def unit_vector(lat_deg: np.ndarray | float, lon_deg: np.ndarray | float) -> np.ndarray:
    """Unit vectors ``(..., 3)`` of latitude/longitude directions (deg, broadcast together).

    On a sphere they are the directions of the points; with a geodetic latitude they are the
    WGS84 ellipsoid normal (the local vertical, "up"). Also the coordinates for k-d trees of
    angular distance (see :func:`chord_for_distance`)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    return np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), -1)


def great_circle_km(
    lat1_deg: np.ndarray | float,
    lon1_deg: np.ndarray | float,
    lat2_deg: np.ndarray | float,
    lon2_deg: np.ndarray | float,
    radius_km: float = EARTH_MEAN_RADIUS_KM,
) -> np.ndarray:
    """Great-circle distance (km) between points (deg, broadcast together) on a sphere of
    ``radius_km`` (default the IUGG mean radius, 6371.0088 km). Haversine form: accurate from
    millimetres to antipodes (rounding error below 1 mm except within ~1 km of the antipode)."""
    p1 = np.radians(np.asarray(lat1_deg, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2_deg, dtype=np.float64))
    dl = np.radians(np.asarray(lon2_deg, dtype=np.float64) - np.asarray(lon1_deg, dtype=np.float64))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * radius_km * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def chord_for_distance(distance_km: float, radius_km: float = EARTH_MEAN_RADIUS_KM) -> float:
    """Straight-line distance between two :func:`unit_vector` points that are ``distance_km``
    apart along a great circle of a sphere of ``radius_km``: the bound to give a k-d tree of
    unit vectors (distances beyond half the circumference are capped at the antipode, 2.0)."""
    return 2.0 * math.sin(min(float(distance_km) / radius_km, math.pi) / 2.0)


#: Below this many (point, query) pairs :func:`any_within` compares every pair instead of
#: building a k-d tree (and importing scipy.spatial, ~0.2 s of a small job).
ANY_WITHIN_BRUTE_PAIRS = 4_000_000


def any_within(points: np.ndarray, queries: np.ndarray, chord: float) -> np.ndarray:
    """``(queries,)`` bool: whether any of ``points`` ``(n, 3)`` lies closer than ``chord``
    (straight-line distance, e.g. :func:`chord_for_distance` between :func:`unit_vector`
    points) to each of ``queries`` ``(q, 3)``. The test is scipy's ``cKDTree.query`` with
    ``distance_upper_bound=chord``: squared distance summed over x, y, z, strictly below
    ``chord**2``. Few pairs are compared directly, in blocks; many go to a k-d tree."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    q = np.asarray(queries, dtype=np.float64).reshape(-1, 3)
    out = np.zeros(len(q), dtype=bool)
    if not len(pts) or not len(q):
        return out
    if len(pts) * len(q) > ANY_WITHIN_BRUTE_PAIRS:
        from scipy.spatial import cKDTree

        dist, _ = cKDTree(pts).query(q, distance_upper_bound=chord)
        return np.isfinite(dist)
    bound = chord * chord
    block = max(1, 1_000_000 // len(pts))
    for i in range(0, len(q), block):
        d = q[i : i + block, None, :] - pts[None, :, :]
        d2 = d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] + d[..., 2] * d[..., 2]
        out[i : i + block] = (d2 < bound).any(axis=1)
    return out


def above_mask(du: np.ndarray | float, dd: np.ndarray | float, sin_min_elevation: float) -> np.ndarray | bool:
    """The elevation-mask test: ``du >= sqrt(dd) * sin_min_elevation``.

    ``du``: component of the line of sight along the local vertical (km), ``d . u``;
    ``dd``: squared length of the line of sight (km^2), ``d . d``; both any shape (or scalars
    inside numba); ``sin_min_elevation``: :func:`mask_sin` of the mask. True where the target is
    at or above the mask; False for NaN. Written with NumPy's ufuncs on purpose: numba compiles
    the same expression (:data:`above_mask_jit`), so NumPy references and kernels agree bit for bit."""
    return du >= np.sqrt(dd) * sin_min_elevation


#: :func:`above_mask` compiled for numba kernels (scalars); inlined into the caller.
above_mask_jit = njit(inline="always")(above_mask)


@njit(inline="always")
def line_of_sight_jit(sx: float, sy: float, sz: float, px: float, py: float, pz: float, ux: float, uy: float, uz: float) -> tuple[float, float]:  # pragma: no cover - compiled
    """``(du, dd)`` for :func:`above_mask` in numba kernels: the line of sight ``d = s - p`` from
    a ground point ``p`` to a target ``s`` (km), its component along the vertical ``u`` and its
    squared length, in the order of operations NumPy references repeat term by term."""
    dx = sx - px
    dy = sy - py
    dz = sz - pz
    return dx * ux + dy * uy + dz * uz, dx * dx + dy * dy + dz * dz


# Eight targets at once. Numba's loop vectorizer handles a loop over targets well but then
# reduces its lanes (a count, a bit mask, a maximum) after every loop, at every ground point:
# as costly as the loop itself where each point sees a few dozen targets. These intrinsics
# write the eight lanes as one LLVM vector expression of the same operations in the same order
# (no fast-math flags, so no fused multiply-adds and no reordering: each lane rounds as the
# scalar code does) and reduce them in registers.
_LANES = 8
_F8 = ir.VectorType(ir.DoubleType(), _LANES)


def _splat(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    v = builder.insert_element(ir.Constant(_F8, None), x, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(v, ir.Constant(_F8, None), ir.Constant(ir.VectorType(ir.IntType(32), _LANES), [0] * _LANES))


def _sight8(context, builder, sig, args):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The shared start of the intrinsics below: :func:`line_of_sight_jit` and
    :func:`above_mask`'s verdict with the range limit, on eight lanes. Returns ``du``, ``dd``,
    ``sqrt(dd)`` and the verdicts (``<8 x i1>``)."""
    sx, sy, sz, i, px, py, pz, ux, uy, uz, sin_m, max_range2 = args[:12]

    def load(k: int) -> ir.Value:
        data = context.make_array(sig.args[k])(context, builder, args[k]).data
        return builder.load(builder.bitcast(builder.gep(data, [i]), _F8.as_pointer()), align=8)

    dx = builder.fsub(load(0), _splat(builder, px))
    dy = builder.fsub(load(1), _splat(builder, py))
    dz = builder.fsub(load(2), _splat(builder, pz))
    du = builder.fadd(builder.fadd(builder.fmul(dx, _splat(builder, ux)), builder.fmul(dy, _splat(builder, uy))),
                      builder.fmul(dz, _splat(builder, uz)))
    dd = builder.fadd(builder.fadd(builder.fmul(dx, dx), builder.fmul(dy, dy)), builder.fmul(dz, dz))
    root = builder.call(cgutils.get_or_insert_function(builder.module, ir.FunctionType(_F8, [_F8]), "llvm.sqrt.v8f64"), [dd])
    seen = builder.and_(builder.fcmp_ordered(">=", du, builder.fmul(root, _splat(builder, sin_m))),
                        builder.fcmp_ordered("<=", dd, _splat(builder, max_range2)))
    return du, dd, root, seen


@intrinsic
def above_mask8(typingctx, sx, sy, sz, i, px, py, pz, ux, uy, uz, sin_m, max_range2):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """In numba kernels: bit ``k`` (of a uint64) set where target ``i + k`` (``k < 8``) of the
    float64 arrays ``sx, sy, sz`` (km) is in view of the ground point ``p`` with vertical ``u``:
    :func:`above_mask` of :func:`line_of_sight_jit` with ``sin_m`` and ``dd <= max_range2``,
    the same verdicts as those functions give target by target. No bounds checks: the caller
    pads the arrays to whole groups of eight (with NaN targets, never in view)."""
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        seen = _sight8(context, builder, sig, args)[3]
        return builder.zext(builder.bitcast(seen, ir.IntType(_LANES)), ir.IntType(64))
    return types.uint64(sx, sy, sz, i, px, py, pz, ux, uy, uz, sin_m, max_range2), codegen


@intrinsic
def highest_sin8(typingctx, sx, sy, sz, i, px, py, pz, ux, uy, uz, sin_m, max_range2, tiny_km):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """In numba kernels: the largest sine of elevation ``du / max(sqrt(dd), tiny_km)`` among
    targets ``i .. i + 7`` in view (as :func:`above_mask8`), -2 when none is; each lane's
    value is the scalar expression's, and a maximum is exact. Same padding rule."""
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        du, _, root, seen = _sight8(context, builder, sig, args)
        tiny = _splat(builder, args[12])
        val = builder.select(seen, builder.fdiv(du, builder.select(builder.fcmp_ordered(">", root, tiny), root, tiny)),
                             _splat(builder, ir.Constant(ir.DoubleType(), -2.0)))
        for width in (4, 2, 1):  # halves in registers (no NaN here: a lane not in view is -2)
            idx = ir.VectorType(ir.IntType(32), width)
            lo = builder.shuffle_vector(val, val, ir.Constant(idx, list(range(width))))
            hi = builder.shuffle_vector(val, val, ir.Constant(idx, list(range(width, 2 * width))))
            val = builder.select(builder.fcmp_ordered(">", lo, hi), lo, hi)
        return builder.extract_element(val, ir.Constant(ir.IntType(32), 0))
    return types.float64(sx, sy, sz, i, px, py, pz, ux, uy, uz, sin_m, max_range2, tiny_km), codegen


def mask_sin(min_elevation_deg: float) -> float:
    """``sin(min_elevation_deg)`` as :func:`above_mask` takes it; the mask must be a number in [-90, 90] deg."""
    try:
        m = float(min_elevation_deg)
    except (TypeError, ValueError):
        raise InputError(f"min_elevation_deg must be a number of degrees, got {min_elevation_deg!r}") from None
    if not (math.isfinite(m) and -90.0 <= m <= 90.0):
        raise InputError(f"min_elevation_deg must lie in [-90, 90], got {min_elevation_deg!r}")
    return float(np.sin(np.radians(np.float64(m))))


def sin_elevation(d_km: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Sine of the elevation ``(d . u) / |d|`` of lines of sight ``d_km`` ``(..., 3)`` above the
    horizon of local verticals ``up`` ``(..., 3)`` (unit, broadcast); NaN where ``d`` is NaN or zero."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(d_km * up, axis=-1) / np.sqrt(np.sum(d_km * d_km, axis=-1))


def elevation_deg(d_km: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Elevation (deg) of lines of sight ``d_km`` ``(..., 3)`` above the horizon of local
    verticals ``up`` ``(..., 3)`` (unit, broadcast); NaN where ``d`` is NaN.

    ``atan2(d . u, |d - (d . u) u|)``: the horizontal part is formed as a vector, so the angle
    is accurate to rounding everywhere, the zenith included (an arcsine of ``(d . u) / |d|``
    loses 1e-6 deg there)."""
    du = np.sum(d_km * up, axis=-1)
    h = d_km - du[..., None] * up
    return np.degrees(np.arctan2(du, np.sqrt(np.sum(h * h, axis=-1))))
