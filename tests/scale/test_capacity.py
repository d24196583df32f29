"""Partitioned capacity runs (``leonet capacity --scheduler``): the files of the one-shot run, bit
for bit (cells, regions and rules tables), whatever the chunking; resume; a real Dask cluster;
the client killed with SIGKILL and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from refdata import data_dir

from leonet import api
from leonet.cli.main import cli
from leonet.errors import InputError
from leonet.scale.capacity import execute_capacity
from leonet.scale.cluster import DaskProcesses
from leonet.times import TimeGrid

SNAP = data_dir() / "tle" / "starlink_20241023_celestrak_gp.tle"
pytestmark = pytest.mark.skipif(not SNAP.is_file(), reason=f"reference data not found in {SNAP.parent}")
START = "2024-10-23T00:00:00Z"
INTERVALS = 40  # 10 min of 15 s scheduling intervals
FILES = ("capacity", "capacity.regions", "capacity.rules")


@pytest.fixture(scope="module")
def tle(tmp_path_factory) -> Path:
    """600 satellites of the 2024-10 snapshot as their own file (workers load it by path)."""
    p = tmp_path_factory.mktemp("tle") / "sats.tle"
    p.write_text("\n".join(SNAP.read_text().splitlines()[: 3 * 600]) + "\n")
    return p


def args(tle: Path) -> list[str]:
    # Taiwan dark: its neighbours' gain is the rules table.
    return ["capacity", str(tle), "--region", "TWN,PHL", "--h3-res", "4", "--start", START, "--duration", f"{15 * INTERVALS}s", "--step", "15s",
            "--inactive", "TWN", "--method", "approx"]


def invoke(*a: str):
    res = CliRunner().invoke(cli, list(a))
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def one_shot(tle, tmp_path_factory) -> dict[str, Path]:
    """``leonet capacity -o capacity.csv`` and ``-o capacity.parquet`` in one go, the reference."""
    d = tmp_path_factory.mktemp("one")
    out = {}
    for ext in ("csv", "parquet"):
        invoke(*args(tle), "-o", str(d / f"capacity.{ext}"))
        out |= {f"{name}.{ext}": d / f"{name}.{ext}" for name in FILES}
    assert all(p.is_file() for p in out.values())
    return out


def same_csv(folder: Path, one_shot: dict[str, Path]) -> None:
    for name in FILES:
        assert (folder / f"{name}.csv").read_bytes() == one_shot[f"{name}.csv"].read_bytes(), name


def test_chunked_equals_one_shot(tmp_path, tle, one_shot) -> None:
    # 7 intervals per task (the last task 5), and 1 per task: every (cells, 1) sum as in the one-shot run.
    res = invoke(*args(tle), "-o", str(tmp_path / "csv"), "--scheduler", "none", "--chunk-instants", "7")
    assert "6 tasks" in res.output and "6 tasks computed, 0 reused" in res.output
    same_csv(tmp_path / "csv", one_shot)
    rows = (tmp_path / "csv" / "capacity.csv").read_text().splitlines()
    assert len(rows) == 1 + INTERVALS * 361 and any(float(r.split(",")[4]) > 0 for r in rows[1:])  # capacity was allocated
    invoke(*args(tle), "-o", str(tmp_path / "pq"), "--scheduler", "none", "--chunk-instants", "1", "--format", "parquet")
    for name in FILES:
        a, b = pq.read_table(tmp_path / "pq" / f"{name}.parquet"), pq.read_table(one_shot[f"{name}.parquet"])
        assert a.equals(b), name  # same schema and values, to the last bit
        ma, mb = a.schema.metadata, b.schema.metadata
        skip = {b"created_utc", b"command_line"}
        assert {k: v for k, v in ma.items() if k not in skip} == {k: v for k, v in mb.items() if k not in skip}
    m = json.loads((tmp_path / "pq" / "manifest.json").read_text())
    assert m["state"] == "complete" and len(m["tasks"]) == INTERVALS
    parts = sorted(p.parent.name for p in (tmp_path / "pq" / "cells").glob("chunk=*/part-0.parquet"))
    assert parts == [f"chunk={k:06d}" for k in range(INTERVALS)]  # hive-style, one per task


def test_resume_recomputes_only_the_missing_partition(tmp_path, tle, one_shot) -> None:
    grid = TimeGrid(START, f"{15 * INTERVALS}s", "15s")
    opts = dict(h3_res=4, inactive="TWN", method="approx", allow_stale_elements=True)
    folder = tmp_path / "run"
    first = execute_capacity(api.plan_capacity([str(tle)], "TWN,PHL", grid, folder, chunk_instants=10, **opts))
    assert (first.computed, first.reused) == (4, 0)
    same_csv(folder, one_shot)
    for table in ("cells", "stats", "regions"):
        (folder / table / "chunk=000002" / "part-0.parquet").unlink()  # as if killed before that task finished
    with pytest.raises(InputError, match="--resume"):
        api.plan_capacity([str(tle)], "TWN,PHL", grid, folder, chunk_instants=10, **opts)
    with pytest.raises(InputError, match="different inputs"):
        api.plan_capacity([str(tle)], "TWN,PHL", grid, folder, resume=True, **(opts | {"inactive": ()}))
    with pytest.raises(InputError, match="different inputs"):
        api.plan_capacity([str(tle)], "TWN,PHL", grid, folder, resume=True, take_rate=0.05, **opts)
    plan = api.plan_capacity([str(tle)], "TWN,PHL", grid, folder, resume=True, **opts)  # the chunking from the manifest
    assert [t.chunk for t in plan.todo] == [2]
    again = execute_capacity(plan)
    assert (again.computed, again.reused) == (1, 3)
    same_csv(folder, one_shot)


def test_tcp_cluster(tmp_path, tle, one_shot) -> None:
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1 run the tasks."""
    with DaskProcesses(workers=2, timeout_s=120) as cluster:
        res = invoke(*args(tle), "-o", str(tmp_path / "run"), "--scheduler", cluster.address, "--chunk-instants", "5")
        assert "8 tasks" in res.output
    same_csv(tmp_path / "run", one_shot)
    res = CliRunner().invoke(cli, [*args(tle), "-o", str(tmp_path / "run"), "--resume"])  # a complete run: nothing to do
    assert res.exit_code == 0 and "8 already done" in res.output and "0 tasks computed, 8 reused" in res.output, res.output
    res = CliRunner().invoke(cli, [*args(tle), "-o", str(tmp_path / "x"), "--scheduler", "none", "--workers", "2"])
    assert res.exit_code == 1 and "--workers" in res.output
    res = CliRunner().invoke(cli, [*args(tle), "-o", str(tmp_path / "y"), "--scheduler", "udp://x"])
    assert res.exit_code == 1 and "--scheduler" in res.output


