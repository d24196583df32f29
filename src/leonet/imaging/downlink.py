"""Age of data: the delay from collecting an image to its reaching the ground.

For each access the image is taken at the window's highest-elevation instant (``peak_ns``, the
best view, the one ``max_elevation_deg`` describes). Two ways to the ground are modelled:

**Direct contact** (always): the imaging satellite itself in view of a gateway, above the
gateways' elevation mask. The age of data is the wait from the collection until the satellite
next sees a gateway: 0 when a gateway is in view at that moment (``route`` 'direct-now'),
otherwise the wait to the contact ('direct-later'). Contacts are searched in steps of
``step_s`` after the collection (a contact shorter than a step can be missed) up to the
analysis end plus ``horizon_s``, and each contact start is refined by bisection to
``tolerance_s``. An access with no contact in that span has age NaN ('none'). The light time
of the downlink itself (a few ms) is not added to these waits.

**Laser path** (``lasers=True``): the imaging constellation carries +Grid laser links as the
network package models them (:mod:`leonet.network`): shells, planes and slots inferred from
the element sets with :func:`~leonet.network.shells.infer_shells` (at the analysis start),
links from :func:`~leonet.network.links.plus_grid`, a link working at an instant when it is
at most ``max_laser_range_km`` long and its line of sight clears ``min_grazing_alt_km``
(:func:`~leonet.network.links.laser_links_up`). Satellites outside any inferred shell
(raising, lowering, eccentric, too few to be a shell) have no lasers: they can only downlink
their own images, directly. At the collection instant the image can go over working lasers to
any satellite of the constellation that is in view of a gateway (same elevation mask,
:func:`~leonet.network.links.ground_links`) and down to it; the age is then the one-way light
time along the shortest such path (imaging satellite -> ... -> downlinking satellite ->
gateway; free-space lengths over c), found with ``scipy.sparse.csgraph.dijkstra`` on a graph
of ``[satellites][gateways]`` built per collection instant, one Dijkstra per instant from all
the satellites collecting then. A shortest path of a single hop is 'direct-now' (the imaging
satellite itself sees a gateway; its age is then the slant range over c, not 0 as without
lasers), a longer one 'laser'. Storing on board and forwarding later over lasers is not
modelled: when no path exists at the collection instant the access falls back to the direct
contact above ('direct-later' or 'none'). Lasers need element sets (a Constellation); launch
batches have none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leonet.constants import C_M_S
from leonet.deployment.batch import as_satellites
from leonet.errors import InputError
from leonet.geometry import mask_sin, sin_elevation
from leonet.ground.gateways import GroundSites
from leonet.imaging.access import AccessWindows
from leonet.network.links import (
    DEFAULT_ISL_MAX_RANGE_KM,
    DEFAULT_MIN_GRAZING_ALT_KM,
    ground_links,
    laser_links_up,
    plus_grid,
)
from leonet.network.shells import infer_shells
from leonet.orbits.satellites import Satellites
from leonet.search import bisect_crossing
from leonet.sources.constellation import Constellation
from leonet.times import NS_PER_S

DEFAULT_GATEWAY_MIN_ELEVATION_DEG = 25.0
STEPS_PER_BLOCK = 45  # search steps per round for the accesses still waiting for a contact
INSTANTS_PER_CHUNK = 64  # collection instants propagated together for the laser graph
#: Accesses whose direct contact is searched together: each holds STEPS_PER_BLOCK x gateways x 3
#: float64 temporaries (~230 KB with 214 gateways), so a block stays near 100 MB. Each access's
#: contact depends on it alone, so the blocks change nothing but the memory.
DIRECT_BLOCK = 256
ROUTES = ("direct-now", "laser", "direct-later", "none")


@dataclass(frozen=True)
class AgeOfData:
    """Per access (parallel to the windows): ``collect_ns``, ``downlink_ns`` (int64 UTC ns,
    -1 where none; for a laser path the collection plus the light time), ``age_s`` (float64,
    NaN where no contact), ``gateway`` (str, '' where none), ``route`` (str, one of
    :data:`ROUTES`) and ``downlink_sat`` (int64 satellite index that downlinks: the imaging
    satellite itself for direct routes, the last satellite of a laser path; -1 where none)."""

    collect_ns: np.ndarray
    downlink_ns: np.ndarray
    age_s: np.ndarray
    gateway: np.ndarray
    route: np.ndarray
    downlink_sat: np.ndarray

    def route_counts(self) -> dict[str, int]:
        return {r: int(np.count_nonzero(self.route == r)) for r in ROUTES}


def age_of_data(
    windows: AccessWindows,
    satellites: object,
    gateways: GroundSites,
    min_elevation_deg: float = DEFAULT_GATEWAY_MIN_ELEVATION_DEG,
    step_s: float = 20.0,
    horizon_s: float = 6 * 3600.0,
    tolerance_s: float = 0.01,
    *,
    lasers: bool = False,
    max_laser_range_km: float = DEFAULT_ISL_MAX_RANGE_KM,
    min_grazing_alt_km: float = DEFAULT_MIN_GRAZING_ALT_KM,
) -> AgeOfData:
    """Age of data of every access window (see the module notes): via the next direct gateway
    contact, or with ``lasers`` over the constellation's +Grid lasers at the collection instant.

    ``satellites``: the same satellites the windows index; ``gateways``: sites to downlink to
    (e.g. ``load_gateways().gateways``); ``min_elevation_deg``: the gateway antennas' mask;
    ``max_laser_range_km``, ``min_grazing_alt_km``: when a laser link works.
    """
    src: Satellites = as_satellites(satellites)
    n = len(windows)
    if not len(gateways):
        raise InputError("no gateways to downlink to; load some with leonet.ground.gateways.load_gateways()")
    if step_s <= 0 or horizon_s < 0:
        raise InputError(f"step_s ({step_s}) must be positive and horizon_s ({horizon_s}) not negative")
    if lasers and not isinstance(src, Constellation):
        raise InputError("laser paths need the imaging satellites as element sets (a Constellation); launch batches have no laser model")
    if lasers and not (max_laser_range_km > 0 and np.isfinite(min_grazing_alt_km)):
        raise InputError(f"max_laser_range_km ({max_laser_range_km}) must be positive and min_grazing_alt_km ({min_grazing_alt_km}) finite")
    collect = windows.peak_ns.copy()
    down = np.full(n, -1, dtype=np.int64)
    age = np.full(n, np.nan)
    gw_name = np.full(n, "", dtype=object)
    route = np.full(n, "none", dtype=object)
    relay = np.full(n, -1, dtype=np.int64)
    if not n:
        return AgeOfData(collect, down, np.zeros(0), gw_name, route, relay)
    todo = np.arange(n)
    if lasers:
        reached, light_s, g, via = _laser_paths(src, windows.sat_index, collect, gateways, min_elevation_deg, max_laser_range_km, min_grazing_alt_km,
                                                windows.analysis_start_ns)
        r = np.flatnonzero(reached)
        age[r] = light_s[r]
        down[r] = collect[r] + np.round(light_s[r] * NS_PER_S).astype(np.int64)
        gw_name[r] = gateways.name[g[r]]
        relay[r] = via[r]
        route[r] = np.where(via[r] == windows.sat_index[r], "direct-now", "laser")
        todo = np.flatnonzero(~reached)
    limit = windows.analysis_end_ns + int(horizon_s * NS_PER_S)
    for b0 in range(0, todo.size, DIRECT_BLOCK):  # blocks of accesses bound the (pairs, gateways, 3) temporaries
        part = todo[b0 : b0 + DIRECT_BLOCK]
        d, g, now = _direct_contact(src, windows.sat_index[part], collect[part], limit, gateways, min_elevation_deg, step_s, tolerance_s)
        ok = d >= 0
        rows = part[ok]
        down[rows] = d[ok]
        age[rows] = (d[ok] - collect[rows]) / NS_PER_S
        gw_name[rows] = gateways.name[g[ok]]
        relay[rows] = windows.sat_index[rows]
        route[rows] = np.where(now[ok], "direct-now", "direct-later")
    return AgeOfData(collect, down, age, gw_name, route, relay)


def _laser_paths(
    src: Satellites,
    sat_index: np.ndarray,
    collect: np.ndarray,
    gateways: GroundSites,
    min_elevation_deg: float,
    max_range_km: float,
    min_grazing_alt_km: float,
    epoch_ns: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shortest path over lasers to a gateway at each access's collection instant:
    ``(reached, light_s, gateway index, downlinking satellite)``, each (accesses,)."""
    const = src
    n_sat = len(const)
    sh = infer_shells(const, epoch_ns)
    links = plus_grid(sh.shell, sh.plane, sh.slot, sh.u_deg)  # satellites in no shell get none
    gw = gateways.points
    n_gw = len(gw)
    n_acc = sat_index.size
    reached = np.zeros(n_acc, bool)
    light_s = np.full(n_acc, np.inf)
    g_out = np.full(n_acc, -1, dtype=np.int64)
    via = np.full(n_acc, -1, dtype=np.int64)
    instants, inv = np.unique(collect, return_inverse=True)
    order = np.argsort(inv, kind="stable")  # accesses grouped by instant
    bounds = np.searchsorted(inv[order], np.arange(instants.size + 1))
    all_sats = np.arange(n_sat)
    for c0 in range(0, instants.size, INSTANTS_PER_CHUNK):
        chunk = instants[c0 : c0 + INSTANTS_PER_CHUNK]
        r_all = src.take(all_sats).at(chunk).serving_positions()  # (N, k, 3)
        for j in range(chunk.size):  # time steps; every satellite of a step at once
            k = c0 + j
            acc = order[bounds[k] : bounds[k + 1]]
            r = np.ascontiguousarray(r_all[:, j])
            up, length_km = laser_links_up(r, links, max_range_km, min_grazing_alt_km)
            a, b, w = links[up, 0], links[up, 1], length_km[up] * 1e3
            gl = ground_links(gw.itrf_km, r, ground_up=gw.up, min_elevation_deg=min_elevation_deg)
            heads = np.concatenate([a, b, gl.sat])
            tails = np.concatenate([b, a, n_sat + gl.ground])
            weights = np.concatenate([w, w, gl.length_km * 1e3])
            from scipy.sparse import csr_matrix  # scipy loads only when contacts are routed
            from scipy.sparse.csgraph import dijkstra

            graph = csr_matrix((weights, (heads, tails)), shape=(n_sat + n_gw, n_sat + n_gw))
            sources, row = np.unique(sat_index[acc], return_inverse=True)
            dist, pred = dijkstra(graph, directed=True, indices=sources, return_predecessors=True)
            d_gw = dist[:, n_sat:]  # (sources, W) metres
            best = np.argmin(d_gw, axis=1)
            d = d_gw[np.arange(sources.size), best]
            last = pred[np.arange(sources.size), n_sat + best]  # the satellite that downlinks
            ok = np.isfinite(d)
            reached[acc] = ok[row]
            light_s[acc] = d[row] / C_M_S
            g_out[acc] = np.where(ok, best, -1)[row]
            via[acc] = np.where(ok, last, -1)[row]
    return reached, light_s, g_out, via


