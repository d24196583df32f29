"""Benchmark: ``leonet demo`` end to end (load, cells, 24 h at 60 s, policy, tables, report).

Runs the demo ``--repeats`` times as a separate process (``leonet demo -o TMP``) and prints
the median wall time and the worst peak RSS (the process and its forked SGP4 workers).
Targets: at most 2 min wall and 2 GB peak RSS. A report: exits 0 whatever the verdict.

    .venv/bin/python bench/demo.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, fmt_gb, machine_info, print_table, summarize, verdict  # noqa: E402

TARGET_WALL_S = 120.0
TARGET_RSS_B = 2 * 1024**3


def one_run(leonet: str, out: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one demo in a fresh process tree."""
    # A fresh intermediate interpreter, so RUSAGE_CHILDREN holds this run's processes alone.
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        f"subprocess.run([{leonet!r}, 'demo', '-o', {str(out)!r}], check=True, stdout=subprocess.DEVNULL); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)"
    )
    res = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=os.environ | {"LEONET_DATA_DIR": str(data_dir())})
    wall, rss = res.stdout.split()
    return float(wall), int(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    leonet = shutil.which("leonet") or str(Path(sys.executable).with_name("leonet"))
    info = machine_info(("numpy", "sgp4", "numba", "h3", "leonet"))
    print(f"leonet demo benchmark; {info.get('cores', '')} {info.get('versions', '')}")
    walls, rss = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeats):
            w, r = one_run(leonet, Path(tmp) / f"run{k}")
            walls.append(w)
            rss.append(r)
            print(f"  run {k + 1}: {w:.1f} s, peak RSS {fmt_gb(r)}", flush=True)
    s = summarize(walls)
    print_table(
        "leonet demo end to end",
        ["figure", "value", "spread", "target", "verdict"],
        [
            ["wall time (median)", f"{s['median']:.1f} s", f"{s['min']:.1f}..{s['max']:.1f} s", "<= 120 s", verdict(s["median"] <= TARGET_WALL_S)],
            ["peak RSS (worst run)", fmt_gb(max(rss)), "", "<= 2 GB", verdict(max(rss) <= TARGET_RSS_B)],
        ],
        right=(1,),
    )


if __name__ == "__main__":
    main()
