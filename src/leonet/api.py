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
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from leonet.coverage.passes import Passes, default_coarse_step_s, find_passes
from leonet.coverage.regional import RegionalResult, build_area, run_regional
from leonet.cpu import ForkWorker, fork_call
from leonet.deployment.batch import as_satellites
from leonet.errors import InputError
from leonet.export.files import atomic_binary
from leonet.export.results import RouteCsvWriter, coverage_table, passes_table, routes_table, write_passes, write_route_nodes, write_routes
from leonet.ground.regions import Region
from leonet.jobs.regional import ScenarioRun
from leonet.jobs.regional import run_scenario as _run_scenario
from leonet.jobs.scenario import Scenario
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

    def cells_table(self):
        """One row per cell: ``h3_cell, region, lat_deg, lon_deg, population``, then the
        coverage and service figures of merit (``coverage_*``, ``service_*``): the ``cells``
        table of a scenario run."""
        from leonet.export.tables import cells_table

        return cells_table(self.result)

    def to_geojson(self) -> dict:
        """The cells as an RFC 7946 FeatureCollection (outlines cut at the antimeridian), with
        :meth:`cells_table`'s columns as properties (``leonet export geojson cells``)."""
        from leonet.export.geojson import cells_feature_collection

        r = self.result
        return cells_feature_collection(r.area.cells, self.cells_table(), leonet={
            "h3_res": r.area.res, "start_utc": _iso(r.t_ns[0]), "instants": len(r.t_ns), "step_s": r.step_s,
            "min_elevation_deg": r.min_elevation_deg, "policy": r.policy.describe(), "serving": self.serving_note})


def _iso(t_ns: int) -> str:
    from leonet.times import format_time

    return str(format_time(int(t_ns)))


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


# ---- capacity ---------------------------------------------------------------------------
@dataclass
class Capacity:
    """Capacity allocated to every cell at every instant (:class:`~leonet.capacity.run.CapacityResult`
    in ``result``: ``allocated_mbps`` ``(cells, times)``, ``region_summary()``,
    ``rule_effects()``)."""

    result: object
    left_out: dict[str, int] = dataclasses.field(default_factory=dict)
    serving_note: str = ""

    def to_arrow(self):
        """One row per (time, cell): ``time_utc, cell, region, demand_mbps, allocated_mbps,
        served_by, sold_out`` (what ``leonet capacity`` writes to OUT)."""
        from leonet.export.capacity import capacity_cells_table

        return capacity_cells_table(self.result)

    def regions_to_arrow(self):
        """One row per (time, region): ``time_utc, region, demand_mbps, allocated_mbps,
        share_met, cells_sold_out`` (``OUT.regions.<ext>``)."""
        from leonet.export.capacity import capacity_regions_table

        return capacity_regions_table(self.result)

    def rules_to_arrow(self):
        """One row per (policy rule, region): mean allocation with and without the rule
        (``OUT.rules.<ext>``)."""
        from leonet.export.capacity import capacity_rules_table

        return capacity_rules_table(self.result)

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    def summary(self) -> list[dict]:
        """Per region: mean demand and allocation (Mbps), share met, Mbps per subscriber, cells sold out."""
        return self.result.region_summary()


