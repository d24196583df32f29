"""Satellites above an elevation mask at one place and instant."""

from __future__ import annotations

import numpy as np

from leonet.errors import InputError
from leonet.geometry import above_mask, mask_sin
from leonet.ground.points import GroundPoints
from leonet.orbits.frames import itrf_to_geodetic, look_angles
from leonet.orbits.propagate import propagate
from leonet.sources.constellation import Constellation
from leonet.sources.fleet import infer_fleet


def overhead(c: Constellation, lat_deg: float, lon_deg: float, alt_km: float, t_ns: int, min_elevation_deg: float = 25.0) -> list[dict]:
    """Rows (norad_id, name, azimuth_deg, elevation_deg, range_km, altitude_km, state) of
    satellites at or above ``min_elevation_deg`` seen from a WGS84 point at ``t_ns``, highest
    first; ``state`` is the operational state (:mod:`leonet.sources.fleet`: overhead lists every
    satellite, serving or not). Satellites whose SGP4 fails at that time are left out (they have
    no position)."""
    if not -90.0 <= lat_deg <= 90.0 or not -180.0 <= lon_deg <= 360.0:
        raise InputError(f"latitude {lat_deg} must be in [-90, 90] and longitude {lon_deg} in [-180, 360] degrees")
    states = propagate(c.satrecs, np.array([t_ns]), frame="itrf", velocities=False)
    az, el, rng = look_angles(np.array([lat_deg]), np.array([lon_deg]), alt_km, states.r_km)
    az, el, rng = az[0, :, 0], el[0, :, 0], rng[0, :, 0]
    _, _, alt = itrf_to_geodetic(states.r_km[:, 0])
    site = GroundPoints.from_geodetic(lat_deg, lon_deg, alt_km)
    d = states.r_km[:, 0] - site.itrf_km[0]  # (sats, 3); NaN where SGP4 failed: never in view
    idx = np.flatnonzero(above_mask(d @ site.up[0], np.sum(d * d, axis=-1), mask_sin(min_elevation_deg)))
    idx = idx[np.argsort(-el[idx])]
    state = infer_fleet(c).state
    return [
        {
            "norad_id": int(c.norad_id[i]),
            "name": str(c.name[i]),
            "azimuth_deg": round(float(az[i]), 4),
            "elevation_deg": round(float(el[i]), 4),
            "range_km": round(float(rng[i]), 3),
            "altitude_km": round(float(alt[i]), 3),
            "state": str(state[i]),
        }
        for i in idx
    ]
