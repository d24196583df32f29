"""Sun position good to about 0.0003 deg (1 arcsecond), nothing downloaded.

The Earth's heliocentric ecliptic longitude, latitude and distance come from VSOP87
(Bretagnon & Francou 1988, variables of the ecliptic and equinox of date) truncated as in Meeus,
*Astronomical Algorithms* (2nd ed., 1998), chapter 32 and appendix III: 169 periodic terms, about
1 arcsecond over several millennia. The geocentric Sun is the opposite direction, brought to
FK5 (Meeus eq. 32.3), with nutation (the four leading IAU-1980 terms, 0.5" in longitude) and
annual aberration (-20.4898" / R). The time argument is TT = UTC + (TAI-UTC) + 32.184 s.

Earth-fixed coordinates: the apparent right ascension and declination of date are turned with
Greenwich apparent sidereal time, GMST-1982 at UT1 (:func:`leonet.orbits.frames.gmst82_rad`,
the angle of leonet's ITRF) plus the equation of the equinoxes. Elevations are topocentric
(the Sun's horizontal parallax, up to 0.0024 deg, is applied from the observer's WGS84 position)
and geometric (no refraction), relative to the WGS84 ellipsoid normal.

Accuracy, checked in ``tests/imaging/test_sun.py`` against Skyfield with JPL's DE421: Sun
elevation within 0.001 deg at many dates and places (0.0002 deg typical), and Sun-limited
access edges at a 10 deg threshold within 0.1 s of a bisected Skyfield.
"""

from __future__ import annotations

import numpy as np

from leonet.geometry import elevation_deg, unit_vector
from leonet.orbits.eop import EarthOrientation, builtin_eop
from leonet.orbits.frames import geodetic_to_itrf, gmst82_rad
from leonet.times import ns_to_jd2

AU_KM = 149_597_870.7
_JD_J2000 = 2451545.0
_ARCSEC = np.pi / (180.0 * 3600.0)

