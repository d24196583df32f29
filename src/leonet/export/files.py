"""Write one table to a file or a stream: CSV or Parquet, atomically (a reader never sees half a
file); and JSON documents the same way."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leonet.errors import InputError
from leonet.times import format_time

TABLE_FORMATS = ("csv", "parquet")
CSV_QUOTING = ("strings", "minimal")


def write_table(table: pa.Table, path: str | Path | TextIO, fmt: str, *, quoting: str = "strings", decimals: Mapping[str, int] | None = None,
                metadata: Mapping[str, str] | None = None) -> int:
    """Write ``table`` to ``path`` as ``fmt`` ('csv' or 'parquet'); returns the rows written.

    The file is written beside its final name and renamed into place, so an interrupted run
    leaves no partial output under the final name. ``path`` may also be an open text stream
    (e.g. stdout; CSV only), written directly.

    CSV only: ``quoting`` 'strings' (Arrow's writer) quotes the header and every text value;
    'minimal' quotes only values holding a comma, a quote or a line break (RFC 4180), for
    listings read by eye or split on commas. ``decimals`` ({column: digits}, 'minimal' only)
    writes those float columns with a fixed number of decimals (NaN and nulls as empty cells).
    Timestamp columns are ``timestamp[ns, UTC]`` in Parquet and ISO-8601 text with 'Z' in CSV.
    ``metadata`` (e.g. :func:`leonet.export.metadata.run_metadata`) goes into the Parquet
    file's key-value metadata; CSV has no place for it.
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
    if fmt == "csv":
        table = csv_ready(table)
    elif metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{str(k): str(v) for k, v in metadata.items()}})
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
                _python_csv(table, fh, decimals or {})

    if fmt == "csv" and quoting != "strings" and (plain := _plain_csv(table, decimals or {})) is not None:
        write_chunks(plain, out)  # the compiled formatter's bytes, as they are
    else:
        _atomic(out, write)
    return table.num_rows


