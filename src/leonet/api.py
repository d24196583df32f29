"""The front door: one function per question, the same ones the ``leonet`` command calls.

>>> import leonet
>>> c = leonet.load("preset:starlink-gen1")
>>> grid = leonet.TimeGrid("2025-01-01T00:00:00Z", "10min", "60s")
>>> c.at(grid).itrf_km.shape
(4408, 10, 3)

Every function takes satellites as a :class:`~leonet.orbits.satellites.Satellites` (what
:func:`load` returns, launch batches, or both joined with :func:`leonet.join`) and times as a
:class:`~leonet.times.TimeGrid` (or ISO text where a single instant or window is asked for).
Results keep their arrays and give ``to_arrow()`` / ``to_pandas()`` with exactly the rows and
columns the matching CLI command writes. Nothing here prints; long work reports through
``progress(n)`` callbacks.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from leonet.coverage.passes import Passes, default_coarse_step_s, find_passes
from leonet.coverage.regional import RegionalResult, build_area, run_regional
from leonet.deployment.batch import as_satellites
from leonet.errors import InputError
from leonet.export.results import coverage_table, passes_table, routes_table, write_passes, write_routes
from leonet.ground.regions import Region
from leonet.jobs.regional import ScenarioRun
from leonet.jobs.regional import run_scenario as _run_scenario
from leonet.network.run import RouteRun, run_routes
from leonet.orbits.satellites import Satellites, SatelliteUnion
from leonet.policy.model import ServicePolicy
from leonet.sources.constellation import Constellation
from leonet.sources.fleet import DEFAULT_SERVING as SERVING_STATES  # operational: who serves users by default
from leonet.times import NS_PER_S, TimeGrid, parse_duration, parse_time

log = logging.getLogger("leonet")


def load(
    sources: str | Path | Sequence[str | Path],
    *,
    epoch: str | int | datetime | None = None,
    repair_checksums: bool = False,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
) -> Constellation:
    """Element sets as a :class:`~leonet.sources.constellation.Constellation`: TLE/OMM files
    (gzip too), ``http(s)://`` URLs, ``celestrak:GROUP`` (downloaded and cached) or
    ``preset:NAME`` filed shells (generated at ``epoch``). Several sources are joined; a
    catalogue number seen twice keeps its newest epoch. ``.report`` says what was read,
    rejected (file, line, reason) and dropped."""
    from leonet.sources.load import load as _load

    items = [str(s) for s in sources] if isinstance(sources, (list, tuple)) else [str(sources)]
    c = _load(items, repair_checksums=repair_checksums, cache_dir=cache_dir, refresh=refresh,
              epoch=None if epoch is None else parse_time(epoch))
    if not len(c):
        shown = "; ".join(str(r) for r in c.report.rejected[:3])
        raise InputError(f"no usable satellites were loaded ({c.report.summary()})" + (f": {shown}" if shown else ""))
    return c


# ---- coverage ---------------------------------------------------------------------------
@dataclass
class Coverage:
    """Regional coverage: ``result`` (:class:`~leonet.coverage.regional.RegionalResult`: counts
    ``(cells, times)``, figures of merit, the cells in ``result.area``); ``policy_applied``:
    whether ``cells_covered`` counts only active cells."""

    result: RegionalResult
    policy_applied: bool = False
    left_out: dict[str, int] = dataclasses.field(default_factory=dict)
    serving_note: str = ""

    def to_arrow(self):
        """One row per (time, region): ``time_utc, region, cells, cells_covered,
        sats_in_view_min, sats_in_view_mean, sats_in_view_max, sats_overhead``."""
        return coverage_table(self.result, served_only=self.policy_applied)

    def to_pandas(self):
        return self.to_arrow().to_pandas()


def coverage(
    satellites: Satellites,
    regions: str | Sequence[str | Region],
    grid: TimeGrid,
    *,
    h3_res: int = 5,
    min_elevation_deg: float = 25.0,
    max_range_km: float | None = None,
    policy: ServicePolicy | None = None,
    policy_db: str | None = None,
    allow_stale_elements: bool = False,
    states: str | Sequence[str] | None = SERVING_STATES,
    progress: Callable[[int], None] | None = None,
) -> Coverage:
    """Satellites in view of every H3 cell of ``regions`` (country codes such as ``["TWN"]``,
    GeoJSON files, or :class:`~leonet.ground.regions.Region` objects) at every instant of
    ``grid``, above ``min_elevation_deg`` (and within ``max_range_km``). With a ``policy`` or a
    control-plane ``policy_db``, ``cells_covered`` counts only cells active at that time.
    Element sets more than 90 days from the grid are refused unless ``allow_stale_elements``.
    Only satellites in ``states`` serve (default operational; ``None`` for all; see
    :func:`serving_satellites`). ``progress`` gets the number of instants done."""
    grid = _grid(grid)
    check_element_age(as_satellites(satellites), grid.start_ns, grid.t_ns[-1], allow_stale_elements)
    sats, left, note = serving_satellites(satellites, states)
    specs = [regions] if isinstance(regions, (str, Region)) else list(regions)
    if not specs:
        raise InputError("give at least one region, e.g. ['TWN'] or ['TW', 'JP']")
    if not isinstance(h3_res, (int, np.integer)) or isinstance(h3_res, bool) or not 0 <= h3_res <= 15:
        raise InputError(f"h3_res {h3_res!r} must be an integer in 0..15 (Starlink's service cells are 5)")
    if not 0.0 <= float(min_elevation_deg) <= 90.0:
        raise InputError(f"min_elevation_deg {min_elevation_deg} must be in 0..90")
    if policy is not None and policy_db is not None:
        raise InputError("give a policy or a policy_db, not both")
    if policy_db:
        from leonet.control import load_policy

        policy = load_policy(policy_db)
    targets = tuple(dict.fromkeys(s if isinstance(s, Region) else Region.from_spec(str(s).strip()) for s in specs))
    area = build_area(_unique_regions(targets), h3_res, 0.0)
    res = run_regional(sats, area, grid.t_ns, policy or ServicePolicy.active_everywhere(), min_elevation_deg, max_range_km, progress=progress)
    return Coverage(res, policy_applied=policy is not None, left_out=left, serving_note=note)


def _unique_regions(regions: Sequence[Region]) -> tuple[Region, ...]:
    """One entry per region key ('TW' and 'TWN' are one country)."""
    seen: dict[str, Region] = {}
    for r in regions:
        seen.setdefault(r.key, r)
    return tuple(seen.values())


# ---- estimates: checked before long work ---------------------------------------------------
#: Bytes per (satellite, instant) state kept: ITRF position (3 float64) and an error code.
STATE_BYTES = 25
#: Bytes per (cell, instant) of a coverage run: counts, activity, service and figure-of-merit work.
CELL_STEP_BYTES = 16
#: Instants a coverage run propagates at once (see leonet.coverage.regional.TIME_CHUNK).
_CHUNK = 240


def estimate_states(n_sats: int, n_times: int, velocities: bool = False) -> dict:
    """Memory of propagating ``n_sats`` x ``n_times`` states (what ``leonet propagate`` keeps)."""
    states = int(n_sats) * int(n_times)
    per = STATE_BYTES + (24 if velocities else 0)
    return {"what": f"{n_sats:,} satellites x {n_times:,} instants = {states:,} states", "states": states, "bytes": states * per}


def estimate_coverage(n_sats: int, regions: Sequence[str | Region], grid: TimeGrid, h3_res: int = 5) -> dict:
    """Cells and memory of a coverage run, without building the cells: counted at resolution 3
    (or ``h3_res`` if coarser) and scaled by 7 per finer resolution."""
    coarse = min(int(h3_res), 3)
    cells = 0
    for spec in regions:
        r = spec if isinstance(spec, Region) else Region.from_spec(str(spec).strip())
        cells += len(r.cells_at(coarse)) * 7 ** (int(h3_res) - coarse)
    steps = len(grid)
    need = cells * steps * CELL_STEP_BYTES + int(n_sats) * min(steps, _CHUNK) * STATE_BYTES
    return {"what": f"about {cells:,} cells at H3 resolution {h3_res} x {steps:,} instants, {n_sats:,} satellites",
            "cells": cells, "bytes": need}


# ---- routes -----------------------------------------------------------------------------
@dataclass
class Route:
    """Routes over time (:class:`~leonet.network.run.RouteRun`: ``run.routes`` has ``rtt_ms``
    ``(times, pairs)``, hops, paths; ``run.router`` numbers the nodes)."""

    run: RouteRun

    def to_arrow(self):
        """One row per (time, pair): ``t_ns, src, dst, hops, path, length_m, rtt_ms`` (``t_ns``
        from the grid's start; nulls for an unreachable pair)."""
        return routes_table(self.run)

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    def summary(self) -> list[dict]:
        """Per pair: reachability, RTT min/median/max, hops, path changes, ratio to fibre."""
        return self.run.routes.summary()

    def write(self, path: str | Path) -> int:
        """The CSV of ``leonet route`` and its ``.nodes.csv``; returns the rows written."""
        return write_routes(self.run, path)[0]


def route(
    satellites: Satellites,
    src: str | None = None,
    dst: str | None = None,
    grid: TimeGrid | None = None,
    *,
    mode: str = "isl",
    all_pairs: bool = False,
    cities: int = 100,
    min_elevation_deg: float = 25.0,
    max_range_km: float | None = None,
    isl_max_range_km: float | None = None,
    min_grazing_alt_km: float = 80.0,
    gateways: str | Path | None = None,
    inactive: Sequence[str] | str = (),
    allow_stale_elements: bool = False,
    states: str | Sequence[str] | None = SERVING_STATES,
    progress: Callable[[int], None] | None = None,
) -> Route:
    """Shortest-latency routes from ``src`` to ``dst`` (a city name, 'lat,lon', or a gateway /
    PoP name) at every instant of ``grid``, or between every ordered pair of the ``cities`` most
    populous cities with ``all_pairs``. ``mode``: 'isl' (up, lasers, down), 'bentpipe'
    (user-satellite-gateway in one footprint, then fibre) or 'gateway' (user to gateway over
    lasers, then fibre). ``inactive``: countries where service is off (their users get no
    route). ``gateways``: a gateways/PoPs file (default: the packaged set). Only satellites in
    ``states`` carry traffic (default operational; ``None`` for all); node ids number those."""
    if grid is None:
        raise InputError("give the time grid: leonet.TimeGrid(start, duration, step)")
    grid = _grid(grid)
    endpoints, pairs, options, notes = route_inputs(src, dst, mode=mode, all_pairs=all_pairs, cities=cities, min_elevation_deg=min_elevation_deg,
                                                    max_range_km=max_range_km, isl_max_range_km=isl_max_range_km,
                                                    min_grazing_alt_km=min_grazing_alt_km, gateways=gateways, inactive=inactive)
    check_element_age(as_satellites(satellites), grid.start_ns, grid.t_ns[-1], allow_stale_elements)
    sats, _, serving_note = serving_satellites(satellites, states)
    run = run_routes(sats, endpoints, grid.t_ns, pairs=pairs, progress=progress, **options)
    run.notes[:0] = [*notes, serving_note]
    return Route(run)


def route_inputs(
    src: str | None,
    dst: str | None,
    *,
    mode: str = "isl",
    all_pairs: bool = False,
    cities: int = 100,
    min_elevation_deg: float = 25.0,
    max_range_km: float | None = None,
    isl_max_range_km: float | None = None,
    min_grazing_alt_km: float = 80.0,
    gateways: str | Path | None = None,
    inactive: Sequence[str] | str = (),
) -> tuple[object, tuple[np.ndarray, np.ndarray] | None, dict, list[str]]:
    """What :func:`route` routes, resolved and checked: ``(endpoints, pairs, run_routes
    options, notes)`` (also for partitioned routing runs, :mod:`leonet.scale.routes`)."""
    from leonet.ground.cities import top_cities
    from leonet.ground.gateways import load_gateways
    from leonet.network.links import DEFAULT_ISL_MAX_RANGE_KM
    from leonet.network.routing import LinkRule

    if all_pairs == bool(src or dst) or (not all_pairs and not (src and dst)):
        raise InputError("give either src and dst, or all_pairs=True")
    sites = load_gateways(gateways) if (mode != "isl" or not all_pairs) else None
    notes: list[str] = []
    if all_pairs:
        cs = top_cities(cities)
        from leonet.ground.points import GroundPoints

        endpoints = GroundPoints.from_geodetic(cs.lat_deg, cs.lon_deg, 0.0, name=[f"{n}, {c}" for n, c in zip(cs.name, cs.country_a2)])
        pairs = None
    else:
        endpoints = _endpoints([src, dst], sites, notes)
        if endpoints.lat_deg[0] == endpoints.lat_deg[1] and endpoints.lon_deg[0] == endpoints.lon_deg[1]:
            raise InputError(f"{src!r} and {dst!r} are the same place ({endpoints.name[0]}); give two different places")
        pairs = (np.array([0]), np.array([1]))
    codes = [c.strip() for c in (inactive.split(",") if isinstance(inactive, str) else inactive) if c.strip()]
    options = {"mode": mode, "user_links": LinkRule(min_elevation_deg, max_range_km),
               "isl_max_range_km": DEFAULT_ISL_MAX_RANGE_KM if isl_max_range_km is None else isl_max_range_km,
               "min_grazing_alt_km": min_grazing_alt_km, "sites": sites, "inactive": tuple(codes)}
    return endpoints, pairs, options, notes


def route_hypatia(
    folder: str | Path,
    src: str | None = None,
    dst: str | None = None,
    *,
    duration: str,
    step: str,
    start: str | int | None = None,
    all_pairs: bool = False,
    mode: str = "isl",
    max_range_km: float | None = None,
    isl_max_range_km: float | None = None,
    min_grazing_alt_km: float = 80.0,
    gateways: str | Path | None = None,
    inactive: Sequence[str] | str = (),
    time_convention: str = "hypatia",
    progress: Callable[[int], None] | None = None,
) -> Route:
    """Routes on a Hypatia (satgenpy) scenario folder with its own satellites, laser links,
    ground stations (Hypatia's node ids) and link-length limits. ``start`` defaults to the
    scenario's TLE epoch; ``src``/``dst`` are station names or places within 100 km of one.
    ``time_convention``: 'hypatia' (Earth rotation at UTC, as satgenpy) or 'ut1' (the true
    Earth); see :mod:`leonet.network.hypatia`."""
    from leonet.ground.gateways import load_gateways
    from leonet.network.hypatia import hypatia_earth_orientation, read_hypatia
    from leonet.network.routing import LinkRule

    if all_pairs == bool(src or dst) or (not all_pairs and not (src and dst)):
        raise InputError("give either src and dst, or all_pairs=True")
    scen = read_hypatia(folder)
    grid = TimeGrid(scen.epoch_ns if start is None else start, duration, step)
    notes: list[str] = []
    ground = scen.ground
    pairs = None if all_pairs else (np.array([_hypatia_station(src, ground, notes)]), np.array([_hypatia_station(dst, ground, notes)]))
    rule = LinkRule(None, scen.max_gsl_length_m / 1e3 if max_range_km is None else max_range_km)
    codes = [c.strip() for c in (inactive.split(",") if isinstance(inactive, str) else inactive) if c.strip()]
    run = run_routes(scen.constellation, ground, grid.t_ns, pairs=pairs, mode=mode, user_links=rule,
                     isl_max_range_km=scen.max_isl_length_m / 1e3 if isl_max_range_km is None else isl_max_range_km,
                     min_grazing_alt_km=min_grazing_alt_km, sites=load_gateways(gateways) if mode != "isl" else None,
                     laser_links=scen.isls, inactive=codes, progress=progress, eop=hypatia_earth_orientation(time_convention))
    run.notes[:0] = notes
    return Route(run)


def _endpoints(texts: Sequence[str], sites, notes: list[str]):
    """Endpoints by name: a gateway or PoP of ``sites`` first, else a city or 'lat,lon'."""
    from leonet.ground.cities import normalize_name, resolve_place
    from leonet.ground.points import GroundPoints

    names, lat, lon = [], [], []
    site_names = np.array([normalize_name(n) for n in sites.name]) if sites is not None else np.zeros(0, object)
    for text in texts:
        hits = np.flatnonzero(site_names == normalize_name(text))
        if hits.size:
            k = int(hits[0])
            names.append(str(sites.name[k]))
            lat.append(float(sites.lat_deg[k]))
            lon.append(float(sites.lon_deg[k]))
        else:
            place = resolve_place(text, notes)
            names.append(place.label)
            lat.append(place.lat_deg)
            lon.append(place.lon_deg)
    return GroundPoints.from_geodetic(np.array(lat), np.array(lon), 0.0, name=names)


def _hypatia_station(text: str, ground, notes: list[str]) -> int:
    """A Hypatia ground station by name (case and punctuation ignored) or the nearest one to a
    city or 'lat,lon' (within 100 km)."""
    from leonet.geometry import great_circle_km
    from leonet.ground.cities import normalize_name, resolve_place

    key = normalize_name(text)
    for k, n in enumerate(normalize_name(str(x)) for x in ground.name):
        if n == key or n.startswith(key + " "):
            return k
    place = resolve_place(text, notes)
    d = great_circle_km(place.lat_deg, place.lon_deg, ground.lat_deg, ground.lon_deg)
    k = int(np.argmin(d))
    if d[k] > 100.0:
        raise InputError(f"{text!r} ({place.label}) is {d[k]:.0f} km from the nearest ground station of the Hypatia scenario ({ground.name[k]}); use one of its station names")
    return k


# ---- passes -----------------------------------------------------------------------------
@dataclass
class PassList:
    """Passes over one place (:class:`~leonet.coverage.passes.Passes` in ``passes``) and the
    catalogue numbers of the satellites they index (``norad_id``)."""

    passes: Passes
    norad_id: np.ndarray
    left_out: dict[str, int] = dataclasses.field(default_factory=dict)
    serving_note: str = ""

    def __len__(self) -> int:
        return len(self.passes)

    def to_arrow(self):
        """One row per pass: ``norad_id, rise_utc, culminate_utc, set_utc, max_elevation_deg``."""
        return passes_table(self.passes, self.norad_id)

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    def write(self, path: str | Path) -> int:
        """The CSV of ``leonet passes``; returns the rows written."""
        return write_passes(self.passes, self.norad_id, path)


def passes(
    satellites: Satellites,
    *,
    lat_deg: float,
    lon_deg: float,
    start: str | int | datetime,
    duration: str | int,
    alt_m: float = 0.0,
    min_elevation_deg: float = 25.0,
    coarse_step: str | None = None,
    allow_stale_elements: bool = False,
    states: str | Sequence[str] | None = SERVING_STATES,
    progress: Callable[[int], None] | None = None,
) -> PassList:
    """Rise, culmination and set of every pass above ``min_elevation_deg`` over a WGS84 point
    in ``[start, start + duration]``, refined to 0.01 s. ``coarse_step``: the first search's
    step (default from the fastest satellite, 5-30 s). Passes are for service: only satellites
    in ``states`` count (default operational; ``None`` for every satellite, e.g. to watch one
    raising). ``progress`` gets states done."""
    sats, left, note = serving_satellites(satellites, states)
    if not -90.0 <= float(lat_deg) <= 90.0 or not -180.0 <= float(lon_deg) <= 360.0:
        raise InputError(f"lat_deg {lat_deg} must be in [-90, 90] and lon_deg {lon_deg} in [-180, 360]")
    t0 = parse_time(start)
    t1 = t0 + parse_duration(duration)
    check_element_age(sats, t0, t1, allow_stale_elements)
    step_s = parse_duration(coarse_step) / NS_PER_S if coarse_step is not None else default_coarse_step_s(sats, alt_m / 1000.0)
    found = find_passes(sats, lat_deg, lon_deg, alt_m / 1000.0, t0, t1, min_elevation_deg, step_s, progress=progress)
    return PassList(found, np.asarray(sats.norad_id), left, note)


def passes_work(satellites: Satellites, start: str | int, duration: str | int, coarse_step: str | None = None, alt_m: float = 0.0,
                states: str | Sequence[str] | None = SERVING_STATES) -> int:
    """How many coarse states :func:`passes` will compute (for a progress bar's total)."""
    sats = serving_satellites(satellites, states)[0]
    step_s = parse_duration(coarse_step) / NS_PER_S if coarse_step is not None else default_coarse_step_s(sats, alt_m / 1000.0)
    span = parse_duration(duration)
    return len(sats) * (-(-span // int(round(step_s * NS_PER_S))) + 1)


# ---- scenarios --------------------------------------------------------------------------
def run_scenario(
    scenario: str | Path,
    output_dir: str | Path | None = None,
    *,
    policy_db: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScenarioRun:
    """Run a scenario file (TOML; ``examples/taiwan.toml`` is the demo): coverage and service of
    its regions under its policy, and with service active everywhere for comparison. Returns
    the :class:`~leonet.jobs.regional.ScenarioRun` (``.summary()``, ``.border_effect()``,
    ``.result``, ``.baseline``). With ``output_dir`` its tables (Parquet, DuckDB) and HTML
    report are written there (see :func:`write_scenario`)."""
    run = _run_scenario(Path(scenario) if isinstance(scenario, str) else scenario, policy_db=policy_db, progress=progress)
    if output_dir is not None:
        write_scenario(run, output_dir)
    return run


def write_scenario(run: ScenarioRun, output_dir: str | Path, command_line: str | None = None) -> dict[str, Path]:
    """Write a scenario run: ``timeseries``, ``cells``, ``regions`` (and ``border``) as Parquet,
    a ``run`` table of what produced them (scenario, element sets and epochs, grid, mask, policy,
    version, ``command_line``), ``leonet.duckdb`` holding them all, and ``report.html``. Returns
    the paths (also in ``run.paths``)."""
    from leonet.export.metadata import run_metadata
    from leonet.export.tables import result_tables, write_tables
    from leonet.reports.regional import write_report

    out = Path(output_dir)
    sc = run.scenario
    meta = run_metadata(run.constellation, run.grid, command_line=command_line, scenario=str(sc.path or sc.name),
                        element_source=run.source, regions=list(sc.regions), h3_res=sc.h3_res, neighbours_within_km=sc.neighbours_within_km,
                        min_elevation_deg=sc.min_elevation_deg, max_range_km=sc.max_range_km, policy=run.result.policy.describe(),
                        launch_batches=len(sc.launches), notes=run.notes)
    paths = write_tables(result_tables(run.result, run.baseline, sc.beam_radius_km), out, meta)
    paths["report"] = write_report(out / "report.html", sc.name, sc.description, run.result, run.baseline, sc.beam_radius_km, run.facts())
    run.paths = paths
    return paths


def serving_satellites(satellites: Satellites, states: str | Sequence[str] | None = SERVING_STATES) -> tuple[Satellites, dict[str, int], str]:
    """The satellites that serve: of every SGP4 part, those whose operational state
    (:func:`leonet.sources.fleet.infer_fleet`) is in ``states`` (``None``: all); launch batches
    keep their own rule (serving once at their shell). Returns (satellites, left out per state,
    a summary line)."""
    from leonet.orbits.satellites import join
    from leonet.sources.fleet import serving

    sats = as_satellites(satellites)
    if states is None:
        return sats, {}, f"all {len(sats):,} satellites serve (no state filter)"
    parts = sats.parts if isinstance(sats, SatelliteUnion) else (sats,)
    kept: list[Satellites] = []
    left: dict[str, int] = {}
    keep_states: tuple[str, ...] = ()
    for p in parts:
        if isinstance(p, Constellation):
            s = serving(p, states)
            kept.append(s.constellation)
            keep_states = s.states
            for k, n in s.left_out.items():
                left[k] = left.get(k, 0) + n
        else:
            kept.append(p)
    out = join(*[k for k in kept if len(k)]) if any(len(k) for k in kept) else kept[0]
    gone = ", ".join(f"{n:,} {k}" for k, n in left.items() if n) or "none"
    note = f"{len(out):,} of {len(sats):,} satellites serve (states: {', '.join(keep_states) or 'all'}); left out: {gone}"
    log.info(note)
    return out, left, note


def check_element_age(satellites: Satellites, start_ns: int, end_ns: int, allow: bool = False) -> list[str]:
    """The element-age check of :meth:`~leonet.sources.constellation.Constellation.stale_elements`
    for every SGP4 part of ``satellites``; warnings go to the ``leonet`` logger and are returned."""
    parts = satellites.parts if isinstance(satellites, SatelliteUnion) else (satellites,)
    notes = [n for p in parts if isinstance(p, Constellation) for n in p.stale_elements(int(start_ns), int(end_ns), allow=allow)]
    for n in notes:
        log.warning(n)
    return notes


def _grid(grid: TimeGrid) -> TimeGrid:
    if not isinstance(grid, TimeGrid):
        raise InputError(f"give the times as a leonet.TimeGrid(start, duration, step), not {type(grid).__name__}")
    return grid


__all__ = [
    "Coverage", "PassList", "Route", "ScenarioRun",
    "SERVING_STATES", "coverage", "estimate_coverage", "estimate_states", "load", "passes", "passes_work", "route", "route_hypatia", "run_scenario", "serving_satellites", "write_scenario",
]
