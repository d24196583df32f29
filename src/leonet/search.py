"""Vectorised one-dimensional searches over many functions at once: golden-section maximum and
bisection of a level crossing.

Each search runs ``n`` independent problems together. Problem ``i`` is the function
``t -> f(key[i], t)`` on an integer abscissa (int64; leonet uses UTC nanoseconds), where ``key``
``(n,)`` is whatever identifies it to ``f`` (a satellite row, a (target, satellite) row ...).
``f(keys, t)`` takes two ``(k,)`` arrays and returns ``(k,)`` float64 values; it is called once
per round with only the problems still open, so its cost is what the searches spend. Brackets
are integers, so every problem ends with a bracket at most ``tol`` wide, exactly.

:func:`windows_above` puts the two together: from coarse samples of many functions it finds
every interval where each is at or above a level (rise, peak, set), as
:mod:`leonet.coverage.passes` (passes over a site) and :mod:`leonet.imaging.access` (access
windows) need; :mod:`leonet.imaging.downlink` bisects first gateway contacts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["golden_max", "bisect_crossing", "windows_above", "Windows", "INV_PHI"]

#: 1 / golden ratio, 0.618...: the golden-section interior points sit this fraction from each end.
INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


def golden_max(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    key: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    t_known: np.ndarray,
    f_known: np.ndarray,
    tol: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Golden-section search for the maximum of ``f(key, t)`` on ``[a, b]``, all problems at once.

    ``key``, ``a``, ``b`` (int64), ``fa``, ``fb`` (values at the ends), ``t_known``, ``f_known``
    (one more known point, e.g. a coarse sample): ``(n,)``. Each round evaluates one new point
    for every bracket still wider than ``tol`` (int, same unit as ``t``). Returns
    ``(t (n,) int64, f (n,) float64)``: the best point seen, ends included (a maximum at an end
    of the bracket is found). ``f`` must be unimodal on each bracket; then the maximum lies
    within ``tol`` of the returned ``t``.
    """
    a, b = a.astype(np.int64).copy(), b.astype(np.int64).copy()
    fa, fb = fa.astype(np.float64).copy(), fb.astype(np.float64).copy()
    best_t, best_f = t_known.astype(np.int64).copy(), f_known.astype(np.float64).copy()
    for t_end, f_end in ((a, fa), (b, fb)):
        better = f_end > best_f
        best_t[better], best_f[better] = t_end[better], f_end[better]
    if not len(a):
        return best_t, best_f
    c = b - np.round((b - a) * INV_PHI).astype(np.int64)
    d = a + np.round((b - a) * INV_PHI).astype(np.int64)
    both = f(np.concatenate([key, key]), np.concatenate([c, d]))
    fc, fd = both[: len(a)], both[len(a) :]
    while True:
        act = np.flatnonzero((b - a) > tol)
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
        new_t = np.where(left, nb - np.round(width * INV_PHI).astype(np.int64), na + np.round(width * INV_PHI).astype(np.int64))
        new_f = f(key[act], new_t)
        a[act], b[act] = na, nb
        c[act] = np.where(left, new_t, keep_t)
        fc[act] = np.where(left, new_f, keep_f)
        d[act] = np.where(left, keep_t, new_t)
        fd[act] = np.where(left, keep_f, new_f)
    for t_pt, f_pt in ((a, fa), (b, fb), (c, fc), (d, fd)):
        better = f_pt > best_f
        best_t[better], best_f[better] = t_pt[better], f_pt[better]
    return best_t, best_f


def bisect_crossing(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    level: float,
    key: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    above_at_lo: np.ndarray,
    tol: int,
) -> np.ndarray:
    """Bisection for where ``f(key, t)`` crosses ``level`` in ``[lo, hi]``, all problems at once.

    ``key``, ``lo``, ``hi`` (int64), ``above_at_lo`` (bool): ``(n,)``. ``above_at_lo`` says
    whether ``f >= level`` at ``lo`` (a fall, e.g. a set) or not (a rise); ``f`` is taken to be
    on the other side at ``hi``. Returns ``(n,)`` int64: the midpoint of the final bracket, at
    most ``tol / 2`` from a crossing (one crossing when ``f`` is monotonic on the bracket).
    """
    lo, hi = lo.astype(np.int64).copy(), hi.astype(np.int64).copy()
    while True:
        act = np.flatnonzero((hi - lo) > tol)
        if not len(act):
            break
        mid = lo[act] + (hi[act] - lo[act]) // 2
        same_as_lo = (f(key[act], mid) >= level) == above_at_lo[act]
        lo[act] = np.where(same_as_lo, mid, lo[act])
        hi[act] = np.where(same_as_lo, hi[act], mid)
    return lo + (hi - lo) // 2


@dataclass(frozen=True)
class Windows:
    """Intervals where sampled functions are at or above a level, as parallel ``(n,)`` arrays.

    ``key``: the row of the samples (int64); ``peak_t``, ``peak_f``: the refined maximum in the
    interval; ``start``, ``end`` (int64): the level crossings (to the tolerance), or the grid's
    first / last instant where the interval was already open / still open there
    (``start_at_edge``, ``end_at_edge``). Rows ascending, then by ``start``. ``j_rise``,
    ``j_set`` (int64): the grid indices of the last sample below the level before the interval
    and the first after it (-1 / ``m`` at the grid's edges): the samples that decide it, so a
    search over part of the grid can tell which intervals it found whole (time-chunked runs).
    """

    key: np.ndarray
    peak_t: np.ndarray
    peak_f: np.ndarray
    start: np.ndarray
    end: np.ndarray
    start_at_edge: np.ndarray
    end_at_edge: np.ndarray
    j_rise: np.ndarray | None = None
    j_set: np.ndarray | None = None


