"""Read a Hypatia (satgenpy) scenario folder: tles.txt, isls.txt, ground_stations.txt, description.txt.

* ``tles.txt``: first line ``<planes> <sats per plane>``, then three-line records; satellite id
  = record order (Hypatia writes ``plane * per_plane + slot``).
* ``isls.txt``: one laser link ``a b`` per line (satellite ids).
* ``ground_stations.txt`` ("extended" format): ``gid,name,lat_deg,lon_deg,elev_m,x_m,y_m,z_m``
  with the Earth-fixed position computed by satgenpy on the WGS72 ellipsoid; node id
  ``n_sats + gid``. The positions are used as written, so the ellipsoid is Hypatia's.
* ``description.txt``: ``max_gsl_length_m=...`` and ``max_isl_length_m=...``.

**Time convention.** satgenpy computes every distance with pyephem, which takes its dates as UT
and ignores UT1-UTC when it turns them into the Earth's rotation. leonet's ITRF is evaluated at
UT1; on Hypatia's epoch (2000-01-01, UT1-UTC = +0.355 s) the two Earths stand 0.355 s of
rotation apart, which moves ground stations up to about 165 m relative to the satellites and
path lengths by up to a few hundred metres. :func:`leonet.api.route_hypatia` (``leonet route --hypatia``) therefore
uses Hypatia's convention by default (``time_convention="hypatia"``: Earth rotation at UTC,
:func:`leonet.orbits.eop.utc_as_ut1`, from :func:`hypatia_earth_orientation`);
``time_convention="ut1"`` gives the true Earth. Against
satgenpy itself (``scripts/hypatia_reference.py``, tested in ``tests/network/test_hypatia_satgenpy.py``)
the remaining differences are pyephem's own SGP4 and Earth model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leonet.errors import DataNotFoundError, InputError
from leonet.ground.points import GroundPoints
from leonet.orbits.eop import EarthOrientation, builtin_eop, utc_as_ut1
from leonet.sources.constellation import Constellation

TIME_CONVENTIONS = ("hypatia", "ut1")


@dataclass(frozen=True)
class HypatiaScenario:
    """``constellation`` (satellite id = position), ``planes`` x ``sats_per_plane``,
    ``isls`` (L, 2), ``ground`` (G nodes, gid order), ``max_gsl_length_m``, ``max_isl_length_m``."""

    constellation: Constellation
    planes: int
    sats_per_plane: int
    isls: np.ndarray
    ground: GroundPoints
    max_gsl_length_m: float
    max_isl_length_m: float

    @property
    def epoch_ns(self) -> int:
        return int(self.constellation.epoch_ns.min())


def _need(folder: Path, name: str) -> Path:
    p = folder / name
    if not p.is_file():
        raise DataNotFoundError(f"Hypatia scenario folder {str(folder)!r} has no {name}; it needs tles.txt, isls.txt, ground_stations.txt and description.txt")
    return p


def read_hypatia(folder: str | Path) -> HypatiaScenario:
    """Read a satgenpy scenario folder (see the module docstring)."""
    from leonet.sources.tle import parse_tle_text

    d = Path(folder)
    if not d.is_dir():
        raise DataNotFoundError(f"Hypatia scenario folder {str(d)!r} not found")
    text = _need(d, "tles.txt").read_text()
    first = text.partition("\n")[0]
    try:
        planes, per_plane = (int(x) for x in first.split())
    except ValueError:
        raise InputError(f"{d / 'tles.txt'} line 1 is {first!r}; Hypatia's tles.txt starts with '<planes> <sats per plane>', e.g. '72 22'") from None
    records, report = parse_tle_text(text, str(d / "tles.txt"))  # the header is recognised
    if report.rejected:
        raise InputError(f"{d / 'tles.txt'}: {len(report.rejected)} records rejected, first: {report.rejected[0]}")
    # Satellite ids are record positions, so no de-duplication or reordering is allowed.
    c = Constellation.from_records(records, report, label="hypatia")
    if len(c) != planes * per_plane or len(c) != len(records):
        raise InputError(f"{d / 'tles.txt'} holds {len(records)} records ({len(c)} distinct) but its header says {planes} x {per_plane}")
    isls = np.loadtxt(_need(d, "isls.txt"), dtype=np.int64, ndmin=2)
    if isls.size and (isls.shape[1] != 2 or isls.min() < 0 or isls.max() >= len(c)):
        raise InputError(f"{d / 'isls.txt'} must hold lines 'a b' with satellite ids in 0..{len(c) - 1}")
    gids, names, lat, lon, alt, xyz = [], [], [], [], [], []
    for k, line in enumerate(_need(d, "ground_stations.txt").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        f = line.split(",")
        if len(f) != 8:
            raise InputError(f"{d / 'ground_stations.txt'} line {k}: {len(f)} fields; expected gid,name,lat_deg,lon_deg,elev_m,x_m,y_m,z_m")
        gids.append(int(f[0]))
        names.append(f[1])
        lat.append(float(f[2]))
        lon.append(float(f[3]))
        alt.append(float(f[4]) / 1000.0)
        xyz.append([float(v) for v in f[5:8]])
    if gids != list(range(len(gids))):
        raise InputError(f"{d / 'ground_stations.txt'}: gids must run 0, 1, 2, ... in order")
    desc = {}
    for line in _need(d, "description.txt").read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            desc[k.strip()] = v.strip()
    try:
        gsl, isl = float(desc["max_gsl_length_m"]), float(desc["max_isl_length_m"])
    except (KeyError, ValueError):
        raise InputError(f"{d / 'description.txt'} must give max_gsl_length_m=... and max_isl_length_m=...") from None
    # Hypatia's own (WGS72) positions, as written; ``up`` is the normal of their geodetic latitude.
    ground = GroundPoints(np.array(lat), np.array(lon), np.array(alt), np.array(xyz, dtype=np.float64).reshape(-1, 3) / 1e3, np.array(names, dtype=object))
    return HypatiaScenario(c, planes, per_plane, isls, ground, gsl, isl)


def hypatia_earth_orientation(time_convention: str = "hypatia") -> EarthOrientation:
    """The Earth orientation of a time convention: 'hypatia' (rotation at UTC, as satgenpy and
    pyephem) or 'ut1' (the true Earth, leonet's default elsewhere)."""
    if time_convention not in TIME_CONVENTIONS:
        raise InputError(f"time convention {time_convention!r} is not one of {', '.join(TIME_CONVENTIONS)} ('hypatia': Earth rotation at UTC as satgenpy; 'ut1': the true Earth)")
    return utc_as_ut1() if time_convention == "hypatia" else builtin_eop()
