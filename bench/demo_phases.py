"""Profile of ``leonet demo`` by phase: wall and CPU seconds of each step the command takes,
in one process (regional coverage in this process alone, ``workers=1``, so its CPU is all
counted here), then the same coverage again with the kernels loaded.

    .venv/bin/python bench/demo_phases.py
    OTHER/.venv/bin/python bench/demo_phases.py      # the same phases of another install

CPU seconds (``time.process_time``) are what a loaded machine blurs least; the load average is
printed with them. A report: exits 0.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

T0, C0 = time.perf_counter(), time.process_time()
import leonet.cli.main  # noqa: E402  (the command's own imports)

T1, C1 = time.perf_counter(), time.process_time()


def main() -> None:
    import dataclasses
    import tempfile

    import numpy as np

    import leonet.coverage.regional as regional
    from leonet.export.metadata import run_metadata
    from leonet.export.tables import result_tables, write_tables
    from leonet.jobs.regional import ScenarioRun, demo_scenario_path, scenario_area, scenario_constellation, scenario_grid, scenario_policy, scenario_satellites
    from leonet.jobs.scenario import load_scenario
    from leonet.policy.model import ServicePolicy

    rows = [("import leonet.cli.main", T1 - T0, C1 - C0)]
    mark = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        w, c = time.perf_counter(), time.process_time()
        rows.append((name, w - mark[0], c - mark[1]))
        mark[:] = [w, c]

    sc = load_scenario(demo_scenario_path())
    grid, policy = scenario_grid(sc), scenario_policy(sc)
    lap("scenario, policy (borders)")
    const, source = scenario_constellation(sc)
    lap("load element sets")
    notes: list[str] = []
    const.stale_elements(grid.start_ns, int(grid.t_ns[-1]), allow=sc.allow_stale_elements)
    sats = scenario_satellites(sc, const, notes)
    lap("serving satellites (states)")
    area = scenario_area(sc)
    lap("cells of the area")
    regional.regional_counts(sats, area, grid.t_ns, sc.min_elevation_deg, sc.max_range_km, workers=1)
    lap("regional coverage, first (kernels load)")
    res = regional.run_regional(sats, area, grid.t_ns, policy, sc.min_elevation_deg, sc.max_range_km, workers=1)
    lap("regional coverage again (+ policy, FoMs)")
    base = dataclasses.replace(res, active=np.ones_like(res.active), policy=ServicePolicy.active_everywhere(), service_fom=res.coverage_fom)
    run = ScenarioRun(sc, res, base, const, sats, source, grid, notes, 0.0)
    if getattr(sc, "capacity", None) is not None:  # the [capacity] section (issue 16), where the install has it
        from leonet.jobs.regional import scenario_capacity

        scenario_capacity(sc, sats, area, policy)
        lap("capacity section")
    meta = run_metadata(run.constellation, run.grid, command_line="bench", scenario=str(sc.path or sc.name), element_source=source,
                        regions=list(sc.regions), h3_res=sc.h3_res, neighbours_within_km=sc.neighbours_within_km,
                        min_elevation_deg=sc.min_elevation_deg, max_range_km=sc.max_range_km, policy=res.policy.describe(),
                        launch_batches=len(sc.launches), notes=notes)
    with tempfile.TemporaryDirectory() as tmp:
        tables = result_tables(res, base, sc.beam_radius_km)
        lap("result tables")
        write_tables(tables, Path(tmp), meta)
        lap("Parquet + DuckDB")
        import matplotlib.figure  # noqa: F401

        lap("import matplotlib")
        from leonet.reports.regional import write_report

        write_report(Path(tmp) / "report.html", sc.name, sc.description, res, base, sc.beam_radius_km, run.facts())
        lap("report (3 figures)")
    print(f"leonet demo by phase ({leonet.__file__}); load average {os.getloadavg()}")
    width = max(len(r[0]) for r in rows)
    print(f"{'phase':<{width}}  {'wall s':>7}  {'CPU s':>7}")
    for name, w, c in rows:
        print(f"{name:<{width}}  {w:7.3f}  {c:7.3f}")
    first = sum(c for name, _, c in rows if "again" not in name)
    print(f"{'CPU, every phase once':<{width}}  {'':>7}  {first:7.3f}")


if __name__ == "__main__":
    main()
