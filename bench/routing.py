"""Benchmark: routing at each time step, all ordered pairs of 100 ground endpoints.

    .venv/bin/python bench/routing.py [--steps 5] [--fw-steps 1] [--file PATH]

1. Hypatia's Starlink-550 scenario (``hypatia-starlink550``: 1,584 satellites, its isls.txt,
   100 ground stations, its maximum link lengths), all 100 x 99 pairs, "free one, only over
   ISLs". leonet's step = SGP4 of all satellites at the instant + laser and ground links +
   Dijkstra (scipy.sparse.csgraph) from the 100 sources + every path. Next to it, in the same
   run and on the same graph, Hypatia's method: networkx ``floyd_warshall_numpy`` over the
   satellites, then for each pair the minimum over entry and exit satellites (done here with
   NumPy, which flatters the baseline: Hypatia loops in Python). The two distance tables are
   compared. Target: at most 0.03 s per step.
2. The 10,744-satellite snapshot of 2026-08-22 with shells, planes and slots inferred and +Grid
   per shell (5,016.6 km, 80 km grazing), the 100 most populous cities, 25 deg mask, all 100 x
   99 pairs. Target: at most 0.3 s per step.

Times are medians over ``--steps`` steps 60 s apart; one-off setup (loading, inference) is
reported apart. Exit status 0 whatever the verdict: this is a report.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, fmt_s, machine_info, print_lines, print_table, verdict  # noqa: E402
from leonet.ground.points import GroundPoints  # noqa: E402
from leonet.network import LinkRule, Router, infer_shells, plus_grid, read_hypatia  # noqa: E402
from leonet.network.links import laser_links_up  # noqa: E402
from leonet.orbits.propagate import propagate  # noqa: E402
from leonet.sources.load import load  # noqa: E402


def all_pairs(e: int) -> tuple[np.ndarray, np.ndarray]:
    s, d = np.meshgrid(np.arange(e), np.arange(e), indexing="ij")
    keep = s != d
    return s[keep], d[keep]


def time_steps(router: Router, satrecs: tuple, t_ns: np.ndarray, src: np.ndarray, dst: np.ndarray) -> tuple[list[float], object]:
    """Seconds per step, each including SGP4 at that instant (one process: no fork per step)."""
    out, last = [], None
    for t in t_ns:
        t0 = time.perf_counter()
        r = propagate(satrecs, np.array([t]), frame="itrf", velocities=False, workers=1).r_km[:, 0]
        last = router.step(np.ascontiguousarray(r), src, dst)
        out.append(time.perf_counter() - t0)
    return out, last


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
    ap.add_argument("--fw-steps", type=int, default=1, help="steps for networkx Floyd-Warshall (slow)")
    ap.add_argument("--file", default=None, help="element sets for part 2 (default: the 2026-08-22 snapshot)")
    args = ap.parse_args()
    info = machine_info(("numpy", "scipy", "networkx", "sgp4", "leonet"))
    print_lines([f"machine: {info['cpu']}, {info['cores']['usable']} usable cores, load {info.get('load_avg_1m', float('nan')):.2f}; "
                 + ", ".join(f"{k} {v}" for k, v in info["versions"].items())])

    # ---- 1. Hypatia Starlink-550 --------------------------------------------------------
    t0 = time.perf_counter()
    h = read_hypatia(data_path("hypatia-starlink550"))
    router = Router(len(h.constellation), h.isls, h.ground, user_links=LinkRule(None, h.max_gsl_length_m / 1e3),
                    isl_max_range_km=h.max_isl_length_m / 1e3, min_grazing_alt_km=0.0)
    setup_h = time.perf_counter() - t0
    src, dst = all_pairs(len(h.ground))
    t_ns = h.epoch_ns + np.arange(args.steps) * 60 * 10**9
    time_steps(router, h.constellation.satrecs, t_ns[:1], src, dst)  # warm caches
    ours, last = time_steps(router, h.constellation.satrecs, t_ns, src, dst)
    fw, diff = [], 0.0
    for k in range(min(args.fw_steps, args.steps)):
        r = propagate(h.constellation.satrecs, t_ns[k : k + 1], frame="itrf", velocities=False, workers=1).r_km[:, 0]
        t1 = time.perf_counter()
        table = hypatia_floyd_warshall(r, h.isls, h.ground, h.max_gsl_length_m / 1e3, h.max_isl_length_m / 1e3)
        fw.append(time.perf_counter() - t1)
        mine = router.step(np.ascontiguousarray(r), src, dst).latency_m
        diff = max(diff, float(np.max(np.abs(mine - table[src, dst]) / table[src, dst])))
    med, fw_med = float(np.median(ours)), float(np.median(fw))
    ok1 = med <= 0.03

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
    time_steps(big, c.satrecs, t2[:1], src2, dst2)
    big_times, last2 = time_steps(big, c.satrecs, t2, src2, dst2)
    med2 = float(np.median(big_times))
    ok2 = med2 <= 0.3

    rows = [
        ["Hypatia Starlink-550, 100x99 pairs", "leonet (csgraph Dijkstra, incl. SGP4 + links)", f"{med:.4f}", f"{min(ours):.4f}-{max(ours):.4f}", "<= 0.03", verdict(ok1)],
        ["", "networkx floyd_warshall_numpy (Hypatia's method)", f"{fw_med:.3f}", f"{min(fw):.3f}-{max(fw):.3f}", "", f"x{fw_med / med:.0f} slower"],
        [f"snapshot {len(c):,} sats, 100 cities, 100x99", "leonet (csgraph Dijkstra, incl. SGP4 + links)", f"{med2:.4f}", f"{min(big_times):.4f}-{max(big_times):.4f}", "<= 0.3", verdict(ok2)],
    ]
    print_table("Routing, seconds per time step (median over steps)", ["scenario", "method", "s/step", "min-max", "target", "verdict"], rows, right=(2, 3))
    reach1 = float(np.isfinite(last.latency_m).mean())
    reach2 = float(np.isfinite(last2.latency_m).mean())
    print_lines([
        f"Hypatia: setup {fmt_s(setup_h)}; {args.steps} steps; pairs reachable {100 * reach1:.1f}%; "
        f"max relative difference to Floyd-Warshall distances {diff:.1e} over {len(fw)} step(s); ratio networkx/leonet = {fw_med / med:.0f}",
        f"snapshot: load {fmt_s(t_load)}, shell inference + +Grid {fmt_s(t_infer)}: {len(a.shells)} shells, "
        f"{a.unassigned.size} satellites unassigned, {len(links):,} laser links ({100 * last2.laser_up.mean():.1f}% up at the last step); "
        f"pairs reachable {100 * reach2:.1f}%",
    ])


if __name__ == "__main__":
    main()
