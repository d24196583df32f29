"""``leonet deployment`` (launch table from international designators) and ``leonet track``
(imaging access windows and figures of merit): parse, call the library, print and write."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
from rich.table import Table

from leonet.cli.common import err_console, handle_errors, load_sources, out_console, output_file, progress_bar, say, source_options
from leonet.cli.scale import _events, output_file_or_run, partition_options
from leonet.errors import InputError
from leonet.times import NS_PER_S, parse_duration, parse_time


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="FILE...")
@click.option("--compare", "compare_with", type=click.Path(dir_okay=False), help="Another snapshot: list satellites added and lost between the two.")
@click.option("--history", "history", multiple=True, type=click.Path(dir_okay=False), metavar="OLDER",
              help="An older snapshot (repeatable): add, per launch year, the satellites it holds that FILE no longer does (lost since).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), callback=output_file, help="Also draw the deployment to this file (.png/.svg/.pdf).")
@click.option("--inclination-step-deg", type=click.FloatRange(min=0, min_open=True), default=0.5, show_default=True, help="Width of the shell bands in inclination.")
@click.option("--altitude-step-km", type=click.FloatRange(min=0, min_open=True), help="Also split shells by mean-altitude bands of this width.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), callback=output_file, help="Also write the table (and comparison) as JSON.")
@click.option("--all-launches", is_flag=True, help="List every launch (default: the first and last 15 and totals).")
@handle_errors
def deployment(sources, compare_with, history, plot_path, inclination_step_deg, altitude_step_km, json_path, all_launches) -> None:
    """Launches, batch per launch and satellites per shell over the years, from the
    international designators of an element-set snapshot; prints the tables and, with --plot, draws them.
    A snapshot holds only objects still in orbit, so the table counts survivors only (the
    output says how many launches and satellites per year); --history OLDER adds the satellites
    lost since older snapshots, and --compare lists what was added and lost between two."""
    from leonet.deployment.table import check_plot_path, deployment_report, plot_deployment
    from leonet.export.files import write_json

    path = Path(plot_path) if plot_path else None
    if path is not None:
        check_plot_path(path)
    rep = deployment_report(list(sources), compare_with, inclination_step_deg, altitude_step_km, history=list(history))
    _print_deployment(rep, all_launches)
    if path is not None:  # nothing is written unless asked for
        plot_deployment(rep.table, path)
        say(f"wrote plot {path}")
    if json_path:
        write_json(rep.as_dict(), json_path)
        err_console.print(f"wrote {json_path}")


def _print_deployment(rep, all_launches: bool) -> None:  # type: ignore[no-untyped-def]
    c, tab, d = rep.constellation, rep.table, rep.comparison
    rows = tab.launch_rows()
    t = Table(title=f"{c.label}: {len(c):,} satellites in orbit from {len(tab)} launches (epochs {tab.epoch_range[0]} .. {tab.epoch_range[1]})", title_justify="left")
    for col in ("#", "launch", "satellites", "pieces", "main shell now", "median alt km"):
        t.add_column(col, justify="left" if col in ("launch", "pieces", "main shell now") else "right")
    shown = rows if all_launches or len(rows) <= 30 else rows[:15] + [None] + rows[-15:]
    for r in shown:
        if r is None:
            t.add_row("...", f"{len(rows) - 30} more (--all-launches)", "", "", "", "")
            continue
        t.add_row(str(r["order"]), r["launch"], str(r["satellites"]), r["pieces"], r["main_shell"], f"{r['median_altitude_km']:.0f}")
    out_console.print(t)
    ty = Table(title="Satellites in orbit by launch year and shell now", title_justify="left")
    ty.add_column("year", justify="right")
    for s in tab.shells:
        ty.add_column(str(s), justify="right")
    ty.add_column("total", justify="right")
    ty.add_column("cumulative", justify="right")
    for r in tab.year_rows():
        ty.add_row(str(r["year"]), *[str(r[str(s)]) for s in tab.shells], str(r["total"]), str(r["cumulative"]))
    out_console.print(ty)
    for note in tab.notes:
        out_console.print(f"note: {note}", highlight=False)
    out_console.print(
        f"Survivors only: this table counts the {len(c):,} satellites still in orbit at the snapshot, from {len(tab)} launches; "
        "a launch whose satellites have all re-entered is absent and every count is a lower bound. Launches (satellites) found per launch year: "
        + ", ".join(f"{r['year'] if r['year'] >= 0 else 'unknown'}: {r['launches']} ({r['satellites']:,})" for r in rep.survivors),
        highlight=False,
    )
    if rep.lost_since is not None:
        lost = rep.lost_since
        th = Table(title=f"Lost since {', '.join(lost.history)} (in an older snapshot, not in this one)", title_justify="left")
        for col in ("launch year", "launches with survivors", "launches only in history", "survivors", "lost since"):
            th.add_column(col, justify="right")
        for r in lost.year_rows():
            th.add_row(str(r["year"]) if r["year"] >= 0 else "unknown", str(r["launches_with_survivors"]), str(r["launches_only_in_history"]),
                       f"{r['survivors']:,}", f"{r['lost']:,}")
        th.add_row("total", str(int((lost.survivors > 0).sum())), str(int((lost.survivors == 0).sum())), f"{int(lost.survivors.sum()):,}",
                   f"{int(lost.lost.sum()):,}", end_section=True)
        out_console.print(th)
    if d is not None:
        out_console.print(
            f"{d.older} ({d.older_epochs[1]}) -> {d.newer} ({d.newer_epochs[1]}): "
            f"{d.kept.size:,} in both, {d.added.size:,} added, {d.lost.size:,} lost (re-entered or no longer listed)"
        )
        out_console.print("  added by launch year: " + ", ".join(f"{y}: {n}" for y, n in d.added_by_year.items()), highlight=False)
        out_console.print("  lost by launch year:  " + ", ".join(f"{y}: {n}" for y, n in d.lost_by_year.items()), highlight=False)

@click.command()
@source_options
@click.option("--target", "target_texts", multiple=True, help="A point target LAT,LON in degrees (repeatable).")
@click.option("--target-file", type=click.Path(dir_okay=False), help="CSV: name,lat_deg,lon_deg[,time_utc] (points, tracks) or name,h3_cell (areas).")
@click.option("--max-off-nadir-deg", type=float, help="Sensor cone half-angle at the satellite (default: no cone).")
@click.option("--min-elevation-deg", type=float, default=10.0, show_default=True, help="Lowest elevation of the satellite seen from the target.")
@click.option("--sun-min-elevation-deg", type=float, help="Optical sensor: Sun at least this high at the target (default: day and night).")
@click.option("--start", required=True, help="Window start, ISO-8601 UTC.")
@click.option("--duration", required=True, help="Window length, e.g. 24h, P1D.")
@click.option("--step", required=True, help="Search step (windows are refined to 0.01 s), e.g. 20s; at most 120s.")
@click.option("--format", "fmt", type=click.Choice(["csv"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(), callback=output_file_or_run,
              help="Access CSV: target,norad_id,start_utc,end_utc,max_elevation_deg. With --scheduler: a folder (accesses.csv, summary.json inside).")
@click.option("--summary-json", type=click.Path(dir_okay=False), callback=output_file, help="Also write the figures of merit (and age of data) as JSON.")
@click.option("--gateways", "gateway_file", type=click.Path(dir_okay=False), help="Gateway sites for age of data (default: the reference set).")
@click.option("--gateway-min-elevation-deg", type=float, default=25.0, show_default=True)
@click.option("--no-downlink", is_flag=True, help="Skip the age-of-data computation.")
@click.option("--lasers", is_flag=True, help="Age of data may also go over the constellation's +Grid lasers (shells inferred from the elements) "
              "to any satellite in view of a gateway at the collection instant; otherwise direct contact only.")
@partition_options(chunk_default="1,080 coarse search instants")
@handle_errors
def track(sources, preset, repair_checksums, cache_dir, target_texts, target_file, max_off_nadir_deg, min_elevation_deg, sun_min_elevation_deg,
          start, duration, step, fmt, output, summary_json, gateway_file, gateway_min_elevation_deg, no_downlink, lasers,
          scheduler, resume, workers, chunk_instants) -> None:
    """Access windows of an imaging constellation to ground targets, one CSV row per access
    (target,norad_id,start_utc,end_utc,max_elevation_deg; sorted by start), and the figures of
    merit per target (STK conventions) on the terminal. Age of data: delay from the best image
    of each access to the satellite's next gateway contact (direct downlink), or with --lasers
    the light time over the shortest laser path to a satellite in view of a gateway at that
    instant, falling back to direct contact when there is none (satellites in no inferred shell
    have no lasers).

    With --scheduler none|local|tcp://HOST:PORT (or --resume, --chunk-instants) the window is
    cut into time chunks of the search grid, run as tasks that write a partitioned dataset in
    the folder -o (resumable with --resume); the merged accesses.csv and summary.json equal the
    one-shot run's (README, "Long windows and sweeps")."""
    from leonet.export.files import write_json
    from leonet.export.listings import write_access_csv
    from leonet.imaging.access import Sensor
    from leonet.imaging.targets import make_targets, parse_lat_lon_text, read_target_file
    from leonet.imaging.track import access_samples
    from leonet.imaging.track import track as run_track

    if bool(target_texts) == bool(target_file):
        raise InputError("give --target LAT,LON (repeatable) or --target-file F, one of the two")
    if target_file:
        targets = read_target_file(target_file)
    else:
        pts = [parse_lat_lon_text(x) for x in target_texts]
        targets = make_targets(points=[(f"{la:g},{lo:g}", la, lo) for la, lo in pts])
    sensor = Sensor(min_elevation_deg, max_off_nadir_deg, sun_min_elevation_deg)
    t0 = parse_time(start)
    t1 = t0 + parse_duration(duration)
    step_s = parse_duration(step) / NS_PER_S
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=t0)
    if scheduler or resume or chunk_instants:
        return _track_partitioned(c, [f"preset:{preset}"] if preset else list(sources), targets, sensor, t0, t1, step_s, output, summary_json,
                                  None if no_downlink else gateway_file, gateway_min_elevation_deg, not no_downlink, lasers, scheduler, resume, workers,
                                  chunk_instants)
    with progress_bar("access", access_samples(len(c), len(targets), t0, t1, step_s), "samples") as advance:
        res = run_track(c, targets, sensor, t0, t1, step_s, downlink=not no_downlink, gateways=gateway_file,
                        gateway_min_elevation_deg=gateway_min_elevation_deg, lasers=lasers, progress=advance, stage=_stage)
    write_access_csv(res.windows, res.norad_id, targets.name, output)
    summary = res.summary()
    _print_summary(summary)
    if summary_json:
        write_json(summary, summary_json)
        err_console.print(f"wrote {summary_json}")
    acc = res.windows
    err_console.print(f"{len(acc):,} accesses of {len(np.unique(acc.sat_index)):,} of {len(c):,} satellites to {len(targets)} targets; wrote {output}", highlight=False)


