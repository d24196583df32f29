"""Load element sets from files, URLs, CelesTrak groups or filed-shell presets.

``load('file.tle')``, ``load('celestrak:starlink')``, ``load('https://...')`` and
``load('preset:starlink-gen1')`` all return a :class:`~leonet.Constellation` whose ``report``
says how many records were read, rejected (with reasons) and dropped as duplicates.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from leonet.errors import DataNotFoundError, InputError
from leonet.paths import data_dir
from leonet.sources.constellation import Constellation, concat
from leonet.sources.omm import parse_omm_csv, parse_omm_json, parse_omm_xml
from leonet.sources.records import LoadReport, ParsedRecord
from leonet.sources.tle import parse_tle_text

FORMATS = ("tle", "omm-json", "omm-xml", "omm-csv")


def sniff_format(text: str, name: str = "") -> str:
    """Guess the element-set format from a file name and its first characters."""
    low = name.lower().removesuffix(".gz")
    if low.endswith((".tle", ".txt", ".3le", ".2le")):
        return "tle"
    if low.endswith(".json"):
        return "omm-json"
    if low.endswith(".xml"):
        return "omm-xml"
    if low.endswith(".csv"):
        return "omm-csv"
    head = text.lstrip()[:200]
    if head.startswith(("[", "{")):
        return "omm-json"
    if head.startswith("<"):
        return "omm-xml"
    if "NORAD_CAT_ID" in head.splitlines()[0] if head else False:
        return "omm-csv"
    return "tle"


def parse_text(text: str, source: str, fmt: str | None = None, repair_checksums: bool = False) -> tuple[list[ParsedRecord], LoadReport]:
    fmt = fmt or sniff_format(text, source)
    if fmt == "tle":
        return parse_tle_text(text, source, repair_checksums)
    if fmt == "omm-json":
        return parse_omm_json(text, source)
    if fmt == "omm-xml":
        return parse_omm_xml(text, source)
    if fmt == "omm-csv":
        return parse_omm_csv(text, source)
    raise InputError(f"unknown element-set format {fmt!r}; use one of {', '.join(FORMATS)}")


def load_file(path: str | Path, fmt: str | None = None, repair_checksums: bool = False) -> Constellation:
    """Load one TLE/OMM file (optionally gzip-compressed)."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{str(p)!r} is a folder, not an element-set file; name a TLE/OMM file inside it")
    if not p.is_file():
        hint = f" (reference data lives in {data_dir()}; set LEONET_DATA_DIR to change that)" if not p.is_absolute() else ""
        raise DataNotFoundError(f"element-set file {str(p)!r} not found{hint}")
    raw = p.read_bytes()
    if p.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{p}: not a readable gzip file ({exc or 'truncated'}); give the element set itself or a valid .gz") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{p}:{line}: byte {raw[exc.start]:#04x} is not UTF-8 text; is this an element-set file?") from None
    records, report = parse_text(text, str(p), fmt, repair_checksums)
    return Constellation.from_records(records, report, label=p.stem)


def load(
    sources: str | Path | list[str | Path],
    fmt: str | None = None,
    repair_checksums: bool = False,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    epoch: str | int | None = None,
) -> Constellation:
    """Load and join element sets from files, ``celestrak:GROUP``, ``http(s)://`` URLs and
    ``preset:NAME`` filed shells (generated at ``epoch``, default the presets' own). A catalogue
    number seen twice keeps its newest epoch."""
    items = sources if isinstance(sources, list) else [sources]
    if not items:
        raise InputError("no element sets given: name a TLE/OMM file, a URL, celestrak:GROUP or preset:NAME")
    parts = [_load_one(str(s), fmt, repair_checksums, cache_dir, refresh, epoch) for s in items]
    return parts[0] if len(parts) == 1 else concat(parts)


def _load_one(src: str, fmt: str | None, repair: bool, cache_dir: str | Path | None, refresh: bool, epoch: str | int | None) -> Constellation:
    if src.startswith("preset:"):
        from leonet.sources.walker import DEFAULT_EPOCH, preset_constellation

        return preset_constellation(src.split(":", 1)[1], epoch=DEFAULT_EPOCH if epoch is None else epoch)
    if src.startswith(("celestrak:", "http://", "https://")):
        from leonet.sources.fetch import fetch

        got = fetch(src, cache_dir=cache_dir, refresh=refresh)
        raw = Path(got.path).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InputError(f"{got.url} (cached at {got.path}), line {line}: byte {raw[exc.start]:#04x} is not UTF-8 text") from None
        records, report = parse_text(text, got.url, fmt, repair)
        if got.stale:
            report.notes.append(f"{got.url}: served from a stale cache copy (download failed)")
        return Constellation.from_records(records, report, label=src)
    return load_file(src, fmt, repair)
