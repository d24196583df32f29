"""Regional results as Parquet files plus one DuckDB database holding the same tables, and a
``run`` table saying what produced them (also in every Parquet file's key-value metadata).
Times are ``timestamp[ns, UTC]``; values that do not apply are NULL, never a sentinel."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa

from leonet.coverage.regional import RegionalFigures, RegionalResult
from leonet.export.files import timestamps, write_table
from leonet.export.metadata import run_table
from leonet.export.results import overhead_column


def h3_hex(cells: np.ndarray) -> list[str]:
    """H3 cell ids as the lower-case hex strings h3 itself prints."""
    return [f"{int(c):x}" for c in cells]


def result_tables(res: RegionalResult, baseline: RegionalResult | None, beam_radius_km: float) -> dict[str, pa.Table]:
    """``timeseries`` (time, region), ``cells`` (one row per cell), ``regions``, ``border``."""
    ts = res.timeseries()
    served_all = baseline.timeseries()["cells_served"] if baseline is not None else None
    return {"timeseries": timeseries_table(ts, served_all), **figure_tables(res, beam_radius_km)}


def timeseries_table(ts: dict[str, np.ndarray], cells_served_if_all_active: np.ndarray | None = None) -> pa.Table:
    """The ``timeseries`` table of :meth:`~leonet.coverage.regional.RegionalResult.timeseries`
    rows (or :func:`~leonet.coverage.regional.timeseries_rows`, one time chunk's): ``time_utc``
    first, ``sats_overhead`` null outside targets, and ``cells_served_if_all_active`` when given."""
    t = {"time_utc": timestamps(ts["t_ns"]), **{k: v for k, v in ts.items() if k not in ("t_ns", "sats_overhead")},
         "sats_overhead": overhead_column(ts["sats_overhead"])}
    if cells_served_if_all_active is not None:
        t["cells_served_if_all_active"] = cells_served_if_all_active
    return pa.table({k: v if isinstance(v, (list, pa.Array)) else np.asarray(v) for k, v in t.items()})


def figure_tables(res: RegionalFigures, beam_radius_km: float) -> dict[str, pa.Table]:
    """``cells`` (one row per cell: figures of merit, population), ``regions`` (the region
    summaries) and, when a region is inactive at some instant, ``border``: the tables that need
    no ``(cells, times)`` arrays, so a chunked run's merged result writes them too."""
    regions = res.region_summary()
    border = [{k: v for k, v in b.items() if k not in ("cells", "by_region")} | {"by_region": json.dumps(b["by_region"], sort_keys=True)}
              for b in res.border_effect(beam_radius_km)]
    out = {"cells": cells_table(res), "regions": pa.Table.from_pylist(regions)}
    if border:
        out["border"] = pa.Table.from_pylist(border)
    return out


def cells_table(res: RegionalFigures) -> pa.Table:
    """One row per cell: ``h3_cell`` (hex), ``region``, ``lat_deg``, ``lon_deg``,
    ``population``, then the coverage (``coverage_*``) and service (``service_*``) figures of
    merit of :class:`~leonet.coverage.fom.FiguresOfMerit`."""
    a = res.area
    return pa.table({
        "h3_cell": h3_hex(a.cells),
        "region": a.region,
        "lat_deg": a.lat_deg,
        "lon_deg": a.lon_deg,
        "population": a.population,
        **{f"coverage_{k}": v for k, v in res.coverage_fom.as_columns().items()},
        **{f"service_{k}": v for k, v in res.service_fom.as_columns().items()},
    })


def write_tables(tables: dict[str, pa.Table], out_dir: Path, metadata: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Parquet files ``<name>.parquet`` and ``leonet.duckdb`` with one table per name; with
    ``metadata`` also a ``run`` table of it (key, value) and the same in each file's metadata."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if metadata:
        tables = {**tables, "run": run_table(metadata)}
    paths = {}
    for name, table in tables.items():
        p = out_dir / f"{name}.parquet"
        write_table(table, p, "parquet", metadata=metadata)
        paths[name] = p
    paths["duckdb"] = write_duckdb(out_dir / "leonet.duckdb", dict(paths))
    return paths


def write_duckdb(db_path: Path, files: dict[str, Path], partitioned: dict[str, tuple[Path, list[str]]] | None = None) -> Path:
    """A DuckDB database with one table per Parquet file (``{name: path}``) and per
    hive-partitioned dataset (``{name: (folder, partition keys)}``: rows in partition order,
    then file order; the keys are dropped, as the rows carry what they mean). Written beside its
    final name and renamed: a reader never sees a half-written database."""
    import duckdb

    tmp = db_path.with_name(f".{db_path.name}.tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for name, p in files.items():
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(p)])
        for name, (folder, keys) in (partitioned or {}).items():
            order = ", ".join([*keys, "file_row_number"])
            con.execute(f"CREATE TABLE {name} AS SELECT * EXCLUDE ({order}) FROM "
                        f"read_parquet(?, hive_partitioning = true, file_row_number = true) ORDER BY {order}", [str(folder / "**" / "*.parquet")])
    finally:
        con.close()
    tmp.replace(db_path)
    return db_path