def windows_above(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    samples: np.ndarray,
    grid: np.ndarray,
    rate: np.ndarray,
    level: float,
    tol: int,
    rate_unit: float = 1.0,
    keep: str = "highest",
) -> Windows:
    """Every interval where ``f(key, t) >= level``, for ``rows`` functions sampled on a grid.

    ``samples``: ``(rows, m)`` float64 values ``f(row, grid[j])``, ``-inf`` where undefined (never
    above the level); ``grid``: ``(m,)`` int64 ascending; ``rate``: ``(rows,)`` bound on each
    function's rate of change, in value units per ``rate_unit`` of ``t`` (e.g. deg/s with
    ``rate_unit=1e9`` for ns); ``tol``: the width (units of ``t``) peaks and crossings are refined to.

    Method: every discrete local maximum of a row's samples is a candidate when it is at or
    above the level, or when the function could reach the level between its neighbouring
    samples (within an interval ``h`` between values ``a`` and ``b`` it cannot exceed
    ``(a + b + rate h) / 2``); candidates are refined by :func:`golden_max` over their two
    intervals; each one at or above the level is bracketed by the last sample below the level
    before it and the first after it, and both crossings are refined by :func:`bisect_crossing`.
    Several maxima in one run above the level give one interval: the highest (``keep="highest"``)
    or the earliest (``keep="earliest"``) names its peak. Every interval whose maximum reaches the
    level is found when each function has at most one local maximum in any two consecutive grid
    intervals and ``rate`` bounds it.
    """
    if keep not in ("highest", "earliest"):
        raise ValueError(f"keep must be 'highest' or 'earliest', got {keep!r}")
    m = len(grid)
    # ---- candidate peaks: discrete local maxima at or above the level, or able to reach it
    pad = np.pad(samples, ((0, 0), (1, 1)), constant_values=-np.inf)
    is_max = np.isfinite(samples) & (samples > pad[:, :-2]) & (samples >= pad[:, 2:])
    row, k = np.nonzero(is_max)
    f_k = samples[row, k]
    w = rate[row]
    reach = np.full(len(row), -np.inf)
    for nb in (k - 1, k + 1):  # peak bound from each neighbouring grid interval
        inside = (nb >= 0) & (nb < m)
        nbc = np.clip(nb, 0, m - 1)
        h = np.abs(grid[nbc] - grid[k]) / rate_unit
        f_nb = samples[row, nbc]
        bound = np.where(np.isfinite(f_nb), (f_k + f_nb + w * h) / 2.0, f_k + w * h)
        reach = np.maximum(reach, np.where(inside, bound, -np.inf))
    cand = (f_k >= level) | (reach >= level)
    row, k, f_k = row[cand], k[cand], f_k[cand]
    lo_i, hi_i = np.maximum(k - 1, 0), np.minimum(k + 1, m - 1)
    t_peak, f_peak = golden_max(f, row, grid[lo_i], grid[hi_i], samples[row, lo_i], samples[row, hi_i], grid[k], f_k, tol)
    up = f_peak >= level
    row, t_peak, f_peak = row[up], t_peak[up], f_peak[up]

    # ---- bracket each peak by the samples below the level around it; one interval per run
    below = samples < level
    idx = np.arange(m)
    last_below = np.maximum.accumulate(np.where(below, idx, -1), axis=1)
    next_below = np.minimum.accumulate(np.where(below, idx, m)[:, ::-1], axis=1)[:, ::-1]
    j_rise = last_below[row, np.searchsorted(grid, t_peak, side="right") - 1]  # last sample <= peak
    j_set = next_below[row, np.searchsorted(grid, t_peak, side="left")]  # first sample >= peak
    order = np.lexsort((-f_peak if keep == "highest" else t_peak, j_set, j_rise, row))
    row, t_peak, f_peak, j_rise, j_set = row[order], t_peak[order], f_peak[order], j_rise[order], j_set[order]
    first = np.ones(len(row), dtype=bool)
    first[1:] = (np.diff(row) != 0) | (np.diff(j_rise) != 0) | (np.diff(j_set) != 0)
    row, t_peak, f_peak, j_rise, j_set = row[first], t_peak[first], f_peak[first], j_rise[first], j_set[first]

    at_start, at_end = j_rise < 0, j_set >= m
    jr, js = np.clip(j_rise, 0, m - 2), np.clip(j_set, 1, m - 1)
    r, s = ~at_start, ~at_end
    nr = int(r.sum())
    cross = bisect_crossing(
        f,
        level,
        np.concatenate([row[r], row[s]]),
        np.concatenate([grid[jr][r], np.maximum(grid[js - 1], t_peak)[s]]),
        np.concatenate([np.minimum(grid[jr + 1], t_peak)[r], grid[js][s]]),
        np.concatenate([np.zeros(nr, bool), np.ones(int(s.sum()), bool)]),
        tol,
    )
    start = np.full(len(row), grid[0])
    end = np.full(len(row), grid[-1])
    start[r] = cross[:nr]
    end[s] = cross[nr:]
    return Windows(row.astype(np.int64), t_peak, f_peak, start, end, at_start, at_end, j_rise.astype(np.int64), j_set.astype(np.int64))
