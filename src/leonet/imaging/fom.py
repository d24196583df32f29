"""Figures of merit of access windows, from the intervals themselves (no time grid).

Conventions follow STK's coverage figures of merit, as :mod:`leonet.coverage.fom` states them
for grids, with each target's window ``[first, last]`` of length ``T`` (the analysis window, or
a track's span inside it). *Coverage* is the union of the target's access windows over all
satellites; *gaps* are the parts of the window outside it, those touching the window's ends
included (clipped to the window):

* ``access_count``: access windows (satellite-target pairs; STK "number of accesses");
  ``coverage_intervals``: intervals of the union.
* ``coverage_time_s``; ``tracking_continuity``: coverage time / T, the fraction of the window
  with at least one sensor on the target; ``longest_coverage_s``.
* revisit time (STK "revisit time" = gap): ``gap_count``, ``gap_max_s``, ``gap_mean_s``;
  ``revisit_interval_mean_s``: mean time between successive coverage starts (for a single
  satellite over an equatorial target, its synodic period).
* response time (wait from a uniformly random instant until the target is covered, 0 while
  covered): ``response_time_mean_s = sum(gap^2) / (2 T)``, ``response_time_max_s`` = longest
  gap, and percentiles from its exact distribution ``P(R <= x) = (C + sum min(gap, x)) / T``.
* ``time_average_gap_s = sum(gap^2) / T``.

Everything is vectorised over targets (sorts and bincounts, no loop over targets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leonet.coverage.fom import gap_statistics
from leonet.imaging.access import AccessWindows
from leonet.imaging.targets import Targets
from leonet.times import NS_PER_S

PERCENTILES = (50.0, 90.0, 95.0, 99.0)


@dataclass
class AccessFigures:
    """Per target arrays ``(targets,)``; seconds unless named otherwise; NaN where undefined
    (e.g. a mean gap with no gap). ``response_time_percentile_s``: ``(targets, len(percentiles))``."""

    window_s: np.ndarray
    access_count: np.ndarray
    coverage_intervals: np.ndarray
    coverage_time_s: np.ndarray
    tracking_continuity: np.ndarray
    longest_coverage_s: np.ndarray
    gap_count: np.ndarray
    gap_max_s: np.ndarray
    gap_mean_s: np.ndarray
    revisit_interval_mean_s: np.ndarray
    response_time_mean_s: np.ndarray
    response_time_max_s: np.ndarray
    response_time_percentile_s: np.ndarray
    time_average_gap_s: np.ndarray
    percentiles: tuple[float, ...]

    def as_columns(self) -> dict[str, np.ndarray]:
        cols = {k: getattr(self, k) for k in (
            "window_s", "access_count", "coverage_intervals", "coverage_time_s", "tracking_continuity", "longest_coverage_s",
            "gap_count", "gap_max_s", "gap_mean_s", "revisit_interval_mean_s", "response_time_mean_s", "response_time_max_s")}
        for j, p in enumerate(self.percentiles):
            cols[f"response_time_p{p:g}_s"] = self.response_time_percentile_s[:, j]
        cols["time_average_gap_s"] = self.time_average_gap_s
        return cols


def coverage_intervals(windows: AccessWindows, n_targets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of each target's windows: ``(target, start_ns, end_ns)`` arrays sorted by target,
    then start; touching or overlapping windows merge."""
    if not len(windows):
        z = np.zeros(0, np.int64)
        return z, z.copy(), z.copy()
    order = np.lexsort((windows.start_ns, windows.target))
    tg, st, en = windows.target[order], windows.start_ns[order], windows.end_ns[order]
    new_group = np.r_[True, tg[1:] != tg[:-1]]
    # Running max of ends within each target: restart the accumulation at group starts by
    # offsetting each group above every earlier one (relative ns fit easily in int64).
    base = st.min()
    span = int(en.max() - base) + 1
    rank = np.cumsum(new_group) - 1
    if rank[-1] * span < 2**62:
        run_end = np.maximum.accumulate(rank * span + (en - base)) - rank * span + base
    else:  # pragma: no cover - astronomically many targets x years
        run_end = np.empty_like(en)
        for g0, g1 in zip(np.flatnonzero(new_group), np.r_[np.flatnonzero(new_group)[1:], len(en)]):
            run_end[g0:g1] = np.maximum.accumulate(en[g0:g1])
    prev_end = np.r_[np.int64(-1), run_end[:-1]]
    starts_new = new_group | (st > prev_end)
    idx = np.flatnonzero(starts_new)
    ends_at = np.r_[idx[1:], len(st)] - 1
    return tg[idx], st[idx], run_end[ends_at]


