"""OMM loading (CelesTrak JSON, XML, CSV): snapshots, format equivalence, field checks, corruption."""

from __future__ import annotations

import csv
import io
import json
import math
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from refdata import ref_file
from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec
from sgp4.exporter import export_tle

from leonet.errors import InputError
from leonet.sources.load import load_file
from leonet.sources.omm import REQUIRED, parse_omm_csv, parse_omm_json, parse_omm_xml
from leonet.sources.tle import parse_tle_text
from leonet.times import parse_time

# CelesTrak's field order (FORMAT=json / csv)
FIELDS = (
    "OBJECT_NAME", "OBJECT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER", "MEAN_ANOMALY", "EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID",
    "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT",
)
META = ("OBJECT_NAME", "OBJECT_ID")
MEAN = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY")
TLEP = ("EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR",
        "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT")


def omm_record(norad: int = 44714, **kw) -> dict:
    rec = {
        "OBJECT_NAME": "STARLINK-1008", "OBJECT_ID": "2019-074B", "EPOCH": "2025-08-16T10:15:46.460448",
        "MEAN_MOTION": 15.06393061, "ECCENTRICITY": 0.0001709, "INCLINATION": 53.0529, "RA_OF_ASC_NODE": 28.0773,
        "ARG_OF_PERICENTER": 89.2819, "MEAN_ANOMALY": 270.8365, "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U",
        "NORAD_CAT_ID": norad, "ELEMENT_SET_NO": 999, "REV_AT_EPOCH": 31798, "BSTAR": 0.00010022,
        "MEAN_MOTION_DOT": 1.211e-05, "MEAN_MOTION_DDOT": 0,
    }
    rec.update(kw)
    return rec


SYNTH = [
    omm_record(),
    omm_record(44057, OBJECT_NAME="ONEWEB-0012", OBJECT_ID="2019-010A", EPOCH="2025-08-16T04:49:58.050048",
               MEAN_MOTION=13.16592746, ECCENTRICITY=0.0002434, INCLINATION=87.9023, BSTAR=-4.5399e-5,
               MEAN_MOTION_DOT=-4.0e-8, MEAN_MOTION_DDOT=2.345e-7),
    omm_record(900, OBJECT_NAME="CALSPHERE 1", OBJECT_ID="1964-063C", EPOCH="2025-08-15T22:08:42.804960",
               MEAN_MOTION=13.7668, ECCENTRICITY=0.0027978, INCLINATION=90.2176, RA_OF_ASC_NODE=359.9,
               BSTAR=0.00046238, MEAN_MOTION_DOT=4.65e-6),
]


def _text(v) -> str:
    return repr(v) if isinstance(v, float) else str(v)


def to_xml(records: list[dict]) -> str:
    """CelesTrak FORMAT=xml (CCSDS NDM/OMM 2.0, unqualified)."""
    def tags(rec, keys):
        return "".join(f"<{k}>{escape(_text(rec[k]))}</{k}>" for k in keys)

    omms = "".join(
        '<omm id="CCSDS_OMM_VERS" version="2.0"><header><CREATION_DATE/><ORIGINATOR/></header><body><segment>'
        f"<metadata>{tags(r, META)}<CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME>"
        "<TIME_SYSTEM>UTC</TIME_SYSTEM><MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY></metadata>"
        f"<data><meanElements>{tags(r, MEAN)}</meanElements><tleParameters>{tags(r, TLEP)}</tleParameters></data>"
        "</segment></body></omm>\n"
        for r in records
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ndm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="https://sanaregistry.org/r/ndmxml_unqualified/ndmxml-2.0.0-master-2.0.xsd">\n'
        f"{omms}</ndm>\n"
    )


