"""Reference paths and path lengths from Hypatia's own satgenpy, for ``tests/network/test_hypatia.py``.

Run it through ``scripts/hypatia_reference.sh``, which creates a separate virtual environment
with ``satgenpy`` and ``ephem`` from PyPI (never the project's: satgenpy pins its own astropy,
networkx and ephem) and calls this file inside it. Nothing here imports leonet.

Two cases, each with Hypatia's "free one, only over ISLs" routing at 1 s steps:

* ``starlink550``: the scenario folder ``$LEONET_DATA_DIR/hypatia-starlink550`` (72 x 22
  satellites, +Grid, the 100 most populous cities), read with satgenpy's own readers.
* ``kuiper630``: Hypatia's Kuiper-630 shell (34 x 34, 51.9 deg, 14.80 rev/day, no phase
  shift between planes) generated with satgenpy's ``generate_tles_from_scratch_with_sgp`` and
  ``generate_plus_grid_isls``, the same 100 cities, and the link limits computed as Hypatia's
  ``main_kuiper_630.py`` does (30 deg minimum elevation, 80 km minimum grazing altitude). The
  scenario files are written beside the results so that leonet reads exactly the same input.

For each time step satgenpy's ``generate_dynamic_state_at`` computes the forwarding state
(pyephem distances, networkx Floyd-Warshall); paths are followed with satgenpy's ``get_path``
and their lengths summed hop by hop with satgenpy's distance functions, as its
``compute_path_length_without_graph`` does (cached per step: each hop is measured once).
Only pairs ``src < dst`` are stored (lengths are symmetric), pair by pair, to keep the files small:

* ``<case>/paths.csv.gz``: ``t_s,src,dst,path,length_m`` (node ids as Hypatia numbers them,
  joined by ``-``, or ``=`` for the pair's path of the step before; lengths to 0.1 m; an
  unreachable pair has an empty path and length),
* ``<case>/meta.json``: what was run, with which package versions.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import math
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

CASES = ("starlink550", "kuiper630")
EARTH_RADIUS_M = 6378135.0  # WGS72, as Hypatia's scenario scripts


def kuiper630_scenario(folder: Path, ground_stations_src: Path) -> None:
    """Write Hypatia's Kuiper-630 scenario (tles, isls, ground stations, description) to ``folder``."""
    from satgen.isls import generate_plus_grid_isls
    from satgen.tles import generate_tles_from_scratch_with_sgp

    folder.mkdir(parents=True, exist_ok=True)
    generate_tles_from_scratch_with_sgp(str(folder / "tles.txt"), "Kuiper-630", 34, 34, False, 51.9, 0.0000001, 0.0, 14.80)
    generate_plus_grid_isls(str(folder / "isls.txt"), 34, 34, isl_shift=0, idx_offset=0)
    shutil.copyfile(ground_stations_src, folder / "ground_stations.txt")
    altitude_m, min_elevation_deg = 630000.0, 30.0
    cone_radius_m = altitude_m / math.tan(math.radians(min_elevation_deg))
    max_gsl = math.sqrt(cone_radius_m**2 + altitude_m**2)
    max_isl = 2.0 * math.sqrt((EARTH_RADIUS_M + altitude_m) ** 2 - (EARTH_RADIUS_M + 80000.0) ** 2)
    (folder / "description.txt").write_text(f"max_gsl_length_m={max_gsl:.10f}\nmax_isl_length_m={max_isl:.10f}\n")


def _load(folder: Path) -> dict:
    import exputil
    from satgen.ground_stations import read_ground_stations_extended
    from satgen.isls import read_isls
    from satgen.tles import read_tles

    tles = read_tles(str(folder / "tles.txt"))
    sats = tles["satellites"]
    desc = exputil.PropertiesConfig(str(folder / "description.txt"))
    gs = read_ground_stations_extended(str(folder / "ground_stations.txt"))
    n_nodes = len(sats) + len(gs)
    # One GSL interface per node ("free one"), as Hypatia's scenarios generate them.
    ifs = [{"id": i, "number_of_interfaces": 1, "aggregate_max_bandwidth": 1.0} for i in range(n_nodes)]
    return {
        "epoch": tles["epoch"],
        "satellites": sats,
        "ground_stations": gs,
        "isls": read_isls(str(folder / "isls.txt"), len(sats)),
        "ifs": ifs,
        "max_gsl": exputil.parse_positive_float(desc.get_property_or_fail("max_gsl_length_m")),
        "max_isl": exputil.parse_positive_float(desc.get_property_or_fail("max_isl_length_m")),
    }


_SCEN: dict[str, dict] = {}


def _hop(a: int, b: int, *, n: int, sats: list, gss: list, epoch_str: str, time_str: str, cache: dict) -> float:
    """Length of one hop (m) with satgenpy's own distance functions, measured once per step."""
    from satgen.distance_tools import distance_m_between_satellites, distance_m_ground_station_to_satellite

    key = (a, b) if a < b else (b, a)
    d = cache.get(key)
    if d is None:
        lo, hi = key
        if hi < n:
            d = distance_m_between_satellites(sats[lo], sats[hi], epoch_str, time_str)
        elif lo < n <= hi:
            d = distance_m_ground_station_to_satellite(gss[hi - n], sats[lo], epoch_str, time_str)
        else:
            raise ValueError(f"hop between ground stations {a} -> {b}")
        cache[key] = d
    return d


