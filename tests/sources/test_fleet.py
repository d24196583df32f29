"""Fleet states of real Starlink snapshots, and the selection of the satellites that serve."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.errors import InputError
from leonet.orbits.fleet import STATES
from leonet.sources.fleet import infer_fleet, parse_states, serving
from leonet.sources.walker import preset_constellation

S2410 = "tle/starlink_20241023_celestrak_gp.tle"
S2605 = "tle/starlink_20260513_celestrak_supgp.tle"
S2608 = "tle/starlink_20260822_celestrak_gp.tle"


def _dtc_names_in_file(path) -> int:
    """Independent count: name lines of the file carrying '[DTC]' (one per catalogue number)."""
    lines = path.read_text().splitlines()
    ids = {lines[k + 1][2:7] for k, line in enumerate(lines[:-1]) if "[DTC]" in line and lines[k + 1].startswith("1 ")}
    return len(ids)


def test_2026_08_states(tle_snapshot) -> None:
    snap = tle_snapshot(S2608)
    f = infer_fleet(snap.constellation)
    counts = f.counts()
    assert list(counts) == list(STATES) and sum(counts.values()) == len(snap.constellation)
    # Every direct-to-cell payload, and only those, is 'dtc' (639 in this snapshot).
    assert counts["dtc"] == _dtc_names_in_file(snap.path) == 639
    # The 480 km shell the fleet moved into in 2026 is found as shells at 53.16 deg, 455-480 km
    # mean altitude, holding thousands of satellites.
    new = [s for s in f.shells if not s["dtc"] and abs(s["inclination_deg"] - 53.16) < 0.1 and 455 <= s["altitude_km"] <= 480]
    assert sum(s["satellites"] for s in new) > 3500
    assert counts["operational"] > 0.85 * len(f)
    # Operational satellites hold station: steady altitude within their shell's box.
    op = f.state == "operational"
    shell_alt = np.array([s["altitude_km"] for s in f.shells])
    assert (np.abs(f.alt_km[op] - shell_alt[f.shell[op]]) <= 8.0 + 1e-9).all()
    assert (np.abs(f.motion_km_day[op]) == 0).all()
    # No satellite lacks a reason unless it is operational.
    assert all(r for r in f.reason[~op])


def test_history_resolves_steady_satellites(tle_snapshot) -> None:
    now, older = tle_snapshot(S2608).constellation, tle_snapshot(S2605).constellation
    plain = infer_fleet(now)
    hist = infer_fleet(now, [older])
    # History only refines satellites not holding station.
    assert (hist.state == "operational").sum() == (plain.state == "operational").sum()
    assert (hist.counts()["unassigned"]) < plain.counts()["unassigned"] / 2
    moved = (plain.state == "unassigned") & (hist.state != "unassigned")
    assert moved.any() and all("trend" in r for r in hist.reason[moved])
    # Trend = altitude difference over the epoch difference, checked for one satellite by hand.
    k = int(np.flatnonzero(moved)[0])
    j = int(np.flatnonzero(older.norad_id == now.norad_id[k])[0])
    days = (now.epoch_ns[k] - older.epoch_ns[j]) / 86400e9
    assert hist.trend_km_day[k] == pytest.approx((now.mean_altitude_km[k] - older.mean_altitude_km[j]) / days)
    with pytest.raises(InputError, match="not older"):
        infer_fleet(older, [now])


def test_serving_keeps_operational_and_counts_the_rest(tle_snapshot) -> None:
    c = tle_snapshot(S2410).constellation
    s = serving(c)
    f = s.fleet
    assert len(s.constellation) == f.counts()["operational"]
    assert set(s.left_out) == set(STATES) - {"operational"}
    assert sum(s.left_out.values()) + len(s.constellation) == len(c)
    assert s.left_out == {k: v for k, v in f.counts().items() if k != "operational"}
    assert "left out" in s.describe() and f"{s.left_out['dtc']:,} dtc" in s.describe()
    two = serving(c, "operational,raising", fleet=f)
    assert len(two.constellation) == f.counts()["operational"] + f.counts()["raising"]
    assert np.isin(two.constellation.norad_id, f.norad_id[f.mask(["operational", "raising"])]).all()
    with pytest.raises(InputError, match="another constellation"):
        serving(c.take(np.arange(10)), fleet=f)


def test_parse_states() -> None:
    assert parse_states("Operational, raising,operational") == ("operational", "raising")
    with pytest.raises(InputError, match="choose from operational"):
        parse_states("operational,serving")
    with pytest.raises(InputError):
        parse_states("")


def test_walker_shells_are_all_operational() -> None:
    c = preset_constellation("starlink-gen1")
    f = infer_fleet(c)
    assert f.counts()["operational"] == len(c)
