"""Analytic Sun position: the Astronomical Almanac's low-precision formula, nothing downloaded.

The Almanac (section C, "Low-precision formulas for the Sun") gives the Sun's apparent
ecliptic longitude, the obliquity and the distance from days since J2000 with an accuracy of
0.01 deg in direction for 1950-2050 (a few hundredths of a degree a century outside). Right
ascension and declination are of date; the hour angle uses GMST-1982 at UT1
(:func:`leonet.orbits.frames.gmst82_rad`, the angle of leonet's ITRF). The equation of the
equinoxes (at most 0.005 deg) and the Sun's horizontal parallax (0.0024 deg) are below the
formula's own error and are left out. Elevations are geometric (no refraction), relative to the
WGS84 ellipsoid normal.
"""

from __future__ import annotations

import numpy as np

from leonet.geometry import elevation_deg, unit_vector
from leonet.orbits.eop import EarthOrientation
from leonet.orbits.frames import gmst82_rad
from leonet.times import ns_to_jd2

AU_KM = 149_597_870.7
_JD_J2000 = 2451545.0


def sun_ecliptic(t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apparent ecliptic longitude (deg), obliquity of the ecliptic (deg) and distance (AU) of
    the Sun at UTC instants ``t_ns`` (any shape; the same shape out)."""
    jd, fr = ns_to_jd2(t_ns)
    n = (jd - _JD_J2000) + fr  # days since J2000.0 (UTC for TT: 69 s move the Sun 0.0008 deg)
    mean_lon = 280.460 + 0.9856474 * n
    g = np.radians(357.528 + 0.9856003 * n)  # mean anomaly
    lam = mean_lon + 1.915 * np.sin(g) + 0.020 * np.sin(2.0 * g)
    eps = 23.439 - 0.0000004 * n
    dist_au = 1.00014 - 0.01671 * np.cos(g) - 0.00014 * np.cos(2.0 * g)
    return np.mod(lam, 360.0), eps, dist_au


def sun_direction_itrf(t_ns: np.ndarray, eop: EarthOrientation | None = None) -> np.ndarray:
    """Unit vector from the Earth's centre to the Sun in leonet's ITRF, ``(*t.shape, 3)``."""
    t = np.asarray(t_ns, dtype=np.int64)
    lam_deg, eps_deg, _ = sun_ecliptic(t)
    lam, eps = np.radians(lam_deg), np.radians(eps_deg)
    # Equatorial of date, then the Earth's rotation (GMST) about z.
    x, y, z = np.cos(lam), np.cos(eps) * np.sin(lam), np.sin(eps) * np.sin(lam)
    theta = gmst82_rad(t, eop)
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([c * x + s * y, c * y - s * x, z], -1)


def sun_elevation_deg(lat_deg: np.ndarray | float, lon_deg: np.ndarray | float, t_ns: np.ndarray | int, eop: EarthOrientation | None = None) -> np.ndarray:
    """Sun elevation (deg) at WGS84 points and UTC instants, broadcast together.

    ``lat_deg``, ``lon_deg``, ``t_ns`` broadcast to a common shape (e.g. points ``(k, 1)``
    against times ``(m,)`` gives ``(k, m)``). Geometric (no refraction); at the 0.01 deg level
    a ground height changes nothing.
    """
    lat, lon, t = np.broadcast_arrays(np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64), np.asarray(t_ns, dtype=np.int64))
    return elevation_deg(sun_direction_itrf(t, eop), unit_vector(lat, lon))


__all__ = ["sun_ecliptic", "sun_direction_itrf", "sun_elevation_deg", "AU_KM"]
