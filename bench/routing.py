"""Benchmark: routing at each time step, all ordered pairs of 100 ground endpoints.

    .venv/bin/python bench/routing.py [--steps 5] [--fw-steps 0] [--file PATH] [--baseline ../base/.venv/bin/leonet]

1. Hypatia's Starlink-550 scenario (``hypatia-starlink550``: 1,584 satellites, its isls.txt,
   100 ground stations, its maximum link lengths), all 100 x 99 pairs, "free one, only over
   ISLs". leonet's step = SGP4 of all satellites at the instant + laser and ground links +
   Dijkstra from the 100 sources + every path. Target (issue 17): at most 0.008 s per step.
   With ``--fw-steps N``, also Hypatia's method on the same graph for N steps: networkx
   ``floyd_warshall_numpy`` over the satellites, then for each pair the minimum over entry and
   exit satellites (with NumPy, which flatters it: Hypatia loops in Python); the two distance
   tables are compared.
2. The 10,744-satellite snapshot of 2026-08-22 with shells, planes and slots inferred and +Grid
   per shell (5,016.6 km, 80 km grazing), the 100 most populous cities, 25 deg mask, all 100 x
   99 pairs. Target (issue 17): at most 0.03 s per step.

3. ``leonet route --hypatia ... --all-pairs`` end to end (CSV written), run for 10 and for 60
   steps: its cost per step is the difference over the 50 extra steps (start-up and loading
   cancel), CPU seconds (user + system), set against the router's own CPU per step from part 1.
   Target (issue 17): at most 1.3x. ``--baseline EXE`` runs another install's ``leonet`` the same
   way (e.g. the main branch's).

Baseline, measured in the same run on the same graphs, steps alternating: the router as it was
before issue 17, with ``scipy.sparse.csgraph.dijkstra`` on a ``csr_matrix``; also the numba
kernel forced onto 2 threads (what the router uses when both cores are free). Every step's
latencies and paths are compared with the baseline's (they must be identical). Times are medians
over ``--steps`` steps 60 s apart, wall and CPU (all threads); one-off setup is reported apart.
Exit status 0 whatever the verdict: this is a report.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

data_path, fmt_s, machine_info, print_lines, print_table, verdict = (
    _common.data_path, _common.fmt_s, _common.machine_info, _common.print_lines, _common.print_table, _common.verdict)

import leonet.network.routing as routing_module  # noqa: E402
from leonet.ground.points import GroundPoints  # noqa: E402
from leonet.network import LinkRule, Router, infer_shells, plus_grid, read_hypatia  # noqa: E402
from leonet.network.links import laser_links_up  # noqa: E402
from leonet.orbits.propagate import propagate  # noqa: E402
from leonet.sources.load import load  # noqa: E402

TARGET_HYPATIA_S = 0.008
TARGET_SNAPSHOT_S = 0.03
TARGET_ROUTE_RATIO = 1.3


def route_cli_cpu_per_step(leonet: str, folder: Path) -> float:
    """CPU seconds per step of ``leonet route --hypatia FOLDER --all-pairs``: (60 steps - 10 steps) / 50,
    each the median of 3 runs (user + system of the process and its children)."""
    import subprocess
    import tempfile

    def cpu(minutes: int) -> float:
        code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
                "u = resource.getrusage(resource.RUSAGE_CHILDREN); print(u.ru_utime + u.ru_stime)")
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, "-c", code, leonet, "route", "--hypatia", str(folder), "--all-pairs", "--duration", f"{minutes}min",
                                  "--step", "1min", "-o", str(Path(tmp) / "routes.csv")], check=True, capture_output=True, text=True)
        return float(out.stdout.split()[-1])

    cpu(10)  # warm the file cache and numba's
    runs = {m: [] for m in (10, 60)}
    for _ in range(3):
        for m in runs:
            runs[m].append(cpu(m))
    return (float(np.median(runs[60])) - float(np.median(runs[10]))) / 50.0


@contextlib.contextmanager
def shortest_paths_by(how: str) -> Iterator[None]:
    """The router's shortest paths: 'this' as the router chooses, 'baseline' scipy's csgraph
    Dijkstra on a csr_matrix (the router before issue 17), 'numba-2' the numba kernel on 2 threads."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra as csgraph_dijkstra

    from leonet.network.shortest import csr_from_edges, dijkstra

    def scipy_paths(h, t, w, n, sources):  # type: ignore[no-untyped-def]
        return csgraph_dijkstra(csr_matrix((w, (h, t)), shape=(n, n)), directed=True, indices=sources, return_predecessors=True)

    def numba_paths(h, t, w, n, sources):  # type: ignore[no-untyped-def]
        return dijkstra(csr_from_edges(h, t, w, n), sources, threads=2)

    saved = routing_module.shortest_paths
    routing_module.shortest_paths = {"this": saved, "baseline": scipy_paths, "numba-2": numba_paths}[how]
    try:
        yield
    finally:
        routing_module.shortest_paths = saved


