"""Partitioned runs in process: equal to the one-shot run bit for bit, resumable, checked inputs."""

from __future__ import annotations

import json
import os

import duckdb
import pytest
from scale_support import assert_same_as_reference, read_timeseries, reference, write_small

from leonet.errors import InputError
from leonet.scale.dataset import partition_file
from leonet.scale.run import execute, plan_scenario


@pytest.mark.parametrize("chunk", [7, 120])  # 120 instants: one chunk holds the whole window
def test_chunked_equals_one_shot(tmp_path, chunk):
    sc = write_small(tmp_path)
    out = execute(plan_scenario(sc, tmp_path / "out", chunk_instants=chunk))
    assert out.computed == -(-120 // chunk) and out.reused == 0
    assert_same_as_reference(tmp_path / "out")
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["state"] == "complete" and len(m["tasks"]) == out.computed
    # The gap of service over TWN (00:50-01:10) crosses chunk boundaries when chunk = 7.
    twn = next(r for r in out.runs[0].summary() if r["region"] == "TWN")
    assert twn["service_gap_max_s"] >= 20 * 60
    con = duckdb.connect(str(tmp_path / "out" / "leonet.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM timeseries").fetchone()[0] == len(reference()["timeseries"])
    assert con.execute("SELECT list(region ORDER BY region) FROM regions").fetchone()[0] == sorted(reference()["regions"]["region"])


def test_resume_computes_only_missing_partitions(tmp_path):
    sc = write_small(tmp_path)
    folder = tmp_path / "out"
    plan = plan_scenario(sc, folder, chunk_instants=20)
    execute(plan)
    # As a run killed mid-way leaves it: two partitions gone, one half-written (no timeseries), a staging file.
    for t in plan.tasks[1:3]:
        for table in ("timeseries", "partials", "gaps", "chunks"):
            partition_file(folder, table, t, False).unlink()
    partition_file(folder, "timeseries", plan.tasks[4], False).unlink()
    stray = partition_file(folder, "partials", plan.tasks[1], False).parent
    stray.mkdir(parents=True, exist_ok=True)
    (stray / ".part-0.parquet.123.tmp").write_bytes(b"half")
    before = {t.chunk: os.stat(partition_file(folder, "timeseries", t, False)).st_mtime_ns for t in plan.tasks if t.chunk in (0, 3, 5)}
    with pytest.raises(InputError, match="--resume"):
        plan_scenario(sc, folder)
    again = plan_scenario(sc, folder, resume=True)  # chunking taken from the manifest
    assert [t.chunk for t in again.todo] == [1, 2, 4]
    out = execute(again)
    assert (out.computed, out.reused) == (3, 3)
    assert before == {t.chunk: os.stat(partition_file(folder, "timeseries", t, False)).st_mtime_ns for t in plan.tasks if t.chunk in (0, 3, 5)}
    assert not list(folder.rglob("*.tmp"))
    assert_same_as_reference(folder)


def test_resume_refuses_other_inputs(tmp_path):
    sc = write_small(tmp_path)
    execute(plan_scenario(sc, tmp_path / "out", chunk_instants=60))
    other = write_small(tmp_path, mask=30, name="other.toml")
    with pytest.raises(InputError, match="min_elevation_deg"):
        plan_scenario(other, tmp_path / "out", resume=True)
    with pytest.raises(InputError, match="chunk_instants"):
        plan_scenario(sc, tmp_path / "out", resume=True, chunk_instants=30)
    with pytest.raises(InputError, match="no run to resume"):
        plan_scenario(sc, tmp_path / "empty", resume=True)


def test_timeseries_partitions_hold_no_duplicates(tmp_path):
    sc = write_small(tmp_path)
    execute(plan_scenario(sc, tmp_path / "out", chunk_instants=50))
    ts = read_timeseries(tmp_path / "out")
    assert not ts.duplicated(["time_utc", "region"]).any()
    assert ts["time_utc"].nunique() == 120


def test_local_dask_cluster_gives_the_same_dataset(tmp_path):
    sc = write_small(tmp_path)
    out = execute(plan_scenario(sc, tmp_path / "out", chunk_instants=40), "local", workers=2)
    assert out.computed == 3 and len({r["pid"] for r in out.task_results} - {os.getpid()}) >= 1
    assert_same_as_reference(tmp_path / "out")
