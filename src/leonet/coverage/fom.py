"""Figures of merit over a time grid, in STK's conventions, as array kernels.

Input is a coverage time series per place: ``counts`` (places, times), the number of assets
(satellites) in view at each grid instant, sampled every ``step_s`` seconds. A sample stands
for the interval ``[t, t + step)``, so a run of k uncovered samples is a gap of ``k * step_s``
seconds; gaps touching the window's start or end are counted with the part inside the window
(STK does the same for its analysis interval). With ``T`` the window length:

* N asset coverage: min / mean / max satellites in view.
* percent coverage by at least N: share of the window with ``counts >= N``.
* gaps (STK "coverage gaps" / "revisit time"): count, max and mean gap duration.
* response time (STK "response time"): the wait from a random instant until coverage;
  mean = sum(gap^2) / (2 T), max = the longest gap.
* time-average gap (STK "time average gap"): sum(gap^2) / T, the mean length of the gap
  containing a random instant, counting zero while covered.
* revisit count: coverage intervals that begin inside the window (STK "number of accesses").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FiguresOfMerit:
    """Per place arrays ``(places,)``; ``percent_covered_by_at_least`` is ``(places, k)`` for
    N = 1..k. Durations in seconds; NaN mean gap where a place has no gap."""

    sats_in_view_min: np.ndarray
    sats_in_view_mean: np.ndarray
    sats_in_view_max: np.ndarray
    percent_covered_by_at_least: np.ndarray
    gap_count: np.ndarray
    gap_max_s: np.ndarray
    gap_mean_s: np.ndarray
    response_time_mean_s: np.ndarray
    response_time_max_s: np.ndarray
    time_average_gap_s: np.ndarray
    access_count: np.ndarray
    window_s: float

    def as_columns(self) -> dict[str, np.ndarray]:
        cols = {
            "sats_in_view_min": self.sats_in_view_min,
            "sats_in_view_mean": self.sats_in_view_mean,
            "sats_in_view_max": self.sats_in_view_max,
        }
        for k in range(self.percent_covered_by_at_least.shape[1]):
            cols[f"percent_covered_ge{k + 1}"] = self.percent_covered_by_at_least[:, k]
        cols |= {
            "gap_count": self.gap_count,
            "gap_max_s": self.gap_max_s,
            "gap_mean_s": self.gap_mean_s,
            "response_time_mean_s": self.response_time_mean_s,
            "response_time_max_s": self.response_time_max_s,
            "time_average_gap_s": self.time_average_gap_s,
            "access_count": self.access_count,
        }
        return cols


def run_lengths(covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uncovered runs of a boolean ``(places, times)`` array as ``(place, length)`` pairs.

    Vectorised: runs are found from the edges of the padded ``~covered`` array.
    """
    places, times = covered.shape
    gap = np.zeros((places, times + 2), dtype=np.int8)
    gap[:, 1:-1] = ~covered
    edges = np.diff(gap, axis=1)  # +1 where a gap starts, -1 one past where it ends
    sp, st = np.nonzero(edges == 1)
    _, et = np.nonzero(edges == -1)
    # np.nonzero returns row-major order, so starts and ends pair up one to one.
    return sp, (et - st).astype(np.int64)


def gap_statistics(place: np.ndarray, gap_s: np.ndarray, places: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per place ``(places,)``: gap count, longest gap (s, 0 if none), mean gap (s, NaN if none)
    and the sum of squared gaps (s^2, for response time and time-average gap), from gaps given
    as parallel arrays ``place`` (index) and ``gap_s`` (duration)."""
    count = np.bincount(place, minlength=places)
    total = np.bincount(place, weights=gap_s, minlength=places)
    sq = np.bincount(place, weights=gap_s * gap_s, minlength=places)
    longest = np.zeros(places)
    np.maximum.at(longest, place, gap_s)
    return count, longest, mean_gap(total, count), sq


def mean_gap(total_s: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Mean gap per place (s): ``total_s / count``, NaN where a place has no gap."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total_s / np.maximum(count, 1), np.nan)


def figures_of_merit(counts: np.ndarray, step_s: float, max_n: int = 4) -> FiguresOfMerit:
    """STK-style figures of merit per place from ``counts`` ``(places, times)``."""
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[1] == 0:
        raise ValueError(f"counts must be (places, times) with at least one time, got shape {counts.shape}")
    if step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    places, times = counts.shape
    window_s = times * step_s
    covered = counts > 0
    n = np.arange(1, max_n + 1)
    pct = np.stack([(counts >= k).mean(axis=1) * 100.0 for k in n], axis=1) if places else np.zeros((0, max_n))

    gp, glen = run_lengths(covered)
    gap_count, gap_max, gap_mean, gap_sq = gap_statistics(gp, glen * step_s, places)

    starts = covered.copy()
    starts[:, 1:] &= ~covered[:, :-1]
    return FiguresOfMerit(
        sats_in_view_min=counts.min(axis=1) if places else np.zeros(0),
        sats_in_view_mean=counts.mean(axis=1) if places else np.zeros(0),
        sats_in_view_max=counts.max(axis=1) if places else np.zeros(0),
        percent_covered_by_at_least=pct,
        gap_count=gap_count,
        gap_max_s=gap_max,
        gap_mean_s=gap_mean,
        response_time_mean_s=gap_sq / (2.0 * window_s),
        response_time_max_s=gap_max,
        time_average_gap_s=gap_sq / window_s,
        access_count=starts.sum(axis=1),
        window_s=window_s,
    )


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean ignoring NaN values; NaN when no weight remains."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    ok = ~np.isnan(v) & (w > 0)
    total = w[ok].sum()
    return float((v[ok] * w[ok]).sum() / total) if total > 0 else float("nan")