def capacity_inputs(regions, inactive, take_rate, fairness, h3_res, method="auto") -> tuple[tuple[Region, ...], tuple[Region, ...]]:
    """Check the options of :func:`capacity` (before any long work) and return the target
    regions and the inactive ones; errors name the option."""
    from leonet.capacity.run import FAIRNESS, METHODS

    specs = [regions] if isinstance(regions, (str, Region)) else list(regions)
    specs = [x for s in specs for x in ([s] if isinstance(s, Region) else [c.strip() for c in str(s).split(",") if c.strip()])]
    if not specs:
        raise InputError("--region needs at least one country code, e.g. --region TWN or --region TWN,JPN,PHL")
    targets = []
    for s in specs:
        try:
            targets.append(s if isinstance(s, Region) else Region.from_spec(s))
        except InputError as exc:
            raise InputError(f"--region {s}: {exc}") from None
    targets = list(_unique_regions(targets))
    codes = [c.strip() for c in (inactive.split(",") if isinstance(inactive, str) else inactive) if str(c).strip()]
    dark = []
    for c in codes:
        try:
            r = c if isinstance(c, Region) else Region.country(str(c))
        except InputError as exc:
            raise InputError(f"--inactive {c}: {exc}") from None
        if r.key not in {t.key for t in targets}:
            raise InputError(f"--inactive {c}: {r.name} ({r.key}) is not among the regions ({', '.join(t.key for t in targets)}); add it to --region")
        dark.append(r)
    if take_rate is not None and not (isinstance(take_rate, (int, float)) and 0.0 < float(take_rate) <= 1.0):
        raise InputError(f"--take-rate {take_rate}: must be in (0, 1], e.g. 0.02 for 2 % of the population")
    if fairness not in FAIRNESS:
        raise InputError(f"--fairness {fairness}: choose {' or '.join(FAIRNESS)}")
    if method not in METHODS:
        raise InputError(f"--method {method}: choose {', '.join(METHODS)}")
    if method == "flow" and fairness != "maxmin":
        raise InputError(f"--method flow gives max-min fairness only: use --method lp (or auto) with --fairness {fairness}")
    if not isinstance(h3_res, (int, np.integer)) or isinstance(h3_res, bool) or not 0 <= h3_res <= 15:
        raise InputError(f"--h3-res {h3_res!r} must be an integer in 0..15 (Starlink's service cells are 5)")
    return tuple(targets), tuple(dark)


def capacity(
    satellites: Satellites,
    regions: str | Sequence[str | Region],
    grid: TimeGrid,
    *,
    h3_res: int = 5,
    take_rate: float | None = None,
    fairness: str = "maxmin",
    inactive: Sequence[str] | str = (),
    policy: ServicePolicy | None = None,
    policy_db: str | None = None,
    method: str = "auto",
    gateways: str | Path | None = None,
    demand: str | Path | np.ndarray | None = None,
    generation: str | np.ndarray | None = None,
    params=None,
    backhaul: bool = True,
    rule_effects: bool = True,
    allow_stale_elements: bool = False,
    states: str | Sequence[str] | None = SERVING_STATES,
    stream: bool = False,
    chunk_instants: int = 32,
    progress: Callable[[int], None] | None = None,
) -> Capacity | CapacityStream:
    """Bandwidth each H3 cell of ``regions`` gets at every instant of ``grid`` (each instant one
    15 s scheduling interval), under the policy: see :mod:`leonet.capacity.allocate` for the
    model and :mod:`leonet.capacity.params` for every number and its source.

    ``take_rate`` (share of the population subscribing; default ``params.take_rate``, 0.02);
    ``fairness``: 'maxmin' or 'proportional' on the share of demand met; ``inactive``: country
    codes among ``regions`` where service is off (added as rules to ``policy``, or to the
    control-plane ``policy_db``'s policy); ``method``: 'flow' (exact max-min by parametric
    max flow), 'lp' (exact, successive HiGHS LPs; max-min or proportional), 'approx'
    (water-filling, for global grids) or 'auto' (up to 3,000 cells exact: 'flow' for max-min,
    'lp' for proportional; else 'approx'); ``gateways``: a
    gateway file (default the packaged set); ``demand``: a CSV file ``cell,demand_mbps`` (H3
    hex) or an array per cell instead of population x take rate x busy-hour rate;
    ``generation``: 'v1.0' | 'v1.5' | 'v2mini' for every satellite, or one code per satellite,
    instead of inferring it from launch dates and names; ``params``: a
    :class:`~leonet.capacity.params.CapacityParams`; ``backhaul`` False leaves gateways and
    lasers out; ``rule_effects``: also allocate with each policy rule left out (what each rule
    changes). Only satellites in ``states`` serve (default operational). ``stream``: return a
    :class:`CapacityStream` whose ``chunks`` yield one result per ``chunk_instants`` instants
    (nothing is computed until they are asked for), so memory stays bounded for long windows."""
    from leonet.capacity.run import iter_capacity, run_capacity

    s = _capacity_setup(satellites, regions, grid, h3_res, take_rate, fairness, inactive, policy, policy_db, method, gateways, demand, generation,
                        params, allow_stale_elements, states)
    options = dict(fairness=fairness, method=method, demand_mbps=s.demand_mbps, generation=s.generation, backhaul=backhaul, rule_effects=rule_effects,
                   progress=progress)
    t = s.grid.t_ns
    if stream:
        return CapacityStream(iter_capacity(s.satellites, s.area, t, s.policy, s.sites, s.params, chunk_instants=chunk_instants, **options), s.left_out, s.note)
    return Capacity(run_capacity(s.satellites, s.area, t, s.policy, s.sites, s.params, **options), s.left_out, s.note)


