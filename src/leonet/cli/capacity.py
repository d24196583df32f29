"""``leonet capacity``: parse, call :func:`leonet.api.capacity`, write through :mod:`leonet.export`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from leonet import api
from leonet.cli.common import (
    check_stale,
    cli_command_line,
    err_console,
    grid_options,
    handle_errors,
    load_sources,
    out_console,
    output_format,
    progress_bar,
    say,
    source_options,
    states_option,
)
from leonet.cli.coverage import policy_from_db
from leonet.cli.scale import _events, output_file_or_run, partition_options
from leonet.errors import InputError
from leonet.export.capacity import capacity_regions_table, capacity_rules_table, sibling_path, write_capacity_stream
from leonet.export.files import write_table
from leonet.export.metadata import run_metadata
from leonet.scale.dataset import MANIFEST


@click.command()
@source_options
@click.option("--region", "regions", required=True, help="Country codes (ISO 3166 alpha-2/3 or numeric), comma-separated, e.g. TWN,JPN,PHL.")
@click.option("--start", required=True, help="First instant, ISO-8601 UTC.")
@click.option("--duration", required=True, help="Span after --start (end excluded), e.g. 1min.")
@click.option("--step", required=True, help="Time step; each instant is one scheduling interval (Starlink's is 15s).")
@click.option("--h3-res", type=click.IntRange(0, 15), default=5, show_default=True, help="H3 resolution of the service cells.")
@click.option("--take-rate", type=float, default=0.02, show_default=True, help="Share of the population subscribing, in (0, 1].")
@click.option("--fairness", default="maxmin", show_default=True, help="maxmin or proportional (on the share of demand met).")
@click.option("--inactive", default="", help="Countries among --region where service is off, comma-separated (e.g. TWN).")
@click.option("--policy-db", help="Control-plane database URL: its activation states apply (and --inactive on top).")
@click.option("--method", default="auto", show_default=True, help="flow (exact max-min by max flow), lp (exact, HiGHS LPs; max-min or proportional), approx (water-filling) or auto (exact up to 3,000 cells: flow for max-min, lp for proportional).")
@click.option("--gateways", type=click.Path(dir_okay=False), help="Gateway file (default: the packaged set); antenna counts set their capacity.")
@click.option("--demand", type=click.Path(dir_okay=False), help="CSV with columns cell,demand_mbps instead of population x take rate x busy-hour rate.")
@click.option("--generation", help="v1.0, v1.5 or v2mini for every satellite (default: inferred from launch dates and names).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), help="Table format (default: from the extension of -o).")
@click.option("-o", "--output", required=True, type=click.Path(), callback=output_file_or_run,
              help="Output file (one row per time and cell). With --scheduler: a folder (capacity.<format> and its siblings inside).")
@states_option
@partition_options(chunk_default="64 intervals, fewer when a task would pass 4 M (time, cell) rows")
@handle_errors
def capacity(sources, preset, repair_checksums, cache_dir, regions, start, duration, step, h3_res, take_rate, fairness, inactive, policy_db, method,
             gateways, demand, generation, fmt, output, states, scheduler, resume, workers, chunk_instants) -> None:
    """Bandwidth per cell: satellites' capacity shared among the cells in view (max-min or
    proportional fair), limited by beams, gateways and lasers, under the regional policy.
    Writes one row per (time, cell) to OUT with columns
    time_utc,cell,region,demand_mbps,allocated_mbps,served_by,sold_out; one row per (time,
    region) to OUT.regions.<ext> with time_utc,region,demand_mbps,allocated_mbps,share_met,cells_sold_out;
    and, when a policy rule applies, what each rule changes per region to OUT.rules.<ext>.

    With --scheduler none|local|tcp://HOST:PORT (or --resume, --chunk-instants) the intervals
    are cut into tasks of whole intervals that write a partitioned dataset in the folder -o
    (resumable with --resume); its capacity.<format>, capacity.regions.<format> and
    capacity.rules.<format> equal the one-shot run's files (README, "Long windows and sweeps")."""
    partitioned = bool(scheduler or resume or chunk_instants)
    if not partitioned and (Path(output) / MANIFEST).is_file():
        raise InputError(f"-o {output} holds a partitioned run: add --resume to finish it (or --scheduler ... with another folder), or give an output file")
    fmt = (fmt or "csv") if partitioned else output_format(fmt, output)
    grid = grid_options(start, duration, step)
    api.capacity_inputs(regions, inactive, take_rate, fairness, h3_res, method)  # one clear line before any work
    if generation is not None and generation not in ("v1.0", "v1.5", "v2mini"):
        raise InputError(f"--generation {generation}: choose v1.0, v1.5 or v2mini")
    if demand is not None:
        if not Path(demand).is_file():
            raise InputError(f"--demand {demand}: file not found (a CSV with columns cell,demand_mbps)")
    if gateways is not None and not Path(gateways).is_file():
        raise InputError(f"--gateways {gateways}: file not found (a gateway CSV such as the community lists in ../shared/data)")
    policy = policy_from_db(policy_db)
    c = load_sources(sources, preset, repair_checksums, cache_dir, epoch=grid.start_ns)
    check_stale(c, grid)
    if partitioned:
        return _capacity_partitioned(c, [f"preset:{preset}"] if preset else list(sources), regions, grid, h3_res, take_rate, fairness, inactive, policy,
                                     policy_db, method, gateways, demand, generation, fmt, output, states, scheduler, resume, workers, chunk_instants)
    with progress_bar("capacity", grid.count, "intervals") as advance:
        run = api.capacity(c, regions, grid, h3_res=h3_res, take_rate=take_rate, fairness=fairness, inactive=inactive, policy=policy, method=method,
                           gateways=gateways, demand=demand, generation=generation, allow_stale_elements=True, progress=advance, stream=True,
                           **({} if states == "default" else {"states": states}))
        say(run.serving_note)
        meta = run_metadata(c, grid, command_line=cli_command_line(), regions=regions, h3_res=h3_res, take_rate=take_rate, fairness=fairness,
                            method=method, inactive=inactive, policy_db=policy_db)
        # One chunk of (time, cell) rows in memory at a time; the region series are small.
        rows, series, last = write_capacity_stream(run.chunks, output, fmt, meta)
    for note in last.notes:
        say(f"note: {note}")
    reg_path = sibling_path(output, "regions", fmt)
    write_table(capacity_regions_table(series), reg_path, fmt, metadata=meta)
    written = [str(output), str(reg_path)]
    if series.without:
        rules_path = sibling_path(output, "rules", fmt)
        write_table(capacity_rules_table(series), rules_path, fmt, metadata=meta)
        written.append(str(rules_path))
    print_capacity_series(series, last)
    err_console.print(f"{len(last.area):,} cells x {grid.count:,} intervals ({last.method}, {last.fairness}); wrote {rows:,} rows to "
                      + ", ".join(written), highlight=False, markup=False)


