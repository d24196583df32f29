"""Figures of merit against hand-worked series and a brute-force per-place loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from leonet.coverage.fom import figures_of_merit, run_lengths, weighted_mean


def brute_gaps(row: np.ndarray) -> list[int]:
    gaps, run = [], 0
    for c in row:
        if c == 0:
            run += 1
        elif run:
            gaps.append(run)
            run = 0
    if run:
        gaps.append(run)
    return gaps


def test_hand_worked_series() -> None:
    # 10 samples of 60 s: covered 0-2, gap 3-4 (120 s), covered 5, gap 6-9 (240 s, touches the end)
    counts = np.array([[2, 1, 3, 0, 0, 1, 0, 0, 0, 0]])
    f = figures_of_merit(counts, 60.0, max_n=3)
    assert f.window_s == 600.0
    assert f.sats_in_view_min[0] == 0 and f.sats_in_view_max[0] == 3
    assert f.sats_in_view_mean[0] == pytest.approx(0.7)
    assert f.percent_covered_by_at_least[0].tolist() == pytest.approx([40.0, 20.0, 10.0])
    assert f.gap_count[0] == 2
    assert f.gap_max_s[0] == 240.0 and f.gap_mean_s[0] == 180.0
    assert f.time_average_gap_s[0] == pytest.approx((120**2 + 240**2) / 600)
    assert f.response_time_mean_s[0] == pytest.approx((120**2 + 240**2) / 1200)
    assert f.access_count[0] == 2


def test_always_and_never_covered() -> None:
    f = figures_of_merit(np.array([[1, 1, 1], [0, 0, 0]]), 30.0)
    assert f.gap_count.tolist() == [0, 1]
    assert np.isnan(f.gap_mean_s[0]) and f.gap_max_s[0] == 0.0
    assert f.gap_max_s[1] == 90.0 and f.time_average_gap_s[1] == 90.0  # whole window is one gap
    assert f.response_time_mean_s[1] == 45.0  # a random instant waits half the window on average
    assert f.access_count.tolist() == [1, 0]


@settings(max_examples=200, deadline=None)
@given(arrays(np.int16, st.tuples(st.integers(1, 6), st.integers(1, 40)), elements=st.integers(0, 3)))
def test_matches_brute_force(counts: np.ndarray) -> None:
    step = 10.0
    f = figures_of_merit(counts, step, max_n=3)
    gp, glen = run_lengths(counts > 0)
    for p, row in enumerate(counts):
        gaps = brute_gaps(row)
        assert sorted(glen[gp == p].tolist()) == sorted(gaps)
        assert f.gap_count[p] == len(gaps)
        assert f.gap_max_s[p] == (max(gaps) * step if gaps else 0.0)
        assert f.time_average_gap_s[p] == pytest.approx(sum((g * step) ** 2 for g in gaps) / (len(row) * step))
        for n in (1, 2, 3):
            assert f.percent_covered_by_at_least[p, n - 1] == pytest.approx(100.0 * np.mean(row >= n))
        starts = sum(1 for k in range(len(row)) if row[k] > 0 and (k == 0 or row[k - 1] == 0))
        assert f.access_count[p] == starts


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="places, times"):
        figures_of_merit(np.zeros(5), 60.0)
    with pytest.raises(ValueError, match="step_s"):
        figures_of_merit(np.zeros((2, 5)), 0.0)


def test_weighted_mean_ignores_nan_and_zero_weight() -> None:
    assert weighted_mean(np.array([1.0, np.nan, 3.0]), np.array([1.0, 5.0, 3.0])) == pytest.approx(2.5)
    assert np.isnan(weighted_mean(np.array([1.0]), np.array([0.0])))
