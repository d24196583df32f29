"""The tables of ``leonet capacity``: one row per (time, cell), one per (time, region), and the
effect of each policy rule. Built once: the CLI writes them and
:class:`leonet.api.Capacity`'s ``to_arrow()`` returns them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leonet.capacity.run import CapacityResult, RegionSeries
from leonet.export.files import csv_ready, timestamps
from leonet.export.tables import h3_hex

CELL_COLUMNS = ("time_utc", "cell", "region", "demand_mbps", "allocated_mbps", "served_by", "sold_out")
REGION_COLUMNS = ("time_utc", "region", "demand_mbps", "allocated_mbps", "share_met", "cells_sold_out")
RULE_COLUMNS = ("rule", "region", "allocated_mbps_with_rule", "allocated_mbps_without_rule", "gain_mbps", "gain_percent")


def capacity_cells_table(res: CapacityResult) -> pa.Table:
    """One row per (time, cell) of :data:`CELL_COLUMNS`, times in order, cells in the area's
    order. ``demand_mbps`` is the cell's demand when active and 0 when inactive; ``served_by``
    the catalogue numbers of the satellites that send it traffic, largest share first,
    space-separated ('' for none); ``sold_out``: active, with demand, and less than
    ``sold_out_share`` of it met. Cells are H3 indexes in hex."""
    n_c, n_t = len(res.area), len(res.t_ns)
    served = np.full((n_t, n_c), "", dtype=object)
    for k, (cells_k, ids, start) in enumerate(res.served_by):
        text = ids.astype(str)
        served[k, cells_k] = [" ".join(text[a:b]) for a, b in zip(start[:-1].tolist(), start[1:].tolist())]
    cells = np.array(h3_hex(res.area.cells), dtype=object)
    demand = (res.demand_mbps[:, None] * res.active).T.reshape(-1)
    return pa.table({
        "time_utc": timestamps(np.repeat(res.t_ns, n_c)),
        "cell": pa.array(np.tile(cells, n_t), pa.string()),
        "region": pa.array(np.tile(res.area.region.astype(object), n_t), pa.string()),
        "demand_mbps": pa.array(demand),
        "allocated_mbps": pa.array(res.allocated_mbps.T.reshape(-1)),
        "served_by": pa.array(served.reshape(-1), pa.string()),
        "sold_out": pa.array(res.sold_out().T.reshape(-1)),
    })


def capacity_regions_table(res: CapacityResult | RegionSeries) -> pa.Table:
    """One row per (time, region) of :data:`REGION_COLUMNS` (``share_met`` null where a region
    asks for nothing, e.g. all its cells inactive), from a result or its region series."""
    rows = (res if isinstance(res, RegionSeries) else res.series()).rows()
    share = rows["share_met"]
    return pa.table({
        "time_utc": timestamps(rows["t_ns"]),
        "region": pa.array(rows["region"], pa.string()),
        "demand_mbps": pa.array(rows["demand_mbps"]),
        "allocated_mbps": pa.array(rows["allocated_mbps"]),
        "share_met": pa.array(share, mask=~np.isfinite(share)),
        "cells_sold_out": pa.array(rows["cells_sold_out"]),
    })


def capacity_rules_table(res: CapacityResult | RegionSeries) -> pa.Table:
    """One row per (policy rule, region) of :data:`RULE_COLUMNS`: mean allocation over the
    instants with the rule and without it, and the gain the rule brings."""
    rows = res.rule_effects()
    return pa.table({k: pa.array([r[k] for r in rows], pa.string() if k in ("rule", "region") else pa.float64()) for k in RULE_COLUMNS})


def sibling_path(output: str | Path, what: str, fmt: str) -> Path:
    """``OUT.<what>.<ext>`` beside ``output`` (its own extension dropped): ``cap.csv`` ->
    ``cap.regions.csv``."""
    p = Path(output)
    stem = p.name[: -len(p.suffix)] if p.suffix.lower() in (".csv", ".parquet", ".pq") else p.name
    return p.with_name(f"{stem}.{what}.{'csv' if fmt == 'csv' else 'parquet'}")


def write_capacity_stream(chunks: Iterable[CapacityResult], path: str | Path, fmt: str, metadata: Mapping[str, str] | None = None,
                          ) -> tuple[int, RegionSeries, CapacityResult]:
    """Write the (time, cell) rows of each time chunk as it comes (Parquet row groups or CSV
    blocks) to ``path``, keeping only the chunks' region series: memory is one chunk's cells
    whatever the window. Written beside the final name and renamed into place at the end.
    Returns the rows written, the whole run's :class:`RegionSeries` and the last chunk."""
    series: list[RegionSeries] = []
    box: list[CapacityResult] = []

    def tables() -> Iterator[pa.Table]:
        for res in chunks:
            yield capacity_cells_table(res)
            series.append(res.series())
            box[:] = [res]

    rows = write_table_stream(tables(), path, fmt, metadata)
    return rows, RegionSeries.concat(series), box[0]


def write_table_stream(tables: Iterable[pa.Table], path: str | Path, fmt: str, metadata: Mapping[str, str] | None = None) -> int:
    """Write tables of one schema one after the other (Parquet row groups or CSV blocks under
    one header) to ``path``, beside the final name and renamed into place at the end; memory is
    one table. Returns the rows written. (A partitioned run streams its partitions through
    this, so its files are the one-shot run's.)"""
    out = Path(path)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer = None
    rows = 0
    try:
        for table in tables:
            if fmt == "csv":
                table = csv_ready(table)
            elif metadata:
                table = table.replace_schema_metadata({str(k): str(v) for k, v in metadata.items()})
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema) if fmt == "parquet" else pacsv.CSVWriter(tmp, table.schema)
            writer.write_table(table)
            rows += table.num_rows
        if writer is None:
            raise ValueError("a capacity run yields at least one chunk")
        writer.close()
        writer = None
        tmp.replace(out)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return rows
