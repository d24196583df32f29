"""leonet against Hypatia's own satgenpy: paths and path lengths, pair by pair, step by step.

The reference (``tests/data/hypatia/<case>/paths.csv.gz``) was made by satgenpy itself
(``scripts/hypatia_reference.sh``: its dynamic-state generation with "free one, only over ISLs"
at 1 s steps, its path following and its pyephem distances). leonet routes the same scenario
with Hypatia's time convention (Earth rotation at UTC). Tolerances: identical paths for at
least 99.9 % of (pair, step); path lengths within 200 m for all but 0.01 % of them and never
beyond 210 m. The remaining length gap is pyephem's own: its SGP4 works with an Earth radius of
6378.16 km instead of WGS72's 6378.135 km, which scales every satellite position by +3.9 ppm
(about +27 m in altitude; laser hops come out 3.8 ppm longer, +3 m per 800 km), and its
observer model puts ground links within about 45 m of leonet's (WGS72 stations as Hypatia wrote
them). Over a long path these add up to the measured maximum of 202.5 m (median 45 m).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest
from refdata import data_dir

from leonet.network.hypatia import hypatia_earth_orientation, read_hypatia
from leonet.network.routing import LinkRule
from leonet.network.run import run_routes
from leonet.orbits.eop import builtin_eop, utc_as_ut1
from leonet.orbits.frames import gmst82_rad
from leonet.orbits.propagate import propagate

REF = Path(__file__).resolve().parents[1] / "data" / "hypatia"
MIN_IDENTICAL = 0.999
MAX_LENGTH_DIFF_M = 200.0  # for all but MAX_BEYOND of the pair-steps ...
MAX_BEYOND = 1e-4
HARD_LIMIT_M = 210.0  # ... and never beyond this (measured: 202.5 m once in 495,000 on Starlink-550)
TIE_M = 200.0  # two paths closer than the two tools' length agreement are a tie


def _scenario_folder(case: str) -> Path:
    if case == "starlink550":
        p = data_dir() / "hypatia-starlink550"
        if not (p / "tles.txt").is_file():
            pytest.skip(f"Hypatia's Starlink-550 scenario not found at {p} (set LEONET_DATA_DIR to the shared/data folder)")
        return p
    return REF / case / "scenario"


def _reference(case: str):
    f = REF / case / "paths.csv.gz"
    if not f.is_file():
        pytest.skip(f"satgenpy reference {f} is absent: run scripts/hypatia_reference.sh to create it")
    t = pacsv.read_csv(f, convert_options=pacsv.ConvertOptions(column_types={"path": "string"}, strings_can_be_null=True))
    cols = {k: t.column(k).to_numpy(zero_copy_only=False) for k in t.column_names}
    path = cols["path"]
    for k in np.flatnonzero(path == "="):  # '=': the pair's path of the step before (rows go pair by pair)
        assert cols["src"][k] == cols["src"][k - 1] and cols["dst"][k] == cols["dst"][k - 1]
        path[k] = path[k - 1]
    return cols


def _path_length_m(r_sat_km: np.ndarray, r_ground_km: np.ndarray, path: str) -> float:
    """Length (m) of a path of Hypatia node ids in leonet's geometry at one instant."""
    ids = np.array([int(x) for x in path.split("-")])
    n = r_sat_km.shape[0]
    pts = np.where((ids < n)[:, None], r_sat_km[np.minimum(ids, n - 1)], r_ground_km[np.maximum(ids - n, 0)])
    return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum() * 1e3)


