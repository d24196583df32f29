"""Timeline of one real ``leonet demo`` run: when each stage starts and ends, in which process,
with wall seconds from the start and that process's CPU seconds, so that the critical path
(serial parts, the two cores shared by the coverage chunks, the report's forked copy) can be
read off. Complements ``bench/demo_phases.py`` (CPU by phase, one process).

    .venv/bin/python bench/demo_timeline.py [--runs 3]

The demo is run in a child interpreter whose library functions are wrapped to print a line on
entry and exit (a few microseconds each); the run with the median total wall time is printed,
with the load average. A report: exits 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir  # noqa: E402

STAGES = [  # (module, function): the stages of leonet demo, in order
    ("leonet.jobs.regional", "scenario_constellation"),
    ("leonet.jobs.regional", "scenario_satellites"),
    ("leonet.jobs.regional", "scenario_area"),
    ("leonet.coverage.regional", "regional_counts"),
    ("leonet.coverage.regional", "chunk_positions"),
    ("leonet.coverage.visibility", "visibility"),
    ("leonet.jobs.regional", "scenario_capacity"),
    ("leonet.export.tables", "result_tables"),
    ("leonet.export.tables", "write_tables"),
    ("leonet.reports.regional", "warm_report"),
    ("leonet.reports.regional", "write_report"),
    ("leonet.cli.coverage", "print_summary"),
]

CHILD = r"""
import functools, importlib, os, sys, time
T0 = float(sys.argv[1]); MAIN = os.getpid()
def log(what):
    who = "main" if os.getpid() == MAIN else f"fork {os.getpid()}"
    sys.stderr.write(f"@@ {time.time() - T0:7.3f} {time.process_time():7.3f} {who} {what}\n"); sys.stderr.flush()
import leonet.cli.main as cli_main
log("imported leonet.cli.main")
for mod, name in STAGES:
    m = importlib.import_module(mod); f = getattr(m, name)
    def wrapped(*a, _f=f, _n=name, **k):
        log(f"> {_n}"); r = _f(*a, **k); log(f"< {_n}"); return r
    functools.update_wrapper(wrapped, f)
    setattr(m, name, wrapped)
import atexit; atexit.register(lambda: log("exit"))
sys.argv = ["leonet", "demo", "-o", sys.argv[2]]
cli_main.main()
"""


def one_run(out: Path) -> tuple[float, list[str]]:
    code = f"STAGES = {STAGES!r}\n" + CHILD
    env = dict(os.environ, LEONET_DATA_DIR=str(data_dir()))
    t0 = time.time()
    p = subprocess.run([sys.executable, "-c", code, repr(t0), str(out)], capture_output=True, text=True, env=env)
    total = time.time() - t0
    if p.returncode != 0:
        raise SystemExit(f"leonet demo failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return total, [ln[3:] for ln in p.stderr.splitlines() if ln.startswith("@@ ")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            runs.append(one_run(Path(tmp) / f"run{k}"))
    runs.sort(key=lambda r: r[0])
    total, lines = runs[len(runs) // 2]
    print(f"leonet demo timeline (median of {args.runs} runs by total wall); load average {os.getloadavg()}")
    print(f"{'wall s':>7} {'CPU s':>7}  process / stage   (chunk_positions and visibility: one line per time chunk)")
    for ln in lines:
        print(ln)
    print(f"{total:7.3f} {'':>7}  process ended (wall from the command's start, interpreter start-up included)")
    print("all runs, total wall s: " + ", ".join(f"{t:.2f}" for t, _ in sorted(runs)))


if __name__ == "__main__":
    main()