@dataclass
class _CapacitySetup:
    """The checked inputs of a capacity run (what :func:`capacity` and :func:`plan_capacity` share)."""

    grid: TimeGrid
    targets: tuple[Region, ...]
    params: object
    policy: ServicePolicy
    sites: object
    gateways_path: Path
    satellites: Satellites
    left_out: dict[str, int]
    note: str
    area: object
    generation: np.ndarray | None
    demand_mbps: np.ndarray | None


def _capacity_setup(satellites, regions, grid, h3_res, take_rate, fairness, inactive, policy, policy_db, method, gateways, demand, generation, params,
                    allow_stale_elements, states) -> _CapacitySetup:
    from leonet.capacity.params import CapacityParams, parse_generation
    from leonet.ground.gateways import load_gateways, packaged_gateways_path

    grid = _grid(grid)
    targets, dark = capacity_inputs(regions, inactive, take_rate, fairness, h3_res, method)
    params = params if params is not None else CapacityParams()
    if not isinstance(params, CapacityParams):
        raise InputError(f"params must be a leonet.capacity.params.CapacityParams, not {type(params).__name__}")
    if take_rate is not None:
        params = dataclasses.replace(params, take_rate=float(take_rate))
    if policy is not None and policy_db is not None:
        raise InputError("give a policy or a policy_db, not both")
    if policy_db:
        from leonet.control import load_policy

        policy = load_policy(policy_db)
    policy = policy or ServicePolicy.active_everywhere()
    for r in dark:
        policy = policy.deactivate(r)
    gw_path = Path(gateways) if gateways is not None else packaged_gateways_path()
    sites = load_gateways(gw_path)  # the default set, without parsing the community file again
    check_element_age(as_satellites(satellites), grid.start_ns, grid.t_ns[-1], allow_stale_elements)
    sats, left, note = serving_satellites(satellites, states)
    area = build_area(targets, h3_res, 0.0)
    gen = parse_generation(generation, len(sats))
    dem = read_demand(demand, area.cells) if isinstance(demand, (str, Path)) else demand
    return _CapacitySetup(grid, targets, params, policy, sites, gw_path, sats, left, note, area, gen, dem)


