"""Write one table to a file: CSV or Parquet, atomically (a reader never sees half a file)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leonet.errors import InputError

TABLE_FORMATS = ("csv", "parquet")


def write_table(table: pa.Table, path: str | Path, fmt: str) -> int:
    """Write ``table`` to ``path`` as ``fmt`` ('csv' or 'parquet'); returns the rows written.

    The file is written beside its final name and renamed into place, so an interrupted run
    leaves no partial output under the final name."""
    if fmt not in TABLE_FORMATS:
        raise InputError(f"format {fmt!r} is not one of {', '.join(TABLE_FORMATS)}")
    out = Path(path)
    if not out.parent.is_dir():
        raise InputError(f"output folder {out.parent} does not exist; create it first")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        if fmt == "csv":
            pacsv.write_csv(table, tmp)
        else:
            pq.write_table(table, tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return table.num_rows
