"""Jobs that tie the stages together: a scenario file in, tables, a database and a report out."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from rich.table import Table

from leonet.cli.common import err_console, out_console, progress_bar, report_load
from leonet.coverage.regional import RegionalResult, build_area, run_regional
from leonet.errors import InputError
from leonet.ground.regions import Region
from leonet.jobs.scenario import Scenario, load_scenario
from leonet.paths import data_dir
from leonet.policy.model import ServicePolicy
from leonet.sources.constellation import Constellation
from leonet.sources.load import load
from leonet.times import TimeGrid, format_time


def demo_scenario_path() -> Path:
    """The packaged demo scenario (also at examples/taiwan.toml in the repository)."""
    return Path(str(resources.files("leonet.scenarios").joinpath("taiwan.toml")))


def scenario_constellation(sc: Scenario, folder: Path | None = None) -> tuple[Constellation, str]:
    """The scenario's satellites and a label of where they came from. A relative file is read
    from the data folder; ``load`` does the rest (presets at the scenario's start)."""
    src = f"preset:{sc.preset}" if sc.preset else (sc.source or "")
    if not src.startswith(("preset:", "celestrak:", "http://", "https://")):
        p = Path(src)
        src = str(p if p.is_absolute() else (folder or data_dir()) / p)
        if not Path(src).is_file():
            if not sc.fallback_preset:
                raise InputError(f"element-set file {src} not found; set LEONET_DATA_DIR or give fallback_preset in [constellation]")
            err_console.print(f"[yellow]{src} not found[/]: using the filed {sc.fallback_preset} shells instead (fallback_preset)")
            src = f"preset:{sc.fallback_preset}"
    return load(src, epoch=sc.start), src


def scenario_policy(sc: Scenario) -> ServicePolicy:
    if sc.policy_default == "licensed":
        policy = ServicePolicy.active_where_licensed()
    elif sc.policy_default == "inactive":
        policy = ServicePolicy(False, (), "inactive everywhere")
    else:
        policy = ServicePolicy.active_everywhere()
    base = sc.path.parent if sc.path else None
    for rule in sc.policy_rules:
        policy = policy.with_rule(Region.from_spec(rule.region, base), rule.active, rule.start, rule.end)
    return policy


@dataclass
class RunOutputs:
    result: RegionalResult
    baseline: RegionalResult
    paths: dict[str, Path]
    seconds: float


def run_scenario(sc: Scenario, out_dir: Path | None = None, folder: Path | None = None, quiet: bool = False,
                 policy_db: str | None = None) -> RunOutputs:
    """Run a coverage scenario under its policy and, for comparison, with service active
    everywhere; write Parquet tables, a DuckDB database and an HTML report."""
    from leonet.export.tables import result_tables, write_tables
    from leonet.reports.regional import write_report

    started = time.perf_counter()
    c, source = scenario_constellation(sc, folder)
    if not quiet:
        report_load(c)
    grid = TimeGrid.from_span(sc.start, sc.duration, sc.step)
    targets = tuple(Region.from_spec(spec, sc.path.parent if sc.path else None) for spec in sc.regions)
    with err_console.status("finding cells of the regions and their neighbours"):
        area = build_area(targets, sc.h3_res, sc.neighbours_within_km)
    err_console.print(f"{len(area):,} cells at H3 resolution {sc.h3_res} ({', '.join(sorted(set(area.region)))}); "
                      f"{grid.count:,} instants; {len(c):,} satellites")
    policy = scenario_policy(sc)
    if policy_db:
        from leonet.control import load_policy

        # The store's activation states come after the scenario's rules, so they win.
        policy = load_policy(policy_db, default=policy)
    extra = None
    if sc.launches:
        from leonet.deployment.batch import LaunchBatch, batch_states

        batches = tuple(LaunchBatch(**d) for d in sc.launches)
        extra = lambda t: batch_states(batches, t).service_positions()  # noqa: E731
        err_console.print(f"{sum(b.satellites for b in batches)} satellites in {len(batches)} launch batch(es) join as they reach their shells")
    with progress_bar("coverage", grid.count, "instants") as advance:
        res = run_regional(c, area, grid.t_ns, policy, sc.min_elevation_deg, sc.max_range_km, progress=advance, extra_positions=extra)
    # The comparison needs no new geometry: the same visibility with every cell active.
    base = dataclasses.replace(res, active=np.ones_like(res.active), policy=ServicePolicy.active_everywhere(), service_fom=res.coverage_fom)
    out = Path(out_dir or sc.output_dir)
    with err_console.status("writing tables, database and report"):
        paths = write_tables(result_tables(res, base, sc.beam_radius_km), out)
        facts = {
            "constellation": f"{source} ({len(c):,} satellites)",
            "window": f"{format_time(grid.start_ns)} + {sc.duration} at {sc.step} ({grid.count:,} instants)",
            "cells": f"{len(area):,} H3 cells at resolution {sc.h3_res}",
            "elevation mask": f"{sc.min_elevation_deg:g} deg" + (f", max range {sc.max_range_km:g} km" if sc.max_range_km else ""),
            "policy": res.policy.name,
            "SGP4": res.sgp4_failures,
        }
        paths["report"] = write_report(out / "report.html", sc.name, sc.description, res, base, sc.beam_radius_km, facts)
    return RunOutputs(res, base, paths, time.perf_counter() - started)


def print_summary(sc: Scenario, run: RunOutputs) -> None:
    res, base = run.result, run.baseline
    target = res.area.targets[0].key
    t = Table(title=f"{sc.name}: {target} and neighbours", title_justify="left")
    for col in ("region", "cells", "population", "sats in view min/mean/max", "covered % time", "served % (all active)", "served % (policy)", "cells never served"):
        t.add_column(col, justify="left" if col == "region" else "right")
    base_rows = {r["region"]: r for r in base.region_summary()}
    for r in res.region_summary():
        b = base_rows[r["region"]]
        t.add_row(r["region"], f"{r['cells']:,}", f"{r['population']:,.0f}",
                  f"{r['sats_in_view_min']}/{r['sats_in_view_mean']:.1f}/{r['sats_in_view_max']}",
                  f"{r['covered_time_percent']:.1f}", f"{b['served_time_percent']:.1f}", f"{r['served_time_percent']:.1f}",
                  f"{r['cells_not_served']:,}")
    out_console.print(t)
    out_console.print(f"policy: {res.policy.name}")
    m = res.area.members(target)
    per_min = res.counts[m].mean(axis=0)
    out_console.print(f"{target}: satellites in view per instant (mean over its cells): min {per_min.min():.1f}, "
                      f"mean {per_min.mean():.1f}, max {per_min.max():.1f}; sub-satellite points inside {target}: "
                      f"min {res.overhead[0].min()}, mean {res.overhead[0].mean():.1f}, max {res.overhead[0].max()}")
    for b in res.border_effect(sc.beam_radius_km):
        out_console.print(f"border effect: {b['neighbour_cells']} active cells ({b['neighbour_population']:,.0f} people) within "
                          f"{b['beam_radius_km']:g} km of inactive {b['inactive_region']}: {b['by_region']}")
    out_console.print(f"outputs in {run.paths['report'].parent}/: " + ", ".join(p.name for p in run.paths.values()))
    out_console.print(f"done in {run.seconds:.1f} s")


def run_file(path: str | Path, out_dir: Path | None = None, policy_db: str | None = None) -> RunOutputs:
    sc = load_scenario(path)
    run = run_scenario(sc, out_dir, policy_db=policy_db)
    print_summary(sc, run)
    return run