def _track_partitioned(c, sources, targets, sensor, t0, t1, step_s, folder, summary_json, gateway_file, gateway_min_elevation_deg, downlink, lasers,
                       scheduler, resume, workers, chunk_instants) -> None:
    """``leonet track --scheduler ...``: the access search as a partitioned dataset in ``folder``."""
    from leonet.export.files import write_json
    from leonet.scale.engine import check_scheduler
    from leonet.scale.imaging import execute_track, plan_track

    sched = check_scheduler(scheduler or "none")
    if workers and sched != "local":
        raise InputError("--workers sets the processes of --scheduler local; a tcp:// scheduler has its own workers")
    plan = plan_track(c, sources, targets, sensor, t0, t1, step_s, folder, downlink=downlink, gateways=gateway_file,
                      gateway_min_elevation_deg=gateway_min_elevation_deg, lasers=lasers, chunk_instants=chunk_instants, resume=resume)
    done = len(plan.tasks) - len(plan.todo)
    err_console.print(f"{len(plan.tasks):,} tasks of up to {plan.job.chunk_instants} search instants (halo {plan.job.halo})"
                      + (f", {done:,} already done" if done else "") + f", scheduler {sched}; writing {plan.folder}/", highlight=False, markup=False)
    with progress_bar("access", plan.todo_instants, "instants") as advance:
        out = execute_track(plan, sched, workers=workers, events=_events(advance))
    summary = out.result.summary()
    _print_summary(summary)
    if summary_json:
        write_json(summary, summary_json)
        err_console.print(f"wrote {summary_json}")
    acc = out.result.windows
    err_console.print(f"{len(acc):,} accesses of {len(np.unique(acc.sat_index)):,} of {len(c):,} satellites to {len(targets)} targets; "
                      f"{out.computed:,} tasks computed, {out.reused:,} reused; wrote {plan.folder}/accesses.csv, accesses.parquet, summary.json",
                      highlight=False, markup=False)


