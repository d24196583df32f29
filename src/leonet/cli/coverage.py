"""``leonet coverage``, ``passes``, ``run`` and ``demo``: parse, call the front door, write."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import click
import numpy as np
from rich.table import Table

from leonet import api
from leonet.cli.common import (
    ELEVATION_DEG,
    LAT_DEG,
    LON_DEG,
    check_job,
    check_output_dir,
    check_stale,
    cli_command_line,
    err_console,
    grid_options,
    handle_errors,
    load_sources,
    max_memory_option,
    out_console,
    output_dir,
    output_file,
    output_format,
    parse_id_list,
    progress_bar,
    say,
    source_options,
    states_option,
)
from leonet.cli.scale import partition_options, run_partitioned, wants_partitioned
from leonet.errors import InputError, LeonetError
from leonet.export.files import write_table
from leonet.export.metadata import run_metadata
from leonet.jobs.regional import ScenarioRun, demo_scenario_path, scenario_grid
from leonet.jobs.scenario import load_scenario
from leonet.times import format_time, parse_duration


@click.command()
@source_options
@click.option("--region", "regions", required=True, help="Country codes (ISO 3166 alpha-2/3 or numeric), comma-separated.")
@click.option("--h3-res", type=click.IntRange(0, 15), default=5, show_default=True, help="H3 resolution of the service cells.")
@click.option("--start", required=True, help="First instant, ISO-8601 UTC.")
@click.option("--duration", required=True, help="Span after --start (end excluded), e.g. 24h.")
@click.option("--step", required=True, help="Time step, e.g. 60s.")
@click.option("--min-elevation-deg", type=ELEVATION_DEG, default=25.0, show_default=True)
@click.option("--max-range-km", type=click.FloatRange(min=0, min_open=True), help="Also require slant range at most this.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), help="Table format (default: from the extension of -o).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file.")
@click.option("--policy-db", help="Control-plane database URL: cells_covered then counts only cells whose region is active at that time.")
@states_option
@max_memory_option
@handle_errors
def coverage(sources, preset, repair_checksums, cache_dir, regions, h3_res, start, duration, step, min_elevation_deg, max_range_km, fmt, output, policy_db,
             states, max_memory_gb) -> None:
    """Satellites in view over regions: one row per (time, region) with columns
    time_utc,region,cells,cells_covered,sats_in_view_min,sats_in_view_mean,sats_in_view_max,sats_overhead
    (sats_overhead: satellites whose sub-satellite point lies inside the region)."""
    fmt = output_format(fmt, output)
    cov, c, grid, codes = run_coverage(sources, preset, repair_checksums, cache_dir, regions, h3_res, start, duration, step, min_elevation_deg,
                                       max_range_km, policy_db, states, max_memory_gb)
    res = cov.result
    err_console.print(f"{len(res.area):,} cells, {grid.count:,} instants, {len(c):,} satellites", highlight=False)
    if policy_db:
        err_console.print(f"policy from {policy_db}: {len(res.policy.rules)} activation states", highlight=False, markup=False)
    meta = run_metadata(c, grid, command_line=cli_command_line(), regions=codes, h3_res=h3_res, min_elevation_deg=min_elevation_deg,
                        max_range_km=max_range_km, policy=res.policy.describe())
    rows = write_table(cov.to_arrow(), output, fmt, metadata=meta)
    err_console.print(f"{res.sgp4_failures}; wrote {rows:,} rows to {output}", highlight=False, markup=False)


def run_coverage(sources, preset, repair_checksums, cache_dir, regions: str, h3_res: int, start, duration, step, min_elevation_deg: float,
                 max_range_km, policy_db: str | None, states, max_memory_gb):
    """The coverage step of `leonet coverage` and `leonet export geojson cells`: options checked
    (the policy store first), the job sized, the constellation loaded, coverage run under a
    progress bar; returns ``(api.Coverage, constellation, grid, region codes)``."""
    grid = grid_options(start, duration, step)
    codes = [c.strip() for c in regions.split(",") if c.strip()]
    if not codes:
        raise InputError("--region needs at least one country code, e.g. --region TWN or --region TW,JP")
    policy = policy_from_db(policy_db)
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns)
    check_job(api.estimate_coverage(len(c), codes, grid, h3_res), max_memory_gb)
    check_stale(c, grid)
    with progress_bar("coverage", grid.count, "instants") as advance:
        cov = api.coverage(c, codes, grid, h3_res=h3_res, min_elevation_deg=min_elevation_deg, max_range_km=max_range_km,
                           policy=policy, allow_stale_elements=True, progress=advance,  # age checked above
                           **({} if states == "default" else {"states": states}))
    say(cov.serving_note)
    return cov, c, grid, codes


@click.command()
@source_options
@click.option("--lat", type=LAT_DEG, required=True, help="Latitude, degrees north (WGS84).")
@click.option("--lon", type=LON_DEG, required=True, help="Longitude, degrees east.")
@click.option("--alt-m", type=float, default=0.0, show_default=True, help="Height above the WGS84 ellipsoid, m.")
@click.option("--start", required=True, help="Window start, ISO-8601 UTC (e.g. 2024-10-23T00:00:00Z).")
@click.option("--duration", required=True, help="Window length after --start, e.g. 6h, 90min, P1D.")
@click.option("--min-elevation-deg", type=ELEVATION_DEG, default=25.0, show_default=True)
@click.option("--sats", "sats", help="Only these catalogue numbers, comma-separated (searched whatever their state unless --states is given).")
@click.option("--coarse-step", help="Step of the first search, e.g. 20s (default: from the fastest satellite, 5-30 s).")
@click.option("--format", "fmt", type=click.Choice(["csv"]), help="Table format (csv; default: from the extension of -o).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file.")
@states_option
@handle_errors
def passes(sources, preset, repair_checksums, cache_dir, lat, lon, alt_m, start, duration, min_elevation_deg, sats, coarse_step, fmt, output, states) -> None:
    """Passes over a ground point above the elevation mask, one row per pass sorted by rise time:
    norad_id,rise_utc,culminate_utc,set_utc,max_elevation_deg (times to the ms, refined to 0.01 s).
    A pass already above the mask at --start rises at --start; one still above it at the end of
    the window sets there (its culmination is then the highest point inside the window)."""
    output_format(fmt, output, ("csv",))
    grid = grid_options(start, duration, "1s")  # checks --start and --duration, naming them
    t0 = grid.start_ns
    ids = parse_id_list(sats)
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=t0, window=(t0, t0 + parse_duration(duration)))
    if ids is not None:
        c = c.select(norad_ids=ids)
    # Satellites named with --sats are searched whatever their state, unless --states says otherwise.
    chosen = {"states": None} if (states == "default" and ids is not None) else {} if states == "default" else {"states": states}
    total = api.passes_work(c, t0, duration, coarse_step, alt_m, **chosen)
    with progress_bar("searching", total) as advance:
        found = api.passes(c, lat_deg=lat, lon_deg=lon, alt_m=alt_m, start=t0, duration=duration, min_elevation_deg=min_elevation_deg,
                           coarse_step=coarse_step, allow_stale_elements=True, progress=advance, **chosen)
    say(found.serving_note)
    found.write(output)
    p = found.passes
    err_console.print(
        f"{len(p):,} passes of {len(np.unique(p.sat_index)):,} of {len(c):,} satellites above "
        f"{min_elevation_deg:g} deg at {lat:.4f}, {lon:.4f} from {format_time(p.start_ns)} to {format_time(p.end_ns)} "
        f"({int(p.rise_at_start.sum())} in progress at the start, {int(p.set_at_end.sum())} unfinished at the end); "
        f"wrote {output}",
        highlight=False, markup=False,
    )


def _run_and_report(path: Path, output_dir: str | None, policy_db: str | None, states: tuple[str, ...] | None | str = "default") -> ScenarioRun:
    """Run a scenario file with a progress bar, write its outputs, print its summary. The output
    folder and the policy database are checked before the run starts."""
    sc = load_scenario(path)
    if states != "default":  # --states overrides the scenario's [constellation] states
        sc = dataclasses.replace(sc, states=states)
    grid = scenario_grid(sc)
    out = Path(output_dir or sc.output_dir)
    check_output_dir(out, "-o/--output-dir" if output_dir else f"[output] dir of {path}")
    policy_from_db(policy_db)
    handler, logger = _NoteHandler(), logging.getLogger("leonet")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # the library's notes (fallbacks, who serves) are for the user
    try:
        with progress_bar("coverage", grid.count, "instants", then="writing tables, database and report") as advance:
            run = api.run_scenario(sc, out, policy_db=policy_db, progress=advance, command_line=cli_command_line())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    print_summary(run)
    return run


class _NoteHandler(logging.Handler):
    """Library notes (a fallback taken, batches joining) as plain lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        err_console.print(f"note: {record.getMessage()}", highlight=False, markup=False)


