"""Frame kernels: TEME -> ITRF (GMST-1982 at UT1), ITRF <-> WGS84 geodetic, look angles.

All functions take and return NumPy arrays; positions in km, velocities in km/s, angles in
degrees unless a name says otherwise. Vector arrays have the xyz axis last, e.g. ``(sats, times, 3)``.
"""

from __future__ import annotations

import numpy as np

# WGS84 (the geodetic frame of GPS and of Skyfield's ``wgs84``); Vallado's teme2ecef rotation
# rate, length-of-day excess taken as 0.
from leonet.constants import EARTH_ROTATION_RAD_S, WGS84_A_KM, WGS84_E2
from leonet.geometry import elevation_deg, unit_vector
from leonet.orbits.eop import EarthOrientation, builtin_eop
from leonet.times import NS_PER_DAY, NS_PER_S

_J2000_UNIX_NS = 946_728_000 * NS_PER_S  # 2000-01-01T12:00:00 as ns since 1970


def gmst82_rad(t_ns: np.ndarray, eop: EarthOrientation | None = None) -> np.ndarray:
    """Greenwich mean sidereal angle (IAU 1982, as SGP4's TEME needs) at UTC instants.

    ``t_ns``: UTC, any shape. The angle is evaluated at UT1 = UTC + (UT1-UTC) from ``eop``.
    Returns radians in ``[0, 2pi)``, same shape. The day fraction is taken from integer ns so
    the angle keeps sub-microsecond precision.
    """
    eop = eop or builtin_eop()
    t = np.asarray(t_ns, dtype=np.int64)
    ut1_ns = t + np.round(eop.ut1_minus_utc_s(t) * NS_PER_S).astype(np.int64)
    days, rem = np.divmod(ut1_ns - _J2000_UNIX_NS, NS_PER_DAY)
    day_frac = rem / NS_PER_DAY  # fraction of the day since 12:00 UT1
    tc = (days + day_frac) / 36525.0  # Julian centuries of UT1 since J2000
    g_s = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * tc) * tc) * tc
    # Julian dates begin at noon, so the day fraction counted from noon is the JD's fraction.
    turns = (day_frac + np.mod(g_s / 86400.0, 1.0)) % 1.0
    return turns * (2.0 * np.pi)