@lru_cache(maxsize=4)
def _compare(case: str, convention: str) -> dict:
    """Route the reference's (pair, step) with leonet and compare. Returns the figures.

    Where the paths differ, satgenpy's path is measured in leonet's geometry: if it is as long as
    leonet's own within :data:`TIE_M`, the two are (near-)equal alternatives, a tie that the two
    geometries, whose hop lengths differ by up to tens of metres, or networkx and scipy, break
    differently (as in Kuiper-630's unphased grid), not a disagreement."""
    ref = _reference(case)
    scen = read_hypatia(_scenario_folder(case))
    n = len(scen.constellation)
    steps = np.unique(ref["t_s"]).astype(np.int64)
    pairs, inverse = np.unique(np.stack([ref["src"], ref["dst"]], 1), axis=0, return_inverse=True)
    t_ns = scen.epoch_ns + steps * 1_000_000_000
    # As `leonet route --hypatia` routes: the scenario's lasers, ground stations and link limits.
    routes = run_routes(scen.constellation, scen.ground, t_ns, pairs=(pairs[:, 0] - n, pairs[:, 1] - n), user_links=LinkRule(None, scen.max_gsl_length_m / 1e3),
                        isl_max_range_km=scen.max_isl_length_m / 1e3, laser_links=scen.isls, eop=hypatia_earth_orientation(convention)).routes
    ti = np.searchsorted(steps, ref["t_s"])
    pi = inverse.ravel()
    mine = []
    for k in range(ti.size):  # one string per (pair, step) to compare with satgenpy's text
        h = routes.hops[ti[k], pi[k]]
        mine.append("-".join(map(str, routes.paths[ti[k]][pi[k], -(h + 1):].tolist())) if h >= 0 else None)
    theirs = ref["path"]
    same = np.array([a == b for a, b in zip(mine, theirs)])
    tie = np.zeros(same.shape, bool)
    differ = np.flatnonzero(~same & np.array([p is not None for p in theirs]) & np.array([p is not None for p in mine]))
    if differ.size:
        r = propagate(scen.constellation.satrecs, t_ns, frame="itrf", velocities=False, eop=hypatia_earth_orientation(convention)).r_km
        for k in differ:
            alt = _path_length_m(r[:, ti[k]], scen.ground.itrf_km, theirs[k])
            tie[k] = abs(alt - routes.length_m[ti[k], pi[k]]) <= TIE_M
    reach = np.array([p is not None for p in theirs]) & (same | tie)
    diff = np.abs(routes.length_m[ti[reach], pi[reach]] - ref["length_m"][reach].astype(np.float64))
    return {"pair_steps": int(ti.size), "identical": float(same.mean()), "identical_or_tie": float((same | tie).mean()),
            "reachable": int(reach.sum()), "max_m": float(diff.max()), "median_m": float(np.median(diff)),
            "p99_m": float(np.percentile(diff, 99)), "within_200_m": float((diff <= MAX_LENGTH_DIFF_M).mean()),
            "steps": int(steps.size), "pairs": int(pairs.shape[0])}


def test_starlink550_paths_and_lengths_match_satgenpy() -> None:
    r = _compare("starlink550", "hypatia")
    meta = json.loads((REF / "starlink550" / "meta.json").read_text())
    print(f"\nStarlink-550 vs satgenpy {meta['satgenpy']} (ephem {meta['ephem']}): {r}")
    assert r["steps"] >= 100 and r["pairs"] == 4950, r
    assert r["reachable"] > 0.9 * r["pair_steps"]
    assert r["identical"] >= MIN_IDENTICAL, r
    assert r["within_200_m"] >= 1.0 - MAX_BEYOND and r["max_m"] <= HARD_LIMIT_M, r


def test_kuiper630_paths_and_lengths_match_satgenpy() -> None:
    # Kuiper-630 has no phase shift between planes: its +Grid is a square mesh where many
    # shortest paths have twins of equal or nearly equal length (up-then-across or
    # across-then-up, differing by metres as planes converge with latitude). satgenpy keeps the
    # first neighbour networkx lists, scipy another, and pyephem's geometry can flip a near-tie;
    # so a path counts when identical or within TIE_M of leonet's in leonet's geometry.
    r = _compare("kuiper630", "hypatia")
    print(f"\nKuiper-630 vs satgenpy: {r}")
    assert r["steps"] >= 50 and r["pairs"] == 4950, r
    assert r["reachable"] > 0.9 * r["pair_steps"]
    assert r["identical_or_tie"] >= MIN_IDENTICAL, r
    assert r["within_200_m"] >= 1.0 - MAX_BEYOND and r["max_m"] <= HARD_LIMIT_M, r


def test_true_ut1_is_farther_from_hypatia() -> None:
    # Hypatia's epoch has UT1-UTC = +0.355 s: with the true Earth the ground stations move
    # against the satellites and the lengths drift from satgenpy's by up to a few hundred metres.
    hyp, ut1 = _compare("starlink550", "hypatia"), _compare("starlink550", "ut1")
    assert ut1["median_m"] > 1.3 * hyp["median_m"] and ut1["max_m"] > hyp["max_m"]


def test_hypatia_convention_is_earth_rotation_at_utc() -> None:
    t = np.array([946684800, 1_700_000_000], dtype=np.int64) * 1_000_000_000  # 2000-01-01, 2023-11
    dut1 = builtin_eop().ut1_minus_utc_s(t)
    assert dut1[0] == pytest.approx(0.3551, abs=2e-3)
    turn = gmst82_rad(t, builtin_eop()) - gmst82_rad(t, utc_as_ut1())
    sidereal_rate = 2 * np.pi * 1.00273781191135448 / 86400.0  # rad per UT1 second
    np.testing.assert_allclose(turn, dut1 * sidereal_rate, atol=1e-11)
    assert hypatia_earth_orientation("hypatia").ut1_minus_utc_s(t).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="hypatia"):
        hypatia_earth_orientation("tt")
