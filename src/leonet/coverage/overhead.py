"""Satellites above an elevation mask at one place and instant."""

from __future__ import annotations

import numpy as np

from leonet.orbits.frames import itrf_to_geodetic, look_angles
from leonet.orbits.propagate import propagate
from leonet.sources.constellation import Constellation


def overhead(c: Constellation, lat_deg: float, lon_deg: float, alt_km: float, t_ns: int, min_elevation_deg: float = 25.0) -> list[dict]:
    """Rows (norad_id, name, azimuth_deg, elevation_deg, range_km, altitude_km) of satellites at
    or above ``min_elevation_deg`` seen from a WGS84 point at ``t_ns``, highest first.
    Satellites whose SGP4 fails at that time are left out (they have no position)."""
    states = propagate(c.satrecs, np.array([t_ns]), frame="itrf", velocities=False)
    az, el, rng = look_angles(np.array([lat_deg]), np.array([lon_deg]), alt_km, states.r_km)
    az, el, rng = az[0, :, 0], el[0, :, 0], rng[0, :, 0]
    _, _, alt = itrf_to_geodetic(states.r_km[:, 0])
    idx = np.flatnonzero(el >= min_elevation_deg)
    idx = idx[np.argsort(-el[idx])]
    return [
        {
            "norad_id": int(c.norad_id[i]),
            "name": str(c.name[i]),
            "azimuth_deg": round(float(az[i]), 4),
            "elevation_deg": round(float(el[i]), 4),
            "range_km": round(float(rng[i]), 3),
            "altitude_km": round(float(alt[i]), 3),
        }
        for i in idx
    ]
