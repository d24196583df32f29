"""Shortest-latency routing between ground endpoints at each time step (Dijkstra:
:mod:`leonet.network.shortest`, sources over threads).

Graph layouts (graph node ranges; ``N`` satellites, ``E`` endpoints, ``W`` gateways, ``Q`` PoPs):

* ``isl``: ``[sats N][endpoint up E][endpoint down E]``. An endpoint is split into an *up* node
  with links only to satellites and a *down* node with links only from satellites, so that a path
  enters the laser mesh through one ground link and leaves it through one: ground stations never
  relay (Hypatia's "free one, only over ISLs").
* ``gateway`` and ``bentpipe``: ``[sats N][user up E][gateway W][PoP Q][destination E]``. A user
  goes up to a satellite, over lasers (``gateway`` mode only), down to a gateway, by fibre to the
  gateway's home point of presence (the nearest PoP), and by fibre from that PoP to the
  destination. In ``bentpipe`` there are no lasers, so user, satellite and gateway must share one
  footprint.

Edge weights are latency-equivalent metres: free-space lengths as they are, fibre lengths times
the refractive index :data:`FIBRE_REFRACTIVE_INDEX`. Fibre runs along great circles.

Node ids written out (paths, ``src``/``dst``): satellites ``0..N-1`` in constellation order,
endpoints ``N + e``, gateways ``N + E + w``, PoPs ``N + E + W + q``; with Hypatia's endpoints in
``gid`` order these are Hypatia's ids (ground station ``gid`` is ``1584 + gid`` for Starlink-550).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit
from sgp4.api import Satrec

from leonet.constants import C_M_S, FIBRE_REFRACTIVE_INDEX
from leonet.deployment.batch import as_satellites
from leonet.errors import InputError
from leonet.geometry import great_circle_km
from leonet.ground.points import GroundPoints
from leonet.network.links import DEFAULT_ISL_MAX_RANGE_KM, DEFAULT_MIN_GRAZING_ALT_KM, ground_links, laser_links_up
from leonet.network.shortest import csr_from_edges, paths_to
from leonet.orbits.frames import gmst82_rad, teme_to_itrf
from leonet.orbits.satellites import Satellites

MODES = ("isl", "bentpipe", "gateway")


def fibre_rtt_ms(distance_km: np.ndarray) -> np.ndarray:
    """Round-trip time over fibre of ``distance_km`` one way, ms."""
    return 2.0 * np.asarray(distance_km) * 1e3 * FIBRE_REFRACTIVE_INDEX / C_M_S * 1e3


@dataclass(frozen=True)
class LinkRule:
    """When a ground-satellite link exists: elevation at least ``min_elevation_deg`` and/or
    length at most ``max_range_km`` (``None`` switches a test off)."""

    min_elevation_deg: float | None = 25.0
    max_range_km: float | None = None

    def __post_init__(self) -> None:
        if self.min_elevation_deg is None and self.max_range_km is None:
            raise InputError("a ground link rule needs an elevation mask or a maximum range")
        if self.max_range_km is not None and not self.max_range_km > 0:
            raise InputError(f"max_range_km={self.max_range_km} must be positive")
        if self.min_elevation_deg is not None and not -90 <= self.min_elevation_deg <= 90:
            raise InputError(f"min_elevation_deg={self.min_elevation_deg} must be in [-90, 90]")


@dataclass
class StepRoutes:
    """Routes of one time step for ``P`` pairs: ``latency_m`` (P,) latency-equivalent length
    (inf when unreachable), ``length_m`` (P,) physical length, ``fibre_m`` (P,) of it in fibre,
    ``path`` (P, H) int32 output node ids, right-aligned (the path is the last ``hops + 1`` entries,
    -1 before), ``hops`` (P,) links (-1 when unreachable),
    ``laser_up`` (L,) bool."""

    latency_m: np.ndarray
    length_m: np.ndarray
    fibre_m: np.ndarray
    path: np.ndarray
    hops: np.ndarray
    laser_up: np.ndarray


class StepRows(NamedTuple):
    """One instant's rows of :class:`Routes`, handed to :func:`route_series`'s ``on_step`` as
    soon as they are computed (a writer formats them while they are in cache): the instant
    ``t_ns``; ``src_id``, ``dst_id`` (P,) node ids; every node id is below ``id_bound``;
    ``hops`` (P,) (-1: unreachable); ``path`` (P, H) right-aligned node ids; ``length_m`` and
    ``rtt_ms`` (P,) (NaN: unreachable). The arrays are views of the run's tables: read them
    during the call, do not keep them."""

    t_ns: int
    src_id: np.ndarray
    dst_id: np.ndarray
    id_bound: int
    hops: np.ndarray
    path: np.ndarray
    length_m: np.ndarray
    rtt_ms: np.ndarray


class Router:
    """Routing over one constellation and one set of ground endpoints.

    ``n_sats``: N; ``laser_links`` (L, 2) satellite indices (``+Grid`` from
    :func:`~leonet.network.links.plus_grid` or Hypatia's ``isls.txt``); ``sat_usable`` (N,)
    bool (satellites outside any shell carry no traffic); ``endpoints``: users/cities;
    ``user_links``: the users' ground-link rule; ``gateways`` and ``pops`` (modes ``gateway``
    and ``bentpipe``) with ``gateway_links``.
    """

    def __init__(
        self,
        n_sats: int,
        laser_links: np.ndarray,
        endpoints: GroundPoints,
        *,
        mode: str = "isl",
        user_links: LinkRule = LinkRule(),
        isl_max_range_km: float = DEFAULT_ISL_MAX_RANGE_KM,
        min_grazing_alt_km: float = DEFAULT_MIN_GRAZING_ALT_KM,
        sat_usable: np.ndarray | None = None,
        gateways: GroundPoints | None = None,
        pops: GroundPoints | None = None,
        gateway_links: LinkRule = LinkRule(),
    ) -> None:
        if mode not in MODES:
            raise InputError(f"routing mode {mode!r} is not one of {', '.join(MODES)}")
        links = np.asarray(laser_links, dtype=np.int64).reshape(-1, 2)
        if links.size and (links.min() < 0 or links.max() >= n_sats):
            raise InputError(f"laser links name satellites outside 0..{n_sats - 1}")
        self.n_sats, self.mode, self.links = int(n_sats), mode, links
        self.endpoints, self.user_links = endpoints, user_links
        self._seen_src: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # see _sources_of
        self.isl_max_range_km, self.min_grazing_alt_km = isl_max_range_km, min_grazing_alt_km
        self.sat_usable = np.ones(n_sats, bool) if sat_usable is None else np.asarray(sat_usable, dtype=bool)
        n, e = self.n_sats, len(endpoints)
        if mode == "isl":
            self.gateways, self.pops = GroundPoints.empty(), GroundPoints.empty()
            self.n_nodes = n + 2 * e
            self._up0, self._dst0 = n, n + e
            self.out_id = np.concatenate([np.arange(n + e), n + np.arange(e)])
            self._fixed = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        else:
            if gateways is None or not len(gateways) or pops is None or not len(pops):
                raise InputError(f"mode {mode!r} needs gateways and points of presence (load_gateways() gives the default set)")
            self.gateways, self.pops = gateways, pops
            self.gateway_links = gateway_links
            w, q = len(gateways), len(pops)
            self._up0, self._gw0, self._pop0, self._dst0 = n, n + e, n + e + w, n + e + w + q
            self.n_nodes = n + 2 * e + w + q
            self.out_id = np.concatenate([np.arange(n + e + w + q), n + np.arange(e)])
            # Each gateway homes to its nearest PoP; every PoP reaches every destination.
            gw_pop_km = great_circle_km(gateways.lat_deg[:, None], gateways.lon_deg[:, None], pops.lat_deg[None], pops.lon_deg[None])
            self.home_pop = np.argmin(gw_pop_km, axis=1)
            self.gw_fibre_m = gw_pop_km[np.arange(w), self.home_pop] * 1e3
            self.pop_dst_fibre_m = great_circle_km(pops.lat_deg[:, None], pops.lon_deg[:, None], endpoints.lat_deg[None], endpoints.lon_deg[None]) * 1e3
            # A destination at its PoP gets a millimetre of fibre (a zero-length edge would tie its paths).
            pd = np.maximum(self.pop_dst_fibre_m, 1e-3)
            qa, ea = np.meshgrid(np.arange(q), np.arange(e), indexing="ij")
            self._fixed = (
                np.concatenate([self._gw0 + np.arange(w), self._pop0 + qa.ravel()]),
                np.concatenate([self._pop0 + self.home_pop, self._dst0 + ea.ravel()]),
                np.concatenate([np.maximum(self.gw_fibre_m, 1e-3), pd.ravel()]) * FIBRE_REFRACTIVE_INDEX,
            )
        #: Every node id written out (``out_id``, ``src``/``dst``) is below this.
        self.id_bound = int(self.out_id.max(initial=-1)) + 1

    def edges(self, r_sat_km: np.ndarray, endpoint_active: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The graph at one instant: ``(heads, tails, weights, laser_up)``, edges ``heads[k] ->
        tails[k]`` of ``weights[k]`` latency-equivalent metres (graph node ids), and ``laser_up``
        (L,) bool. ``r_sat_km`` (N, 3) Earth-fixed km; ``endpoint_active`` (E,) bool."""
        n, e = self.n_sats, len(self.endpoints)
        if r_sat_km.shape != (n, 3):
            raise InputError(f"satellite positions have shape {r_sat_km.shape}; expected ({n}, 3)")
        active = np.ones(e, bool) if endpoint_active is None else np.asarray(endpoint_active, dtype=bool)
        usable = self.sat_usable & np.isfinite(r_sat_km).all(axis=1)
        heads, tails, weights = [self._fixed[0]], [self._fixed[1]], [self._fixed[2]]
        if self.mode != "bentpipe" and self.links.size:
            up, length_km = laser_links_up(r_sat_km, self.links, self.isl_max_range_km, self.min_grazing_alt_km)
            up &= usable[self.links[:, 0]] & usable[self.links[:, 1]]
            a, b, w_m = self.links[up, 0], self.links[up, 1], length_km[up] * 1e3
            heads += [a, b]
            tails += [b, a]
            weights += [w_m, w_m]
        else:
            up = np.zeros(len(self.links), bool)
        ul = ground_links(self.endpoints.itrf_km, r_sat_km, ground_up=self.endpoints.up, min_elevation_deg=self.user_links.min_elevation_deg,
                          max_range_km=self.user_links.max_range_km, sat_usable=usable)
        on = active[ul.ground]
        g, s, w_m = ul.ground[on], ul.sat[on], ul.length_km[on] * 1e3
        heads.append(self._up0 + g)
        tails.append(s)
        weights.append(w_m)
        if self.mode == "isl":
            heads.append(s)
            tails.append(self._dst0 + g)
            weights.append(w_m)
        else:
            gl = ground_links(self.gateways.itrf_km, r_sat_km, ground_up=self.gateways.up, min_elevation_deg=self.gateway_links.min_elevation_deg,
                              max_range_km=self.gateway_links.max_range_km, sat_usable=usable)
            heads.append(gl.sat)
            tails.append(self._gw0 + gl.ground)
            weights.append(gl.length_km * 1e3)
        return np.concatenate(heads), np.concatenate(tails), np.concatenate(weights), up

    def _sources_of(self, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``np.unique(src, return_inverse=True)``, kept for the next step with the same pairs."""
        seen = self._seen_src
        if seen is None or not np.array_equal(seen[0], src):
            seen = (src.copy(), *np.unique(src, return_inverse=True))
            self._seen_src = seen  # one assignment: a step on another thread sees the old or the new, whole
        return seen[1], seen[2]

    def step(self, r_sat_km: np.ndarray, src: np.ndarray, dst: np.ndarray, endpoint_active: np.ndarray | None = None) -> StepRoutes:
        """Routes at one instant. ``r_sat_km`` (N, 3) Earth-fixed km; ``src``, ``dst`` (P,)
        endpoint indices; ``endpoint_active`` (E,) bool (service policy: an inactive user has
        no ground link)."""
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        heads, tails, weights, up = self.edges(r_sat_km, endpoint_active)
        sources, row = self._sources_of(src)
        latency, path, hops = paths_to(csr_from_edges(heads, tails, weights, self.n_nodes), self._up0 + sources, row, self._dst0 + dst,
                                       node_ids=self.out_id)
        reach = hops >= 0
        fibre = np.zeros(latency.shape)
        if self.mode != "isl":
            # Right-aligned paths end ..., gateway, PoP, destination (gateways and PoPs keep their graph ids).
            gw = path[reach, -3] - self._gw0
            pop = path[reach, -2] - self._pop0
            fibre[reach] = self.gw_fibre_m[gw] + self.pop_dst_fibre_m[pop, dst[reach]]
        length = latency - (FIBRE_REFRACTIVE_INDEX - 1.0) * fibre
        return StepRoutes(latency, length, fibre, path, hops, up)


@dataclass
class Routes:
    """Routes over time for ``P`` pairs at ``T`` instants: ``t_ns`` (T,); ``src``, ``dst`` (P,)
    endpoint indices and ``src_id``, ``dst_id`` (P,) output node ids; ``length_m``,
    ``fibre_m``, ``rtt_ms`` (T, P) (NaN when unreachable); ``hops`` (T, P) (-1 when
    unreachable); ``paths``: T arrays (P, H_t) of int32 node ids, right-aligned (a path is the last ``hops + 1``
    entries of its row, -1 before), or None where the run handed each step's paths to a writer
    and did not keep them; ``changed`` (T, P) bool: the path differs from the previous step's
    (:meth:`path_changed`); ``laser_up`` (T, L)
    bool; ``laser_links`` (L, 2); ``gc_km`` (P,) great-circle distance between the endpoints."""

    t_ns: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    src_id: np.ndarray
    dst_id: np.ndarray
    length_m: np.ndarray
    fibre_m: np.ndarray
    rtt_ms: np.ndarray
    hops: np.ndarray
    paths: list[np.ndarray] | None
    laser_up: np.ndarray
    laser_links: np.ndarray
    gc_km: np.ndarray
    changed: np.ndarray
    notes: list[str] = field(default_factory=list)

    def kept_paths(self) -> list[np.ndarray]:
        """``paths``, or an :class:`InputError` where the run did not keep them (``keep_paths=False``,
        e.g. routes written to a file as they were computed)."""
        if self.paths is None:
            raise InputError("the paths of these routes were not kept (they were written to a file as the routes were computed); "
                             "route again without an output file to keep them")
        return self.paths

    @property
    def fibre_rtt_ms(self) -> np.ndarray:
        """Great-circle fibre RTT (refractive index 1.468) per pair, (P,) ms."""
        return fibre_rtt_ms(self.gc_km)

    @property
    def fibre_ratio(self) -> np.ndarray:
        """RTT over the network divided by the great-circle fibre RTT, (T, P)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.rtt_ms / self.fibre_rtt_ms[None, :]

    def path_changed(self) -> np.ndarray:
        """(T, P) bool: the path differs from the previous step's (False at the first step;
        becoming reachable or unreachable counts as a change)."""
        return self.changed.copy()

    def path_changes(self) -> np.ndarray:
        """Number of path changes per pair over the run, (P,)."""
        return self.changed.sum(axis=0)

    def broken_links(self) -> list[tuple[int, int, int]]:
        """Laser links that go down at a step after being up at the previous one:
        ``(t_ns, a, b)`` sorted by time."""
        went = ~self.laser_up[1:] & self.laser_up[:-1]
        ti, li = np.nonzero(went)
        return [(int(self.t_ns[t + 1]), int(self.laser_links[l, 0]), int(self.laser_links[l, 1])) for t, l in zip(ti, li)]

    def overview(self) -> dict:
        """All pairs at once: ``reachable`` (fraction of (pair, step)), ``ratio_to_fibre_median``
        (median over pairs of each pair's median ratio to the great-circle fibre RTT) and
        ``path_changes`` (in all): :meth:`summary`'s figures for many pairs, without its other
        columns."""
        with _quiet_nans():
            ratio = float(np.nanmedian(nanmedian_columns(self.fibre_ratio))) if self.hops.size else float("nan")
        return {"reachable": float((self.hops >= 0).mean()) if self.hops.size else float("nan"), "ratio_to_fibre_median": ratio,
                "path_changes": int(self.path_changes().sum())}

    def summary(self) -> list[dict]:
        """Per pair: RTT min/median/max ms, hops median, path changes, median ratio to fibre,
        fraction of steps reachable."""
        changes = self.path_changes()
        reach = self.hops >= 0
        with _quiet_nans():
            rmin, rmed, rmax = np.nanmin(self.rtt_ms, 0), nanmedian_columns(self.rtt_ms), np.nanmax(self.rtt_ms, 0)
            ratio = nanmedian_columns(self.fibre_ratio)
            hops_med = nanmedian_columns(np.where(reach, self.hops, np.nan))  # NaN where never reachable
        cols = {
            "src": self.src_id.astype(int).tolist(), "dst": self.dst_id.astype(int).tolist(), "reachable": reach.mean(axis=0).tolist(),
            "rtt_ms_min": rmin.tolist(), "rtt_ms_median": rmed.tolist(), "rtt_ms_max": rmax.tolist(), "hops_median": hops_med.tolist(),
            "path_changes": changes.astype(int).tolist(), "fibre_rtt_ms": self.fibre_rtt_ms.tolist(), "ratio_to_fibre_median": ratio.tolist(),
        }
        return [dict(zip(cols, row)) for row in zip(*cols.values())]


@contextmanager
def _quiet_nans() -> Iterator[None]:
    """NumPy's warnings for NaN-only columns (a pair never reachable) silenced: they are NaN by design."""
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@njit(cache=True)
def _paths_differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """(P,) bool: rows of the right-aligned paths ``a`` (P, Ha) and ``b`` (P, Hb) that differ
    once both are padded on the left with -1 to one width (compared from the right, each row
    stopping at its first difference or where both have ended)."""
    p_count, wa, wb = a.shape[0], a.shape[1], b.shape[1]
    out = np.zeros(p_count, dtype=np.bool_)
    for p in range(p_count):
        for j in range(1, max(wa, wb) + 1):
            x = a[p, wa - j] if j <= wa else -1
            y = b[p, wb - j] if j <= wb else -1
            if x != y:
                out[p] = True
                break
            if x < 0:  # both ended: the -1 padding is all that is left
                break
    return out


def nanmedian_columns(x: np.ndarray) -> np.ndarray:
    """``np.nanmedian(x, axis=0)`` of a (T, P) array, the same values (the middle one, or the
    two middle ones' sum halved; NaN for a column of NaN), from one sort along axis 0: NumPy
    takes a masked-array path for T < 600 that costs ~20x more."""
    if not x.shape[0]:
        return np.full(x.shape[1], np.nan)
    s = np.sort(x, axis=0)  # NaN last
    count = (~np.isnan(x)).sum(axis=0)
    cols = np.arange(x.shape[1])
    out = (s[np.maximum(count - 1, 0) // 2, cols] + s[count // 2, cols]) / 2.0
    out[count == 0] = np.nan
    return out


def route_series(
    router: Router,
    satellites: Satellites | Sequence[Satrec],
    t_ns: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    endpoint_active: np.ndarray | None = None,
    times_per_chunk: int = 64,
    progress=None,
    eop=None,
    on_step: Callable[[StepRows], None] | None = None,
    keep_paths: bool = True,
) -> Routes:
    """Route ``src[p] -> dst[p]`` (endpoint indices, (P,)) at every instant of ``t_ns`` (T,).

    ``satellites``: any :class:`~leonet.orbits.satellites.Satellites` (or SGP4 models), in
    the router's satellite order, positioned a chunk of instants at a time; only serving states
    carry traffic. ``endpoint_active`` (E, T) bool applies the service policy (see
    :meth:`Router.step`).
    ``eop``: the Earth orientation of the ITRF (default the true one, UT1); Hypatia's scenarios
    use :func:`leonet.orbits.eop.utc_as_ut1` (see :mod:`leonet.network.hypatia`).
    ``on_step``: called with each instant's :class:`StepRows` as soon as it is routed (e.g. a
    CSV writer). ``keep_paths=False``: the paths are not kept (``Routes.paths`` is None; the
    path changes are kept either way), so memory does not grow with the paths of every instant.
    """
    sats = as_satellites(satellites)
    if len(sats) != router.n_sats:
        raise InputError(f"the router has {router.n_sats} satellites but {len(sats)} were given")
    t = np.atleast_1d(np.asarray(t_ns, dtype=np.int64))
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    e = len(router.endpoints)
    if src.shape != dst.shape or src.ndim != 1:
        raise InputError(f"src and dst must be (P,) arrays of the same length, got {src.shape} and {dst.shape}")
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= e):
        raise InputError(f"src/dst must be endpoint indices in 0..{e - 1}")
    if endpoint_active is not None and np.shape(endpoint_active) != (e, t.size):
        raise InputError(f"endpoint_active has shape {np.shape(endpoint_active)}; expected ({e}, {t.size})")
    tn, p = t.size, src.size
    length = np.full((tn, p), np.nan)
    fibre = np.full((tn, p), np.nan)
    rtt = np.empty((tn, p))
    hops = np.full((tn, p), -1, dtype=np.int64)
    laser_up = np.zeros((tn, len(router.links)), bool)
    paths: list[np.ndarray] = []
    changed = np.zeros((tn, p), bool)  # the first step's stay False
    n = router.n_sats
    src_id, dst_id = n + src, n + dst
    last = None
    for c0 in range(0, tn, times_per_chunk):
        chunk = t[c0 : c0 + times_per_chunk]
        if eop is None:
            r = sats.at(chunk).serving_positions()
        else:  # another Earth orientation (Hypatia's UT1 = UTC): TEME states turned with it
            r, _ = teme_to_itrf(sats.at(chunk, "teme").serving_positions(), None, gmst82_rad(chunk, eop))
        for j in range(chunk.size):
            k = c0 + j
            st = router.step(np.ascontiguousarray(r[:, j]), src, dst, None if endpoint_active is None else endpoint_active[:, k])
            ok = np.isfinite(st.latency_m)
            np.copyto(length[k], st.length_m, where=ok)  # in place: no boolean-index temporaries
            np.copyto(fibre[k], st.fibre_m, where=ok)
            # 2 * (length + (n - 1) * fibre) / c * 1e3 in place, in this order (the bits every
            # writer and test expect)
            row = np.multiply(fibre[k], FIBRE_REFRACTIVE_INDEX - 1.0, out=rtt[k])
            row += length[k]
            row *= 2.0
            row /= C_M_S
            row *= 1e3
            hops[k] = st.hops
            laser_up[k] = st.laser_up
            if keep_paths:
                paths.append(st.path)
            if last is not None:  # compared while both are in cache; over time steps, all pairs at once
                changed[k] = _paths_differ(last, st.path)
            last = st.path
            if on_step is not None:
                on_step(StepRows(int(t[k]), src_id, dst_id, router.id_bound, hops[k], st.path, length[k], rtt[k]))
            if progress:
                progress(1)
    ep = router.endpoints
    gc = great_circle_km(ep.lat_deg[src], ep.lon_deg[src], ep.lat_deg[dst], ep.lon_deg[dst])
    return Routes(t, src, dst, src_id, dst_id, length, fibre, rtt, hops, paths if keep_paths else None, laser_up, router.links, gc, changed)


def endpoint_activity(policy, endpoints: GroundPoints, t_ns: np.ndarray, res: int = 5) -> np.ndarray:
    """Service state ``(E, T)`` bool of each endpoint at each instant under a
    :class:`~leonet.policy.model.ServicePolicy`: the state of the H3 cell (resolution ``res``)
    holding the endpoint."""
    import h3

    # One H3 lookup per endpoint (setup, not per step); h3 has no array form of latlng_to_cell.
    cells = np.array([h3.str_to_int(h3.latlng_to_cell(float(la), float(lo), res)) for la, lo in zip(endpoints.lat_deg, endpoints.lon_deg)], dtype=np.uint64)
    return policy.active(cells, res, np.atleast_1d(np.asarray(t_ns, dtype=np.int64)))
