"""Filed shells: a Walker-delta generator and presets from public filings.

A Walker-delta shell i:T/P/F has ``P`` planes of ``S = T/P`` satellites on circular orbits of
inclination ``i``; plane ``p`` has its ascending node at ``raan0 + p * spread / P`` and slot
``s`` its argument of latitude at ``360 s / S + 360 F p / T`` (degrees). The satellites are
written as SGP4 mean elements (WGS72, no drag) and go through exactly the same SGP4 path as
real element sets.

Presets (numbers from the filings; where a filing is silent the choice is stated):

* ``starlink-gen1``: FCC grant of 2021 (4,408): 72x22 at 550 km 53.0 deg, 72x22 at 540 km
  53.2 deg, 36x20 at 570 km 70.0 deg, 6x58 at 560 km 97.6 deg, 4x43 at 560 km 97.6 deg.
* ``starlink-gen2``: FCC partial grant of December 2022: 7,500 satellites at 525, 530 and
  535 km, 53, 43 and 33 deg. The grant does not split the 7,500 across shells; SpaceX's
  application gives each of these shells 28 planes of 120. We fill the 53 and 43 deg shells as
  filed (3,360 each) and give the 33 deg shell the remaining 780 as 12 planes of 65, the
  smallest plane count that keeps its planes about as full as the others'.
* ``kuiper``: FCC authorisation of 2020 (3,236): 34x34 at 630 km 51.9 deg, 36x36 at 610 km
  42.0 deg, 28x28 at 590 km 33.0 deg.
* ``oneweb``: FCC grant of 2017 (720): 18 planes of 40 at 1,200 km 87.9 deg, planes spread
  over 180 deg (Walker star, as near-polar constellations are flown).

Filings give no inter-plane phasing; every preset uses F = 1. Eccentricity is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sgp4.api import WGS72, Satrec

from leonet.constants import WGS72_A_KM, WGS72_MU_KM3_S2
from leonet.errors import InputError
from leonet.sources.constellation import Constellation
from leonet.sources.records import LoadReport
from leonet.times import NS_PER_DAY, parse_time

_EPOCH_1949_NS = -631_238_400 * 1_000_000_000  # 1949-12-31T00:00:00 UTC, SGP4's epoch origin
DEFAULT_EPOCH = "2025-01-01T00:00:00Z"


@dataclass(frozen=True)
class WalkerShell:
    """One Walker shell. Angles in degrees, altitude above SGP4's 6378.135 km Earth radius."""

    name: str
    planes: int
    sats_per_plane: int
    altitude_km: float
    inclination_deg: float
    phasing: int = 1
    raan_spread_deg: float = 360.0
    raan0_deg: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        for key in ("planes", "sats_per_plane", "phasing"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise InputError(f"Walker shell {self.name!r}: {key}={value!r} must be a whole number")
        for key in ("altitude_km", "inclination_deg", "raan_spread_deg", "raan0_deg"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
                raise InputError(f"Walker shell {self.name!r}: {key}={value!r} must be a finite number")
        if self.planes < 1:
            problems.append(f"planes={self.planes} must be at least 1")
        if self.sats_per_plane < 1:
            problems.append(f"sats_per_plane={self.sats_per_plane} must be at least 1")
        if not 0 <= self.phasing < max(self.planes, 1):
            problems.append(f"phasing F={self.phasing} must be in 0..planes-1 ({self.planes - 1})")
        if not 150.0 <= self.altitude_km <= 50_000.0:
            problems.append(f"altitude_km={self.altitude_km} must be between 150 and 50,000")
        if not 0.0 <= self.inclination_deg <= 180.0:
            problems.append(f"inclination_deg={self.inclination_deg} must be in 0..180")
        if not 0.0 < self.raan_spread_deg <= 360.0:
            problems.append(f"raan_spread_deg={self.raan_spread_deg} must be in (0, 360]")
        if problems:
            raise InputError(f"Walker shell {self.name!r}: " + "; ".join(problems))

    @property
    def total(self) -> int:
        return self.planes * self.sats_per_plane

    def slots(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per satellite: plane (T,), slot (T,), RAAN (T,) deg, argument of latitude (T,) deg."""
        plane, slot = np.divmod(np.arange(self.total), self.sats_per_plane)
        raan = (self.raan0_deg + plane * self.raan_spread_deg / self.planes) % 360.0
        u = (slot * 360.0 / self.sats_per_plane + plane * self.phasing * 360.0 / self.total) % 360.0
        return plane, slot, raan, u


PRESETS: dict[str, tuple[WalkerShell, ...]] = {
    "starlink-gen1": (
        WalkerShell("550km-53.0", 72, 22, 550.0, 53.0),
        WalkerShell("540km-53.2", 72, 22, 540.0, 53.2),
        WalkerShell("570km-70.0", 36, 20, 570.0, 70.0),
        WalkerShell("560km-97.6a", 6, 58, 560.0, 97.6),
        WalkerShell("560km-97.6b", 4, 43, 560.0, 97.6),
    ),
    "starlink-gen2": (
        WalkerShell("525km-53", 28, 120, 525.0, 53.0),
        WalkerShell("530km-43", 28, 120, 530.0, 43.0),
        WalkerShell("535km-33", 12, 65, 535.0, 33.0),
    ),
    "kuiper": (
        WalkerShell("630km-51.9", 34, 34, 630.0, 51.9),
        WalkerShell("610km-42", 36, 36, 610.0, 42.0),
        WalkerShell("590km-33", 28, 28, 590.0, 33.0),
    ),
    "oneweb": (WalkerShell("1200km-87.9", 18, 40, 1200.0, 87.9, raan_spread_deg=180.0),),
}
PRESET_DESCRIPTIONS = {
    "starlink-gen1": "Starlink Gen1, FCC grant of 2021 (5 shells)",
    "starlink-gen2": "Starlink Gen2, FCC partial grant of Dec 2022 (7,500; split documented)",
    "kuiper": "Amazon Kuiper, FCC authorisation of 2020 (3 shells)",
    "oneweb": "OneWeb, FCC grant of 2017 (18x40 at 1,200 km)",
}


def _kozai_mean_motion(shell: WalkerShell, epoch_days: float) -> float:
    """Kozai mean motion (rad/min) whose SGP4 mean semi-major axis gives the shell altitude.

    SGP4 converts the Kozai mean motion of an element set to Brouwer's; one correction step
    makes the Brouwer semi-major axis match the target to well under a metre.
    """
    a_km = WGS72_A_KM + shell.altitude_km
    n = math.sqrt(WGS72_MU_KM3_S2 / a_km**3) * 60.0
    for _ in range(2):
        probe = Satrec()
        probe.sgp4init(WGS72, "i", 1, epoch_days, 0.0, 0.0, 0.0, 0.0, 0.0, math.radians(shell.inclination_deg), 0.0, n, 0.0)
        n *= (probe.a * WGS72_A_KM / a_km) ** 1.5
    return n


def walker_constellation(
    shells: tuple[WalkerShell, ...] | list[WalkerShell],
    epoch: str | int = DEFAULT_EPOCH,
    first_id: int = 100_001,
    label: str = "walker",
) -> Constellation:
    """Generate satellites for ``shells`` at ``epoch`` (ISO or ns). Catalogue numbers count up
    from ``first_id`` (outside the real catalogue range); names are ``LABEL SHELL Ppp-Sss``."""
    epoch_ns = parse_time(epoch)
    epoch_days = (epoch_ns - _EPOCH_1949_NS) / NS_PER_DAY
    total = sum(shell.total for shell in shells)
    if isinstance(first_id, bool) or not isinstance(first_id, (int, np.integer)) or first_id < 1:
        raise InputError(f"first_id={first_id!r} must be a catalogue number of at least 1")
    if first_id + total - 1 > 339_999:
        raise InputError(f"{total} satellites from first_id={first_id} pass SGP4's largest catalogue number 339999; lower first_id")
    satrecs, names = [], []
    num = first_id
    for shell in shells:
        n = _kozai_mean_motion(shell, epoch_days)
        inc = math.radians(shell.inclination_deg)
        plane, slot, raan, u = shell.slots()
        for p, s, o, m in zip(plane.tolist(), slot.tolist(), raan.tolist(), u.tolist()):
            sat = Satrec()
            sat.sgp4init(WGS72, "i", num, epoch_days, 0.0, 0.0, 0.0, 0.0, 0.0, inc, math.radians(m), n, math.radians(o))
            satrecs.append(sat)
            names.append(f"{label.upper()} {shell.name} P{p:02d}-S{s:02d}")
            num += 1
    count = len(satrecs)
    report = LoadReport(sources=[f"walker:{label}"], read=count)
    empty = np.array([""] * count, dtype=object)
    return Constellation(
        satrecs=tuple(satrecs),
        norad_id=np.arange(first_id, first_id + count, dtype=np.int64),
        name=np.array(names, dtype=object),
        intl_designator=empty,
        classification=np.array(["U"] * count, dtype=object),
        epoch_ns=np.full(count, epoch_ns, dtype=np.int64),
        report=report,
        label=label,
    )


def preset_constellation(name: str, epoch: str | int = DEFAULT_EPOCH) -> Constellation:
    """A filed constellation by preset name (see ``PRESETS``)."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)} (leonet shells lists them)")
    return walker_constellation(PRESETS[key], epoch=epoch, label=key)