def csv_ready(table: pa.Table) -> pa.Table:
    """``table`` with its timestamp columns as ISO-8601 UTC text ('2024-10-23T00:00:00Z', to the
    column's unit where it has a fraction), the form every CSV reader and person reads alike."""
    cols = []
    for field, col in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type):
            ns = col.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
            unit = None if field.type.unit == "ns" else field.type.unit
            text = np.atleast_1d(format_time(ns, unit)) if len(ns) else np.zeros(0, object)
            col = pa.array(text.tolist(), pa.string(), mask=col.is_null().to_numpy(zero_copy_only=False) if col.null_count else None)
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def timestamps(t_ns: np.ndarray, unit: str = "ns") -> pa.Array:
    """UTC ns as an Arrow ``timestamp[unit, UTC]`` column (``unit`` 's', 'ms', 'us' or 'ns')."""
    arr = pa.array(np.asarray(t_ns, dtype=np.int64), pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    return arr if unit == "ns" else arr.cast(pa.timestamp(unit, tz="UTC"), safe=False)


def write_json(doc: Any, path: str | Path | TextIO, default: Callable[[Any], Any] | None = None) -> None:
    """Write ``doc`` as indented JSON to a file (atomically) or an open text stream (with a final
    newline, as a terminal expects). ``default``: as :func:`json.dumps`'s, for values JSON lacks."""
    text = json.dumps(doc, indent=2, default=default)
    if not isinstance(path, (str, Path)):
        path.write(text + "\n")
        return
    _atomic(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_text(text: str, path: str | Path) -> None:
    """Write ``text`` (UTF-8) to a file atomically (beside its final name, then renamed)."""
    _atomic(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_chunks(chunks: Iterable[bytes | np.ndarray], path: str | Path) -> None:
    """Write byte chunks (``bytes`` or uint8 arrays) one after another to a file atomically;
    ``chunks`` may be a generator (each chunk is written before the next is asked for)."""
    with atomic_binary(path) as fh:
        for c in chunks:
            fh.write(c)


@contextmanager
def atomic_binary(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file written atomically: the block writes to the open file (beside ``path``,
    under a temporary name), which takes the name ``path`` when the block ends, and is removed
    if it raises."""
    with _replacing(Path(path)) as tmp, open(tmp, "wb") as fh:
        yield fh


def _atomic(out: Path, write: Callable[[Path], object]) -> None:
    with _replacing(out) as tmp:
        write(tmp)


@contextmanager
def _replacing(out: Path) -> Iterator[Path]:
    """A temporary path beside ``out`` that replaces ``out`` once the block succeeds."""
    if not out.parent.is_dir():
        raise InputError(f"output folder {out.parent} does not exist; create it first")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        yield tmp
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
    plain = _plain_csv(table, digits)
    if plain is not None:
        fh.write(plain[0].decode("utf-8") + plain[1].tobytes().decode("utf-8"))
        return
    _python_csv(table, fh, digits)


def _python_csv(table: pa.Table, fh: TextIO, digits: Mapping[str, int]) -> None:
    """Minimal-quoting CSV through Python's csv module: the form :func:`_plain_csv` reproduces,
    for the tables it declines (text that needs quoting)."""
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


def _plain_csv(table: pa.Table, digits: Mapping[str, int]) -> tuple[bytes, np.ndarray] | None:
    """The minimal-quoting CSV of :func:`_write_csv`, byte for byte, as (header, rows (B,) uint8), formatted in compiled code
    (:func:`leonet.export.text.csv_rows`) when no value needs quotes: integers and text as
    Python writes them, ``digits`` columns as ``f"{v:.{d}f}"``, nulls (and NaN) empty. Columns
    of other types, a value or name with a comma, quote or line break, or a float outside the
    compiled formatter's range leave it to Python's csv (returns None)."""
    from leonet.export import text as tx

    if any(c in name for name in table.column_names for c in ',"\r\n'):
        return None
    rows = table.num_rows
    kind, index = [], []
    ints, int_valid, floats, places, offsets, texts, text_valid = [], [], [], [], [], [], []
    base = 0
    for name, chunked in zip(table.column_names, table.columns):
        col = chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
        t = col.type
        if name in digits and pa.types.is_floating(t) and digits[name] <= tx.MAX_DECIMALS:
            kind.append(tx.FLOAT)
            index.append(len(floats))
            floats.append(col.cast(pa.float64()).to_numpy(zero_copy_only=False))  # nulls become NaN: empty either way
            places.append(int(digits[name]))
        elif pa.types.is_integer(t):
            if pa.types.is_uint64(t) and col.null_count < len(col) and pc.max(col).as_py() >= 2**63:
                return None
            kind.append(tx.INT)
            index.append(len(ints))
            ints.append(pc.fill_null(col, 0).cast(pa.int64()).to_numpy(zero_copy_only=False))
            int_valid.append(col.is_valid().to_numpy(zero_copy_only=False))
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            big = pa.concat_arrays([col.cast(pa.large_string())])  # offset 0, int64 offsets
            _, off_buf, data_buf = big.buffers()
            kind.append(tx.TEXT)
            index.append(len(offsets))
            offsets.append(np.frombuffer(off_buf, np.int64, rows + 1) + base if rows else np.zeros(1, np.int64))
            data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
            texts.append(data)
            base += data.size
            text_valid.append(big.is_valid().to_numpy(zero_copy_only=False))
        else:
            return None

    def stack(parts: list, dtype: type, width: int) -> np.ndarray:
        return np.ascontiguousarray(np.stack(parts).astype(dtype, copy=False)) if parts else np.zeros((0, width), dtype)

    body, ok = tx.csv_rows(rows, np.array(kind, np.int64), np.array(index, np.int64), stack(ints, np.int64, rows), stack(int_valid, np.bool_, rows),
                           stack(floats, np.float64, rows), np.array(places, np.int64), stack(offsets, np.int64, rows + 1),
                           np.concatenate(texts) if texts else np.zeros(0, np.uint8), stack(text_valid, np.bool_, rows))
    if not ok:
        return None
    return (",".join(table.column_names) + "\n").encode("utf-8"), body