def print_summary(run: ScenarioRun) -> None:
    sc, res = run.scenario, run.result
    target = res.area.targets[0].key
    t = Table(title=f"{sc.name}: {target} and neighbours", title_justify="left")
    for col in ("region", "cells", "population", "sats in view min/mean/max", "covered % time", "served % (all active)", "served % (policy)", "cells never served"):
        t.add_column(col, justify="left" if col == "region" else "right")
    for r in run.summary():
        t.add_row(r["region"], f"{r['cells']:,}", f"{r['population']:,.0f}",
                  f"{r['sats_in_view_min']}/{r['sats_in_view_mean']:.1f}/{r['sats_in_view_max']}",
                  f"{r['covered_time_percent']:.1f}", f"{r['served_time_percent_all_active']:.1f}", f"{r['served_time_percent']:.1f}",
                  f"{r['cells_not_served']:,}")
    out_console.print(t)
    out_console.print(f"{len(res.area):,} cells at H3 resolution {sc.h3_res}; {run.grid.count:,} instants; {len(run.satellites):,} satellites",
                      highlight=False)
    out_console.print(f"policy: {res.policy.name}", highlight=False, markup=False)
    m = res.area.members(target)
    per_min = res.counts[m].mean(axis=0)
    out_console.print(f"{target}: satellites in view per instant (mean over its cells): min {per_min.min():.1f}, "
                      f"mean {per_min.mean():.1f}, max {per_min.max():.1f}; sub-satellite points inside {target}: "
                      f"min {res.overhead[0].min()}, mean {res.overhead[0].mean():.1f}, max {res.overhead[0].max()}", highlight=False)
    for b in run.border_effect():
        out_console.print(f"border effect: {b['neighbour_cells']} active cells ({b['neighbour_population']:,.0f} people) within "
                          f"{b['beam_radius_km']:g} km of inactive {b['inactive_region']}: {b['by_region']}", highlight=False, markup=False)
    if run.capacity is not None:
        from leonet.cli.capacity import print_capacity_result

        print_capacity_result(run.capacity)
    out_console.print(f"outputs in {run.paths['report'].parent}/: " + ", ".join(p.name for p in run.paths.values()), highlight=False, markup=False)
    out_console.print(f"done in {run.seconds:.1f} s")


