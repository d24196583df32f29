"""leonet.search against analytic cases: golden-section maxima of parabolas and sinusoids,
bisection of known roots, many problems at once, and the number of function calls."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.search import INV_PHI, bisect_crossing, golden_max, windows_above


class Counting:
    """``f(key, t)`` from a table of per-key functions, counting calls and evaluations."""

    def __init__(self, fn) -> None:
        self.fn, self.calls, self.evaluations = fn, 0, 0

    def __call__(self, key: np.ndarray, t: np.ndarray) -> np.ndarray:
        assert key.shape == t.shape and t.dtype == np.int64
        self.calls += 1
        self.evaluations += key.size
        return self.fn(key, t)


def test_inv_phi() -> None:
    assert INV_PHI == pytest.approx((np.sqrt(5.0) - 1.0) / 2.0, rel=1e-15)
    assert INV_PHI**2 == pytest.approx(1.0 - INV_PHI, rel=1e-15)


def test_golden_max_parabolas() -> None:
    """Peaks of -(t - p_k)^2 at scattered integer p_k, each found to within ``tol``; the value
    returned is f at the returned t; one call per round for all problems together."""
    rng = np.random.default_rng(4)
    n = 500
    peak = rng.integers(1_000, 9_000, n)
    f = Counting(lambda k, t: -((t - peak[k]).astype(np.float64) ** 2))
    a, b = np.zeros(n, np.int64), np.full(n, 10_000, np.int64)
    key = np.arange(n)
    tol = 3
    t, v = golden_max(f, key, a, b, f(key, a), f(key, b), np.full(n, 5_000), f(key, np.full(n, 5_000, np.int64)), tol)
    assert t.dtype == np.int64 and np.all(np.abs(t - peak) <= tol)
    np.testing.assert_array_equal(v, -((t - peak) ** 2).astype(np.float64))
    # The bracket shrinks by 1/phi per round: about log(10000 / 3) / log(phi) = 17 rounds.
    assert f.calls - 3 <= 20


def test_golden_max_sinusoid_and_edges() -> None:
    """sin over one hump (peak at a quarter period) and monotonic brackets whose maximum is an end."""
    period = 1_000_000
    f = lambda k, t: np.sin(2 * np.pi * t / period) * (1.0 + k)  # noqa: E731
    key = np.array([0, 1, 2])
    a = np.array([0, 0, 100_000])  # the third bracket starts later
    b = np.array([period // 2, period // 2, period // 2])
    tk = (a + b) // 2
    t, v = golden_max(f, key, a, b, f(key, a), f(key, b), tk, f(key, tk), 10)
    assert np.all(np.abs(t - period // 4) <= 10)
    np.testing.assert_allclose(v, 1.0 + key, rtol=1e-9)
    # Maximum at an end of the bracket: the end itself is returned.
    key = np.array([0, 0])
    a, b = np.array([0, period // 4]), np.array([period // 8, period // 2])
    t, v = golden_max(f, key, a, b, f(key, a), f(key, b), a, f(key, a), 10)
    np.testing.assert_array_equal(t, [period // 8, period // 4])


def test_golden_max_empty() -> None:
    z = np.zeros(0, np.int64)
    t, v = golden_max(lambda k, t: t * 1.0, z, z, z, z * 1.0, z * 1.0, z, z * 1.0, 1)
    assert t.shape == v.shape == (0,)


def test_bisect_crossing_known_roots() -> None:
    """Roots of t - r_k (rising) and r_k - t (falling) at scattered integers: the midpoint of the
    final bracket is within tol / 2 of the crossing; brackets already narrower are untouched."""
    rng = np.random.default_rng(5)
    n = 400
    root = rng.integers(10, 99_990, n)
    rising = rng.random(n) < 0.5
    f = Counting(lambda k, t: np.where(rising[k], t - root[k], root[k] - t).astype(np.float64))
    key = np.arange(n)
    lo, hi = np.zeros(n, np.int64), np.full(n, 100_000, np.int64)
    tol = 8
    t = bisect_crossing(f, 0.0, key, lo, hi, ~rising, tol)
    assert np.all(np.abs(t - root) <= tol // 2 + 1)
    assert f.calls <= int(np.ceil(np.log2(100_000 / tol))) + 1
    # A sinusoid's zero at half a period, with a level other than zero.
    g = lambda k, t: np.cos(2 * np.pi * t / 1_000_000)  # noqa: E731
    t = bisect_crossing(g, 0.5, np.array([0]), np.array([0]), np.array([400_000]), np.array([True]), 2)
    assert abs(int(t[0]) - 1_000_000 / 6) <= 1.0
    # Already within tolerance: no call, the midpoint is returned.
    h = Counting(lambda k, t: t * 1.0)
    np.testing.assert_array_equal(bisect_crossing(h, 0.0, np.array([0]), np.array([10]), np.array([12]), np.array([False]), 5), [11])
    assert h.calls == 0


def test_windows_above_sinusoids() -> None:
    """sin(2 pi t / P + phase) >= 0.5 holds on [P/12, 5P/12] of each period (shifted by the
    phase): every such interval within the grid is found, its ends to within tol (or at the
    grid's ends, marked), its peak of 1 at P/4 when inside. Rate bound 2 pi / P per unit of t."""
    period = 6_000_000
    phase = np.array([0.0, 1.0, 2.5])
    f = lambda k, t: np.sin(2 * np.pi * t / period + phase[k])  # noqa: E731
    grid = np.append(np.arange(0, 2 * period, 250_000, dtype=np.int64), np.int64(2 * period))
    samples = f(np.repeat(np.arange(3), grid.size).reshape(3, -1), np.tile(grid, (3, 1)))
    tol = 20
    w = windows_above(f, samples, grid, np.full(3, 2 * np.pi / period), 0.5, tol)
    assert np.all(np.diff(w.key) >= 0)
    for k in range(3):
        shift = phase[k] / (2 * np.pi) * period
        rises = np.arange(-2, 3) * period + period / 12 - shift
        expected = [(max(r, 0.0), min(r + period / 3, 2 * period)) for r in rises if r + period / 3 > 0 and r < 2 * period]
        mine = np.flatnonzero(w.key == k)
        assert len(mine) == len(expected)
        for i, (a, b) in zip(mine, expected):
            assert w.start_at_edge[i] == (a == 0.0) and w.end_at_edge[i] == (b == 2 * period)
            assert abs(w.start[i] - a) <= tol and abs(w.end[i] - b) <= tol
            if not (w.start_at_edge[i] or w.end_at_edge[i]):
                assert w.peak_f[i] == pytest.approx(1.0, abs=1e-9)
                assert abs(w.peak_t[i] - (a + b) / 2) <= tol


def test_windows_above_finds_a_peak_between_samples() -> None:
    """A narrow hump whose top (0.1 above the level) falls between two samples both well below
    the level: found because the rate bound says it could reach the level; lost without it."""
    center, width = 1_050_000, 60_000.0
    f = lambda k, t: 1.0 - ((t - center) / width) ** 2  # noqa: E731  top 1.0 at the centre
    grid = np.arange(0, 2_000_001, 100_000, dtype=np.int64)
    samples = f(np.zeros(grid.size, np.int64), grid)[None, :]
    level = 0.9
    assert samples.max() < level
    rate = np.array([2.0 / width * 1.5])  # |f'| <= 2 (t - c) / w^2 <= 2 / w within the hump's support
    w = windows_above(f, samples, grid, rate, level, 5)
    assert len(w.key) == 1
    half = width * np.sqrt(1.0 - level)
    assert abs(w.start[0] - (center - half)) <= 5 and abs(w.end[0] - (center + half)) <= 5
    assert abs(w.peak_t[0] - center) <= 5 and w.peak_f[0] == pytest.approx(1.0, abs=1e-6)
    assert len(windows_above(f, samples, grid, np.array([0.0]), level, 5).key) == 0
    with pytest.raises(ValueError, match="keep"):
        windows_above(f, samples, grid, rate, level, 5, keep="last")
