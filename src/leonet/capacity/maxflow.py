"""Exact max-min fair allocation by parametric maximum flow (no LP solver).

The network of one interval (:class:`~leonet.capacity.allocate.StepNetwork`) is a
single-commodity flow network, so the allocations it admits are exactly the flows of one
graph (nodes: the Internet, gateways, each satellite's gateway side, the satellite, its
user side, cells, and a sink)::

    source -> gateway g            gateway_mbps[g]
    gateway g -> feed(s)           min(gateway_mbps[g], feeder_mbps[s])   (unbounded in the LP; never binding)
    feed(s) -> sat(s)              feeder_mbps[s]    (all gateway links of s together)
    sat(a) <-> sat(b)              laser_mbps each way (an undirected arc: net flow in [-cap, cap])
    sat(s) -> user(s)              min(down_mbps, beams x beam_mbps)[s]
    user(s) -> cell c              beam_mbps[s]      (one per user link)
    cell c -> sink                 t x demand_mbps[c] while c is not frozen, its level x demand once frozen

(without backhaul: ``source -> user(s)`` directly). A flow that saturates every sink arc is an
allocation of :func:`~leonet.capacity.allocate.maxmin_lp`'s LP with every cell at its share,
and back: the LP's rows are this graph's capacities and conservation (the LP lets a satellite
receive more than it sends, which a flow never needs).

**Why it is exact.** Weighted max-min fairness on the share of demand met is the classic
progressive filling (Megiddo 1974, "Optimal flows in networks with multiple sources and
sinks"; in polymatroid terms Fujishige's lexicographically optimal base):

1. *Level.* With ``F`` the flow the frozen cells keep and ``D`` the demand of the unfrozen,
   level ``t`` is feasible iff the max flow equals ``F + t D``. Every cut ``(X, V \\ X)``
   bounds it: ``t <= (k(X) - F_out) / D_out``, with ``k(X)`` the capacity of the non-sink arcs
   leaving ``X`` and ``F_out``/``D_out`` the frozen flow and unfrozen demand of the cells outside
   ``X``; the largest feasible level is the least such bound (max-flow min-cut). Newton's
   method (Dinkelbach's iteration) finds it from above: start at ``t = 1`` (no cell gets more
   than its demand); if the max flow falls short, the min cut's bound is the next ``t``. Each
   step lowers ``t`` to the exact bound of a cut and the iterates reach the least bound in a
   few max flows (the cut function is concave and piecewise linear); the level is exact up to
   floating point, not a bisection's tolerance.
2. *Freeze.* At that level every sink arc is full. A cell can get more while every other keeps
   its flow iff the residual graph has a path from the source to it (that path is the
   augmentation); the cells it does not reach are frozen at the level, all others can rise
   together (they are the source side of the minimal min cut). Repeat from 1 with the flow
   found (raising the unfrozen cells' sink arcs keeps it feasible) until every cell is frozen
   or met in full.

The maximum flows are Dinic's algorithm over float capacities (numba), warm started from the
last level's flow. Residual capacities below ``EPS_REL`` x the largest capacity count as zero
(an arc that close to full is full), so a level can fall short by at most that much per arc of
its cut; on the Taiwan area at resolution 5 the lowest level agrees with the LP's to 1e-13
(relative), far below HiGHS's own feasibility tolerance of 1e-7.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from leonet.capacity.allocate import Allocation, StepNetwork, servable_cells

EPS_REL = 1e-12  # residual capacity treated as zero, relative to the largest capacity
SHORT_REL = 1e-10  # a level is feasible when the sink arcs lack at most this share of their capacity in all
MAX_NEWTON = 100  # Newton steps per level (a few in practice); a safeguard, not a tolerance


# ---- Dinic's maximum flow over float capacities ---------------------------------------------
@njit(cache=True)
def _bfs(n, src, snk, start, adj, head, res, eps, level, queue) -> bool:
    """Levels of the residual graph from ``src`` (-1: unreachable); True if ``snk`` is reached."""
    level[:] = -1
    level[src] = 0
    queue[0] = src
    qh, qt = 0, 1
    while qh < qt:
        v = queue[qh]
        qh += 1
        for k in range(start[v], start[v + 1]):
            e = adj[k]
            w = head[e]
            if level[w] < 0 and res[e] > eps:
                level[w] = level[v] + 1
                queue[qt] = w
                qt += 1
    return level[snk] >= 0


@njit(cache=True)
def _maxflow(n, src, snk, start, adj, head, res, eps, level, queue, it, path) -> float:
    """Augment ``res`` (residual capacities; arc ``e`` and its reverse ``e ^ 1``) to a maximum
    flow from ``src`` to ``snk`` (Dinic: shortest augmenting paths, a blocking flow per phase);
    returns the flow added. On return ``level >= 0`` marks the nodes the source still reaches:
    the source side of the minimal minimum cut."""
    total = 0.0
    while _bfs(n, src, snk, start, adj, head, res, eps, level, queue):
        for v in range(n):
            it[v] = start[v]
        depth = 0
        v = src
        while True:
            if v == snk:
                f = np.inf
                for k in range(depth):
                    if res[path[k]] < f:
                        f = res[path[k]]
                cut = depth
                for k in range(depth):
                    e = path[k]
                    res[e] -= f
                    res[e ^ 1] += f
                    if res[e] <= eps and cut == depth:
                        cut = k  # retreat to the tail of the first saturated arc
                total += f
                depth = cut
                v = src if depth == 0 else head[path[depth - 1]]
                continue
            advanced = False
            while it[v] < start[v + 1]:
                e = adj[it[v]]
                w = head[e]
                if res[e] > eps and level[w] == level[v] + 1:
                    path[depth] = e
                    depth += 1
                    v = w
                    advanced = True
                    break
                it[v] += 1
            if advanced:
                continue
            if v == src:
                break
            level[v] = -2  # dead end in this phase
            depth -= 1
            e = path[depth]
            v = head[e ^ 1]
            it[v] += 1
    _bfs(n, src, snk, start, adj, head, res, eps, level, queue)
    return total


class FlowGraph:
    """The graph of the module doc for one :class:`StepNetwork`: arcs in pairs (``e``, ``e ^ 1``),
    ``cap0`` (2m,) each arc's capacity (0 for a reverse arc, the same both ways for a laser),
    adjacency in CSR by tail, and the index ranges of the user-link, gateway-link, laser and
    sink arcs."""

    def __init__(self, net: StepNetwork, cells: np.ndarray) -> None:
        s, g = net.n_sats, len(net.gateway_mbps)
        self.src, self.snk = 0, 1
        gw0 = 2
        feed0 = gw0 + g
        sat0 = feed0 + s
        user0 = sat0 + s
        cell0 = user0 + s
        self.n = cell0 + net.n_cells
        tails, heads, caps, both = [], [], [], []

        def arcs(t: np.ndarray, h: np.ndarray, c: np.ndarray, undirected: bool = False) -> tuple[int, int]:
            first = sum(x.size for x in tails)
            tails.append(np.asarray(t, np.int64))
            heads.append(np.asarray(h, np.int64))
            caps.append(np.broadcast_to(np.asarray(c, float), np.shape(t)).astype(float))
            both.append(np.full(np.shape(t), undirected))
            return first, first + np.size(t)

        ucap = net.user_cap_mbps().astype(float)
        sats = np.arange(s)
        f = len(net.feeder_sat) if net.backhaul else 0
        ln = len(net.laser) if net.backhaul else 0
        if net.backhaul:
            arcs(np.zeros(g, np.int64), gw0 + np.arange(g), net.gateway_mbps)
            fs, fg = net.feeder_sat[:f], net.feeder_gw[:f]
            self.feeder = arcs(gw0 + fg, feed0 + fs, np.minimum(net.gateway_mbps[fg], net.feeder_mbps[fs]))
            arcs(feed0 + sats, sat0 + sats, net.feeder_mbps)
            self.laser = arcs(sat0 + net.laser[:, 0], sat0 + net.laser[:, 1], np.full(ln, float(net.laser_mbps)), undirected=True)
            arcs(sat0 + sats, user0 + sats, ucap)
        else:
            self.feeder = self.laser = (0, 0)
            arcs(np.zeros(s, np.int64), user0 + sats, ucap)
        self.pairs = arcs(user0 + net.pair_sat, cell0 + net.pair_cell, net.beam_mbps[net.pair_sat])
        self.cells = np.asarray(cells, np.int64)
        self.sink = arcs(cell0 + self.cells, np.ones(self.cells.size, np.int64), np.zeros(self.cells.size))
        t, h, c, u = (np.concatenate(x) for x in (tails, heads, caps, both))
        m = t.size
        # arc 2i is arc i, 2i + 1 its reverse
        self.tail = np.empty(2 * m, np.int64)
        self.head = np.empty(2 * m, np.int64)
        self.tail[0::2], self.tail[1::2] = t, h
        self.head[0::2], self.head[1::2] = h, t
        self.cap0 = np.zeros(2 * m)
        self.cap0[0::2] = c
        self.cap0[1::2] = np.where(u, c, 0.0)
        self.adj = np.argsort(self.tail, kind="stable").astype(np.int64)
        self.start = np.searchsorted(self.tail[self.adj], np.arange(self.n + 1)).astype(np.int64)
        self.res = self.cap0.copy()
        finite = c[np.isfinite(c)]
        self.eps = EPS_REL * max(float(finite.max()) if finite.size else 1.0, float(np.max(net.demand_mbps, initial=1.0)))
        self._level = np.empty(self.n, np.int64)
        self._queue = np.empty(self.n, np.int64)
        self._it = np.empty(self.n, np.int64)
        self._path = np.empty(self.n + 1, np.int64)
        self.cell_node = cell0 + self.cells
        # forward arcs that may cross a cut and count towards k(X): all but the sink arcs
        self._fwd_ns = np.ones(2 * m, bool)
        self._fwd_ns[2 * self.sink[0]:2 * self.sink[1]] = False
        self._fwd_ns &= self.cap0 > 0

    def flow(self, lo_hi: tuple[int, int]) -> np.ndarray:
        """Flow on the arcs ``lo_hi`` (arc indices, forward direction): capacity less residual."""
        a, b = lo_hi
        return self.cap0[2 * a:2 * b:2] - self.res[2 * a:2 * b:2]

    def save(self) -> tuple[np.ndarray, np.ndarray]:
        """The current flow: residuals and sink-arc capacities (see :meth:`restore`)."""
        a, b = self.sink
        return self.res.copy(), self.cap0[2 * a:2 * b:2].copy()

    def restore(self, saved: tuple[np.ndarray, np.ndarray], cap: np.ndarray) -> None:
        """Go back to the flow ``saved`` with the sink arcs' capacities ``cap`` (one per cell of
        ``cells``; at least the saved flow on each, so that it stays feasible)."""
        res, cap_then = saved
        a, b = self.sink
        flow = cap_then - res[2 * a:2 * b:2]
        self.res[:] = res
        self.cap0[2 * a:2 * b:2] = cap
        self.res[2 * a:2 * b:2] = cap - flow

    def sink_residual(self) -> np.ndarray:
        """(cells,) room left on each sink arc."""
        a, b = self.sink
        return self.res[2 * a:2 * b:2]

    def augment(self) -> float:
        return float(_maxflow(self.n, self.src, self.snk, self.start, self.adj, self.head, self.res, self.eps, self._level, self._queue, self._it, self._path))

    def reached(self) -> np.ndarray:
        """(n,) bool: nodes the source reaches in the residual graph (after :meth:`augment`)."""
        return self._level >= 0

    def cut_capacity(self, side: np.ndarray) -> float:
        """k(X): capacity of the non-sink arcs from ``side`` to the rest."""
        cross = self._fwd_ns & side[self.tail] & ~side[self.head]
        return float(self.cap0[cross].sum())


def maxmin_flow(net: StepNetwork, max_levels: int = 100_000) -> Allocation:
    """Weighted max-min fair allocation (equal share of demand, lexicographically maximised),
    exactly, by parametric maximum flow: see the module doc. ``lps`` of the result counts the
    maximum flows computed."""
    net.check()
    live = np.flatnonzero(servable_cells(net))
    d = net.demand_mbps.astype(float)
    if not live.size:
        return _result(None, net)
    gr = FlowGraph(net, live)
    dl = d[live]
    level = np.zeros(live.size)
    frozen = np.zeros(live.size, bool)
    flows = 0
    base = gr.save()  # the last level's flow (zero to start)
    for _ in range(max_levels):
        todo = ~frozen
        t = 1.0
        last_out = None
        for _newton in range(MAX_NEWTON):
            cap = np.where(frozen, level, t) * dl
            gr.restore(base, cap)
            gr.augment()
            flows += 1
            if gr.sink_residual().sum() <= SHORT_REL * cap.sum():
                break  # every sink arc is full: t is feasible, the largest level (Newton comes from above)
            side = gr.reached()
            out = ~side[gr.cell_node]
            last_out = out & todo
            t_next = max(0.0, (gr.cut_capacity(side) - float((level * dl)[out & frozen].sum())) / float(dl[last_out].sum()))
            if t_next >= t * (1.0 - 1e-15):  # no lower bound within rounding: t is the level
                break
            t = t_next
        else:  # pragma: no cover - Newton's method ends in finitely many steps
            raise RuntimeError("max-min by max flow: Newton's method did not settle")
        base = gr.save()
        if t >= 1.0:
            break
        stuck = todo & ~gr.reached()[gr.cell_node]
        if not stuck.any():  # rounding left every cell reachable: the last cut is tight at t
            stuck = last_out if last_out is not None else todo
        frozen |= stuck
        level[stuck] = t
        if frozen.all():
            break
    return _result(gr, net, flows)


def _result(gr: FlowGraph | None, net: StepNetwork, flows: int = 0) -> Allocation:
    if gr is None:
        return Allocation(np.zeros(len(net.pair_sat)), np.zeros(net.n_cells), np.zeros(len(net.feeder_sat)), np.zeros(len(net.laser)), 0, 0.0, "flow-maxmin")
    x = np.clip(gr.flow(gr.pairs), 0.0, None)
    cell = np.bincount(net.pair_cell, x, minlength=net.n_cells)
    feeder = gr.flow(gr.feeder) if net.backhaul else np.zeros(len(net.feeder_sat))
    if net.backhaul and len(net.laser):
        a, b = gr.laser
        lf = gr.cap0[2 * a:2 * b:2] - gr.res[2 * a:2 * b:2]  # net flow from laser[:, 0] to laser[:, 1]
    else:
        lf = np.zeros(len(net.laser))
    return Allocation(x, cell, feeder, lf, flows, 0.0, "flow-maxmin")
