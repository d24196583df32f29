"""Benchmark: the exports of ``leonet export`` at constellation scale.

    .venv/bin/python bench/export.py [--file PATH] [--duration 90min] [--step 60s] [--repeats 3]

1. CZML of the 10,744-satellite snapshot of 2026-08-22 over ``--duration`` at ``--step``
   (``leonet.export_czml``: fleet states, propagation, czml3 packets, the file), against the
   baseline measured in the same run: propagating the same states alone (``c.at(grid)``).
   Printed: wall (median of ``--repeats``, each in a fresh process), the ratio to the baseline,
   peak RSS, file size. Memory target: the writer holds a block of satellites, so its peak RSS
   over a window twice as long grows by the block, not by the constellation (checked by a run
   over 2x ``--duration``).
2. GeoJSON of every H3 cell of Taiwan, Japan and the Philippines at resolution 5 with 20 property
   columns (``cells_feature_collection``) against the baseline of building the same outlines
   alone (``cell_boundaries``).

Exits 0 whatever the figures: a report, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

data_path, machine_info, peak_rss, run_child, write_result = _common.data_path, _common.machine_info, _common.peak_rss, _common.run_child, _common.write_result

DEFAULT_FILE = ("tle", "starlink_20260822_celestrak_gp.tle")


def child(args: argparse.Namespace) -> dict:
    import numpy as np

    import leonet

    grid = leonet.TimeGrid("2026-08-22T00:00:00Z", args.duration, args.step)
    if args._child == "propagate":
        c = leonet.load(args.file)
        t0 = time.perf_counter()
        st = c.at(grid)
        wall = time.perf_counter() - t0
        return {"wall_s": wall, "states": int(st.error.size), "rss": peak_rss()["self"]}
    if args._child == "czml":
        c = leonet.load(args.file)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            w = leonet.export_czml(c, grid, Path(tmp) / "s.czml")
            wall = time.perf_counter() - t0
        return {"wall_s": wall, "packets": w.packets, "samples": w.samples, "bytes": w.bytes, "rss": peak_rss()["self"]}
    from leonet.export.geojson import cells_feature_collection
    from leonet.ground.cells import cell_boundaries
    from leonet.ground.regions import Region

    cells = np.unique(np.concatenate([Region.country(k).cells_at(5) for k in ("TWN", "JPN", "PHL")]))
    props = {f"p{k}": np.random.default_rng(k).random(cells.size) for k in range(20)}
    t0 = time.perf_counter()
    cell_boundaries(cells)
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    fc = cells_feature_collection(cells, props)
    wall = time.perf_counter() - t0
    return {"cells": int(cells.size), "base_s": base, "wall_s": wall, "features": len(fc["features"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file")
    ap.add_argument("--duration", default="90min")
    ap.add_argument("--step", default="60s")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--_child")
    ap.add_argument("--_result")
    args = ap.parse_args()
    args.file = args.file or str(data_path(*DEFAULT_FILE))
    if args._child:
        write_result(args._result, child(args))
        return
    info = machine_info(("numpy", "sgp4", "czml3", "shapely", "h3", "leonet"))
    print(f"leonet export benchmark: {Path(args.file).name}, {args.duration} at {args.step}; {info.get('cores', '')}; "
          f"load average {os.getloadavg()[0]:.1f}/{os.getloadavg()[1]:.1f} at start")
    me = [str(Path(__file__).resolve()), "--file", args.file, "--step", args.step]
    runs: dict[str, list[dict]] = {"propagate": [], "czml": []}
    for _ in range(args.repeats):  # alternating, so that a change of load hits both
        for what in runs:
            runs[what].append(run_child([*me, "--duration", args.duration, "--_child", what]))
    prop = statistics.median(r["wall_s"] for r in runs["propagate"])
    cz = statistics.median(r["wall_s"] for r in runs["czml"])
    r0 = runs["czml"][0]
    print(f"  CZML: {r0['packets']:,} satellites x {r0['samples'] // max(r0['packets'], 1):,} samples, median wall {cz:.2f} s "
          f"(min {min(r['wall_s'] for r in runs['czml']):.2f}, max {max(r['wall_s'] for r in runs['czml']):.2f}) vs propagation alone {prop:.2f} s: "
          f"ratio {cz / prop:.1f}x; file {r0['bytes'] / 2**20:.1f} MB; peak RSS {max(r['rss'] for r in runs['czml']) / 2**20:.0f} MB "
          f"(propagation alone {max(r['rss'] for r in runs['propagate']) / 2**20:.0f} MB); load {os.getloadavg()[0]:.1f}")
    from leonet.times import parse_duration

    twice = f"{2 * parse_duration(args.duration) // 10**9}s"
    r2 = run_child([*me, "--duration", twice, "--_child", "czml"])
    print(f"  CZML over {twice}: wall {r2['wall_s']:.2f} s, peak RSS {r2['rss'] / 2**20:.0f} MB vs {r0['rss'] / 2**20:.0f} MB over {args.duration} "
          f"(the writer holds one block of satellites; RSS of a whole-constellation array would double)")
    g = run_child([*me, "--duration", args.duration, "--_child", "geojson"])
    print(f"  GeoJSON: {g['cells']:,} cells of TWN, JPN, PHL at res 5 with 20 properties: {g['wall_s']:.2f} s vs outlines alone {g['base_s']:.2f} s "
          f"(ratio {g['wall_s'] / g['base_s']:.1f}x); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
