"""The routers' Dijkstra against scipy.sparse.csgraph.dijkstra on the same edges, the bucket queue
against the binary heap bit for bit (ties included), and the paths of :func:`paths_to` against
walking the full predecessor rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

import leonet.network.shortest as shortest
from leonet.network.shortest import NO_PREDECESSOR, bucket_ring, csr_from_edges, dijkstra, paths_to


@pytest.mark.parametrize("zero_edge", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_dijkstra_equals_scipy(seed: int, threads: int, zero_edge: bool) -> None:
    """Random directed graphs with repeated edges (summed), unreachable nodes and a zero weight
    (an edge: the heap then) or none (the bucket queue): distances and predecessors equal
    scipy's (random lengths: no ties)."""
    rng = np.random.default_rng(seed)
    n, m = 400, 1600
    h = rng.integers(0, n - 20, m)  # the last 20 nodes have no way out, some none in
    t = rng.integers(0, n - 5, m)
    w = rng.uniform(1.0, 100.0, m)
    h = np.r_[h, h[:50], 3]  # 50 repeated edges and one of weight zero (or 0.5)
    t = np.r_[t, t[:50], 7]
    w = np.r_[w, rng.uniform(1.0, 10.0, 50), 0.0 if zero_edge else 0.5]
    assert (bucket_ring(w, n)[1] == 0) == zero_edge
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


