"""Every number of the capacity model, with where it comes from.

:class:`CapacityParams` holds them all (one frozen dataclass; replace any field with
:func:`dataclasses.replace` or keyword arguments to :func:`leonet.capacity`). The table below
(also in the README, "Capacity") gives each default and its source; *estimate* marks figures
that no primary source states and that we derived or chose.

===============================  ===========  ========================================================================
parameter                        default      source
===============================  ===========  ========================================================================
down_mbps_v1                     20,000       v1.0/v1.5: "about 20 Gbps" per satellite, SpaceX public statements as
                                              summarised in the issue brief (#16). Estimate.
down_mbps_v2mini                 96,000       v2 mini: "about 4x a v1.5" (SpaceX, Feb 2023 V2 mini announcement);
                                              96 Gbps down as in the issue brief. Estimate.
up_mbps_v2mini                   6,700        v2 mini user uplink, issue brief (#16). Reported only (the model is
                                              forward link: Internet -> users). Estimate.
up_mbps_v1                       2,000        estimate (a tenth of the downlink, as Starlink's ~10:1 plans).
beams_v1 / beams_v2mini          16 / 48      user beams per satellite. Estimate: Ku phased arrays, 8 channels of
                                              250 MHz (Gen1 FCC filing) in two polarisations = 16; v2 mini ~3x.
beam_mbps_v1 / beam_mbps_v2mini  1,300/2,000  one beam's throughput: 250 MHz x ~5.2 bit/s/Hz (64-APSK class, estimate)
                                              for v1; v2 mini E/Ka-wider channels, estimate.
cells_per_beam                   1            cells one beam serves in one scheduling interval: StarPerf 2.0 places
                                              each beam on one H3 cell per 15 s slot.
interval_s                       15           Starlink's global scheduler re-plans every 15 s (Tanveer et al.,
                                              "Making Sense of Constellations", ACM CoNEXT 2023).
min_elevation_deg                25           user terminals' minimum elevation: SpaceX's 2020 Gen1 modification
                                              at the FCC lowered it from 40 to 25 deg; Gen2 filings use 25 deg.
gateway_min_elevation_deg        25           gateways, same filings.
feeder_mbps_v1 / _v2mini         20,000/96,000 a satellite's Ka/E gateway link, sized to carry its downlink (estimate).
gateway_antenna_mbps             10,000       one Ka gateway antenna: ~2.5 GHz of Ka feeder spectrum (Gen1 FCC
                                              filings) x 2 polarisations x ~2 bit/s/Hz. Estimate.
gateway_default_antennas         8            antennas at a gateway whose file gives none: the median of StarPerf's
                                              2024-01 Starlink gateway list (222 sites, 10th-90th pct 8-72).
laser_mbps                       100,000      Starlink laser links "100 Gbps" (SpaceX, 2022-2023 statements; later
                                              "up to 200 Gbps").
lasers_per_satellite             3            issue brief (#16): about 3 per satellite (v1.5, v2 mini). v1.0 has none.
laser_hops                       6            backhaul search radius in laser hops from the serving satellites
                                              (a model bound, not a physical figure).
sats_per_cell                    0            candidate satellites per cell and interval, the highest in the sky;
                                              0: every satellite in view. A model bound that shrinks the LP.
take_rate                        0.02         share of the population subscribing (CLI --take-rate). Estimate:
                                              SpaceX reported ~4.6 M subscribers at the end of 2024 (well under
                                              1 % of the population where it sells); 2 % is a high-uptake scenario.
busy_hour_mbps                   3.0          average busy-hour demand per subscriber. Estimate: fixed broadband
                                              busy-hour averages of 2-4 Mbps per line are typical operator figures.
sold_out_share                   0.95         a cell is "sold out" when less than this share of its demand is met.
pwl_breakpoints                  8            first tangent lines of log(share) in the proportional-fair LP; more are
                                              added where needed (see :mod:`leonet.capacity.allocate`).
pwl_tolerance                    0.001        bound on the proportional-fair objective's error (weighted log-share).
===============================  ===========  ========================================================================

Generations are inferred per satellite (:func:`infer_generation`): a launch on or after
2023-02-27 (international designator 2023-026, Starlink Group 6-1, the first v2 mini) is a
v2 mini; an earlier one a v1; without a designator, a ``STARLINK-NNNNN`` name numbered 30000
or above is a v2 mini. v1.0 (launched before 2021-01-24, designator < 2021-006) has no lasers.
Override with ``generation=`` (one code for all satellites, or one per satellite).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import numpy as np

from leonet.errors import InputError

#: Generation codes, in the order of the ``generation`` arrays.
GENERATIONS = ("v1.0", "v1.5", "v2mini")
V1_0, V1_5, V2MINI = 0, 1, 2
FIRST_V2MINI_LAUNCH = "2023-026"  # Starlink Group 6-1, 2023-02-27
FIRST_V1_5_LAUNCH = "2021-006"  # Transporter-1 polar v1.5 with lasers, 2021-01-24
FIRST_V2MINI_NAME_NUMBER = 30000


@dataclass(frozen=True)
class CapacityParams:
    """The capacity model's numbers (see the module table for sources). Rates in Mbps."""

    down_mbps_v1: float = 20_000.0
    down_mbps_v2mini: float = 96_000.0
    up_mbps_v1: float = 2_000.0
    up_mbps_v2mini: float = 6_700.0
    beams_v1: int = 16
    beams_v2mini: int = 48
    beam_mbps_v1: float = 1_300.0
    beam_mbps_v2mini: float = 2_000.0
    cells_per_beam: int = 1
    interval_s: float = 15.0
    min_elevation_deg: float = 25.0
    gateway_min_elevation_deg: float = 25.0
    feeder_mbps_v1: float = 20_000.0
    feeder_mbps_v2mini: float = 96_000.0
    gateway_antenna_mbps: float = 10_000.0
    gateway_default_antennas: int = 8
    laser_mbps: float = 100_000.0
    lasers_per_satellite: int = 3
    laser_hops: int = 6
    sats_per_cell: int = 0
    take_rate: float = 0.02
    busy_hour_mbps: float = 3.0
    sold_out_share: float = 0.95
    pwl_breakpoints: int = 8
    pwl_tolerance: float = 1e-3

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v) or v < 0:
                raise InputError(f"capacity parameter {f.name} = {v!r} must be a finite number >= 0")
        if not 0.0 < self.take_rate <= 1.0:
            raise InputError(f"take rate {self.take_rate!r} must be in (0, 1], e.g. 0.02 for 2 % of the population")
        if not 0.0 < self.sold_out_share <= 1.0:
            raise InputError(f"sold_out_share {self.sold_out_share!r} must be in (0, 1]")
        if not 0.0 <= self.min_elevation_deg <= 90.0 or not 0.0 <= self.gateway_min_elevation_deg <= 90.0:
            raise InputError("elevation masks must be in 0..90 deg")
        for name in ("beams_v1", "beams_v2mini", "cells_per_beam", "pwl_breakpoints", "interval_s"):
            if getattr(self, name) < 1:
                raise InputError(f"capacity parameter {name} = {getattr(self, name)!r} must be at least 1")

    def table(self) -> list[dict]:
        """Every parameter and its value (for run metadata and reports)."""
        return [{"parameter": f.name, "value": getattr(self, f.name)} for f in fields(self)]


