"""Who really serves: the operational state of every satellite of a constellation.

States (``leonet.orbits.fleet.STATES``), inferred from the element sets alone, plus older
snapshots when given:

* ``operational``: holding station (near-circular, altitude steady) in an inferred shell;
* ``raising``: climbing, after launch or between shells;
* ``lowering``: descending toward a lower shell of its inclination (for example the 550 -> 480 km
  move that SpaceX announced for 2026);
* ``deorbiting``: descending below every shell of its inclination;
* ``dtc``: a direct-to-cell payload (``[DTC]`` in the name), which serves phones, not broadband
  terminals, whatever its orbit; the reason says whether it is on station;
* ``unassigned``: the rest, with a reason (steady outside every shell, in a group too small to be
  a shell, eccentric, or rejected by SGP4).

The rules and why:

* **Altitude** is the mean altitude: SGP4's mean semi-major axis minus 6378.135 km (WGS72). It is
  not the height above the ellipsoid: Starlink's "550 km" shell sits at about 540 km on this
  scale and the "480 km" shell at about 465-485 km.
* **Vertical motion** comes from the element set's first derivative of mean motion (the TLE's
  ``ndot/2``): ``da/dt = -(2/3) (a/n) dn/dt``. Drag at 350-570 km and fit noise stay within
  +-0.5 km/day for 99 % of the satellites holding station in the 2024-10 and 2026-08 snapshots,
  while orbit raising and lowering run at 1-6 km/day and a deorbit burn at up to 20 km/day; so
  ``|rate| <= 0.5 km/day`` is "holding altitude".
* **Shells** are the boxes of +-0.1 deg inclination and +-8 km mean altitude holding at least 60
  satellites that hold altitude and are near-circular (e <= 0.005), found greedily densest first
  (``leonet.orbits.fleet.find_shell_boxes``, the same search as the +Grid's shell inference).
  Only satellites holding station make a shell, so a batch passing through does not, and a new
  shell (480 km in 2026) is a shell as soon as 60 satellites hold station in it.
* **History** (``history=`` older snapshots, ``--history`` on the command line): the altitude
  change per day of each satellite since the most recent older snapshot at least 3 days before
  it decides between raising, lowering and steady when the element-set rate is within the
  noise: beyond +-0.1 km/day (9 km over three months) it counts as motion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from leonet.errors import InputError
from leonet.orbits.fleet import STATES, FleetRules, altitude_rate_km_day, infer_states
from leonet.sources.constellation import Constellation
from leonet.times import NS_PER_DAY

DTC_NAME = re.compile(r"\[\s*DTC\s*\]|\bDTC\b", re.IGNORECASE)
MIN_HISTORY_GAP_DAYS = 3.0
DEFAULT_SERVING = ("operational",)
TABLE_COLUMNS = ("norad_id", "name", "intl_designator", "shell", "state", "alt_km", "inclination_deg", "reason")


@dataclass(frozen=True)
class Fleet:
    """Per satellite ``(n,)``, in the constellation's order: ``norad_id``, ``name``,
    ``intl_designator``, ``state`` (str, one of ``STATES``), ``shell`` (int, -1 none),
    ``alt_km`` (mean altitude), ``inclination_deg``, ``motion_km_day`` (vertical motion used),
    ``trend_km_day`` (NaN without history), ``reason`` (str). ``shells``: one dict per shell
    (``shell``, ``inclination_deg``, ``altitude_km``, ``satellites``, ``dtc``)."""

    norad_id: np.ndarray
    name: np.ndarray
    intl_designator: np.ndarray
    state: np.ndarray
    shell: np.ndarray
    alt_km: np.ndarray
    inclination_deg: np.ndarray
    motion_km_day: np.ndarray
    trend_km_day: np.ndarray
    reason: np.ndarray
    shells: tuple[dict, ...]
    history: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.state.shape[0])

    def counts(self) -> dict[str, int]:
        """Satellites per state, every state listed (in ``STATES`` order)."""
        return {s: int(np.count_nonzero(self.state == s)) for s in STATES}

    def mask(self, states: Iterable[str]) -> np.ndarray:
        """``(n,)`` bool: satellites in any of ``states`` (checked names)."""
        return np.isin(self.state, np.array(parse_states(states), dtype=object))

    def table(self) -> pa.Table:
        """The ``leonet fleet`` table: ``norad_id,name,intl_designator,shell,state,alt_km,inclination_deg,reason``."""
        return pa.table({
            "norad_id": pa.array(self.norad_id, pa.int64()),
            "name": pa.array([str(x) for x in self.name], pa.string()),
            "intl_designator": pa.array([str(x) for x in self.intl_designator], pa.string()),
            "shell": pa.array(self.shell, pa.int64()),
            "state": pa.array([str(x) for x in self.state], pa.string()),
            "alt_km": pa.array(np.round(self.alt_km, 3), pa.float64()),
            "inclination_deg": pa.array(np.round(self.inclination_deg, 4), pa.float64()),
            "reason": pa.array([str(x) for x in self.reason], pa.string()),
        })


def parse_states(states: str | Iterable[str]) -> tuple[str, ...]:
    """State names from ``'operational,raising'`` or a sequence, checked; at least one."""
    items = [s.strip().lower() for s in (states.split(",") if isinstance(states, str) else states)]
    items = [s for s in items if s]
    bad = [s for s in items if s not in STATES]
    if bad or not items:
        raise InputError(f"states {', '.join(map(repr, bad)) or '(none)'} not known; choose from {', '.join(STATES)} (comma-separated)")
    return tuple(dict.fromkeys(items))


def _ndot_field(c: Constellation) -> np.ndarray:
    # sgp4 keeps the TLE's ndot/2 (rev/day^2) as rad/min^2: divide by 2 pi / 1440^2.
    return np.array([s.ndot for s in c.satrecs], dtype=np.float64) * (1440.0 * 1440.0 / (2.0 * np.pi))


def altitude_trend_km_day(c: Constellation, history: Sequence[Constellation]) -> np.ndarray:
    """Mean-altitude change per day ``(n,)`` of each satellite of ``c`` since the most recent
    snapshot of ``history`` that holds it with an epoch at least 3 days older; NaN where none."""
    trend = np.full(len(c), np.nan)
    best_gap = np.full(len(c), np.inf)
    for h in history:
        if not len(h):
            continue
        common, ic, ih = np.intersect1d(c.norad_id, h.norad_id, return_indices=True)
        if not common.size:
            continue
        gap = (c.epoch_ns[ic] - h.epoch_ns[ih]) / NS_PER_DAY
        ok = (gap >= MIN_HISTORY_GAP_DAYS) & (gap < best_gap[ic])
        i, j = ic[ok], ih[ok]
        trend[i] = (c.mean_altitude_km[i] - h.mean_altitude_km[j]) / gap[ok]
        best_gap[i] = gap[ok]
    return trend


def infer_fleet(c: Constellation, history: Sequence[Constellation] = (), rules: FleetRules = FleetRules()) -> Fleet:
    """The state of every satellite of ``c`` (see the module docstring). ``history``: older
    snapshots; one whose median epoch is not older than ``c``'s is an error."""
    for h in history:
        if len(h) and len(c) and np.median(h.epoch_ns) >= np.median(c.epoch_ns):
            raise InputError(f"history snapshot {h.label or '(unnamed)'} is not older than {c.label or 'the snapshot'}: give older snapshots with --history")
    dtc = np.array([bool(DTC_NAME.search(str(x))) for x in c.name], dtype=bool)
    valid = np.array([getattr(s, "error", 0) == 0 for s in c.satrecs], dtype=bool)
    rate = altitude_rate_km_day(c.semi_major_axis_km, c.mean_motion_rev_day, _ndot_field(c))
    trend = altitude_trend_km_day(c, history) if history else np.full(len(c), np.nan)
    st = infer_states(c.inclination_deg, c.mean_altitude_km, c.eccentricity, rate, dtc, trend, valid, rules)
    shells = tuple(
        {"shell": k, "inclination_deg": round(float(st.shell_inclination_deg[k]), 3), "altitude_km": round(float(st.shell_altitude_km[k]), 1),
         "satellites": int(st.shell_satellites[k]), "dtc": bool(st.shell_dtc[k])}
        for k in range(st.shell_altitude_km.size)
    )
    return Fleet(c.norad_id, c.name, c.intl_designator, np.array(STATES, dtype=object)[st.state], st.shell, c.mean_altitude_km,
                 c.inclination_deg, st.motion_km_day, trend, st.reason, shells, tuple(h.label for h in history))


