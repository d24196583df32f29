"""Ground points: the one row-major type for positions on the ground.

Every stage that works with places on the ground (coverage cells, routing endpoints, gateways
and points of presence, imaging targets, pass sites) holds a :class:`GroundPoints` for their
positions; domain objects keep their own extra columns beside it. Kernels that want another
layout derive it from here (the visibility kernel builds its blocked ``(3, n)`` arrays itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from leonet.errors import InputError
from leonet.geometry import unit_vector
from leonet.orbits.frames import geodetic_to_itrf

__all__ = ["GroundPoints"]


@dataclass(frozen=True, eq=False)
class GroundPoints:
    """``n`` points on (or near) the ground, row-major.

    ``lat_deg``, ``lon_deg``, ``alt_km``: ``(n,)`` float64 WGS84 geodetic latitude, longitude
    (deg) and height above the ellipsoid (km); ``itrf_km``: ``(n, 3)`` float64 Earth-fixed
    position (km), from the geodetic coordinates (:meth:`from_geodetic`) or given as read (e.g.
    Hypatia's WGS72 positions); ``name``: ``(n,)`` object array of labels, or None.
    ``up`` ``(n, 3)``: the local vertical (ellipsoid normal), derived on first use.
    Build with :meth:`from_geodetic`, which checks its input; the constructor does not. Treat the
    arrays as read-only: derived layouts (``up``, the visibility kernel's blocks) are kept per object.
    """

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray
    itrf_km: np.ndarray
    name: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.lat_deg.shape[0])

    @cached_property
    def up(self) -> np.ndarray:
        """Unit local verticals ``(n, 3)``: the WGS84 ellipsoid normals (geodetic up)."""
        return unit_vector(self.lat_deg, self.lon_deg).reshape(-1, 3)

    @classmethod
    def from_geodetic(
        cls,
        lat_deg: np.ndarray | Sequence[float] | float,
        lon_deg: np.ndarray | Sequence[float] | float,
        alt_km: np.ndarray | Sequence[float] | float = 0.0,
        name: np.ndarray | Sequence[str] | None = None,
    ) -> GroundPoints:
        """Points from WGS84 latitude/longitude (deg, ``(n,)`` or scalars), height above the
        ellipsoid (km, scalar or ``(n,)``) and optional labels ``(n,)``. Raises
        :class:`~leonet.errors.InputError` for mismatched shapes, non-finite values, latitudes
        outside [-90, 90] and heights at or below -1000 km (metres given as km)."""
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
        if lat.ndim != 1 or lon.shape != lat.shape:
            raise InputError(f"lat_deg and lon_deg must be 1-D arrays of the same length, got shapes {lat.shape} and {lon.shape}")
        try:
            alt = np.ascontiguousarray(np.broadcast_to(np.asarray(alt_km, dtype=np.float64), lat.shape))
        except ValueError:
            raise InputError(f"alt_km must be a scalar or have shape {lat.shape}, got {np.shape(alt_km)}") from None
        if not (np.isfinite(lat).all() and np.isfinite(lon).all() and np.isfinite(alt).all()):
            raise InputError("ground point latitudes, longitudes and altitudes must be finite numbers")
        if lat.size and np.abs(lat).max() > 90.0:
            raise InputError(f"latitudes must lie in [-90, 90] deg; got values up to {np.abs(lat).max():g}")
        if lat.size and alt.min() <= -1000.0:
            raise InputError(f"ground altitudes are in km and must be above -1000 km; got {alt.min():g}")
        names = None
        if name is not None:
            names = np.empty(lat.size, dtype=object)
            given = list(name) if not isinstance(name, str) else [name]
            if len(given) != lat.size:
                raise InputError(f"{len(given)} names for {lat.size} ground points; give one name per point")
            names[:] = given
        itrf = np.asarray(geodetic_to_itrf(lat, lon, alt), dtype=np.float64).reshape(-1, 3)
        return cls(lat, lon, alt, itrf, names)

    @classmethod
    def empty(cls) -> GroundPoints:
        """No points (with an empty name column)."""
        z = np.zeros(0)
        return cls(z, z.copy(), z.copy(), np.zeros((0, 3)), np.zeros(0, dtype=object))

    def take(self, index: np.ndarray | Sequence[int] | slice) -> GroundPoints:
        """The points at integer positions, a boolean mask or a slice, in that order."""
        k = index if isinstance(index, slice) else np.asarray(index)
        return GroundPoints(
            self.lat_deg[k], self.lon_deg[k], self.alt_km[k], self.itrf_km[k], None if self.name is None else self.name[k]
        )

    @staticmethod
    def concat(parts: Sequence[GroundPoints]) -> GroundPoints:
        """The points of ``parts`` one after another. Names are kept when every part has them."""
        if not parts:
            return GroundPoints.empty()
        names = None
        if all(p.name is not None for p in parts):
            names = np.concatenate([np.asarray(p.name, dtype=object) for p in parts])
        return GroundPoints(
            np.concatenate([p.lat_deg for p in parts]),
            np.concatenate([p.lon_deg for p in parts]),
            np.concatenate([p.alt_km for p in parts]),
            np.concatenate([p.itrf_km for p in parts]).reshape(-1, 3),
            names,
        )
