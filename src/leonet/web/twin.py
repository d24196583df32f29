"""What the dashboard shows, computed by the library: the loaded satellites at an instant as
compact binary arrays, one satellite's elements and passes, the service of chosen countries
under the policy in force, and routes with their RTT over time.

Nothing here knows HTTP: :mod:`leonet.web.app` wraps these in routes. Satellite positions are
geodetic ``(n, 3)`` float32 ``lon_deg, lat_deg, alt_km`` (NaN where SGP4 failed), 12 bytes
per satellite, so one instant of 10,744 satellites is 129 KB on the wire; the page interpolates
between two instants and does no orbital work itself.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import leonet.api as api
from leonet.coverage.regional import AnalysisArea, build_area, run_regional
from leonet.errors import InputError
from leonet.ground.regions import Region
from leonet.orbits.frames import itrf_to_geodetic
from leonet.policy.model import ServicePolicy
from leonet.sources.constellation import Constellation
from leonet.sources.fleet import STATES, Fleet, infer_fleet
from leonet.times import NS_PER_S, TimeGrid, format_time, parse_duration, parse_time
from leonet.web.results import cell_rings

MAX_COUNTRIES = 12  # per service map request: a request must stay interactive
MAX_ROUTE_STEPS = 240  # instants per route request
MAX_PASS_WINDOW_NS = 7 * 86_400 * NS_PER_S
BEAM_RADIUS_KM = 15.0  # the demo's user beam radius (see the README's border effect)


def iso(t_ns: int) -> str:
    return format_time(int(t_ns))


@dataclass
class CellGeometry:
    """The analysis area of some countries at one resolution, with outlines for drawing."""

    key: tuple
    area: AnalysisArea
    rings: list[list[list[float]]]  # per cell, its outer ring [[lon, lat], ...]

    def as_json(self) -> dict:
        a = self.area
        targets = np.isin(a.region, [r.key for r in a.targets])
        return {"cells": [format(int(c), "x") for c in a.cells], "region": [str(r) for r in a.region], "target": targets.tolist(),
                "population": np.round(a.population).astype(np.int64).tolist(), "rings": self.rings, "h3_res": a.res}


class Twin:
    """The satellites one ``leonet serve`` shows (``None``: none loaded) and caches of its work."""

    def __init__(self, satellites: Constellation | None, sources: Sequence[str] = ()) -> None:
        self.c = satellites
        self.sources = tuple(sources)
        self._lock = threading.Lock()
        self._areas: OrderedDict[tuple, CellGeometry] = OrderedDict()
        self._positions: OrderedDict[int, bytes] = OrderedDict()

    @classmethod
    def load(cls, sources: Sequence[str]) -> Twin:
        """Load element sets (files, URLs, ``celestrak:GROUP``, ``preset:NAME``) as ``leonet.load`` does."""
        if not sources:
            return cls(None)
        return cls(api.load(list(sources)), sources)

    def need(self) -> Constellation:
        if self.c is None:
            raise InputError("no satellites are loaded: start the server with `leonet serve --elements FILE|URL|preset:NAME`")
        return self.c

    @cached_property
    def fleet(self) -> Fleet:
        return infer_fleet(self.need())

    @cached_property
    def serving(self) -> Constellation:
        """Satellites in the operational state: those that serve cells and carry routes."""
        return api.serving_satellites(self.need())[0]

    # ---- constellation -----------------------------------------------------------------
    def index(self) -> dict:
        """Fetched once by the page: per satellite (in the order of every positions array) its
        catalogue number, shell (-1 none) and state index, plus the shells, the states and a
        default time (the newest element epoch, on the minute)."""
        if self.c is None:
            return {"count": 0, "sources": [], "states": list(STATES), "shells": []}
        c, f = self.c, self.fleet
        state_idx = np.searchsorted(np.array(STATES), f.state.astype(str), sorter=np.argsort(STATES))
        order = np.argsort(STATES)
        state_idx = order[state_idx]
        epochs = c.element_epoch_ns()
        default = int(epochs.max()) // (60 * NS_PER_S) * (60 * NS_PER_S)
        return {"count": len(c), "sources": list(self.sources), "norad_id": c.norad_id.astype(np.int64).tolist(),
                "shell": f.shell.astype(np.int64).tolist(), "state": state_idx.astype(np.int64).tolist(), "states": list(STATES),
                "shells": [dict(s) for s in f.shells], "counts": f.counts(), "default_time_utc": iso(default),
                "epoch_first_utc": iso(int(epochs.min())), "epoch_last_utc": iso(int(epochs.max()))}

    def positions(self, t: str | int) -> tuple[int, bytes]:
        """Every satellite at ``t``: ``(n, 3)`` float32 ``lon_deg, lat_deg, alt_km`` as bytes."""
        t_ns = parse_time(t)
        with self._lock:
            hit = self._positions.get(t_ns)
        if hit is not None:
            return t_ns, hit
        st = self.need().at(np.array([t_ns], dtype=np.int64))
        lat, lon, alt = itrf_to_geodetic(st.itrf_km[:, 0, :])
        out = np.column_stack([lon, lat, alt]).astype(np.float32)
        out[st.error[:, 0] != 0] = np.nan
        data = out.tobytes()
        with self._lock:
            self._positions[t_ns] = data
            while len(self._positions) > 64:
                self._positions.popitem(last=False)
        return t_ns, data

    def satellite(self, norad_id: int, t: str | int | None = None) -> dict:
        """One satellite: its elements, operational state (and why), shell and position at ``t``."""
        c, f = self.need(), self.fleet
        i = self._row(norad_id)
        rec = {"norad_id": int(c.norad_id[i]), "name": str(c.name[i]), "intl_designator": str(c.intl_designator[i]),
               "epoch_utc": iso(int(c.element_epoch_ns()[i])), "state": str(f.state[i]), "state_reason": str(f.reason[i]),
               "shell": int(f.shell[i]),
               "elements": {"inclination_deg": float(c.inclination_deg[i]), "raan_deg": float(c.raan_deg[i]), "eccentricity": float(c.eccentricity[i]),
                            "arg_perigee_deg": float(c.arg_perigee_deg[i]), "mean_anomaly_deg": float(c.mean_anomaly_deg[i]),
                            "mean_motion_rev_day": float(c.mean_motion_rev_day[i]), "period_min": float(c.period_min[i]),
                            "perigee_altitude_km": float(c.perigee_altitude_km[i]), "apogee_altitude_km": float(c.apogee_altitude_km[i])}}
        if t is not None:
            t_ns = parse_time(t)
            st = c.take(np.array([i])).at(np.array([t_ns], dtype=np.int64))
            lat, lon, alt = itrf_to_geodetic(st.itrf_km[:, 0, :])
            rec["position"] = {"time_utc": iso(t_ns), "lat_deg": float(lat[0]), "lon_deg": float(lon[0]), "alt_km": float(alt[0]),
                               "sgp4_error": int(st.error[0, 0])}
        return rec

    def _row(self, norad_id: int) -> int:
        hits = np.flatnonzero(self.need().norad_id == int(norad_id))
        if not hits.size:
            raise InputError(f"satellite {norad_id} is not in the loaded element sets; click one on the globe or give a catalogue number listed in /dash/index")
        return int(hits[0])

    def passes(self, norad_id: int, place: str, start: str | int, duration: str) -> dict:
        """Passes of one satellite over ``place`` (a city or 'lat,lon'), whatever its state."""
        from leonet.ground.cities import resolve_place

        span = parse_duration(duration)
        if not 0 < span <= MAX_PASS_WINDOW_NS:
            raise InputError(f"duration {duration!r} must be more than 0 and at most 7 days, e.g. 24h")
        p = resolve_place(place)
        one = self.need().take(np.array([self._row(norad_id)]))
        found = api.passes(one, lat_deg=p.lat_deg, lon_deg=p.lon_deg, start=start, duration=duration, states=None, allow_stale_elements=True)
        rows = found.to_pandas()
        out = []
        for r in rows.itertuples(index=False):
            out.append({"rise_utc": r.rise_utc.isoformat().replace("+00:00", "Z"), "culminate_utc": r.culminate_utc.isoformat().replace("+00:00", "Z"),
                        "set_utc": r.set_utc.isoformat().replace("+00:00", "Z"), "max_elevation_deg": round(float(r.max_elevation_deg), 2)})
        return {"place": p.label, "lat_deg": p.lat_deg, "lon_deg": p.lon_deg, "passes": out}

    # ---- coverage and service ------------------------------------------------------------
    def cell_geometry(self, countries: Sequence[str], h3_res: int = 5, neighbours_km: float = 0.0) -> CellGeometry:
        """The cells of ``countries`` (and of land within ``neighbours_km`` of them), cached."""
        if not countries:
            raise InputError("countries: give at least one country code, e.g. TWN")
        if len(countries) > MAX_COUNTRIES:
            raise InputError(f"countries: at most {MAX_COUNTRIES} at once (got {len(countries)})")
        if not 0 <= int(h3_res) <= 6:
            raise InputError(f"h3_res {h3_res} must be in 0..6 for the map (Starlink's service cells are 5)")
        if not 0.0 <= float(neighbours_km) <= 1000.0:
            raise InputError(f"neighbours_km {neighbours_km} must be in 0..1000")
        targets = tuple(dict.fromkeys(Region.from_spec(str(s).strip()) for s in countries))
        key = (tuple(r.key for r in targets), int(h3_res), float(neighbours_km))
        with self._lock:
            hit = self._areas.get(key)
        if hit is not None:
            return hit
        area = build_area(targets, int(h3_res), float(neighbours_km))
        rings = cell_rings(area.cells)
        geom = CellGeometry(key, area, rings)
        with self._lock:
            self._areas[key] = geom
            while len(self._areas) > 16:
                self._areas.popitem(last=False)
        return geom

    def service(self, geom: CellGeometry, t: str | int, policy: ServicePolicy, min_elevation_deg: float = 25.0) -> dict:
        """At ``t``: satellites in view of each cell, its state under ``policy``, served or not,
        the border-effect cells (active cells a user beam from them reaches into an inactive
        region) and the population of the target countries left without service."""
        if not 0.0 <= float(min_elevation_deg) <= 90.0:
            raise InputError(f"min_elevation_deg {min_elevation_deg} must be in 0..90")
        t_ns = parse_time(t)
        res = run_regional(self.serving, geom.area, np.array([t_ns], dtype=np.int64), policy, float(min_elevation_deg))
        counts, active, served = res.counts[:, 0], res.active[:, 0], res.served[:, 0]
        a = geom.area
        target = np.isin(a.region, [r.key for r in a.targets])
        effect = res.border_effect(BEAM_RADIUS_KM)
        border = np.isin(a.cells, np.concatenate([e["cells"] for e in effect])) if effect else np.zeros(len(a), bool)
        pop = a.population
        return {"time_utc": iso(t_ns), "policy": policy.name, "min_elevation_deg": float(min_elevation_deg),
                "sats_in_view": counts.astype(np.int64).tolist(), "active": active.tolist(), "served": served.tolist(), "border": border.tolist(),
                "summary": {"cells": int(target.sum()), "cells_served": int((served & target).sum()),
                            "cells_inactive": int((~active & target).sum()), "cells_no_satellite": int(((counts == 0) & target).sum()),
                            "population": float(pop[target].sum()), "population_not_served": float(pop[target & ~served].sum()),
                            "border_cells": int(border.sum()), "border_population": float(pop[border].sum()),
                            "sats_in_view_mean": float(counts[target].mean()) if target.any() else 0.0},
                "border_effect": [{k: v for k, v in e.items() if k != "cells"} for e in effect]}

    # ---- routes --------------------------------------------------------------------------
    def route(self, src: str, dst: str, start: str | int, duration: str, step: str, mode: str = "isl", inactive: Collection[str] = ()) -> dict:
        """``api.route`` between two places; per instant the RTT, hops and the path's nodes as
        ``[lon_deg, lat_deg, alt_km]`` for drawing."""
        grid = TimeGrid(start, duration, step)
        if len(grid) > MAX_ROUTE_STEPS:
            raise InputError(f"{len(grid)} instants: at most {MAX_ROUTE_STEPS} per route request; use a longer step or a shorter duration")
        r = api.route(self.need(), src, dst, grid, mode=mode, inactive=tuple(inactive), allow_stale_elements=True)
        run, routes = r.run, r.run.routes
        ground = [run.endpoints, run.router.gateways, run.router.pops]
        g_lon = np.concatenate([np.asarray(g.lon_deg, float) for g in ground])
        g_lat = np.concatenate([np.asarray(g.lat_deg, float) for g in ground])
        n = len(run.satellites)
        paths = routes.kept_paths()
        nodes = np.concatenate([np.asarray(p).ravel() for p in paths]) if paths else np.zeros(0, np.int64)
        used = np.unique(nodes[(nodes >= 0) & (nodes < n)]).tolist()
        pos = None
        if used:
            st = run.satellites.take(np.array(used)).at(routes.t_ns.astype(np.int64))
            lat, lon, alt = itrf_to_geodetic(st.itrf_km)
            pos = {s: k for k, s in enumerate(used)}
        steps = []
        for k, t_ns in enumerate(routes.t_ns):
            hops = int(routes.hops[k, 0])
            path = []
            if hops >= 0:
                for node in np.asarray(paths[k])[0, -(hops + 1):]:
                    node = int(node)
                    if node < n and pos is not None:
                        j = pos[node]
                        path.append([round(float(lon[j, k]), 4), round(float(lat[j, k]), 4), round(float(alt[j, k]), 2)])
                    else:
                        path.append([round(float(g_lon[node - n]), 4), round(float(g_lat[node - n]), 4), 0.0])
            rtt = routes.rtt_ms[k, 0]
            steps.append({"time_utc": iso(int(t_ns)), "rtt_ms": None if not np.isfinite(rtt) else round(float(rtt), 3), "hops": hops, "path": path})
        return {"src": str(run.endpoints.name[0]) if run.endpoints.name is not None else src, "dst": str(run.endpoints.name[1]) if run.endpoints.name is not None else dst,
                "mode": mode, "fibre_rtt_ms": round(float(routes.fibre_rtt_ms[0]), 3), "summary": r.summary(), "notes": list(run.notes), "steps": steps}


def countries_geojson(resolution: str = "50m", tolerance_deg: float = 0.05) -> bytes:
    """The packaged Natural Earth borders, simplified for drawing, as gzipped GeoJSON."""
    import shapely

    from leonet.ground.borders import load_countries

    cs = load_countries(resolution)
    feats = []
    for rec in cs.records:
        g = shapely.simplify(rec.geometry, tolerance_deg, preserve_topology=True)
        if g.is_empty:
            continue
        gj = shapely.geometry.mapping(g)
        feats.append({"type": "Feature", "properties": {"iso_a3": rec.iso_a3, "name": rec.name}, "geometry": _round(gj)})
    return gzip.compress(json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":")).encode(), 6)


def _round(gj: dict) -> dict:
    def r(x):  # noqa: ANN001
        if isinstance(x, (list, tuple)) and x and isinstance(x[0], float):
            return [round(v, 3) for v in x]
        return [r(v) for v in x]

    return {"type": gj["type"], "coordinates": r(gj["coordinates"])}