def plan_capacity(
    sources: str | Path | Sequence[str | Path],
    regions: str | Sequence[str | Region],
    grid: TimeGrid,
    folder: str | Path,
    *,
    satellites: Constellation | None = None,
    h3_res: int = 5,
    take_rate: float | None = None,
    fairness: str = "maxmin",
    inactive: Sequence[str] | str = (),
    policy: ServicePolicy | None = None,
    policy_db: str | None = None,
    method: str = "auto",
    gateways: str | Path | None = None,
    demand: str | Path | np.ndarray | None = None,
    generation: str | np.ndarray | None = None,
    params=None,
    backhaul: bool = True,
    rule_effects: bool = True,
    allow_stale_elements: bool = False,
    states: str | Sequence[str] | None = SERVING_STATES,
    chunk_instants: int | None = None,
    resume: bool = False,
):
    """:func:`capacity` as a partitioned, resumable run in ``folder`` (see
    :mod:`leonet.scale.capacity`): every input and the folder are checked now; run it with
    :func:`leonet.scale.capacity.execute_capacity` (``scheduler`` none, local or
    tcp://HOST:PORT). ``sources``: element-set files, URLs or ``preset:NAME`` that workers
    load themselves (``satellites``: what they load to here, if already loaded); ``resume``:
    finish the run already in ``folder``. Other arguments as :func:`capacity`."""
    from leonet.scale.capacity import plan_capacity as _plan

    src = [str(sources)] if isinstance(sources, (str, Path)) else [str(x) for x in sources]
    if not src:
        raise InputError("give at least one element-set source")
    grid = _grid(grid)
    c = satellites if satellites is not None else load(src, epoch=grid.start_ns)
    s = _capacity_setup(c, regions, grid, h3_res, take_rate, fairness, inactive, policy, policy_db, method, gateways, demand, generation, params,
                        allow_stale_elements, states)
    st = None if states is None else ((states,) if isinstance(states, str) else tuple(states))
    return _plan(s.satellites, src, s.targets, h3_res, s.grid, s.policy, s.gateways_path, folder, params=s.params, fairness=fairness, method=method,
                 demand_mbps=s.demand_mbps, generation=s.generation, backhaul=backhaul, rule_effects=rule_effects, states=st, area=s.area,
                 chunk_instants=chunk_instants, resume=resume)


@dataclass
class CapacityStream:
    """A capacity run that yields one :class:`~leonet.capacity.run.CapacityResult` per time
    chunk from ``chunks`` (see :func:`leonet.export.capacity.write_capacity_stream`)."""

    chunks: object
    left_out: dict[str, int] = dataclasses.field(default_factory=dict)
    serving_note: str = ""


