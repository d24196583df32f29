"""Regional results as Parquet files plus one DuckDB database holding the same tables, and a
``run`` table saying what produced them (also in every Parquet file's key-value metadata).
Times are ``timestamp[ns, UTC]``; values that do not apply are NULL, never a sentinel."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa

from leonet.coverage.regional import RegionalResult
from leonet.export.files import timestamps, write_table
from leonet.export.metadata import run_table
from leonet.export.results import overhead_column


def _h3_str(cells: np.ndarray) -> list[str]:
    return [f"{int(c):x}" for c in cells]


def result_tables(res: RegionalResult, baseline: RegionalResult | None, beam_radius_km: float) -> dict[str, pa.Table]:
    """``timeseries`` (time, region), ``cells`` (one row per cell), ``regions``, ``border``."""
    ts = res.timeseries()
    t = {"time_utc": timestamps(ts["t_ns"]), **{k: v for k, v in ts.items() if k not in ("t_ns", "sats_overhead")},
         "sats_overhead": overhead_column(ts["sats_overhead"])}
    if baseline is not None:
        t["cells_served_if_all_active"] = baseline.timeseries()["cells_served"]
    a = res.area
    cells = {
        "h3_cell": _h3_str(a.cells),
        "region": a.region,
        "lat_deg": a.lat_deg,
        "lon_deg": a.lon_deg,
        "population": a.population,
        **{f"coverage_{k}": v for k, v in res.coverage_fom.as_columns().items()},
        **{f"service_{k}": v for k, v in res.service_fom.as_columns().items()},
    }
    regions = res.region_summary()
    border = [{k: v for k, v in b.items() if k not in ("cells", "by_region")} | {"by_region": json.dumps(b["by_region"], sort_keys=True)}
              for b in res.border_effect(beam_radius_km)]
    out = {
        "timeseries": pa.table({k: v if isinstance(v, (list, pa.Array)) else np.asarray(v) for k, v in t.items()}),
        "cells": pa.table(cells),
        "regions": pa.Table.from_pylist(regions),
    }
    if border:
        out["border"] = pa.Table.from_pylist(border)
    return out


def write_tables(tables: dict[str, pa.Table], out_dir: Path, metadata: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Parquet files ``<name>.parquet`` and ``leonet.duckdb`` with one table per name; with
    ``metadata`` also a ``run`` table of it (key, value) and the same in each file's metadata."""
    import duckdb

    out_dir.mkdir(parents=True, exist_ok=True)
    if metadata:
        tables = {**tables, "run": run_table(metadata)}
    paths = {}
    for name, table in tables.items():
        p = out_dir / f"{name}.parquet"
        write_table(table, p, "parquet", metadata=metadata)
        paths[name] = p
    db_path = out_dir / "leonet.duckdb"
    tmp = db_path.with_suffix(".duckdb.tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for name, p in paths.items():
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(p)])
    finally:
        con.close()
    tmp.replace(db_path)  # a reader never sees a half-written database
    paths["duckdb"] = db_path
    return paths
