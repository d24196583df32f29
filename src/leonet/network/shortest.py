"""Shortest paths from many sources over one directed graph: Dijkstra in numba kernels.

What :func:`scipy.sparse.csgraph.dijkstra` returns (``directed=True``, ``indices=sources``,
``return_predecessors=True``), on the same graph, for the routers of :mod:`leonet.network`:
edges ``(head, tail, weight)`` become CSR rows as ``scipy.sparse.csr_matrix`` makes them
(duplicate edges summed; an explicit zero weight is an edge, as scipy keeps it), distances are
the same float64 sums along the same paths, and a node is relaxed only by a strictly shorter
distance. Where two predecessors give exactly the same distance, the one that a binary heap
ordered by ``(distance, node id)`` settles first is kept (with positive weights: the smaller
``(distance, id)``). scipy's Fibonacci heap may settle such ties in another order; only then
can its predecessor differ.

Two queues, one answer:

* **Buckets** (Dial's algorithm) when every weight is positive: bucket ``k`` lists the entries
  (one per improvement of a node; stale ones are skipped) at distances in ``[k, k + 1) * width``
  with ``width`` just below the smallest weight, so no node of a bucket can improve another one
  of the same bucket; a bucket is settled as a whole, in O(1) per entry, over a ring of buckets. The tie rule above does not depend on the order inside a bucket, so the
  answer is the heap's bit for bit (tests/network/test_shortest.py).
* **A binary heap** ordered by ``(distance, id)`` otherwise (a zero weight, or so small a
  weight next to the largest that the buckets would be too many).

Per step the routers ask for ~100 sources over 2,000-11,000 nodes; the sources spread over
threads (:func:`threads_for`), and each search of :func:`paths_to` stops once its own pairs'
destinations are settled. The graph is a CSR of :func:`csr_from_edges` (no neighbour twice in
a row: repeated edges are summed), which the searches take for granted.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from leonet.cpu import share_blocks, share_range

#: Predecessor of a node that has none (the source itself, or unreachable): scipy's value.
NO_PREDECESSOR = -9999
#: Fewest (sources x edges) per call worth a second thread: thread start-up and the wait for
#: the slowest thread cost ~0.1 ms, a search ~1-3 ns per edge.
PARALLEL_MIN_WORK = 200_000
#: Most buckets in the bucket queue's ring (the power of two above largest weight / bucket
#: width + 3); above it, the heap.
MAX_BUCKETS = 1 << 14


def csr_from_edges(heads: np.ndarray, tails: np.ndarray, weights: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr (n+1,), indices (m,), weights (m,))`` of the graph with edges ``heads[k] ->
    tails[k]`` of ``weights[k]``: rows sorted by tail, duplicate edges summed in input order, as
    ``scipy.sparse.csr_matrix((w, (h, t)))`` makes it (explicit zeros stay edges)."""
    h = np.ascontiguousarray(heads, dtype=np.int64)
    t = np.ascontiguousarray(tails, dtype=np.int64)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    if h.shape != t.shape or h.shape != w.shape or h.ndim != 1:
        raise ValueError(f"heads, tails and weights must be (m,) arrays of one length, got {h.shape}, {t.shape}, {w.shape}")
    return _csr(h, t, w, int(n_nodes))