def read_demand(path: str | Path, cells: np.ndarray) -> np.ndarray:
    """Per-cell demand ``(cells,)`` Mbps from a CSV file with columns ``cell`` (H3 index, hex)
    and ``demand_mbps``; cells of the area the file does not list ask for 0. A cell that is not
    in the area, a repeated cell or a bad number is an error naming the line."""
    import csv

    p = Path(path)
    if not p.is_file():
        raise InputError(f"demand file {p} not found (a CSV with columns cell,demand_mbps)")
    index = {int(c): k for k, c in enumerate(np.asarray(cells, dtype=np.uint64).tolist())}
    out = np.zeros(len(index))
    seen: set[int] = set()
    with p.open(newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        header = [h.strip().lower() for h in next(rows, [])]
        if "cell" not in header or "demand_mbps" not in header:
            raise InputError(f"{p}: the header must name the columns cell and demand_mbps, got {','.join(header) or '(empty file)'}")
        ic, idm = header.index("cell"), header.index("demand_mbps")
        for line, row in enumerate(rows, 2):
            if not row or all(not x.strip() for x in row):
                continue
            try:
                cell = int(row[ic].strip(), 16)
                value = float(row[idm])
            except (ValueError, IndexError):
                raise InputError(f"{p}:{line}: need an H3 cell in hex and a number of Mbps, got {','.join(row)}") from None
            if not np.isfinite(value) or value < 0:
                raise InputError(f"{p}:{line}: demand_mbps {row[idm]} must be a finite number >= 0")
            if cell not in index:
                raise InputError(f"{p}:{line}: cell {row[ic].strip()} is not one of the regions' cells at this H3 resolution")
            if cell in seen:
                raise InputError(f"{p}:{line}: cell {row[ic].strip()} is listed twice")
            seen.add(cell)
            out[index[cell]] = value
    return out


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
    #: Rows written to the ``output`` file given to :func:`route` / :func:`route_hypatia`
    #: (written as the routes were computed; the paths were then not kept), else None.
    rows_written: int | None = None

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

    def to_geojson(self) -> dict:
        """The routes as an RFC 7946 FeatureCollection: the endpoints as Points and one
        (Multi)LineString per (instant, pair) over the ground under each node and link
        (``leonet export geojson route``)."""
        from leonet.export.geojson import route_feature_collection

        return route_feature_collection(self.run, leonet={"start_utc": _iso(self.run.start_ns), "notes": self.run.notes})


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
    output: str | Path | None = None,
) -> Route:
    """Shortest-latency routes from ``src`` to ``dst`` (a city name, 'lat,lon', or a gateway /
    PoP name) at every instant of ``grid``, or between every ordered pair of the ``cities`` most
    populous cities with ``all_pairs``. ``mode``: 'isl' (up, lasers, down), 'bentpipe'
    (user-satellite-gateway in one footprint, then fibre) or 'gateway' (user to gateway over
    lasers, then fibre). ``inactive``: countries where service is off (their users get no
    route). ``gateways``: a gateways/PoPs file (default: the packaged set). Only satellites in
    ``states`` carry traffic (default operational; ``None`` for all); node ids number those.
    ``output``: write the CSV of :meth:`Route.write` there as the routes are computed, without
    keeping the paths (memory stays one instant's paths; see :func:`route_hypatia`)."""
    if grid is None:
        raise InputError("give the time grid: leonet.TimeGrid(start, duration, step)")
    grid = _grid(grid)
    endpoints, pairs, options, notes = route_inputs(src, dst, mode=mode, all_pairs=all_pairs, cities=cities, min_elevation_deg=min_elevation_deg,
                                                    max_range_km=max_range_km, isl_max_range_km=isl_max_range_km,
                                                    min_grazing_alt_km=min_grazing_alt_km, gateways=gateways, inactive=inactive)
    check_element_age(as_satellites(satellites), grid.start_ns, grid.t_ns[-1], allow_stale_elements)
    sats, _, serving_note = serving_satellites(satellites, states)
    out = _routes_to(output, grid.start_ns, lambda kw: run_routes(sats, endpoints, grid.t_ns, pairs=pairs, progress=progress, **options, **kw))
    out.run.notes[:0] = [*notes, serving_note]
    return out


