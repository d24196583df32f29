"""Figures of merit merged from time chunks equal the one-shot kernel bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.coverage.fom import figures_of_merit
from leonet.coverage.partial import ChunkPartial, FomMerger, chunk_partial, merge_partials


def assert_same(a, b):
    for name, x in a.as_columns().items():
        y = b.as_columns()[name]
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name, strict=True)
    assert a.window_s == b.window_s


def split(counts, cuts):
    edges = [0, *sorted(set(cuts)), counts.shape[1]]
    return [counts[:, i:j] for i, j in zip(edges[:-1], edges[1:]) if j > i]


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**31), places=st.integers(0, 7), times=st.integers(1, 60), n_cuts=st.integers(0, 8),
       p_zero=st.floats(0, 1), step=st.sampled_from([60.0, 0.1, 1.7, 13.0]))
def test_merge_equals_one_shot(seed, places, times, n_cuts, p_zero, step):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 6, (places, times)).astype(np.uint16)
    counts[rng.random((places, times)) < p_zero] = 0
    cuts = rng.integers(1, times, n_cuts) if times > 1 else []
    merged = merge_partials([chunk_partial(c) for c in split(counts, cuts)], step)
    assert_same(figures_of_merit(counts, step), merged)


def test_gap_across_three_chunks_is_one_gap():
    # covered, then 7 uncovered samples spanning a whole middle chunk, then covered
    counts = np.array([[1, 1, 0, 0, 0, 0, 0, 0, 0, 2]], np.uint16)
    parts = split(counts, [4, 6])  # [1 1 0 0] [0 0] [0 0 0 2]
    fom = merge_partials([chunk_partial(c) for c in parts], 60.0)
    assert fom.gap_count.tolist() == [1]
    assert fom.gap_max_s.tolist() == [7 * 60.0]
    assert fom.access_count.tolist() == [2]
    assert_same(figures_of_merit(counts, 60.0), fom)


def test_interval_across_a_boundary_is_one_access():
    counts = np.array([[0, 1, 1, 1, 1, 0]], np.uint16)
    fom = merge_partials([chunk_partial(c) for c in split(counts, [3])], 1.0)
    assert fom.access_count.tolist() == [1]


def test_partial_round_trips_through_columns():
    counts = np.random.default_rng(3).integers(0, 3, (5, 17)).astype(np.uint16)
    p = chunk_partial(counts)
    q = ChunkPartial.from_columns(p.times, p.columns(), p.gap_columns())
    assert_same(merge_partials([p], 2.0), merge_partials([q], 2.0))


def test_errors_are_clear():
    with pytest.raises(ValueError, match="no chunk"):
        FomMerger(3, 60.0).result()
    with pytest.raises(ValueError, match="places"):
        FomMerger(3, 60.0).add(chunk_partial(np.ones((2, 4), np.uint16)))
    with pytest.raises(ValueError, match="positive"):
        FomMerger(3, 0.0)