def _capacity_partitioned(c, sources, regions, grid, h3_res, take_rate, fairness, inactive, policy, policy_db, method, gateways, demand, generation,
                          fmt, folder, states, scheduler, resume, workers, chunk_instants) -> None:
    """``leonet capacity --scheduler ...``: the run as a partitioned dataset in ``folder``."""
    from leonet.scale.capacity import execute_capacity
    from leonet.scale.engine import check_scheduler

    sched = check_scheduler(scheduler or "none")
    if workers and sched != "local":
        raise InputError("--workers sets the processes of --scheduler local; a tcp:// scheduler has its own workers")
    plan = api.plan_capacity(sources, regions, grid, folder, satellites=c, h3_res=h3_res, take_rate=take_rate, fairness=fairness, inactive=inactive,
                             policy=policy, method=method, gateways=gateways, demand=demand, generation=generation, allow_stale_elements=True,
                             chunk_instants=chunk_instants, resume=resume, **({} if states == "default" else {"states": states}))
    done = len(plan.tasks) - len(plan.todo)
    err_console.print(f"{len(plan.tasks):,} tasks of up to {plan.job.chunk_instants} intervals" + (f", {done:,} already done" if done else "")
                      + f", scheduler {sched}; writing {plan.folder}/", highlight=False, markup=False)
    meta = run_metadata(c, grid, command_line=cli_command_line(), regions=regions, h3_res=h3_res, take_rate=take_rate, fairness=fairness,
                        method=method, inactive=inactive, policy_db=policy_db)
    with progress_bar("capacity", plan.todo_instants, "intervals") as advance:
        out = execute_capacity(plan, sched, workers=workers, events=_events(advance), fmt=fmt, metadata=meta)
    for note in out.notes:
        say(f"note: {note}")
    print_capacity_series(out.series, out)
    err_console.print(f"{len(out.area):,} cells x {grid.count:,} intervals ({out.method}, {out.fairness}); {out.computed:,} tasks computed, "
                      f"{out.reused:,} reused; wrote {out.rows:,} rows to " + ", ".join(str(p) for p in out.paths.values()), highlight=False, markup=False)


def print_capacity_result(res) -> None:
    """A :class:`~leonet.capacity.run.CapacityResult`'s per-region summary and each policy rule's effect."""
    print_capacity_series(res.series(), res, res.stats.get("seconds"))


def print_capacity_series(series, res, seconds: float | None = None) -> None:
    """The per-region summary of a run's region series and each policy rule's effect (``res``:
    a chunk of the run, for its method and timing)."""
    t = Table(title=f"capacity ({res.fairness} fair, {res.method}), means over {len(series.t_ns)} interval(s)", title_justify="left")
    for col in ("region", "cells", "active %", "demand Gbps", "allocated Gbps", "share met %", "Mbps per subscriber", "cells sold out"):
        t.add_column(col, justify="left" if col == "region" else "right")
    for r in series.summary():
        t.add_row(r["region"], f"{r['cells']:,}", f"{100 * r['active_share']:.0f}", f"{r['demand_mbps'] / 1e3:,.1f}", f"{r['allocated_mbps'] / 1e3:,.1f}",
                  "-" if r["share_met"] != r["share_met"] else f"{100 * r['share_met']:.1f}",
                  "-" if r["mbps_per_subscriber"] != r["mbps_per_subscriber"] else f"{r['mbps_per_subscriber']:.2f}", f"{r['cells_sold_out']:,.1f}")
    out_console.print(t)
    took = f" in {seconds:.2f} s" if seconds is not None else ""
    out_console.print(f"capacity: {len(series.t_ns)} interval(s) of {len(res.area):,} cells{took}", highlight=False)
    for e in series.rule_effects():
        out_console.print(f"{e['rule']}: {e['region']} {'gains' if e['gain_mbps'] >= 0 else 'loses'} {abs(e['gain_mbps']) / 1e3:,.1f} Gbps "
                          f"({e['allocated_mbps_without_rule'] / 1e3:,.1f} -> {e['allocated_mbps_with_rule'] / 1e3:,.1f})", highlight=False, markup=False)


COMMANDS = (capacity,)