@njit(cache=True)
def _csr(h, t, w, n):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Counting sort by head (stable), each row sorted by tail (stable: insertion sort for a
    few edges, merge sort for more), then neighbours that repeat summed left to right: the
    stable sort by ``(head, tail)``."""
    m = h.size
    indptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(m):
        indptr[h[k] + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    fill = indptr[:-1].copy()
    idx = np.empty(m, dtype=np.int64)
    wt = np.empty(m, dtype=np.float64)
    for k in range(m):
        p = fill[h[k]]
        idx[p] = t[k]
        wt[p] = w[k]
        fill[h[k]] = p + 1
    dup = False
    for v in range(n):
        if indptr[v + 1] - indptr[v] > 16:  # a long row (a PoP's destinations): a stable merge sort
            a, b = indptr[v], indptr[v + 1]
            ascending = True  # often already (a ground point's satellites come in order)
            for i in range(a + 1, b):
                if idx[i] <= idx[i - 1]:
                    ascending = False
                    break
            if ascending:
                continue
            order = np.argsort(idx[a:b], kind="mergesort")
            idx[a:b] = idx[a:b][order]
            wt[a:b] = wt[a:b][order]
            for i in range(a + 1, b):
                dup = dup or idx[i] == idx[i - 1]
            continue
        for i in range(indptr[v] + 1, indptr[v + 1]):
            ti, wi = idx[i], wt[i]
            j = i - 1
            while j >= indptr[v] and idx[j] > ti:
                idx[j + 1] = idx[j]
                wt[j + 1] = wt[j]
                j -= 1
            idx[j + 1] = ti
            wt[j + 1] = wi
            if j >= indptr[v] and idx[j] == ti:
                dup = True
    if not dup:
        return indptr, idx, wt
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    q = 0
    for v in range(n):
        for i in range(indptr[v], indptr[v + 1]):
            if i > indptr[v] and idx[i] == idx[i - 1]:
                wt[q - 1] += wt[i]
            else:
                idx[q] = idx[i]
                wt[q] = wt[i]
                q += 1
        out_ptr[v + 1] = q
    return out_ptr, idx[:q].copy(), wt[:q].copy()


@njit(inline="always")
def _better_tie(du: float, u: int, dp: float, p: int) -> bool:  # pragma: no cover - compiled
    """Whether predecessor ``u`` at ``du`` comes before ``p`` at ``dp`` in settling order."""
    return du < dp or (du == dp and u < p)


@njit(cache=True)
def _heap_one(indptr, indices, weights, source, is_target, n_targets, dist, pred, done, hd, hv) -> None:  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Dijkstra from ``source`` with a binary heap of ``(distance, node)`` entries (stale ones
    skipped when popped): fills ``dist`` (n,) and ``pred`` (n,); stops once the ``n_targets``
    nodes marked in ``is_target`` are settled (``n_targets < 0``: never). Work arrays
    (:func:`_work`): ``done`` (n,) and the heap ``hd``, ``hv`` (m + 1,) (one push per
    improvement: at most one entry per edge, plus the source)."""
    n = dist.size
    for v in range(n):
        dist[v] = np.inf
        pred[v] = NO_PREDECESSOR
        done[v] = False
    size = 1
    hd[0] = 0.0
    hv[0] = source
    dist[source] = 0.0
    left = n_targets
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
        if is_target[u]:
            left -= 1
            if left == 0:
                return
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
def _buckets_one(indptr, indices, weights, source, is_target, n_targets, inv_width, ring_mask, dist, pred, done, node, after, head, cand_v, cand_d) -> None:  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Dijkstra from ``source`` with a ring of ``ring_mask + 1`` buckets, bucket ``k`` holding
    distances ``d`` with ``int(d * inv_width) == k`` (the width is below every weight, so the
    nodes of one bucket cannot improve one another and are settled together): what
    :func:`_heap_one` gives, bit for bit. A bucket is a singly linked list of entries, one
    pushed per improvement (an improved node's old entry is skipped once it is settled);
    ties keep the predecessor that the heap settles first. Work arrays (:func:`_work`):
    ``done`` (n,), the entries ``node`` and ``after`` (m + 1,) (one per improvement: at most
    one per edge, plus the source), the ring's list heads ``head``, and a node's improved
    neighbours ``cand_v``, ``cand_d`` (largest degree,).

    A settled node's edges are taken in two passes: the first compares every neighbour's
    distance and lists the improved ones with no branch on the comparison (it is a coin
    toss per edge, and a mispredicted branch waits for the neighbour's distance to arrive
    from cache); the second writes the few improvements and pushes them. 17% less time over
    the 10,744-satellite snapshot's searches. A settled neighbour needs no test of its own:
    its distance is below ``du`` + any weight, so it is never improved (nor tied)."""
    n = dist.size
    for v in range(n):
        dist[v] = np.inf
        pred[v] = NO_PREDECESSOR
        done[v] = False
    for i in range(head.size):  # an earlier search may have stopped with entries left
        head[i] = -1
    dist[source] = 0.0
    node[0] = source
    after[0] = -1
    head[0] = 0
    used = 1
    pending = 1  # entries not yet taken
    left = n_targets
    k = 0  # bucket number, from distance 0 up
    while pending > 0:
        slot = k & ring_mask
        entry = head[slot]
        head[slot] = -1  # nothing settled from this bucket can land in it again
        while entry != -1:
            u = node[entry]
            entry = after[entry]
            pending -= 1
            if done[u]:
                continue
            done[u] = True
            left -= is_target[u]
            du = dist[u]
            c = 0
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = du + weights[e]
                dv = dist[v]
                cand_v[c] = v
                cand_d[c] = nd
                c += nd < dv  # kept only if it improves v
                if nd == dv and _better_tie(du, u, dist[pred[v]], pred[v]):  # rare: no misprediction
                    pred[v] = u  # the heap would have settled u first
            for i in range(c):
                v = cand_v[i]
                nd = cand_d[i]
                dist[v] = nd
                pred[v] = u
                s = np.int64(nd * inv_width) & ring_mask
                node[used] = v
                after[used] = head[s]
                head[s] = used
                used += 1
            pending += c
        if left == 0:
            return
        k += 1


@njit(cache=True)
def _work(indptr, m, ring_mask):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """One search's work arrays over a graph of ``indptr`` rows and ``m`` edges, reused by a
    call's searches: ``done``; with buckets, the entries ``node`` and ``after``, the ring's
    ``head`` and the candidates ``cand_v``, ``cand_d``; without, the heap ``hd`` and ``hv``."""
    n = indptr.size - 1
    cap = m + 1
    buckets = ring_mask > 0
    degree = 0
    for v in range(n):
        degree = max(degree, indptr[v + 1] - indptr[v])
    done = np.empty(n, dtype=np.bool_)
    node = np.empty(cap if buckets else 0, dtype=np.int32)
    after = np.empty(cap if buckets else 0, dtype=np.int32)
    head = np.empty(ring_mask + 1 if buckets else 0, dtype=np.int32)
    cand_v = np.empty(degree if buckets else 0, dtype=np.int32)
    cand_d = np.empty(degree if buckets else 0, dtype=np.float64)
    hd = np.empty(0 if buckets else cap, dtype=np.float64)
    hv = np.empty(0 if buckets else cap, dtype=np.int64)
    return done, node, after, head, cand_v, cand_d, hd, hv


@njit(cache=True)
def _one(indptr, indices, weights, source, is_target, n_targets, inv_width, ring_mask, dist, pred, work) -> None:  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """One search: the bucket queue where there is a ring, else the heap."""
    done, node, after, head, cand_v, cand_d, hd, hv = work
    if ring_mask > 0:
        _buckets_one(indptr, indices, weights, source, is_target, n_targets, inv_width, ring_mask, dist, pred, done, node, after, head, cand_v, cand_d)
    else:
        _heap_one(indptr, indices, weights, source, is_target, n_targets, dist, pred, done, hd, hv)


@njit(cache=True, nogil=True)
def _many(indptr, indices, weights, sources, is_target, n_targets, inv_width, ring_mask, dist, pred) -> None:  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The searches from ``sources`` (S,) into rows of ``dist``, ``pred`` (S, n); releases the
    GIL, so threads of this process run blocks of sources side by side."""
    work = _work(indptr, indices.size, ring_mask)
    for k in range(sources.size):
        _one(indptr, indices, weights, sources[k], is_target, n_targets, inv_width, ring_mask, dist[k], pred[k], work)


def bucket_ring(weights: np.ndarray, n_nodes: int) -> tuple[float, int]:
    """``(1 / width, ring_mask)`` of the bucket queue for these edge weights (a ring of
    ``ring_mask + 1``, a power of two, buckets), or ``(0.0, 0)`` where the heap must do (no
    edges, a weight that is zero, negative or not finite, more than :data:`MAX_BUCKETS`
    buckets, or bucket numbers that could pass 2**30 on ``n_nodes``). ``width`` is the smallest
    weight less 2**-20 of it: far above the rounding of ``distance / width``, so a node relaxed
    from bucket ``k`` always lands in bucket ``k + 1`` or later, and at most ``largest / width
    + 2`` buckets ahead."""
    w = np.asarray(weights)
    if not w.size:
        return 0.0, 0
    lo, hi = float(w.min()), float(w.max())
    if not (lo > 0.0 and np.isfinite(hi)):
        return 0.0, 0
    width = lo * (1.0 - 2.0**-20)
    ring = 1 << (int(hi / width) + 3).bit_length()
    if ring > MAX_BUCKETS or ring * max(n_nodes, 1) >= 2**30:
        return 0.0, 0
    return 1.0 / width, ring - 1


def threads_for(n_sources: int, n_edges: int) -> int:
    """Threads worth using for ``n_sources`` searches over ``n_edges``: one below
    :data:`PARALLEL_MIN_WORK`, else all of numba's (at most one per source). The threads take
    blocks of sources as they free up (:func:`leonet.cpu.share_range`), so one that other processes slow down
    holds up the call by one block at most: with a CPU-bound competitor on each core, two
    threads still finished the snapshot's 100 searches 1.6x sooner than one (``bench/busy.py``).
    """
    import numba

    if n_sources * max(n_edges, 1) < PARALLEL_MIN_WORK:
        return 1
    return max(1, min(numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS, n_sources))


def _graph(csr, sources, threads):  # type: ignore[no-untyped-def]
    """What every search over ``csr`` takes: ``(indptr, indices int32, weights, inv_width,
    ring_mask, sources int64, threads)``, the sources checked and the threads bounded."""
    import numba

    indptr, indices, weights = csr
    src = np.ascontiguousarray(sources, dtype=np.int64)
    n = indptr.size - 1
    if src.size and (src.min() < 0 or src.max() >= n):
        raise ValueError(f"sources must be node indices in 0..{n - 1}")
    inv_width, ring_mask = bucket_ring(weights, n)
    threads = threads_for(src.size, indices.size) if threads is None else max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS, max(src.size, 1)))
    return indptr, indices.astype(np.int32), weights, inv_width, ring_mask, src, threads


