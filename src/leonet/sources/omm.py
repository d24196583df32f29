"""CCSDS Orbit Mean-Elements Messages in CelesTrak's JSON, XML and CSV forms.

Fields are the OMM keywords (``NORAD_CAT_ID``, ``EPOCH``, ``MEAN_MOTION`` ...). Each record is
checked field by field; a bad record is rejected with its position and the field at fault.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sgp4.api import WGS72, Satrec

from leonet.errors import InputError
from leonet.sources.records import LoadReport, ParsedRecord, Rejection

REQUIRED = (
    "NORAD_CAT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER", "MEAN_ANOMALY", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT",
)
_EPOCH0 = datetime(1949, 12, 31, tzinfo=UTC)
_DEG = math.pi / 180.0
_NDOT_UNITS = 1036800.0 / math.pi  # rev/day^2 -> rad/min^2 as in SGP4.cpp
_NDDOT_UNITS = 2985984000.0 / 2.0 / math.pi
_ANGLE_RANGES = (("INCLINATION", 180.0), ("RA_OF_ASC_NODE", 360.0), ("ARG_OF_PERICENTER", 360.0), ("MEAN_ANOMALY", 360.0))


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII only: no '1_000', no 'NaN'


def _strip_bom(text: str) -> str:
    """Drop a UTF-8 byte-order mark, which some editors write at the start of a file."""
    return text[1:] if text.startswith("\ufeff") else text


def _epoch_days(text: str) -> float:
    """OMM EPOCH (ISO, UTC, with or without fraction or 'Z') to days since 1949-12-31 00:00."""
    s = text.strip().rstrip("Zz")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            dt = datetime.strptime(s, fmt).replace(tzinfo=UTC)
            break
        except ValueError:
            continue
    else:
        raise ValueError(f"EPOCH {text!r} is not an ISO-8601 UTC time like 2025-08-16T10:15:46.460448")
    delta = dt - _EPOCH0
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400.0


def _number(fields: dict[str, Any], key: str) -> float:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"field {key} is missing")
    if isinstance(value, bool) or (isinstance(value, str) and not _DECIMAL.fullmatch(value.strip())):
        raise ValueError(f"field {key} is {value!r}, not a number")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"field {key} is {value!r}, not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"field {key} is {value!r}, not a finite number")
    return x


def record_from_fields(fields: dict[str, Any], source: str, index: int) -> ParsedRecord:
    """Build one record; raises ValueError naming the field at fault."""
    missing = [k for k in REQUIRED if k not in fields]
    if missing:
        raise ValueError(f"missing OMM field(s) {', '.join(missing)}")
    satnum_f = _number(fields, "NORAD_CAT_ID")
    if satnum_f != int(satnum_f) or not 0 < satnum_f <= 339999:
        raise ValueError(f"NORAD_CAT_ID {fields['NORAD_CAT_ID']!r} must be an integer 1..339999")
    ecc = _number(fields, "ECCENTRICITY")
    mean_motion = _number(fields, "MEAN_MOTION")
    if not 0.0 <= ecc < 1.0:
        raise ValueError(f"ECCENTRICITY {ecc} must be in [0, 1)")
    if mean_motion <= 0.0:
        raise ValueError(f"MEAN_MOTION {mean_motion} rev/day must be positive")
    for key, hi in _ANGLE_RANGES:
        angle = _number(fields, key)
        if not 0.0 <= angle <= hi:
            raise ValueError(f"{key} {angle} deg must be in 0 .. {hi:g}")
    epoch = _epoch_days(str(fields["EPOCH"]))
    sat = Satrec()
    sat.sgp4init(
        WGS72, "i", int(satnum_f), epoch,
        _number(fields, "BSTAR"),
        _number(fields, "MEAN_MOTION_DOT") / _NDOT_UNITS,
        _number(fields, "MEAN_MOTION_DDOT") / _NDDOT_UNITS,
        ecc,
        _number(fields, "ARG_OF_PERICENTER") * _DEG,
        _number(fields, "INCLINATION") * _DEG,
        _number(fields, "MEAN_ANOMALY") * _DEG,
        mean_motion / 720.0 * math.pi,
        _number(fields, "RA_OF_ASC_NODE") * _DEG,
    )
    if sat.error:
        raise ValueError(f"SGP4 rejected the elements (error {sat.error})")
    cls = str(fields.get("CLASSIFICATION_TYPE") or "U").strip() or "U"
    return ParsedRecord(
        satrec=sat,
        name=str(fields.get("OBJECT_NAME") or "").strip(),
        intl_designator=str(fields.get("OBJECT_ID") or "").strip(),
        classification=cls,
        source=source,
        line=index,
    )


def _collect(rows: Iterable[tuple[int, dict[str, Any]]], source: str) -> tuple[list[ParsedRecord], LoadReport]:
    report = LoadReport(sources=[source])
    records: list[ParsedRecord] = []
    for index, fields in rows:
        report.read += 1
        try:
            if not isinstance(fields, dict):
                raise ValueError(f"expected an object of OMM fields, found {type(fields).__name__}")
            records.append(record_from_fields(fields, source, index))
        except ValueError as exc:
            name = fields.get("OBJECT_NAME", "") if isinstance(fields, dict) else ""
            report.rejected.append(Rejection(source, index, f"{exc}; required fields: {', '.join(REQUIRED)}", str(name)))
    return records, report


def parse_omm_json(text: str, source: str = "<json>") -> tuple[list[ParsedRecord], LoadReport]:
    """CelesTrak ``FORMAT=json``: a list of OMM objects (a single object is accepted too).
    Positions in the report are 1-based record indices."""
    try:
        data = json.loads(_strip_bom(text))
    except RecursionError:
        raise InputError(f"{source}: JSON nested too deeply to be an OMM list") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError(f"{source}: OMM JSON must be a list of objects with fields such as NORAD_CAT_ID and EPOCH")
    return _collect(enumerate(data, 1), source)


def parse_omm_csv(text: str, source: str = "<csv>") -> tuple[list[ParsedRecord], LoadReport]:
    """CelesTrak ``FORMAT=csv``: a header row of OMM keywords. Positions are file line numbers."""
    reader = csv.DictReader(io.StringIO(_strip_bom(text), newline=""))
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise InputError(f"{source}:{reader.line_num}: not valid CSV ({exc}); expected CelesTrak FORMAT=csv with a header row of OMM keywords") from None
    absent = [k for k in REQUIRED if k not in (reader.fieldnames or REQUIRED)]
    if absent:
        raise InputError(
            f"{source}:1: the CSV header has no column(s) {', '.join(absent)}; expected CelesTrak FORMAT=csv "
            f"with a first row naming at least {', '.join(REQUIRED)}"
        )
    return _collect(rows, source)


def parse_omm_xml(text: str, source: str = "<xml>") -> tuple[list[ParsedRecord], LoadReport]:
    """CCSDS OMM XML (CelesTrak ``FORMAT=xml``): one ``segment`` per object."""
    try:
        root = ET.fromstring(_strip_bom(text))
    except ET.ParseError as exc:
        raise InputError(f"{source}: not well-formed XML ({exc})") from None
    if root.tag not in ("ndm", "omm") and root.find(".//segment") is None:
        raise InputError(
            f"{source}: XML root <{root.tag}> holds no OMM <segment>; expected CCSDS OMM XML "
            "(CelesTrak FORMAT=xml: <ndm><omm><body><segment>...)"
        )
    rows = []
    for k, segment in enumerate(root.iter("segment"), 1):
        fields: dict[str, Any] = {}
        for part in ("metadata", "data/meanElements", "data/tleParameters"):
            node = segment.find(part)
            if node is not None:
                fields.update((child.tag, child.text) for child in node)
        rows.append((k, fields))
    return _collect(rows, source)