MODES = ("this", "baseline", "numba-2")


def all_pairs(e: int) -> tuple[np.ndarray, np.ndarray]:
    s, d = np.meshgrid(np.arange(e), np.arange(e), indexing="ij")
    keep = s != d
    return s[keep], d[keep]


def one_step(router: Router, satrecs: tuple, t: int, src: np.ndarray, dst: np.ndarray) -> tuple[float, float, object]:
    """Wall and CPU seconds of one step, including SGP4 at that instant (one process)."""
    w0, c0 = time.perf_counter(), time.process_time()
    r = propagate(satrecs, np.array([t]), frame="itrf", velocities=False, workers=1).r_km[:, 0]
    st = router.step(np.ascontiguousarray(r), src, dst)
    return time.perf_counter() - w0, time.process_time() - c0, st


def same_routes(a, b) -> bool:  # type: ignore[no-untyped-def]
    return bool(np.array_equal(a.latency_m, b.latency_m) and np.array_equal(a.path, b.path) and np.array_equal(a.hops, b.hops))


def time_both(router: Router, satrecs: tuple, t_ns: np.ndarray, src: np.ndarray, dst: np.ndarray) -> dict:
    """Steps of this router, the baseline and the numba kernel on 2 threads, alternating (the
    order rotated every step); every step's routes compared with the baseline's."""
    for mode in MODES:  # warm caches (numba, SGP4), not timed
        with shortest_paths_by(mode):
            one_step(router, satrecs, int(t_ns[0]), src, dst)
    out: dict = {m: ([], []) for m in MODES} | {"identical": True, "last": None}
    for k, t in enumerate(t_ns):
        got = {}
        for mode in MODES[k % 3:] + MODES[: k % 3]:
            with shortest_paths_by(mode):
                w, c, st = one_step(router, satrecs, int(t), src, dst)
            out[mode][0].append(w)
            out[mode][1].append(c)
            got[mode] = st
        out["identical"] &= same_routes(got["this"], got["baseline"]) and same_routes(got["numba-2"], got["baseline"])
        out["last"] = got["this"]
    return out


