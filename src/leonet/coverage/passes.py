"""Passes of satellites over a ground point: rise, culmination and set above an elevation mask.

Method (every step is vectorised over satellites; Python loops only run over chunks and blocks):

1. **Coarse grid.** All satellites are propagated (SGP4, ITRF) on a grid ``start, start + h, ...,
   end`` (the end is always sampled) and their elevation is computed. Satellites are processed in
   chunks of about :data:`CHUNK_STATES` (satellite, time) states to bound memory.
2. **Peaks.** Every discrete local maximum of a satellite's sampled elevation is a candidate peak
   when it is above the mask, or when it is below the mask but the true elevation between its
   neighbouring samples *could* reach the mask: within a coarse interval of length ``h`` between
   samples ``e_a`` and ``e_b`` the elevation cannot exceed ``(e_a + e_b + w h) / 2``, where ``w``
   bounds the satellite's angular rate as seen from the ground (:func:`top_angular_rate_rad_s`).
   Each candidate is refined by golden-section search over the two coarse intervals around it.
   This is what finds passes that are above the mask for less than one step (high masks, grazing
   passes): their peak falls between samples that are both below the mask.
3. **Rise and set.** For each peak at or above the mask the rise is bracketed by the last sample
   below the mask before it and the set by the first sample below the mask after it; both are
   refined by bisection, all crossings at once. Where no sample before the peak is below the mask
   the pass was already in progress at ``start`` (``rise_ns = start_ns``, ``rise_at_start``); where
   none after it is below the mask the pass had not ended by ``end`` (``set_ns = end_ns``,
   ``set_at_end``).

Refinement propagates only the satellites involved, each at its own candidate times
(:func:`propagate_pairs`). Elevations are geometric (no refraction), relative to the WGS84
ellipsoid normal, from SGP4 TEME positions rotated to ITRF with GMST-1982 at UT1 (the frame of
:func:`leonet.orbits.propagate.propagate`, and of Skyfield's satellite events).

**Guarantee.** Every pass whose peak elevation is at or above the mask within ``[start, end]`` is
found, provided each satellite's elevation has at most one local maximum in any two consecutive
coarse intervals (so it cannot dip below the mask and back between two samples either) and ``w``
bounds its angular rate. Both hold for LEO at any step allowed here (at most
:data:`MAX_COARSE_STEP_S`): successive elevation maxima of a LEO satellite are a large fraction
of an orbit apart, and ``w`` is computed from each satellite's perigee with margins. SGP4
failures (decayed satellites; NaN positions) count as below the mask, so they are never a pass;
a pass cut short by a failure sets at the failure (to the tolerance).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sgp4.api import Satrec, SatrecArray

from leonet.errors import InputError
from leonet.orbits.eop import EarthOrientation, builtin_eop
from leonet.orbits.frames import (
    WGS84_A_KM,
    enu_basis,
    geodetic_to_itrf,
    gmst82_rad,
    teme_to_itrf,
)
from leonet.orbits.propagate import propagate
from leonet.sources.constellation import WGS72_MU_KM3_S2, WGS72_RADIUS_KM, Constellation
from leonet.times import NS_PER_S, ns_to_jd2, parse_time

#: Default refinement tolerance: rise, culmination and set times to within 0.01 s.
DEFAULT_TOLERANCE_S = 0.01
#: The default coarse step is the time the fastest satellite needs to sweep this angle at its top
#: angular rate, so a sampled peak is at most half this (10 deg) below the true one and only
#: sampled maxima within ~10 deg under the mask need refining.
STEP_SWEEP_DEG = 20.0
#: Clamp of the default coarse step: 22 s for a 550 km shell, 10 s when a 270 km satellite is in.
DEFAULT_STEP_RANGE_S = (5.0, 30.0)
#: Largest coarse step accepted; beyond it whole LEO passes (a few minutes) fit between samples
#: and the one-maximum-per-two-intervals assumption behind the guarantee starts to fail.
MAX_COARSE_STEP_S = 120.0
#: (satellite, time) states per coarse chunk: 48 MB of positions, ~250 MB with temporaries;
#: at least PARALLEL_MIN_STATES so that the coarse propagation runs on all cores.
CHUNK_STATES = 2_000_000
#: Satellites per SGP4 block in :func:`propagate_pairs` (each block costs sats x pairs states).
PAIR_BLOCK_SATS = 8

_EARTH_ROTATION_RAD_S = 7.292115e-5
_INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0  # 0.618...


@dataclass(frozen=True)
class Passes:
    """Passes found by :func:`find_passes`, as parallel arrays of length ``passes``.

    ``sat_index``: (passes,) int64 row of the satellite in the input; ``rise_ns``,
    ``culminate_ns``, ``set_ns``: (passes,) int64 UTC ns; ``max_elevation_deg``: (passes,)
    float64, the highest elevation reached within the window, at ``culminate_ns``.
    ``rise_at_start``: (passes,) bool, the satellite was already above the mask at ``start_ns``
    (then ``rise_ns == start_ns``); ``set_at_end``: (passes,) bool, it was still above the mask
    at ``end_ns`` (then ``set_ns == end_ns``). When the true culmination lies outside the window,
    ``culminate_ns`` is the window edge and ``max_elevation_deg`` the elevation there.
    Rows are sorted by rise time, then satellite.
    """

    sat_index: np.ndarray
    rise_ns: np.ndarray
    culminate_ns: np.ndarray
    set_ns: np.ndarray
    max_elevation_deg: np.ndarray
    rise_at_start: np.ndarray
    set_at_end: np.ndarray
    start_ns: int
    end_ns: int
    min_elevation_deg: float
    coarse_step_s: float

    def __len__(self) -> int:
        return len(self.sat_index)

    @property
    def duration_s(self) -> np.ndarray:
        """Time above the mask within the window, (passes,) float64 seconds."""
        return (self.set_ns - self.rise_ns) / NS_PER_S

    def for_satellite(self, index: int) -> Passes:
        """The passes of the satellite at input row ``index``."""
        return self.take(self.sat_index == index)

    def take(self, index: np.ndarray) -> Passes:
        """Rows at integer positions or a boolean mask, in that order."""
        return Passes(
            self.sat_index[index],
            self.rise_ns[index],
            self.culminate_ns[index],
            self.set_ns[index],
            self.max_elevation_deg[index],
            self.rise_at_start[index],
            self.set_at_end[index],
            self.start_ns,
            self.end_ns,
            self.min_elevation_deg,
            self.coarse_step_s,
        )


def top_angular_rate_rad_s(satrecs: Sequence[Satrec], alt_km: float = 0.0) -> np.ndarray:
    """Upper bound on each satellite's angular rate seen from a ground point, (sats,) rad/s.

    The line of sight turns at most ``|v| / range``: ``|v|`` is bounded by the perigee speed
    (vis-viva on SGP4's mean elements) plus the Earth-rotation speed at apogee (ITRF velocity),
    and the range by the perigee height above the point's geocentric radius, less 30 km for
    SGP4's short-period terms (at least 50 km). 0.0156 rad/s (0.89 deg/s) for a 550 km shell.
    """
    if not len(satrecs):
        return np.zeros(0)
    a_km = np.array([s.a for s in satrecs], dtype=np.float64) * WGS72_RADIUS_KM
    ecc = np.clip(np.array([s.ecco for s in satrecs], dtype=np.float64), 0.0, 0.999)
    a_km = np.where(np.isfinite(a_km) & (a_km > 0), a_km, WGS72_RADIUS_KM)
    r_p = a_km * (1.0 - ecc)
    r_a = a_km * (1.0 + ecc)
    v_p = np.sqrt(WGS72_MU_KM3_S2 * np.maximum(2.0 / r_p - 1.0 / a_km, 0.0))
    v_max = v_p + _EARTH_ROTATION_RAD_S * r_a
    rho_min = np.maximum(r_p - 30.0 - (WGS84_A_KM + max(alt_km, 0.0)), 50.0)
    return v_max / rho_min


def default_coarse_step_s(satrecs: Sequence[Satrec], alt_km: float = 0.0) -> float:
    """Coarse step for :func:`find_passes`: the time the fastest satellite needs to sweep
    :data:`STEP_SWEEP_DEG` of sky at its top angular rate, clamped to
    :data:`DEFAULT_STEP_RANGE_S` (22 s for a 550 km shell, 14 s at 350 km).

    Passes above a 25 deg mask last minutes (about 4.5 min for a zenith pass of a 550 km
    satellite), so such passes span many samples; shorter ones (high masks, grazing passes) are
    found between samples by refining sampled maxima (see the module notes), whose number grows
    with the step: at this step a sampled peak is at most 10 deg below the true one.
    """
    lo, hi = DEFAULT_STEP_RANGE_S
    if not len(satrecs):
        return hi
    w_deg_s = float(np.degrees(np.max(top_angular_rate_rad_s(satrecs, alt_km))))
    return float(np.clip(STEP_SWEEP_DEG / w_deg_s, lo, hi))


def propagate_pairs(
    satrecs: Sequence[Satrec],
    sat_index: np.ndarray,
    t_ns: np.ndarray,
    eop: EarthOrientation | None = None,
    block_sats: int = PAIR_BLOCK_SATS,
) -> tuple[np.ndarray, np.ndarray]:
    """ITRF positions of satellite ``sat_index[k]`` at instant ``t_ns[k]``, each pair on its own.

    ``sat_index``: (pairs,) rows into ``satrecs``; ``t_ns``: (pairs,) UTC ns. Returns
    ``(r_itrf_km (pairs, 3), error (pairs,) uint8)``; failed pairs have NaN positions. Same frame
    as :func:`~leonet.orbits.propagate.propagate` with ``frame='itrf'`` (no polar motion).

    SGP4's array kernel evaluates every satellite of a block at every instant of the block, so
    pairs are sorted by satellite and cut into blocks of ``block_sats`` satellites; a block costs
    ``block_sats x pairs_in_block`` states, of which ``pairs_in_block`` are kept.
    """
    s = np.asarray(sat_index, dtype=np.int64).ravel()
    t = np.asarray(t_ns, dtype=np.int64).ravel()
    if s.shape != t.shape:
        raise InputError(f"sat_index {s.shape} and t_ns {t.shape} must have the same length")
    k = len(s)
    r_out = np.full((k, 3), np.nan)
    e_out = np.zeros(k, dtype=np.uint8)
    if k == 0:
        return r_out, e_out
    order = np.lexsort((t, s))
    s_sorted, t_sorted = s[order], t[order]
    jd, fr = ns_to_jd2(t_sorted)
    first_of_sat = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
    rank = np.cumsum(first_of_sat) - 1  # satellite rank among the distinct ones
    group = rank // max(1, int(block_sats))
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    r_sorted = np.empty((k, 3))
    e_sorted = np.empty(k, dtype=np.uint8)
    for a, b in zip(bounds[:-1], bounds[1:]):  # blocks of satellites, not satellites
        rows = rank[a:b] - rank[a]
        block = s_sorted[a:b][first_of_sat[a:b]]
        m = b - a
        e = np.empty((len(block), m), dtype=np.uint8)
        r = np.empty((len(block), m, 3))
        v = np.empty((len(block), m, 3))
        SatrecArray([satrecs[i] for i in block])._sgp4(jd[a:b], fr[a:b], e, r, v)
        cols = np.arange(m)
        r_sorted[a:b] = r[rows, cols]
        e_sorted[a:b] = e[rows, cols]
    theta = gmst82_rad(t_sorted, eop or builtin_eop())
    teme_to_itrf(r_sorted, None, theta, out_r=r_sorted)
    r_sorted[e_sorted != 0] = np.nan
    r_out[order] = r_sorted
    e_out[order] = e_sorted
    return r_out, e_out


class _Site:
    """A WGS84 ground point: ITRF position and east/north/up unit vectors."""

    def __init__(self, lat_deg: float, lon_deg: float, alt_km: float) -> None:
        self.position_km = geodetic_to_itrf(np.array([lat_deg]), np.array([lon_deg]), alt_km)[0]
        self.east, self.north, self.up = enu_basis(lat_deg, lon_deg)[0]

    def elevation_deg(self, r_itrf_km: np.ndarray) -> np.ndarray:
        """Elevation (deg) of ITRF positions ``(..., 3)``; NaN positions give -inf (below any
        mask). Element-wise arithmetic only, so a state gives the same value from any caller."""
        dx = r_itrf_km[..., 0] - self.position_km[0]
        dy = r_itrf_km[..., 1] - self.position_km[1]
        dz = r_itrf_km[..., 2] - self.position_km[2]
        e = dx * self.east[0] + dy * self.east[1] + dz * self.east[2]
        n = dx * self.north[0] + dy * self.north[1] + dz * self.north[2]
        u = dx * self.up[0] + dy * self.up[1] + dz * self.up[2]
        el = np.degrees(np.arctan2(u, np.hypot(e, n)))
        el[~np.isfinite(el)] = -np.inf
        return el


def find_passes(
    satrecs: Sequence[Satrec] | Constellation,
    lat_deg: float,
    lon_deg: float,
    alt_km: float,
    start_ns: int | str,
    end_ns: int | str,
    min_elevation_deg: float = 25.0,
    coarse_step_s: float | None = None,
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    eop: EarthOrientation | None = None,
    workers: int | None = None,
    chunk_states: int = CHUNK_STATES,
    progress: Callable[[int], None] | None = None,
) -> Passes:
    """Passes of satellites above ``min_elevation_deg`` over one WGS84 point in ``[start, end]``.

    ``satrecs``: n SGP4 models (or a :class:`~leonet.Constellation`); ``lat_deg``, ``lon_deg``,
    ``alt_km``: the point (geodetic, height above the ellipsoid); ``start_ns``, ``end_ns``: UTC
    ns (ISO strings are accepted); ``coarse_step_s``: grid step of the first search, default
    :func:`default_coarse_step_s`, at most :data:`MAX_COARSE_STEP_S`; ``tolerance_s``: the
    rise, culmination and set times are refined to within this (default 0.01 s).
    ``workers`` and ``eop`` go to :func:`~leonet.orbits.propagate.propagate`; ``progress`` is
    called with the number of coarse states done. See the module notes for the method and its
    guarantee. Returns :class:`Passes` sorted by rise time.
    """
    sats = tuple(satrecs.satrecs if isinstance(satrecs, Constellation) else satrecs)
    lat, lon, alt = _check_point(lat_deg, lon_deg, alt_km)
    t0, t1 = parse_time(start_ns), parse_time(end_ns)
    if t1 <= t0:
        raise InputError(f"the window must end after it starts: end {t1} ns <= start {t0} ns; give a positive duration")
    mask = float(min_elevation_deg)
    if not -90.0 < mask < 90.0:
        raise InputError(f"min_elevation_deg {min_elevation_deg} must be above -90 and below 90 degrees")
    if not (np.isfinite(tolerance_s) and tolerance_s > 0):
        raise InputError(f"tolerance_s {tolerance_s} must be a positive number of seconds, e.g. 0.01")
    step_s = default_coarse_step_s(sats, alt) if coarse_step_s is None else float(coarse_step_s)
    if not (np.isfinite(step_s) and 0.0 < step_s <= MAX_COARSE_STEP_S):
        raise InputError(
            f"coarse_step_s {coarse_step_s} must be above 0 and at most {MAX_COARSE_STEP_S:g} s "
            "(longer steps can hold whole LEO passes); leave it out for the default"
        )
    step_ns = int(round(step_s * NS_PER_S))
    grid = np.arange(t0, t1, step_ns, dtype=np.int64)
    grid = np.append(grid, np.int64(t1))
    tol_ns = max(1, int(round(tolerance_s * NS_PER_S)))
    site = _Site(lat, lon, alt)
    rate = top_angular_rate_rad_s(sats, alt)
    eop = eop or builtin_eop()

    n, m = len(sats), len(grid)
    per_chunk = max(1, int(chunk_states) // m)
    parts = []
    for i in range(0, n, per_chunk):
        chunk = sats[i : i + per_chunk]
        part = _chunk_passes(chunk, rate[i : i + per_chunk], grid, site, mask, tol_ns, eop, workers, progress)
        part["sat_index"] += i
        parts.append(part)
    keys = ("sat_index", "rise_ns", "culminate_ns", "set_ns", "max_elevation_deg", "rise_at_start", "set_at_end")
    dtypes = (np.int64, np.int64, np.int64, np.int64, np.float64, bool, bool)
    cols = {k: np.concatenate([p[k] for p in parts]).astype(d) if parts else np.zeros(0, d) for k, d in zip(keys, dtypes)}
    order = np.lexsort((cols["sat_index"], cols["rise_ns"]))
    return Passes(**{k: v[order] for k, v in cols.items()}, start_ns=t0, end_ns=t1, min_elevation_deg=mask, coarse_step_s=step_ns / NS_PER_S)


def _check_point(lat_deg: float, lon_deg: float, alt_km: float) -> tuple[float, float, float]:
    try:
        lat, lon, alt = float(lat_deg), float(lon_deg), float(alt_km)
    except (TypeError, ValueError):
        raise InputError(f"the ground point must be three numbers (lat_deg, lon_deg, alt_km), got {lat_deg!r}, {lon_deg!r}, {alt_km!r}") from None
    if not -90.0 <= lat <= 90.0 or not np.isfinite(lon):
        raise InputError(f"latitude {lat_deg} must be in [-90, 90] degrees and longitude {lon_deg} finite")
    if not -12.0 <= alt <= 100.0:
        raise InputError(f"alt_km {alt_km} is not a ground height; give kilometres above the WGS84 ellipsoid (e.g. 0.05 for 50 m)")
    return lat, lon, alt


def _chunk_passes(
    sats: Sequence[Satrec],
    rate_rad_s: np.ndarray,
    grid: np.ndarray,
    site: _Site,
    mask: float,
    tol_ns: int,
    eop: EarthOrientation,
    workers: int | None,
    progress: Callable[[int], None] | None,
) -> dict[str, np.ndarray]:
    """Passes of one chunk of satellites; ``sat_index`` is relative to the chunk."""
    m = len(grid)
    states = propagate(sats, grid, frame="itrf", velocities=False, workers=workers, eop=eop, progress=progress)
    el = site.elevation_deg(states.r_km)  # (sats, times), -inf where SGP4 failed
    del states

    def elevation(sat: np.ndarray, t: np.ndarray) -> np.ndarray:
        r, _ = propagate_pairs(sats, sat, t, eop)
        return site.elevation_deg(r)

    # ---- candidate peaks: discrete local maxima above the mask or able to reach it ----------
    pad = np.pad(el, ((0, 0), (1, 1)), constant_values=-np.inf)
    is_max = np.isfinite(el) & (el > pad[:, :-2]) & (el >= pad[:, 2:])
    sat, k = np.nonzero(is_max)
    e_k = el[sat, k]
    w_deg_s = np.degrees(rate_rad_s[sat])
    reach = np.full(len(sat), -np.inf)
    for nb in (k - 1, k + 1):  # peak bound from each neighbouring coarse interval
        inside = (nb >= 0) & (nb < m)
        nbc = np.clip(nb, 0, m - 1)
        h_s = np.abs(grid[nbc] - grid[k]) / NS_PER_S
        e_nb = el[sat, nbc]
        bound = np.where(np.isfinite(e_nb), (e_k + e_nb + w_deg_s * h_s) / 2.0, e_k + w_deg_s * h_s)
        reach = np.maximum(reach, np.where(inside, bound, -np.inf))
    keep = (e_k >= mask) | (reach >= mask)
    sat, k, e_k = sat[keep], k[keep], e_k[keep]
    lo_i, hi_i = np.maximum(k - 1, 0), np.minimum(k + 1, m - 1)
    t_peak, e_peak = _golden_max(elevation, sat, grid[lo_i], grid[hi_i], el[sat, lo_i], el[sat, hi_i], grid[k], e_k, tol_ns)
    up = e_peak >= mask
    sat, t_peak, e_peak = sat[up], t_peak[up], e_peak[up]

    # ---- bracket rise and set by the samples below the mask around each peak ---------------
    below = el < mask
    idx = np.arange(m)
    last_below = np.maximum.accumulate(np.where(below, idx, -1), axis=1)
    next_below = np.minimum.accumulate(np.where(below, idx, m)[:, ::-1], axis=1)[:, ::-1]
    k_before = np.searchsorted(grid, t_peak, side="right") - 1  # last sample <= peak
    k_after = np.searchsorted(grid, t_peak, side="left")  # first sample >= peak
    j_rise = last_below[sat, k_before]
    j_set = next_below[sat, k_after]
    # One pass per run above the mask: several maxima in one run keep the highest.
    order = np.lexsort((-e_peak, j_set, j_rise, sat))
    sat, t_peak, e_peak, j_rise, j_set = sat[order], t_peak[order], e_peak[order], j_rise[order], j_set[order]
    first = np.ones(len(sat), dtype=bool)
    first[1:] = (np.diff(sat) != 0) | (np.diff(j_rise) != 0) | (np.diff(j_set) != 0)
    sat, t_peak, e_peak, j_rise, j_set = sat[first], t_peak[first], e_peak[first], j_rise[first], j_set[first]

    rise_at_start = j_rise < 0
    set_at_end = j_set >= m
    jr = np.clip(j_rise, 0, m - 2)
    js = np.clip(j_set, 1, m - 1)
    rise_lo, rise_hi = grid[jr], np.minimum(grid[jr + 1], t_peak)
    set_lo, set_hi = np.maximum(grid[js - 1], t_peak), grid[js]
    r = ~rise_at_start
    s = ~set_at_end
    nr = int(r.sum())
    crossing = _bisect_crossing(
        elevation,
        mask,
        np.concatenate([sat[r], sat[s]]),
        np.concatenate([rise_lo[r], set_lo[s]]),
        np.concatenate([rise_hi[r], set_hi[s]]),
        np.concatenate([np.zeros(nr, bool), np.ones(int(s.sum()), bool)]),
        tol_ns,
    )
    rise_ns = np.full(len(sat), grid[0])
    set_ns = np.full(len(sat), grid[-1])
    rise_ns[r] = crossing[:nr]
    set_ns[s] = crossing[nr:]
    return {
        "sat_index": sat.astype(np.int64),
        "rise_ns": rise_ns,
        "culminate_ns": t_peak,
        "set_ns": set_ns,
        "max_elevation_deg": e_peak,
        "rise_at_start": rise_at_start,
        "set_at_end": set_at_end,
    }


def _golden_max(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    sat: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    t_known: np.ndarray,
    f_known: np.ndarray,
    tol_ns: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Golden-section search for the maximum of ``f(sat, t)`` on ``[a, b]`` (ns), all at once.

    ``fa``, ``fb``: values at the ends; ``(t_known, f_known)``: one more known point (the coarse
    sample). Each round evaluates one new point for every bracket still wider than ``tol_ns``.
    The best point seen, ends included (a maximum at a window edge), is returned as
    ``(t_ns, f)``. ``f`` must be unimodal on each bracket.
    """
    a, b = a.astype(np.int64).copy(), b.astype(np.int64).copy()
    fa, fb = fa.astype(np.float64).copy(), fb.astype(np.float64).copy()
    best_t, best_f = t_known.astype(np.int64).copy(), f_known.astype(np.float64).copy()
    for t_end, f_end in ((a, fa), (b, fb)):
        better = f_end > best_f
        best_t[better], best_f[better] = t_end[better], f_end[better]
    if not len(a):
        return best_t, best_f
    c = b - np.round((b - a) * _INV_PHI).astype(np.int64)
    d = a + np.round((b - a) * _INV_PHI).astype(np.int64)
    both = f(np.concatenate([sat, sat]), np.concatenate([c, d]))
    fc, fd = both[: len(a)], both[len(a) :]
    while True:
        act = np.flatnonzero((b - a) > tol_ns)
        if not len(act):
            break
        left = fc[act] >= fd[act]  # the maximum lies in [a, d]
        aa, bb, cc, dd = a[act], b[act], c[act], d[act]
        fcc, fdd = fc[act], fd[act]
        na = np.where(left, aa, cc)
        nb = np.where(left, dd, bb)
        fa[act] = np.where(left, fa[act], fcc)
        fb[act] = np.where(left, fdd, fb[act])
        keep_t = np.where(left, cc, dd)  # the interior point that survives
        keep_f = np.where(left, fcc, fdd)
        width = nb - na
        new_t = np.where(left, nb - np.round(width * _INV_PHI).astype(np.int64), na + np.round(width * _INV_PHI).astype(np.int64))
        new_f = f(sat[act], new_t)
        a[act], b[act] = na, nb
        c[act] = np.where(left, new_t, keep_t)
        fc[act] = np.where(left, new_f, keep_f)
        d[act] = np.where(left, keep_t, new_t)
        fd[act] = np.where(left, keep_f, new_f)
    for t_pt, f_pt in ((a, fa), (b, fb), (c, fc), (d, fd)):
        better = f_pt > best_f
        best_t[better], best_f[better] = t_pt[better], f_pt[better]
    return best_t, best_f


def _bisect_crossing(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    level: float,
    sat: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    above_at_lo: np.ndarray,
    tol_ns: int,
) -> np.ndarray:
    """Bisection for where ``f(sat, t)`` crosses ``level`` in ``[lo, hi]`` (ns), all at once.

    ``above_at_lo``: whether ``f >= level`` at ``lo`` (a set) or not (a rise); the other end is
    on the other side. Returns the midpoint of the final bracket (error at most ``tol_ns / 2``).
    """
    lo, hi = lo.astype(np.int64).copy(), hi.astype(np.int64).copy()
    while True:
        act = np.flatnonzero((hi - lo) > tol_ns)
        if not len(act):
            break
        mid = lo[act] + (hi[act] - lo[act]) // 2
        same_as_lo = (f(sat[act], mid) >= level) == above_at_lo[act]
        lo[act] = np.where(same_as_lo, mid, lo[act])
        hi[act] = np.where(same_as_lo, hi[act], mid)
    return lo + (hi - lo) // 2


__all__ = [
    "Passes",
    "find_passes",
    "propagate_pairs",
    "top_angular_rate_rad_s",
    "default_coarse_step_s",
    "DEFAULT_TOLERANCE_S",
    "MAX_COARSE_STEP_S",
]