def to_csv(records: list[dict]) -> str:
    """CelesTrak FORMAT=csv: a header of OMM keywords, CRLF line ends."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(FIELDS)
    for r in records:
        w.writerow([_text(r[k]) for k in FIELDS])
    return out.getvalue()


ELEMENTS = ("satnum", "jdsatepoch", "jdsatepochF", "bstar", "ndot", "nddot", "ecco", "argpo", "inclo", "mo",
            "no_kozai", "nodeo")


def elements(sat: Satrec) -> tuple:
    return tuple(getattr(sat, k) for k in ELEMENTS)


def sgp4_reference(fields: dict) -> Satrec:
    """sgp4's own OMM reader on the same fields."""
    sat = Satrec()
    sgp4_omm.initialize(sat, {k: _text(v) for k, v in fields.items()})
    return sat


def assert_same_satrec(a: Satrec, b: Satrec) -> None:
    for k in ELEMENTS:
        if k in ("jdsatepoch", "jdsatepochF"):
            continue
        assert getattr(a, k) == pytest.approx(getattr(b, k), rel=1e-14, abs=1e-300), k
    # epochs: days since 1949 computed two ways; agree to far better than a microsecond
    ja, jb = a.jdsatepoch + a.jdsatepochF, b.jdsatepoch + b.jdsatepochF
    assert abs(ja - jb) * 86400e6 < 1.0


# ---------------------------------------------------------------------------------------------
# Snapshots


@pytest.mark.parametrize(
    "fname,count",
    [("starlink_20250816_celestrak_omm.json", 8084), ("oneweb_20250816_celestrak_omm.json", 651)],
    ids=["starlink-8084-records-0-rejected", "oneweb-651-records-0-rejected"],
)
def test_omm_snapshot_loads_every_record(fname, count):
    c = load_file(ref_file(f"omm/{fname}"))
    r = c.report
    assert (r.read, len(r.rejected), len(r.duplicates), len(c)) == (count, 0, 0, count)
    assert all(s.error == 0 for s in c.satrecs)
    assert c.epoch_range()[0].startswith("2025-08-1")


def test_oneweb_snapshot_matches_sgp4s_own_omm_reader():
    path = ref_file("omm/oneweb_20250816_celestrak_omm.json")
    data = json.loads(path.read_text())
    records, report = parse_omm_json(path.read_text(), str(path))
    assert len(records) == len(data) == 651
    for rec, fields in zip(records, data):
        assert_same_satrec(rec.satrec, sgp4_reference(fields))
        assert rec.name == fields["OBJECT_NAME"] and rec.intl_designator == fields["OBJECT_ID"]
        assert rec.classification == fields["CLASSIFICATION_TYPE"]


# ---------------------------------------------------------------------------------------------
# The same satellites as JSON, XML and CSV


def _three_ways(records: list[dict]):
    j = parse_omm_json(json.dumps(records), "s.json")
    x = parse_omm_xml(to_xml(records), "s.xml")
    c = parse_omm_csv(to_csv(records), "s.csv")
    return j, x, c


def _check_same(records: list[dict]):
    for recs, report in _three_ways(records):
        assert report.rejected == [] and report.read == len(records)
        assert [r.name for r in recs] == [f["OBJECT_NAME"] for f in records]
        assert [r.intl_designator for r in recs] == [f["OBJECT_ID"] for f in records]
        for rec, fields in zip(recs, records):
            assert_same_satrec(rec.satrec, sgp4_reference(fields))
    (j, _), (x, _), (c, _) = _three_ways(records)
    assert [elements(r.satrec) for r in j] == [elements(r.satrec) for r in x] == [elements(r.satrec) for r in c]


def test_json_xml_and_csv_give_identical_elements_synthetic():
    _check_same(SYNTH)


