"""Deployment: launch table from designators, snapshot comparison, launch batches raising to
their shell (altitude profile, service rule, target plane, frame), the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from leonet.coverage.visibility import GroundPoints, visibility_brute_force
from leonet.deployment.batch import J2, MU_KM3_S2, RE_KM, LaunchBatch, batch_states
from leonet.deployment.table import ODD_SHELL, compare_snapshots, deployment_table
from leonet.errors import InputError
from leonet.orbits.frames import gmst82_rad
from leonet.times import NS_PER_DAY, NS_PER_S, TimeGrid, parse_time

OLD, NEW = "tle/starlink_20241023_celestrak_gp.tle", "tle/starlink_20260822_celestrak_gp.tle"


def test_launch_table_accounts_for_every_satellite(tle_snapshot) -> None:
    c = tle_snapshot(OLD).constellation
    tab = deployment_table(c)
    assert tab.satellites.sum() == len(c) == tab.by_year_shell.sum()
    assert list(tab.launch) == sorted(tab.launch)  # launch order
    assert tab.year_rows()[-1]["cumulative"] == len(c)
    assert tab.launch[0].startswith("2019-") and tab.years[-1] == 2024
    k = list(tab.launch).index("2024-184") if "2024-184" in tab.launch else None
    assert k is None or tab.satellites[k] == (c.launch_id == "2024-184").sum()
    assert {"43.0 deg", "53.0 deg", "70.0 deg", "97.5 deg"} <= set(tab.shells)
    assert tab.shells[-1] == ODD_SHELL  # raising batches of Oct 2024 are counted, not dropped
    assert "still in orbit" in tab.notes[0]


def test_snapshots_differ_by_added_and_lost(tle_snapshot) -> None:
    """2024-10 vs 2026-08: the newer snapshot lacks satellites that re-entered (lost, all
    launched by 2024) and has those launched since (added)."""
    a, b = tle_snapshot(OLD).constellation, tle_snapshot(NEW).constellation
    d = compare_snapshots(b, a)  # order of arguments does not matter
    assert d.older == a.label and d.newer == b.label
    assert d.kept.size + d.added.size == len(b) and d.kept.size + d.lost.size == len(a)
    assert d.lost.size > 500 and d.added.size > 4000
    assert max(d.lost_by_year) <= 2024 and min(d.added_by_year) >= 2024
    # The early launches shrink: the 2026 table has fewer 2019-2020 satellites than 2024's.
    early = lambda c: int(((c.launch_year >= 2019) & (c.launch_year <= 2020)).sum())  # noqa: E731
    assert early(b) == early(a) - d.lost_by_year.get(2019, 0) - d.lost_by_year.get(2020, 0)


def _node_deg(b: LaunchBatch, t_ns: int) -> float:
    """Ascending node (deg, inertial) of the plane through satellites 0 and 1 of a batch at one
    instant (the same instant, so the plane's own drift cannot tilt the estimate)."""
    r = b.positions_itrf_km(np.array([0, 1]), np.array([t_ns, t_ns]))
    th = float(gmst82_rad(np.array([t_ns]))[0])
    c, s = math.cos(th), math.sin(th)
    teme = np.stack([c * r[:, 0] - s * r[:, 1], s * r[:, 0] + c * r[:, 1], r[:, 2]], -1)
    h = np.cross(teme[0], teme[1])
    assert math.degrees(math.acos(h[2] / np.linalg.norm(h))) == pytest.approx(b.inclination_deg, abs=1e-9)
    return math.degrees(math.atan2(h[0], -h[1])) % 360.0


def test_batch_raises_at_constant_rate_and_serves_only_at_the_shell() -> None:
    b = LaunchBatch("B1", 20, "2025-03-01T00:00:00Z", 550.0, 53.0, plane_raan_deg=120.0, raise_rate_km_per_day=5.0, hold_days=4.0)
    assert (b.arrival_ns - b.release_ns) / NS_PER_DAY == pytest.approx(4.0 + 270.0 / 5.0)
    grid = TimeGrid.from_span("2025-02-28T00:00:00Z", "80d", "12h")
    st = batch_states([b], grid.t_ns)
    assert st.r_km.shape == (20, grid.count, 3) and st.in_service.shape == (20, grid.count)
    before = grid.t_ns < b.release_ns
    assert np.isnan(st.r_km[:, before]).all() and not st.in_service[:, before].any()
    # Radius = Earth radius + profile; profile: 280 km held 4 days, +5 km/day, 550 km at the end.
    np.testing.assert_allclose(np.linalg.norm(st.r_km[:, ~before], axis=-1), RE_KM + st.altitude_km[:, ~before], atol=1e-6)
    days = (grid.t_ns - b.release_ns) / NS_PER_DAY
    want = np.where(days < 0, np.nan, np.minimum(280.0 + 5.0 * np.clip(days - 4.0, 0, None), 550.0))
    np.testing.assert_allclose(st.altitude_km[0], want, atol=1e-9)
    np.testing.assert_array_equal(st.in_service[0], grid.t_ns >= b.arrival_ns)
    # Service positions are NaN while raising: the visibility kernel never counts them.
    serv = st.service_positions()
    counts = visibility_brute_force(GroundPoints.from_geodetic(np.array([0.0, 45.0]), np.array([0.0, 10.0])), serv, 0.0).counts
    assert counts[:, grid.t_ns < b.arrival_ns].sum() == 0 and counts[:, grid.t_ns >= b.arrival_ns].sum() > 0


def test_batch_arrives_in_its_target_plane() -> None:
    """Released with a different node, the batch drifts (J2, faster low down) into the target
    plane, which itself precesses at the shell's rate: at and after arrival the nodes agree."""
    b = LaunchBatch("B2", 4, "2025-03-01T00:00:00Z", 550.0, 53.0, plane_raan_deg=200.0, plane_epoch="2025-01-01T00:00:00Z")
    r1 = RE_KM + 550.0
    rate_deg_s = math.degrees(-1.5 * math.sqrt(MU_KM3_S2 / r1**3) * J2 * (RE_KM / r1) ** 2 * math.cos(math.radians(53.0)))
    for t in (b.arrival_ns, b.arrival_ns + 30 * NS_PER_DAY):
        expect = (200.0 + rate_deg_s * (t - parse_time("2025-01-01T00:00:00Z")) / NS_PER_S) % 360.0
        assert abs((_node_deg(b, t) - expect + 180) % 360 - 180) < 1e-6
    at_release = [_node_deg(b, b.release_ns)]
    plane_then = (200.0 + rate_deg_s * (b.release_ns - parse_time("2025-01-01T00:00:00Z")) / NS_PER_S) % 360.0
    assert abs((at_release[0] - plane_then + 180) % 360 - 180) > 1.0  # it really had to drift


def test_batch_validation() -> None:
    with pytest.raises(InputError, match="raise, they do not lower"):
        LaunchBatch("x", 3, "2025-01-01", 400.0, 53.0, insertion_altitude_km=500.0)
    with pytest.raises(InputError, match="raise_rate_km_per_day"):
        LaunchBatch("x", 3, "2025-01-01", 550.0, 53.0, raise_rate_km_per_day=0.0)
    with pytest.raises(InputError, match="catalogue numbers"):
        batch_states([LaunchBatch("a", 2, "2025-01-01", 550.0, 53.0), LaunchBatch("b", 2, "2025-01-02", 550.0, 53.0)], np.array([0]))


def test_batch_as_imaging_satellites() -> None:
    """A batch's satellites have no access while raising, and do once at the shell."""
    from leonet.imaging.access import Sensor, find_access
    from leonet.imaging.targets import make_targets

    b = LaunchBatch("img", 10, "2025-03-01T00:00:00Z", 500.0, 53.0, insertion_altitude_km=490.0, raise_rate_km_per_day=10.0)
    tg = make_targets(points=[("p", 30.0, 10.0)])
    acc = find_access(b, tg, Sensor(10.0), "2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z", 20.0)
    assert len(acc) > 0 and acc.start_ns.min() >= b.arrival_ns


def test_deployment_cli(tle_snapshot, tmp_path) -> None:
    from leonet.cli.main import cli

    old, new = tle_snapshot(OLD).path, tle_snapshot(NEW).path
    plot, js = tmp_path / "d.png", tmp_path / "d.json"
    res = CliRunner().invoke(cli, ["deployment", str(old), "--compare", str(new), "--plot", str(plot), "--json", str(js)])
    assert res.exit_code == 0, res.output
    assert "still in orbit" in res.output and "added" in res.output and "lost" in res.output
    assert plot.stat().st_size > 10_000
    doc = json.loads(js.read_text())
    assert doc["comparison"]["added"] + doc["comparison"]["kept"] == len(tle_snapshot(NEW).constellation)
    assert doc["deployment"]["satellites"] == len(tle_snapshot(OLD).constellation)
