"""``leonet route``: shortest-latency routes between ground endpoints over time."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import click
import numpy as np

from leonet.cli.common import (
    err_console,
    handle_errors,
    load_sources,
    output_file,
    progress_bar,
    source_options,
)
from leonet.errors import InputError
from leonet.ground.gateways import GroundSites, load_gateways
from leonet.times import TimeGrid, format_time

CSV_COLUMNS = ("t_ns", "src", "dst", "hops", "path", "length_m", "rtt_ms")


def _resolve_endpoint(text: str, notes: list[str], sites: GroundSites) -> tuple[str, float, float]:
    """A gateway or PoP name (of ``sites``, the run's ground sites) first, else a city or 'lat,lon'."""
    from leonet.ground.cities import normalize_name, resolve_place

    hits = np.flatnonzero(np.array([normalize_name(n) for n in sites.name]) == normalize_name(text))
    if hits.size:
        k = int(hits[0])
        return str(sites.name[k]), float(sites.lat_deg[k]), float(sites.lon_deg[k])
    place = resolve_place(text, notes)
    return place.label, place.lat_deg, place.lon_deg


def _hypatia_station(text: str, names: np.ndarray, lat: np.ndarray, lon: np.ndarray, notes: list[str]) -> int:
    """A Hypatia ground station by name (case and punctuation ignored) or the nearest one to a
    city or 'lat,lon' (within 100 km)."""
    from leonet.ground.cities import normalize_name, resolve_place
    from leonet.network.routing import great_circle_km

    normed = [normalize_name(str(n)) for n in names]
    key = normalize_name(text)
    for k, n in enumerate(normed):
        if n == key or n.startswith(key + " "):
            return k
    place = resolve_place(text, notes)
    d = great_circle_km(place.lat_deg, place.lon_deg, lat, lon)
    k = int(np.argmin(d))
    if d[k] > 100.0:
        raise InputError(f"{text!r} ({place.label}) is {d[k]:.0f} km from the nearest ground station of the Hypatia scenario ({names[k]}); use one of its station names")
    return k


@click.command()
@source_options
@click.option("--hypatia", "hypatia_dir", type=click.Path(file_okay=False), help="A Hypatia (satgenpy) scenario folder instead of element sets: tles.txt, isls.txt, ground_stations.txt, description.txt.")
@click.option("--from", "src_text", help="Source: city name, 'lat,lon' or gateway name.")
@click.option("--to", "dst_text", help="Destination: city name, 'lat,lon' or gateway name.")
@click.option("--all-pairs", is_flag=True, help="Every ordered pair of endpoints: Hypatia's ground stations, else the --cities most populous cities.")
@click.option("--cities", "n_cities", type=click.IntRange(2, 2000), default=100, show_default=True, help="Endpoints for --all-pairs without --hypatia.")
@click.option("--start", help="First instant, ISO-8601 UTC (with --hypatia it defaults to the TLE epoch).")
@click.option("--duration", required=True, help="Span after --start (end excluded), e.g. 10min.")
@click.option("--step", required=True, help="Time step, e.g. 1s.")
@click.option("--mode", type=click.Choice(["isl", "bentpipe", "gateway"]), default="isl", show_default=True,
              help="isl: up, lasers, down; bentpipe: user-satellite-gateway in one footprint, then fibre via the PoP; gateway: user to gateway over lasers, then fibre via the PoP.")
@click.option("--min-elevation-deg", type=click.FloatRange(-90, 90), default=25.0, show_default=True, help="Ground-link elevation mask (ignored with --hypatia, which uses its maximum ground link length).")
@click.option("--max-range-km", type=click.FloatRange(min=0, min_open=True), help="Ground links: also require at most this slant range.")
@click.option("--isl-max-range-km", type=click.FloatRange(min=0, min_open=True), help="Laser links: maximum length (default 5,016.6 km; with --hypatia its description.txt).")
@click.option("--min-grazing-alt-km", type=float, default=80.0, show_default=True, help="Laser links: lowest altitude of the line of sight.")
@click.option("--gateways", "gateways_file", type=click.Path(dir_okay=False), help="Gateways and PoPs file (default: the packaged set).")
@click.option("--inactive", help="Countries (ISO codes) where service is off, comma-separated: their users get no route.")
@click.option("--format", "fmt", type=click.Choice(["csv"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output CSV; node names go to OUTPUT.nodes.csv.")
@handle_errors
def route(sources, preset, repair_checksums, cache_dir, hypatia_dir, src_text, dst_text, all_pairs, n_cities, start, duration, step, mode,
          min_elevation_deg, max_range_km, isl_max_range_km, min_grazing_alt_km, gateways_file, inactive, fmt, output) -> None:
    """Shortest-latency routes, one row per (time, source, destination):
    t_ns,src,dst,hops,path,length_m,rtt_ms. t_ns counts from --start; src, dst and path are node
    ids (satellites 0..N-1, then endpoints, gateways, PoPs; with --hypatia Hypatia's ids) and
    OUTPUT.nodes.csv names them; unreachable pairs are kept with an empty path.
    Satellites outside the inferred shells (raising, lowering) carry no traffic."""
    from leonet.network import (
        GroundNodes,
        LinkRule,
        Router,
        endpoint_activity,
        infer_shells,
        plus_grid,
        read_hypatia,
        route_series,
    )
    from leonet.network.links import DEFAULT_ISL_MAX_RANGE_KM

    if all_pairs == bool(src_text or dst_text) or (not all_pairs and not (src_text and dst_text)):
        raise InputError("give either --from A --to B, or --all-pairs")
    notes: list[str] = []
    ground_sites = functools.cache(lambda: load_gateways(gateways_file))  # read once, if needed
    if hypatia_dir:
        if sources or preset:
            raise InputError("give element-set FILEs, --preset or --hypatia, only one of them")
        scen = read_hypatia(hypatia_dir)
        grid = TimeGrid.from_span(start if start else scen.epoch_ns, duration, step)
        const, links, endpoints = scen.constellation, scen.isls, scen.ground
        sat_usable = None
        user_rule = LinkRule(None, scen.max_gsl_length_m / 1e3 if max_range_km is None else max_range_km)
        isl_range = scen.max_isl_length_m / 1e3 if isl_max_range_km is None else isl_max_range_km
        if all_pairs:
            idx = np.arange(len(endpoints))
        else:
            idx = np.array([_hypatia_station(t, endpoints.name, endpoints.lat_deg, endpoints.lon_deg, notes) for t in (src_text, dst_text)])
    else:
        if not start:
            raise InputError("--start is required (ISO-8601 UTC, e.g. 2024-10-23T00:00:00Z)")
        grid = TimeGrid.from_span(start, duration, step)
        if not all_pairs:  # a mistyped place fails before the constellation is loaded
            found = [_resolve_endpoint(t, notes, ground_sites()) for t in (src_text, dst_text)]
        const = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns)
        with err_console.status("inferring shells, planes and slots"):
            shells = infer_shells(const, grid.start_ns)
        for s in shells.shells:
            err_console.print(f"  {s.describe()}", highlight=False)
        err_console.print(f"  {shells.unassigned.size} satellites in no shell (carry no traffic)")
        links = plus_grid(shells.shell, shells.plane, shells.slot, shells.u_deg)
        sat_usable = shells.shell >= 0
        user_rule = LinkRule(min_elevation_deg, max_range_km)
        isl_range = DEFAULT_ISL_MAX_RANGE_KM if isl_max_range_km is None else isl_max_range_km
        if all_pairs:
            from leonet.ground.cities import top_cities

            cities = top_cities(n_cities)
            endpoints = GroundNodes.from_geodetic([f"{n}, {c}" for n, c in zip(cities.name, cities.country_a2)], cities.lat_deg, cities.lon_deg)
        else:
            endpoints = GroundNodes.from_geodetic([f[0] for f in found], np.array([f[1] for f in found]), np.array([f[2] for f in found]))
        idx = np.arange(len(endpoints))
    for n in notes:
        err_console.print(f"note: {n}", highlight=False)
    gateways = pops = None
    if mode != "isl":
        sites = ground_sites()
        gw, pp = sites.gateways, sites.pops
        gateways = GroundNodes.from_geodetic(list(gw.name), gw.lat_deg, gw.lon_deg, gw.alt_km)
        pops = GroundNodes.from_geodetic(list(pp.name), pp.lat_deg, pp.lon_deg, pp.alt_km)
    router = Router(len(const), links, endpoints, mode=mode, user_links=user_rule, isl_max_range_km=isl_range,
                    min_grazing_alt_km=min_grazing_alt_km, sat_usable=sat_usable, gateways=gateways, pops=pops,
                    gateway_links=LinkRule(min_elevation_deg, max_range_km) if not hypatia_dir else user_rule)
    if all_pairs:
        s, d = np.meshgrid(idx, idx, indexing="ij")
        keep = s != d
        src, dst = s[keep], d[keep]
    else:
        src, dst = idx[:1], idx[1:2]
    active = None
    if inactive:
        from leonet.ground.regions import Region
        from leonet.policy.model import ServicePolicy

        policy = ServicePolicy.active_everywhere()
        for code in (c.strip() for c in inactive.split(",")):
            if code:
                policy = policy.deactivate(Region.country(code))
        active = endpoint_activity(policy, endpoints, grid.t_ns)
    with progress_bar("routing", grid.count, "steps") as advance:
        routes = route_series(router, const.satrecs, grid.t_ns, src, dst, active, progress=advance)
    rows = _write_csv(output, routes, grid.start_ns)
    _write_nodes(Path(str(output) + ".nodes.csv"), const, endpoints, gateways, pops, router)
    broken = routes.broken_links()
    down0 = int((~routes.laser_up[0]).sum()) if routes.laser_up.size else 0
    err_console.print(f"{len(links)} laser links: {down0} down at the first step, {len(broken)} breaks after it", highlight=False)
    for t, a, b in broken[:10]:
        err_console.print(f"  laser {a}-{b} broke at {format_time(t)}", highlight=False)
    if len(broken) > 10:
        err_console.print(f"  ... and {len(broken) - 10} more", highlight=False)
    summ = routes.summary()
    if len(summ) <= 10:
        for r in summ:
            err_console.print(
                f"{endpoints.name[r['src'] - len(const)]} -> {endpoints.name[r['dst'] - len(const)]}: reachable {100 * r['reachable']:.0f}% of steps, "
                f"RTT {r['rtt_ms_min']:.1f}/{r['rtt_ms_median']:.1f}/{r['rtt_ms_max']:.1f} ms (min/median/max), median hops {r['hops_median']:g}, "
                f"{r['path_changes']} path changes, great-circle fibre RTT {r['fibre_rtt_ms']:.1f} ms (ratio {r['ratio_to_fibre_median']:.2f})",
                highlight=False,
            )
    else:
        reach = np.mean([r["reachable"] for r in summ])
        ratio = np.nanmedian([r["ratio_to_fibre_median"] for r in summ])
        err_console.print(f"{len(summ)} pairs: reachable {100 * reach:.1f}% of (pair, step); median ratio to great-circle fibre RTT {ratio:.2f}; "
                          f"{int(sum(r['path_changes'] for r in summ))} path changes in all", highlight=False)
    err_console.print(f"wrote {rows:,} rows to {output} (node names in {output}.nodes.csv)")


def _write_csv(path: str, routes, start_ns: int) -> int:
    """One row per (time, pair); a Python loop over rows is fine here: it is I/O, not routing."""
    rows = 0
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        src, dst = routes.src_id.tolist(), routes.dst_id.tolist()
        for k, t in enumerate((routes.t_ns - start_ns).tolist()):
            paths = routes.paths[k]
            hops = routes.hops[k].tolist()
            length = routes.length_m[k].tolist()
            rtt = routes.rtt_ms[k].tolist()
            for p in range(len(src)):
                if hops[p] < 0:
                    w.writerow((t, src[p], dst[p], "", "", "", ""))
                else:
                    w.writerow((t, src[p], dst[p], hops[p], "-".join(map(str, paths[p, -(hops[p] + 1) :].tolist())), f"{length[p]:.3f}", f"{rtt[p]:.6f}"))
                rows += 1
    return rows


def _write_nodes(path: Path, const, endpoints, gateways, pops, router) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("id", "kind", "name", "norad_id"))
        n = len(const)
        for k in range(n):
            w.writerow((k, "satellite", const.name[k], int(const.norad_id[k])))
        for k in range(len(endpoints)):
            w.writerow((n + k, "endpoint", endpoints.name[k], ""))
        base = n + len(endpoints)
        for kind, nodes in (("gateway", gateways), ("pop", pops)):
            if nodes is None:
                continue
            for k in range(len(nodes)):
                w.writerow((base + k, kind, nodes.name[k], ""))
            base += len(nodes)
