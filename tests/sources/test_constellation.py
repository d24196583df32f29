"""Constellation: selection, take, concat with de-duplication, shell bands, derived metadata."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from refdata import data_dir
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

from leonet.errors import InputError
from leonet.sources.constellation import Constellation, concat
from leonet.sources.load import load_file
from leonet.sources.records import LoadReport, Rejection
from leonet.sources.tle import parse_tle_text
from leonet.sources.walker import WalkerShell, walker_constellation
from leonet.times import parse_time


@pytest.fixture(scope="module")
def snap() -> Constellation:
    p = data_dir() / "tle" / "starlink_20241023_celestrak_gp.tle"
    if not p.is_file():
        pytest.skip(f"reference file {p} not found (set LEONET_DATA_DIR to the shared/data folder)")
    return load_file(p)


def _tle(num: int, name: str, intl: str, epoch: str, inc: float, alt_km: float, raan: float = 0.0) -> str:
    """A three-line record written by sgp4's exporter from chosen elements."""
    days = (parse_time(epoch) - parse_time("1949-12-31T00:00:00Z")) / 86_400e9
    n = math.sqrt(398600.8 / (6378.135 + alt_km) ** 3) * 60.0
    sat = Satrec()
    sat.sgp4init(WGS72, "i", num, days, 1e-4, 0.0, 0.0, 0.0001, 0.0, math.radians(inc), 0.0, n, math.radians(raan))
    sat.intldesg = intl
    sat.classification = "U"
    l1, l2 = export_tle(sat)
    return f"{name}\n{l1}\n{l2}\n"


SMALL = "".join(
    [
        _tle(44714, "STARLINK-1008", "19074B", "2024-10-20T00:00:00Z", 53.05, 550.0),
        _tle(44715, "STARLINK-1009", "19074C", "2024-10-21T00:00:00Z", 53.05, 548.0),
        _tle(48601, "STARLINK-2560", "21040A", "2024-10-22T06:00:00Z", 97.6, 560.0),
        _tle(57001, "STARLINK-30123", "23107AB", "2024-10-19T12:00:00Z", 43.0, 560.0),
        _tle(44057, "ONEWEB-0012", "19010A", "2024-10-23T00:00:00Z", 87.9, 1200.0),
        _tle(25544, "ISS (ZARYA)", "98067A", "2024-10-22T00:00:00Z", 51.64, 420.0),
    ]
)


@pytest.fixture(scope="module")
def small() -> Constellation:
    records, report = parse_tle_text(SMALL, "small.tle")
    assert report.rejected == []
    return Constellation.from_records(records, report, label="small")


# ---------------------------------------------------------------------------------------------
# Selection


def test_select_by_name_pattern_is_case_insensitive(small):
    assert small.select(name="starlink-*").name.tolist() == ["STARLINK-1008", "STARLINK-1009", "STARLINK-2560", "STARLINK-30123"]
    assert small.select(name="STARLINK-100?").norad_id.tolist() == [44714, 44715]
    assert small.select(name="*ZARYA*").norad_id.tolist() == [25544]
    assert small.select(name="ISS (ZARYA)").norad_id.tolist() == [25544]  # brackets are literal here
    assert small.select(name="STARLINK-1[0]0[89]").norad_id.tolist() == [44714, 44715]
    assert len(small.select(name="nothing*")) == 0


def test_select_by_catalogue_numbers(small):
    assert small.select(norad_ids=[25544, 44714]).norad_id.tolist() == [44714, 25544]  # constellation order
    assert small.select(norad_ids=np.array([44057])).name.tolist() == ["ONEWEB-0012"]
    assert small.select(norad_ids=44057).name.tolist() == ["ONEWEB-0012"]
    with pytest.raises(InputError, match=r"catalogue number\(s\) 1, 99999 are not in this constellation of 6 satellites"):
        small.select(norad_ids=[99999, 44714, 1])
    assert small.select(norad_ids=[99999, 44714], strict=False).norad_id.tolist() == [44714]


