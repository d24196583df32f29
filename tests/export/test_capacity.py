"""Streaming the capacity tables chunk by chunk gives the tables of the whole run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from refdata import ref_file

from leonet import api
from leonet.capacity.run import concat_results, iter_capacity
from leonet.coverage.regional import build_area
from leonet.export.capacity import capacity_cells_table, capacity_regions_table, sibling_path, write_capacity_stream
from leonet.ground.gateways import load_gateways, packaged_gateways_path
from leonet.ground.regions import Region
from leonet.policy.model import ServicePolicy
from leonet.times import TimeGrid


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_stream_equals_whole(tmp_path: Path, fmt: str) -> None:
    c = api.load(str(ref_file("tle/starlink_20241023_celestrak_gp.tle")))
    sats = api.serving_satellites(c)[0]
    area = build_area([Region.country("TWN")], 4, 0.0)
    t = TimeGrid("2024-10-23T00:00:00Z", "45s", "15s").t_ns
    gw = load_gateways(packaged_gateways_path())
    chunks = lambda: iter_capacity(sats, area, t, ServicePolicy.active_everywhere(), gw, method="approx", chunk_instants=1)
    out = tmp_path / f"cap.{fmt}"
    rows, series, last = write_capacity_stream(chunks(), out, fmt, {"k": "v"})
    whole = concat_results(list(chunks()))
    assert rows == len(area) * 3 and len(last.t_ns) == 1
    got = pq.read_table(out) if fmt == "parquet" else pacsv.read_csv(out)
    want = capacity_cells_table(whole)
    assert got.num_rows == want.num_rows
    assert np.allclose(got["allocated_mbps"].to_numpy(), want["allocated_mbps"].to_numpy())
    assert [x or "" for x in got["served_by"].to_pylist()] == want["served_by"].to_pylist()
    a, b = capacity_regions_table(series), capacity_regions_table(whole)
    assert a.column_names == b.column_names and a["region"].equals(b["region"]) and a["time_utc"].equals(b["time_utc"])
    assert np.allclose(a["allocated_mbps"].to_numpy(), b["allocated_mbps"].to_numpy(), rtol=1e-12)
    assert not list(tmp_path.glob(".*tmp"))
    assert sibling_path(out, "regions", fmt).name == f"cap.regions.{fmt}"
