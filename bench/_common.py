"""Helpers shared by leonet's benchmarks (``bench/*.py``).

A benchmark here is a *report*: it runs each measurement in a fresh child process (so memory
figures are its own and one measurement cannot warm or pollute the next), collects the
children's JSON results, prints medians with min/max and PASS/FAIL against stated targets, and
exits 0 whatever the verdict. On a shared, noisy machine quote medians and ratios taken in the
same run, never absolute timings from elsewhere.

What is here:

* :func:`data_dir` / :func:`data_path`: the reference data folder (``$LEONET_DATA_DIR``, else
  ``<repo>/../shared/data``).
* :func:`run_child`: re-run a script in a fresh interpreter with ``--_result FILE`` and read the
  JSON it wrote there (:func:`write_result`).
* :func:`peak_rss` and :class:`TreeMemorySampler`: peak memory of a process and its children.
* :func:`summarize`, :func:`machine_info`, :func:`print_table`, ``fmt_*``: reporting.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


# ---- reference data ---------------------------------------------------------------------
from leonet.paths import data_dir  # noqa: E402  (the project's own lookup, not a copy)


def data_path(*parts: str) -> Path:
    """A file under :func:`data_dir`; exits with a clear message when it is missing."""
    p = data_dir().joinpath(*parts)
    if not p.exists():
        sys.exit(f"reference data {p} not found (data folder: {data_dir()}; set LEONET_DATA_DIR to change it)")
    return p


# ---- child processes --------------------------------------------------------------------
def write_result(path: str | os.PathLike[str], result: dict[str, Any]) -> None:
    """Called in a child: write its result where the parent (:func:`run_child`) reads it."""
    Path(path).write_text(json.dumps(result, default=_json_default))


def run_child(argv: Sequence[str], timeout: float | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python argv... --_result FILE`` in a fresh interpreter and return the JSON the child
    wrote to FILE (see :func:`write_result`). The child's stdout/stderr are captured; on failure
    their tail is raised in a ``RuntimeError``."""
    fd, res = tempfile.mkstemp(prefix="leonet-bench-", suffix=".json")
    os.close(fd)
    try:
        cmd = [sys.executable, *map(str, argv), "--_result", res]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        if proc.returncode != 0 or os.path.getsize(res) == 0:
            tail = (proc.stdout + proc.stderr)[-3000:]
            raise RuntimeError(f"child {' '.join(cmd)} failed (exit {proc.returncode}):\n{tail}")
        return json.loads(Path(res).read_text())
    finally:
        os.unlink(res)


# ---- memory -----------------------------------------------------------------------------
def _maxrss_bytes(who: int) -> int:
    kb = resource.getrusage(who).ru_maxrss
    return int(kb) if sys.platform == "darwin" else int(kb) * 1024  # Linux reports KiB, macOS bytes


def peak_rss() -> dict[str, int]:
    """Peak resident set sizes, in bytes, from ``getrusage``.

    ``self``: this process's high-water RSS. ``children``: ``RUSAGE_CHILDREN``'s ru_maxrss over
    the children this process has waited for (e.g. forked pool workers). On Linux that is the
    RSS of the *largest single* child, not a sum over children. ``sum``: self + children. With
    forked workers that write into a shared output buffer, the output pages a worker wrote are
    in its RSS and again in the parent's (once the parent reads them), and pages inherited at
    fork count in both, so the sum double-counts those; it misses the private memory of all but
    the largest child (small when workers hold only block temporaries). Treat it as a
    conservative figure, and :class:`TreeMemorySampler` (PSS) as the realistic one.
    """
    s = _maxrss_bytes(resource.RUSAGE_SELF)
    c = _maxrss_bytes(resource.RUSAGE_CHILDREN)
    return {"self": s, "children": c, "sum": s + c}


