"""Small capacity networks for the allocation tests: built by hand, at random, and max-min
fair shares by the definition (brute force with LPs)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from leonet.capacity.allocate import StepNetwork

__all__ = ["brute_maxmin_shares", "maxmin_certificate_gaps", "net", "random_net", "random_region", "shares"]


def net(demand, pairs, down, *, beams=None, beam=None, feeder=None, feeder_links=(), gateways=(), lasers=(), laser_mbps=100.0, backhaul=False):
    s = len(down)
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    fl = np.array(feeder_links, dtype=np.int64).reshape(-1, 2)
    return StepNetwork(
        demand_mbps=np.array(demand, float), pair_sat=pairs[:, 0], pair_cell=pairs[:, 1], down_mbps=np.array(down, float),
        beams=np.ones(s) if beams is None else np.array(beams, float), beam_mbps=np.array(down, float) if beam is None else np.array(beam, float),
        feeder_mbps=np.full(s, 1e9) if feeder is None else np.array(feeder, float), feeder_sat=fl[:, 0], feeder_gw=fl[:, 1],
        gateway_mbps=np.array(gateways, float), laser=np.array(lasers, dtype=np.int64).reshape(-1, 2), laser_mbps=laser_mbps, backhaul=backhaul)


def random_net(rng, n_sats=3, n_cells=5, backhaul=False):
    pairs = [(s, c) for s in range(n_sats) for c in range(n_cells) if rng.random() < 0.6]
    pairs += [(int(rng.integers(n_sats)), c) for c in range(n_cells)]  # every cell sees someone
    pairs = sorted(set(pairs))
    down = rng.uniform(2, 20, n_sats)
    kw = {}
    if backhaul:
        kw = dict(feeder=rng.uniform(2, 30, n_sats), feeder_links=[(0, 0), (n_sats - 1, 1)], gateways=rng.uniform(3, 15, 2),
                  lasers=[(k, k + 1) for k in range(n_sats - 1)], laser_mbps=float(rng.uniform(1, 10)), backhaul=True)
    return net(rng.uniform(0.5, 15, n_cells), pairs, down, beams=np.full(n_sats, 2.0), beam=down / 1.5, **kw)


def shares(n: StepNetwork, a: np.ndarray) -> np.ndarray:
    m = n.demand_mbps > 0
    return a[m] / n.demand_mbps[m]


def brute_maxmin_shares(n: StepNetwork) -> np.ndarray:
    """Max-min fair shares by the definition: progressive filling where a cell is frozen only
    when an LP shows it cannot exceed the current level while the others keep theirs (no duals)."""
    from leonet.capacity.allocate import _flow_rows

    A, b, bounds, p, f, ln, M = _flow_rows(n)
    M = M.toarray()
    d = n.demand_mbps
    live = d > 0
    share = np.zeros(n.n_cells)
    frozen = ~live
    nv = A.shape[1]
    Ad = A.toarray()
    while not frozen.all():
        U = np.flatnonzero(~frozen)
        rows = [np.c_[Ad, np.zeros(len(b))], np.c_[-M[U], d[U]], np.c_[M[live], np.zeros(live.sum())]]
        rhs = [b, np.zeros(U.size), d[live]]
        Fz = np.flatnonzero(frozen & live)
        if Fz.size:
            rows.append(np.c_[-M[Fz], np.zeros(Fz.size)])
            rhs.append(-share[Fz] * d[Fz] * (1 - 1e-9))
        c = np.zeros(nv + 1)
        c[-1] = -1
        res = linprog(c, A_ub=np.vstack(rows), b_ub=np.concatenate(rhs), bounds=[*map(tuple, bounds), (0, 1)], method="highs")
        t = res.x[-1]
        stuck = []
        for cc in U:  # can cc go above t while every other unfrozen cell keeps t?
            obj = np.zeros(nv + 1)
            obj[:nv] = -M[cc]
            fix = np.c_[-M[U], d[U] * 0]
            r2 = linprog(obj, A_ub=np.vstack([rows[0], fix, rows[2], *rows[3:]]), b_ub=np.concatenate([b, -t * d[U] * (1 - 1e-9), *rhs[2:]]),
                         bounds=[*map(tuple, bounds), (0, 1)], method="highs")
            if -r2.fun <= t * d[cc] * (1 + 1e-7) + 1e-9:
                stuck.append(cc)
        if t >= 1 - 1e-9:
            stuck = list(U)
        assert stuck, "some cell must be stuck at the optimum level"
        share[stuck] = min(t, 1.0)
        frozen[stuck] = True
    return share


def random_region(rng, n_sats=40, n_cells=60, n_gw=4, backhaul=True, links_per_cell=6):
    """A random network shaped like a region: each cell sees ``links_per_cell`` satellites on
    average, gateways see a few satellites each, lasers join satellites in a ring plus random
    chords; demand spans three orders of magnitude and some cells are dark (demand 0)."""
    pairs = {(int(s), c) for c in range(n_cells) for s in rng.choice(n_sats, size=rng.integers(1, 2 * links_per_cell), replace=True)}
    pairs = np.array(sorted(pairs), np.int64)
    demand = 10 ** rng.uniform(0, 3, n_cells)
    demand[rng.random(n_cells) < 0.1] = 0.0
    down = rng.choice([20.0, 96.0], n_sats) * 10
    beam = down / rng.choice([8, 16], n_sats)
    kw = {}
    if backhaul:
        fl = {(int(s), g) for g in range(n_gw) for s in rng.choice(n_sats, size=3, replace=False)}
        ring = [(k, (k + 1) % n_sats) for k in range(n_sats)]
        chords = [(int(a), int(b)) for a, b in rng.integers(0, n_sats, (n_sats // 4, 2)) if a != b]
        kw = dict(feeder=down * rng.uniform(0.3, 1.2, n_sats), feeder_links=sorted(fl), gateways=rng.uniform(50, 400, n_gw),
                  lasers=ring + chords, laser_mbps=float(rng.uniform(20, 200)), backhaul=True)
    return net(demand, pairs, down, beams=np.full(n_sats, 8.0), beam=beam, **kw)


def maxmin_certificate_gaps(n: StepNetwork, cell_mbps: np.ndarray, rel: float = 1e-9) -> list[tuple[float, float, float]]:
    """Check an allocation is max-min fair by the bottleneck definition, one LP per level:
    for each distinct share ``L < 1``, maximise the flow of the cells at ``L`` while every cell
    at or below ``L`` keeps what it has (less ``rel``). Max-min fair iff no level can grow
    (Bertsekas & Gallager, Data Networks, 6.5). Returns ``(level, optimum - given, slack)``
    per level, ``slack`` what the relaxation ``rel`` frees."""
    from leonet.capacity.allocate import _flow_rows

    A, b, bounds, p, f, ln, M = _flow_rows(n)
    d = n.demand_mbps
    live = d > 0
    s = np.where(live, cell_mbps / np.where(live, d, 1.0), 1.0)
    order = np.sort(s[live & (s < 1.0 - 1e-9)])
    levels = order[np.r_[True, np.diff(order) > 1e-8]] if order.size else order
    Ml = M[np.flatnonzero(live)]
    out = []
    for L in levels:
        at = np.flatnonzero(live & (np.abs(s - L) <= 1e-8))
        keep = np.flatnonzero(live & (s <= L + 1e-8))
        rows = [A, Ml, -M[keep]]
        rhs = [b, d[live], -cell_mbps[keep] * (1 - rel)]
        res = linprog(-np.asarray(M[at].sum(axis=0)).ravel(), A_ub=sp.vstack(rows, format="csr"), b_ub=np.concatenate(rhs), bounds=bounds, method="highs")
        assert res.status == 0, res.message
        out.append((float(L), float(-res.fun - cell_mbps[at].sum()), float(rel * cell_mbps[keep].sum())))
    return out
