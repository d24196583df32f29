"""Launch batches raising to their shell: altitude profile, service rule, arrival in the target
plane (J2 drift), validation, and batches as imaging satellites."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leonet.constants import WGS84_A_KM as RE_KM
from leonet.constants import WGS84_J2 as J2
from leonet.constants import WGS84_MU_KM3_S2 as MU_KM3_S2
from leonet.coverage.visibility import visibility_brute_force
from leonet.deployment.batch import LaunchBatch, batch_states
from leonet.errors import InputError
from leonet.ground.points import GroundPoints
from leonet.orbits.frames import gmst82_rad
from leonet.times import NS_PER_DAY, NS_PER_S, TimeGrid, parse_time


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
