"""The fleet-state kernel on constructed fleets whose every satellite's state is known."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.constants import WGS72_MU_KM3_S2
from leonet.errors import InputError
from leonet.orbits.fleet import (
    DEORBITING,
    DTC,
    LOWERING,
    OPERATIONAL,
    RAISING,
    STATES,
    UNASSIGNED,
    FleetRules,
    altitude_rate_km_day,
    find_shell_boxes,
    infer_states,
)


def _fleet(rng: np.random.Generator):
    """Two broadband shells (53.0 deg at 540 km, 53.0 deg at 470 km, the second the one the
    fleet moves into), a direct-to-cell shell, and satellites in every other state."""
    parts = []  # (inc, alt, ecc, rate, dtc, trend, expected state, expected shell altitude or nan)

    def add(k, inc, alt, rate, expect, target=np.nan, dtc=False, ecc=1e-4, trend=np.nan, spread_km=3.0):
        parts.append((np.full(k, inc) + rng.normal(0, 0.01, k), np.full(k, alt) + rng.uniform(-spread_km, spread_km, k), np.full(k, ecc),
                      np.full(k, rate) + rng.normal(0, 0.05, k), np.full(k, dtc), np.full(k, trend), np.full(k, expect), np.full(k, target)))

    add(400, 53.0, 540.0, 0.0, OPERATIONAL, 540.0)
    add(120, 53.0, 470.0, 0.0, OPERATIONAL, 470.0)  # new, smaller shell: still a shell
    add(90, 53.0, 360.0, 0.0, DTC, dtc=True)
    add(30, 53.0, 500.0, -2.0, LOWERING, 470.0, spread_km=10.0)  # between the shells, descending
    add(10, 53.0, 540.0, -2.0, LOWERING, 470.0)  # leaving the 540 km shell (inside its box)
    add(25, 53.0, 320.0, 4.0, RAISING, 470.0, spread_km=20.0)  # after launch
    add(15, 53.0, 420.0, -6.0, DEORBITING, spread_km=30.0)  # below the lowest shell
    add(20, 53.0, 505.0, 0.0, UNASSIGNED, spread_km=1.0)  # steady between shells: too few for a shell
    add(5, 53.0, 505.0, 0.05, LOWERING, 470.0, trend=-0.5, spread_km=1.0)  # steady now, history says descending
    add(5, 53.0, 505.0, 0.05, UNASSIGNED, trend=-0.05, spread_km=1.0)  # trend within the noise
    add(5, 53.0, 450.0, 0.0, RAISING, 470.0, trend=1.0, spread_km=1.0)
    add(3, 53.0, 540.0, 0.0, UNASSIGNED, ecc=0.02)  # eccentric
    add(4, 53.0, 330.0, 3.0, DTC, dtc=True)  # a DTC payload raising is still 'dtc'
    cols = [np.concatenate(c) for c in zip(*parts)]
    return cols


def test_states_of_a_constructed_fleet() -> None:
    inc, alt, ecc, rate, dtc, trend, expect, target = _fleet(np.random.default_rng(1))
    out = infer_states(inc, alt, ecc, rate, dtc, trend)
    np.testing.assert_array_equal(out.state, expect)
    # Shells: two broadband, one direct-to-cell, centred on the constructed altitudes.
    broadband = np.sort(out.shell_altitude_km[~out.shell_dtc])
    np.testing.assert_allclose(broadband, [470.0, 540.0], atol=1.0)
    np.testing.assert_allclose(out.shell_altitude_km[out.shell_dtc], [360.0], atol=1.0)
    # Operational satellites hold their shell; moving ones name the shell they head for.
    has = np.isfinite(target)
    np.testing.assert_allclose(out.shell_altitude_km[out.shell[has]], target[has], atol=1.0)
    assert (out.shell[(expect == DEORBITING) | (expect == UNASSIGNED)] == -1).all()
    # Every non-operational satellite has a reason; operational ones none.
    assert all(r == "" for r in out.reason[out.state == OPERATIONAL])
    assert all(r for r in out.reason[out.state != OPERATIONAL])
    assert all(r.startswith("direct-to-cell payload") for r in out.reason[out.state == DTC])
    assert any("raising" in r for r in out.reason[out.state == DTC])
    assert all("eccentric" in r for r in out.reason[(expect == UNASSIGNED) & (ecc > 0.01)])
    assert all("trend" in r for r in out.reason[(expect == LOWERING) & np.isfinite(trend)])


def test_invalid_elements_are_unassigned_with_reason() -> None:
    inc, alt, ecc, rate, dtc, trend, expect, _ = _fleet(np.random.default_rng(2))
    valid = np.ones(inc.size, bool)
    valid[[0, 500]] = False
    out = infer_states(inc, alt, ecc, rate, dtc, trend, valid)
    assert (out.state[[0]] == UNASSIGNED).all() and "SGP4" in out.reason[0]


def test_rules_change_the_outcome_and_are_checked() -> None:
    inc, alt, ecc, rate, dtc, trend, expect, _ = _fleet(np.random.default_rng(3))
    # With a minimum of 150 satellites the 470 km shell (120) is no shell: its satellites are not operational.
    out = infer_states(inc, alt, ecc, rate, dtc, trend, rules=FleetRules(min_shell_satellites=150))
    assert (out.state[(expect == OPERATIONAL) & (np.abs(alt - 470) < 10)] == UNASSIGNED).all()
    with pytest.raises(InputError, match="steady_km_day"):
        FleetRules(steady_km_day=0)
    with pytest.raises(InputError, match="shape"):
        infer_states(inc, alt[:-1], ecc, rate, dtc)
    assert STATES == ("operational", "raising", "lowering", "deorbiting", "dtc", "unassigned")


def test_altitude_rate_matches_keplers_third_law() -> None:
    # A satellite whose mean motion grows by dn over a day loses exactly the altitude Kepler's
    # third law gives for the two mean motions (to first order in dn).
    mu = WGS72_MU_KM3_S2 * 86400.0**2  # km^3/day^2
    n0 = 15.30  # rev/day
    dn = 0.004  # rev/day per day
    a = lambda n: (mu / (2 * np.pi * n) ** 2) ** (1 / 3)
    rate = altitude_rate_km_day(np.array([a(n0)]), np.array([n0]), np.array([dn / 2.0]))
    np.testing.assert_allclose(rate, [a(n0 + dn) - a(n0)], rtol=1e-3)


def test_shell_search_spans_leo_to_geo() -> None:
    # LEO and GEO in one element set: too wide for one histogram, searched per altitude group,
    # with the same shells as separate searches and numbering by size.
    rng = np.random.default_rng(4)
    inc = np.r_[53.0 + rng.normal(0, 0.01, 300), 0.05 + rng.normal(0, 0.01, 80)]
    alt = np.r_[550.0 + rng.uniform(-3, 3, 300), 35786.0 + rng.uniform(-3, 3, 80)]
    shell = find_shell_boxes(inc, alt, np.ones(inc.size, bool), 0.1, 8.0, 60)
    np.testing.assert_array_equal(shell, np.r_[np.zeros(300, np.int64), np.ones(80, np.int64)])
    leo_only = find_shell_boxes(inc[:300], alt[:300], np.ones(300, bool), 0.1, 8.0, 60)
    np.testing.assert_array_equal(leo_only, shell[:300])


def _shell_boxes_recomputed(inc: np.ndarray, alt: np.ndarray, eligible: np.ndarray, tol_inc: float, tol_alt: float, min_count: int) -> np.ndarray:
    """The densest-box search with every box sum recomputed from a fresh histogram at every
    round (what find_shell_boxes updates incrementally): the reference."""
    shell = np.full(inc.size, -1, dtype=np.int64)
    free = eligible & np.isfinite(inc) & np.isfinite(alt)
    d_inc, d_alt = tol_inc / 5.0, tol_alt / 5.0
    i0, a0 = inc[free].min() - tol_inc, alt[free].min() - tol_alt
    ni = int((inc[free].max() + tol_inc - i0) / d_inc) + 2
    na = int((alt[free].max() + tol_alt - a0) / d_alt) + 2
    bi = np.zeros(inc.size, dtype=np.int64)
    ba = np.zeros(inc.size, dtype=np.int64)
    bi[free] = ((inc[free] - i0) / d_inc).astype(np.int64)
    ba[free] = ((alt[free] - a0) / d_alt).astype(np.int64)
    k = 0
    while True:
        hist = np.zeros((ni, na), dtype=np.int64)
        np.add.at(hist, (bi[free], ba[free]), 1)
        box = np.zeros((ni, na), dtype=np.int64)
        for i in range(ni):  # plain sums, no summed-area table
            rows = hist[max(0, i - 5) : i + 6]
            col = rows.sum(axis=0)
            c = np.r_[0, np.cumsum(col)]
            j = np.arange(na)
            box[i] = c[np.minimum(j + 6, na)] - c[np.maximum(j - 5, 0)]
        best = np.unravel_index(int(np.argmax(box)), box.shape)
        if box[best] < min_count:
            return shell
        centre = (i0 + (best[0] + 0.5) * d_inc, a0 + (best[1] + 0.5) * d_alt)

        def members(c: tuple[float, float], free: np.ndarray = free) -> np.ndarray:
            return free & (np.abs(inc - c[0]) <= tol_inc) & (np.abs(alt - c[1]) <= tol_alt)

        for _ in range(2):  # recentred twice on the members' medians, as documented
            if not members(centre).any():
                break
            centre = (float(np.median(inc[members(centre)])), float(np.median(alt[members(centre)])))
        taken = members(centre)
        if taken.sum() < min_count:
            taken = free & (np.abs(bi - best[0]) <= 5) & (np.abs(ba - best[1]) <= 5)
        shell[taken] = k
        free = free & ~taken
        k += 1


@pytest.mark.parametrize("seed", range(6))
def test_shell_search_equals_recomputing_every_box(seed: int) -> None:
    """Incremental box sums give the shells a full recount at every round gives: synthetic
    shells (some overlapping, some at the grid's edges) over uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform([40.0, 300.0], [100.0, 1200.0], size=(rng.integers(3, 12), 2))
    parts = [np.c_[rng.normal(c[0], 0.04, n), rng.normal(c[1], 3.0, n)] for c, n in zip(centres, rng.integers(20, 900, len(centres)))]
    parts.append(np.c_[rng.uniform(40, 100, 400), rng.uniform(300, 1200, 400)])
    pts = np.concatenate(parts)
    inc, alt = pts[:, 0], pts[:, 1]
    eligible = rng.random(inc.size) < 0.95
    for tol_inc, tol_alt, min_count in ((0.1, 8.0, 60), (0.3, 20.0, 15)):
        got = find_shell_boxes(inc, alt, eligible, tol_inc, tol_alt, min_count)
        assert np.array_equal(got, _shell_boxes_recomputed(inc, alt, eligible, tol_inc, tol_alt, min_count))
        assert got.max() >= 0
