"""Independent checks of routes: networkx shortest paths on the same link graph, and path validity."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from leonet.ground.points import GroundPoints
from leonet.network import LinkRule, ground_links


def brute_force_isl_routes(r: np.ndarray, links: np.ndarray, ground: GroundPoints, rule: LinkRule, pairs, isl_km: float) -> list[float]:
    """networkx on the same graph, ground stations attached only for the pair routed (so they cannot relay)."""
    from leonet.network.links import laser_links_up

    up, length = laser_links_up(r, links, isl_km, 0.0)
    base = nx.Graph()
    base.add_nodes_from(range(len(r)))
    base.add_weighted_edges_from((int(a), int(b), float(w) * 1e3) for (a, b), w in zip(links[up], length[up]))
    gl = ground_links(ground.itrf_km, r, ground_up=ground.up, min_elevation_deg=rule.min_elevation_deg, max_range_km=rule.max_range_km)
    out = []
    for s, d in pairs:
        g = base.copy()
        for end, tag in ((s, "s"), (d, "d")):
            m = gl.ground == end
            g.add_weighted_edges_from(((tag, int(x), float(w) * 1e3) for x, w in zip(gl.sat[m], gl.length_km[m])))
        try:
            out.append(nx.dijkstra_path_length(g, "s", "d"))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            out.append(math.inf)
    return out


def check_paths_valid(routes, r_km: np.ndarray, ground_r: np.ndarray, n: int, k: int) -> None:
    """Every reported path is a chain of real links whose lengths add up to the reported length."""
    pos = np.concatenate([r_km, ground_r])
    for p in range(routes.src.size):
        h = routes.hops[k, p]
        if h < 0:
            continue
        nodes = routes.paths[k][p, -(h + 1) :]
        assert (routes.paths[k][p, : -(h + 1)] == -1).all()
        assert nodes[0] == routes.src_id[p] and nodes[-1] == routes.dst_id[p]
        assert (nodes[1:-1] < n).all()  # no ground relays
        seg = np.linalg.norm(np.diff(pos[nodes], axis=0), axis=1).sum() * 1e3
        assert seg == pytest.approx(routes.length_m[k, p], rel=1e-9)
