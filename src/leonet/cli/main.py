"""``leonet``: the command line over the library. Every command has ``--help``."""

from __future__ import annotations

import sys

import click
from rich.table import Table
from rich.text import Text

from leonet.cli.common import (
    ELEVATION_DEG,
    LAT_DEG,
    LON_DEG,
    check_job,
    check_stale,
    cli_command_line,
    err_console,
    grid_options,
    handle_errors,
    load_sources,
    max_memory_option,
    out_console,
    output_file,
    output_format,
    parse_id_list,
    progress_bar,
    report_exception,
    say,
    source_options,
)
from leonet.times import format_time, parse_time
from leonet.version import __version__


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
    from leonet.cli.fleet import fleet_counts_table
    from leonet.export.files import write_json
    from leonet.sources.inventory import inventory

    c = load_sources(sources, preset, repair_checksums, cache_dir, quiet=True)
    summary = inventory(c)
    if as_json:
        write_json(summary, sys.stdout, default=str)
        return
    r = c.report
    say((", ".join(r.sources), "bold"), console=out_console)
    out_console.print(f"  records read {r.read}, accepted {r.accepted}, rejected {len(r.rejected)}, duplicates {len(r.duplicates)} (newest epoch kept)")
    first, last = c.epoch_range()
    out_console.print(f"  satellites {len(c)}, epochs {first} .. {last}")
    for note in r.notes:
        out_console.print(f"  note: {note}", highlight=False)
    t = Table(title="Satellites by shell (inclination / mean altitude bands)", title_justify="left")
    for col in ("inclination deg", "mean altitude km", "satellites"):
        t.add_column(col, justify="right")
    t.add_column("note")
    for b in summary["shells"]:
        inc = "" if b["inclination_deg"] is None else f"{b['inclination_deg']:.1f}"
        alt = "" if b["altitude_km"] is None else f"{b['altitude_km']:.0f}"
        t.add_row(inc, alt, str(b["satellites"]), b.get("note", ""))
    out_console.print(t)
    out_console.print(fleet_counts_table(summary["states"], "Satellites by operational state (leonet fleet lists them)"))
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
        t.add_row("", Text(f"{PRESET_DESCRIPTIONS[name]}: {sum(s.total for s in shells_)} total", style="dim"), "", "", "", "", "", "", "", end_section=True)
    out_console.print(t)


@cli.command()
@source_options
@click.option("--start", required=True, help="First instant, ISO-8601 UTC (e.g. 2024-10-23T00:00:00Z).")
@click.option("--duration", required=True, help="Span after --start, e.g. 90min, 1h, P1D (end excluded).")
@click.option("--step", required=True, help="Time step, e.g. 60s.")
@click.option("--frame", type=click.Choice(["itrf", "teme", "geodetic"]), default="itrf", show_default=True)
@click.option("--sats", "sats", help="Only these catalogue numbers, comma-separated.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), help="Table format (default: from the extension of -o).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=output_file, help="Output file.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes for SGP4 (default: all cores).")
@max_memory_option
@handle_errors
def propagate(sources, preset, repair_checksums, cache_dir, start, duration, step, frame, sats, fmt, output, workers, max_memory_gb) -> None:
    """SGP4 states, one row per (satellite, time): norad_id,time_utc,x_km,y_km,z_km
    (itrf, teme) or norad_id,time_utc,lat_deg,lon_deg,alt_km (geodetic), plus an `error`
    column that is empty unless SGP4 failed for that row."""
    from leonet.api import estimate_states
    from leonet.export.metadata import run_metadata
    from leonet.export.states import write_states
    from leonet.orbits.propagate import propagate as run

    fmt = output_format(fmt, output)
    grid = grid_options(start, duration, step)
    ids = parse_id_list(sats)
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns)
    if ids is not None:
        c = c.select(norad_ids=ids)
    check_job(estimate_states(len(c), grid.count), max_memory_gb)
    check_stale(c, grid)
    total = len(c) * grid.count
    with progress_bar("propagating", total) as advance:
        states = run(c.satrecs, grid.t_ns, frame="teme" if frame == "teme" else "itrf", workers=workers, velocities=False, progress=advance)
    err_console.print(states.error_summary())
    with err_console.status(f"writing {total:,} rows"):
        meta = run_metadata(c, grid, command_line=cli_command_line(), frame=frame)
        rows = write_states(states, c.norad_id, output, fmt, frame, meta)
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
    from leonet.export.files import write_json
    from leonet.export.listings import write_overhead_csv

    t_ns = parse_time(when)
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=t_ns, quiet=fmt != "table", window=(t_ns, t_ns))
    rows = find(c, lat, lon, alt_m / 1000.0, t_ns, min_elevation_deg)
    if fmt == "json":
        write_json(rows, sys.stdout)
        return
    if fmt == "csv":
        write_overhead_csv(rows, sys.stdout)
        return
    t = Table(title=f"{len(rows)} satellites above {min_elevation_deg:g} deg at {lat:.4f}, {lon:.4f} ({format_time(t_ns)})", title_justify="left")
    for col in ("norad_id", "name", "state", "azimuth deg", "elevation deg", "range km", "altitude km"):
        t.add_column(col, justify="left" if col in ("name", "state") else "right")
    for r in rows:
        t.add_row(str(r["norad_id"]), r["name"], r["state"], f"{r['azimuth_deg']:.2f}", f"{r['elevation_deg']:.2f}", f"{r['range_km']:.1f}", f"{r['altitude_km']:.1f}")
    out_console.print(t)