@dataclass(frozen=True)
class Supply:
    """Per-satellite supply ``(sats,)``: downlink, beams, one beam's rate, gateway (feeder) link
    and laser terminals; ``generation`` codes index :data:`GENERATIONS`."""

    generation: np.ndarray
    down_mbps: np.ndarray
    up_mbps: np.ndarray
    beams: np.ndarray
    beam_mbps: np.ndarray
    feeder_mbps: np.ndarray
    lasers: np.ndarray

    def __len__(self) -> int:
        return len(self.generation)

    def take(self, idx: np.ndarray) -> Supply:
        return Supply(*(getattr(self, f.name)[idx] for f in fields(self)))


def supply(params: CapacityParams, generation: np.ndarray) -> Supply:
    """Per-satellite supply from generation codes ``(sats,)`` (see :data:`GENERATIONS`)."""
    g = np.asarray(generation, dtype=np.int8)
    v2 = g == V2MINI
    pick = lambda a, b: np.where(v2, b, a).astype(np.float64)
    lasers = np.where(g == V1_0, 0, params.lasers_per_satellite).astype(np.int64)
    return Supply(g, pick(params.down_mbps_v1, params.down_mbps_v2mini), pick(params.up_mbps_v1, params.up_mbps_v2mini),
                  pick(params.beams_v1, params.beams_v2mini), pick(params.beam_mbps_v1, params.beam_mbps_v2mini),
                  pick(params.feeder_mbps_v1, params.feeder_mbps_v2mini), lasers)


_NAME_NUMBER = re.compile(r"STARLINK-(\d+)", re.IGNORECASE)


def infer_generation(intl_designator: np.ndarray, name: np.ndarray | None = None) -> np.ndarray:
    """Generation codes ``(sats,)`` int8 from international designators ('2023-026A') and,
    where those are empty, names (see the module doc). Unknown satellites count as v1.5."""
    des = np.asarray(intl_designator, dtype=object)
    out = np.full(des.size, V1_5, dtype=np.int8)
    names = np.asarray(name, dtype=object) if name is not None else np.full(des.size, "", dtype=object)
    for k, (d, n) in enumerate(zip(des, names)):
        d = str(d or "")
        if re.match(r"\d{4}-\d{3}", d):
            launch = d[:8]
            out[k] = V2MINI if launch >= FIRST_V2MINI_LAUNCH else V1_5 if launch >= FIRST_V1_5_LAUNCH else V1_0
        else:
            m = _NAME_NUMBER.search(str(n or ""))
            if m and int(m.group(1)) >= FIRST_V2MINI_NAME_NUMBER:
                out[k] = V2MINI
    return out


def parse_generation(value: str | np.ndarray | None, n: int) -> np.ndarray | None:
    """A ``generation`` override: None (infer), one code for all (``'v1.5'``), or an array of
    codes or names ``(n,)``."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in GENERATIONS:
            raise InputError(f"generation {value!r} is not one of {', '.join(GENERATIONS)}")
        return np.full(n, GENERATIONS.index(value), dtype=np.int8)
    arr = np.asarray(value)
    if arr.shape != (n,):
        raise InputError(f"generation must be one code or {n} codes (one per satellite), got shape {arr.shape}")
    if arr.dtype.kind in "OUS":
        bad = sorted(set(map(str, arr)) - set(GENERATIONS))
        if bad:
            raise InputError(f"generation codes {bad} are not among {', '.join(GENERATIONS)}")
        return np.array([GENERATIONS.index(str(x)) for x in arr], dtype=np.int8)
    if arr.min(initial=0) < 0 or arr.max(initial=0) >= len(GENERATIONS):
        raise InputError(f"generation numbers must be 0..{len(GENERATIONS) - 1} ({', '.join(GENERATIONS)})")
    return arr.astype(np.int8)
