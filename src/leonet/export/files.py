"""Write one table to a file or a stream: CSV or Parquet, atomically (a reader never sees half a
file); and JSON documents the same way."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leonet.errors import InputError

TABLE_FORMATS = ("csv", "parquet")
CSV_QUOTING = ("strings", "minimal")


def write_table(table: pa.Table, path: str | Path | TextIO, fmt: str, *, quoting: str = "strings", decimals: Mapping[str, int] | None = None) -> int:
    """Write ``table`` to ``path`` as ``fmt`` ('csv' or 'parquet'); returns the rows written.

    The file is written beside its final name and renamed into place, so an interrupted run
    leaves no partial output under the final name. ``path`` may also be an open text stream
    (e.g. stdout; CSV only), written directly.

    CSV only: ``quoting`` 'strings' (Arrow's writer) quotes the header and every text value;
    'minimal' quotes only values holding a comma, a quote or a line break (RFC 4180), for
    listings read by eye or split on commas. ``decimals`` ({column: digits}, 'minimal' only)
    writes those float columns with a fixed number of decimals (NaN and nulls as empty cells).
    """
    if fmt not in TABLE_FORMATS:
        raise InputError(f"format {fmt!r} is not one of {', '.join(TABLE_FORMATS)}")
    if quoting not in CSV_QUOTING:
        raise InputError(f"CSV quoting {quoting!r} is not one of {', '.join(CSV_QUOTING)}")
    unknown = sorted(set(decimals or {}) - set(table.column_names))
    if unknown:
        raise InputError(f"decimals names columns {unknown} that the table does not have ({', '.join(table.column_names)})")
    if decimals and quoting != "minimal":
        raise InputError("decimals applies to CSV written with quoting='minimal'")
    if not isinstance(path, (str, Path)):
        if fmt != "csv":
            raise InputError(f"{fmt} output needs a file name, not a stream")
        _write_csv(table, path, quoting, decimals)
        return table.num_rows
    out = Path(path)

    def write(tmp: Path) -> None:
        if fmt == "parquet":
            pq.write_table(table, tmp)
        elif quoting == "strings":
            pacsv.write_csv(table, tmp)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                _write_csv(table, fh, quoting, decimals)

    _atomic(out, write)
    return table.num_rows


def write_json(doc: Any, path: str | Path | TextIO, default: Callable[[Any], Any] | None = None) -> None:
    """Write ``doc`` as indented JSON to a file (atomically) or an open text stream (with a final
    newline, as a terminal expects). ``default``: as :func:`json.dumps`'s, for values JSON lacks."""
    text = json.dumps(doc, indent=2, default=default)
    if not isinstance(path, (str, Path)):
        path.write(text + "\n")
        return
    _atomic(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _atomic(out: Path, write: Callable[[Path], object]) -> None:
    if not out.parent.is_dir():
        raise InputError(f"output folder {out.parent} does not exist; create it first")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def _write_csv(table: pa.Table, fh: TextIO, quoting: str, decimals: Mapping[str, int] | None) -> None:
    if quoting == "strings":
        buf = pa.BufferOutputStream()
        pacsv.write_csv(table, buf)
        fh.write(buf.getvalue().to_pybytes().decode("utf-8"))
        return
    digits = decimals or {}
    columns = []
    for name, col in zip(table.column_names, table.columns):
        values = col.to_pylist()
        if name in digits:
            d = digits[name]
            values = ["" if v is None or v != v else f"{v:.{d}f}" for v in values]
        columns.append(values)
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(table.column_names)
    w.writerows(zip(*columns))