def test_select_by_bands(small):
    assert small.select(inclination_deg=(53.0, 53.1)).norad_id.tolist() == [44714, 44715]
    assert small.select(altitude_km=(540.0, 555.0)).norad_id.tolist() == [44714, 44715]
    assert small.select(inclination_deg=(40.0, 60.0), altitude_km=(549.0, 700.0)).norad_id.tolist() == [44714, 57001]
    alt = small.mean_altitude_km
    lo = float(alt[0])
    assert small.select(altitude_km=(lo, lo)).norad_id.tolist() == [44714]  # inclusive bounds
    with pytest.raises(InputError, match="inclination_deg=.*low must not exceed high"):
        small.select(inclination_deg=(60.0, 50.0))
    with pytest.raises(InputError, match=r"altitude_km=500 must be an inclusive \(low, high\) pair"):
        small.select(altitude_km=500)


def test_select_by_launch_and_launch_year(small):
    assert small.select(launch="2019-074").name.tolist() == ["STARLINK-1008", "STARLINK-1009"]
    assert small.select(launch_year=2019).norad_id.tolist() == [44714, 44715, 44057]
    assert small.select(launch_year=np.int64(1998)).norad_id.tolist() == [25544]
    assert small.select(launch_year=(2020, 2023)).norad_id.tolist() == [48601, 57001]
    with pytest.raises(InputError, match=r"launch '2019-74' must look like '2019-074'"):
        small.select(launch="2019-74")
    assert len(small.select(name="STARLINK*", launch_year=2021)) == 1


def test_select_on_the_snapshot(snap):
    assert len(snap.select(name="STARLINK-1*")) == 922
    assert len(snap.select(launch="2019-074")) == 41
    assert snap.select(norad_ids=[44714]).name.tolist() == ["STARLINK-1008"]
    by_year = Counter(snap.launch_year.tolist())
    assert sum(by_year.values()) == len(snap) and min(by_year) == 2019 and max(by_year) == 2024
    assert len(snap.select(launch_year=(2019, 2024))) == len(snap)


# ---------------------------------------------------------------------------------------------
# take


def test_take_with_mask_indices_and_slice(small):
    mask = small.inclination_deg > 60
    got = small.take(mask)
    assert got.norad_id.tolist() == [48601, 44057]
    assert small.take([5, 0]).norad_id.tolist() == [25544, 44714]  # in the order asked
    assert small.take(np.array([-1])).norad_id.tolist() == [25544]
    assert small.take(slice(1, 3)).norad_id.tolist() == [44715, 48601]
    assert small.take(2).norad_id.tolist() == [48601]
    t = small.take([3])
    assert t.satrecs[0] is small.satrecs[3] and t.name[0] == small.name[3] and t.epoch_ns[0] == small.epoch_ns[3]
    assert t.inclination_deg[0] == small.inclination_deg[3]  # derived values recomputed
    assert len(small.take(np.zeros(6, dtype=bool))) == 0


def test_take_rejects_a_mask_of_the_wrong_length_and_bad_indices(small):
    with pytest.raises(InputError, match=r"boolean mask for 6 satellites must have shape \(6,\), not \(5,\)"):
        small.take(np.ones(5, dtype=bool))
    with pytest.raises(InputError, match="cannot take"):
        small.take([6])


# ---------------------------------------------------------------------------------------------
# concat


