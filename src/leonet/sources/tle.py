"""Two-line element sets: 2-line and 3-line files, LF or CRLF, checked column by column.

Every malformed record is reported with its file, line number, what is wrong and the expected
column layout; nothing is dropped silently. Comment lines start with '#'. A leading header of
two integers (Hypatia's ``72 22``: planes and satellites per plane) is recognised and noted.

The layout check is deliberately strict: SGP4's own reader (``Satrec.twoline2rv``, Vallado's
C++ ``sscanf``) splits fields at blanks, so a blank inside a number (``297.3925 682``), a
non-blank separator column or a blank catalogue number would be read silently as different
elements. Such lines are rejected here instead, so every accepted record means exactly what
its columns say.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sgp4.api import Satrec

from leonet.sources.records import LoadReport, ParsedRecord, Rejection

TEMPLATE_1 = "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
TEMPLATE_2 = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN"
_LAYOUT = f"expected layout:\n    {TEMPLATE_1}\n    {TEMPLATE_2}"

# Catalogue number: digits (blank-padded on the left) or Alpha-5 (a letter other than I and O,
# then four digits: A0001 = 100001 ... Z9999 = 339999).
_CAT = r" *[0-9]+|[A-HJ-NP-Z][0-9]{4}"
_ANGLE = r" *[0-9]+\.[0-9]{4}"  # NNN.NNNN, blank-padded on the left, every decimal present
_EXP = r"[ +-][0-9]{5}[+-][0-9]"  # +NNNNN-N: sign, five mantissa digits, exponent
_INT = r" *[0-9]*"  # right-justified integer, may be blank
# (first column, last column (1-based, inclusive), field name, regex). Columns between fields
# must be blank; they are checked too.
_FIELDS_1 = [
    (1, 1, "line number", r"1"),
    (3, 7, "catalogue number", _CAT),
    (8, 8, "classification", r"[UCS ]"),
    (10, 17, "international designator", r"[ 0-9A-Z]{8}"),
    (19, 20, "epoch year", r"[0-9]{2}"),
    (21, 32, "epoch day of year", r" *[0-9]+\.[0-9]{8}"),
    (34, 43, "first derivative of mean motion", r"[ +-]\.[0-9]{8}|[ +-][0-9]\.[0-9]{7}"),
    (45, 52, "second derivative of mean motion", _EXP),
    (54, 61, "drag term (B*)", _EXP),
    (63, 63, "ephemeris type", r"[0-9 ]"),
    (65, 68, "element set number", _INT),
    (69, 69, "checksum", r"[0-9]"),
]
_FIELDS_2 = [
    (1, 1, "line number", r"2"),
    (3, 7, "catalogue number", _CAT),
    (9, 16, "inclination (deg)", _ANGLE),
    (18, 25, "right ascension of the ascending node (deg)", _ANGLE),
    (27, 33, "eccentricity (decimal point assumed)", r"[0-9]{7}"),
    (35, 42, "argument of perigee (deg)", _ANGLE),
    (44, 51, "mean anomaly (deg)", _ANGLE),
    (53, 63, "mean motion (rev/day)", r" *[0-9]+\.[0-9]{8}"),
    (64, 68, "revolution number", _INT),
    (69, 69, "checksum", r"[0-9]"),
]


def _compile(fields: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, re.Pattern[str]]]:
    out = []
    covered = set()
    for a, b, name, rx in fields:
        out.append((a, b, name, re.compile(f"(?:{rx})$")))
        covered.update(range(a, b + 1))
    blanks = [c for c in range(1, 70) if c not in covered]
    out += [(c, c, "separator (must be blank)", re.compile(" $")) for c in blanks]
    return sorted(out, key=lambda f: f[0])


_FIELDS_RE = {1: _compile(_FIELDS_1), 2: _compile(_FIELDS_2)}


def _whole_line(fields: list[tuple[int, int, str, re.Pattern[str]]]) -> re.Pattern[str]:
    """One pattern that matches a 69-column line exactly when every field's pattern matches its
    columns (``rx.match(line[a - 1:b])``): per field, a lookahead that skips ``a - 1`` columns,
    matches the field and checks that it ended at column ``b``. Well-formed lines (nearly all)
    then cost one match instead of one per field."""
    parts = [f"(?=.{{{a - 1}}}(?:{rx.pattern[:-1]})(?<=^.{{{b}}}))" for a, b, _, rx in fields]  # [:-1] drops the '$'
    return re.compile("^" + "".join(parts))


_LINE_OK = {k: _whole_line(v) for k, v in _FIELDS_RE.items()}
_HEADER = re.compile(r"^\s*\d+\s+\d+\s*$")
_BAD_CHAR = re.compile(r"[^0-9A-Z .+\-]")
_CATALOGUE_LIKE = re.compile(r"^[12] (?: *[0-9]+|[A-Z][0-9]{4})(?:[ A-Z]|$)")
_NAME_MAX = 59  # a longer line that is not line 1 or 2 is a damaged element line, not a name


def checksum(line: str) -> int:
    """TLE checksum of columns 1-68: digits summed, each '-' counts 1, modulo 10."""
    # Each character mapped to its value by one C-level translate, then summed in C (6,448
    # records x 2 lines), not looped over in Python.
    return sum(line[:68].encode("latin-1", "replace").translate(_CHECKSUM_VALUE)) % 10


#: Byte -> its value in a TLE checksum: digits their value, '-' one, everything else zero.
_CHECKSUM_VALUE = bytes(c - 48 if 48 <= c <= 57 else 1 if c == 45 else 0 for c in range(256))


@dataclass(frozen=True)
class LineProblem:
    reason: str
    repaired_line: str | None = None  # set when only the checksum is wrong


def check_line(line: str, which: int, repair_checksum: bool = False) -> LineProblem | None:
    """Check one TLE line against the fixed column layout; None when it is well formed."""
    bad = _BAD_CHAR.search(line)
    if bad:
        return LineProblem(
            f"line {which} column {bad.start() + 1} holds {bad.group()!r}; TLE lines hold only digits, "
            "capital letters, blanks, '.', '+' and '-'"
        )
    if len(line) != 69:
        return LineProblem(f"line {which} has {len(line)} characters; a TLE line has exactly 69")
    if _LINE_OK[which].match(line) is None:  # some field is wrong: find the first, for the message
        for a, b, name, rx in _FIELDS_RE[which]:
            text = line[a - 1 : b]
            if not rx.match(text):
                cols = f"column {a}" if a == b else f"columns {a}-{b}"
                return LineProblem(f"line {which} {cols} ({name}) read {text!r}, which is not valid")
    want = checksum(line)
    if int(line[68]) != want:
        fixed = line[:68] + str(want)
        msg = f"line {which} checksum is {line[68]} but the columns sum to {want}"
        return LineProblem(msg + " (repaired)" if repair_checksum else msg, fixed if repair_checksum else None)
    return None


def catalogue_number(field: str) -> int:
    """Catalogue number of columns 3-7: '25544' -> 25544, '  544' -> 544, Alpha-5 'A0001' -> 100001."""
    f = field.strip()
    if f[:1].isalpha():
        n = ord(f[0]) - ord("A") + 10
        n -= f[0] > "I"
        n -= f[0] > "O"
        return n * 10_000 + int(f[1:])
    return int(f)


def _intl_designator(field: str) -> str:
    """'19029A  ' -> '2019-029A' (two-digit years 57-99 are 19xx)."""
    f = field.strip()
    if len(f) < 5 or not f[:5].isdigit():
        return ""
    yy = int(f[:2])
    return f"{1900 + yy if yy >= 57 else 2000 + yy}-{f[2:5]}{f[5:]}"


def _split_lines(text: str) -> list[str]:
    """Lines split at LF (a CR before it is dropped); a file with CRs only (old Mac) splits at CR.

    Other characters that ``str.splitlines`` would break at (form feed, U+2028 ...) stay inside
    their line, so line numbers are those an editor shows and such bytes are reported."""
    if text.startswith("\ufeff"):
        text = text[1:]  # UTF-8 byte-order mark written by some editors
    if "\n" not in text and "\r" in text:
        return text.split("\r")
    return [s[:-1] if s.endswith("\r") else s for s in text.split("\n")]


def _kind(raw: str) -> str:
    """'1' or '2' for element lines, 'junk' for long lines that are neither, else 'name'."""
    if raw.startswith(("1 ", "2 ")) and (len(raw) > _NAME_MAX or _CATALOGUE_LIKE.match(raw)):
        return raw[0]
    if len(raw) > _NAME_MAX:
        return "junk"
    return "name"


def parse_tle_text(text: str, source: str = "<text>", repair_checksums: bool = False) -> tuple[list[ParsedRecord], LoadReport]:
    """Parse TLE text (2- or 3-line records) into records and a report (no de-duplication).

    Every record is counted in ``report.read`` and ends up either in the returned list or in
    ``report.rejected``; lines that fit no record are rejections too.
    """
    report = LoadReport(sources=[source])
    records: list[ParsedRecord] = []
    lines = _split_lines(text)
    n = len(lines)

    def content(k: int) -> int:
        """Index of the first line at or after k that is neither blank nor a comment."""
        while k < n and (not lines[k].strip() or lines[k].lstrip().startswith("#")):
            k += 1
        return k

    def reject(line_no: int, reason: str, text_: str = "") -> None:
        report.read += 1
        report.rejected.append(Rejection(source, line_no, f"{reason}; {_LAYOUT}", text_))

    name, name_line = "", 0
    i = content(0)
    first = True
    while i < n:
        raw = lines[i].rstrip()
        line_no = i + 1
        i = content(i + 1)
        if first and _HEADER.match(raw):
            report.notes.append(f"{source}:{line_no}: header {raw.strip()!r} (planes, satellites per plane) noted")
            first = False
            continue
        first = False
        kind = _kind(raw)
        after = f" (after name line {name_line} {name!r})" if name else ""
        if kind == "name":
            if name:
                reject(name_line, f"name line {name!r} is not followed by a line 1")
            name = raw[2:].strip() if raw.startswith("0 ") else raw.strip()
            name_line = line_no
            continue
        nxt = lines[i].rstrip() if i < n else ""
        nxt_kind = _kind(nxt) if i < n else ""
        if kind == "2":
            reject(line_no, f"line 2 without a line 1 before it{after}", raw)
        elif kind == "1" and nxt_kind in ("2", "junk"):
            # Line 1 and the line after it (a line 2, or a damaged one) make one record.
            rec = _make_record(raw, nxt, name, source, name_line or line_no, line_no, i + 1, repair_checksums, report)
            if rec is not None:
                records.append(rec)
            i = content(i + 1)
        elif kind == "1":
            reject(line_no, f"line 1 is not followed by a line 2{after}", raw)
        elif nxt_kind == "2":  # junk, then a line 2: a damaged line 1
            _make_record(raw, nxt, name, source, name_line or line_no, line_no, i + 1, repair_checksums, report)
            i = content(i + 1)
        else:
            hint = (
                "; TLE lines start in column 1" if raw.lstrip().startswith(("1 ", "2 ")) else ""
            )
            reject(
                line_no,
                f"line of {len(raw)} characters is neither a TLE line 1 or 2 (they start with '1 ' and '2 ') "
                f"nor a name line (at most {_NAME_MAX} characters){hint}{after}",
                raw,
            )
        name, name_line = "", 0
    if name:
        reject(name_line, f"name line {name!r} at the end of the file has no elements after it")
    return records, report


# Ranges that every element set obeys; a value outside them is a damaged record.
_RANGES = (
    ("inclination (deg)", "inclo", 0.0, 180.0, True),
    ("right ascension of the ascending node (deg)", "nodeo", 0.0, 360.0, True),
    ("argument of perigee (deg)", "argpo", 0.0, 360.0, True),
    ("mean anomaly (deg)", "mo", 0.0, 360.0, True),
)


def _make_record(
    line1: str, line2: str, name: str, source: str, rec_line: int, l1_no: int, l2_no: int, repair: bool, report: LoadReport
) -> ParsedRecord | None:
    report.read += 1
    repaired: list[str] = []

    def reject(line_no: int, reason: str, text: str) -> None:
        report.rejected.append(Rejection(source, line_no, f"{reason}; {_LAYOUT}", text))

    for which, line, line_no in ((1, line1, l1_no), (2, line2, l2_no)):
        prob = check_line(line, which, repair)
        if prob is None:
            continue
        if prob.repaired_line is not None:
            repaired.append(f"{source}:{line_no}: {prob.reason}")
            if which == 1:
                line1 = prob.repaired_line
            else:
                line2 = prob.repaired_line
            continue
        hint = "" if "checksum" not in prob.reason else " (pass repair_checksums / --repair-checksums to fix)"
        reject(line_no, f"{prob.reason}{hint}", line)
        return None
    cat1, cat2 = catalogue_number(line1[2:7]), catalogue_number(line2[2:7])
    if cat1 != cat2:
        reject(l1_no, f"catalogue numbers differ between line 1 ({line1[2:7]!r}) and line 2 ({line2[2:7]!r})", line1)
        return None
    day = float(line1[20:32])
    if not 1.0 <= day < 367.0:
        reject(l1_no, f"line 1 columns 21-32 (epoch day of year) read {day}, which is not in 1 .. 366.99999999", line1)
        return None
    try:
        sat = Satrec.twoline2rv(line1, line2)
    except Exception as exc:  # the C++ parser's own complaint, kept verbatim
        reject(l1_no, f"SGP4 could not read the elements: {exc}", line1)
        return None
    for label, attr, lo, hi, degrees in _RANGES:
        value = getattr(sat, attr)
        value = math.degrees(value) if degrees else value
        if not lo <= round(value, 6) <= hi:
            reject(l2_no, f"line 2 {label} is {value:.4f}, outside {lo:g} .. {hi:g}", line2)
            return None
    if not (sat.no_kozai > 0.0 and 0.0 <= sat.ecco < 1.0):
        reject(l2_no, f"mean motion {sat.no_kozai} rad/min and eccentricity {sat.ecco} are not an orbit", line2)
        return None
    if sat.error:
        # A well-formed record whose orbit SGP4 cannot propagate is data, not a bad record: it
        # loads, and propagation reports the error code with NaN states for it.
        report.notes.append(f"{source}:{l1_no}: SGP4 fails at this record's epoch (error code {sat.error}); it will propagate to NaN")
    report.repaired.extend(repaired)
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
