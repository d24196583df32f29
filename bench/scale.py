"""Benchmark: a long global coverage run as a partitioned dataset, in process and on Dask.

    .venv/bin/python bench/scale.py [--days 7 | --duration 7d] [--res 4] [--file PATH] [--workers 2]
        [--modes none,local,tcp] [--repeats 1] [--memory-check] [--job coverage|track] [--json OUT]

``--days N`` is ``--duration Nd`` (the issue's benchmark is ``--days 7``: 7 simulated days;
check the script on a short window first, e.g. ``--days 0.02``).

The run: ``regions = ["world"]`` (every H3 cell at ``--res``; 288,122 at res 4), the
10,744-satellite Starlink snapshot of 2026-08-22, 60 s steps from the snapshot's day at 00:00
UTC over ``--duration``, 25 deg mask, service active everywhere, chunks of 240 instants. Each
mode runs in a fresh child process (this script with ``--_child MODE``):

* ``none``: every task in that process (SGP4 and the visibility kernel use every core);
* ``local``: an embedded Dask LocalCluster of ``--workers`` processes, one thread each;
* ``tcp``: ``dask scheduler`` and ``--workers`` ``dask worker`` processes started on
  127.0.0.1 (:class:`leonet.scale.cluster.DaskProcesses`), the child as their client.

Printed per mode: wall, tasks, median seconds per task (as the worker measured it), peak RSS of
the client and of each worker process, and the overhead of Dask relative to in-process
(target <= 10 %); all modes must give the same merged figures (checked). ``--memory-check``
also runs ``none`` over half the window: peak RSS should not grow with the window. Then a
projection of a year at H3 res 5 on N workers from the measured cost per instant, scaled by
the res-5/res-4 ratio of cells (a documented estimate: the kernel's cost per step grows about
with cells x satellites in view; bench/global_coverage.py measures the per-step ratio directly).
A report: exits 0 whatever the verdict.

``--job track``: the same three ways for a partitioned imaging run (:mod:`leonet.scale.imaging`,
``leonet track --scheduler``) instead: the snapshot's satellites to the 20 most populous cities,
10 deg mask, 45 deg cone, 20 s search step, age of data by direct contact, chunks of 1,080
search instants; the merged summaries must be identical (checked by digest).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

data_path, machine_info = _common.data_path, _common.machine_info

TARGET_OVERHEAD = 0.10
DEFAULT_FILE = ("tle", "starlink_20260822_celestrak_gp.tle")
CELLS = {4: 288_122, 5: 2_016_842}
YEAR_INSTANTS = 365 * 24 * 60


def scenario_text(source: Path, duration: str, res: int) -> str:
    return f"""[scenario]
