"""Benchmark: leonet's propagation to ITRF against bare SGP4 and a Skyfield loop.

    .venv/bin/python bench/propagation.py [--file PATH] [--duration 1d] [--step 60s]
        [--repeats 3] [--skyfield-sats 300] [--json OUT]

On the 10,744-satellite Starlink snapshot of 2026-08-22, 1 day at 60 s (15.5 M states), it
measures, each repeat in a fresh child process (this script re-run with ``--_measure KIND``):

(a) leonet  ``propagate(c.satrecs, t_ns, frame='itrf')``: default workers (all usable cores),
    float64, velocities on: the job;
(b) baseline ``SatrecArray(list(satrecs)).sgp4(jd, fr)`` in one process, TEME, positions and
    velocities: what the sgp4 package does on its own;
(c) Skyfield, one ``EarthSatellite`` at a time, ``sat.at(t).frame_xyz(itrs)`` with ``t`` one
    vector ``Time`` over the same grid, on an evenly spaced subset of ``--skyfield-sats``
    satellites (all of them would take many minutes), scaled as states/s;
(d) the peak memory of the leonet job including its worker processes.

Leonet and baseline repeats alternate (L, B, L, B, ...) so drift on a shared machine hits both.
Each child times only the call (``time.perf_counter``), reports its load time separately, and
reports peak RSS from ``getrusage`` (see ``_common.peak_rss`` for what the sum of self and
children does and does not count). One further leonet run, not timed for the table, samples
the PSS of the whole process tree (shared pages counted once).

Targets: leonet ITRF throughput / baseline TEME throughput >= 1.7 on 2 cores; leonet peak
memory (self + children ru_maxrss, worst repeat) <= 1.5 GB. The exit status is 0 whether or not
the targets are met: this is a report.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

DEFAULT_FILE = ("tle", "starlink_20260822_celestrak_gp.tle")
TARGET_RATIO = 1.7
TARGET_RATIO_CORES = 2
TARGET_MEMORY_BYTES = 1.5e9  # 1.5 GB (decimal)


# ---- children: one measurement each -----------------------------------------------------
def _grid(args: argparse.Namespace) -> Any:
    from leonet.times import TimeGrid

    return TimeGrid.from_span(args.start, args.duration, args.step)


def _load(args: argparse.Namespace) -> tuple[Any, float]:
    from leonet.sources.load import load

    t0 = time.perf_counter()
    c = load(args.file)
    return c, time.perf_counter() - t0


def measure_leonet(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from leonet.orbits.eop import builtin_eop
    from leonet.orbits.propagate import default_workers, propagate

    c, load_s = _load(args)
    t0 = time.perf_counter()
    builtin_eop()  # the UT1-UTC table is cached after its first read: count it as loading
    t_ns = _grid(args).t_ns
    load_s += time.perf_counter() - t0
    rss_before = C.peak_rss()
    workers = args.workers

    sampler = C.TreeMemorySampler() if args._sample_mem else None
    if sampler:
        sampler.__enter__()
    t0 = time.perf_counter()
    st = propagate(c.satrecs, t_ns, frame="itrf", workers=workers)
    call_s = time.perf_counter() - t0
    rss_call = C.peak_rss()
    # Read every output page (as any user of the result will): the parent's RSS then includes
    # the whole shared output, which the workers wrote and the parent had not yet touched.
    check = _check(st.r_km, st.v_kms, st.error)
    if sampler:
        sampler.__exit__(None, None, None)
    rss = C.peak_rss()
    n, m = st.shape
    out = {
        "kind": "leonet",
        "frame": "itrf",
        "workers": workers if workers is not None else default_workers(),
        "n_sats": n,
        "n_times": m,
        "states": n * m,
        "load_s": load_s,
        "call_s": call_s,
        "states_per_s": n * m / call_s,
        "output_bytes": int(st.r_km.nbytes + (st.v_kms.nbytes if st.v_kms is not None else 0) + st.error.nbytes),
        "rss": rss,
        "rss_after_call": rss_call,
        "rss_before_call": rss_before,
        "check": check,
        "error_summary": st.error_summary(),
    }
    if sampler:
        out["tree_memory"] = sampler.result()
    del np
    return out


def measure_baseline(args: argparse.Namespace) -> dict[str, Any]:
    from sgp4.api import SatrecArray

    from leonet.times import ns_to_jd2

    c, load_s = _load(args)
    t0 = time.perf_counter()
    satrecs = c.satrecs
    jd, fr = ns_to_jd2(_grid(args).t_ns)
    load_s += time.perf_counter() - t0
    rss_before = C.peak_rss()

    t0 = time.perf_counter()
    e, r, v = SatrecArray(list(satrecs)).sgp4(jd, fr)
    call_s = time.perf_counter() - t0
    check = _check(r, v, e)
    n, m = e.shape
    return {
        "kind": "baseline",
        "frame": "teme",
        "workers": 1,
        "n_sats": n,
        "n_times": m,
        "states": n * m,
        "load_s": load_s,
        "call_s": call_s,
        "states_per_s": n * m / call_s,
        "output_bytes": int(r.nbytes + v.nbytes + e.nbytes),
        "rss": C.peak_rss(),
        "rss_before_call": rss_before,
        "check": check,
    }


def skyfield_subset(n: int, k: int) -> list[int]:
    """``k`` satellite rows spread evenly over ``0..n-1`` (deterministic)."""
    import numpy as np

    k = max(1, min(k, n))
    return sorted({int(i) for i in np.linspace(0, n - 1, k).round()})


def measure_skyfield(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    from skyfield.api import EarthSatellite
    from skyfield.api import load as sf_load
    from skyfield.framelib import itrs

    from leonet.orbits.propagate import propagate
    from leonet.times import NS_PER_DAY

    c, load_s = _load(args)
    t0 = time.perf_counter()
    rows = skyfield_subset(len(c.satrecs), args.skyfield_sats)
    t_ns = _grid(args).t_ns
    ts = sf_load.timescale()  # built-in UTC/UT1 tables, no download
    sats = [EarthSatellite.from_satrec(c.satrecs[i], ts) for i in rows]
    day0 = int(t_ns[0] // NS_PER_DAY * NS_PER_DAY)
    d = np.datetime64(day0, "ns").astype("datetime64[D]").item()
    t = ts.utc(d.year, d.month, d.day, 0, 0, (t_ns - day0) / 1e9)  # one vector Time, reused
    load_s += time.perf_counter() - t0
    m = len(t_ns)
    r = np.empty((len(sats), m, 3))

    t0 = time.perf_counter()  # includes the first call's precession/nutation work, cached on t
    for k, sat in enumerate(sats):
        r[k] = sat.at(t).frame_xyz(itrs).km.T
    call_s = time.perf_counter() - t0

    # Sanity: the same satellites through leonet (in-process). Skyfield turns TEME into ITRS by
    # GMST-1982 too (then ITRS -> GCRS, which frame_xyz(itrs) rotates back), so they should agree
    # to round-off, which shows both sides compute the same states.
    ref = propagate([c.satrecs[i] for i in rows], t_ns, frame="itrf", workers=1, velocities=False).r_km
    diff = np.linalg.norm(r - ref, axis=-1)
    ok = np.isfinite(diff)
    return {
        "kind": "skyfield",
        "frame": "itrs",
        "workers": 1,
        "n_sats": len(rows),
        "n_sats_total": len(c.satrecs),
        "n_times": m,
        "states": len(rows) * m,
        "load_s": load_s,
        "call_s": call_s,
        "states_per_s": len(rows) * m / call_s,
        "rss": C.peak_rss(),
        "vs_leonet_km": {
            "max": float(diff[ok].max()) if ok.any() else None,
            "median": float(np.median(diff[ok])) if ok.any() else None,
            "compared": int(ok.sum()),
        },
        "rows": rows,
    }


def _check(r: Any, v: Any, e: Any, rows: int = 256) -> dict[str, Any]:
    """Read every output value and return simple plausibility figures. Works through blocks of
    satellites so that its own temporaries (a few MB) do not inflate the peak memory measured."""
    import numpy as np

    fin = vfin = errs = 0
    lo, hi = np.inf, -np.inf
    for i in range(0, r.shape[0], rows):
        rn = np.sqrt(np.einsum("...i,...i->...", r[i : i + rows], r[i : i + rows]))
        ok = np.isfinite(rn)
        fin += int(ok.sum())
        if ok.any():
            lo, hi = min(lo, float(rn[ok].min())), max(hi, float(rn[ok].max()))
        if v is not None:
            vfin += int(np.isfinite(v[i : i + rows]).all(axis=-1).sum())
        errs += int(np.count_nonzero(e[i : i + rows]))
    return {
        "finite_states": fin,
        "finite_velocities": vfin if v is not None else None,
        "error_states": errs,
        "radius_km_min": lo if fin else None,
        "radius_km_max": hi if fin else None,
    }


MEASURES = {"leonet": measure_leonet, "baseline": measure_baseline, "skyfield": measure_skyfield}


# ---- orchestrator -----------------------------------------------------------------------
def default_start(path: Path) -> str:
    """UTC midnight of the newest epoch in the file: the day the snapshot was taken."""
    import numpy as np

    from leonet.sources.load import load
    from leonet.times import NS_PER_DAY, format_time

    c = load(path)
    return str(format_time(int(np.max(c.epoch_ns)) // NS_PER_DAY * NS_PER_DAY))


def child_argv(args: argparse.Namespace, kind: str, *extra: str) -> list[str]:
    argv = [
        __file__, "--_measure", kind, "--file", str(args.file), "--start", args.start,
        "--duration", args.duration, "--step", args.step, "--skyfield-sats", str(args.skyfield_sats),
    ]
    if args.workers is not None:
        argv += ["--workers", str(args.workers)]
    return argv + list(extra)


def run(args: argparse.Namespace) -> dict[str, Any]:
    info = C.machine_info(("numpy", "sgp4", "skyfield", "leonet"))
    from sgp4.api import accelerated

    info["sgp4_accelerated"] = bool(accelerated)
    if args.start is None:
        args.start = default_start(args.file)
    runs: dict[str, list[dict[str, Any]]] = {"leonet": [], "baseline": [], "skyfield": []}
    total = 2 * args.repeats + args.skyfield_repeats + (0 if args.no_mem_probe else 1)
    step = 0

    def go(kind: str, *extra: str) -> dict[str, Any]:
        nonlocal step
        step += 1
        C.log(f"[{step}/{total}] {kind}{' ' + ' '.join(extra) if extra else ''} ...")
        res = C.run_child(child_argv(args, kind, *extra), timeout=args.timeout)
        C.log(f"    {kind}: {res['states']:,} states in {res['call_s']:.2f} s = {C.fmt_rate(res['states_per_s'])}"
              f", peak RSS {C.fmt_bytes(res['rss']['sum'])}")
        return res

    for _ in range(args.repeats):  # L, B, L, B, ...
        runs["leonet"].append(go("leonet"))
        runs["baseline"].append(go("baseline"))
    for _ in range(args.skyfield_repeats):
        runs["skyfield"].append(go("skyfield"))
    probe = None if args.no_mem_probe else go("leonet", "--_sample-mem")

    L, B, S = runs["leonet"], runs["baseline"], runs["skyfield"]
    lr = C.summarize([r["states_per_s"] for r in L])
    br = C.summarize([r["states_per_s"] for r in B])
    sr = C.summarize([r["states_per_s"] for r in S]) if S else None
    ratio = lr["median"] / br["median"]
    pair = C.summarize([l["states_per_s"] / b["states_per_s"] for l, b in zip(L, B)])
    mem_sum = C.summarize([r["rss"]["sum"] for r in L])
    mem_self = C.summarize([r["rss"]["self"] for r in L])
    mem_child = C.summarize([r["rss"]["children"] for r in L])
    mem_self_call = C.summarize([r["rss_after_call"]["self"] for r in L])
    cores = info["cores"]["usable"]
    return {
        "benchmark": "propagation",
        "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": info,
        "params": {
            "file": str(args.file), "start": args.start, "duration": args.duration, "step": args.step,
            "repeats": args.repeats, "skyfield_sats": args.skyfield_sats, "skyfield_repeats": args.skyfield_repeats,
            "workers": args.workers,
        },
        "shape": {"n_sats": L[0]["n_sats"], "n_times": L[0]["n_times"], "states": L[0]["states"]},
        "leonet_itrf": {"states_per_s": lr, "call_s": C.summarize([r["call_s"] for r in L]),
                        "load_s": C.summarize([r["load_s"] for r in L]), "workers": L[0]["workers"],
                        "peak_rss_sum": mem_sum, "peak_rss_self": mem_self, "peak_rss_children": mem_child,
                        "peak_rss_self_at_call_end": mem_self_call},
        "baseline_teme": {"states_per_s": br, "call_s": C.summarize([r["call_s"] for r in B]),
                          "load_s": C.summarize([r["load_s"] for r in B]),
                          "peak_rss": C.summarize([r["rss"]["sum"] for r in B])},
        "skyfield_itrs": None if not S else {
            "states_per_s": sr, "call_s": C.summarize([r["call_s"] for r in S]),
            "load_s": C.summarize([r["load_s"] for r in S]), "n_sats": S[0]["n_sats"],
            "peak_rss": C.summarize([r["rss"]["sum"] for r in S]),
            "full_run_estimate_s": L[0]["states"] / sr["median"], "vs_leonet_km": S[0]["vs_leonet_km"],
        },
        "memory_probe": probe,
        "targets": {
            "ratio": {"value": ratio, "paired_ratios": pair, "target": TARGET_RATIO, "cores": cores,
                      "target_cores": TARGET_RATIO_CORES, "pass": ratio >= TARGET_RATIO},
            "memory": {"value": mem_sum["max"], "target": TARGET_MEMORY_BYTES,
                       "pass": mem_sum["max"] <= TARGET_MEMORY_BYTES},
        },
        "runs": runs,
    }


def report(res: dict[str, Any]) -> None:
    m, p, sh = res["machine"], res["params"], res["shape"]
    L, B, S = res["leonet_itrf"], res["baseline_teme"], res["skyfield_itrs"]
    v = m["versions"]
    C.print_lines([
        f"leonet propagation benchmark  ({res['when_utc']})",
        f"machine: {m['cores']['usable']} usable cores ({m['cores']['logical']} logical), {m['cpu']}, "
        f"{C.fmt_bytes(m.get('memory_total'))} RAM, load avg {m.get('load_avg_1m', float('nan')):.2f} at start; {m['os']}",
        f"versions: python {m['python']}, numpy {v['numpy']}, sgp4 {v['sgp4']} (C++ accelerated: {m['sgp4_accelerated']}), "
        f"skyfield {v['skyfield']}, leonet {v['leonet']}",
        f"job: {Path(p['file']).name}, {sh['n_sats']:,} satellites x {sh['n_times']:,} instants "
        f"({p['duration']} at {p['step']} from {p['start']}) = {sh['states']:,} states",
        f"each repeat in a fresh process; leonet and baseline alternate; {p['repeats']} repeats each; "
        f"time = the call only (load reported apart)",
    ])

    def row(name: str, d: dict[str, Any], states: int, extra: str) -> list[str]:
        r = d["states_per_s"]
        return [name, f"{states:,}", C.fmt_rate(r["median"]), C.fmt_rate(r["min"]), C.fmt_rate(r["max"]),
                C.fmt_s(d["call_s"]["median"]), C.fmt_s(d["load_s"]["median"]), extra]

    rows = [
        row(f"(a) leonet ITRF, {L['workers']} workers", L, sh["states"],
            C.fmt_gb(L["peak_rss_sum"]["max"])),
        row("(b) sgp4 SatrecArray TEME, 1 proc", B, sh["states"], C.fmt_gb(B["peak_rss"]["max"])),
    ]
    if S:
        rows.append(row(f"(c) Skyfield loop ITRS, {S['n_sats']} sats", S, S["n_sats"] * sh["n_times"], C.fmt_gb(S["peak_rss"]["max"])))
    C.print_table("throughput",
                  ["measurement", "states", "median", "min", "max", "call", "load", "peak RSS"], rows,
                  right=(1, 2, 3, 4, 5, 6, 7))
    C.print_lines(["  (states/s; call and load: medians; peak RSS: worst repeat, self + children)"])

    ratio = res["targets"]["ratio"]
    mem = res["targets"]["memory"]
    pr = ratio["paired_ratios"]
    rows = [
        ["leonet ITRF / baseline TEME throughput", f"{ratio['value']:.2f}x",
         f"paired {pr['min']:.2f}..{pr['max']:.2f}x", f">= {TARGET_RATIO}x on {TARGET_RATIO_CORES} cores",
         C.verdict(ratio["pass"])],
        ["leonet peak RSS, self + children (worst)", C.fmt_gb(mem["value"]),
         f"median {C.fmt_gb(L['peak_rss_sum']['median'])}", f"<= {TARGET_MEMORY_BYTES / 1e9:.1f} GB", C.verdict(mem["pass"])],
    ]
    probe = res.get("memory_probe")
    if probe and "tree_memory" in probe:
        pss = probe["tree_memory"]["peak_pss"]
        rows.append(["leonet peak PSS, process tree (sampled)", C.fmt_gb(pss), "1 untimed run",
                     f"<= {TARGET_MEMORY_BYTES / 1e9:.1f} GB", f"{C.verdict(pss <= TARGET_MEMORY_BYTES).lower()} (info)"])
    C.print_table("targets", ["figure", "value", "spread", "target", "verdict"], rows, right=(1,))

    notes = []
    if ratio["cores"] != TARGET_RATIO_CORES:
        notes.append(f"NOTE: the ratio target is defined for {TARGET_RATIO_CORES} cores; this machine gives "
                     f"{ratio['cores']}, so the verdict above is only indicative.")
    notes.append(
        f"memory detail (leonet, worst repeat): parent alone {C.fmt_gb(L['peak_rss_self']['max'])} after reading the whole "
        f"result ({C.fmt_gb(L['peak_rss_self_at_call_end']['max'])} when propagate() returned, before it had touched the "
        f"shared output), largest worker {C.fmt_gb(L['peak_rss_children']['max'])}; output arrays (r, v, error) "
        f"{C.fmt_gb(res['runs']['leonet'][0]['output_bytes'])}.")
    notes.append(
        "  peak RSS = ru_maxrss(RUSAGE_SELF) + ru_maxrss(RUSAGE_CHILDREN). The children are the forked workers; on "
        "Linux the children figure is the largest single worker, not a sum. Output pages a worker wrote into the "
        "shared buffer, and pages inherited at fork, are counted in that worker and again in the parent, so the "
        "sum over-counts those (the other workers' private block temporaries, tens of MB, are not counted).")
    if probe and "tree_memory" in probe:
        tm = probe["tree_memory"]
        notes.append(
            f"  extra untimed leonet run sampling the process tree every {tm['interval_s'] * 1e3:.0f} ms: peak PSS "
            f"(shared pages counted once) {C.fmt_gb(tm['peak_pss'])}, peak summed RSS {C.fmt_gb(tm['peak_rss_sum'])}, "
            f"ru_maxrss sum {C.fmt_gb(probe['rss']['sum'])} ({tm['samples']} samples; sampling can miss short peaks, and "
            f"RSS and PSS are read at slightly different moments).")
    if S:
        d = S["vs_leonet_km"]
        notes.append(
            f"Skyfield ran on {S['n_sats']} of {sh['n_sats']:,} satellites (evenly spaced rows), not all: the whole set would "
            f"take about {C.fmt_s(S['full_run_estimate_s'])} per repeat at the measured rate (estimated, not run). Its figure "
            f"is states/s on the subset, "
            f"positions only (frame_xyz), one reused vector Time. Its ITRS positions differ from leonet's ITRF by "
            f"median {d['median'] * 1e3:.2g} m, max {d['max'] * 1e3:.2g} m: Skyfield too turns TEME into ITRS by "
            f"GMST-1982 (then on to GCRS, which frame_xyz(itrs) undoes), so both compute the same states.")
        notes.append(f"leonet ITRF vs Skyfield ITRS throughput: {L['states_per_s']['median'] / S['states_per_s']['median']:.0f}x.")
    chk = res["runs"]["leonet"][0]["check"]
    notes.append(
        f"sanity (leonet): {chk['finite_states']:,} finite states, {chk['error_states']:,} with SGP4 errors, radius "
        f"{chk['radius_km_min']:.0f}..{chk['radius_km_max']:.0f} km; {res['runs']['leonet'][0]['error_summary']}.")
    verdicts = "PASS" if ratio["pass"] and mem["pass"] else "FAIL"
    notes.append(f"RESULT: {verdicts}  (ratio {ratio['value']:.2f}x {C.verdict(ratio['pass'])}, "
                 f"memory {C.fmt_gb(mem['value'])} {C.verdict(mem['pass'])}); this is a report, exit status 0 either way.")
    C.print_lines(notes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=None, help="element-set file (default: the 2026-08-22 Starlink snapshot)")
    ap.add_argument("--start", default=None, help="grid start, ISO-8601 UTC (default: midnight of the newest epoch)")
    ap.add_argument("--duration", default="1d")
    ap.add_argument("--step", default="60s")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of leonet and of the baseline (alternating)")
    ap.add_argument("--skyfield-sats", type=int, default=300, help="size of the Skyfield subset")
    ap.add_argument("--skyfield-repeats", type=int, default=None, help="Skyfield repeats (default: --repeats)")
    ap.add_argument("--workers", type=int, default=None, help="leonet workers (default: all usable cores)")
    ap.add_argument("--no-mem-probe", action="store_true", help="skip the extra untimed PSS-sampling leonet run")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per child run")
    ap.add_argument("--json", type=Path, default=None, help="write every figure to this JSON file")
    ap.add_argument("--_measure", choices=sorted(MEASURES), default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_result", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_sample-mem", dest="_sample_mem", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.file is None:
        args.file = C.data_path(*DEFAULT_FILE)
    if args.skyfield_repeats is None:
        args.skyfield_repeats = args.repeats
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args._measure:
        C.write_result(args._result, MEASURES[args._measure](args))
        return 0
    res = run(args)
    report(res)
    if args.json:
        C.dump_json(args.json, res)
        C.print_lines([f"figures written to {args.json}"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