def _grid(n_side: int, rng: np.random.Generator, integer: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A torus grid both ways (the +Grid's shape): integer weights tie everywhere."""
    v = np.arange(n_side * n_side).reshape(n_side, n_side)
    a = np.r_[v.ravel(), v.ravel()]
    b = np.r_[np.roll(v, 1, 0).ravel(), np.roll(v, 1, 1).ravel()]
    w = rng.integers(1, 4, a.size).astype(float) if integer else rng.uniform(500.0, 2000.0, a.size)
    return np.r_[a, b], np.r_[b, a], np.r_[w, w], n_side * n_side


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_buckets_equal_the_heap_bit_for_bit_ties_included(integer: bool, threads: int, monkeypatch) -> None:
    """On a torus grid with weights 1, 2, 3 (thousands of equal-length paths) the bucket queue
    keeps the predecessor the (distance, id) heap settles first; distances equal scipy's."""
    h, t, w, n = _grid(30, np.random.default_rng(3), integer)
    csr = csr_from_edges(h, t, w, n)
    sources = np.array([0, 17, 455, 899])
    assert bucket_ring(csr[2], n)[1] > 0
    d, p = dijkstra(csr, sources, threads=threads)
    monkeypatch.setattr(shortest, "MAX_BUCKETS", 0)  # no ring is small enough: the heap
    assert bucket_ring(csr[2], n)[1] == 0
    dh, ph = dijkstra(csr, sources, threads=threads)
    np.testing.assert_array_equal(d, dh)
    np.testing.assert_array_equal(p, ph)
    ref_d = scipy_dijkstra(csr_matrix((w, (h, t)), shape=(n, n)), directed=True, indices=sources)
    np.testing.assert_array_equal(d, ref_d)
    if integer:  # ties were there to break: some node has two predecessors at its distance
        via = d[0][h] + w == d[0][t]
        assert np.bincount(t[via], minlength=n).max() >= 2


def _walk(pred_row: np.ndarray, target: int) -> list[int]:
    path = [target]
    while pred_row[path[-1]] != NO_PREDECESSOR:
        path.append(int(pred_row[path[-1]]))
    return path[::-1]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("heap", [False, True])
def test_paths_to_equals_walking_the_full_search(heap: bool, threads: int, monkeypatch) -> None:
    """Pairs over a grid with two unreachable targets, a source with no pairs and repeated
    pairs: the distances and right-aligned paths of :func:`paths_to` (each source's search
    stopped once its own targets are settled, its paths walked at once; one thread, or blocks
    of one source and the output's rows shared by two) equal those walked back through
    :func:`dijkstra`'s full predecessor rows."""
    if heap:
        monkeypatch.setattr(shortest, "MAX_BUCKETS", 0)
    monkeypatch.setattr(shortest, "PATH_BLOCKS_PER_THREAD", 100)  # one source a block
    monkeypatch.setattr(shortest, "PLACE_MIN_PAIRS", 7)  # two threads write the rows in two parts
    h, t, w, n = _grid(20, np.random.default_rng(5), True)
    n_all = n + 2  # two nodes nothing reaches
    csr = csr_from_edges(h, t, w, n_all)
    sources = np.array([3, 250, 399, 17])
    rng = np.random.default_rng(6)
    row = np.r_[rng.integers(0, 3, 60), 1, 1]  # source 17 has no pairs; the last two repeat a pair
    target = np.r_[rng.integers(0, n, 58), n, n + 1, 42, 42]
    ids = 1000 + np.arange(n_all)  # node ids written out
    dist, path, hops = paths_to(csr, sources, row, target, threads=threads, node_ids=ids)
    full_d, full_p = dijkstra(csr, sources, threads=1)
    np.testing.assert_array_equal(dist, full_d[row, target])
    longest = max(len(_walk(full_p[r], tg)) for r, tg in zip(row, target) if np.isfinite(full_d[r, tg]))
    assert path.shape == (62, longest)
    for k, (r, tg) in enumerate(zip(row, target)):
        if np.isfinite(full_d[r, tg]):
            want = _walk(full_p[r], tg)
            assert want[0] == sources[r]
            assert path[k].tolist() == [-1] * (longest - len(want)) + (ids[want]).tolist()
            assert hops[k] == len(want) - 1
        else:
            assert (path[k] == -1).all() and hops[k] == -1


def test_bucket_ring_falls_back_to_the_heap() -> None:
    assert bucket_ring(np.array([1.0, 0.0, 2.0]), 10) == (0.0, 0)  # a zero weight
    assert bucket_ring(np.array([1.0, np.inf]), 10) == (0.0, 0)
    assert bucket_ring(np.zeros(0), 10) == (0.0, 0)
    assert bucket_ring(np.array([1e-6, 1e3]), 10) == (0.0, 0)  # a billion buckets
    inv, mask = bucket_ring(np.array([2.0, 5.0]), 10)
    assert mask + 1 >= 5.0 * inv + 3 and (mask + 1) & mask == 0 and inv > 0.5


def test_csr_from_edges_long_rows_as_scipy() -> None:
    """Rows of many edges in random order with repeats (merge-sorted) and short ones
    (insertion-sorted): the arrays equal scipy's csr_matrix."""
    rng = np.random.default_rng(12)
    h = np.r_[np.zeros(300, np.int64), rng.integers(1, 50, 400)]
    t = rng.integers(0, 80, h.size)
    w = rng.uniform(1.0, 2.0, h.size)
    ref = csr_matrix((w, (h, t)), shape=(80, 80))
    ref.sum_duplicates()
    for mine, theirs in zip(csr_from_edges(h, t, w, 80), (ref.indptr, ref.indices, ref.data)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-15)


def test_paths_to_edge_cases() -> None:
    """A pair from a source to itself (no link), int32 paths, and the checks of its inputs."""
    h, t, w, n = _grid(6, np.random.default_rng(9), False)
    csr = csr_from_edges(h, t, w, n)
    dist, path, hops = paths_to(csr, np.array([4, 9]), np.array([0, 1, 1]), np.array([4, 4, 9]))
    assert path.dtype == np.int32
    assert dist[0] == 0.0 and hops[0] == 0 and path[0, -1] == 4 and (path[0, :-1] == -1).all()
    assert hops[2] == 0 and dist[1] > 0.0 and path[1, -1] == 4 and path[1, -hops[1] - 1] == 9
    for row, target, ids, what in ((np.array([0, 2]), np.array([1, 2]), None, "rows"), (np.array([0]), np.array([n]), None, "targets"),
                                   (np.array([0]), np.array([1]), np.arange(n - 1), "node_ids"), (np.array([0, 1]), np.array([1]), None, "one length")):
        with pytest.raises(ValueError, match=what):
            paths_to(csr, np.array([4, 9]), row, target, node_ids=ids)