def _routes_to(output: str | Path | None, start_ns: int, go: Callable[[dict], RouteRun]) -> Route:
    """``go`` (:func:`~leonet.network.run.run_routes` given extra keywords) run as it is, or,
    with ``output``, writing the route CSV there step by step (atomically, then its nodes
    file) with the paths not kept."""
    if output is None:
        return Route(go({}))
    with atomic_binary(output) as fh:
        writer = RouteCsvWriter(fh, start_ns)
        run = go({"on_step": writer, "keep_paths": False})
        assert run.start_ns == start_ns  # the writer's t_ns origin is the run's
    write_route_nodes(run, output)
    return Route(run, rows_written=writer.rows)


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
    output: str | Path | None = None,
) -> Route:
    """Routes on a Hypatia (satgenpy) scenario folder with its own satellites, laser links,
    ground stations (Hypatia's node ids) and link-length limits. ``start`` defaults to the
    scenario's TLE epoch; ``src``/``dst`` are station names or places within 100 km of one.
    ``time_convention``: 'hypatia' (Earth rotation at UTC, as satgenpy) or 'ut1' (the true
    Earth); see :mod:`leonet.network.hypatia`. ``output``: the route CSV (:meth:`Route.write`'s
    bytes and its nodes file) written there as each instant is routed, the paths not kept:
    memory does not grow with them over a long run, and :meth:`Route.to_arrow`, ``write`` and
    ``to_geojson`` then say so; the figures (RTTs, hops, path changes) stay."""
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
    sites = load_gateways(gateways) if mode != "isl" else None
    out = _routes_to(output, grid.start_ns, lambda kw: run_routes(
        scen.constellation, ground, grid.t_ns, pairs=pairs, mode=mode, user_links=rule,
        isl_max_range_km=scen.max_isl_length_m / 1e3 if isl_max_range_km is None else isl_max_range_km, min_grazing_alt_km=min_grazing_alt_km,
        sites=sites, laser_links=scen.isls, inactive=codes, progress=progress, eop=hypatia_earth_orientation(time_convention), **kw))
    out.run.notes[:0] = notes
    return out


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
    scenario: Scenario | str | Path,
    output_dir: str | Path | None = None,
    *,
    policy_db: str | None = None,
    progress: Callable[[int], None] | None = None,
    capacity: bool = True,
    command_line: str | None = None,
) -> ScenarioRun:
    """Run a scenario (a TOML file, ``examples/taiwan.toml`` is the demo, or a loaded
    :class:`~leonet.jobs.scenario.Scenario`): coverage and service of
    its regions under its policy, and with service active everywhere for comparison. Returns
    the :class:`~leonet.jobs.regional.ScenarioRun` (``.summary()``, ``.border_effect()``,
    ``.result``, ``.baseline``, ``.capacity``). With ``output_dir`` its tables (Parquet, DuckDB)
    and HTML report are written there (see :func:`write_scenario`). ``capacity`` (without
    ``output_dir``): False leaves a ``[capacity]`` section for :func:`write_scenario`, which
    computes it while the report is drawn (or :meth:`~leonet.jobs.regional.ScenarioRun.add_capacity`);
    with ``output_dir`` it is always computed, while the report is drawn. ``command_line``: what
    the ``run`` table records as having produced the outputs."""
    if output_dir is None:
        return _run_scenario(scenario, policy_db=policy_db, progress=progress, capacity=capacity)
    from leonet.reports.regional import warm_report

    # The report is drawn by a forked copy started now: it loads matplotlib while this process
    # reads and prepares its inputs (serial work that leaves a core idle), then waits for the results.
    reporter = ForkWorker(warm=warm_report)
    try:
        run = _run_scenario(scenario, policy_db=policy_db, progress=progress, capacity=False)
        _write_scenario(run, output_dir, command_line, reporter)
    except BaseException:
        reporter.cancel()
        raise
    return run


def write_scenario(run: ScenarioRun, output_dir: str | Path, command_line: str | None = None) -> dict[str, Path]:
    """Write a scenario run: ``timeseries``, ``cells``, ``regions`` (and ``border``) as Parquet,
    a ``run`` table of what produced them (scenario, element sets and epochs, grid, mask, policy,
    version, ``command_line``), ``leonet.duckdb`` holding them all, ``report.html``, and the
    ``capacity_*`` tables of a ``[capacity]`` section (computed here, while a forked copy draws
    the report, if the run left it: :meth:`~leonet.jobs.regional.ScenarioRun.add_capacity`).
    Returns the paths (also in ``run.paths``)."""
    return _write_scenario(run, output_dir, command_line, None)