# VSOP87 (Earth), truncated as in Meeus appendix III: rows (A, B, C), term = A cos(B + C tau),
# tau in Julian millennia of TT from J2000; sums are in 1e-8 rad (L, B) and 1e-8 AU (R).
_L = (
    ((175347046, 0, 0), (3341656, 4.6692568, 6283.07585), (34894, 4.6261, 12566.1517), (3497, 2.7441, 5753.3849),
     (3418, 2.8289, 3.5231), (3136, 3.6277, 77713.7715), (2676, 4.4181, 7860.4194), (2343, 6.1352, 3930.2097),
     (1324, 0.7425, 11506.7698), (1273, 2.0371, 529.691), (1199, 1.1096, 1577.3435), (990, 5.233, 5884.927),
     (902, 2.045, 26.298), (857, 3.508, 398.149), (780, 1.179, 5223.694), (753, 2.533, 5507.553), (505, 4.583, 18849.228),
     (492, 4.205, 775.523), (357, 2.92, 0.067), (317, 5.849, 11790.629), (284, 1.899, 796.298), (271, 0.315, 10977.079),
     (243, 0.345, 5486.778), (206, 4.806, 2544.314), (205, 1.869, 5573.143), (202, 2.458, 6069.777), (156, 0.833, 213.299),
     (132, 3.411, 2942.463), (126, 1.083, 20.775), (115, 0.645, 0.98), (103, 0.636, 4694.003), (102, 0.976, 15720.839),
     (102, 4.267, 7.114), (99, 6.21, 2146.17), (98, 0.68, 155.42), (86, 5.98, 161000.69), (85, 1.3, 6275.96),
     (85, 3.67, 71430.7), (80, 1.81, 17260.15), (79, 3.04, 12036.46), (75, 1.76, 5088.63), (74, 3.5, 3154.69),
     (74, 4.68, 801.82), (70, 0.83, 9437.76), (62, 3.98, 8827.39), (61, 1.82, 7084.9), (57, 2.78, 6286.6),
     (56, 4.39, 14143.5), (56, 3.47, 6279.55), (52, 0.19, 12139.55), (52, 1.33, 1748.02), (51, 0.28, 5856.48),
     (49, 0.49, 1194.45), (41, 5.37, 8429.24), (41, 2.4, 19651.05), (39, 6.17, 10447.39), (37, 6.04, 10213.29),
     (37, 2.57, 1059.38), (36, 1.71, 2352.87), (36, 1.78, 6812.77), (33, 0.59, 17789.85), (30, 0.44, 83996.85),
     (30, 2.74, 1349.87), (25, 3.16, 4690.48)),
    ((628331966747, 0, 0), (206059, 2.678235, 6283.07585), (4303, 2.6351, 12566.1517), (425, 1.59, 3.523),
     (119, 5.796, 26.298), (109, 2.966, 1577.344), (93, 2.59, 18849.23), (72, 1.14, 529.69), (68, 1.87, 398.15),
     (67, 4.41, 5507.55), (59, 2.89, 5223.69), (56, 2.17, 155.42), (45, 0.4, 796.3), (36, 0.47, 775.52), (29, 2.65, 7.11),
     (21, 5.34, 0.98), (19, 1.85, 5486.78), (19, 4.97, 213.3), (17, 2.99, 6275.96), (16, 0.03, 2544.31), (16, 1.43, 2146.17),
     (15, 1.21, 10977.08), (12, 2.83, 1748.02), (12, 3.26, 5088.63), (12, 5.27, 1194.45), (12, 2.08, 4694.0),
     (11, 0.77, 553.57), (10, 1.3, 6286.6), (10, 4.24, 1349.87), (9, 2.7, 242.73), (9, 5.64, 951.72), (8, 5.3, 2352.87),
     (6, 2.65, 9437.76), (6, 4.67, 4690.48)),
    ((52919, 0, 0), (8720, 1.0721, 6283.0758), (309, 0.867, 12566.152), (27, 0.05, 3.52), (16, 5.19, 26.3), (16, 3.68, 155.42),
     (10, 0.76, 18849.23), (9, 2.06, 77713.77), (7, 0.83, 775.52), (5, 4.66, 1577.34), (4, 1.03, 7.11), (4, 3.44, 5573.14),
     (3, 5.14, 796.3), (3, 6.05, 5507.55), (3, 1.19, 242.73), (3, 6.12, 529.69), (3, 0.31, 398.15), (3, 2.28, 553.57),
     (2, 4.38, 5223.69), (2, 3.75, 0.98)),
    ((289, 5.844, 6283.076), (35, 0, 0), (17, 5.49, 12566.15), (3, 5.2, 155.42), (1, 4.72, 3.52), (1, 5.3, 18849.23),
     (1, 5.97, 242.73)),
    ((114, 3.142, 0), (8, 4.13, 6283.08), (1, 3.84, 12566.15)),
    ((1, 3.14, 0),),
)
_B = (
    ((280, 3.199, 84334.662), (102, 5.422, 5507.553), (80, 3.88, 5223.69), (44, 3.7, 2352.87), (32, 4.0, 1577.34)),
    ((9, 3.9, 5507.55), (6, 1.73, 5223.69)),
)
_R = (
    ((100013989, 0, 0), (1670700, 3.0984635, 6283.07585), (13956, 3.05525, 12566.1517), (3084, 5.1985, 77713.7715),
     (1628, 1.1739, 5753.3849), (1576, 2.8469, 7860.4194), (925, 5.453, 11506.77), (542, 4.564, 3930.21), (472, 3.661, 5884.927),
     (346, 0.964, 5507.553), (329, 5.9, 5223.694), (307, 0.299, 5573.143), (243, 4.273, 11790.629), (212, 5.847, 1577.344),
     (186, 5.022, 10977.079), (175, 3.012, 18849.228), (110, 5.055, 5486.778), (98, 0.89, 6069.78), (86, 5.69, 15720.84),
     (86, 1.27, 161000.69), (65, 0.27, 17260.15), (63, 0.92, 529.69), (57, 2.01, 83996.85), (56, 5.24, 71430.7),
     (49, 3.25, 2544.31), (47, 2.58, 775.52), (45, 5.54, 9437.76), (43, 6.01, 6275.96), (39, 5.36, 4694.0), (38, 2.39, 8827.39),
     (37, 0.83, 19651.05), (37, 4.9, 12139.55), (36, 1.67, 12036.46), (35, 1.84, 2942.46), (33, 0.24, 7084.9), (32, 0.18, 5088.63),
     (32, 1.78, 398.15), (28, 1.21, 6286.6), (28, 1.9, 6279.55), (26, 4.59, 10447.39)),
    ((103019, 1.10749, 6283.07585), (1721, 1.0644, 12566.1517), (702, 3.142, 0), (32, 1.02, 18849.23), (31, 2.84, 5507.55),
     (25, 1.32, 5223.69), (18, 1.42, 1577.34), (10, 5.91, 10977.08), (9, 1.42, 6275.96), (9, 0.27, 5486.78)),
    ((4359, 5.7846, 6283.0758), (124, 5.579, 12566.152), (12, 3.14, 0), (9, 3.63, 77713.77), (6, 1.87, 5573.14), (3, 5.47, 18849.23)),
    ((145, 4.273, 6283.076), (7, 3.92, 12566.15)),
    ((4, 2.56, 6283.08),),
)
_SERIES = tuple(tuple(np.array(block, dtype=np.float64) for block in var) for var in (_L, _B, _R))


