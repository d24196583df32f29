"""Access windows of imaging sensors to ground targets.

A sensor sees a target when every constraint holds (angles in degrees):

* elevation of the satellite above the target's horizon (WGS84 normal) >= ``min_elevation_deg``;
* off-nadir angle at the satellite (between the geocentric nadir ``-r_sat`` and the line of sight
  to the target) <= ``max_off_nadir_deg`` (the sensor cone; None = no cone);
* for optical sensors, the Sun's elevation at the target >= ``sun_min_elevation_deg``
  (:mod:`leonet.imaging.sun`; None = day and night).

They are folded into one *margin* (deg), the smallest of ``elevation - min_elevation``,
``max_off_nadir - off_nadir`` and ``sun_elevation - sun_min``: access <=> margin >= 0.
Windows are found as :func:`leonet.coverage.passes.find_passes` finds passes
(:func:`leonet.search.windows_above`), with the margin in place of the elevation: a coarse grid, candidate peaks (sampled maxima above zero, or below
zero but able to reach it within their two coarse intervals given a bound on the margin's
rate), golden-section refinement of each peak and bisection of the zero crossings (default
0.01 s). The rate bound holds because the margin is a minimum of functions each at most as
fast as the elevation (the off-nadir rate is ``(Re/r) sin(el) / cos(off_nadir)`` times the
elevation rate, which is <= 1), plus the Sun's 0.0042 deg/s and a moving target's motion. The Sun's elevation is topocentric
(:func:`leonet.imaging.sun.sun_elevation_from_itrf_deg`).
Each constraint is unimodal over a pass, so their minimum is too, which the refinement needs.
Targets outside their track's span, and satellites without a position (SGP4 failure, batch
satellite not in service), have margin -inf. Vectorised over (target, satellite) rows; loops
run over blocks of rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from leonet.coverage.passes import DEFAULT_TOLERANCE_S, MAX_COARSE_STEP_S
from leonet.deployment.batch import as_satellites
from leonet.errors import InputError
from leonet.geometry import elevation_deg, unit_vector
from leonet.imaging.sun import sun_position_itrf_km
from leonet.imaging.targets import Targets
from leonet.orbits.frames import geodetic_to_itrf
from leonet.orbits.satellites import Satellites
from leonet.search import golden_max, windows_above
from leonet.times import NS_PER_S, parse_time

#: (target, satellite, time) samples per coarse block (about 100 MB of temporaries).
BLOCK_SAMPLES = 1_000_000
#: Added to the margin's rate bound (deg/s): the Sun (0.0042 deg/s) and moving targets.
EXTRA_RATE_DEG_S = 0.02


@dataclass(frozen=True)
class Sensor:
    """An imaging sensor; angles in degrees. ``max_off_nadir_deg`` None = no cone;
    ``sun_min_elevation_deg`` None = not optical (works day and night)."""

    min_elevation_deg: float = 0.0
    max_off_nadir_deg: float | None = None
    sun_min_elevation_deg: float | None = None

    def __post_init__(self) -> None:
        if not -90.0 < float(self.min_elevation_deg) < 90.0:
            raise InputError(f"min_elevation_deg {self.min_elevation_deg} must be above -90 and below 90 degrees")
        if self.max_off_nadir_deg is not None and not 0.0 < float(self.max_off_nadir_deg) <= 90.0:
            raise InputError(f"max_off_nadir_deg {self.max_off_nadir_deg} must be in (0, 90] degrees (half-angle of the sensor cone)")
        if self.sun_min_elevation_deg is not None and not -90.0 <= float(self.sun_min_elevation_deg) < 90.0:
            raise InputError(f"sun_min_elevation_deg {self.sun_min_elevation_deg} must be in [-90, 90) degrees (e.g. 10 for optical daylight)")


@dataclass(frozen=True)
class AccessWindows:
    """Access windows as parallel arrays of length ``n``, sorted by start, then target, then satellite.

    ``target``: (n,) rows of the :class:`Targets`; ``sat_index``: (n,) rows of the satellites;
    ``start_ns``, ``end_ns``: (n,) UTC ns; ``peak_ns``, ``max_elevation_deg``: (n,) instant and
    value of the highest elevation within the window; ``start_at_edge`` / ``end_at_edge``: the
    window was already open at the analysis (or track) start / still open at its end.
    """

    target: np.ndarray
    sat_index: np.ndarray
    start_ns: np.ndarray
    end_ns: np.ndarray
    peak_ns: np.ndarray
    max_elevation_deg: np.ndarray
    start_at_edge: np.ndarray
    end_at_edge: np.ndarray
    analysis_start_ns: int
    analysis_end_ns: int
    sensor: Sensor

    def __len__(self) -> int:
        return int(self.target.shape[0])

    @property
    def duration_s(self) -> np.ndarray:
        return (self.end_ns - self.start_ns) / NS_PER_S


class _Geometry:
    """Margin and elevation for (target, satellite, instant) triples, broadcast together."""

    def __init__(self, source: Satellites, targets: Targets, sensor: Sensor) -> None:
        self.source, self.targets, self.sensor = source, targets, sensor

    def evaluate(self, r_sat: np.ndarray, target: np.ndarray, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``r_sat`` (..., 3) ITRF km; ``target``, ``t_ns`` broadcastable to ``r_sat.shape[:-1]``.
        Returns (margin_deg, elevation_deg), -inf where undefined."""
        lat, lon, alt, valid = self.targets.geodetic(target, t_ns)
        p = geodetic_to_itrf(lat, lon, alt)
        up = unit_vector(lat, lon)
        d = r_sat - p
        rng = np.sqrt(np.sum(d * d, axis=-1))
        with np.errstate(invalid="ignore", divide="ignore"):
            el = elevation_deg(d, up)
            margin = el - self.sensor.min_elevation_deg
            if self.sensor.max_off_nadir_deg is not None:
                r = np.sqrt(np.sum(r_sat * r_sat, axis=-1))
                off = np.degrees(np.arccos(np.clip(np.sum(r_sat * d, axis=-1) / (r * rng), -1.0, 1.0)))
                margin = np.minimum(margin, self.sensor.max_off_nadir_deg - off)
            if self.sensor.sun_min_elevation_deg is not None:
                sun_el = elevation_deg(sun_position_itrf_km(np.broadcast_to(t_ns, lat.shape)) - p, up)  # topocentric
                margin = np.minimum(margin, sun_el - self.sensor.sun_min_elevation_deg)
        bad = ~np.isfinite(margin) | ~valid
        margin = np.where(bad, -np.inf, margin)
        el = np.where(bad, -np.inf, el)
        return margin, el

    def pairs(self, target: np.ndarray, sat: np.ndarray, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = self.source.at_pairs(sat, t_ns)
        return self.evaluate(r, target, t_ns)


def find_access(
    satellites: object,
    targets: Targets,
    sensor: Sensor,
    start: int | str,
    end: int | str,
    coarse_step_s: float = 20.0,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    progress: Callable[[int], None] | None = None,
) -> AccessWindows:
    """Access windows of every satellite to every target in ``[start, end]`` (UTC ns or ISO).

    ``satellites``: a :class:`~leonet.Constellation`, launch batches or a
    :class:`~leonet.orbits.satellites.Satellites`; ``targets``: :class:`Targets` (k rows);
    ``coarse_step_s``: first-search step (at most :data:`MAX_COARSE_STEP_S`); window edges are
    refined to ``tolerance_s``. See the module notes for the method and its guarantee.
    ``progress`` gets the number of coarse samples done per block.
    """
    src = as_satellites(satellites)
    t0, t1 = parse_time(start), parse_time(end)
    grid = access_grid(t0, t1, coarse_step_s)
    geo = _Geometry(src, targets, sensor)
    cols = access_on_grid(geo, grid, rate_deg_s(src, targets), tolerance_ns(tolerance_s), progress)
    return sorted_windows(cols, t0, t1, sensor)


WINDOW_COLUMNS = ("target", "sat_index", "start_ns", "end_ns", "peak_ns", "max_elevation_deg", "start_at_edge", "end_at_edge")
_DTYPES = (np.int64, np.int64, np.int64, np.int64, np.int64, np.float64, bool, bool)


def access_grid(t0: int, t1: int, coarse_step_s: float) -> np.ndarray:
    """The coarse search grid of ``[t0, t1]`` (UTC ns): every ``coarse_step_s`` from ``t0``,
    and ``t1`` (checked: a positive window, a step in (0, :data:`MAX_COARSE_STEP_S`])."""
    if t1 <= t0:
        raise InputError(f"the analysis window must end after it starts (start {t0} ns, end {t1} ns); give a positive duration")
    step_s = float(coarse_step_s)
    if not (np.isfinite(step_s) and 0.0 < step_s <= MAX_COARSE_STEP_S):
        raise InputError(f"the search step {coarse_step_s} s must be above 0 and at most {MAX_COARSE_STEP_S:g} s (longer steps can hold whole LEO passes)")
    step_ns = int(round(step_s * NS_PER_S))
    return np.append(np.arange(t0, t1, step_ns, dtype=np.int64), np.int64(t1))


def tolerance_ns(tolerance_s: float) -> int:
    if not (np.isfinite(tolerance_s) and tolerance_s > 0):
        raise InputError(f"tolerance_s {tolerance_s} must be a positive number of seconds, e.g. 0.01")
    return max(1, int(round(tolerance_s * NS_PER_S)))


def rate_deg_s(src: Satellites, targets: Targets) -> np.ndarray:
    """(sats,) bound on the margin's rate, deg/s (see the module notes)."""
    return np.degrees(src.top_rate_rad_s(float(np.max(targets.alt_km, initial=0.0)))) + EXTRA_RATE_DEG_S


def access_on_grid(geo: _Geometry, grid: np.ndarray, w_deg_s: np.ndarray, tol_ns: int, progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """Windows of every (target, satellite) row found on ``grid`` (unsorted columns of
    :data:`WINDOW_COLUMNS`, plus ``j_rise``/``j_set``: the grid indices that decide each, see
    :class:`~leonet.search.Windows`). Edges flagged ``*_at_edge`` are this grid's edges."""
    src, targets = geo.source, geo.targets
    n_sat, n_tgt, m = len(src), len(targets), len(grid)
    tgt_block = max(1, min(n_tgt, BLOCK_SAMPLES // m))
    sat_block = max(1, BLOCK_SAMPLES // (tgt_block * m))
    parts = []
    for s0 in range(0, n_sat, sat_block):  # blocks of satellites and targets, not single ones
        sats = np.arange(s0, min(n_sat, s0 + sat_block))
        r = src.take(sats).at(grid).serving_positions()  # (s, m, 3)
        for k0 in range(0, n_tgt, tgt_block):
            tg = np.arange(k0, min(n_tgt, k0 + tgt_block))
            margin, _ = geo.evaluate(r[None, :, :, :], tg[:, None, None], grid[None, None, :])  # (k, s, m)
            row_t = np.repeat(tg, len(sats))
            row_s = np.tile(sats, len(tg))
            parts.append(_windows(geo, margin.reshape(-1, m), row_t, row_s, grid, w_deg_s[row_s], tol_ns))
            if progress:
                progress(len(tg) * len(sats) * m)
    return _concat(parts)


def access_rows_on_grid(geo: _Geometry, row_t: np.ndarray, row_s: np.ndarray, grid: np.ndarray, w_deg_s: np.ndarray, tol_ns: int) -> dict[str, np.ndarray]:
    """As :func:`access_on_grid` for the given (target, satellite) rows only (``row_t``,
    ``row_s`` (rows,)): the same samples and refinement, so a window found whole here is the
    one a search over the whole grid finds."""
    sats, inv = np.unique(np.asarray(row_s, dtype=np.int64), return_inverse=True)
    r = geo.source.take(sats).at(grid).serving_positions()  # (s, m, 3)
    margin, _ = geo.evaluate(r[inv], np.asarray(row_t, dtype=np.int64)[:, None], grid[None, :])  # (rows, m)
    return _concat([_windows(geo, margin, np.asarray(row_t, dtype=np.int64), np.asarray(row_s, dtype=np.int64), grid, w_deg_s[row_s], tol_ns)])


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    keys, dtypes = (*WINDOW_COLUMNS, "j_rise", "j_set"), (*_DTYPES, np.int64, np.int64)
    return {k: np.concatenate([p[k] for p in parts]).astype(d) if parts else np.zeros(0, d) for k, d in zip(keys, dtypes)}


def sorted_windows(cols: dict[str, np.ndarray], t0: int, t1: int, sensor: Sensor) -> AccessWindows:
    """:class:`AccessWindows` of window columns, sorted by start, then target, then satellite."""
    order = np.lexsort((cols["sat_index"], cols["target"], cols["start_ns"]))
    return AccessWindows(**{k: np.asarray(cols[k])[order] for k in WINDOW_COLUMNS}, analysis_start_ns=int(t0), analysis_end_ns=int(t1), sensor=sensor)


def _windows(
    geo: _Geometry,
    margin: np.ndarray,
    row_t: np.ndarray,
    row_s: np.ndarray,
    grid: np.ndarray,
    w_deg_s: np.ndarray,
    tol_ns: int,
) -> dict[str, np.ndarray]:
    """Windows of one block of rows (each row one (target, satellite)); ``margin`` (rows, m)."""

    def f_margin(row: np.ndarray, t: np.ndarray) -> np.ndarray:
        return geo.pairs(row_t[row], row_s[row], t)[0]

    def f_elev(row: np.ndarray, t: np.ndarray) -> np.ndarray:
        return geo.pairs(row_t[row], row_s[row], t)[1]

    win = windows_above(f_margin, margin, grid, w_deg_s, 0.0, tol_ns, rate_unit=NS_PER_S, keep="earliest")
    row, t_peak, start_ns, end_ns, at_start, at_end = win.key, win.peak_t, win.start, win.end, win.start_at_edge, win.end_at_edge
    # Highest elevation inside the window (elevation is unimodal over a pass).
    _, el_ends = geo.pairs(row_t[np.r_[row, row]], row_s[np.r_[row, row]], np.r_[start_ns, end_ns])
    _, el_peak0 = geo.pairs(row_t[row], row_s[row], t_peak)
    t_el, el_max = golden_max(f_elev, row, start_ns, end_ns, el_ends[: len(row)], el_ends[len(row) :], t_peak, el_peak0, tol_ns)
    return {
        "target": row_t[row],
        "sat_index": row_s[row],
        "start_ns": start_ns,
        "end_ns": end_ns,
        "peak_ns": t_el,
        "max_elevation_deg": el_max,
        "start_at_edge": at_start,
        "end_at_edge": at_end,
        "j_rise": win.j_rise,
        "j_set": win.j_set,
    }


__all__ = ["BLOCK_SAMPLES", "WINDOW_COLUMNS", "AccessWindows", "Sensor", "access_grid", "access_on_grid", "access_rows_on_grid", "find_access",
           "rate_deg_s", "sorted_windows", "tolerance_ns"]
