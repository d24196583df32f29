"""Shortest paths from many sources over one directed graph: Dijkstra in a numba kernel.

What :func:`scipy.sparse.csgraph.dijkstra` returns (``directed=True``, ``indices=sources``,
``return_predecessors=True``), on the same graph, for the routers of :mod:`leonet.network`:
edges ``(head, tail, weight)`` become CSR rows as ``scipy.sparse.csr_matrix`` makes them
(duplicate edges summed; an explicit zero weight is an edge, as scipy keeps it), distances are the same float64 sums along the
same paths, and a node is relaxed only by a strictly shorter distance. Only where two different
paths have exactly the same length may the predecessor chosen differ (scipy keeps a Fibonacci
heap, this a binary one).

Why: per step the routers ask for ~100 sources over ~10,000 nodes, and scipy runs one source
at a time. Here the sources spread over threads; on one thread the kernel costs about what
scipy's does (~1 ms per source over 11,000 nodes), so the routers call it only for graphs big
enough for threads (:func:`threads_for`) and use scipy otherwise (numba's start-up, ~0.3 s, is
not worth it then).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Predecessor of a node that has none (the source itself, or unreachable): scipy's value.
NO_PREDECESSOR = -9999
#: Fewest (sources x edges) per call worth threads, and numba's start-up (~0.3 s) in a process
#: that has not loaded it: the 10,744-satellite graph (100 x 45,000), not Hypatia's (100 x 8,000).
PARALLEL_MIN_WORK = 2_000_000


def csr_from_edges(heads: np.ndarray, tails: np.ndarray, weights: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr (n+1,), indices (m,), weights (m,))`` of the graph with edges ``heads[k] ->
    tails[k]`` of ``weights[k]``: rows sorted by tail, duplicate edges summed, as
    ``scipy.sparse.csr_matrix((w, (h, t)))`` makes it (explicit zeros stay edges)."""
    h = np.asarray(heads, dtype=np.int64)
    t = np.asarray(tails, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    key = h * n_nodes + t
    order = np.argsort(key, kind="stable")
    key, w = key[order], w[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, np.int64)
    if first.size != key.size:  # duplicates: summed in order, as scipy's coo -> csr does
        w = np.add.reduceat(w, first)
        key = key[first]
    rows = key // n_nodes
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_nodes), out=indptr[1:])
    return indptr, (key - rows * n_nodes).astype(np.int64), np.ascontiguousarray(w)


@njit(cache=True)
def _from_one(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, source: int, dist: np.ndarray, pred: np.ndarray) -> None:  # pragma: no cover - compiled
    """Dijkstra from ``source``: fills ``dist`` (n,) (inf where unreachable) and ``pred`` (n,)."""
    n = dist.size
    for v in range(n):
        dist[v] = np.inf
        pred[v] = NO_PREDECESSOR
    done = np.zeros(n, dtype=np.bool_)
    # A binary heap of (distance, node) with stale entries skipped when popped: one push per
    # improvement, so at most one entry per edge plus the source.
    cap = indices.size + 1
    hd = np.empty(cap, dtype=np.float64)
    hv = np.empty(cap, dtype=np.int64)
    size = 1
    hd[0] = 0.0
    hv[0] = source
    dist[source] = 0.0
    while size > 0:
        d = hd[0]
        u = hv[0]
        size -= 1
        if size > 0:  # move the last entry to the root and sift it down
            ld, lv = hd[size], hv[size]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= size:
                    break
                if c + 1 < size and (hd[c + 1] < hd[c] or (hd[c + 1] == hd[c] and hv[c + 1] < hv[c])):
                    c += 1
                if hd[c] < ld or (hd[c] == ld and hv[c] < lv):
                    hd[i] = hd[c]
                    hv[i] = hv[c]
                    i = c
                else:
                    break
            hd[i] = ld
            hv[i] = lv
        if done[u]:
            continue
        done[u] = True
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if done[v]:
                continue
            nd = d + weights[e]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                i = size  # push and sift up
                size += 1
                while i > 0:
                    p = (i - 1) // 2
                    if hd[p] > nd or (hd[p] == nd and hv[p] > v):
                        hd[i] = hd[p]
                        hv[i] = hv[p]
                        i = p
                    else:
                        break
                hd[i] = nd
                hv[i] = v


@njit(cache=True)
def _from_all_serial(indptr, indices, weights, sources, dist, pred) -> None:  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    for k in range(sources.size):
        _from_one(indptr, indices, weights, sources[k], dist[k], pred[k])


@njit(parallel=True, cache=True)
def _from_all_threads(indptr, indices, weights, sources, dist, pred) -> None:  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    for k in prange(sources.size):
        _from_one(indptr, indices, weights, sources[k], dist[k], pred[k])


def threads_for(n_sources: int, n_edges: int) -> int:
    """Threads worth using for ``n_sources`` runs over ``n_edges``: one below
    :data:`PARALLEL_MIN_WORK`, else all of numba's. Each source is a long task (~1 ms over
    10,000 nodes), so a thread that other processes slow down delays the end of the call by one
    source at most: with a CPU-bound competitor on both cores, 2 threads ran 1.9x faster than
    one (``bench/busy.py``), unlike the short per-step kernels that must look at the load."""
    import numba

    if n_sources * max(n_edges, 1) < PARALLEL_MIN_WORK:
        return 1
    return max(1, min(numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS, n_sources))


def dijkstra(csr: tuple[np.ndarray, np.ndarray, np.ndarray], sources: np.ndarray, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distances ``(S, n)`` float64 (inf where unreachable) and predecessors ``(S, n)`` int32
    (:data:`NO_PREDECESSOR` for a source and unreachable nodes) from each of ``sources`` (S,)
    over ``csr`` (:func:`csr_from_edges`), as scipy's ``dijkstra`` gives them. ``threads``:
    numba threads (default :func:`threads_for`)."""
    import numba

    indptr, indices, weights = csr
    src = np.ascontiguousarray(sources, dtype=np.int64)
    n = indptr.size - 1
    dist = np.empty((src.size, n), dtype=np.float64)
    pred = np.empty((src.size, n), dtype=np.int32)
    threads = threads_for(src.size, indices.size) if threads is None else max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS, max(src.size, 1)))
    if threads == 1:
        _from_all_serial(indptr, indices, weights, src, dist, pred)
        return dist, pred
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        _from_all_threads(indptr, indices, weights, src, dist, pred)
    finally:
        numba.set_num_threads(previous)
    return dist, pred


def warm_kernels() -> None:
    """Compile the kernels into numba's on-disk cache (``make venv`` runs it)."""
    csr = csr_from_edges(np.array([0, 1, 1]), np.array([1, 2, 0]), np.array([1.0, 2.0, 1.0]), 3)
    for threads in (1, 2):
        dijkstra(csr, np.array([0, 1]), threads=threads)


__all__ = ["NO_PREDECESSOR", "csr_from_edges", "dijkstra", "threads_for", "warm_kernels"]
