"""``leonet``: the command line over the library. Every command has ``--help``."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
from rich.table import Table

from leonet import __version__
from leonet.cli.common import (
    ELEVATION_DEG,
    LAT_DEG,
    LON_DEG,
    err_console,
    handle_errors,
    load_sources,
    out_console,
    output_file,
    parse_id_list,
    progress_bar,
    source_options,
)
from leonet.errors import InputError
from leonet.times import TimeGrid, format_time, parse_time


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="leonet")
def cli() -> None:
    """leonet: a digital twin of Starlink-scale satellite constellations.

    Element sets are TLE/OMM files (2- or 3-line TLE; OMM JSON, XML or CSV), http(s) URLs or
    celestrak:GROUP (downloaded and cached), or filed shells with --preset.
    Reference data is read from $LEONET_DATA_DIR (default ../shared/data).
    """


@cli.command()
@source_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--all-rejections", is_flag=True, help="List every rejected record and duplicate.")
@handle_errors
def info(sources: tuple[str, ...], preset: str | None, repair_checksums: bool, cache_dir: str | None, as_json: bool, all_rejections: bool) -> None:
    """Counts, epoch range, satellites by shell and rejected records of element sets."""
    c = load_sources(sources, preset, repair_checksums, cache_dir, quiet=True)
    bands = c.shell_bands(min_count=1 if len(c) < 500 else max(5, len(c) // 500))
    summary = c.summary() | {
        "sources": c.report.sources,
        "shells": bands,
        "rejections": [str(r) for r in c.report.rejected],
        "duplicates": [d.__dict__ for d in c.report.duplicates],
        "repaired": c.report.repaired,
        "notes": c.report.notes,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    r = c.report
    out_console.print(f"[bold]{', '.join(r.sources)}[/]")
    out_console.print(f"  records read {r.read}, accepted {r.accepted}, rejected {len(r.rejected)}, duplicates {len(r.duplicates)} (newest epoch kept)")
    first, last = c.epoch_range()
    out_console.print(f"  satellites {len(c)}, epochs {first} .. {last}")
    for note in r.notes:
        out_console.print(f"  note: {note}", highlight=False)
    t = Table(title="Satellites by shell (inclination / mean altitude bands)", title_justify="left")
    for col in ("inclination deg", "mean altitude km", "satellites"):
        t.add_column(col, justify="right")
    t.add_column("")
    for b in bands:
        inc = "" if b["inclination_deg"] is None else f"{b['inclination_deg']:.1f}"
        alt = "" if b["altitude_km"] is None else f"{b['altitude_km']:.0f}"
        t.add_row(inc, alt, str(b["satellites"]), b.get("note", ""))
    out_console.print(t)
    limit = None if all_rejections else 20
    for rej in r.rejected[:limit]:
        out_console.print(f"rejected {rej}", highlight=False, markup=False)
    if limit and len(r.rejected) > limit:
        out_console.print(f"... {len(r.rejected) - limit} more (use --all-rejections)")
    for d in r.duplicates[:limit]:
        out_console.print(f"duplicate {d.norad_id}: kept {d.kept} (epoch {format_time(d.kept_epoch_ns, 's')}), dropped {d.dropped}", highlight=False)
    for rep in r.repaired[:limit]:
        out_console.print(f"repaired {rep}", highlight=False)


@cli.command()
def shells() -> None:
    """List the filed-shell presets (Walker-delta) and their shells."""
    from leonet.sources.walker import PRESET_DESCRIPTIONS, PRESETS

    t = Table(title="Filed shells (use --preset NAME)", title_justify="left")
    for col in ("preset", "shell", "planes", "sats/plane", "satellites", "altitude km", "inclination deg", "F", "RAAN spread"):
        t.add_column(col, justify="right" if col not in ("preset", "shell") else "left")
    for name, shells_ in PRESETS.items():
        for k, s in enumerate(shells_):
            t.add_row(name if k == 0 else "", s.name, str(s.planes), str(s.sats_per_plane), str(s.total), f"{s.altitude_km:.0f}", f"{s.inclination_deg:.1f}", str(s.phasing), f"{s.raan_spread_deg:.0f}")
        t.add_row("", f"[dim]{PRESET_DESCRIPTIONS[name]}: {sum(s.total for s in shells_)} total[/]", "", "", "", "", "", "", "", end_section=True)
    out_console.print(t)


@cli.command()
@source_options
@click.option("--start", required=True, help="First instant, ISO-8601 UTC (e.g. 2024-10-23T00:00:00Z).")
@click.option("--duration", required=True, help="Span after --start, e.g. 90min, 1h, P1D (end excluded).")
@click.option("--step", required=True, help="Time step, e.g. 60s.")
@click.option("--frame", type=click.Choice(["itrf", "teme", "geodetic"]), default="itrf", show_default=True)
@click.option("--sats", "sats", help="Only these catalogue numbers, comma-separated.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes for SGP4 (default: all cores).")
@handle_errors
def propagate(sources, preset, repair_checksums, cache_dir, start, duration, step, frame, sats, fmt, output, workers) -> None:
    """SGP4 states, one row per (satellite, time): norad_id,time_utc,x_km,y_km,z_km
    (itrf, teme) or norad_id,time_utc,lat_deg,lon_deg,alt_km (geodetic), plus an `error`
    column that is empty unless SGP4 failed for that row."""
    from leonet.export.states import write_states
    from leonet.orbits.propagate import propagate as run

    grid = TimeGrid.from_span(start, duration, step)
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns)
    ids = parse_id_list(sats)
    if ids is not None:
        c = c.select(norad_ids=ids)
    total = len(c) * grid.count
    with progress_bar("propagating", total) as advance:
        states = run(c.satrecs, grid.t_ns, frame="teme" if frame == "teme" else "itrf", workers=workers, velocities=False, progress=advance)
    err_console.print(states.error_summary())
    with err_console.status(f"writing {total:,} rows"):
        rows = write_states(states, c.norad_id, output, fmt, frame)
    err_console.print(f"wrote {rows:,} rows to {output}")


@cli.command()
@source_options
@click.option("--lat", type=LAT_DEG, required=True, help="Latitude, degrees north (WGS84).")
@click.option("--lon", type=LON_DEG, required=True, help="Longitude, degrees east.")
@click.option("--alt-m", type=float, default=0.0, show_default=True, help="Height above the WGS84 ellipsoid, m.")
@click.option("--time", "when", required=True, help="Instant, ISO-8601 UTC, or 'now'.")
@click.option("--min-elevation-deg", type=ELEVATION_DEG, default=25.0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@handle_errors
def overhead(sources, preset, repair_checksums, cache_dir, lat, lon, alt_m, when, min_elevation_deg, fmt) -> None:
    """Satellites above the elevation mask at one instant, highest first."""
    from leonet.coverage.overhead import overhead as find

    if not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 360.0:
        raise InputError(f"--lat {lat} must be in [-90, 90] and --lon {lon} in [-180, 360]")
    t_ns = parse_time(when)
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=t_ns, quiet=fmt != "table")
    rows = find(c, lat, lon, alt_m / 1000.0, t_ns, min_elevation_deg)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if fmt == "csv":
        keys = ["norad_id", "name", "azimuth_deg", "elevation_deg", "range_km", "altitude_km"]
        click.echo(",".join(keys))
        for r in rows:
            click.echo(",".join(str(r[k]) for k in keys))
        return
    t = Table(title=f"{len(rows)} satellites above {min_elevation_deg:g} deg at {lat:.4f}, {lon:.4f} ({format_time(t_ns)})", title_justify="left")
    for col in ("norad_id", "name", "azimuth deg", "elevation deg", "range km", "altitude km"):
        t.add_column(col, justify="left" if col == "name" else "right")
    for r in rows:
        t.add_row(str(r["norad_id"]), r["name"], f"{r['azimuth_deg']:.2f}", f"{r['elevation_deg']:.2f}", f"{r['range_km']:.1f}", f"{r['altitude_km']:.1f}")
    out_console.print(t)


@cli.command()
@source_options
@click.option("--lat", type=LAT_DEG, required=True, help="Latitude, degrees north (WGS84).")
@click.option("--lon", type=LON_DEG, required=True, help="Longitude, degrees east.")
@click.option("--alt-m", type=float, default=0.0, show_default=True, help="Height above the WGS84 ellipsoid, m.")
@click.option("--start", required=True, help="Window start, ISO-8601 UTC (e.g. 2024-10-23T00:00:00Z).")
@click.option("--duration", required=True, help="Window length after --start, e.g. 6h, 90min, P1D.")
@click.option("--min-elevation-deg", type=ELEVATION_DEG, default=25.0, show_default=True)
@click.option("--sats", "sats", help="Only these catalogue numbers, comma-separated.")
@click.option("--coarse-step", help="Step of the first search, e.g. 20s (default: from the fastest satellite, 5-30 s).")
@click.option("--format", "fmt", type=click.Choice(["csv"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file.")
@handle_errors
def passes(sources, preset, repair_checksums, cache_dir, lat, lon, alt_m, start, duration, min_elevation_deg, sats, coarse_step, fmt, output) -> None:
    """Passes over a ground point above the elevation mask, one row per pass sorted by rise time:
    norad_id,rise_utc,culminate_utc,set_utc,max_elevation_deg (times to the ms, refined to 0.01 s).
    A pass already above the mask at --start rises at --start; one still above it at the end of
    the window sets there (its culmination is then the highest point inside the window)."""
    from leonet.coverage.passes import default_coarse_step_s, find_passes
    from leonet.times import NS_PER_S, parse_duration

    if not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 360.0:
        raise InputError(f"--lat {lat} must be in [-90, 90] and --lon {lon} in [-180, 360]")
    t0 = parse_time(start)
    t1 = t0 + parse_duration(duration)
    step_s = parse_duration(coarse_step) / NS_PER_S if coarse_step is not None else None
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=t0)
    ids = parse_id_list(sats)
    if ids is not None:
        c = c.select(norad_ids=ids)
    if step_s is None:
        step_s = default_coarse_step_s(c.satrecs, alt_m / 1000.0)
    step_ns = int(round(step_s * NS_PER_S))
    with progress_bar("searching", len(c) * (-(-(t1 - t0) // step_ns) + 1)) as advance:
        found = find_passes(c.satrecs, lat, lon, alt_m / 1000.0, t0, t1, min_elevation_deg, step_s, progress=advance)
    norad = c.norad_id[found.sat_index]
    order = np.lexsort((norad, found.rise_ns))  # by rise time (as found), ties by catalogue number
    rise, cul, sets = (format_time(a[order], "ms") for a in (found.rise_ns, found.culminate_ns, found.set_ns))
    with open(output, "w", encoding="utf-8", newline="") as fh:
        fh.write("norad_id,rise_utc,culminate_utc,set_utc,max_elevation_deg\n")
        fh.writelines(f"{n},{r},{m},{s},{e:.4f}\n" for n, r, m, s, e in zip(norad[order], rise, cul, sets, found.max_elevation_deg[order]))
    err_console.print(
        f"{len(found):,} passes of {len(np.unique(found.sat_index)):,} of {len(c):,} satellites above "
        f"{min_elevation_deg:g} deg at {lat:.4f}, {lon:.4f} from {format_time(t0)} to {format_time(t1)} "
        f"({int(found.rise_at_start.sum())} in progress at the start, {int(found.set_at_end.sum())} unfinished at the end); "
        f"wrote {output}",
        highlight=False,
    )


@cli.command()
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), help="Where to write (default out/taiwan).")
@handle_errors
def demo(output_dir: str | None) -> None:
    """The main job: Starlink over Taiwan and its neighbours for 24 h at 60 s, with service
    over Taiwan not activated, against service active everywhere (examples/taiwan.toml).
    Writes Parquet tables, a DuckDB database and an HTML report with maps."""
    from leonet.jobs.regional import demo_scenario_path, run_file

    run_file(demo_scenario_path(), Path(output_dir) if output_dir else None)


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), help="Override [output] dir.")
@click.option("--policy-db", help="Control-plane database URL: apply the policy in force there at each simulated time, over the scenario's own.")
@handle_errors
def run(scenario: str, output_dir: str | None, policy_db: str | None) -> None:
    """Run a scenario file (TOML; see examples/taiwan.toml and `leonet.jobs.scenario` for the keys)."""
    from leonet.jobs.regional import run_file

    run_file(scenario, Path(output_dir) if output_dir else None, policy_db=policy_db)


@cli.command()
@source_options
@click.option("--region", "regions", required=True, help="Country codes (ISO 3166 alpha-2/3 or numeric), comma-separated.")
@click.option("--h3-res", type=click.IntRange(0, 15), default=5, show_default=True, help="H3 resolution of the service cells.")
@click.option("--start", required=True, help="First instant, ISO-8601 UTC.")
@click.option("--duration", required=True, help="Span after --start (end excluded), e.g. 24h.")
@click.option("--step", required=True, help="Time step, e.g. 60s.")
@click.option("--min-elevation-deg", type=ELEVATION_DEG, default=25.0, show_default=True)
@click.option("--max-range-km", type=click.FloatRange(min=0, min_open=True), help="Also require slant range at most this.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file.")
@click.option("--policy-db", help="Control-plane database URL: cells_covered then counts only cells whose region is active at that time.")
@handle_errors
def coverage(sources, preset, repair_checksums, cache_dir, regions, h3_res, start, duration, step, min_elevation_deg, max_range_km, fmt, output, policy_db) -> None:
    """Satellites in view over regions: one row per (time, region) with columns
    time_utc,region,cells,cells_covered,sats_in_view_min,sats_in_view_mean,sats_in_view_max,sats_overhead
    (sats_overhead: satellites whose sub-satellite point lies inside the region)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from leonet.coverage.regional import build_area, run_regional
    from leonet.ground.regions import Region
    from leonet.policy.model import ServicePolicy

    grid = TimeGrid.from_span(start, duration, step)
    codes = [c.strip() for c in regions.split(",") if c.strip()]
    if not codes:
        raise InputError("--region needs at least one country code, e.g. --region TWN or --region TW,JP")
    targets = tuple(Region.country(code) for code in codes)
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns)
    with err_console.status("finding the regions' cells"):
        area = build_area(targets, h3_res, 0.0)
    err_console.print(f"{len(area):,} cells, {grid.count:,} instants, {len(c):,} satellites")
    policy = ServicePolicy.active_everywhere()
    if policy_db:
        from leonet.control import load_policy

        policy = load_policy(policy_db)
        err_console.print(f"policy from {policy_db}: {len(policy.rules)} activation states")
    with progress_bar("coverage", grid.count, "instants") as advance:
        res = run_regional(c, area, grid.t_ns, policy, min_elevation_deg, max_range_km, progress=advance)
    ts = res.timeseries()
    if policy_db:
        ts["cells_covered"] = ts["cells_served"]  # covered AND active: the policy in force
    cols = ["region", "cells", "cells_covered", "sats_in_view_min", "sats_in_view_mean", "sats_in_view_max", "sats_overhead"]
    table = pa.table({"time_utc": format_time(ts["t_ns"]), **{k: ts[k] for k in cols}})
    if fmt == "csv":
        pacsv.write_csv(table, output)
    else:
        pq.write_table(table, output)
    err_console.print(f"{res.sgp4_failures}; wrote {table.num_rows:,} rows to {output}")


# Commands of later pipeline stages live in their own modules.
from leonet.cli.control import register_control  # noqa: E402
from leonet.cli.deploy import deployment, track  # noqa: E402
from leonet.cli.network import route  # noqa: E402

cli.add_command(route)
cli.add_command(deployment)
cli.add_command(track)
register_control(cli)


def main() -> None:
    cli(prog_name="leonet")


if __name__ == "__main__":
    main()
