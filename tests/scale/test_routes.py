"""Partitioned routing runs: the rows of the one-shot `leonet route`, a summary across chunks, resume."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import leonet
from leonet.errors import InputError
from leonet.scale.routes import execute_routes, plan_routes

GRID = leonet.TimeGrid("2025-01-01T00:00:00Z", "12min", "60s")


@pytest.fixture(scope="module")
def sats():
    return leonet.load("preset:starlink-gen1", epoch=GRID.start_ns)


def test_partitioned_routes_equal_one_shot(tmp_path, sats):
    one = leonet.route(sats, "Taipei", "London", GRID, mode="isl")
    endpoints, pairs, options, _ = leonet.api.route_inputs("Taipei", "London", mode="isl")
    plan = plan_routes(sats, ["preset:starlink-gen1"], endpoints, GRID, tmp_path / "r", pairs=pairs, chunk_instants=5, **options)
    out = execute_routes(plan)
    assert (out.computed, out.reused, out.rows) == (3, 0, 12)
    rows = ds.dataset(tmp_path / "r" / "routes", partitioning="hive").to_table().to_pandas()
    rows = rows.sort_values("chunk", kind="stable").drop(columns="chunk").reset_index(drop=True)
    pd.testing.assert_frame_equal(rows, one.to_pandas(), check_exact=True)
    s, ref = out.summary[0], one.summary()[0]
    assert s["reachable"] == ref["reachable"] and s["path_changes"] == ref["path_changes"]
    for k in ("rtt_ms_min", "rtt_ms_max", "fibre_rtt_ms"):
        assert s[k] == ref[k], k
    for k in ("rtt_ms_median", "hops_median", "ratio_to_fibre_median"):
        assert s[k] == pytest.approx(ref[k], rel=1e-12), k
    nodes = pq.read_table(tmp_path / "r" / "nodes.parquet").to_pandas()
    assert "London" in " ".join(nodes["name"].astype(str))

    # resume: a lost partition is computed again, the others reused
    (tmp_path / "r" / "routes" / "chunk=000001" / "part-0.parquet").unlink()
    with pytest.raises(InputError, match="--resume"):
        plan_routes(sats, ["preset:starlink-gen1"], endpoints, GRID, tmp_path / "r", pairs=pairs, **options)
    again = execute_routes(plan_routes(sats, ["preset:starlink-gen1"], endpoints, GRID, tmp_path / "r", pairs=pairs, resume=True, **options))
    assert (again.computed, again.reused) == (1, 2)
    assert again.summary == out.summary
    assert np.isfinite(s["rtt_ms_median"])