def test_client_killed_then_resumed(tmp_path, tle, one_shot) -> None:
    """`kill -9` of a running `leonet capacity --scheduler none`, then `--resume`: only the
    missing partitions are computed and the files equal the one-shot run's."""
    folder = tmp_path / "run"
    cmd = [str(Path(sys.executable).with_name("leonet")), *args(tle), "-o", str(folder), "--scheduler", "none", "--chunk-instants", "1"]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    done = lambda: len(list((folder / "regions").glob("chunk=*/part-0.parquet"))) if (folder / "regions").is_dir() else 0  # noqa: E731
    client = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 180
    while done() < 2 and client.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.poll() is None, "the client finished before it could be killed; the test proves nothing"
    os.kill(client.pid, signal.SIGKILL)
    client.wait(timeout=30)
    partial = done()
    assert 0 < partial < INTERVALS and json.loads((folder / "manifest.json").read_text())["state"] == "running"
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "already done" in res.stderr
    line = next(x for x in res.stderr.splitlines() if "tasks computed" in x)
    computed = int(line.split("; ")[1].split()[0].replace(",", ""))
    reused = int(line.split("; ")[1].split(", ")[1].split()[0].replace(",", ""))
    assert computed + reused == INTERVALS and reused >= partial
    assert json.loads((folder / "manifest.json").read_text())["state"] == "complete"
    assert not list(folder.rglob(".*.tmp"))
    same_csv(folder, one_shot)