def test_json_xml_and_csv_give_identical_elements_from_the_snapshot():
    data = json.loads(ref_file("omm/starlink_20250816_celestrak_omm.json").read_text())
    sample = data[:: len(data) // 25][:25]
    _check_same(sample)


def test_our_xml_is_what_sgp4_reads_as_omm_xml():
    got = list(sgp4_omm.parse_xml(io.StringIO(to_xml(SYNTH))))
    assert [g["NORAD_CAT_ID"] for g in got] == ["44714", "44057", "900"]


def test_csv_positions_are_file_lines_and_xml_json_positions_are_record_indices():
    bad = omm_record(25544, ECCENTRICITY=1.5, OBJECT_NAME="BROKEN")
    recs = SYNTH[:2] + [bad] + SYNTH[2:]
    for parse, text, where in (
        (parse_omm_json, json.dumps(recs), 3),
        (parse_omm_xml, to_xml(recs), 3),
        (parse_omm_csv, to_csv(recs), 4),  # line 1 is the header
    ):
        records, report = parse(text, "f")
        assert len(records) == 3 and len(report.rejected) == 1
        rej = report.rejected[0]
        assert (rej.source, rej.line, rej.text) == ("f", where, "BROKEN")
        assert "ECCENTRICITY 1.5 must be in [0, 1)" in rej.reason


def test_load_file_sniffs_each_format(tmp_path):
    for name, text in (("a.json", json.dumps(SYNTH)), ("a.xml", to_xml(SYNTH)), ("a.csv", to_csv(SYNTH)),
                       ("noext", json.dumps(SYNTH)), ("noext2", to_xml(SYNTH))):
        p = tmp_path / name
        p.write_text(text)
        c = load_file(p)
        assert sorted(c.norad_id.tolist()) == [900, 44057, 44714], name


def test_byte_order_mark_is_ignored():
    for parse, text in ((parse_omm_json, json.dumps(SYNTH)), (parse_omm_xml, to_xml(SYNTH)), (parse_omm_csv, to_csv(SYNTH))):
        records, report = parse("\ufeff" + text, "bom")
        assert len(records) == 3 and report.rejected == []


# ---------------------------------------------------------------------------------------------
# OMM and TLE agree


def test_omm_elements_match_the_same_element_set_as_tle():
    """Write each OMM record as a TLE with sgp4's exporter (same epoch), load both ways and
    compare: checks leonet's OMM unit conversions (ndot, nddot, B*, angles) against the TLE path."""
    for fields in SYNTH:
        omm_recs, _ = parse_omm_json(json.dumps([fields]), "o")
        line1, line2 = export_tle(sgp4_reference(fields))
        tle_recs, report = parse_tle_text(f"{line1}\n{line2}\n", "t")
        assert report.rejected == [], [str(r) for r in report.rejected]
        a, b = omm_recs[0].satrec, tle_recs[0].satrec
        assert a.satnum == b.satnum
        assert abs((a.jdsatepoch + a.jdsatepochF) - (b.jdsatepoch + b.jdsatepochF)) < 1e-8  # 1e-8 day in a TLE
        for key, tol in (("inclo", 1e-6), ("nodeo", 1e-6), ("argpo", 1e-6), ("mo", 1e-6), ("ecco", 1e-7),
                         ("no_kozai", 1e-10), ("ndot", 1e-12), ("nddot", 1e-18)):
            assert getattr(a, key) == pytest.approx(getattr(b, key), abs=tol), key
        assert a.bstar == pytest.approx(b.bstar, rel=1e-4)


# ---------------------------------------------------------------------------------------------
# Missing and invalid fields


@pytest.mark.parametrize("key", REQUIRED)
def test_missing_required_field_is_named(key):
    broken = {k: v for k, v in omm_record(25544, OBJECT_NAME="BROKEN").items() if k != key}
    records, report = parse_omm_json(json.dumps(SYNTH[:1] + [broken] + SYNTH[1:]), "m.json")
    assert len(records) == 3 and report.read == 4 and len(report.rejected) == 1
    rej = report.rejected[0]
    assert rej.line == 2 and rej.text == "BROKEN"
    assert f"missing OMM field(s) {key}" in rej.reason and "required fields:" in rej.reason
    assert str(rej).startswith("m.json:2: ")


@pytest.mark.parametrize(
    "key,value,words",
    [
        ("MEAN_MOTION", "abc", "field MEAN_MOTION is 'abc', not a number"),
        ("MEAN_MOTION", -1.0, "MEAN_MOTION -1.0 rev/day must be positive"),
        ("MEAN_MOTION", 0, "MEAN_MOTION 0.0 rev/day must be positive"),
        ("MEAN_MOTION", None, "field MEAN_MOTION is missing"),
        ("MEAN_MOTION", "", "field MEAN_MOTION is missing"),
        ("MEAN_MOTION", [15.0], "field MEAN_MOTION is [15.0], not a number"),
        ("ECCENTRICITY", 1.0, "ECCENTRICITY 1.0 must be in [0, 1)"),
        ("ECCENTRICITY", -0.1, "ECCENTRICITY -0.1 must be in [0, 1)"),
        ("INCLINATION", 180.5, "INCLINATION 180.5 deg must be in 0 .. 180"),
        ("RA_OF_ASC_NODE", -1, "RA_OF_ASC_NODE -1.0 deg must be in 0 .. 360"),
        ("MEAN_ANOMALY", 720.0, "MEAN_ANOMALY 720.0 deg must be in 0 .. 360"),
        ("BSTAR", "NaN", "field BSTAR is 'NaN', not a number"),
        ("BSTAR", float("nan"), "field BSTAR is nan, not a finite number"),
        ("BSTAR", float("inf"), "field BSTAR is inf, not a finite number"),
        ("BSTAR", "1e400", "field BSTAR is '1e400', not a finite number"),
        ("MEAN_MOTION", "1_5", "field MEAN_MOTION is '1_5', not a number"),
        ("MEAN_MOTION", "１５", "field MEAN_MOTION is '１５', not a number"),
        ("MEAN_MOTION", " 15.5 ", None),
        ("NORAD_CAT_ID", 0, "NORAD_CAT_ID 0 must be an integer 1..339999"),
        ("NORAD_CAT_ID", 1.5, "NORAD_CAT_ID 1.5 must be an integer"),
        ("NORAD_CAT_ID", 340000, "NORAD_CAT_ID 340000 must be an integer"),
        ("NORAD_CAT_ID", True, "field NORAD_CAT_ID is True, not a number"),
        ("EPOCH", "yesterday", "EPOCH 'yesterday' is not an ISO-8601 UTC time"),
        ("EPOCH", "2025-02-30T00:00:00", "EPOCH '2025-02-30T00:00:00' is not an ISO-8601"),
        ("EPOCH", 20250816, "EPOCH '20250816' is not an ISO-8601"),
    ],
)
def test_invalid_field_is_named(key, value, words):
    broken = omm_record(25544, OBJECT_NAME="BROKEN", **{key: value})
    records, report = parse_omm_json(json.dumps(SYNTH + [broken]), "v.json")
    if words is None:  # accepted
        assert report.rejected == [] and len(records) == 4
        return
    assert [r.satrec.satnum for r in records] == [44714, 44057, 900]
    assert len(report.rejected) == 1 and report.rejected[0].line == 4
    assert words in report.rejected[0].reason


def test_non_objects_in_the_list_are_rejected_one_by_one():
    records, report = parse_omm_json(json.dumps([SYNTH[0], 5, "x", None, [1], SYNTH[1]]), "l.json")
    assert len(records) == 2 and report.read == 6
    assert [r.line for r in report.rejected] == [2, 3, 4, 5]
    assert "expected an object of OMM fields, found int" in report.rejected[0].reason


def test_epoch_with_z_and_without_fraction_is_read():
    for epoch in ("2025-08-16T10:15:46Z", "2025-08-16T10:15:46", "2025-08-16 10:15:46.5"):
        records, report = parse_omm_json(json.dumps([omm_record(EPOCH=epoch)]), "e.json")
        assert report.rejected == []
        got = records[0].satrec.jdsatepoch + records[0].satrec.jdsatepochF
        want = parse_time(epoch.rstrip("Z")) / 86400e9 + 2440587.5
        assert abs(got - want) * 86400e6 < 1.0


def test_single_object_is_one_record():
    records, report = parse_omm_json(json.dumps(SYNTH[0]), "one.json")
    assert len(records) == 1 and report.read == 1


# ---------------------------------------------------------------------------------------------
# Whole-file problems


@pytest.mark.parametrize(
    "text,words",
    [
        ('[{"NORAD_CAT_ID": 1,}]', "not valid JSON (Expecting property name enclosed in double quotes at line 1 column 21)"),
        ('[{"A": 1}\n,\n', "at line 3 column 1"),
        ("", "not valid JSON"),
        ("42", "OMM JSON must be a list of objects"),
        ('"text"', "OMM JSON must be a list of objects"),
        ("[" * 100_000 + "]" * 100_000, "JSON"),
    ],
    ids=["trailing-comma", "truncated", "empty", "number", "string", "deep-nesting"],
)
def test_bad_json_is_an_input_error_with_position(text, words):
    with pytest.raises(InputError) as err:
        parse_omm_json(text, "bad.json")
    assert str(err.value).startswith("bad.json: ") and words in str(err.value)


def test_bad_xml_is_an_input_error_with_position():
    text = to_xml(SYNTH).replace("</INCLINATION>", "</INCLINATON>", 1)
    with pytest.raises(InputError, match=r"^bad\.xml: not well-formed XML \(mismatched tag: line 3, column \d+\)"):
        parse_omm_xml(text, "bad.xml")
    with pytest.raises(InputError, match=r"bad\.xml: not well-formed XML \(no element found: line 1, column 0\)"):
        parse_omm_xml("", "bad.xml")
    with pytest.raises(InputError, match=r"XML root <html> holds no OMM <segment>"):
        parse_omm_xml("<html><body>Not found</body></html>", "bad.xml")


def test_xml_segment_without_data_is_rejected_not_a_crash():
    text = to_xml(SYNTH[:1]).replace("</omm>", "</omm><omm><body><segment><metadata><OBJECT_NAME>X</OBJECT_NAME></metadata></segment></body></omm>", 1)
    records, report = parse_omm_xml(text, "x.xml")
    assert len(records) == 1 and len(report.rejected) == 1
    assert report.rejected[0].line == 2 and "missing OMM field(s) NORAD_CAT_ID, EPOCH, MEAN_MOTION" in report.rejected[0].reason


def test_csv_without_required_columns_is_an_input_error():
    text = to_csv(SYNTH).replace("NORAD_CAT_ID", "CATNO", 1)
    with pytest.raises(InputError, match=r"^bad\.csv:1: the CSV header has no column\(s\) NORAD_CAT_ID"):
        parse_omm_csv(text, "bad.csv")


def test_csv_short_row_is_rejected_with_its_line():
    text = to_csv(SYNTH) + "SHORT,2020-001A,2025-08-16T00:00:00\r\n"
    records, report = parse_omm_csv(text, "s.csv")
    assert len(records) == 3 and report.rejected[0].line == 5
    assert "field NORAD_CAT_ID is missing" in report.rejected[0].reason


def test_duplicates_across_omm_records_keep_the_newest(tmp_path):
    newer = omm_record(EPOCH="2025-08-17T00:00:00.000000", OBJECT_NAME="NEWER")
    p = tmp_path / "d.json"
    p.write_text(json.dumps([SYNTH[0], newer, SYNTH[1]]))
    c = load_file(p)
    assert len(c) == 2 and c.report.read == 3 and c.name.tolist() == ["NEWER", "ONEWEB-0012"]
    assert c.report.duplicates[0].kept == f"{p}:2" and c.report.duplicates[0].dropped == f"{p}:1"


# ---------------------------------------------------------------------------------------------
# Property tests: corrupted records never crash, and what is accepted is right

JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["", " ", "1e400", "-0", "NaN", "Infinity", "0x10", "1_000", "１２", "2025-08-16T10:15:46"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _expected_ok(rec, fields: dict) -> None:
    """An accepted record holds exactly the values of its fields."""
    sat = rec.satrec
    f = {k: float(fields[k]) for k in REQUIRED if k != "EPOCH"}
    assert sat.satnum == int(f["NORAD_CAT_ID"]) and 0 < sat.satnum <= 339999
    assert 0.0 <= f["ECCENTRICITY"] < 1.0 and f["MEAN_MOTION"] > 0.0
    assert 0.0 <= f["INCLINATION"] <= 180.0
    for key, attr in (("INCLINATION", "inclo"), ("RA_OF_ASC_NODE", "nodeo"), ("ARG_OF_PERICENTER", "argpo"), ("MEAN_ANOMALY", "mo")):
        assert 0.0 <= f[key] <= 360.0
        assert getattr(sat, attr) == pytest.approx(math.radians(f[key]), rel=1e-15, abs=1e-300)
    assert sat.ecco == f["ECCENTRICITY"] and sat.bstar == f["BSTAR"]
    assert sat.no_kozai == pytest.approx(f["MEAN_MOTION"] * 2 * math.pi / 1440.0, rel=1e-15)
    epoch_ns = parse_time(str(fields["EPOCH"]).rstrip("Zz"))
    got = (sat.jdsatepoch - 2440587.5 + sat.jdsatepochF) * 86400e9
    assert abs(got - epoch_ns) < 1e3  # within a microsecond
    assert sat.error == 0


def _check(records, report, rows) -> None:
    assert report.read == len(rows) == len(records) + len(report.rejected)
    rejected_at = {r.line for r in report.rejected}
    by_line = {r.line: r for r in records}
    for index, fields in rows:
        if index in rejected_at:
            rej = next(r for r in report.rejected if r.line == index)
            reason = rej.reason.split("; required fields:")[0]
            assert any(k in reason for k in REQUIRED) or "expected an object" in reason or "SGP4" in reason, reason
        else:
            _expected_ok(by_line[index], fields)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_corrupted_omm_fields_are_rejected_by_name_or_read_correctly(data):
    rows = []
    for k, base in enumerate(SYNTH):
        rec = dict(base)
        for _ in range(data.draw(st.integers(0, 3))):
            op = data.draw(st.sampled_from(["set", "drop", "str"]))
            key = data.draw(st.sampled_from(FIELDS))
            if op == "set":
                rec[key] = data.draw(JSON_VALUES)
            elif op == "drop":
                rec.pop(key, None)
            elif key in rec:
                rec[key] = _text(rec[key])  # numbers as strings, as CSV and XML give them
        rows.append((k + 1, rec))
    try:
        text = json.dumps([r for _, r in rows])
    except (ValueError, TypeError):
        return
    records, report = parse_omm_json(text, "fuzz.json")
    _check(records, report, rows)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_corrupted_omm_text_gives_input_error_or_clear_records(data):
    fmt = data.draw(st.sampled_from(["json", "xml", "csv"]))
    text = {"json": json.dumps(SYNTH, indent=1), "xml": to_xml(SYNTH), "csv": to_csv(SYNTH)}[fmt]
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        ch = data.draw(st.one_of(st.characters(), st.sampled_from(list('0123456789.-eE,":{}[]<>/ \n\r'))))
        op = data.draw(st.sampled_from(["sub", "del", "ins"]))
        if op == "sub":
            text = text[:pos] + ch + text[pos + 1 :]
        elif op == "del":
            text = text[:pos] + text[pos + 1 :]
        else:
            text = text[:pos] + ch + text[pos:]
    parse = {"json": parse_omm_json, "xml": parse_omm_xml, "csv": parse_omm_csv}[fmt]
    try:
        records, report = parse(text, f"fuzz.{fmt}")
    except InputError as exc:
        assert str(exc).startswith(f"fuzz.{fmt}")
        return
    assert report.read == len(records) + len(report.rejected)
    for rej in report.rejected:
        assert rej.source == f"fuzz.{fmt}" and rej.line >= 1 and "required fields:" in rej.reason
    for rec in records:
        assert rec.satrec.error == 0 and 0 < rec.satrec.satnum <= 339999
        assert 0.0 <= rec.satrec.ecco < 1.0 and rec.satrec.no_kozai > 0.0
        assert 0.0 <= math.degrees(rec.satrec.inclo) <= 180.0 + 1e-9