def _write_scenario(run: ScenarioRun, output_dir: str | Path, command_line: str | None, reporter: ForkWorker | None) -> dict[str, Path]:
    """:func:`write_scenario`, the report drawn by ``reporter`` (a :class:`~leonet.cpu.ForkWorker`
    waiting for its call) or else by a copy forked now."""
    from leonet.export.metadata import run_metadata
    from leonet.export.tables import result_tables, write_tables
    from leonet.reports.regional import write_report

    out = Path(output_dir)
    sc = run.scenario
    meta = run_metadata(run.constellation, run.grid, command_line=command_line, scenario=str(sc.path or sc.name),
                        element_source=run.source, regions=list(sc.regions), h3_res=sc.h3_res, neighbours_within_km=sc.neighbours_within_km,
                        min_elevation_deg=sc.min_elevation_deg, max_range_km=sc.max_range_km, policy=run.result.policy.describe(),
                        launch_batches=len(sc.launches), notes=run.notes)
    out.mkdir(parents=True, exist_ok=True)
    # The report (matplotlib: ~0.8 s) is drawn by a forked copy while the tables are written here.
    report_args = (out / "report.html", sc.name, sc.description, run.result, run.baseline, sc.beam_radius_km, run.facts())
    report = reporter.submit(write_report, *report_args) if reporter is not None else fork_call(lambda: write_report(*report_args))
    try:
        run.add_capacity()
        paths = write_tables(result_tables(run.result, run.baseline, sc.beam_radius_km), out, meta)
        cap_paths: dict[str, Path] = {}
        if run.capacity is not None:
            from leonet.export.capacity import capacity_cells_table, capacity_regions_table, capacity_rules_table
            from leonet.export.files import write_table

            cap_meta = {**meta, "capacity_params": json.dumps({p["parameter"]: p["value"] for p in run.capacity.params.table()})}
            for name, table in (("capacity_cells", capacity_cells_table), ("capacity_regions", capacity_regions_table), ("capacity_rules", capacity_rules_table)):
                cap_paths[name] = out / f"{name}.parquet"
                write_table(table(run.capacity), cap_paths[name], "parquet", metadata=cap_meta)
    except BaseException:
        report.cancel()
        raise
    paths["report"] = report.result()
    paths |= cap_paths
    run.paths = paths
    return paths


# ---- exports ----------------------------------------------------------------------------
def satellite_info(satellites: Satellites):
    """Who each satellite is (:class:`~leonet.export.czml.SatelliteInfo`): for SGP4 element
    sets their operational state, shell and why (:func:`leonet.sources.fleet.infer_fleet`),
    for launch batches the state 'launch batch'."""
    from leonet.export.czml import SatelliteInfo
    from leonet.sources.fleet import infer_fleet

    sats = as_satellites(satellites)
    parts = sats.parts if isinstance(sats, SatelliteUnion) else (sats,)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in SatelliteInfo.__dataclass_fields__}
    for p in parts:
        if isinstance(p, Constellation):
            f = infer_fleet(p)
            got = {"state": f.state, "shell": f.shell, "intl_designator": f.intl_designator, "alt_km": f.alt_km,
                   "inclination_deg": f.inclination_deg, "reason": f.reason}
        else:
            n = len(p)
            got = {"state": np.full(n, "launch batch", dtype=object), "shell": np.full(n, -1), "intl_designator": np.full(n, "", dtype=object),
                   "alt_km": np.full(n, np.nan), "inclination_deg": np.full(n, np.nan), "reason": np.full(n, "launch batch: raising to its shell, then serving", dtype=object)}
        for k in cols:
            cols[k].append(np.asarray(got[k]))
    return SatelliteInfo(**{k: np.concatenate(v) for k, v in cols.items()})


def estimate_czml(n_sats: int, grid: TimeGrid) -> dict:
    """Memory and file size of :func:`export_czml` (``bytes``: memory held while writing)."""
    from leonet.export.czml import estimate_czml as _estimate

    return _estimate(n_sats, _grid(grid))