# Commands of later pipeline stages live in their own modules.
from leonet.cli.capacity import COMMANDS as CAPACITY_COMMANDS  # noqa: E402
from leonet.cli.control import register_control  # noqa: E402
from leonet.cli.coverage import COMMANDS as COVERAGE_COMMANDS  # noqa: E402
from leonet.cli.deploy import deployment, track  # noqa: E402
from leonet.cli.export import export  # noqa: E402
from leonet.cli.fleet import fleet  # noqa: E402
from leonet.cli.network import route  # noqa: E402
from leonet.cli.scale import sweep  # noqa: E402

for command in (*COVERAGE_COMMANDS, *CAPACITY_COMMANDS):
    cli.add_command(command)
cli.add_command(route)
cli.add_command(sweep)
cli.add_command(fleet)
cli.add_command(deployment)
cli.add_command(track)
cli.add_command(export)
register_control(cli)


def main() -> None:
    """The ``leonet`` command. Errors raised outside a command body (option callbacks, imports)
    take the same one error path as inside one: a line, no traceback, a documented exit code."""
    try:
        cli(prog_name="leonet")
    except SystemExit as exc:
        leave(exc.code)
    except (click.exceptions.Exit, click.ClickException):
        raise
    except BaseException as exc:  # noqa: BLE001
        report_exception(exc)


def leave(code: object) -> None:
    """End the process with ``code`` once the command is done, skipping the interpreter's
    teardown: with numba, Arrow, DuckDB and matplotlib loaded, unloading ~1,600 modules and
    their native libraries takes 0.2-0.7 s after the work is finished and written. Exit
    handlers still run and the standard streams are flushed; every file a command writes is
    closed before it returns. Only when this is the main thread and no other Python thread is
    left but the library's worker pool (:func:`leonet.cpu.thread_pool`, threads named
    ``leonet-pool-*``, idle once a command has returned: their callers wait for them), since a
    thread still working must be let finish, as a normal exit would (the control server's
    background threads, for one, take the normal exit); and only for a numeric code (a message is printed by ``sys.exit``)."""
    import atexit
    import os
    import threading

    others = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.name.startswith("leonet-pool")]
    if not (code is None or isinstance(code, int)) or threading.current_thread() is not threading.main_thread() or others:
        sys.exit(code)
    atexit._run_exitfuncs()  # what a normal exit runs first (logging, multiprocessing, tempfile finalizers)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: a normal exit would not report it either
            pass
    os._exit(code or 0)


if __name__ == "__main__":
    main()
