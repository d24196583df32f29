"""Routes over a time grid in one call: satellites, endpoints and a mode in; routes and a node
table out. ``leonet route`` and :func:`leonet.route` are thin layers over :func:`run_routes`.

Steps: lasers (a +Grid per inferred shell, or the links a Hypatia scenario gives), ground-link
rules, gateways and points of presence for the ``gateway`` and ``bentpipe`` modes, the service
policy at the endpoints, then :func:`~leonet.network.routing.route_series`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from leonet.errors import InputError
from leonet.ground.gateways import GroundSites
from leonet.ground.points import GroundPoints
from leonet.ground.regions import Region
from leonet.network.links import DEFAULT_ISL_MAX_RANGE_KM, DEFAULT_MIN_GRAZING_ALT_KM, plus_grid
from leonet.network.routing import MODES, LinkRule, Router, Routes, StepRows, endpoint_activity, route_series
from leonet.network.shells import infer_shells
from leonet.orbits.eop import EarthOrientation
from leonet.orbits.satellites import Satellites, SatelliteUnion
from leonet.policy.model import ServicePolicy
from leonet.sources.constellation import Constellation


@dataclass
class RouteRun:
    """What :func:`run_routes` computed: ``routes`` (see :class:`~leonet.network.routing.Routes`),
    the ``router`` (node numbering), the ``satellites`` and ``endpoints`` routed over,
    ``start_ns`` of the grid, the inferred ``shells`` (descriptions) and the number of
    satellites in none (``unassigned``; they carry no traffic), and ``notes`` for the user."""

    routes: Routes
    router: Router
    satellites: Satellites
    endpoints: GroundPoints
    start_ns: int
    shells: list[str] = field(default_factory=list)
    unassigned: int = 0
    notes: list[str] = field(default_factory=list)

    def node_columns(self) -> dict[str, list]:
        """The node table: ``id, kind, name, norad_id`` (satellites, endpoints, gateways, PoPs)."""
        n = len(self.satellites)
        ids, kinds, names, norad = list(range(n)), ["satellite"] * n, [str(x) for x in self.satellites.name], [int(x) for x in self.satellites.norad_id]
        groups = [("endpoint", self.endpoints), ("gateway", self.router.gateways), ("pop", self.router.pops)]
        base = n
        for kind, pts in groups:
            k = len(pts)
            ids += list(range(base, base + k))
            kinds += [kind] * k
            names += [str(x) for x in (pts.name if pts.name is not None else [""] * k)]
            norad += [None] * k
            base += k
        return {"id": ids, "kind": kinds, "name": names, "norad_id": norad}


def laser_topology(satellites: Satellites, epoch_ns: int) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """+Grid lasers and usable satellites: shells are inferred per SGP4 constellation; other
    satellites (launch batches) have no lasers but serve ground links once they serve."""
    parts = satellites.parts if isinstance(satellites, SatelliteUnion) else (satellites,)
    links, usable, shells, unassigned, base = [], [], [], 0, 0
    for p in parts:
        if isinstance(p, Constellation) and len(p):
            sh = infer_shells(p, epoch_ns)
            links.append(plus_grid(sh.shell, sh.plane, sh.slot, sh.u_deg) + base)
            usable.append(sh.shell >= 0)
            shells += [s.describe() for s in sh.shells]
            unassigned += int(sh.unassigned.size)
        else:
            usable.append(np.ones(len(p), bool))
        base += len(p)
    all_links = np.concatenate(links) if links else np.zeros((0, 2), np.int64)
    return all_links, (np.concatenate(usable) if usable else np.zeros(0, bool)), shells, unassigned


def run_routes(
    satellites: Satellites,
    endpoints: GroundPoints,
    t_ns: np.ndarray,
    *,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
    mode: str = "isl",
    user_links: LinkRule = LinkRule(25.0, None),
    gateway_links: LinkRule | None = None,
    isl_max_range_km: float = DEFAULT_ISL_MAX_RANGE_KM,
    min_grazing_alt_km: float = DEFAULT_MIN_GRAZING_ALT_KM,
    sites: GroundSites | None = None,
    laser_links: np.ndarray | None = None,
    inactive: Sequence[str] = (),
    policy: ServicePolicy | None = None,
    progress: Callable[[int], None] | None = None,
    epoch_ns: int | None = None,
    eop: EarthOrientation | None = None,
    on_step: Callable[[StepRows], None] | None = None,
    keep_paths: bool = True,
) -> RouteRun:
    """Shortest-latency routes between ``endpoints`` at every instant of ``t_ns`` (T,) UTC ns.

    ``pairs``: ``(src, dst)`` endpoint indices (P,) each, default every ordered pair of
    different endpoints. ``mode``: 'isl', 'bentpipe' or 'gateway' (the last two need ``sites``,
    gateways and points of presence). ``laser_links`` (L, 2): given links (Hypatia's
    ``isls.txt``) instead of a +Grid per inferred shell. ``inactive``: country codes where
    service is off, or a whole ``policy``: a user there has no route. ``epoch_ns``: when
    shells are inferred and ``t_ns`` of the rows count from (default ``t_ns[0]``; a time chunk
    of a longer run gives the run's start, so that every chunk has the same lasers). ``eop``: the
    Earth orientation of the ITRF (default the true one; Hypatia's convention is
    :func:`leonet.orbits.eop.utc_as_ut1`). ``on_step``, ``keep_paths``: each instant's rows
    handed to a writer as they are routed, and whether the paths stay in memory
    (:func:`~leonet.network.routing.route_series`).
    """
    if mode not in MODES:
        raise InputError(f"routing mode {mode!r} is not one of {', '.join(MODES)}")
    if mode != "isl" and sites is None:
        raise InputError(f"mode {mode!r} needs gateways and points of presence (leonet.ground.gateways.load_gateways())")
    t = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
    e = len(endpoints)
    if e < 2 and pairs is None:
        raise InputError("routing needs at least two endpoints")
    if pairs is None:
        s, d = np.meshgrid(np.arange(e), np.arange(e), indexing="ij")
        keep = s != d
        src, dst = s[keep], d[keep]
    else:
        src, dst = (np.atleast_1d(np.asarray(x, dtype=np.int64)) for x in pairs)
    shells: list[str] = []
    unassigned = 0
    if laser_links is None:
        links, usable, shells, unassigned = laser_topology(satellites, int(t[0]) if epoch_ns is None else int(epoch_ns))
    else:
        links, usable = np.asarray(laser_links, dtype=np.int64).reshape(-1, 2), None
    gateways = pops = None
    if mode != "isl":
        gateways, pops = sites.gateways.points, sites.pops.points
    router = Router(len(satellites), links, endpoints, mode=mode, user_links=user_links, isl_max_range_km=isl_max_range_km,
                    min_grazing_alt_km=min_grazing_alt_km, sat_usable=usable, gateways=gateways, pops=pops,
                    gateway_links=gateway_links if gateway_links is not None else user_links)
    if inactive:
        policy = policy or ServicePolicy.active_everywhere()
        for code in inactive:
            policy = policy.deactivate(Region.country(code))
    active = endpoint_activity(policy, endpoints, t) if policy is not None else None
    routes = route_series(router, satellites, t, src, dst, active, progress=progress, eop=eop, on_step=on_step, keep_paths=keep_paths)
    return RouteRun(routes, router, satellites, endpoints, int(t[0]) if epoch_ns is None else int(epoch_ns), shells, unassigned)


__all__ = ["RouteRun", "laser_topology", "run_routes"]
