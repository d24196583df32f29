"""Earth orientation: UT1-UTC (always) and polar motion (only from a user's IERS file).

The default UT1-UTC table ships with leonet (``data/eop_dut1.csv``, built from the IERS series
bundled in Skyfield by ``scripts/build_eop.py``). Between its daily samples UT1-TAI, which is
smooth, is interpolated linearly; outside the table the nearest end value is held, which is good
to a few ms for some months (about a metre at orbital speeds) and is reported by
:meth:`EarthOrientation.covers`.

Polar motion (x_p, y_p, a few metres at the surface) is off by default, as in Vallado's
``teme2ecef`` with ``xp = yp = 0`` and in Skyfield without a polar-motion table. To turn it on,
load an IERS ``finals2000A.all`` / ``finals.all`` file with :func:`load_finals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from leonet.errors import DataNotFoundError, InputError
from leonet.times import NS_PER_DAY

_MJD_UNIX_EPOCH = 40587  # MJD of 1970-01-01
ARCSEC_TO_RAD = np.pi / (180.0 * 3600.0)


@dataclass(frozen=True)
class EarthOrientation:
    """Daily Earth orientation samples at 00:00 UTC.

    ``mjd``: (days,) int; ``ut1_minus_tai_s``: (days,); ``tai_minus_utc_s``: (days,);
    ``xp_arcsec``, ``yp_arcsec``: (days,) or None when polar motion is not applied.
    """

    mjd: np.ndarray
    ut1_minus_tai_s: np.ndarray
    tai_minus_utc_s: np.ndarray
    xp_arcsec: np.ndarray | None = None
    yp_arcsec: np.ndarray | None = None
    source: str = "built-in"

    @property
    def polar_motion(self) -> bool:
        return self.xp_arcsec is not None

    def _mjd_float(self, t_ns: np.ndarray) -> np.ndarray:
        days, rem = np.divmod(np.asarray(t_ns, dtype=np.int64), NS_PER_DAY)
        return (days + _MJD_UNIX_EPOCH).astype(np.float64) + rem / NS_PER_DAY

    def ut1_minus_utc_s(self, t_ns: np.ndarray | int) -> np.ndarray:
        """UT1-UTC in seconds at UTC instants ``t_ns`` (any shape)."""
        t = np.asarray(t_ns, dtype=np.int64)
        mjd = self._mjd_float(t)
        ut1_tai = np.interp(mjd, self.mjd, self.ut1_minus_tai_s)
        idx = np.clip(np.searchsorted(self.mjd, np.floor(mjd), side="right") - 1, 0, len(self.mjd) - 1)
        return ut1_tai + self.tai_minus_utc_s[idx]

    def tai_minus_utc_at(self, t_ns: np.ndarray | int) -> np.ndarray:
        """TAI-UTC (leap seconds, s) at UTC instants ``t_ns`` (any shape); TT = UTC + this + 32.184 s.
        Before the table the first value is held, after it the last."""
        mjd = np.floor(self._mjd_float(np.asarray(t_ns, dtype=np.int64)))
        idx = np.clip(np.searchsorted(self.mjd, mjd, side="right") - 1, 0, len(self.mjd) - 1)
        return self.tai_minus_utc_s[idx]

    def polar_motion_rad(self, t_ns: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """(x_p, y_p) in radians at ``t_ns``; zeros when polar motion is off."""
        t = np.asarray(t_ns, dtype=np.int64)
        if self.xp_arcsec is None or self.yp_arcsec is None:
            z = np.zeros(t.shape)
            return z, z
        mjd = self._mjd_float(t)
        return (
            np.interp(mjd, self.mjd, self.xp_arcsec) * ARCSEC_TO_RAD,
            np.interp(mjd, self.mjd, self.yp_arcsec) * ARCSEC_TO_RAD,
        )

    def covers(self, t_ns: np.ndarray | int) -> bool:
        """Whether every instant lies within the table (no held end values)."""
        mjd = self._mjd_float(np.asarray(t_ns, dtype=np.int64))
        return bool(np.all((mjd >= self.mjd[0]) & (mjd <= self.mjd[-1])))


@dataclass(frozen=True)
class UtcAsUt1(EarthOrientation):
    """Earth rotation evaluated at UTC, i.e. UT1-UTC taken as 0 (always within 0.9 s).

    This is the convention of Hypatia's satgenpy, whose pyephem takes its dates as UT and
    turns them into sidereal time without UT1-UTC: on Hypatia's epoch, 2000-01-01 (UT1-UTC =
    +0.355 s), the Earth then stands 0.355 s of rotation behind the true one, up to about 165 m at
    the equator. Use it only to reproduce such tools; :func:`builtin_eop` is the true Earth."""

    def ut1_minus_utc_s(self, t_ns: np.ndarray | int) -> np.ndarray:
        return np.zeros(np.shape(t_ns))


@lru_cache(maxsize=1)
def utc_as_ut1() -> EarthOrientation:
    """The :class:`UtcAsUt1` convention (no polar motion)."""
    b = builtin_eop()
    return UtcAsUt1(b.mjd, b.ut1_minus_tai_s, b.tai_minus_utc_s, source="UT1 = UTC (Hypatia/pyephem convention)")


@lru_cache(maxsize=1)
def builtin_eop() -> EarthOrientation:
    """The UT1-UTC table shipped with leonet (no polar motion)."""
    text = resources.files("leonet.data").joinpath("eop_dut1.csv").read_text()
    rows = np.loadtxt(text.splitlines(), delimiter=",", comments="#", skiprows=3)
    mjd = rows[:, 0].astype(np.int64)
    return EarthOrientation(mjd, rows[:, 1] - rows[:, 2], rows[:, 2])


def load_finals(path: str | Path) -> EarthOrientation:
    """Read an IERS ``finals2000A.all`` (or ``finals.all``) file, with polar motion.

    Columns used (1-based, IERS fixed format): MJD 8-15, x_p 19-27 and y_p 38-46 (arcsec),
    UT1-UTC 59-68 (s). Rows without a UT1-UTC value (far predictions) are skipped.
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"IERS file {p} not found; download finals2000A.all from the IERS and pass its path")
    base = builtin_eop()
    mjd, xp, yp, dut1 = [], [], [], []
    for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
        if len(line) < 68 or not line[58:68].strip():
            continue
        try:
            mjd.append(int(float(line[7:15])))
            xp.append(float(line[18:27]))
            yp.append(float(line[37:46]))
            dut1.append(float(line[58:68]))
        except ValueError:
            raise InputError(
                f"{p}:{n}: not an IERS finals row (expected MJD in columns 8-15, x_p 19-27, y_p 38-46, "
                f"UT1-UTC 59-68): {line[:70]!r}"
            ) from None
    if not mjd:
        raise InputError(f"{p}: no IERS finals rows with UT1-UTC found; is this a finals2000A.all file?")
    mjd_a = np.asarray(mjd, dtype=np.int64)
    # TAI-UTC from the built-in table's leap seconds (held at its last value after it ends).
    idx = np.clip(np.searchsorted(base.mjd, mjd_a, side="right") - 1, 0, len(base.mjd) - 1)
    tai_utc = np.where(mjd_a < base.mjd[0], base.tai_minus_utc_s[0], base.tai_minus_utc_s[idx])
    return EarthOrientation(
        mjd_a, np.asarray(dut1) - tai_utc, tai_utc, np.asarray(xp), np.asarray(yp), source=str(p)
    )