def dijkstra(csr: tuple[np.ndarray, np.ndarray, np.ndarray], sources: np.ndarray, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distances ``(S, n)`` float64 (inf where unreachable) and predecessors ``(S, n)`` int32
    (:data:`NO_PREDECESSOR` for a source and unreachable nodes) from each of ``sources`` (S,)
    over ``csr`` (:func:`csr_from_edges`), as scipy's ``dijkstra`` gives them (see the module
    docstring for ties). ``threads``: threads sharing the sources, this one and
    :func:`leonet.cpu.thread_pool`'s (default :func:`threads_for`)."""
    indptr, idx32, weights, inv_width, ring_mask, src, threads = _graph(csr, sources, threads)
    n = indptr.size - 1
    dist = np.empty((src.size, n), dtype=np.float64)
    pred = np.empty((src.size, n), dtype=np.int32)
    no_target = np.zeros(n, dtype=np.bool_)

    def block(a: int, b: int) -> None:
        _many(indptr, idx32, weights, src[a:b], no_target, -1, inv_width, ring_mask, dist[a:b], pred[a:b])

    share_range(block, src.size, threads, 4)
    return dist, pred


#: Blocks of sources a thread takes in :func:`paths_to`, on average: small blocks keep the
#: threads finishing together (a search costs ~0.1-0.3 ms), at ~10 us of dispatch each.
PATH_BLOCKS_PER_THREAD = 16


