"""``leonet sweep`` and the partitioned-run options of ``leonet run`` (``--scheduler``,
``--resume``, ``--workers``, ``--chunk-instants``): parse, call :mod:`leonet.scale.run`, print."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from leonet.cli.common import err_console, handle_errors, out_console, progress_bar
from leonet.errors import InputError
from leonet.jobs.scenario import Scenario
from leonet.scale.engine import EngineEvents, check_scheduler

# Without --scheduler, `leonet run` keeps the whole window in memory (and writes its report)
# unless the window is longer than this: then it runs chunked in this process.
LONG_WINDOW_INSTANTS = 20_160  # 14 days at 60 s


def output_file_or_run(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``-o`` of a command that also writes partitioned runs: a file as ``output_file`` checks it,
    or a folder already holding a partitioned run (to ``--resume``)."""
    from leonet.cli.common import output_file
    from leonet.scale.dataset import MANIFEST

    if value and (Path(value).expanduser() / MANIFEST).is_file():
        return value
    return output_file(ctx, param, value)


def partition_options(f: Callable | None = None, *, chunk_default: str = "240, fewer for large areas") -> Callable:
    """The options of a partitioned run (``@partition_options``, or
    ``@partition_options(chunk_default="...")`` to say a command's own default chunking)."""
    if f is None:
        return lambda g: partition_options(g, chunk_default=chunk_default)
    f = click.option("--chunk-instants", type=click.IntRange(min=1), help=f"Instants per task (default: {chunk_default}).")(f)
    f = click.option("--workers", type=click.IntRange(min=1), help="Worker processes for --scheduler local (default: the cores).")(f)
    f = click.option("--resume", is_flag=True, help="Finish the run already in the output folder: compute only its missing partitions.")(f)
    f = click.option("--scheduler", help="Run as a partitioned dataset on: local (Dask processes on this machine), "
                     "tcp://HOST:PORT (a running `dask scheduler`) or none (in this process).")(f)
    return f


def wants_partitioned(sc: Scenario, scheduler: str | None, resume: bool, chunk_instants: int | None) -> tuple[bool, str | None]:
    """Whether ``leonet run`` takes the partitioned path, and why when it was not asked for."""
    from leonet.jobs.regional import scenario_grid
    from leonet.scale.regional import is_world

    if scheduler or resume or chunk_instants:
        return True, None
    if is_world(sc):
        return True, "regions = [\"world\"] runs as a partitioned dataset (in this process; --scheduler local to use Dask)"
    n = scenario_grid(sc).count
    if n > LONG_WINDOW_INSTANTS:
        return True, f"{n:,} instants is a long window: running it chunked in this process (--scheduler local to use Dask)"
    return False, None


def _events(progress: Callable[[int], None]) -> EngineEvents:
    return EngineEvents(
        progress=progress,
        dashboard=lambda url: err_console.print(f"Dask dashboard: {url}", highlight=False, markup=False),
        note=lambda text: err_console.print(f"note: {text}", highlight=False, markup=False),
    )


def run_partitioned(scenario: str | Path | Scenario, output_dir: str | None, policy_db: str | None, scheduler: str | None, resume: bool,
                    workers: int | None, chunk_instants: int | None, sweep: bool = False, states: Any = "default") -> None:
    """Plan (every check before work), run with progress, print the summary. ``states``: the
    ``--states`` of ``leonet run`` ('default': the scenario's own)."""
    import dataclasses

    from leonet.scale.run import execute, plan_scenario, plan_sweep

    if states != "default" and isinstance(scenario, Scenario):
        scenario = dataclasses.replace(scenario, states=states)

    sched = check_scheduler(scheduler or "none")
    if workers and sched != "local":
        raise InputError("--workers sets the processes of --scheduler local; a tcp:// scheduler has its own workers")
    planner = plan_sweep if sweep else plan_scenario
    plan = planner(scenario, output_dir, policy_db=policy_db, chunk_instants=chunk_instants, resume=resume)
    for note in plan.notes:
        err_console.print(f"note: {note}", highlight=False, markup=False)
    done = len(plan.tasks) - len(plan.todo)
    err_console.print(f"{len(plan.jobs)} variant(s), {len(plan.tasks):,} tasks of up to {plan.jobs[0].chunk_instants} instants"
                      + (f", {done:,} already done" if done else "") + f", scheduler {sched}; writing {plan.folder}/", highlight=False, markup=False)
    with progress_bar("sweep" if sweep else "scenario", plan.todo_instants, "instants") as advance:
        out = execute(plan, sched, workers=workers, events=_events(advance))
    _print_summary(out, sweep)