def export_czml(
    satellites: Satellites,
    grid: TimeGrid,
    path: str | Path,
    *,
    states: str | Sequence[str] | None = None,
    name: str | None = None,
    multiplier: float = 60.0,
    path_trail_s: float | None = None,
    labels: bool = False,
    allow_stale_elements: bool = False,
    info=None,
    progress: Callable[[int], None] | None = None,
):
    """Write ``satellites`` on ``grid`` as a CZML document for CesiumJS (``leonet export
    czml``): a document packet with a clock over the window, then one packet per satellite
    with its ITRF positions (Cesium's FIXED frame), its identity and operational state, its
    point coloured by state. ``states``: only satellites in those operational states (default
    ``None``: every satellite, so raising and deorbiting ones are seen too). Streams in blocks
    of satellites (memory bounded); returns :class:`~leonet.export.czml.CzmlWritten`.
    States are inferred from the satellites given (:func:`satellite_info`): give the whole
    snapshot, as a handful of satellites makes no shell, or pass ``info`` computed on it."""
    from leonet.export.czml import write_czml

    grid = _grid(grid)
    sats = as_satellites(satellites)
    check_element_age(sats, grid.start_ns, grid.t_ns[-1], allow_stale_elements)
    if info is None:
        info = satellite_info(sats)
    elif len(info.state) != len(sats):
        raise InputError(f"info has {len(info.state)} rows for {len(sats)} satellites")
    if states is not None:
        from leonet.sources.fleet import parse_states

        keep = np.isin(info.state, np.array([*parse_states(states), "launch batch"], dtype=object))
        if not keep.any():
            raise InputError(f"no satellite is in the states {', '.join(parse_states(states))}; see leonet fleet")
        idx = np.flatnonzero(keep)
        sats, info = sats.take(idx), info.take(idx)
        if progress is not None:  # the satellites left out are done with: progress counts every one given
            progress(int((~keep).sum()))
    if not float(multiplier) > 0:
        raise InputError(f"multiplier {multiplier} must be positive (simulated seconds per real second)")
    label = name or (getattr(sats, "label", "") or "leonet")
    counts = ", ".join(f"{n:,} {s}" for s, n in zip(*np.unique(info.state.astype(str), return_counts=True)))
    return write_czml(path, sats, grid, info, name=label, multiplier=multiplier, path_trail_s=path_trail_s, labels=labels,
                      description=f"{len(sats):,} satellites ({counts}); written by leonet", progress=progress)


def regions_geojson(
    regions: str | Sequence[str | Region] = (),
    *,
    policy: ServicePolicy | None = None,
    policy_db: str | None = None,
    at: str | int | datetime | None = None,
) -> dict:
    """Regions as an RFC 7946 FeatureCollection (``leonet export geojson regions``): the
    countries or GeoJSON files named in ``regions`` and, with a ``policy`` or a control-plane
    ``policy_db``, every region its rules name, each with ``active`` (its own rules' state at
    ``at``, default now; the policy default where none applies) and ``rules`` (the rules on it,
    in order)."""
    from leonet.export.geojson import regions_feature_collection

    specs = [regions] if isinstance(regions, (str, Region)) else list(regions)
    if policy is not None and policy_db is not None:
        raise InputError("give a policy or a policy_db, not both")
    if policy_db:
        from leonet.control import load_policy

        policy = load_policy(policy_db)
    if not specs and policy is None:
        raise InputError("give regions (e.g. ['TWN', 'JPN']) or a policy / policy_db whose regions to export")
    named = [s if isinstance(s, Region) else Region.from_spec(str(s).strip()) for s in specs]
    found: dict[str, Region] = {r.key: r for r in named}
    if policy is not None:
        for r in policy.regions:
            found.setdefault(r.key, r)
    out = list(found.values())
    props: list[dict] = [{} for _ in out]
    members: dict = {}
    if policy is not None:
        t = parse_time("now" if at is None else at)
        members = {"policy": policy.name, "policy_default_active": policy.default_active, "time_utc": _iso(t)}
        for r, p in zip(out, props):
            mine = [rule for rule in policy.rules if rule.region.key == r.key]
            state = policy.default_active
            for rule in mine:
                if rule.time_mask(np.array([t], dtype=np.int64))[0]:
                    state = rule.active
            p["active"] = bool(state)
            p["rules"] = [rule.describe() for rule in mine]
    return regions_feature_collection(out, props, leonet=members)


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
    "Capacity", "CapacityStream", "Coverage", "PassList", "Route", "ScenarioRun",
    "SERVING_STATES", "capacity", "coverage", "plan_capacity", "estimate_coverage", "estimate_czml", "estimate_states", "export_czml", "load", "passes", "passes_work",
    "regions_geojson", "route", "route_hypatia", "run_scenario", "satellite_info", "serving_satellites", "write_scenario",
]