def paths_to(csr: tuple[np.ndarray, np.ndarray, np.ndarray], sources: np.ndarray, row: np.ndarray, target: np.ndarray,
             threads: int | None = None, node_ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortest paths for ``P`` pairs: pair ``p`` runs from ``sources[row[p]]`` to node
    ``target[p]``. Returns ``(distance (P,), path (P, H) int32, hops (P,))``: the distance (inf when
    unreachable); the path's nodes, **right-aligned** (the row ends with the path, source first
    and ``target[p]`` last, padded with -1 on the left; an unreachable pair is all -1; ``H`` is
    the longest path's node count, at least 1), written as ``node_ids[node]`` where given; and
    its links (-1 when unreachable). The answer is :func:`dijkstra`'s (the same paths, bit for
    bit), found with less work and memory: each source's search stops once its own pairs'
    targets are settled, and its paths are walked back at once, while its distance and
    predecessor rows (``n`` each, reused by the thread's next source) are in cache; no
    ``(S, n)`` table is made."""
    indptr, idx32, weights, inv_width, ring_mask, src, threads = _graph(csr, sources, threads)
    n = indptr.size - 1
    tgt = np.ascontiguousarray(target, dtype=np.int64)
    rows = np.ascontiguousarray(row, dtype=np.int64)
    if tgt.shape != rows.shape or tgt.ndim != 1:
        raise ValueError(f"row and target must be (P,) arrays of one length, got {rows.shape} and {tgt.shape}")
    if tgt.size and (tgt.min() < 0 or tgt.max() >= n):
        raise ValueError(f"targets must be node indices in 0..{n - 1}")
    if rows.size and (rows.min() < 0 or rows.max() >= src.size):
        raise ValueError(f"rows must index the {src.size} sources")
    ids = np.arange(n, dtype=np.int64) if node_ids is None else np.ascontiguousarray(node_ids, dtype=np.int64)
    if ids.shape != (n,):
        raise ValueError(f"node_ids must give an id for each of the {n} nodes, got shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= 2**31):
        raise ValueError("node ids must be in 0..2**31 - 1 (the paths are written as int32)")
    ids = ids.astype(np.int32)
    order = np.argsort(rows, kind="stable")  # the pairs source by source
    first = np.zeros(src.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=src.size), out=first[1:])
    length = np.empty(tgt.size, dtype=np.float64)
    hops = np.empty(tgt.size, dtype=np.int64)

    def block(a: int, b: int) -> np.ndarray:
        return _search_walk(indptr, idx32, weights, src, a, b, first, order, tgt, ids, inv_width, ring_mask, length, hops)

    nodes = np.concatenate(share_range(block, src.size, threads, PATH_BLOCKS_PER_THREAD)) if src.size else np.zeros(0, np.int32)
    longest = int(hops.max()) + 1 if hops.size else 1
    # int32: half the bytes of a fresh output whose page faults cost as much as writing it.
    path = np.empty((tgt.size, max(longest, 1)), dtype=np.int32)
    # Rows in parts on the threads: the fresh output's page faults cost more than the copying.
    parts = max(1, min(threads, tgt.size // PLACE_MIN_PAIRS))
    cuts = np.linspace(0, tgt.size, parts + 1).astype(np.int64)
    at = np.zeros(parts, dtype=np.int64)
    if parts > 1:
        at[1:] = np.cumsum(hops[order] + 1)[cuts[1:-1] - 1]
    share_blocks(lambda k: _place_paths(nodes, order, hops, cuts[k], cuts[k + 1], at[k], path), parts, threads)
    return length, path, hops


#: Fewest pairs a thread of :func:`paths_to` writes into the output on its own.
PLACE_MIN_PAIRS = 2_000


@njit(cache=True, nogil=True)
def _search_walk(indptr, indices, weights, sources, lo, hi, first, order, target, node_ids, inv_width, ring_mask, length, hops):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Sources ``lo..hi-1``: each one's search, stopped once the targets of its pairs
    (``order[first[k]:first[k + 1]]``) are settled, then those pairs' distances into
    ``length``, links into ``hops`` (-1: unreachable) and paths (``node_ids``, source first)
    one after another into the returned array, in ``order``."""
    n = indptr.size - 1
    dist = np.empty(n, dtype=np.float64)
    pred = np.empty(n, dtype=np.int32)
    is_target = np.zeros(n, dtype=np.bool_)
    work = _work(indptr, indices.size, ring_mask)
    out = np.empty(max(16, 8 * (first[hi] - first[lo])), dtype=np.int32)
    used = 0
    for k in range(lo, hi):
        a, b = first[k], first[k + 1]
        if a == b:
            continue
        wanted = 0
        for q in range(a, b):
            t = target[order[q]]
            if not is_target[t]:
                is_target[t] = True
                wanted += 1
        _one(indptr, indices, weights, sources[k], is_target, wanted, inv_width, ring_mask, dist, pred, work)
        for q in range(a, b):
            p = order[q]
            t = target[p]
            is_target[t] = False
            d = dist[t]
            length[p] = d
            if not d < np.inf:
                hops[p] = -1
                continue
            c = 0
            v = t
            while pred[v] != NO_PREDECESSOR:
                v = pred[v]
                c += 1
            hops[p] = c
            if used + c + 1 > out.size:
                out = grow(out, 2 * (used + c + 1))
            v = t
            for j in range(c, -1, -1):
                out[used + j] = node_ids[v]
                v = pred[v]
            used += c + 1
    return out[:used]


@njit(cache=True)
def grow(a, size):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``a`` (1-D) copied to the front of a new array of ``size`` entries (``size >= a.size``),
    for the network kernels' outputs of unknown length."""
    out = np.empty(size, dtype=a.dtype)
    out[: a.size] = a
    return out


@njit(cache=True, nogil=True)
def _place_paths(nodes, order, hops, lo, hi, at, path):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Rows ``order[lo:hi]`` of ``path`` (P, H), right-aligned and -1 before, from the paths one
    after another in ``nodes`` from ``at`` for the pairs in ``order`` (the unreachable ones have
    none: all -1)."""
    width = path.shape[1]
    for q in range(lo, hi):
        p = order[q]
        c = hops[p] + 1  # nodes on the path; 0 when unreachable
        for j in range(width - c):
            path[p, j] = -1
        for j in range(c):
            path[p, width - c + j] = nodes[at + j]
        at += c


def warm_kernels() -> None:
    """Compile the kernels into numba's on-disk cache (``make venv`` runs it)."""
    for w in ([1.0, 2.0, 1.0], [1.0, 0.0, 1.0]):  # the bucket queue, then the heap (a zero weight)
        csr = csr_from_edges(np.array([0, 1, 1]), np.array([1, 2, 0]), np.array(w), 3)
        for threads in (1, 2):
            dijkstra(csr, np.array([0, 1]), threads=threads)
            paths_to(csr, np.array([0, 1]), np.array([0, 1]), np.array([2, 2]), threads=threads, node_ids=np.arange(3))


__all__ = ["NO_PREDECESSOR", "bucket_ring", "csr_from_edges", "dijkstra", "paths_to", "threads_for", "warm_kernels"]
