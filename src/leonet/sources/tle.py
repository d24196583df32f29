"""Two-line element sets: 2-line and 3-line files, LF or CRLF, checked column by column.

Every malformed record is reported with its file, line number, what is wrong and the expected
column layout; nothing is dropped silently. Comment lines start with '#'. A leading header of
two integers (Hypatia's ``72 22``: planes and satellites per plane) is recognised and noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sgp4.api import Satrec

from leonet.sources.records import LoadReport, ParsedRecord, Rejection

TEMPLATE_1 = "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
TEMPLATE_2 = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN"
_LAYOUT = f"expected layout:\n    {TEMPLATE_1}\n    {TEMPLATE_2}"

_CAT = r"[0-9A-Z][0-9]{4}|[ 0-9]{5}"
_EXP = r"[ +-][0-9 ]{5}[+-][0-9]"
# (first column, last column (1-based, inclusive), field name, regex)
_FIELDS_1 = [
    (1, 1, "line number", r"1"),
    (3, 7, "catalogue number", _CAT),
    (8, 8, "classification", r"[UCS ]"),
    (10, 17, "international designator", r"[ 0-9A-Z]{8}"),
    (19, 32, "epoch (YYDDD.DDDDDDDD)", r"[ 0-9]{2}[ 0-9]{3}\.[0-9 ]{8}"),
    (34, 43, "first derivative of mean motion", r"[ +-]\.[0-9]{8}|[ +-][0-9 ]\.[0-9 ]{7}"),
    (45, 52, "second derivative of mean motion", _EXP),
    (54, 61, "drag term (B*)", _EXP),
    (63, 63, "ephemeris type", r"[0-9 ]"),
    (65, 68, "element set number", r"[ 0-9]{4}"),
    (69, 69, "checksum", r"[0-9]"),
]
_FIELDS_2 = [
    (1, 1, "line number", r"2"),
    (3, 7, "catalogue number", _CAT),
    (9, 16, "inclination (deg)", r"[ 0-9]{3}\.[0-9 ]{4}"),
    (18, 25, "right ascension of the ascending node (deg)", r"[ 0-9]{3}\.[0-9 ]{4}"),
    (27, 33, "eccentricity (decimal point assumed)", r"[0-9 ]{7}"),
    (35, 42, "argument of perigee (deg)", r"[ 0-9]{3}\.[0-9 ]{4}"),
    (44, 51, "mean anomaly (deg)", r"[ 0-9]{3}\.[0-9 ]{4}"),
    (53, 63, "mean motion (rev/day)", r"[ 0-9]{2}\.[0-9 ]{8}"),
    (64, 68, "revolution number", r"[ 0-9]{5}"),
    (69, 69, "checksum", r"[0-9]"),
]
_FIELDS_RE = {
    id(fields): [(a, b, name, re.compile(f"(?:{rx})$")) for a, b, name, rx in fields]
    for fields in (_FIELDS_1, _FIELDS_2)
}
_HEADER = re.compile(r"^\s*\d+\s+\d+\s*$")


def checksum(line: str) -> int:
    """TLE checksum of columns 1-68: digits summed, each '-' counts 1, modulo 10."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


@dataclass(frozen=True)
class LineProblem:
    reason: str
    repaired_line: str | None = None  # set when only the checksum is wrong


def check_line(line: str, which: int, repair_checksum: bool = False) -> LineProblem | None:
    """Check one TLE line against the fixed column layout; None when it is well formed."""
    fields = _FIELDS_1 if which == 1 else _FIELDS_2
    if len(line) != 69:
        return LineProblem(f"line {which} has {len(line)} characters; a TLE line has exactly 69")
    for a, b, name, rx in _FIELDS_RE[id(fields)]:
        text = line[a - 1 : b]
        if not rx.match(text):
            return LineProblem(f"line {which} columns {a}-{b} ({name}) read {text!r}, which is not valid")
    want = checksum(line)
    if int(line[68]) != want:
        fixed = line[:68] + str(want)
        msg = f"line {which} checksum is {line[68]} but the columns sum to {want}"
        return LineProblem(msg + " (repaired)" if repair_checksum else msg, fixed if repair_checksum else None)
    return None