def _vsop(var: tuple[np.ndarray, ...], tau: np.ndarray) -> np.ndarray:
    """Sum of one VSOP87 variable: sum_k tau^k sum_i A cos(B + C tau), in 1e-8 units."""
    out = np.zeros_like(tau)
    for k, block in enumerate(var):
        a, b, c = block[:, 0], block[:, 1], block[:, 2]
        out += tau**k * (np.cos(b + c * tau[..., None]) @ a)
    return out


def _tt_centuries(t_ns: np.ndarray, eop: EarthOrientation) -> np.ndarray:
    """Julian centuries of TT since J2000.0 at UTC instants ``t_ns``."""
    jd, fr = ns_to_jd2(t_ns)
    tt_minus_utc_days = (eop.tai_minus_utc_at(t_ns) + 32.184) / 86400.0
    return ((jd - _JD_J2000) + fr + tt_minus_utc_days) / 36525.0


def nutation_rad(t_centuries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nutation in longitude and obliquity and the mean obliquity of date (radians) at TT
    centuries since J2000: the four leading IAU-1980 terms (Meeus ch. 22; 0.5" and 0.1")."""
    t = np.asarray(t_centuries, dtype=np.float64)
    omega = np.radians(125.04452 - 1934.136261 * t + 0.0020708 * t * t + t**3 / 450000.0)
    l_sun = np.radians(280.4665 + 36000.7698 * t)
    l_moon = np.radians(218.3165 + 481267.8813 * t)
    dpsi = (-17.20 * np.sin(omega) - 1.32 * np.sin(2 * l_sun) - 0.23 * np.sin(2 * l_moon) + 0.21 * np.sin(2 * omega)) * _ARCSEC
    deps = (9.20 * np.cos(omega) + 0.57 * np.cos(2 * l_sun) + 0.10 * np.cos(2 * l_moon) - 0.09 * np.cos(2 * omega)) * _ARCSEC
    eps0 = np.radians(23.0 + 26.0 / 60.0 + 21.448 / 3600.0) + (-46.8150 * t - 0.00059 * t * t + 0.001813 * t**3) * _ARCSEC
    return dpsi, deps, eps0


def sun_ecliptic(t_ns: np.ndarray, eop: EarthOrientation | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apparent geocentric ecliptic longitude and latitude of date (deg) and distance (AU) of the
    Sun at UTC instants ``t_ns`` (any shape; the same shape out)."""
    t = np.asarray(t_ns, dtype=np.int64)
    tc = _tt_centuries(t, eop or builtin_eop())
    tau = tc / 10.0
    lon = _vsop(_SERIES[0], tau) * 1e-8 + np.pi  # the Sun is opposite the Earth
    lat = -_vsop(_SERIES[1], tau) * 1e-8
    r_au = _vsop(_SERIES[2], tau) * 1e-8
    # VSOP87 dynamical ecliptic -> FK5 (Meeus eq. 32.3).
    lam_p = lon - np.radians(1.397 * tc + 0.00031 * tc * tc)
    lon = lon - 0.09033 * _ARCSEC
    lat = lat + 0.03916 * (np.cos(lam_p) - np.sin(lam_p)) * _ARCSEC
    dpsi, _, _ = nutation_rad(tc)
    lon = lon + dpsi - 20.4898 * _ARCSEC / r_au
    return np.degrees(lon) % 360.0, np.degrees(lat), r_au


def sun_position_itrf_km(t_ns: np.ndarray, eop: EarthOrientation | None = None) -> np.ndarray:
    """Apparent position of the Sun from the Earth's centre in leonet's ITRF (km), ``(*t.shape, 3)``.
    The series is evaluated once per distinct instant (broadcast time grids repeat them)."""
    eop = eop or builtin_eop()
    t_all = np.asarray(t_ns, dtype=np.int64)
    t, inverse = np.unique(t_all.ravel(), return_inverse=True)
    return _sun_itrf_km(t, eop)[inverse].reshape(*t_all.shape, 3)


def _sun_itrf_km(t: np.ndarray, eop: EarthOrientation) -> np.ndarray:
    lam_deg, beta_deg, r_au = sun_ecliptic(t, eop)
    lam, beta = np.radians(lam_deg), np.radians(beta_deg)
    dpsi, deps, eps0 = nutation_rad(_tt_centuries(t, eop))
    eps = eps0 + deps
    cb = np.cos(beta)
    x = cb * np.cos(lam)
    y = cb * np.sin(lam) * np.cos(eps) - np.sin(beta) * np.sin(eps)
    z = cb * np.sin(lam) * np.sin(eps) + np.sin(beta) * np.cos(eps)
    theta = gmst82_rad(t, eop) + dpsi * np.cos(eps)  # apparent sidereal time
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([c * x + s * y, c * y - s * x, z], -1) * (r_au * AU_KM)[..., None]


def sun_direction_itrf(t_ns: np.ndarray, eop: EarthOrientation | None = None) -> np.ndarray:
    """Unit vector from the Earth's centre to the Sun in leonet's ITRF, ``(*t.shape, 3)``."""
    p = sun_position_itrf_km(t_ns, eop)
    return p / np.linalg.norm(p, axis=-1, keepdims=True)


def sun_elevation_deg(lat_deg: np.ndarray | float, lon_deg: np.ndarray | float, t_ns: np.ndarray | int,
                      eop: EarthOrientation | None = None, alt_km: np.ndarray | float = 0.0) -> np.ndarray:
    """Topocentric Sun elevation (deg) at WGS84 points and UTC instants, broadcast together.

    ``lat_deg``, ``lon_deg``, ``t_ns`` (and ``alt_km``) broadcast to a common shape (e.g. points
    ``(k, 1)`` against times ``(m,)`` gives ``(k, m)``). Geometric (no refraction)."""
    lat, lon, t, alt = np.broadcast_arrays(np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64),
                                           np.asarray(t_ns, dtype=np.int64), np.asarray(alt_km, dtype=np.float64))
    return elevation_deg(sun_position_itrf_km(t, eop) - geodetic_to_itrf(lat, lon, alt), unit_vector(lat, lon))


__all__ = ["AU_KM", "nutation_rad", "sun_direction_itrf", "sun_ecliptic", "sun_elevation_deg", "sun_position_itrf_km"]
