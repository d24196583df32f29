"""Benchmark: ``leonet demo`` end to end (load, cells, 24 h at 60 s, policy, tables, report).

Runs the demo ``--repeats`` times as a separate process (``leonet demo -o TMP``) and prints
the median wall time and the worst peak RSS (the process and its forked SGP4 workers).
``--baseline EXE`` also runs another install's ``leonet`` (e.g. the main branch's, in its own
venv), alternating with this one, and prints each figure beside the baseline's from the same
run. ``--fresh`` adds one run per install after deleting its numba cache, as on a fresh
install: this install's caches (numba's, and the prepared borders in the user cache) are first
re-warmed the way ``make venv`` does (not timed), the baseline's only where it has those steps.

Targets (issue 17): at most 3 s wall with a warm cache, 6 s on a fresh install, 0.5 GB peak
RSS. A report: exits 0 whatever the verdict.

    .venv/bin/python bench/demo.py [--repeats 3] [--baseline ../base/.venv/bin/leonet] [--fresh]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, fmt_gb, machine_info, print_table, summarize, verdict  # noqa: E402
from leonet.paths import user_cache_dir  # noqa: E402

TARGET_WALL_S = 3.0
TARGET_FRESH_S = 6.0
TARGET_RSS_B = 0.5e9


def one_run(leonet: str, out: Path) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (bytes) and CPU seconds (user + system, the process and its
    children) of one demo in a fresh process tree."""
    # A fresh intermediate interpreter, so RUSAGE_CHILDREN holds this run's processes alone.
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        f"subprocess.run([{leonet!r}, 'demo', '-o', {str(out)!r}], check=True, stdout=subprocess.DEVNULL); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(time.perf_counter() - t, u.ru_maxrss * 1024, u.ru_utime + u.ru_stime)"
    )
    res = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=os.environ | {"LEONET_DATA_DIR": str(data_dir())})
    wall, rss, cpu = res.stdout.split()
    return float(wall), int(rss), float(cpu)


def _python_of(leonet: str) -> str:
    return str(Path(leonet).with_name("python"))


def fresh_run(leonet: str, out: Path) -> tuple[float, int, float]:
    """One run after deleting the install's numba cache and, where the install has it, warming
    it the way its ``make venv`` does."""
    py = _python_of(leonet)
    src = subprocess.run([py, "-c", "import leonet, os; print(os.path.dirname(leonet.__file__))"], check=True, capture_output=True, text=True).stdout.strip()
    for f in Path(src).rglob("__pycache__/*.nb[ic]"):
        f.unlink()
    # The user cache of prepared data (borders) goes too: a fresh install starts without it.
    shutil.rmtree(user_cache_dir() / "borders", ignore_errors=True)
    for warm in make_venv_warm_steps(Path(src).parent.parent / "Makefile"):
        subprocess.run([py, "-c", warm], check=True)
    return one_run(leonet, out)


def make_venv_warm_steps(makefile: Path) -> list[str]:
    """The ``$(PY) -c "..."`` steps of an install's ``make venv`` (kernels compiled into the
    numba cache, borders and fonts cached): what a fresh install has run before its first demo."""
    if not makefile.is_file():
        return []
    return re.findall(r'^\t\$\(PY\) -c "(.+)"$', makefile.read_text(), flags=re.M)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", default=None, help="another install's leonet executable, measured alternately")
    ap.add_argument("--fresh", action="store_true", help="also one run per install with its numba cache deleted first")
    args = ap.parse_args()
    leonet = shutil.which("leonet", path=str(Path(sys.executable).parent)) or str(Path(sys.executable).with_name("leonet"))
    installs = {"this": leonet} | ({"baseline": args.baseline} if args.baseline else {})
    info = machine_info(("numpy", "sgp4", "numba", "h3", "leonet"))
    print(f"leonet demo benchmark; {info.get('cores', '')} {info.get('versions', '')}; load average at start {os.getloadavg()}")
    walls: dict[str, list[float]] = {k: [] for k in installs}
    rss: dict[str, list[int]] = {k: [] for k in installs}
    cpus: dict[str, list[float]] = {k: [] for k in installs}
    fresh: dict[str, float] = {}
    fresh_cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, exe in installs.items():  # not timed: fills the OS file cache and the numba cache
            one_run(exe, Path(tmp) / f"warmup-{name}")
        for k in range(args.repeats):
            for name, exe in installs.items():
                w, r, c = one_run(exe, Path(tmp) / f"{name}-{k}")
                walls[name].append(w)
                rss[name].append(r)
                cpus[name].append(c)
                print(f"  {name} run {k + 1}: {w:.2f} s, CPU {c:.2f} s, peak RSS {fmt_gb(r)}, load {os.getloadavg()[0]:.1f}", flush=True)
        if args.fresh:
            for name, exe in installs.items():
                fresh[name], r, fresh_cpu[name] = fresh_run(exe, Path(tmp) / f"fresh-{name}")
                rss[name].append(r)
                print(f"  {name} fresh: {fresh[name]:.2f} s, CPU {fresh_cpu[name]:.2f} s, peak RSS {fmt_gb(r)}", flush=True)
            for exe in installs.values():  # leave every install warm again
                one_run(exe, Path(tmp) / "rewarm")
    s = {k: summarize(v) for k, v in walls.items()}
    base = s.get("baseline")

    def ratio(a: float, b: float | None) -> str:
        return f"{b / a:.1f}x" if b else ""

    rows = [
        ["wall, warm cache (median)", f"{s['this']['median']:.2f} s", f"{s['this']['min']:.2f}..{s['this']['max']:.2f} s",
         f"{base['median']:.2f} s" if base else "-", ratio(s["this"]["median"], base["median"] if base else None), "<= 3 s", verdict(s["this"]["median"] <= TARGET_WALL_S)],
    ]
    c = {k: summarize(v) for k, v in cpus.items()}
    cb = c.get("baseline")
    # CPU seconds: what the run costs whatever else the machine does (wall time waits for cores).
    rows.append(["CPU user+sys, warm (median)", f"{c['this']['median']:.2f} s", f"{c['this']['min']:.2f}..{c['this']['max']:.2f} s",
                 f"{cb['median']:.2f} s" if cb else "-", ratio(c["this"]["median"], cb["median"] if cb else None), "", ""])
    if args.fresh:
        rows.append(["wall, fresh install", f"{fresh['this']:.2f} s", "", f"{fresh['baseline']:.2f} s" if "baseline" in fresh else "-",
                     ratio(fresh["this"], fresh.get("baseline")), "<= 6 s", verdict(fresh["this"] <= TARGET_FRESH_S)])
        rows.append(["CPU user+sys, fresh install", f"{fresh_cpu['this']:.2f} s", "", f"{fresh_cpu['baseline']:.2f} s" if "baseline" in fresh_cpu else "-",
                     ratio(fresh_cpu["this"], fresh_cpu.get("baseline")), "", ""])
    rows.append(["peak RSS (worst run)", fmt_gb(max(rss["this"])), "", fmt_gb(max(rss["baseline"])) if base else "-", "", "<= 0.5 GB", verdict(max(rss["this"]) <= TARGET_RSS_B)])
    print_table("leonet demo end to end", ["figure", "this", "spread", "baseline", "speed-up", "target", "verdict"], rows, right=(1, 3, 4))
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
