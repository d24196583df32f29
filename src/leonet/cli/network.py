"""``leonet route``: shortest-latency routes between ground endpoints over time."""

from __future__ import annotations

import click

from leonet import api
from leonet.cli.common import err_console, grid_options, handle_errors, load_sources, output_format, progress_bar, source_options, states_option
from leonet.cli.scale import output_file_or_run, partition_options, route_partitioned
from leonet.errors import InputError
from leonet.times import format_time


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
@click.option("--time-convention", type=click.Choice(["hypatia", "ut1"]),
              help="With --hypatia: Earth rotation at UTC as satgenpy/pyephem compute it (default 'hypatia'), or at true UT1 ('ut1', as leonet elsewhere).")
@click.option("--format", "fmt", type=click.Choice(["csv"]), help="Table format (csv; default: from the extension of -o).")
@click.option("-o", "--output", required=True, type=click.Path(), callback=output_file_or_run, help="Output CSV; node names go to OUTPUT.nodes.csv. With --scheduler: a folder.")
@states_option
@partition_options(chunk_default="64")
@handle_errors
def route(sources, preset, repair_checksums, cache_dir, hypatia_dir, src_text, dst_text, all_pairs, n_cities, start, duration, step, mode,
          min_elevation_deg, max_range_km, isl_max_range_km, min_grazing_alt_km, gateways_file, inactive, time_convention, fmt, output, states,
          scheduler, resume, workers, chunk_instants) -> None:
    """Shortest-latency routes, one row per (time, source, destination):
    t_ns,src,dst,hops,path,length_m,rtt_ms. t_ns counts from --start; src, dst and path are node
    ids (satellites 0..N-1, then endpoints, gateways, PoPs; with --hypatia Hypatia's ids) and
    OUTPUT.nodes.csv names them; unreachable pairs are kept with an empty path.
    Satellites outside the inferred shells (raising, lowering) carry no traffic."""
    if all_pairs == bool(src_text or dst_text) or (not all_pairs and not (src_text and dst_text)):
        raise InputError("give either --from A --to B, or --all-pairs")
    if time_convention and not hypatia_dir:
        raise InputError("--time-convention applies to --hypatia scenarios only (element sets always use the true Earth, UT1)")
    links = dict(mode=mode, max_range_km=max_range_km, isl_max_range_km=isl_max_range_km, min_grazing_alt_km=min_grazing_alt_km,
                 gateways=gateways_file, inactive=inactive or ())
    if scheduler or resume or chunk_instants:  # a partitioned dataset in the folder OUTPUT (leonet.scale.routes)
        if hypatia_dir:
            raise InputError("--scheduler/--resume route element sets or --preset; a Hypatia scenario runs in memory")
        return route_partitioned(sources, preset, repair_checksums, cache_dir, src_text, dst_text, all_pairs, n_cities, start, duration, step,
                                 min_elevation_deg, links, output, scheduler, resume, workers, chunk_instants, states)
    output_format(fmt, output, ("csv",))
    if hypatia_dir:
        if sources or preset:
            raise InputError("give element-set FILEs, --preset or --hypatia, only one of them")
        if states != "default":
            raise InputError("--states does not apply to --hypatia: its satellites are the scenario's filed shell, all in service")
        with progress_bar("routing", None, "steps") as advance:  # the step count is known once the scenario is read
            r = api.route_hypatia(hypatia_dir, src_text, dst_text, duration=duration, step=step, start=start, all_pairs=all_pairs,
                                  time_convention=time_convention or "hypatia", progress=advance, output=output, **links)
    else:
        if not start:
            raise InputError("--start is required (ISO-8601 UTC, e.g. 2024-10-23T00:00:00Z)")
        grid = grid_options(start, duration, step)
        const = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns, window=grid)
        with progress_bar("routing", grid.count, "steps") as advance:
            r = api.route(const, src_text, dst_text, grid, all_pairs=all_pairs, cities=n_cities, min_elevation_deg=min_elevation_deg,
                          allow_stale_elements=True, progress=advance, output=output, **links, **({} if states == "default" else {"states": states}))
    run, routes = r.run, r.run.routes
    for s in run.shells:
        err_console.print(f"  {s}", highlight=False, markup=False)
    if not hypatia_dir:
        err_console.print(f"  {run.unassigned} satellites in no shell (carry no traffic)", highlight=False)
    for n in run.notes:
        err_console.print(f"note: {n}", highlight=False, markup=False)
    rows = r.rows_written  # written step by step while routing
    broken = routes.broken_links()
    down0 = int((~routes.laser_up[0]).sum()) if routes.laser_up.size else 0
    err_console.print(f"{len(run.router.links)} laser links: {down0} down at the first step, {len(broken)} breaks after it", highlight=False)
    for t, a, b in broken[:10]:
        err_console.print(f"  laser {a}-{b} broke at {format_time(t)}", highlight=False)
    if len(broken) > 10:
        err_console.print(f"  ... and {len(broken) - 10} more", highlight=False)
    n_sats, names = len(run.satellites), run.endpoints.name
    if routes.hops.shape[1] <= 10:
        for s in r.summary():
            err_console.print(
                f"{names[s['src'] - n_sats]} -> {names[s['dst'] - n_sats]}: reachable {100 * s['reachable']:.0f}% of steps, "
                f"RTT {s['rtt_ms_min']:.1f}/{s['rtt_ms_median']:.1f}/{s['rtt_ms_max']:.1f} ms (min/median/max), median hops {s['hops_median']:g}, "
                f"{s['path_changes']} path changes, great-circle fibre RTT {s['fibre_rtt_ms']:.1f} ms (ratio {s['ratio_to_fibre_median']:.2f})",
                highlight=False, markup=False,
            )
    else:
        o = routes.overview()
        err_console.print(f"{routes.hops.shape[1]} pairs: reachable {100 * o['reachable']:.1f}% of (pair, step); median ratio to great-circle fibre RTT "
                          f"{o['ratio_to_fibre_median']:.2f}; {o['path_changes']} path changes in all", highlight=False)
    err_console.print(f"wrote {rows:,} rows to {output} (node names in {output}.nodes.csv)", highlight=False, markup=False)