@click.command()
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), callback=output_dir, help="Where to write (default out/taiwan in the current folder).")
@handle_errors
def demo(output_dir: str | None) -> None:
    """The main job: Starlink over Taiwan and its neighbours for 24 h at 60 s, with service
    over Taiwan not activated, against service active everywhere (examples/taiwan.toml).
    Writes Parquet tables, a DuckDB database and an HTML report with maps."""
    _run_and_report(demo_scenario_path(), output_dir, None)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), callback=output_dir, help="Override [output] dir.")
@click.option("--policy-db", help="Control-plane database URL: apply the policy in force there at each simulated time, over the scenario's own.")
@states_option
@partition_options
@handle_errors
def run(scenario: str, output_dir: str | None, policy_db: str | None, states, scheduler: str | None, resume: bool, workers: int | None,
        chunk_instants: int | None) -> None:
    """Run a scenario file (TOML; see examples/taiwan.toml and `leonet.jobs.scenario` for the keys).
    With --scheduler (or --resume, or a window over 14 days at 60 s) it runs as a partitioned,
    resumable dataset (see README, "Long windows and sweeps")."""
    sc = load_scenario(scenario)
    partitioned, why = wants_partitioned(sc, scheduler, resume, chunk_instants)
    if partitioned:
        if why:
            err_console.print(f"note: {why}", highlight=False, markup=False)
        return run_partitioned(sc, output_dir, policy_db, scheduler, resume, workers, chunk_instants, states=states)
    _run_and_report(Path(scenario), output_dir, policy_db, states)


def policy_from_db(url: str | None):
    """The policy in force in a control-plane database, read now so that a bad ``--policy-db``
    fails before any work, naming the option."""
    if not url:
        return None
    from leonet.control import load_policy

    try:
        return load_policy(url)
    except LeonetError as exc:
        raise InputError(f"--policy-db {url}: {exc}") from None


COMMANDS = (coverage, passes, demo, run)
