"""Shell inference: a noisy Walker constellation recovered exactly (shells, planes, slots, +Grid),
SGP4's J2 nodal drift against the analytic rate, and the 2024 snapshot next to the Gen1 filings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from leonet.constants import WGS72_A_KM
from leonet.network import infer_shells, plus_grid
from leonet.sources.constellation import Constellation
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import NS_PER_DAY, parse_time

T0 = parse_time("2025-01-01T00:00:00Z")
_EPOCH_1949_NS = parse_time("1949-12-31T00:00:00Z")


def noisy_walker(shells: list[WalkerShell], seed: int = 1, raising: int = 40) -> tuple[Constellation, np.ndarray, np.ndarray, np.ndarray]:
    """A Walker constellation written as element sets of scattered epochs (+-2 days, RAAN and
    argument of latitude moved there with SGP4's secular rates) with noise on inclination
    (0.01 deg), altitude (~0.5 km), RAAN (0.1 deg) and argument of latitude (0.3 deg), plus
    ``raising`` satellites scattered between 300 and 450 km. Returns it and the true
    shell/plane/slot."""
    rng = np.random.default_rng(seed)
    base = walker_constellation(shells, epoch=T0)
    true_shell = np.concatenate([np.full(s.total, k) for k, s in enumerate(shells)])
    true_plane = np.concatenate([s.slots()[0] for s in shells])
    true_slot = np.concatenate([s.slots()[1] for s in shells])
    sats = []
    for k, s0 in enumerate(base.satrecs):  # building a test fixture, one satellite at a time
        d_days = rng.uniform(-2.0, 2.0)
        dt_min = d_days * 1440.0
        epoch = (T0 - _EPOCH_1949_NS) / NS_PER_DAY + d_days
        n = s0.no_kozai * (1.0 + rng.normal(0.0, 5e-5))  # ~0.5 km in altitude
        inc = s0.inclo + math.radians(rng.normal(0.0, 0.01))
        raan = s0.nodeo + math.radians(rng.normal(0.0, 0.1)) + s0.nodedot * dt_min
        u = s0.mo + math.radians(rng.normal(0.0, 0.3)) + (s0.argpdot + s0.mdot) * dt_min
        s = Satrec()
        s.sgp4init(WGS72, "i", k + 1, epoch, 0.0, 0.0, 0.0, 1e-4, 0.0, inc, u % (2 * math.pi), n, raan % (2 * math.pi))
        sats.append((s, d_days))
    for j in range(raising):
        alt = rng.uniform(300.0, 450.0)
        n = math.sqrt(398600.8 / (WGS72_A_KM + alt) ** 3) * 60.0
        s = Satrec()
        s.sgp4init(WGS72, "i", 90_000 + j, (T0 - _EPOCH_1949_NS) / NS_PER_DAY, 0.0, 0.0, 0.0, 1e-4, 0.0, math.radians(53.0),
                   rng.uniform(0, 2 * math.pi), n, rng.uniform(0, 2 * math.pi))
        sats.append((s, 0.0))
    m = len(sats)
    c = Constellation(
        tuple(s for s, _ in sats), np.arange(1, m + 1), np.array([""] * m, dtype=object), np.array([""] * m, dtype=object),
        np.array(["U"] * m, dtype=object), np.array([T0 + int(d * NS_PER_DAY) for _, d in sats], dtype=np.int64),
    )
    pad = np.full(raising, -1)
    return c, np.r_[true_shell, pad], np.r_[true_plane, pad], np.r_[true_slot, pad]


SHELLS = [
    WalkerShell("550km-53", 72, 22, 550.0, 53.0, raan0_deg=2.0),
    WalkerShell("540km-53.2", 72, 22, 540.0, 53.2, raan0_deg=2.0),
    WalkerShell("570km-70", 36, 20, 570.0, 70.0, raan0_deg=2.0),
    WalkerShell("630km-51.9", 34, 34, 630.0, 51.9, raan0_deg=2.0),
]


def true_plus_grid(shells: list[WalkerShell]) -> set[tuple[int, int]]:
    out, base = set(), 0
    for s in shells:
        for p in range(s.planes):
            for k in range(s.sats_per_plane):
                a = base + p * s.sats_per_plane + k
                out.add(tuple(sorted((a, base + p * s.sats_per_plane + (k + 1) % s.sats_per_plane))))
                out.add(tuple(sorted((a, base + ((p + 1) % s.planes) * s.sats_per_plane + k))))
        base += s.total
    return out


def test_walker_with_noise_recovered_exactly() -> None:
    c, shell, plane, slot = noisy_walker(SHELLS)
    a = infer_shells(c, T0)
    assert np.array_equal(a.unassigned, np.flatnonzero(shell < 0))  # the raising satellites, and only them
    assert len(a.shells) == len(SHELLS)
    for k, ws in enumerate(SHELLS):
        m = shell == k
        found = np.unique(a.shell[m])
        assert found.size == 1 and (a.shell == found[0]).sum() == ws.total
        info = a.shells[int(found[0])]
        assert (info.planes, info.sats_per_plane, info.without_plane) == (ws.planes, ws.sats_per_plane, 0)
        assert abs(info.inclination_deg - ws.inclination_deg) < 0.01 and abs(info.altitude_km - ws.altitude_km) < 0.5
        assert np.array_equal(a.plane[m], plane[m])  # plane 0 is the lowest RAAN, as generated
        assert np.array_equal(a.slot[m], slot[m])
    links = plus_grid(a.shell, a.plane, a.slot, a.u_deg)
    assert set(map(tuple, links.tolist())) == true_plus_grid(SHELLS)


def test_j2_drift_matches_analytic_rate() -> None:
    """SGP4's secular nodal rate (used to bring RAANs to one epoch) against -3/2 n J2 (R/a)^2 cos i."""
    c = walker_constellation([WalkerShell("x", 1, 1, 550.0, 53.0, phasing=0)], epoch=T0)
    s = c.satrecs[0]
    n = s.no_kozai  # rad/min (Brouwer mean motion after sgp4init)
    analytic = -1.5 * n * s.j2 * (1.0 / s.a) ** 2 * math.cos(s.inclo)
    assert s.nodedot == pytest.approx(analytic, rel=0.01)
    assert math.degrees(s.nodedot) * 1440 == pytest.approx(-4.49, abs=0.02)  # deg/day at 550 km, 53 deg (by hand: 15.05 rev/day)


def test_snapshot_2024_shells_next_to_gen1_filings(tle_snapshot) -> None:
    c = tle_snapshot("tle/starlink_20241023_celestrak_gp.tle").constellation
    a = infer_shells(c)
    # Gen1 filing (FCC 2021): (inclination, altitude, planes); the polar shells are one shell here.
    filed = [(53.0, 550.0, 72), (53.2, 540.0, 72), (70.0, 570.0, 36), (97.6, 560.0, 10)]
    lines, found = [], []
    for inc, alt, planes in filed:
        near = [s for s in a.shells if abs(s.inclination_deg - inc) < 0.1 and abs(s.altitude_km - alt) < 5.0]
        assert len(near) == 1, (inc, alt, [s.describe() for s in a.shells])
        s = near[0]
        lines.append(f"filed {inc} deg {alt} km {planes} planes -> {s.describe()}")
        assert s.planes <= planes
        found.append(s)
    assert found[0].planes == 72 and found[1].planes == 72  # the two big 53 deg shells are complete
    assert 0.02 < a.unassigned.size / len(c) < 0.1  # raising/lowering satellites
    print("\n".join(lines))