def test_concat_dedupes_keeping_the_newest_and_reports(small, tmp_path):
    newer = _tle(44714, "STARLINK-1008 NEW", "19074B", "2024-10-25T00:00:00Z", 53.05, 549.0)
    older = _tle(25544, "ISS OLD", "98067A", "2024-10-01T00:00:00Z", 51.64, 421.0)
    p = tmp_path / "update.tle"
    p.write_text(newer + older)
    upd = load_file(p)
    both = concat([small, upd])
    assert len(both) == 6
    assert both.select(norad_ids=[44714]).name.tolist() == ["STARLINK-1008 NEW"]
    assert both.select(norad_ids=[25544]).name.tolist() == ["ISS (ZARYA)"]
    assert both.report.read == 8 and len(both.report.duplicates) == 2 and both.report.accepted == 8 - 2 == len(both)
    d = {x.norad_id: x for x in both.report.duplicates}
    assert d[44714].kept == "update:1" and d[44714].dropped == "small:1"
    assert d[25544].kept == "small:6" and d[25544].dropped == "update:2"
    assert d[44714].kept_epoch_ns == parse_time("2024-10-25T00:00:00Z")
    assert both.label == "small+update" and both.report.sources == ["small.tle", str(p)]
    # epochs and metadata travel with the kept satellite
    k = int(np.flatnonzero(both.norad_id == 44714)[0])
    assert both.epoch_ns[k] == parse_time("2024-10-25T00:00:00Z") and both.intl_designator[k] == "2019-074B"
    # the parts are not changed
    assert small.report.duplicates == [] and upd.report.duplicates == []


def test_concat_without_dedupe_keeps_everything(small):
    both = concat([small, small], dedupe=False)
    assert len(both) == 12 and both.report.duplicates == []
    both = small + small
    assert len(both) == 6 and len(both.report.duplicates) == 6 and both.report.accepted == len(both)


def test_concat_keeps_the_report_of_an_empty_part(small):
    records, report = parse_tle_text("JUNK LINE\n", "junk.tle")
    empty = Constellation.from_records(records, report, label="junk")
    assert len(empty) == 0 and len(empty.report.rejected) == 1
    both = concat([small, empty])
    assert len(both) == 6 and len(both.report.rejected) == 1 and both.report.read == 7
    only = concat([empty])
    assert len(only) == 0 and only.report.rejected == report.rejected
    assert len(concat([])) == 0


def test_concat_walker_with_real_keeps_exact_epochs(small):
    w = walker_constellation([WalkerShell("w", 2, 2, 600.0, 45.0)], epoch="2024-10-23T01:02:03.123456789Z", label="w")
    both = concat([w, small])
    assert len(both) == 10 and both.report.read == 10
    assert np.all(both.epoch_ns[:4] == parse_time("2024-10-23T01:02:03.123456789Z"))


def test_hand_built_parts_count_their_satellites_as_read(small):
    bare = Constellation(small.satrecs[:2], small.norad_id[:2], small.name[:2], small.intl_designator[:2],
                         small.classification[:2], small.epoch_ns[:2])
    both = concat([bare, small])
    assert both.report.read == 8 and len(both) == 6 and both.report.accepted == 6


def test_parallel_arrays_must_have_one_entry_per_satellite(small):
    with pytest.raises(ValueError, match="Constellation.name has 1 entries for 2 satellites"):
        Constellation(small.satrecs[:2], small.norad_id[:2], small.name[:1], small.intl_designator[:2],
                      small.classification[:2], small.epoch_ns[:2])


# ---------------------------------------------------------------------------------------------
# Derived metadata


def test_derived_metadata(small):
    assert small.launch_year.tolist() == [2019, 2019, 2021, 2023, 2019, 1998]
    assert small.launch_number.tolist() == [74, 74, 40, 107, 10, 67]
    assert small.piece.tolist() == ["B", "C", "A", "AB", "A", "A"]
    assert small.launch_id.tolist() == ["2019-074", "2019-074", "2021-040", "2023-107", "2019-010", "1998-067"]
    assert small.epoch_range() == ("2024-10-19T12:00:00Z", "2024-10-23T00:00:00Z")
    np.testing.assert_allclose(small.inclination_deg, [53.05, 53.05, 97.6, 43.0, 87.9, 51.64], atol=1e-4)
    np.testing.assert_allclose(small.eccentricity, 1e-4, atol=1e-7)
    assert small.period_min[0] == pytest.approx(95.6, abs=0.1)
    assert small.period_min[4] == pytest.approx(109.4, abs=0.2)
    np.testing.assert_allclose(small.perigee_altitude_km, small.mean_altitude_km - 1e-4 * small.semi_major_axis_km, atol=1e-6)
    np.testing.assert_allclose(small.apogee_altitude_km, small.mean_altitude_km + 1e-4 * small.semi_major_axis_km, atol=1e-6)
    np.testing.assert_allclose(small.mean_altitude_km[:2], [550.0, 548.0], atol=0.5)  # Kozai vs Brouwer: sub-km
    assert small.mean_motion_rev_day[0] == pytest.approx(1440.0 / small.period_min[0], rel=2e-3)