name = "global coverage res {res}"
[constellation]
source = "{source}"
[time]
start = "2026-08-22T00:00:00Z"
duration = "{duration}"
step = "60s"
[coverage]
regions = ["world"]
h3_res = {res}
min_elevation_deg = 25
"""


def track_child(mode: str, args: argparse.Namespace) -> dict:
    """A partitioned imaging run (--job track) in ``mode``."""
    import hashlib

    from leonet.ground.cities import top_cities
    from leonet.imaging.access import Sensor
    from leonet.imaging.targets import make_targets
    from leonet.scale.cluster import DaskProcesses
    from leonet.scale.imaging import execute_track, plan_track
    from leonet.sources.load import load
    from leonet.times import parse_duration, parse_time

    tmp = Path(tempfile.mkdtemp(prefix="leonet-bench-track-"))
    try:
        t0 = time.perf_counter()
        c = load([str(Path(args.file).resolve())])
        cs = top_cities(20)
        targets = make_targets(points=[(f"{n}, {k}", la, lo) for n, k, la, lo in zip(cs.name, cs.country_a2, cs.lat_deg, cs.lon_deg)])
        start = parse_time("2026-08-22T00:00:00Z")
        plan = plan_track(c, [str(Path(args.file).resolve())], targets, Sensor(10.0, 45.0), start, start + parse_duration(args.duration), 20.0, tmp / "out")
        plan_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if mode == "tcp":
            with DaskProcesses(workers=args.workers, timeout_s=300) as cluster:
                started = time.perf_counter()
                out = execute_track(plan, cluster.address)
                wall = time.perf_counter() - started
        else:
            out = execute_track(plan, mode, workers=args.workers if mode == "local" else None)
            wall = time.perf_counter() - t0
        per_pid: dict[int, float] = {}
        for r in out.task_results:
            per_pid[r["pid"]] = max(per_pid.get(r["pid"], 0.0), r["peak_rss_mb"])
        digest = hashlib.sha256(json.dumps(out.result.summary(), sort_keys=True).encode()).hexdigest()[:16]
        return {"mode": mode, "wall_s": wall, "plan_s": plan_s, "tasks": len(out.task_results), "instants": sum(t.i1 - t.i0 for t in plan.tasks),
                "chunk": plan.job.chunk_instants, "task_s": [r["seconds"] for r in out.task_results],
                "client_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                "worker_rss_mb": {str(k): v for k, v in per_pid.items() if k != os.getpid()}, "check": [len(out.result.windows), digest]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def child(mode: str, args: argparse.Namespace) -> dict:
    if args.job == "track":
        return track_child(mode, args)
    from leonet.scale.cluster import DaskProcesses
    from leonet.scale.run import execute, plan_scenario

    tmp = Path(tempfile.mkdtemp(prefix="leonet-bench-scale-"))
    try:
        sc = tmp / "global.toml"
        sc.write_text(scenario_text(Path(args.file).resolve(), args.duration, args.res))
        t0 = time.perf_counter()
        plan = plan_scenario(sc, tmp / "out")
        plan_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if mode == "tcp":
            with DaskProcesses(workers=args.workers, timeout_s=300) as cluster:
                started = time.perf_counter()
                out = execute(plan, cluster.address)
                wall = time.perf_counter() - started
        else:
            out = execute(plan, mode, workers=args.workers if mode == "local" else None)
            wall = time.perf_counter() - t0
        per_pid: dict[int, float] = {}
        for r in out.task_results:
            per_pid[r["pid"]] = max(per_pid.get(r["pid"], 0.0), r["peak_rss_mb"])
        res = out.runs[0].result
        check = [float(res.coverage_fom.sats_in_view_mean.sum()), float(res.coverage_fom.gap_max_s.max()), int(res.coverage_fom.access_count.sum())]
        return {"mode": mode, "wall_s": wall, "plan_s": plan_s, "tasks": len(out.task_results), "instants": plan.total_instants, "chunk": 240,
                "task_s": [r["seconds"] for r in out.task_results], "client_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                "worker_rss_mb": {str(k): v for k, v in per_pid.items() if k != os.getpid()}, "check": check}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_child(mode: str, args: argparse.Namespace, duration: str) -> dict:
    import subprocess

    fd, res = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        cmd = [sys.executable, __file__, "--_child", mode, "--_result", res, "--duration", duration, "--res", str(args.res),
               "--file", args.file, "--workers", str(args.workers), "--job", args.job]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{mode} failed:\n{(p.stdout + p.stderr)[-3000:]}")
        return json.loads(Path(res).read_text())
    finally:
        os.unlink(res)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", default="7d")
    ap.add_argument("--days", type=float, help="simulated days (overrides --duration); the issue's benchmark is --days 7")
    ap.add_argument("--job", choices=("coverage", "track"), default="coverage", help="global coverage (default) or a partitioned imaging run")
    ap.add_argument("--res", type=int, default=4)
    ap.add_argument("--file", default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--modes", default="none,local,tcp")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each mode, alternating")
    ap.add_argument("--memory-check", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--_child")
    ap.add_argument("--_result")
    args = ap.parse_args()
    args.file = args.file or str(data_path(*DEFAULT_FILE))
    if args.days is not None:
        if not args.days > 0:
            ap.error(f"--days {args.days}: give a positive number of days, e.g. 7")
        args.duration = f"{round(args.days * 86400)}s"
    if args._child:
        Path(args._result).write_text(json.dumps(child(args._child, args)))
        return
    info = machine_info(("numpy", "numba", "dask", "distributed", "leonet"))
    load1, load5, _ = os.getloadavg()
    what = f"global H3 res {args.res}" if args.job == "coverage" else "imaging (20 cities, 20 s search step)"
    print(f"leonet scale benchmark: {what}, {Path(args.file).name}, {args.duration}" + (" at 60 s; " if args.job == "coverage" else "; ")
          +
          f"{info.get('cores', '')}; load average {load1:.1f}/{load5:.1f} at start")
    results: dict[str, dict] = {}
    runs: dict[str, list[dict]] = {}
    # Modes alternate over the repeats, so that a change of load on a shared machine hits all of them.
    for rep in range(args.repeats):
        for mode in args.modes.split(","):
            r = run_child(mode, args, args.duration)
            runs.setdefault(mode, []).append(r)
            med = statistics.median(r["task_s"])
            wrss = ", ".join(f"{v:.0f}" for v in sorted(r["worker_rss_mb"].values())) or "-"
            print(f"  {mode:5s} #{rep + 1}: wall {r['wall_s']:7.1f} s, {r['tasks']} tasks of <= {r['chunk']} instants, median task {med:5.2f} s, "
                  f"{sum(r['task_s']) / r['instants'] * 1e3:6.1f} ms per instant; peak RSS client {r['client_rss_mb']:.0f} MB, workers [{wrss}] MB; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    for mode, rs in runs.items():
        walls = [r["wall_s"] for r in rs]
        results[mode] = rs[0] | {"wall_s": statistics.median(walls), "task_s": [t for r in rs for t in r["task_s"]],
                                 "client_rss_mb": max(r["client_rss_mb"] for r in rs)}
        if len(rs) > 1:
            print(f"  {mode:5s}: median wall {statistics.median(walls):.1f} s over {len(rs)} runs (min {min(walls):.1f}, max {max(walls):.1f})")
    base = results.get("none")
    if base:
        for mode in ("local", "tcp"):
            if mode in results:
                over = results[mode]["wall_s"] / base["wall_s"] - 1.0
                same = results[mode]["check"] == base["check"]
                print(f"  overhead {mode} vs in-process: {over * 100:+.1f} % (target <= {TARGET_OVERHEAD * 100:.0f} %: "
                      f"{'PASS' if over <= TARGET_OVERHEAD else 'FAIL'}); merged figures identical: {same}")
    if args.memory_check:
        from leonet.times import parse_duration

        half_ns = parse_duration(args.duration) // 2
        half = f"{half_ns // 10**9}s"
        r2 = run_child("none", args, half)
        print(f"  memory: in-process peak RSS {r2['client_rss_mb']:.0f} MB over {half} vs {base['client_rss_mb']:.0f} MB over {args.duration} "
              f"(ratio {base['client_rss_mb'] / r2['client_rss_mb']:.2f}; target: independent of the window)" if base else "")
    # Cost per instant of one single-threaded worker (an in-process task uses every core).
    one = results.get("local") or results.get("tcp")
    if (base or one) and args.job == "coverage":
        # Task seconds per instant (tasks may be shorter than 240 instants on a short window).
        per_instant = sum(one["task_s"]) / one["instants"] if one else sum(base["task_s"]) / base["instants"] * (os.cpu_count() or 1)
        scale = CELLS[5] / CELLS[args.res]
        cpu_h = YEAR_INSTANTS * per_instant * scale / 3600.0
        print(f"  projection: a year at 60 s ({YEAR_INSTANTS:,} instants) at res 5 ~ {per_instant * 1e3:.1f} ms/instant x {scale:.1f} (cells ratio) "
              f"= {cpu_h:.0f} task-hours; " + ", ".join(f"{n} workers ~{cpu_h / n:.1f} h" for n in (2, 8, 32, 128))
              + " (each worker a core as fast as these; plus the Dask overhead above)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