def _intl_designator(field: str) -> str:
    """'19029A  ' -> '2019-029A' (two-digit years 57-99 are 19xx)."""
    f = field.strip()
    if len(f) < 5 or not f[:5].isdigit():
        return ""
    yy = int(f[:2])
    return f"{1900 + yy if yy >= 57 else 2000 + yy}-{f[2:5]}{f[5:]}"


def parse_tle_text(text: str, source: str = "<text>", repair_checksums: bool = False) -> tuple[list[ParsedRecord], LoadReport]:
    """Parse TLE text (2- or 3-line records) into records and a report (no de-duplication)."""
    report = LoadReport(sources=[source])
    records: list[ParsedRecord] = []
    lines = text.splitlines()
    i, n = 0, len(lines)
    name, name_line = "", 0
    first_content = True
    while i < n:
        raw = lines[i].rstrip()
        i += 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if first_content and _HEADER.match(raw):
            report.notes.append(f"{source}:{i}: header {raw.strip()!r} (planes, satellites per plane) noted")
            first_content = False
            continue
        first_content = False
        if raw.startswith("1 ") and len(raw) >= 60:
            # Pair with the next non-blank line.
            j = i
            while j < n and not lines[j].strip():
                j += 1
            line1, l1_no = raw, i
            line2 = lines[j].rstrip() if j < n else ""
            report.read += 1
            if not line2.startswith("2 "):
                report.rejected.append(
                    Rejection(source, l1_no, f"line 1 is not followed by a line 2; {_LAYOUT}", line1)
                )
                name = ""
                continue
            i = j + 1
            rec = _make_record(line1, line2, name or "", source, name_line or l1_no, l1_no, repair_checksums, report)
            if rec is not None:
                records.append(rec)
            name, name_line = "", 0
            continue
        if raw.startswith("2 ") and len(raw) >= 60:
            report.read += 1
            report.rejected.append(Rejection(source, i, f"line 2 without a line 1 before it; {_LAYOUT}", raw))
            name = ""
            continue
        if name:
            # Two name lines in a row: the first one had no elements after it.
            report.read += 1
            report.rejected.append(
                Rejection(source, name_line, f"name line {name!r} is not followed by a line 1; {_LAYOUT}")
            )
        name = raw[2:].strip() if raw.startswith("0 ") else raw.strip()
        name_line = i
    if name:
        report.read += 1
        report.rejected.append(Rejection(source, name_line, f"name line {name!r} at the end of the file has no elements"))
    return records, report


def _make_record(
    line1: str, line2: str, name: str, source: str, rec_line: int, l1_no: int, repair: bool, report: LoadReport
) -> ParsedRecord | None:
    for which, line in ((1, line1), (2, line2)):
        prob = check_line(line, which, repair)
        if prob is None:
            continue
        if prob.repaired_line is not None:
            report.repaired.append(f"{source}:{l1_no + which - 1}: {prob.reason}")
            if which == 1:
                line1 = prob.repaired_line
            else:
                line2 = prob.repaired_line
            continue
        hint = "" if "checksum" not in prob.reason else " (pass repair_checksums / --repair-checksums to fix)"
        report.rejected.append(
            Rejection(source, l1_no + which - 1, f"{prob.reason}{hint}; {_LAYOUT}", line)
        )
        return None
    if line1[2:7] != line2[2:7]:
        report.rejected.append(
            Rejection(source, l1_no, f"catalogue numbers differ between line 1 ({line1[2:7]!r}) and line 2 ({line2[2:7]!r})")
        )
        return None
    try:
        sat = Satrec.twoline2rv(line1, line2)
    except Exception as exc:  # the C++ parser's own complaint, kept verbatim
        report.rejected.append(Rejection(source, l1_no, f"SGP4 could not read the elements: {exc}", line1))
        return None
    if not (sat.no_kozai > 0.0 and 0.0 <= sat.ecco < 1.0):
        report.rejected.append(
            Rejection(source, l1_no, f"mean motion {sat.no_kozai} rad/min and eccentricity {sat.ecco} are not an orbit", line2)
        )
        return None
    return ParsedRecord(
        satrec=sat,
        name=name,
        intl_designator=_intl_designator(line1[9:17]),
        classification=line1[7].strip() or "U",
        source=source,
        line=rec_line,
        line1=line1,
        line2=line2,
    )