def _stage(description: str) -> None:
    """A later step of a library call starting: named on a terminal (the progress bar is done)."""
    if err_console.is_terminal:
        say((f"{description} ...", "dim"))


def _print_summary(summary: dict) -> None:
    t = Table(title=f"Figures of merit {summary['start_utc']} .. {summary['end_utc']} (durations in s)", title_justify="left")
    cols = [("target", "target"), ("accesses", "access_count"), ("coverage", "coverage_time_s"), ("continuity", "tracking_continuity"),
            ("gap max", "gap_max_s"), ("gap mean", "gap_mean_s"), ("revisit", "revisit_interval_mean_s"), ("resp mean", "response_time_mean_s"),
            ("resp p90", "response_time_p90_s"), ("resp max", "response_time_max_s"), ("TAG", "time_average_gap_s"), ("age mean", "age_of_data_mean_s")]
    for head, _ in cols:
        t.add_column(head, justify="left" if head == "target" else "right")
    for r in summary["targets"]:
        cells = []
        for _, key in cols:
            v = r.get(key)
            small = key == "tracking_continuity" or (key == "age_of_data_mean_s" and isinstance(v, float) and v < 10.0)  # light times
            cells.append("-" if v is None else (f"{v:.3f}" if small else (str(v) if isinstance(v, (int, str)) else f"{v:.0f}")))
        t.add_row(*cells)
    out_console.print(t)
    routes = summary.get("age_of_data_routes")
    if routes:
        how = "laser paths or direct contact" if summary.get("age_of_data_lasers") else "direct contact only"
        out_console.print(f"age of data ({how}): " + ", ".join(f"{k} {v}" for k, v in routes.items()), highlight=False)