SCENARIO = """[scenario]
name = "small capacity"
[constellation]
preset = "starlink-gen1"
[time]
start = "2025-01-01T00:00:00Z"
duration = "20min"
step = "60s"
[coverage]
regions = ["TWN"]
neighbours_within_km = 100
h3_res = 4
min_elevation_deg = 25
[policy]
default = "active"
[[policy.rules]]
region = "TWN"
active = false
[capacity]
steps = 5
method = "approx"
"""


def test_scenario_capacity_section_partitioned(tmp_path) -> None:
    """`leonet run --scheduler` of a scenario with [capacity]: its intervals are tasks too, and
    its tables equal the one-shot run's."""
    from leonet.export.capacity import capacity_cells_table, capacity_regions_table, capacity_rules_table
    from leonet.jobs.regional import run_scenario
    from leonet.scale.run import execute, plan_scenario

    sc = tmp_path / "small.toml"
    sc.write_text(SCENARIO)
    one = run_scenario(sc).capacity
    assert one is not None and float(one.allocated_mbps.sum()) > 0
    plan = plan_scenario(sc, tmp_path / "run", chunk_instants=2)
    assert len(plan.tasks) == len(plan.jobs[0].tasks()) + 3  # capacity: 5 intervals, 2 per task
    out = execute(plan, "none")
    assert out.capacity[0] is not None and out.capacity[0].computed == 3
    for name, table in (("cells", capacity_cells_table), ("regions", capacity_regions_table), ("rules", capacity_rules_table)):
        got = pq.read_table(tmp_path / "run" / f"capacity_{name}.parquet")
        assert got.equals(table(one)), name
    assert json.loads((tmp_path / "run" / "capacity" / "manifest.json").read_text())["state"] == "complete"


def test_sweep_with_capacity_section(tmp_path) -> None:
    """Each variant of a sweep runs its [capacity] section (the mask changes who is in view)."""
    from leonet.export.capacity import capacity_cells_table, capacity_regions_table
    from leonet.jobs.regional import run_scenario
    from leonet.scale.run import execute, plan_sweep
    from leonet.scale.sweep import load_sweep

    (tmp_path / "small.toml").write_text(SCENARIO)
    p = tmp_path / "sweep.toml"
    p.write_text(f'[sweep]\nscenario = "small.toml"\n[axes]\nmin_elevation_deg = [25, 40]\n[output]\ndir = "{tmp_path / "out"}"\n')
    spec = load_sweep(p)
    out = execute(plan_sweep(spec, chunk_instants=3), "none")
    assert [c.computed for c in out.capacity] == [2, 2]
    for k, (_axes, sc) in enumerate(spec.variants()):
        one = run_scenario(sc).capacity
        folder = tmp_path / "out" / "capacity" / f"variant={k}"
        assert pq.read_table(folder / "capacity_cells.parquet").equals(capacity_cells_table(one))
        assert pq.read_table(folder / "capacity_regions.parquet").equals(capacity_regions_table(one))
    a, b = (pq.read_table(tmp_path / "out" / "capacity" / f"variant={k}" / "capacity_regions.parquet") for k in (0, 1))
    assert not a.equals(b)  # the variants differ


def test_one_shot_into_a_run_folder_is_refused(tmp_path, tle) -> None:
    invoke(*args(tle), "-o", str(tmp_path / "run"), "--scheduler", "none", "--duration", "15s")
    res = CliRunner().invoke(cli, [*args(tle), "-o", str(tmp_path / "run"), "--duration", "15s"])
    assert res.exit_code == 1 and "holds a partitioned run" in res.output and "--resume" in res.output