@dataclass(frozen=True)
class Serving:
    """The satellites that serve: ``constellation`` (those in ``states``), ``fleet`` (all of
    them), ``states`` (the states kept) and ``left_out`` (satellites per state left out, every
    other state listed, zeros included)."""

    constellation: Constellation
    fleet: Fleet
    states: tuple[str, ...]
    left_out: dict[str, int]

    def describe(self) -> str:
        """One line for summaries: what serves and what was left out."""
        out = ", ".join(f"{n:,} {s}" for s, n in self.left_out.items() if n) or "none"
        return f"{len(self.constellation):,} of {len(self.fleet):,} satellites serve (states: {', '.join(self.states)}); left out: {out}"


def serving(c: Constellation, states: str | Iterable[str] = DEFAULT_SERVING, history: Sequence[Constellation] = (),
            fleet: Fleet | None = None, rules: FleetRules = FleetRules()) -> Serving:
    """Keep the satellites of ``c`` whose state is in ``states`` (default ``operational``).

    For coverage, passes for service, routing and capacity. ``fleet`` may be given when already
    inferred for ``c`` (it must have one row per satellite of ``c``)."""
    keep = parse_states(states)
    f = fleet if fleet is not None else infer_fleet(c, history, rules)
    if len(f) != len(c) or not np.array_equal(f.norad_id, c.norad_id):
        raise InputError("the fleet given to serving() was inferred for another constellation; infer it for this one")
    m = f.mask(keep)
    left = {s: int(np.count_nonzero(f.state[~m] == s)) for s in STATES if s not in keep}
    return Serving(c.take(m), f, keep, left)


__all__ = ["DEFAULT_SERVING", "STATES", "TABLE_COLUMNS", "Fleet", "FleetRules", "Serving", "altitude_trend_km_day", "infer_fleet", "parse_states", "serving"]
