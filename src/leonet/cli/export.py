"""``leonet export czml`` and ``leonet export geojson cells|regions|route``: parse, call the
front door, write through :mod:`leonet.export`."""

from __future__ import annotations

from pathlib import Path

import click

from leonet import api
from leonet.cli.common import (
    ELEVATION_DEG,
    check_job,
    check_stale,
    grid_options,
    handle_errors,
    load_sources,
    max_memory_option,
    output_file,
    progress_bar,
    say,
    source_options,
    states_option,
)
from leonet.cli.coverage import policy_from_db, run_coverage
from leonet.errors import InputError


def _suffix(output: str, allowed: tuple[str, ...], what: str) -> None:
    if Path(output).suffix.lower() not in allowed:
        raise InputError(f"-o {output}: {what} files end in {' or '.join(allowed)}; give e.g. -o out{allowed[0]}")


@click.group()
def export() -> None:
    """Files for other tools: CZML for CesiumJS, GeoJSON (RFC 7946) for maps and GIS."""


@export.command()
@source_options
@click.option("--start", required=True, help="First instant, ISO-8601 UTC (e.g. 2024-10-23T00:00:00Z).")
@click.option("--duration", required=True, help="Span after --start (end excluded), e.g. 90min, 1h.")
@click.option("--step", required=True, help="Time between position samples, e.g. 60s (Cesium interpolates between them).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file, OUT.czml.")
@click.option("--name", help="Document name shown by Cesium (default: the element sets' label).")
@click.option("--multiplier", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Clock speed: simulated seconds per real second when Cesium plays the document.")
@click.option("--path", "trail", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Draw each satellite's track behind it over this many seconds (heavy for thousands of satellites).")
@click.option("--labels", is_flag=True, help="Show each satellite's name next to it.")
@click.option("--states", "states_text", metavar="STATE[,STATE...]|all",
              help="Only satellites in these operational states (see leonet fleet); default all, coloured by state.")
@max_memory_option
@handle_errors
def czml(sources, preset, repair_checksums, cache_dir, start, duration, step, output, name, multiplier, trail, labels, states_text, max_memory_gb) -> None:
    """Satellites as a CZML document for CesiumJS: a document packet (name, clock over the
    window) then one packet per satellite with its positions sampled every --step in Cesium's
    FIXED (Earth-fixed) frame, its NORAD id, operational state and shell (description and
    properties), and a point coloured by state: operational green, raising blue, lowering
    orange, deorbiting red, dtc purple, unassigned grey."""
    from leonet.sources.fleet import parse_states

    _suffix(output, (".czml",), "CZML")
    grid = grid_options(start, duration, step)
    states = None
    if states_text and states_text.strip().lower() != "all":
        try:
            states = parse_states(states_text)
        except InputError as exc:
            raise InputError(f"--states {states_text}: {exc}") from None
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns)
    check_job(api.estimate_czml(len(c), grid), max_memory_gb)
    check_stale(c, grid)
    with progress_bar("writing CZML", len(c), "satellites") as advance:
        w = api.export_czml(c, grid, output, states=states, name=name, multiplier=multiplier, path_trail_s=trail, labels=labels,
                            allow_stale_elements=True, progress=advance)  # age checked above
    note = f"; {w.missing:,} states SGP4 could not compute left out" if w.missing else ""
    say(f"wrote {w.packets:,} satellites x {grid.count:,} instants ({w.samples:,} positions{note}) to {output}, {w.bytes / 2**20:,.1f} MB")


@export.group()
def geojson() -> None:
    """GeoJSON (RFC 7946): H3 cells with figures of merit, regions, routes. Longitudes in
    [-180, 180], exterior rings counter-clockwise, shapes crossing the antimeridian cut in two."""


@geojson.command()
@source_options
@click.option("--table", "table_path", type=click.Path(dir_okay=False), help="Instead of a coverage run: a cells table with an h3_cell column, e.g. a run's cells.parquet.")
@click.option("--region", "regions", help="Country codes (ISO 3166) or GeoJSON files, comma-separated.")
@click.option("--h3-res", type=click.IntRange(0, 15), default=5, show_default=True, help="H3 resolution of the cells.")
@click.option("--start", help="First instant, ISO-8601 UTC.")
@click.option("--duration", help="Span after --start (end excluded), e.g. 24h.")
@click.option("--step", help="Time step, e.g. 60s.")
@click.option("--min-elevation-deg", type=ELEVATION_DEG, default=25.0, show_default=True)
@click.option("--max-range-km", type=click.FloatRange(min=0, min_open=True), help="Also require slant range at most this.")
@click.option("--policy-db", help="Control-plane database URL: service figures count only cells active under its policy.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file, OUT.geojson.")
@states_option
@max_memory_option
@handle_errors
def cells(sources, preset, repair_checksums, cache_dir, table_path, regions, h3_res, start, duration, step, min_elevation_deg, max_range_km, policy_db,
          output, states, max_memory_gb) -> None:
    """H3 cells with their figures of merit, one Polygon (MultiPolygon across the antimeridian)
    per cell. Either run coverage (FILE...|--preset, --region, --start, --duration, --step),
    or read a table of cells (--table RUN/cells.parquet from leonet run/demo). Properties: the
    columns of a run's cells table: h3_cell, region, lat_deg, lon_deg, population,
    coverage_* and service_* (sats_in_view_min/mean/max, percent_covered_ge1.., gap_count,
    gap_max_s, gap_mean_s, response_time_mean_s, response_time_max_s, time_average_gap_s,
    access_count)."""
    from leonet.export.geojson import cells_table_feature_collection, write_geojson

    _suffix(output, (".geojson", ".json"), "GeoJSON")
    if table_path:
        extra = [o for o, v in (("FILE", sources), ("--preset", preset), ("--region", regions), ("--start", start), ("--duration", duration),
                                ("--step", step), ("--policy-db", policy_db)) if v]
        if extra:
            raise InputError(f"--table reads a finished run's cells; drop {', '.join(extra)} (or drop --table to run coverage)")
        import pyarrow.parquet as pq

        p = Path(table_path)
        if not p.is_file():
            raise InputError(f"--table {table_path}: no such file; give a run's cells.parquet")
        try:
            table = pq.read_table(p)
        except Exception as exc:  # noqa: BLE001 (any reader failure is the user's file)
            raise InputError(f"--table {table_path}: not a Parquet table ({exc})") from None
        n = write_geojson(cells_table_feature_collection(table, leonet={"source": str(p)}), output)
        say(f"wrote {n:,} cells to {output}")
        return
    missing = [o for o, v in (("--region", regions), ("--start", start), ("--duration", duration), ("--step", step)) if not v]
    if missing:
        raise InputError(f"give {', '.join(missing)} to run coverage (or --table RUN/cells.parquet to export a finished run's cells)")
    cov = run_coverage(sources, preset, repair_checksums, cache_dir, regions, h3_res, start, duration, step, min_elevation_deg, max_range_km,
                       policy_db, states, max_memory_gb)[0]
    n = write_geojson(cov.to_geojson(), output)
    say(f"wrote {n:,} cells at H3 resolution {h3_res} to {output}")


@geojson.command()
@click.option("--region", "regions", help="Country codes (ISO 3166) or GeoJSON files, comma-separated.")
@click.option("--policy-db", help="Control-plane database URL: also every region its activation states name, with its state at --time.")
@click.option("--time", "when", help="With --policy-db: the instant whose states to give, ISO-8601 UTC (default now).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file, OUT.geojson.")
@handle_errors
def regions(regions, policy_db, when, output) -> None:
    """Regions as polygons: countries (Natural Earth borders) or GeoJSON files given with
    --region, and with --policy-db the regions of the control plane's policy (countries,
    polygons, cell sets) with properties active (at --time) and rules."""
    from leonet.export.geojson import write_geojson
    from leonet.times import parse_time

    _suffix(output, (".geojson", ".json"), "GeoJSON")
    if not regions and not policy_db:
        raise InputError("give --region CODES (e.g. --region TWN,JPN) and/or --policy-db URL")
    if when and not policy_db:
        raise InputError("--time applies with --policy-db (the instant whose activation states to give)")
    if when:
        try:
            parse_time(when)
        except InputError as exc:
            raise InputError(f"--time {when}: {exc}") from None
    codes = [c.strip() for c in (regions or "").split(",") if c.strip()]
    policy = policy_from_db(policy_db)
    doc = api.regions_geojson(codes, policy=policy, at=when)
    n = write_geojson(doc, output)
    say(f"wrote {n:,} regions to {output}")


@geojson.command()
@source_options
@click.option("--from", "src_text", required=True, help="Source: city name, 'lat,lon' or gateway name.")
@click.option("--to", "dst_text", required=True, help="Destination: city name, 'lat,lon' or gateway name.")
@click.option("--start", required=True, help="First instant, ISO-8601 UTC.")
@click.option("--duration", required=True, help="Span after --start (end excluded), e.g. 10min.")
@click.option("--step", required=True, help="Time step, e.g. 60s: one route line per step.")
@click.option("--mode", type=click.Choice(["isl", "bentpipe", "gateway"]), default="isl", show_default=True, help="As leonet route.")
@click.option("--min-elevation-deg", type=click.FloatRange(-90, 90), default=25.0, show_default=True, help="Ground-link elevation mask.")
@click.option("--gateways", "gateways_file", type=click.Path(dir_okay=False), help="Gateways and PoPs file (default: the packaged set).")
@click.option("--inactive", help="Countries (ISO codes) where service is off, comma-separated.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file, OUT.geojson.")
@states_option
@handle_errors
def route(sources, preset, repair_checksums, cache_dir, src_text, dst_text, start, duration, step, mode, min_elevation_deg, gateways_file, inactive,
          output, states) -> None:
    """The route between two places (as leonet route) on the map: the two endpoints as Points,
    then one LineString per step over the ground under each satellite, gateway and link
    (MultiLineString where it crosses the antimeridian) with time_utc, src, dst, hops, rtt_ms,
    length_m, path (node names) and node_kinds; a step with no route keeps its feature with a
    null geometry."""
    from leonet.export.geojson import write_geojson

    _suffix(output, (".geojson", ".json"), "GeoJSON")
    grid = grid_options(start, duration, step)
    const = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns, window=grid)
    with progress_bar("routing", grid.count, "steps") as advance:
        r = api.route(const, src_text, dst_text, grid, mode=mode, min_elevation_deg=min_elevation_deg, gateways=gateways_file, inactive=inactive or (),
                      allow_stale_elements=True, progress=advance, **({} if states == "default" else {"states": states}))
    doc = r.to_geojson()
    n = write_geojson(doc, output)
    reach = sum(1 for f in doc["features"] if f["geometry"] is not None and f["geometry"]["type"] != "Point")
    say(f"wrote {n:,} features ({reach:,} of {grid.count:,} steps with a route) to {output}")


__all__ = ["export"]
