"""Walker-delta shells and filed presets: counts, geometry, phasing, SGP4 behaviour, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.constants import WGS72_A_KM
from leonet.errors import InputError
from leonet.sources.constellation import concat
from leonet.sources.load import load
from leonet.sources.walker import DEFAULT_EPOCH, PRESETS, WalkerShell, preset_constellation, walker_constellation
from leonet.times import NS_PER_S, ns_to_jd2, parse_time

MU_WGS72 = 398600.8  # km^3/s^2, SGP4's WGS72


@pytest.fixture(scope="module")
def gen1():
    return preset_constellation("starlink-gen1")


def _shell_slices(shells):
    start = 0
    for sh in shells:
        yield sh, slice(start, start + sh.total)
        start += sh.total


# ---------------------------------------------------------------------------------------------
# Counts


@pytest.mark.parametrize(
    "preset,total,per_shell",
    [
        ("starlink-gen1", 4408, [1584, 1584, 720, 348, 172]),
        ("starlink-gen2", 7500, [3360, 3360, 780]),
        ("kuiper", 3236, [1156, 1296, 784]),
        ("oneweb", 720, [720]),
    ],
)
def test_preset_counts(preset, total, per_shell):
    c = preset_constellation(preset)
    assert len(c) == total == c.report.read == c.report.accepted
    assert [s.total for s in PRESETS[preset]] == per_shell
    assert c.report.rejected == [] and c.report.duplicates == []
    assert len(set(c.norad_id.tolist())) == total  # unique ids
    assert len(set(c.name.tolist())) == total  # unique names
    assert c.norad_id.tolist() == list(range(100_001, 100_001 + total))
    assert [s.satnum for s in c.satrecs] == c.norad_id.tolist()  # SGP4 holds the same (Alpha-5) number


def test_preset_names_are_case_insensitive_and_loadable_by_prefix():
    assert len(preset_constellation("  OneWeb ")) == 720
    c = load("preset:kuiper")
    assert len(c) == 3236 and c.label == "kuiper"


def test_unknown_preset_lists_the_presets():
    with pytest.raises(InputError) as err:
        preset_constellation("starlink-gen3")
    msg = str(err.value)
    assert "unknown preset 'starlink-gen3'" in msg
    for name in PRESETS:
        assert name in msg


# ---------------------------------------------------------------------------------------------
# Geometry of every shell


@pytest.mark.parametrize("preset", list(PRESETS))
def test_shell_geometry(preset):
    c = preset_constellation(preset)
    for sh, sl in _shell_slices(PRESETS[preset]):
        inc = c.inclination_deg[sl]
        np.testing.assert_allclose(inc, sh.inclination_deg, atol=1e-12)
        # SGP4's mean semi-major axis sits on the filed altitude (within 10 m)
        assert np.max(np.abs(c.mean_altitude_km[sl] - sh.altitude_km)) < 0.010
        np.testing.assert_allclose(c.eccentricity[sl], 0.0)
        # RAAN: plane p at p * spread / P
        raan = c.raan_deg[sl].reshape(sh.planes, sh.sats_per_plane)
        assert np.all(np.ptp(raan, axis=1) == 0.0)  # one node per plane
        want = (np.arange(sh.planes) * sh.raan_spread_deg / sh.planes) % 360.0
        np.testing.assert_allclose(raan[:, 0], want, atol=1e-9)
        # in-plane spacing 360/S and phasing F*360/T between adjacent planes
        u = ((c.arg_perigee_deg[sl] + c.mean_anomaly_deg[sl]) % 360.0).reshape(sh.planes, sh.sats_per_plane)
        in_plane = (np.diff(u, axis=1) % 360.0)
        np.testing.assert_allclose(in_plane, 360.0 / sh.sats_per_plane, atol=1e-9)
        between = (u[1:, 0] - u[:-1, 0]) % 360.0
        np.testing.assert_allclose(between, (sh.phasing * 360.0 / sh.total) % 360.0, atol=1e-9)
        assert np.all(c.epoch_ns[sl] == parse_time(DEFAULT_EPOCH))


def test_oneweb_is_a_walker_star_over_180_degrees():
    c = preset_constellation("oneweb")
    nodes = np.unique(np.round(c.raan_deg, 9))
    assert len(nodes) == 18 and nodes.max() == pytest.approx(170.0) and np.allclose(np.diff(nodes), 10.0)


def test_phasing_f_between_adjacent_planes():
    sh = WalkerShell("t", planes=6, sats_per_plane=10, altitude_km=700.0, inclination_deg=60.0, phasing=4)
    c = walker_constellation([sh])
    u = (c.arg_perigee_deg + c.mean_anomaly_deg) % 360.0
    # satellite 0 of plane p is ahead of that of plane p-1 by F*360/T = 24 deg
    np.testing.assert_allclose((u[10::10] - u[0:-10:10]) % 360.0, 24.0, atol=1e-9)
    plane, slot, raan, uu = sh.slots()
    assert plane.tolist()[:12] == [0] * 10 + [1, 1] and slot.tolist()[:12] == list(range(10)) + [0, 1]
    np.testing.assert_allclose(uu, u, atol=1e-9)
    np.testing.assert_allclose(raan, c.raan_deg, atol=1e-9)


def test_ids_names_and_epoch_options():
    sh = WalkerShell("s", 2, 3, 600.0, 50.0)
    c = walker_constellation([sh], epoch="2030-06-01T12:00:00Z", first_id=5, label="demo")
    assert c.norad_id.tolist() == [5, 6, 7, 8, 9, 10]
    assert c.name.tolist()[:2] == ["DEMO s P00-S00", "DEMO s P00-S01"] and c.name[-1] == "DEMO s P01-S02"
    assert np.all(c.epoch_ns == parse_time("2030-06-01T12:00:00Z"))
    s = c.satrecs[0]
    epoch_ns = round(((s.jdsatepoch - 2440587.5) + s.jdsatepochF) * 86400) * NS_PER_S
    assert epoch_ns == parse_time("2030-06-01T12:00:00Z")
    with pytest.raises(InputError, match="first_id=339995.*pass SGP4's largest catalogue number 339999"):
        walker_constellation([sh], first_id=339_995)
    with pytest.raises(InputError, match="first_id=0 must be a catalogue number of at least 1"):
        walker_constellation([sh], first_id=0)
    assert len(walker_constellation([sh], first_id=339_994)) == 6


# ---------------------------------------------------------------------------------------------
# SGP4 propagation of generated satellites


@pytest.mark.parametrize("index", [0, 1584 + 7, 3168 + 100, 4407])
def test_propagated_walker_satellite_is_circular_at_the_right_period(gen1, index):
    s = gen1.satrecs[index]
    a = s.a * WGS72_A_KM  # SGP4's mean semi-major axis
    t = gen1.epoch_ns[index] + np.arange(0, 2 * 86_400, 10, dtype=np.int64) * NS_PER_S
    jd, fr = ns_to_jd2(t)
    e, r, v = s.sgp4_array(jd, fr)
    assert not e.any()
    radius = np.linalg.norm(r, axis=1)
    # circular: the radius stays within J2's short-period wobble (about +-10 km at 550 km)
    assert np.max(np.abs(radius - a)) < 15.0
    assert abs(np.mean(radius) - a) < 6.0  # J2 offsets the mean radius by a few km
    # period: argument of latitude from the state, unwrapped, fitted over two days
    h = np.cross(r, v)
    h /= np.linalg.norm(h, axis=1)[:, None]
    node = np.cross([0.0, 0.0, 1.0], h)
    node /= np.linalg.norm(node, axis=1)[:, None]
    u = np.unwrap(np.arctan2(np.einsum("ij,ij->i", np.cross(node, r), h), np.einsum("ij,ij->i", node, r)))
    secs = (t - t[0]) / NS_PER_S
    rate = np.polyfit(secs, u, 1)[0]
    period_s = 2 * math.pi / rate
    kepler_s = 2 * math.pi * math.sqrt(a**3 / MU_WGS72)
    # SGP4's own secular rates predict the node-to-node period to 1e-5
    assert period_s == pytest.approx(2 * math.pi / (s.mdot + s.argpdot) * 60.0, rel=1e-5)
    # and Kepler's 2 pi sqrt(a^3/mu) holds to J2 order (0.06-0.13 % for these shells)
    assert period_s == pytest.approx(kepler_s, rel=2e-3)
    assert gen1.period_min[index] * 60.0 == pytest.approx(kepler_s, rel=1e-9)


def test_period_is_about_95_minutes_for_the_550_km_shell(gen1):
    assert gen1.period_min[:1584] == pytest.approx(95.65, abs=0.01)


def test_walker_and_real_element_sets_concatenate(gen1):
    other = walker_constellation([WalkerShell("x", 1, 4, 800.0, 98.0, phasing=0)], first_id=200_001, label="x")
    both = concat([gen1, other])
    assert len(both) == 4412 and both.report.read == 4412 and both.report.duplicates == []
    assert np.array_equal(both.epoch_ns[-4:], other.epoch_ns)


# ---------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"planes": 0}, "planes=0 must be at least 1"),
        ({"sats_per_plane": 0}, "sats_per_plane=0 must be at least 1"),
        ({"phasing": 6}, "phasing F=6 must be in 0..planes-1 (5)"),
        ({"phasing": -1}, "phasing F=-1"),
        ({"altitude_km": 50.0}, "altitude_km=50.0 must be between 150 and 50,000"),
        ({"altitude_km": 60_000.0}, "altitude_km=60000.0"),
        ({"altitude_km": float("nan")}, "altitude_km=nan must be a finite number"),
        ({"inclination_deg": 181.0}, "inclination_deg=181.0 must be in 0..180"),
        ({"inclination_deg": -1.0}, "inclination_deg=-1.0"),
        ({"raan_spread_deg": 0.0}, "raan_spread_deg=0.0 must be in (0, 360]"),
        ({"raan0_deg": float("inf")}, "raan0_deg=inf must be a finite number"),
        ({"planes": 2.5}, "planes=2.5 must be a whole number"),
        ({"sats_per_plane": "22"}, "sats_per_plane='22' must be a whole number"),
    ],
)
def test_invalid_shell_names_the_field(kwargs, field):
    base = dict(name="bad", planes=6, sats_per_plane=10, altitude_km=550.0, inclination_deg=53.0)
    with pytest.raises(InputError) as err:
        WalkerShell(**{**base, **kwargs})
    assert str(err.value).startswith("Walker shell 'bad': ") and field in str(err.value)


def test_several_problems_are_reported_together():
    with pytest.raises(InputError) as err:
        WalkerShell("bad", planes=0, sats_per_plane=10, altitude_km=50.0, inclination_deg=53.0)
    assert "planes=0" in str(err.value) and "altitude_km=50" in str(err.value)


@settings(max_examples=40, deadline=None)
@given(
    planes=st.integers(1, 12), spp=st.integers(1, 12), data=st.data(),
    alt=st.floats(300.0, 2000.0), inc=st.floats(0.0, 180.0), spread=st.sampled_from([180.0, 360.0]),
)
def test_any_valid_shell_generates_consistently(planes, spp, data, alt, inc, spread):
    f = data.draw(st.integers(0, planes - 1))
    sh = WalkerShell("h", planes, spp, alt, inc, f, spread)
    c = walker_constellation([sh])
    assert len(c) == planes * spp and len(set(c.norad_id.tolist())) == len(c)
    assert np.max(np.abs(c.mean_altitude_km - alt)) < 0.010
    np.testing.assert_allclose(c.inclination_deg, inc, atol=1e-9)
    assert all(s.error == 0 for s in c.satrecs)
