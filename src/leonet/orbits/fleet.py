"""Operational state of every satellite from its elements: the kernel (arrays in, codes out).

The object wrapper that reads names and older snapshots is :mod:`leonet.sources.fleet`; the
rules, their thresholds and why are documented there and in the README. In short, per satellite
(``n`` of them):

* ``alt_km``: mean altitude (SGP4 mean semi-major axis minus 6378.135 km), ``inc_deg``,
  ``ecc``; ``rate_km_day``: the altitude rate that the element set's mean-motion derivative
  implies (:func:`altitude_rate_km_day`); ``trend_km_day``: the altitude change per day since an
  older snapshot (NaN where unknown); ``dtc``: a direct-to-cell payload.
* **Shells** are the dense (inclination, altitude) boxes of satellites holding their altitude
  (:func:`find_shell_boxes` over near-circular satellites with ``|rate| <= steady``), found
  separately for broadband and direct-to-cell satellites. A shell that the fleet is moving into
  is a shell as soon as ``min_shell_satellites`` satellites hold station in it.
* A satellite in a shell box and holding its altitude is ``operational`` (``dtc`` for a
  direct-to-cell payload, whatever it does). Otherwise its vertical motion is the element rate
  when that is beyond ``steady``, else the snapshot trend when that is beyond ``trend``:
  climbing is ``raising``; descending with a broadband shell below it at its inclination is
  ``lowering``; descending below every shell of its inclination is ``deorbiting``. The rest
  (steady between shells, in groups too small to be a shell, eccentric, or failing SGP4) is
  ``unassigned``, always with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leonet.errors import InputError

STATES = ("operational", "raising", "lowering", "deorbiting", "dtc", "unassigned")
OPERATIONAL, RAISING, LOWERING, DEORBITING, DTC, UNASSIGNED = range(len(STATES))


@dataclass(frozen=True)
class FleetRules:
    """Thresholds of the state inference (see the module docstring and the README).

    ``inclination_tol_deg``, ``altitude_tol_km``: half-widths of a shell box; ``min_shell_satellites``:
    fewest satellites holding station that make a shell; ``max_eccentricity``: above it a
    satellite is not on station; ``steady_km_day``: element-set altitude rates within this are
    drag and noise, not a manoeuvre; ``trend_km_day``: likewise for the trend between snapshots;
    ``target_inclination_tol_deg``: how near in inclination a shell must be to count as the one a
    moving satellite goes to.
    """

    inclination_tol_deg: float = 0.1
    altitude_tol_km: float = 8.0
    min_shell_satellites: int = 60
    max_eccentricity: float = 0.005
    steady_km_day: float = 0.5
    trend_km_day: float = 0.1
    target_inclination_tol_deg: float = 0.5

    def __post_init__(self) -> None:
        for name in ("inclination_tol_deg", "altitude_tol_km", "max_eccentricity", "steady_km_day", "trend_km_day", "target_inclination_tol_deg"):
            if not getattr(self, name) > 0:
                raise InputError(f"FleetRules.{name}={getattr(self, name)!r} must be positive")
        if self.min_shell_satellites < 2:
            raise InputError(f"FleetRules.min_shell_satellites={self.min_shell_satellites} must be at least 2")


@dataclass(frozen=True)
class FleetStates:
    """Result of :func:`infer_states`. Per satellite ``(n,)``: ``state`` int8 (index into
    :data:`STATES`), ``shell`` int64 (-1 none; the shell it holds station in, or for a moving
    satellite the shell it heads for when known), ``motion_km_day`` float (the vertical motion
    used: element rate, else trend, else 0), ``reason`` object str ('' for operational). Per
    shell ``(S,)``: ``shell_inclination_deg``, ``shell_altitude_km`` (medians of the members),
    ``shell_satellites`` int, ``shell_dtc`` bool (a direct-to-cell shell)."""

    state: np.ndarray
    shell: np.ndarray
    motion_km_day: np.ndarray
    reason: np.ndarray
    shell_inclination_deg: np.ndarray
    shell_altitude_km: np.ndarray
    shell_satellites: np.ndarray
    shell_dtc: np.ndarray


def altitude_rate_km_day(semi_major_axis_km: np.ndarray, mean_motion_rev_day: np.ndarray, ndot_over_2_rev_day2: np.ndarray) -> np.ndarray:
    """Rate of change of the mean semi-major axis (km/day) implied by an element set's first
    derivative of mean motion. ``ndot_over_2_rev_day2`` is the TLE field (half the derivative,
    rev/day^2). From ``n^2 a^3 = mu``: ``da/dt = -(2/3) (a/n) dn/dt``. All ``(n,)``."""
    a = np.asarray(semi_major_axis_km, dtype=np.float64)
    n = np.asarray(mean_motion_rev_day, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(2.0 / 3.0) * a / n * 2.0 * np.asarray(ndot_over_2_rev_day2, dtype=np.float64)


_MAX_BINS = 20_000_000  # histogram cells of one dense search


def find_shell_boxes(inc: np.ndarray, alt: np.ndarray, eligible: np.ndarray, tol_inc: float, tol_alt: float, min_count: int,
                     grouped: bool = False) -> np.ndarray:
    """Greedy densest-box search on a 2-D histogram: shell id ``(n,)`` int64 (-1 none).

    The densest (inclination, altitude) box of half-widths ``tol_inc`` x ``tol_alt`` among the
    ``eligible`` satellites is found on a histogram of bins a fifth of the box, its centre is
    refined to its members' median, its members are taken out, and the search repeats until the
    densest box holds fewer than ``min_count``. Shells are numbered in the order found (largest first).
    Element sets spread too wide for one histogram (LEO to GEO) are searched per group of
    altitudes separated by gaps wider than a box (``grouped`` marks such a group)."""
    shell = np.full(inc.size, -1, dtype=np.int64)
    free = eligible & np.isfinite(inc) & np.isfinite(alt)
    if not free.any():
        return shell
    # Bins a fifth of the box so that a box is 11 x 11 bins: fine enough to centre on a shell.
    d_inc, d_alt = tol_inc / 5.0, tol_alt / 5.0
    i0, a0 = inc[free].min() - tol_inc, alt[free].min() - tol_alt
    ni = int((inc[free].max() + tol_inc - i0) / d_inc) + 2
    na = int((alt[free].max() + tol_alt - a0) / d_alt) + 2
    if ni * na > _MAX_BINS:
        if grouped:
            raise InputError(f"element set too spread for shell search with bins {d_inc:g} deg x {d_alt:g} km; widen the tolerances")
        # e.g. LEO to GEO at 1.6 km bins: search each altitude group apart
        return _find_shell_boxes_grouped(inc, alt, free, tol_inc, tol_alt, min_count)
    bi = np.zeros(inc.size, dtype=np.int64)
    ba = np.zeros(inc.size, dtype=np.int64)
    bi[free] = ((inc[free] - i0) / d_inc).astype(np.int64)
    ba[free] = ((alt[free] - a0) / d_alt).astype(np.int64)
    hist = np.bincount(bi[free] * na + ba[free], minlength=ni * na).reshape(ni, na)
    box = _box_sums(hist, 0, ni, 0, na)
    k = 0
    while True:
        best = np.unravel_index(int(np.argmax(box)), box.shape)
        if box[best] < min_count:
            return shell
        c_inc = i0 + (best[0] + 0.5) * d_inc
        c_alt = a0 + (best[1] + 0.5) * d_alt
        for _ in range(2):  # recentre on the members' median
            m = free & (np.abs(inc - c_inc) <= tol_inc) & (np.abs(alt - c_alt) <= tol_alt)
            if not m.any():  # the bin centre can sit up to 1.1 half-widths from the members
                break
            c_inc, c_alt = float(np.median(inc[m])), float(np.median(alt[m]))
        m = free & (np.abs(inc - c_inc) <= tol_inc) & (np.abs(alt - c_alt) <= tol_alt)
        if m.sum() < min_count:
            # The recentred box lost members: take the histogram box as found.
            m = free & (bi >= best[0] - 5) & (bi <= best[0] + 5) & (ba >= best[1] - 5) & (ba <= best[1] + 5)
        shell[m] = k
        free &= ~m
        k += 1
        # Take the members out of the histogram; only box sums within 5 bins of them change.
        np.subtract.at(hist, (bi[m], ba[m]), 1)
        r0, r1 = max(0, int(bi[m].min()) - 5), min(ni, int(bi[m].max()) + 6)
        c0, c1 = max(0, int(ba[m].min()) - 5), min(na, int(ba[m].max()) + 6)
        box[r0:r1, c0:c1] = _box_sums(hist, r0, r1, c0, c1)


def _box_sums(hist: np.ndarray, i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
    """Counts in the 11 x 11-bin box centred on each bin ``[i0:i1, j0:j1]`` of ``hist`` (cut
    at its edges), through a summed-area table of the part of ``hist`` those boxes cover."""
    ni, na = hist.shape
    a, b, c, d = max(0, i0 - 5), min(ni, i1 + 5), max(0, j0 - 5), min(na, j1 + 5)
    sat = np.zeros((b - a + 1, d - c + 1), dtype=np.int64)
    sat[1:, 1:] = hist[a:b, c:d].cumsum(0).cumsum(1)
    rows, cols = np.arange(i0, i1), np.arange(j0, j1)
    lo_i, hi_i = np.clip(rows - 5, 0, ni) - a, np.clip(rows + 6, 0, ni) - a
    lo_a, hi_a = np.clip(cols - 5, 0, na) - c, np.clip(cols + 6, 0, na) - c
    return sat[hi_i][:, hi_a] - sat[lo_i][:, hi_a] - sat[hi_i][:, lo_a] + sat[lo_i][:, lo_a]


def _find_shell_boxes_grouped(inc: np.ndarray, alt: np.ndarray, free: np.ndarray, tol_inc: float, tol_alt: float, min_count: int) -> np.ndarray:
    """:func:`find_shell_boxes` over groups of altitudes separated by gaps wider than a box (no
    box can span such a gap), shells renumbered largest first."""
    idx = np.flatnonzero(free)
    order = idx[np.argsort(alt[idx])]
    cut = np.flatnonzero(np.diff(alt[order]) > 2.0 * tol_alt) + 1
    shell = np.full(inc.size, -1, dtype=np.int64)
    sizes: list[int] = []
    for part in np.split(order, cut):
        if part.size < min_count:
            continue
        sub = np.zeros(inc.size, bool)
        sub[part] = True
        found = find_shell_boxes(inc, alt, sub, tol_inc, tol_alt, min_count, grouped=True)
        for k in range(int(found.max()) + 1):
            shell[found == k] = len(sizes)
            sizes.append(int((found == k).sum()))
    rank = np.argsort(-np.array(sizes, dtype=np.int64), kind="stable")
    new_id = np.empty(len(sizes), dtype=np.int64)
    new_id[rank] = np.arange(len(sizes))
    return np.where(shell >= 0, new_id[np.maximum(shell, 0)], -1)


def infer_states(
    inc_deg: np.ndarray,
    alt_km: np.ndarray,
    ecc: np.ndarray,
    rate_km_day: np.ndarray,
    dtc: np.ndarray,
    trend_km_day: np.ndarray | None = None,
    valid: np.ndarray | None = None,
    rules: FleetRules = FleetRules(),
) -> FleetStates:
    """State of each satellite (see the module docstring). Inputs ``(n,)``; ``trend_km_day``
    NaN where no older snapshot holds the satellite; ``valid`` False for element sets that SGP4
    rejects (they are ``unassigned``)."""
    inc = np.asarray(inc_deg, dtype=np.float64)
    n = inc.size
    alt = np.asarray(alt_km, dtype=np.float64)
    ecc = np.asarray(ecc, dtype=np.float64)
    rate = np.asarray(rate_km_day, dtype=np.float64)
    dtc = np.asarray(dtc, dtype=bool)
    trend = np.full(n, np.nan) if trend_km_day is None else np.asarray(trend_km_day, dtype=np.float64)
    valid = np.ones(n, bool) if valid is None else np.asarray(valid, dtype=bool)
    for name, arr in (("alt_km", alt), ("ecc", ecc), ("rate_km_day", rate), ("dtc", dtc), ("trend_km_day", trend), ("valid", valid)):
        if arr.shape != (n,):
            raise InputError(f"{name} has shape {arr.shape}; every input of infer_states must have shape ({n},)")
    valid = valid & np.isfinite(inc) & np.isfinite(alt)
    circular = ecc <= rules.max_eccentricity
    steady = np.abs(np.nan_to_num(rate, nan=0.0)) <= rules.steady_km_day
    holding = valid & circular & steady

    # Shells: broadband first, then direct-to-cell, each over satellites holding their altitude.
    shell = np.full(n, -1, dtype=np.int64)
    s_inc, s_alt, s_n, s_dtc = [], [], [], []
    for is_dtc in (False, True):
        found = find_shell_boxes(inc, alt, holding & (dtc == is_dtc), rules.inclination_tol_deg, rules.altitude_tol_km, rules.min_shell_satellites)
        for k in range(int(found.max()) + 1 if found.size else 0):
            m = found == k
            shell[m] = len(s_inc)
            s_inc.append(float(np.median(inc[m])))
            s_alt.append(float(np.median(alt[m])))
            s_n.append(int(m.sum()))
            s_dtc.append(is_dtc)
    s_inc_a, s_alt_a, s_dtc_a = np.array(s_inc), np.array(s_alt), np.array(s_dtc, dtype=bool)
    on_station = shell >= 0

    motion = np.where(np.abs(np.nan_to_num(rate)) > rules.steady_km_day, rate, 0.0)
    use_trend = (motion == 0.0) & np.isfinite(trend) & (np.abs(trend) > rules.trend_km_day)
    motion = np.where(use_trend, trend, np.nan_to_num(motion))
    motion_src = np.where(use_trend, "trend since the older snapshot", "element-set mean-motion derivative")

    # Broadband shells near each satellite's inclination, for targets of moving satellites.
    near = (np.abs(inc[:, None] - s_inc_a[None, :]) <= rules.target_inclination_tol_deg) & ~s_dtc_a[None, :] if s_inc_a.size else np.zeros((n, 0), bool)
    above = near & (s_alt_a[None, :] > alt[:, None] + rules.altitude_tol_km)
    below = near & (s_alt_a[None, :] < alt[:, None] - rules.altitude_tol_km)
    big = np.inf
    up_target = np.where(above.any(1), np.argmin(np.where(above, s_alt_a[None, :], big), axis=1), -1) if s_inc_a.size else np.full(n, -1)
    down_target = np.where(below.any(1), np.argmax(np.where(below, s_alt_a[None, :], -big), axis=1), -1) if s_inc_a.size else np.full(n, -1)
    lowest_near = np.where(near.any(1), np.min(np.where(near, s_alt_a[None, :], big), axis=1), np.nan) if s_inc_a.size else np.full(n, np.nan)

    state = np.full(n, UNASSIGNED, dtype=np.int8)
    target = np.full(n, -1, dtype=np.int64)
    moving = valid & ~on_station
    rising = moving & (motion > 0)
    sinking = moving & (motion < 0)
    state[on_station] = OPERATIONAL
    state[rising] = RAISING
    target[rising] = up_target[rising]
    lowering = sinking & (down_target >= 0)
    state[lowering] = LOWERING
    target[lowering] = down_target[lowering]
    state[sinking & (down_target < 0)] = DEORBITING
    out_shell = np.where(on_station, shell, target)

    reason = np.empty(n, dtype=object)
    for i in range(n):  # text only; the states above are vectorised
        reason[i] = _reason(i, int(state[i]), bool(valid[i]), bool(circular[i]), bool(on_station[i]), float(alt[i]), float(inc[i]), float(ecc[i]),
                            float(motion[i]), str(motion_src[i]), int(out_shell[i]), s_alt_a, lowest_near[i], rules)
    # A direct-to-cell payload is 'dtc' whatever it does; the reason says what that is.
    for i in np.flatnonzero(dtc):
        what = f"on station in shell {shell[i]} at {s_alt_a[shell[i]]:.0f} km" if on_station[i] else (STATES[state[i]] + (f": {reason[i]}" if reason[i] else ""))
        reason[i] = f"direct-to-cell payload; {what}"
    state[dtc] = DTC
    return FleetStates(state, out_shell, motion, reason, s_inc_a, s_alt_a, np.array(s_n, dtype=np.int64), s_dtc_a)


def _reason(i: int, st: int, valid: bool, circular: bool, on_station: bool, alt: float, inc: float, ecc: float, motion: float, src: str,
            shell: int, s_alt: np.ndarray, lowest: float, rules: FleetRules) -> str:
    if st == OPERATIONAL:
        return ""
    if not valid:
        return "elements rejected by SGP4 or not finite"
    how = f"{motion:+.2f} km/day ({src})"
    if st == RAISING:
        return f"climbing {how}" + (f" toward shell {shell} at {s_alt[shell]:.0f} km" if shell >= 0 else ", above every shell of its inclination")
    if st == LOWERING:
        return f"descending {how} toward shell {shell} at {s_alt[shell]:.0f} km"
    if st == DEORBITING:
        floor = f"below the lowest shell of its inclination ({lowest:.0f} km)" if np.isfinite(lowest) else "no shell at its inclination"
        return f"descending {how} at {alt:.0f} km, {floor}"
    if not circular:
        return f"eccentric (e = {ecc:.4f} > {rules.max_eccentricity:g}), no clear vertical motion"
    return f"holding {alt:.0f} km at {inc:.2f} deg outside every shell (fewer than {rules.min_shell_satellites} satellites there)"