def _steps(args: tuple[str, list[int]]) -> list[tuple[int, list[tuple[int, int, str, str]]]]:
    """Forwarding state, paths and lengths at each step of ``t_list`` (seconds since the epoch)."""
    from astropy import units as u
    from satgen.dynamic_state.generate_dynamic_state import generate_dynamic_state_at
    from satgen.post_analysis.graph_tools import get_path

    folder, t_list = args
    if folder not in _SCEN:
        _SCEN[folder] = _load(Path(folder))
    s = _SCEN[folder]
    sats, gss = s["satellites"], s["ground_stations"]
    n, g = len(sats), len(gss)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for t_s in t_list:
            t_ns = t_s * 1_000_000_000
            state = generate_dynamic_state_at(tmp, s["epoch"], t_ns, sats, gss, s["isls"], s["ifs"], s["max_gsl"], s["max_isl"],
                                              "algorithm_free_one_only_over_isls", None, False)
            # Values are (next hop, own interface, next hop's interface); the fstate files hold the next hop first.
            fstate = {k: (v[0] if isinstance(v, tuple) else v) for k, v in state["fstate"].items()}
            epoch_str, time_str = str(s["epoch"]), str(s["epoch"] + t_ns * u.ns)
            cache: dict[tuple[int, int], float] = {}
            hop = functools.partial(_hop, n=n, sats=sats, gss=gss, epoch_str=epoch_str, time_str=time_str, cache=cache)
            rows = []
            for i in range(g):
                for j in range(i + 1, g):
                    path = get_path(n + i, n + j, fstate)
                    if path is None:
                        rows.append((n + i, n + j, "", ""))
                        continue
                    length = sum(hop(a, b) for a, b in zip(path[:-1], path[1:]))
                    rows.append((n + i, n + j, "-".join(map(str, path)), f"{length:.3f}"))
            out.append((t_s, rows))
            print(f"  t={t_s} s done", file=sys.stderr, flush=True)
    return out


def run_case(name: str, folder: Path, out_dir: Path, duration_s: int, workers: int, scenario_label: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    t_all = list(range(duration_s))
    chunks = [(str(folder), t_all[k::workers]) for k in range(workers)]
    t0 = time.time()
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_steps, chunks)
    else:
        parts = [_steps(chunks[0])]
    steps = sorted((st for part in parts for st in part), key=lambda x: x[0])
    # Pair-major order: a pair's rows are neighbours, so its repeated path compresses away.
    # A path equal to the pair's previous one is written '=', and lengths to 0.1 m (the test's
    # tolerance is 200 m): the lengths are most of what remains.
    flat = sorted(((a, b, t_s, p, length) for t_s, rows in steps for a, b, p, length in rows))
    with gzip.open(out_dir / "paths.csv.gz", "wt", encoding="ascii", newline="") as fh:
        fh.write("t_s,src,dst,path,length_m\n")
        prev = None
        for a, b, t_s, p, length in flat:
            same = prev == (a, b, p) and p != ""
            fh.write(f"{t_s},{a},{b},{'=' if same else p},{float(length):.1f}\n" if length else f"{t_s},{a},{b},,\n")
            prev = (a, b, p)
    meta = {
        "case": name,
        "scenario": scenario_label,
        "algorithm": "algorithm_free_one_only_over_isls",
        "start": "TLE epoch (2000-01-01T00:00:00, taken as UTC by pyephem)",
        "duration_s": duration_s,
        "step_s": 1,
        "pairs": "src < dst (Hypatia node ids; ground station gid is n_sats + gid)",
        "format": "pair by pair (src < dst), steps in order; path '=' repeats the pair's previous path; lengths rounded to 0.1 m",
        "satgenpy": version("satgenpy"),
        "ephem": version("ephem"),
        "python": sys.version.split()[0],
        "wall_s": round(time.time() - t0, 1),
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{name}: {len(steps)} steps in {meta['wall_s']} s -> {out_dir}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True, help="The shared reference data folder (holds hypatia-starlink550).")
    ap.add_argument("--out", required=True, help="Output folder (tests/data/hypatia).")
    ap.add_argument("--cases", default=",".join(CASES), help="Comma-separated: " + ", ".join(CASES))
    ap.add_argument("--starlink-duration-s", type=int, default=100)
    ap.add_argument("--kuiper-duration-s", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    out = Path(a.out)
    star = Path(a.data_dir) / "hypatia-starlink550"
    for case in a.cases.split(","):
        if case == "starlink550":
            run_case(case, star, out / case, a.starlink_duration_s, a.workers, "$LEONET_DATA_DIR/hypatia-starlink550")
        elif case == "kuiper630":
            scen = out / case / "scenario"
            kuiper630_scenario(scen, star / "ground_stations.txt")
            run_case(case, scen, out / case, a.kuiper_duration_s, a.workers, "scenario/ beside this file (written by satgenpy's generators)")
        else:
            raise SystemExit(f"unknown case {case!r}; choose from {', '.join(CASES)}")


if __name__ == "__main__":
    main()
