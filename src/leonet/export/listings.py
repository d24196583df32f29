"""Listings the command line writes as CSV, one row per item: satellites overhead and access
windows. ``*_table`` builds the Arrow table (for notebooks, Parquet, pandas); ``write_*`` writes
it with :func:`leonet.export.files.write_table` in the CLI's plain CSV dialect."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import numpy as np
import pyarrow as pa

from leonet.export.files import write_table
from leonet.imaging.access import AccessWindows
from leonet.times import format_time

OVERHEAD_COLUMNS = ("norad_id", "name", "azimuth_deg", "elevation_deg", "range_km", "altitude_km", "state")  # state last: earlier columns keep their places
ACCESS_COLUMNS = ("target", "norad_id", "start_utc", "end_utc", "max_elevation_deg")


def overhead_table(rows: list[dict]) -> pa.Table:
    """Rows of :func:`leonet.coverage.overhead.overhead` as a table of :data:`OVERHEAD_COLUMNS`."""
    types = {"norad_id": pa.int64(), "name": pa.string(), "state": pa.string()}
    return pa.table({k: pa.array([r[k] for r in rows], types.get(k, pa.float64())) for k in OVERHEAD_COLUMNS})


def write_overhead_csv(rows: list[dict], out: str | Path | TextIO) -> int:
    """Write the overhead rows as CSV (values as computed, already rounded); returns the rows."""
    return write_table(overhead_table(rows), out, "csv", quoting="minimal")


def access_table(windows: AccessWindows, norad_id: np.ndarray, target_name: np.ndarray) -> pa.Table:
    """One row per access window, in the windows' order (by start): :data:`ACCESS_COLUMNS`, times
    ISO-8601 UTC to the ms. ``norad_id`` (sats,) and ``target_name`` (targets,) are indexed by
    the windows' satellite and target rows."""
    return pa.table({
        "target": pa.array(np.asarray(target_name)[windows.target].astype(str), pa.string()),
        "norad_id": pa.array(np.asarray(norad_id, dtype=np.int64)[windows.sat_index], pa.int64()),
        "start_utc": pa.array(np.asarray(format_time(windows.start_ns, "ms"), dtype=str), pa.string()),
        "end_utc": pa.array(np.asarray(format_time(windows.end_ns, "ms"), dtype=str), pa.string()),
        "max_elevation_deg": pa.array(np.asarray(windows.max_elevation_deg, dtype=np.float64), pa.float64()),
    })


def write_access_csv(windows: AccessWindows, norad_id: np.ndarray, target_name: np.ndarray, out: str | Path | TextIO) -> int:
    """Write :func:`access_table` as CSV, elevations to 4 decimals; returns the rows."""
    return write_table(access_table(windows, norad_id, target_name), out, "csv", quoting="minimal", decimals={"max_elevation_deg": 4})


__all__ = ["ACCESS_COLUMNS", "OVERHEAD_COLUMNS", "access_table", "overhead_table", "write_access_csv", "write_overhead_csv"]