def figures(windows: AccessWindows, targets: Targets, percentiles: tuple[float, ...] = PERCENTILES) -> AccessFigures:
    """Figures of merit per target (see the module notes)."""
    k = len(targets)
    first, last = targets.span_ns(windows.analysis_start_ns, windows.analysis_end_ns)
    window_s = np.maximum(last - first, 0) / NS_PER_S
    ct, cs, ce = coverage_intervals(windows, k)
    cs, ce = np.maximum(cs, first[ct]), np.minimum(ce, last[ct])
    dur = (ce - cs) / NS_PER_S
    n_int = np.bincount(ct, minlength=k)
    cov = np.bincount(ct, weights=dur, minlength=k)
    longest = np.zeros(k)
    np.maximum.at(longest, ct, dur)
    # Gaps: before each interval (from the previous end or the window start) and after the last.
    new = np.r_[True, ct[1:] != ct[:-1]] if len(ct) else np.zeros(0, bool)
    prev_end = np.where(new, first[ct], np.r_[np.int64(0), ce[:-1]])
    lead = (cs - prev_end) / NS_PER_S
    is_last = np.r_[ct[1:] != ct[:-1], True] if len(ct) else np.zeros(0, bool)
    trail_t = ct[is_last]
    trail = (last[trail_t] - ce[is_last]) / NS_PER_S
    none = np.flatnonzero((n_int == 0) & (window_s > 0))  # never covered: one gap, the window
    gap_t = np.concatenate([ct, trail_t, none])
    gap_s = np.concatenate([lead, trail, window_s[none]])
    pos = gap_s > 0
    gap_t, gap_s = gap_t[pos], gap_s[pos]
    g_count, g_max, g_mean, g_sq = gap_statistics(gap_t, gap_s, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_safe = np.where(window_s > 0, window_s, np.nan)
        # Revisit interval: successive coverage starts of the same target.
        same = ~new[1:] if len(ct) else np.zeros(0, bool)
        d_start = (cs[1:] - cs[:-1])[same] / NS_PER_S
        n_d = np.bincount(ct[1:][same], minlength=k)
        revisit = np.where(n_d > 0, np.bincount(ct[1:][same], weights=d_start, minlength=k) / np.maximum(n_d, 1), np.nan)
        pct = _response_percentiles(gap_t, gap_s, cov, window_s, k, percentiles)
        return AccessFigures(
            window_s=window_s,
            access_count=np.bincount(windows.target, minlength=k),
            coverage_intervals=n_int,
            coverage_time_s=cov,
            tracking_continuity=cov / t_safe,
            longest_coverage_s=longest,
            gap_count=g_count,
            gap_max_s=g_max,
            gap_mean_s=g_mean,
            revisit_interval_mean_s=revisit,
            response_time_mean_s=g_sq / (2.0 * t_safe),
            response_time_max_s=g_max,
            response_time_percentile_s=pct,
            time_average_gap_s=g_sq / t_safe,
            percentiles=tuple(percentiles),
        )


def _response_percentiles(gap_t: np.ndarray, gap_s: np.ndarray, covered_s: np.ndarray, window_s: np.ndarray, k: int, percentiles: tuple[float, ...]) -> np.ndarray:
    """Percentiles of the response time per target, ``(k, len(percentiles))`` seconds.

    With a target's gaps sorted ascending ``g_0 <= ... <= g_{m-1}``, the CDF
    ``F(x) = (C + sum min(g_i, x)) / T`` is linear between gap lengths; at ``g_j`` it is
    ``(C + S_j + g_j (m - j - 1)) / T`` (``S_j``: sum up to ``j``). The p-th percentile lies in the
    first segment reaching ``p``: ``x = (p T - C - S_{j-1}) / (m - j)``.
    """
    out = np.zeros((k, len(percentiles)))
    out[window_s <= 0] = np.nan
    if not len(gap_t):
        return out
    order = np.lexsort((gap_s, gap_t))
    t, g = gap_t[order], gap_s[order]
    start = np.r_[True, t[1:] != t[:-1]]
    first_idx = np.flatnonzero(start)
    grp = np.cumsum(start) - 1
    j = np.arange(len(t)) - first_idx[grp]
    m = np.bincount(t, minlength=k)[t]
    csum = np.cumsum(g)
    s_incl = csum - np.r_[0.0, csum][first_idx[grp]]
    s_prev = s_incl - g
    f_at = covered_s[t] + s_incl + g * (m - j - 1)
    for q, p in enumerate(percentiles):
        level = p / 100.0 * window_s[t]
        ok = f_at >= level - 1e-9 * np.maximum(window_s[t], 1.0)
        cand = np.where(ok, np.arange(len(t)), len(t))
        pick = np.full(k, len(t))
        np.minimum.at(pick, t, cand)
        has = pick < len(t)
        i = pick[has]
        x = (level[i] - covered_s[t[i]] - s_prev[i]) / (m[i] - j[i])
        lo = np.where(j[i] > 0, g[np.maximum(i - 1, 0)], 0.0)
        out[np.flatnonzero(has), q] = np.clip(x, lo, g[i])
    return out


__all__ = ["AccessFigures", "figures", "coverage_intervals", "PERCENTILES"]