def _print_summary(out: Any, sweep: bool) -> None:
    axes = list(out.axes[0]) if sweep and out.axes else []
    first = out.runs[0]
    t = Table(title=f"{first.scenario.name}" + (f": sweep over {', '.join(axes)}" if axes else ""), title_justify="left")
    cols = [*axes, "region", "cells", "population", "sats in view min/mean/max", "covered % time", "served % (all active)", "served % (policy)", "cells never served"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("region", *axes) else "right")
    for run, ax in zip(out.runs, out.axes):
        for r in run.summary():
            t.add_row(*[Path(v).name if a == "elements" else str(v) for a, v in ((a, ax[a]) for a in axes)], r["region"], f"{r['cells']:,}", f"{r['population']:,.0f}",
                      f"{r['sats_in_view_min']}/{r['sats_in_view_mean']:.1f}/{r['sats_in_view_max']}",
                      f"{r['covered_time_percent']:.1f}", f"{r['served_time_percent_all_active']:.1f}", f"{r['served_time_percent']:.1f}",
                      f"{r['cells_not_served']:,}")
    out_console.print(t)
    g = first.grid
    out_console.print(f"{len(first.result.area):,} cells; {g.count:,} instants per variant; {out.computed:,} tasks computed, {out.reused:,} reused",
                      highlight=False)
    for run, ax in zip(out.runs, out.axes):
        if run.result.sgp4_failures != "all states propagated":
            where = f" ({', '.join(f'{k} = {v}' for k, v in ax.items())})" if ax else ""
            out_console.print(f"SGP4{where}: {run.result.sgp4_failures}", highlight=False, markup=False)
        if not sweep:
            for b in run.border_effect():
                out_console.print(f"border effect: {b['neighbour_cells']} active cells ({b['neighbour_population']:,.0f} people) within "
                                  f"{b['beam_radius_km']:g} km of inactive {b['inactive_region']}: {b['by_region']}", highlight=False, markup=False)
    for cap, ax in zip(out.capacity or [], out.axes):
        if cap is not None:  # a [capacity] section
            from leonet.cli.capacity import print_capacity_series

            if ax:
                out_console.print("capacity of " + ", ".join(f"{k} = {v}" for k, v in ax.items()), highlight=False, markup=False)
            print_capacity_series(cap.series, cap)
    out_console.print(f"outputs in {out.folder}/: manifest.json, timeseries/ (partitioned), " + ", ".join(p.name for p in out.paths.values()),
                      highlight=False, markup=False)
    out_console.print(f"done in {out.seconds:.1f} s")


@click.command()
@click.argument("sweep_file", metavar="SWEEP.toml", type=click.Path(dir_okay=False))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), help="Override [output] dir.")
@click.option("--policy-db", help="Control-plane database URL: apply its policy over each variant's own.")
@partition_options
@handle_errors
def sweep(sweep_file: str, output_dir: str | None, policy_db: str | None, scheduler: str | None, resume: bool, workers: int | None,
          chunk_instants: int | None) -> None:
    """Run a scenario over every combination of the axes of SWEEP.toml (e.g. elevation masks,
    element-set snapshots, filed shells, policies) as one partitioned dataset with the axes as
    columns, and print the summary table. Default scheduler: local (Dask processes here)."""
    run_partitioned(sweep_file, output_dir, policy_db, scheduler or "local", resume, workers, chunk_instants, sweep=True)


def route_partitioned(sources: tuple[str, ...], preset: str | None, repair: bool, cache_dir: str | None, src: str | None, dst: str | None,
                      all_pairs: bool, cities: int, start: str | None, duration: str, step: str, min_elevation_deg: float, links: dict,
                      folder: str, scheduler: str | None, resume: bool, workers: int | None, chunk_instants: int | None,
                      states: Any = "default") -> None:
    """``leonet route --scheduler ...``: routes as a partitioned dataset in ``folder``."""
    from leonet import api
    from leonet.cli.common import grid_options, load_sources
    from leonet.scale.routes import execute_routes, plan_routes

    sched = check_scheduler(scheduler or "none")
    if workers and sched != "local":
        raise InputError("--workers sets the processes of --scheduler local; a tcp:// scheduler has its own workers")
    if not start:
        raise InputError("--start is required (ISO-8601 UTC, e.g. 2024-10-23T00:00:00Z)")
    grid = grid_options(start, duration, step)
    const = load_sources(sources, preset, repair, cache_dir, epoch=grid.start_ns, window=grid)
    endpoints, pairs, options, notes = api.route_inputs(src, dst, all_pairs=all_pairs, cities=cities, min_elevation_deg=min_elevation_deg, **links)
    for n in notes:
        err_console.print(f"note: {n}", highlight=False, markup=False)
    plan = plan_routes(const, [f"preset:{preset}"] if preset else list(sources), endpoints, grid, folder, pairs=pairs,
                       chunk_instants=chunk_instants, resume=resume, **options,
                       **({} if states == "default" else {"states": states}))
    done = len(plan.tasks) - len(plan.todo)
    err_console.print(f"{len(plan.tasks):,} tasks of up to {plan.job.chunk_instants} instants" + (f", {done:,} already done" if done else "")
                      + f", scheduler {sched}; writing {plan.folder}/", highlight=False, markup=False)
    with progress_bar("routing", plan.todo_instants, "steps") as advance:
        out = execute_routes(plan, sched, workers=workers, events=_events(advance))
    names = {int(i): str(n) for i, n in zip(*(out.probe.node_columns()[k] for k in ("id", "name")))}
    for s in out.summary[:10]:
        err_console.print(f"{names.get(s['src'], s['src'])} -> {names.get(s['dst'], s['dst'])}: reachable {100 * s['reachable']:.0f}% of steps, "
                          f"RTT {s['rtt_ms_min'] or float('nan'):.1f}/{s['rtt_ms_median'] or float('nan'):.1f}/{s['rtt_ms_max'] or float('nan'):.1f} ms "
                          f"(min/median/max), {s['path_changes']} path changes", highlight=False, markup=False)
    if len(out.summary) > 10:
        err_console.print(f"... {len(out.summary) - 10} more pairs in {out.paths['summary']}", highlight=False, markup=False)
    err_console.print(f"{out.rows:,} rows in {out.folder}/routes/ (partitioned); {out.computed:,} tasks computed, {out.reused:,} reused; "
                      f"nodes.parquet, summary.parquet", highlight=False, markup=False)