def teme_to_itrf(
    r_teme_km: np.ndarray,
    v_teme_kms: np.ndarray | None,
    theta_rad: np.ndarray,
    polar_motion_rad: tuple[np.ndarray, np.ndarray] | None = None,
    out_r: np.ndarray | None = None,
    out_v: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate TEME states to ITRF (Vallado's ``teme2ecef``).

    ``r_teme_km``, ``v_teme_kms``: ``(..., times, 3)``; ``theta_rad``: ``(times,)`` GMST-1982
    from :func:`gmst82_rad`; ``polar_motion_rad``: optional ``(xp, yp)`` each ``(times,)``.
    Velocities include the Earth-rotation term ``- omega x r``. ``out_r``/``out_v`` may be given
    (any float dtype) to write in place. Returns ``(r_itrf_km, v_itrf_kms)``.
    """
    c = np.cos(theta_rad)
    s = np.sin(theta_rad)
    x, y = r_teme_km[..., 0], r_teme_km[..., 1]
    if out_r is None:
        out_r = np.empty(r_teme_km.shape, dtype=np.float64)
    xp_ = c * x + s * y
    yp_ = c * y - s * x
    out_r[..., 2] = r_teme_km[..., 2]
    if v_teme_kms is not None:
        if out_v is None:
            out_v = np.empty(v_teme_kms.shape, dtype=np.float64)
        vx, vy = v_teme_kms[..., 0], v_teme_kms[..., 1]
        # Both components are formed before either is written, so out_v may be v_teme_kms.
        vxp = c * vx + s * vy + EARTH_ROTATION_RAD_S * yp_
        vyp = c * vy - s * vx - EARTH_ROTATION_RAD_S * xp_
        out_v[..., 0] = vxp
        out_v[..., 1] = vyp
        out_v[..., 2] = v_teme_kms[..., 2]
    out_r[..., 0] = xp_
    out_r[..., 1] = yp_
    if polar_motion_rad is not None:
        w = _polar_motion_matrix(*polar_motion_rad)
        out_r[...] = np.einsum("tij,...tj->...ti", w, out_r)
        if out_v is not None:
            out_v[...] = np.einsum("tij,...tj->...ti", w, out_v)
    return out_r, out_v


def _polar_motion_matrix(xp_rad: np.ndarray, yp_rad: np.ndarray) -> np.ndarray:
    """PEF -> ITRF matrices ``(times, 3, 3)``: the transpose of Vallado's ``polarm`` (IAU-76/FK5)."""
    cx, sx, cy, sy = np.cos(xp_rad), np.sin(xp_rad), np.cos(yp_rad), np.sin(yp_rad)
    z = np.zeros_like(cx)
    pm = np.stack(
        [
            np.stack([cx, z, -sx], -1),
            np.stack([sx * sy, cy, cx * sy], -1),
            np.stack([sx * cy, -sy, cx * cy], -1),
        ],
        -2,
    )
    return np.swapaxes(pm, -1, -2)


def itrf_to_geodetic(r_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 geodetic latitude, longitude (deg) and altitude (km) of ITRF positions ``(..., 3)``.

    Fixed-point iteration on latitude; five rounds converge below 1e-9 m from the surface to
    beyond GEO. Works at the poles (the altitude formula has no 1/cos(lat)).
    """
    x, y, z = r_km[..., 0], r_km[..., 1], r_km[..., 2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(5):
        sin_lat = np.sin(lat)
        n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
        lat = np.arctan2(z + WGS84_E2 * n * sin_lat, p)
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    alt = p * cos_lat + z * sin_lat - WGS84_A_KM * np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    return np.degrees(lat), np.degrees(lon), alt


def geodetic_to_itrf(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_km: np.ndarray | float = 0.0) -> np.ndarray:
    """ITRF position (km) ``(..., 3)`` of WGS84 geodetic coordinates (broadcast together)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    h = np.asarray(alt_km, dtype=np.float64)
    sin_lat = np.sin(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    rxy = (n + h) * np.cos(lat)
    return np.stack(np.broadcast_arrays(rxy * np.cos(lon), rxy * np.sin(lon), (n * (1.0 - WGS84_E2) + h) * sin_lat), -1)


def enu_basis(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Unit east, north, up vectors in ITRF for geodetic points: ``(points, 3, 3)`` rows e, n, u."""
    lat = np.radians(np.atleast_1d(np.asarray(lat_deg, dtype=np.float64)))
    lon = np.radians(np.atleast_1d(np.asarray(lon_deg, dtype=np.float64)))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    z = np.zeros_like(sl)
    east = np.stack([-so, co, z], -1)
    north = np.stack([-sl * co, -sl * so, cl], -1)
    return np.stack([east, north, unit_vector(lat_deg, lon_deg).reshape(-1, 3)], -2)


def look_angles(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    alt_km: np.ndarray | float,
    r_sat_itrf_km: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Azimuth (deg from north through east), elevation (deg) and slant range (km).

    Ground points ``(points,)`` in WGS84; satellites ``(sats, times, 3)`` ITRF km. Returns three
    arrays ``(points, sats, times)``; NaN positions give NaN angles. Memory is
    ``points * sats * times * 8`` bytes per output: chunk points for big jobs.
    """
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    alt = np.broadcast_to(np.asarray(alt_km, dtype=np.float64), lat.shape)
    station = geodetic_to_itrf(lat, lon, alt)  # (points, 3)
    basis = enu_basis(lat, lon)  # (points, 3, 3)
    d = r_sat_itrf_km[None, ...] - station[:, None, None, :]  # (points, sats, times, 3)
    enu = np.einsum("pij,pstj->psti", basis, d)
    e, n = enu[..., 0], enu[..., 1]
    el = elevation_deg(d, basis[:, None, None, 2, :])
    az = np.degrees(np.arctan2(e, n)) % 360.0
    rng = np.sqrt(np.sum(d * d, axis=-1))
    return az, el, rng