def test_unknown_designators_give_minus_one_and_blank(small):
    w = walker_constellation([WalkerShell("w", 1, 2, 600.0, 45.0, phasing=0)])
    assert w.launch_year.tolist() == [-1, -1] and w.launch_number.tolist() == [-1, -1]
    assert w.piece.tolist() == ["", ""] and w.launch_id.tolist() == ["", ""]
    assert len(w.select(launch_year=2020)) == 0


def test_snapshot_metadata(snap):
    assert snap.epoch_range()[0].startswith("2024-10-19") and snap.epoch_range()[1].startswith("2024-10-23")
    ok = snap.perigee_altitude_km > 300
    assert 94.0 < np.median(snap.period_min[ok]) < 97.0  # about 95 minutes
    assert np.all((snap.period_min > 85) & (snap.period_min < 100))
    assert snap.piece[0] == "B" and snap.launch_number[0] == 74
    s = snap.summary()
    assert (s["satellites"], s["records_read"], s["rejected"], s["duplicates"]) == (6448, 6448, 0, 0)
    assert 500 < s["mean_altitude_km_median"] < 560


def test_shell_bands_on_the_2024_snapshot(snap):
    rows = snap.shell_bands()
    assert sum(r["satellites"] for r in rows) == len(snap)
    by_inc = Counter()
    for r in rows:
        by_inc[r["inclination_deg"]] += r["satellites"]
    (top, n_top), (second, _) = by_inc.most_common(2)
    assert top == 53.0 and second == 43.0 and n_top > len(snap) / 2
    assert {53.0, 43.0, 70.0, 97.5} <= set(by_inc)
    assert rows[0]["inclination_deg"] == 53.0 and rows[0]["altitude_km"] == 540.0  # biggest band
    counts = [r["satellites"] for r in rows if r["inclination_deg"] is not None]
    assert counts == sorted(counts, reverse=True)
    odd = [r for r in rows if r.get("note") == "raising/deorbiting or eccentric"]
    assert len(odd) == 1 and 0 < odd[0]["satellites"] < 100
    coarse = snap.shell_bands(min_count=50)
    assert sum(r["satellites"] for r in coarse) == len(snap)
    assert any(r.get("note") == "bands of fewer than 50" for r in coarse)
    assert all(r["satellites"] >= 50 for r in coarse if r["inclination_deg"] is not None)


def test_shell_bands_of_a_walker_preset_are_its_shells():
    from leonet.sources.walker import preset_constellation

    c = preset_constellation("starlink-gen1")
    rows = c.shell_bands(inclination_step_deg=0.1)
    got = sorted((r["inclination_deg"], r["altitude_km"], r["satellites"]) for r in rows)
    assert got == sorted([(53.0, 550.0, 1584), (53.2, 540.0, 1584), (70.0, 570.0, 720), (97.6, 560.0, 520)])


def test_empty_constellation_is_usable():
    e = Constellation.empty()
    assert len(e) == 0 and e.epoch_range() == ("", "") and e.shell_bands() == []
    assert e.summary()["satellites"] == 0 and len(e.select(name="*")) == 0


def test_report_of_a_load_is_kept_by_selections(tmp_path):
    p = tmp_path / "x.tle"
    p.write_text(SMALL + "ORPHAN\n")
    c = load_file(p)
    assert len(c.report.rejected) == 1 and isinstance(c.report.rejected[0], Rejection)
    assert c.select(name="STARLINK*").report is c.report
    assert isinstance(c.report, LoadReport) and c.report.accepted == len(c) == 6
