"""Figures of merit (STK conventions) against a brute-force sampling of the same windows."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.imaging.access import AccessWindows, Sensor
from leonet.imaging.fom import figures
from leonet.imaging.targets import make_targets
from leonet.times import NS_PER_S


def _windows(target, start, end, t0=0, t1=1000) -> AccessWindows:
    n = len(target)
    z = np.zeros(n, dtype=bool)
    return AccessWindows(np.asarray(target), np.zeros(n, np.int64), np.asarray(start) * NS_PER_S, np.asarray(end) * NS_PER_S,
                         np.asarray(start) * NS_PER_S, np.zeros(n), z, z, t0 * NS_PER_S, t1 * NS_PER_S, Sensor())


def test_figures_of_merit_against_brute_force() -> None:
    """Union, gaps, response time (mean and percentiles) and time-average gap against a 0.1 s
    sampling of the same windows."""
    tg = make_targets(points=[("a", 0.0, 0.0), ("b", 1.0, 1.0), ("c", 2.0, 2.0)])
    # a: overlapping windows merge; b: none; c: one window touching the start.
    w = _windows([0, 0, 0, 0, 2], [100, 150, 400, 900, 0], [200, 250, 450, 950, 300])
    f = figures(w, tg)
    assert list(f.access_count) == [4, 0, 1] and list(f.coverage_intervals) == [3, 0, 1]
    assert f.coverage_time_s[0] == pytest.approx(150 + 50 + 50)
    assert f.gap_max_s[0] == pytest.approx(450) and f.gap_count[0] == 4  # 0-100, 250-400, 450-900, 950-1000
    assert f.tracking_continuity[1] == 0 and f.gap_max_s[1] == 1000
    assert f.revisit_interval_mean_s[0] == pytest.approx((300 + 500) / 2)
    t = np.arange(0, 1000, 0.1) + 0.05
    for k, (starts, ends) in enumerate([([100, 400, 900], [250, 450, 950]), ([], []), ([0], [300])]):
        covered = np.zeros(t.size, bool)
        nxt = np.full(t.size, 1000.0)
        for s, e in zip(starts, ends):
            covered |= (t >= s) & (t < e)
        for s in sorted(starts, reverse=True):
            nxt = np.where(t < s, s, nxt)
        resp = np.where(covered, 0.0, nxt - t)
        assert f.response_time_mean_s[k] == pytest.approx(resp.mean(), abs=0.1)
        for j, p in enumerate(f.percentiles):
            assert f.response_time_percentile_s[k, j] == pytest.approx(np.percentile(resp, p), abs=0.2), (k, p)
        assert f.time_average_gap_s[k] == pytest.approx(2 * resp.mean(), abs=0.2)
