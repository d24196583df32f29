"""Write propagated states as one row per (satellite, time), streamed in satellite blocks.

Columns: ``norad_id,time_utc,x_km,y_km,z_km`` (itrf, teme) or ``norad_id,time_utc,lat_deg,
lon_deg,alt_km`` (geodetic), then ``error``: empty for good rows, else the SGP4 code and its
message (the coordinates of such rows are empty). Times are ISO-8601 UTC with 'Z'.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leonet.errors import InputError
from leonet.export.files import timestamps
from leonet.orbits.frames import itrf_to_geodetic
from leonet.orbits.propagate import ERROR_MESSAGES, States
from leonet.times import format_time

FORMATS = ("csv", "parquet")
BLOCK_ROWS = 500_000


def columns_for(frame: str) -> list[str]:
    coords = ["lat_deg", "lon_deg", "alt_km"] if frame == "geodetic" else ["x_km", "y_km", "z_km"]
    return ["norad_id", "time_utc", *coords, "error"]


def write_states(states: States, norad_id: np.ndarray, path: str | Path, fmt: str, frame: str, metadata: Mapping[str, str] | None = None) -> int:
    """Write ``states`` (in 'teme' or 'itrf'; 'geodetic' is derived from 'itrf') to ``path``.
    In Parquet ``time_utc`` is ``timestamp[ns, UTC]``, ``error`` NULL for good rows, and
    ``metadata`` goes into the file's key-value metadata. Returns the number of rows written."""
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if frame == "geodetic" and states.frame != "itrf":
        raise InputError("geodetic output needs ITRF states")
    n, m = states.shape
    times = timestamps(states.t_ns) if fmt == "parquet" else pa.array(format_time(states.t_ns))
    names = columns_for(frame)
    codes = sorted(c for c in ERROR_MESSAGES if c)
    messages = np.array([""] + [f"{c}: {ERROR_MESSAGES[c]}" for c in codes], dtype=object)
    code_to_row = np.zeros(256, dtype=np.int64)
    code_to_row[codes] = np.arange(1, len(codes) + 1)
    schema = pa.schema([("norad_id", pa.int64()), ("time_utc", times.type)] + [(c, pa.float64()) for c in names[2:5]] + [("error", pa.string())],
                       metadata={str(k): str(v) for k, v in (metadata or {}).items()} or None)
    out = Path(path)
    if not out.parent.exists():
        raise InputError(f"output folder {out.parent} does not exist; create it first")
    writer = pq.ParquetWriter(out, schema) if fmt == "parquet" else pacsv.CSVWriter(out, schema)
    rows = 0
    block = max(1, BLOCK_ROWS // max(m, 1))
    try:
        for i in range(0, n, block):
            j = min(i + block, n)
            r = np.asarray(states.r_km[i:j], dtype=np.float64)
            if frame == "geodetic":
                lat, lon, alt = itrf_to_geodetic(r)
                coords = (lat, lon, alt)
            else:
                coords = (r[..., 0], r[..., 1], r[..., 2])
            err = states.error[i:j].reshape(-1)
            bad = err != 0
            cols = [pa.array(np.repeat(norad_id[i:j], m)), pa.concat_arrays([times] * (j - i))]
            for c in coords:
                flat = c.reshape(-1)
                cols.append(pa.array(flat, mask=bad | np.isnan(flat)))
            cols.append(pa.array(messages[code_to_row[err]].tolist() if bad.any() else [None] * len(err), pa.string(), mask=~bad))
            writer.write_table(pa.Table.from_arrays(cols, schema=schema))
            rows += len(err)
    finally:
        writer.close()
    return rows
