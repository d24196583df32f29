"""Passes of satellites over a ground point: rise, culmination and set above an elevation mask.

Method (every step is vectorised over satellites; Python loops only run over chunks and blocks):

1. **Coarse grid.** All satellites are propagated (SGP4, ITRF) on a grid ``start, start + h, ...,
   end`` (the end is always sampled) and their elevation is computed. Satellites are processed in
   chunks of about :data:`CHUNK_STATES` (satellite, time) states to bound memory.
2. **Peaks** (steps 2 and 3 are :func:`leonet.search.windows_above`). Every discrete local maximum of a satellite's sampled elevation is a candidate peak
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
from sgp4.api import Satrec

from leonet.deployment.batch import as_satellites
from leonet.errors import InputError
from leonet.geometry import elevation_deg
from leonet.ground.points import GroundPoints
from leonet.orbits.satellites import Satellites
from leonet.search import windows_above
from leonet.times import NS_PER_S, parse_time

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


def default_coarse_step_s(satellites: Satellites | Sequence[Satrec], alt_km: float = 0.0) -> float:
    """Coarse step for :func:`find_passes`: the time the fastest satellite needs to sweep
    :data:`STEP_SWEEP_DEG` of sky at its top angular rate, clamped to
    :data:`DEFAULT_STEP_RANGE_S` (22 s for a 550 km shell, 14 s at 350 km).

    Passes above a 25 deg mask last minutes (about 4.5 min for a zenith pass of a 550 km
    satellite), so such passes span many samples; shorter ones (high masks, grazing passes) are
    found between samples by refining sampled maxima (see the module notes), whose number grows
    with the step: at this step a sampled peak is at most 10 deg below the true one.
    """
    lo, hi = DEFAULT_STEP_RANGE_S
    sats = as_satellites(satellites)
    if not len(sats):
        return hi
    w_deg_s = float(np.degrees(np.max(sats.top_rate_rad_s(alt_km))))
    return float(np.clip(STEP_SWEEP_DEG / w_deg_s, lo, hi))


def _site_elevation_deg(site: GroundPoints, r_itrf_km: np.ndarray) -> np.ndarray:
    """Elevation (deg) of ITRF positions ``(..., 3)`` seen from the one point of ``site``; NaN
    positions give -inf (below any mask). Per-state arithmetic only (a sum over the xyz axis),
    so a state gives the same value from the coarse grid and from the refinement."""
    el = np.asarray(elevation_deg(r_itrf_km - site.itrf_km[0], site.up[0]))
    el[~np.isfinite(el)] = -np.inf
    return el


def find_passes(
    satrecs: Satellites | Sequence[Satrec],
    lat_deg: float,
    lon_deg: float,
    alt_km: float,
    start_ns: int | str,
    end_ns: int | str,
    min_elevation_deg: float = 25.0,
    coarse_step_s: float | None = None,
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    workers: int | None = None,
    chunk_states: int = CHUNK_STATES,
    progress: Callable[[int], None] | None = None,
) -> Passes:
    """Passes of satellites above ``min_elevation_deg`` over one WGS84 point in ``[start, end]``.

    ``satrecs``: any :class:`~leonet.orbits.satellites.Satellites` (a Constellation, launch
    batches, both joined) or n SGP4 models; ``lat_deg``, ``lon_deg``,
    ``alt_km``: the point (geodetic, height above the ellipsoid); ``start_ns``, ``end_ns``: UTC
    ns (ISO strings are accepted); ``coarse_step_s``: grid step of the first search, default
    :func:`default_coarse_step_s`, at most :data:`MAX_COARSE_STEP_S`; ``tolerance_s``: the
    rise, culmination and set times are refined to within this (default 0.01 s).
    ``workers`` goes to :meth:`~leonet.orbits.satellites.Satellites.at`; ``progress`` is
    called with the number of coarse states done. See the module notes for the method and its
    guarantee. Returns :class:`Passes` sorted by rise time.
    """
    sats = as_satellites(satrecs)
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
    site = GroundPoints.from_geodetic(lat, lon, alt)
    rate = sats.top_rate_rad_s(alt)

    n, m = len(sats), len(grid)
    per_chunk = max(1, int(chunk_states) // m)
    parts = []
    for i in range(0, n, per_chunk):
        chunk = sats.take(slice(i, i + per_chunk))
        part = _chunk_passes(chunk, rate[i : i + per_chunk], grid, site, mask, tol_ns, workers, progress)
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
    sats: Satellites,
    rate_rad_s: np.ndarray,
    grid: np.ndarray,
    site: GroundPoints,
    mask: float,
    tol_ns: int,
    workers: int | None,
    progress: Callable[[int], None] | None,
) -> dict[str, np.ndarray]:
    """Passes of one chunk of satellites; ``sat_index`` is relative to the chunk."""
    states = sats.at(grid, workers=workers, progress=progress)
    el = _site_elevation_deg(site, states.serving_positions())  # (sats, times), -inf where SGP4 failed or not serving
    del states

    def elevation(sat: np.ndarray, t: np.ndarray) -> np.ndarray:
        return _site_elevation_deg(site, sats.at_pairs(sat, t))

    win = windows_above(elevation, el, grid, np.degrees(rate_rad_s), mask, tol_ns, rate_unit=NS_PER_S, keep="highest")
    return {
        "sat_index": win.key,
        "rise_ns": win.start,
        "culminate_ns": win.peak_t,
        "set_ns": win.end,
        "max_elevation_deg": win.peak_f,
        "rise_at_start": win.start_at_edge,
        "set_at_end": win.end_at_edge,
    }


__all__ = [
    "Passes",
    "find_passes",
    "default_coarse_step_s",
    "DEFAULT_TOLERANCE_S",
    "MAX_COARSE_STEP_S",
]