def hypatia_floyd_warshall(r_km: np.ndarray, isls: np.ndarray, ground: GroundPoints, max_gsl_km: float, max_isl_km: float) -> np.ndarray:
    """Hypatia's all-pairs method on the same graph: (G, G) shortest ground-to-ground lengths, m."""
    import networkx as nx

    up, length = laser_links_up(r_km, isls, max_isl_km, 0.0)
    g = nx.Graph()
    g.add_nodes_from(range(len(r_km)))
    g.add_weighted_edges_from((int(a), int(b), float(w) * 1e3) for (a, b), w in zip(isls[up], length[up]))
    dsat = nx.floyd_warshall_numpy(g, nodelist=range(len(r_km)), weight="weight")
    d2 = ((ground.itrf_km[:, None, :] - r_km[None, :, :]) ** 2).sum(-1)
    gsl = np.where(d2 <= max_gsl_km**2, np.sqrt(d2) * 1e3, np.inf)  # (G, N)
    # min over entry a and exit b of gsl[s, a] + dsat[a, b] + gsl[d, b], one source at a time
    out = np.empty((len(ground), len(ground)))
    for s in range(len(ground)):
        via = np.min(gsl[s][:, None] + dsat, axis=0)  # (N,): best to reach each exit satellite
        out[s] = np.min(via[None, :] + gsl, axis=1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--fw-steps", type=int, default=0, help="steps for networkx Floyd-Warshall (slow)")
    ap.add_argument("--file", default=None, help="element sets for part 2 (default: the 2026-08-22 snapshot)")
    ap.add_argument("--baseline", default=None, help="another install's leonet executable for part 3")
    args = ap.parse_args()
    info = machine_info(("numpy", "scipy", "numba", "sgp4", "leonet"))
    print_lines([f"machine: {info['cpu']}, {info['cores']['usable']} usable cores, load average at start {os.getloadavg()}; "
                 + ", ".join(f"{k} {v}" for k, v in info["versions"].items())])

    # ---- 1. Hypatia Starlink-550 --------------------------------------------------------
    t0 = time.perf_counter()
    h = read_hypatia(data_path("hypatia-starlink550"))
    router = Router(len(h.constellation), h.isls, h.ground, user_links=LinkRule(None, h.max_gsl_length_m / 1e3),
                    isl_max_range_km=h.max_isl_length_m / 1e3, min_grazing_alt_km=0.0)
    setup_h = time.perf_counter() - t0
    src, dst = all_pairs(len(h.ground))
    t_ns = h.epoch_ns + np.arange(args.steps) * 60 * 10**9
    hyp = time_both(router, h.constellation.satrecs, t_ns, src, dst)
    fw, diff = [], 0.0
    for k in range(min(args.fw_steps, args.steps)):
        r = propagate(h.constellation.satrecs, t_ns[k : k + 1], frame="itrf", velocities=False, workers=1).r_km[:, 0]
        t1 = time.perf_counter()
        table = hypatia_floyd_warshall(r, h.isls, h.ground, h.max_gsl_length_m / 1e3, h.max_isl_length_m / 1e3)
        fw.append(time.perf_counter() - t1)
        mine = router.step(np.ascontiguousarray(r), src, dst).latency_m
        diff = max(diff, float(np.max(np.abs(mine - table[src, dst]) / table[src, dst])))

    # ---- 2. 10,744-satellite snapshot -----------------------------------------------------
    from leonet.ground.cities import top_cities

    path = args.file or str(data_path("tle", "starlink_20260822_celestrak_gp.tle"))
    t0 = time.perf_counter()
    c = load(path)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    a = infer_shells(c)
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    t_infer = time.perf_counter() - t0
    cities = top_cities(100)
    ep = GroundPoints.from_geodetic(cities.lat_deg, cities.lon_deg, name=list(cities.name))
    big = Router(len(c), links, ep, user_links=LinkRule(25.0, None), sat_usable=a.shell >= 0)
    src2, dst2 = all_pairs(len(ep))
    t2 = a.epoch_ns + np.arange(args.steps) * 60 * 10**9
    snap = time_both(big, c.satrecs, t2, src2, dst2)

    def rows_for(name: str, res: dict, target: float) -> list[list[str]]:
        base_w = float(np.median(res["baseline"][0]))
        out = []
        for mode, label in (("this", "this (auto)"), ("numba-2", "numba, 2 threads"), ("baseline", "baseline: scipy")):
            w, c = (float(np.median(x)) for x in res[mode])
            out.append([name if mode == "this" else "", label, f"{w:.4f}", f"{c:.4f}", f"{min(res[mode][0]):.4f}-{max(res[mode][0]):.4f}",
                        f"x{base_w / w:.2f}" if mode != "baseline" else "",
                        f"<= {target}" if mode == "this" else "",
                        verdict(w <= target) if mode == "this" else ("same routes" if res["identical"] else "ROUTES DIFFER") if mode == "baseline" else ""])
        return out

    rows = rows_for("Hypatia S-550, 100x99", hyp, TARGET_HYPATIA_S) + rows_for(
        f"{len(c):,} sats, 100 cities", snap, TARGET_SNAPSHOT_S)
    router_cpu = float(np.median(hyp["this"][1]))
    exes = {"this": str(Path(sys.executable).with_name("leonet"))} | ({"baseline": args.baseline} if args.baseline else {})
    for name, exe in exes.items():
        per_step = route_cli_cpu_per_step(exe, data_path("hypatia-starlink550"))
        rows.append(["leonet route (Hypatia)" if name == "this" else "", f"{name}: CPU/step, 60-10",
                     "", f"{per_step:.4f}", "", f"{per_step / router_cpu:.2f}x rtr", "<= 1.3x" if name == "this" else "",
                     verdict(per_step <= TARGET_ROUTE_RATIO * router_cpu) if name == "this" else ""])
    print_table("Routing, seconds per time step incl. SGP4 and links (median over steps)",
                ["scenario", "method", "wall s/step", "CPU s/step", "wall min-max", "speed-up", "target", "verdict"], rows, right=(2, 3, 4, 5))
    lines = [f"Hypatia: setup {fmt_s(setup_h)}; {args.steps} steps; pairs reachable {100 * float(np.isfinite(hyp['last'].latency_m).mean()):.1f}%",
             f"snapshot: load {fmt_s(t_load)}, shell inference + +Grid {fmt_s(t_infer)}: {len(a.shells)} shells, "
             f"{a.unassigned.size} satellites unassigned, {len(links):,} laser links ({100 * snap['last'].laser_up.mean():.1f}% up at the last step); "
             f"pairs reachable {100 * float(np.isfinite(snap['last'].latency_m).mean()):.1f}%",
             f"load average at end {os.getloadavg()}"]
    if fw:
        lines.insert(1, f"networkx Floyd-Warshall (Hypatia's method): median {float(np.median(fw)):.3f} s/step; "
                        f"max relative difference to its distances {diff:.1e} over {len(fw)} step(s)")
    print_lines(lines)


if __name__ == "__main__":
    main()