class TreeMemorySampler:
    """Sample the memory of this process and all its descendants on a background thread.

    Records the peak over samples of the tree's summed PSS (proportional set size: each shared
    page is split between the processes that map it, so the sum counts it once) and of the summed
    RSS. Sampling reads ``/proc/PID/smaps_rollup`` and costs a little CPU, so use it on a run that
    is not being timed. Samples every ``interval`` seconds; peaks shorter than that can be missed.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_pss = 0
        self.peak_rss = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> None:
        import psutil

        me = psutil.Process()
        pss = rss = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                info = p.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            pss += getattr(info, "pss", info.rss)
            rss += info.rss
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_rss = max(self.peak_rss, rss)
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def result(self) -> dict[str, Any]:
        return {"peak_pss": self.peak_pss, "peak_rss_sum": self.peak_rss, "samples": self.samples, "interval_s": self.interval}


# ---- statistics and machine -------------------------------------------------------------
def summarize(values: Sequence[float]) -> dict[str, float]:
    """Median, min, max and count of a list of repeats."""
    vals = [float(v) for v in values]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def cpu_cores() -> dict[str, int]:
    """Logical CPUs on the machine and the ones this process may run on."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {"logical": os.cpu_count() or 1, "usable": usable}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info(packages: Sequence[str] = ("numpy", "sgp4", "skyfield", "leonet")) -> dict[str, Any]:
    """Cores, CPU model, memory, OS, Python and package versions."""
    info: dict[str, Any] = {
        "cores": cpu_cores(),
        "cpu": _cpu_model(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "versions": {p: package_version(p) for p in packages},
    }
    try:
        import psutil

        info["memory_total"] = psutil.virtual_memory().total
        info["load_avg_1m"] = os.getloadavg()[0]
    except (ImportError, OSError):
        pass
    return info


# ---- formatting -------------------------------------------------------------------------
def fmt_rate(x: float | None) -> str:
    """A throughput such as '1.23 M/s'."""
    if x is None:
        return "-"
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.2f} {suf}/s"
    return f"{x:.1f} /s"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for div, suf in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(n) >= div:
            return f"{n / div:.2f} {suf}"
    return f"{n:.0f} B"


def fmt_gb(n: float | None) -> str:
    """Bytes as decimal GB (1 GB = 1e9 B), the unit targets are written in."""
    return "-" if n is None else f"{n / 1e9:.3f} GB"


def fmt_s(x: float | None) -> str:
    """Seconds as 'ms', 's' or 'min' as fits."""
    if x is None:
        return "-"
    if x >= 120:
        return f"{x / 60:.1f} min"
    return f"{x:.2f} s" if x >= 0.1 else f"{x * 1e3:.1f} ms"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _console() -> Any:
    from rich.console import Console

    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "160"))
    return Console(width=width, highlight=False, soft_wrap=False)


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> None:
    """Print a compact table: with rich when installed, else aligned plain text.

    ``right``: indices of columns to right-align (numbers)."""
    cells = [[str(c) for c in row] for row in rows]
    try:
        from rich import box
        from rich.table import Table
    except ImportError:
        widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(columns)]

        def line(vals: Sequence[str]) -> str:
            return "  ".join(v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths))).rstrip()

        print(f"\n{title}")
        print(line([str(c) for c in columns]))
        print("  ".join("-" * w for w in widths))
        for r in cells:
            print(line(r))
        return
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for i, c in enumerate(columns):
        table.add_column(str(c), justify="right" if i in right else "left", no_wrap=True)
    for r in cells:
        table.add_row(*r)
    con = _console()
    with con.capture() as cap:
        con.print(table)
    print("\n".join(ln.rstrip() for ln in cap.get().splitlines()), flush=True)


def print_lines(lines: Sequence[str]) -> None:
    """Print plain lines (not hard-wrapped, so they read well when piped to a file)."""
    for ln in lines:
        print(ln, flush=True)


def log(msg: str) -> None:
    """Progress on stderr (kept out of the report on stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _json_default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dump_json(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
