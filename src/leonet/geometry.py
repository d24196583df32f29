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
in numba kernels (:data:`above_mask_jit`, inlined into them). Every stage that asks "is this
satellite in view" (coverage counts, ground links of the network, gateway contacts) uses it;
searches that need the elevation itself (passes, imaging access) use :func:`elevation_deg`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

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