def _direct_contact(
    src: Satellites,
    sat_index: np.ndarray,
    collect: np.ndarray,
    limit: int,
    gateways: GroundSites,
    min_elevation_deg: float,
    step_s: float,
    tolerance_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Next direct gateway contact of satellites ``sat_index`` after ``collect`` (both (n,)):
    ``(downlink_ns (-1 none), gateway index, in view at the collection)``."""
    n = sat_index.size
    down = np.full(n, -1, dtype=np.int64)
    gw_idx = np.full(n, -1, dtype=np.int64)
    gw_pos, gw_up = gateways.points.itrf_km, gateways.points.up  # (g, 3) each
    sin_mask = mask_sin(min_elevation_deg)

    def best(sat_rows: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Highest gateway (sine-of-elevation margin, gateway index) for satellites at instants."""
        r = src.at_pairs(sat_rows, t)  # (pairs, 3)
        s = sin_elevation(r[:, None, :] - gw_pos[None, :, :], gw_up[None, :, :])  # (pairs, g)
        s = np.where(np.isfinite(s), s, -2.0)
        g = np.argmax(s, axis=1)
        return s[np.arange(len(g)), g] - sin_mask, g

    # At the collection instant itself: a gateway already in view means age 0.
    m_now, g_now = best(sat_index, collect)
    now = m_now >= 0.0
    down[now], gw_idx[now] = collect[now], g_now[now]

    # The rest: step forward from each collection, a block of steps at a time for every access
    # still waiting (vectorised over accesses; most contacts come within minutes).
    todo = np.flatnonzero(~now)
    step_ns = int(round(step_s * NS_PER_S))
    tol_ns = max(1, int(round(tolerance_s * NS_PER_S)))
    k0 = 0
    while todo.size:
        ks = np.arange(k0 + 1, k0 + STEPS_PER_BLOCK + 1, dtype=np.int64)
        t = np.minimum(collect[todo][:, None] + ks[None, :] * step_ns, limit)  # (r, K)
        sat = np.broadcast_to(sat_index[todo][:, None], t.shape)
        margin = best(sat.ravel(), t.ravel())[0].reshape(t.shape)
        hit = margin >= 0.0
        has = hit.any(axis=1)
        j = np.argmax(hit, axis=1)
        rows = todo[has]
        jj = j[has]
        hi = t[has, jj]
        lo = np.where(jj > 0, t[has, np.maximum(jj - 1, 0)], collect[rows] + k0 * step_ns)
        t_c = bisect_crossing(lambda sr, tt: best(sr, tt)[0], 0.0, sat_index[rows], lo, hi, np.zeros(len(rows), bool), tol_ns)
        _, g = best(sat_index[rows], hi)
        down[rows], gw_idx[rows] = t_c, g
        todo = todo[~has & (t[:, -1] < limit)]
        k0 += STEPS_PER_BLOCK
    return down, gw_idx, now


__all__ = ["DEFAULT_GATEWAY_MIN_ELEVATION_DEG", "ROUTES", "AgeOfData", "age_of_data"]
