"""Benchmark: global coverage (satellites in view of every H3 cell) with leonet's visibility kernel.

    .venv/bin/python bench/global_coverage.py [--res 4] [--steps 5] [--res5] [--file PATH]
        [--mask 25] [--ref-cells-res5 100000] [--baseline SRC] [--json OUT]

On the 10,744-satellite Starlink snapshot of 2026-08-22 (``--file``), at ``--steps`` instants
60 s apart from the snapshot's day at 12:00 UTC, each measurement runs in a fresh child process
(this script re-run with ``--_measure RES``) that:

1. builds every H3 cell at ``RES`` (``leonet.ground.cells`` when present, else h3 directly) and
   prepares them (:class:`~leonet.ground.points.GroundPoints` and the kernel's blocked layout,
   :func:`~leonet.coverage.visibility.blocked`): timed, reported apart;
2. propagates the instants (``leonet.orbits.propagate``, ITRF, all cores): timed, reported apart;
3. before 1's preparation and 2, compiles every kernel (``warm_kernels``: one thread and
   several, one step and many) with an empty ``NUMBA_CACHE_DIR``: the compile time, reported
   apart and excluded from all other times;
4. times one :func:`~leonet.coverage.visibility.visibility` call per instant, two ways:
   ``counts`` (counts only) and ``full`` (counts + (cell, satellite) pairs + max elevation),
   wall and CPU seconds (this process, all threads; the CPU figure is the one to trust on a
   shared machine), and the 1-minute load average. Each step's result is dropped before the
   next (of the first, only what 5 compares is kept), as a loop over steps would: the first
   ``full`` step faults in the pairs' fresh pages, later ones reuse them;
5. runs the brute-force NumPy reference (:func:`visibility_brute_force`, every cell x every
   satellite, 2 threads) on the first instant: on every cell at res 4, on ``--ref-cells-res5``
   random cells at res 5 (its time is then scaled to all cells for the ratio); checks that
   counts, pairs (the CSR lists of those cells) and max elevations are identical to the kernel's.

``--baseline SRC`` runs the same children a second time with ``PYTHONPATH=SRC`` (the ``src``
folder of another checkout, e.g. a ``git worktree`` of main), alternating with this checkout
resolution by resolution, and prints both side by side with their ratio.

Targets (2 cores, medians over the steps): res 4 ``full`` at most 1 s per step; res 5 (issue 17)
``full`` at most 0.15 s and ``counts`` at most 0.05 s per step. Peak RSS is the child's
``ru_maxrss``. The exit status is 0 whatever the verdict: this is a report.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

DEFAULT_FILE = ("tle", "starlink_20260822_celestrak_gp.tle")
TARGET_S_PER_STEP = {4: {"full": 1.0}, 5: {"full": 0.15, "counts": 0.05}}  # res -> mode -> s/step (issue 17 at res 5)
TARGET_CORES = 2
STEP_S = 60


# ---- child ------------------------------------------------------------------------------
def global_cells(res: int) -> tuple[Any, Any, str]:
    """Centres (lat, lon deg) of every H3 cell at ``res`` and where they came from."""
    import numpy as np

    try:
        from leonet.ground.cells import all_cells, cell_centers

        lat, lon = cell_centers(all_cells(res))
        return np.asarray(lat, float), np.asarray(lon, float), "leonet.ground.cells"
    except ImportError:
        import h3

        cells = sorted(c for base in h3.get_res0_cells() for c in h3.cell_to_children(base, res))
        ll = np.array([h3.cell_to_latlng(c) for c in cells])
        return ll[:, 0], ll[:, 1], "h3 directly"


def csr_rows(v: Any, rows: Any) -> Any:
    """The satellite lists of cells ``rows`` at time 0, concatenated (CSR gather, no Python loop)."""
    import numpy as np

    lengths = v.counts[rows, 0].astype(np.int64)
    starts = v.offsets[0, rows]
    ends = np.cumsum(lengths)
    idx = np.repeat(starts - (ends - lengths), lengths) + np.arange(int(ends[-1]) if ends.size else 0)
    return v.sat_index[idx]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import numba
    import numpy as np

    from leonet.coverage import visibility as V
    from leonet.ground.points import GroundPoints
    from leonet.orbits.propagate import propagate
    from leonet.sources.load import load
    from leonet.times import NS_PER_DAY, NS_PER_S, format_time

    res = args._measure
    t0 = time.perf_counter()
    c = load(args.file)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lat, lon, cells_from = global_cells(res)
    cells_s = time.perf_counter() - t0
    # Compile first (NUMBA_CACHE_DIR is a fresh folder, set by the parent): every kernel, with
    # the argument types real calls use (one thread and several, one step and many), so that
    # neither the preparation nor the steps below include compilation.
    t0 = time.perf_counter()
    V.warm_kernels()
    compile_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    pts = V.blocked(GroundPoints.from_geodetic(lat, lon, 0.0))
    prep_s = time.perf_counter() - t0

    start = int(np.max(c.epoch_ns)) // NS_PER_DAY * NS_PER_DAY + 12 * 3600 * NS_PER_S
    t_ns = start + np.arange(args.steps, dtype=np.int64) * STEP_S * NS_PER_S
    t0 = time.perf_counter()
    st = propagate(c.satrecs, t_ns, frame="itrf", velocities=False)
    prop_s = time.perf_counter() - t0
    r = st.r_km

    # The reference check's cells (chosen before the steps): step 0's figures for them are
    # kept, not the whole step, so that no step but the first faults in fresh pairs buffers.
    if args.ref_cells and args.ref_cells < len(pts):
        rows = np.sort(np.random.default_rng(1).choice(len(pts), args.ref_cells, replace=False))
    else:
        rows = np.arange(len(pts))
    steps: list[dict[str, Any]] = []
    kept0 = None
    for k in range(args.steps):
        rk = r[:, k : k + 1]
        load = os.getloadavg()[0]
        c0, t0 = time.process_time(), time.perf_counter()
        vc = V.visibility(pts, rk, args.mask)
        counts_s, counts_cpu = time.perf_counter() - t0, time.process_time() - c0
        c0, t0 = time.process_time(), time.perf_counter()
        vf = V.visibility(pts, rk, args.mask, pairs=True, max_elevation=True)
        full_s, full_cpu = time.perf_counter() - t0, time.process_time() - c0
        same = bool(np.array_equal(vc.counts, vf.counts))
        n_pairs = int(vf.sat_index.size)
        steps.append({"t": str(format_time(int(t_ns[k]))), "counts_s": counts_s, "full_s": full_s, "counts_cpu_s": counts_cpu,
                      "full_cpu_s": full_cpu, "load_1m": load, "pairs": n_pairs,
                      "mean_in_view": float(vf.counts.mean()), "max_in_view": int(vf.counts.max()),
                      "uncovered_cells": int((vf.counts == 0).sum()), "counts_modes_agree": same,
                      "pairs_bytes": int(vf.sat_index.nbytes + vf.offsets.nbytes)})
        C.log(f"  res {res} step {k}: counts {counts_s:.3f} s, full {full_s:.3f} s, {n_pairs:,} pairs")
        if k == 0:
            kept0 = (vf.counts[rows, 0].copy(), csr_rows(vf, rows), vf.max_elevation_deg[rows, 0].copy())
        del vc, vf
    assert kept0 is not None

    # Reference on the first instant.
    sub = GroundPoints.from_geodetic(lat[rows], lon[rows], 0.0)
    t0 = time.perf_counter()
    ref = V.visibility_brute_force(sub, r[:, :1], args.mask, pairs=True, max_elevation=True, workers=2)
    ref_s = time.perf_counter() - t0
    counts_same = bool(np.array_equal(ref.counts[:, 0], kept0[0]))
    pairs_same = counts_same and bool(np.array_equal(ref.sat_index, kept0[1]))
    elev_same = bool(np.array_equal(ref.max_elevation_deg[:, 0], kept0[2], equal_nan=True))

    return {
        "res": res, "cells": len(pts), "cells_from": cells_from, "sats": int(r.shape[0]), "steps": args.steps,
        "threads": numba.get_num_threads(), "threading_layer": numba.threading_layer(),
        "load_s": load_s, "cells_s": cells_s, "prep_s": prep_s, "propagate_s": prop_s, "compile_s": compile_s,
        "failed_states": int((st.error != 0).sum()),
        "per_step": steps,
        "reference": {"cells": int(len(rows)), "s": ref_s, "s_all_cells": ref_s * len(pts) / len(rows),
                      "counts_identical": counts_same, "pairs_identical": pairs_same,
                      "max_elevation_identical": elev_same},
        "rss": C.peak_rss(),
    }


# ---- orchestrator -----------------------------------------------------------------------
def run_res(args: argparse.Namespace, res: int, src: Path | None = None) -> dict[str, Any]:
    """One child measuring resolution ``res`` with this checkout, or with the leonet found in
    ``src`` (put first on ``PYTHONPATH``)."""
    argv = [__file__, "--_measure", str(res), "--file", str(args.file), "--steps", str(args.steps), "--mask", str(args.mask)]
    if res >= 5:
        argv += ["--ref-cells", str(args.ref_cells_res5)]
    cache = tempfile.mkdtemp(prefix="leonet-bench-numba-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])])
    try:
        C.log(f"res {res}{' baseline' if src else ''}: child process ...")
        out = C.run_child(argv, timeout=args.timeout, env=env)
        out["who"] = f"baseline ({src})" if src else "this"
        return out
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def report(results: list[dict[str, Any]], info: dict[str, Any], args: argparse.Namespace) -> None:
    v = info["versions"]
    C.print_lines([
        f"leonet coverage benchmark  ({time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})",
        f"machine: {info['cores']['usable']} usable cores, {info['cpu']}, {C.fmt_bytes(info.get('memory_total'))} RAM, "
        f"load avg {info.get('load_avg_1m', float('nan')):.2f} at start; python {info['python']}, numpy {v['numpy']}, "
        f"numba {v['numba']}",
        f"job: {Path(args.file).name}, mask {args.mask:g} deg, {args.steps} steps {STEP_S} s apart from 12:00 UTC of the "
        f"snapshot day; each resolution in a fresh process",
    ])
    rows = []
    by_res: dict[int, dict[str, dict[str, Any]]] = {}
    for r in results:
        by_res.setdefault(r["res"], {})["base" if r["who"] != "this" else "this"] = r
    for r in results:
        r["medians"] = {f"{m}{x}": C.summarize([s[f"{m}{x}"] for s in r["per_step"]])["median"] for m in ("counts", "full") for x in ("_s", "_cpu_s")}
    for r in results:
        ps = r["per_step"]
        med = r["medians"]
        targets = TARGET_S_PER_STEP.get(r["res"], {})
        base = by_res[r["res"]].get("base") if r["who"] == "this" else None
        for mode in ("counts", "full"):
            target = targets.get(mode)
            vs = ""
            if base is not None:
                bm = base["medians"]
                vs = f"x{bm[f'{mode}_s'] / med[f'{mode}_s']:.2f} / x{bm[f'{mode}_cpu_s'] / med[f'{mode}_cpu_s']:.2f}"
            rows.append([
                f"res {r['res']}", r["who"], mode, f"{r['cells']:,}",
                f"{med[f'{mode}_s']:.3f} s ({min(s[f'{mode}_s'] for s in ps):.3f}..{max(s[f'{mode}_s'] for s in ps):.3f})",
                f"{med[f'{mode}_cpu_s']:.3f} s", vs,
                f"<= {target:g} s" if target else "-", C.verdict(med[f"{mode}_s"] <= target) if target else "-",
                f"{min(s['load_1m'] for s in ps):.1f}..{max(s['load_1m'] for s in ps):.1f}",
            ])
    C.print_table("kernel seconds per time step (medians over steps; compile excluded)",
                  ["grid", "leonet", "mode", "cells", "wall (min..max)", "CPU", "speed-up wall / CPU", "target", "verdict", "load 1m"],
                  rows, right=(3, 4, 5, 6))
    rows = []
    for r in results:
        ref = r["reference"]
        s_full = C.summarize([s["full_s"] for s in r["per_step"]])["median"]
        scaled = "" if ref["cells"] == r["cells"] else f" (x{r['cells'] / ref['cells']:.1f} -> {ref['s_all_cells']:.1f} s)"
        rows.append([
            f"res {r['res']}", r["who"], f"{ref['cells']:,}", f"{ref['s']:.2f} s{scaled}", f"{s_full:.3f} s",
            f"{ref['s_all_cells'] / s_full:.0f}x",
            "yes" if ref["counts_identical"] else "NO", "yes" if ref["pairs_identical"] else "NO",
            "yes" if ref["max_elevation_identical"] else "NO",
        ])
    C.print_table("brute-force NumPy reference on step 0 (all cells x all satellites, 2 threads)",
                  ["grid", "leonet", "cells compared", "reference", "kernel (full)", "ratio", "counts identical",
                   "pairs identical", "max elev identical"], rows, right=(2, 3, 4, 5))
    lines = []
    for r in results:
        ps = r["per_step"]
        lines.append(
            f"res {r['res']}, {r['who']}: cells from {r['cells_from']} {r['cells_s']:.2f} s, GroundPoints {r['prep_s']:.2f} s, "
            f"propagation of {r['sats']:,} sats x {r['steps']} steps {r['propagate_s']:.2f} s ({r['failed_states']} failed states), "
            f"numba compile {r['compile_s']:.1f} s, peak RSS {C.fmt_gb(r['rss']['self'])}")
        lines.append(
            f"       per step: {ps[0]['mean_in_view']:.1f} sats in view on average (max {ps[0]['max_in_view']}), "
            f"{ps[0]['uncovered_cells']:,} cells with none; {ps[0]['pairs']:,} pairs = "
            f"{C.fmt_bytes(ps[0]['pairs_bytes'])} with offsets; counts-only and full calls agree: "
            f"{all(s['counts_modes_agree'] for s in ps)}")
        lines.append("       full s/step: " + ", ".join(f"{s['full_s']:.3f}" for s in ps)
                     + "; counts s/step: " + ", ".join(f"{s['counts_s']:.3f}" for s in ps))
        if r["reference"]["cells"] != r["cells"]:
            lines.append(f"       reference on {r['reference']['cells']:,} random cells (counts, pairs and max elevations "
                         f"compared on all of them)")
    if info["cores"]["usable"] != TARGET_CORES:
        lines.append(f"NOTE: targets are for {TARGET_CORES} cores; this machine gives {info['cores']['usable']}.")
    C.print_lines(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--res", type=int, default=4, help="H3 resolution of the main run (default 4)")
    ap.add_argument("--steps", type=int, default=5, help="time steps, 60 s apart (default 5)")
    ap.add_argument("--res5", action="store_true", help="also run global res 5 (2,016,842 cells)")
    ap.add_argument("--file", type=Path, default=None, help="element sets (default: the 2026-08-22 Starlink snapshot)")
    ap.add_argument("--mask", type=float, default=25.0, help="minimum elevation, deg (default 25)")
    ap.add_argument("--ref-cells-res5", type=int, default=100_000, help="cells in the res-5 reference check")
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--baseline", type=Path, default=None,
                    help="src folder of another leonet checkout to run side by side (PYTHONPATH=SRC)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--_measure", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--ref-cells", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--_result", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.steps < 1:
        ap.error("--steps must be at least 1")
    args.file = args.file or C.data_path(*DEFAULT_FILE)
    if args._measure is not None:
        C.write_result(args._result, measure(args))
        return
    info = C.machine_info(("numpy", "numba", "h3", "leonet"))
    if args.baseline is not None and not (args.baseline / "leonet" / "coverage" / "visibility.py").exists():
        ap.error(f"--baseline {args.baseline}: no leonet/coverage/visibility.py there; give the src folder of a leonet checkout")
    results = []
    for k, res in enumerate([args.res] + ([5] if args.res5 and args.res != 5 else [])):
        # With a baseline, alternate which runs first so that neither always meets the same load.
        srcs: list[Path | None] = [None] if args.baseline is None else [[None, args.baseline], [args.baseline, None]][k % 2]
        results += [run_res(args, res, src) for src in srcs]
    report(results, info, args)
    if args.json:
        C.dump_json(args.json, {"benchmark": "coverage", "machine": info, "results": results})


if __name__ == "__main__":
    main()
