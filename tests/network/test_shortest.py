"""The routers' Dijkstra against scipy.sparse.csgraph.dijkstra on the same edges."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

from leonet.network.shortest import NO_PREDECESSOR, csr_from_edges, dijkstra


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_dijkstra_equals_scipy(seed: int, threads: int) -> None:
    """Random directed graphs with repeated edges (summed), a zero weight (an edge) and
    unreachable nodes: distances and predecessors equal scipy's (random lengths: no ties)."""
    rng = np.random.default_rng(seed)
    n, m = 400, 1600
    h = rng.integers(0, n - 20, m)  # the last 20 nodes have no way out, some none in
    t = rng.integers(0, n - 5, m)
    w = rng.uniform(1.0, 100.0, m)
    h = np.r_[h, h[:50], 3]  # 50 repeated edges and one of weight zero
    t = np.r_[t, t[:50], 7]
    w = np.r_[w, rng.uniform(1.0, 10.0, 50), 0.0]
    sources = np.array([0, 5, 17, 390, 5])
    ref_d, ref_p = scipy_dijkstra(csr_matrix((w, (h, t)), shape=(n, n)), directed=True, indices=sources, return_predecessors=True)
    d, p = dijkstra(csr_from_edges(h, t, w, n), sources, threads=threads)
    assert np.isinf(ref_d).any() and np.isfinite(ref_d).sum() > n  # some nodes reached, some not
    np.testing.assert_array_equal(d, ref_d)
    np.testing.assert_array_equal(p, ref_p)
    assert (p[np.arange(sources.size), sources] == NO_PREDECESSOR).all()


def test_csr_from_edges_sums_repeats_as_scipy() -> None:
    h, t, w = np.array([1, 0, 1, 1, 2]), np.array([2, 1, 2, 0, 0]), np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    indptr, indices, weights = csr_from_edges(h, t, w, 3)
    np.testing.assert_array_equal(indptr, [0, 1, 3, 4])
    np.testing.assert_array_equal(indices, [1, 0, 2, 0])
    np.testing.assert_array_equal(weights, [2.0, 4.0, 4.0, 0.0])
    ref = csr_matrix((w, (h, t)), shape=(3, 3))
    for mine, theirs in zip((indptr, indices, weights), (ref.indptr, ref.indices, ref.data)):
        np.testing.assert_array_equal(mine, theirs)
