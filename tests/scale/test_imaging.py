"""Partitioned imaging runs (``leonet track --scheduler``): the windows, ages, figures of merit
and files of the one-shot run, bit for bit, whatever the chunking (windows crossing any number
of chunk boundaries are one window); resume; a real Dask cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from refdata import data_dir

import leonet
import leonet.scale.imaging as scale_imaging
from leonet.cli.main import cli
from leonet.errors import InputError
from leonet.imaging.access import Sensor
from leonet.imaging.targets import make_targets
from leonet.imaging.track import track
from leonet.scale.cluster import DaskProcesses
from leonet.scale.imaging import execute_track, plan_track
from leonet.times import NS_PER_S, parse_time

S2608 = data_dir() / "tle" / "starlink_20260822_celestrak_gp.tle"
pytestmark = pytest.mark.skipif(not S2608.is_file(), reason=f"reference data not found in {S2608.parent}")
T0 = parse_time("2026-08-22T00:00:00Z")
WINDOW_KEYS = ("target", "sat_index", "start_ns", "end_ns", "peak_ns", "max_elevation_deg", "start_at_edge", "end_at_edge")
AGE_KEYS = ("collect_ns", "downlink_ns", "age_s", "gateway", "route", "downlink_sat")


@pytest.fixture(scope="module")
def tle(tmp_path_factory) -> Path:
    """300 satellites of the 2026-08 snapshot as their own file (workers load it by path)."""
    p = tmp_path_factory.mktemp("tle") / "sats.tle"
    p.write_text("\n".join(S2608.read_text().splitlines()[: 3 * 300]) + "\n")
    return p


@pytest.fixture(scope="module")
def targets():
    t = T0 + np.arange(0, 4 * 3600 + 1, 600, dtype=np.int64) * NS_PER_S
    ship = ("ship", t, np.linspace(20.0, 30.0, t.size), np.linspace(-40.0, -20.0, t.size))  # a moving target
    return make_targets(points=[("taipei", 25.03, 121.56), ("quito", -0.18, -78.47)], areas=[("area", ["8531aca3fffffff", "85283473fffffff"])],
                        tracks=[ship])


def assert_same(one, chunked) -> None:
    for k in WINDOW_KEYS:
        a, b = getattr(one.windows, k), getattr(chunked.windows, k)
        assert a.dtype == b.dtype and np.array_equal(a, b), k
    for k in AGE_KEYS:
        a, b = getattr(one.age, k), getattr(chunked.age, k)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), k
    assert json.dumps(one.summary()) == json.dumps(chunked.summary())  # figures of merit, gaps, ages, to the last digit


def crossing(windows, grid: np.ndarray, chunk: int) -> int:
    """Windows whose start and end lie in different chunks of ``chunk`` grid instants."""
    a = np.searchsorted(grid, windows.start_ns, side="right") - 1
    b = np.searchsorted(grid, windows.end_ns, side="right") - 1
    return int(np.count_nonzero(a // chunk != b // chunk))


@pytest.mark.parametrize("chunk, halo_s, lasers", [(40, scale_imaging.HALO_S, False), (8, 20.0, True)])
def test_chunked_track_equals_one_shot(tmp_path, tle, targets, monkeypatch, chunk, halo_s, lasers) -> None:
    c = leonet.load(tle)
    sensor = Sensor(10.0, 45.0, 0.0)  # a cone and daylight: windows also cut at sunrise and sunset
    t1 = T0 + 3 * 3600 * NS_PER_S
    one = track(c, targets, sensor, T0, t1, 30.0, lasers=lasers)
    assert len(one.windows) > 50
    # A tiny halo makes nearly every window run past it: the row-wise extension makes them whole.
    monkeypatch.setattr(scale_imaging, "HALO_S", halo_s)
    plan = plan_track(c, [str(tle)], targets, sensor, T0, t1, 30.0, tmp_path / "run", chunk_instants=chunk, lasers=lasers)
    assert plan.job.halo == scale_imaging.halo_for(30.0) and len(plan.tasks) == -(-361 // chunk)
    out = execute_track(plan, "none")
    assert crossing(one.windows, plan.job.grid(), chunk) > 10  # windows across chunk boundaries are there ...
    assert_same(one, out.result)  # ... and each is one window, as in the one-shot run
    if lasers:
        assert out.result.age.route_counts()["laser"] > 0
    rows = (tmp_path / "run" / "accesses.csv").read_text().splitlines()
    assert rows[0] == "target,norad_id,start_utc,end_utc,max_elevation_deg" and len(rows) == len(one.windows) + 1
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["state"] == "complete"


def test_resume_computes_only_what_is_missing(tmp_path, tle, targets) -> None:
    c = leonet.load(tle)
    sensor = Sensor(20.0)
    t1 = T0 + 2 * 3600 * NS_PER_S
    folder = tmp_path / "run"
    first = execute_track(plan_track(c, [str(tle)], targets, sensor, T0, t1, 30.0, folder, chunk_instants=50))
    assert (first.computed, first.reused) == (5, 0)
    (folder / "access" / "chunk=000002" / "part-0.parquet").unlink()  # as if killed before that task finished
    with pytest.raises(InputError, match="--resume"):
        plan_track(c, [str(tle)], targets, sensor, T0, t1, 30.0, folder, chunk_instants=50)
    with pytest.raises(InputError, match="different inputs"):
        plan_track(c, [str(tle)], targets, Sensor(25.0), T0, t1, 30.0, folder, resume=True)
    plan = plan_track(c, [str(tle)], targets, sensor, T0, t1, 30.0, folder, resume=True)  # the chunking from the manifest
    assert [t.chunk for t in plan.todo] == [2]
    again = execute_track(plan)
    assert (again.computed, again.reused) == (1, 4)
    assert_same(first.result, again.result)
    assert_same(track(c, targets, sensor, T0, t1, 30.0), again.result)


def test_tcp_cluster_and_cli(tmp_path, tle, targets) -> None:
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1 run the tasks; the
    CLI's files equal the one-shot CLI's."""
    common = ["track", str(tle), "--target", "25.03,121.56", "--target", "-0.18,-78.47", "--max-off-nadir-deg", "40", "--start", "2026-08-22T00:00:00Z",
              "--duration", "2h", "--step", "20s", "--format", "csv"]
    res = CliRunner().invoke(cli, [*common, "-o", str(tmp_path / "one.csv"), "--summary-json", str(tmp_path / "one.json")])
    assert res.exit_code == 0, res.output
    with DaskProcesses(workers=2, timeout_s=120) as cluster:
        res = CliRunner().invoke(cli, [*common, "-o", str(tmp_path / "run"), "--scheduler", cluster.address, "--chunk-instants", "60"])
        assert res.exit_code == 0, res.output
        assert "7 tasks" in res.output
        pids = {w.pid for w in cluster.workers}
    assert (tmp_path / "run" / "accesses.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert (tmp_path / "run" / "summary.json").read_bytes() == (tmp_path / "one.json").read_bytes()
    assert len(pids) == 2
    # --resume of a complete run computes nothing; --workers needs --scheduler local.
    res = CliRunner().invoke(cli, [*common, "-o", str(tmp_path / "run"), "--resume"])
    assert res.exit_code == 0 and "7 already done" in res.output, res.output
    res = CliRunner().invoke(cli, [*common, "-o", str(tmp_path / "run2"), "--scheduler", "none", "--workers", "2"])
    assert res.exit_code == 1 and "--workers" in res.output
    res = CliRunner().invoke(cli, [*common, "-o", str(tmp_path / "run3"), "--scheduler", "udp://x"])
    assert res.exit_code == 1 and "--scheduler" in res.output


def test_client_killed_then_resumed(tmp_path, tle) -> None:
    """`kill -9` of a running `leonet track --scheduler none`, then `--resume`: only the missing
    partitions are computed and the files equal the one-shot run's."""
    leonet_exe = str(Path(sys.executable).with_name("leonet"))
    common = ["track", str(tle), "--target", "25.03,121.56", "--target", "51.5,-0.12", "--start", "2026-08-22T00:00:00Z", "--duration", "3h",
              "--step", "20s", "--format", "csv"]
    folder = tmp_path / "run"
    cmd = [leonet_exe, *common, "-o", str(folder), "--scheduler", "none", "--chunk-instants", "12"]  # 46 tasks
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    done = lambda: len(list((folder / "access").glob("chunk=*/part-0.parquet"))) if (folder / "access").is_dir() else 0  # noqa: E731
    client = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 180
    while done() < 3 and client.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.poll() is None, "the client finished before it could be killed; the test proves nothing"
    os.kill(client.pid, signal.SIGKILL)
    client.wait(timeout=30)
    partial = done()
    assert 0 < partial < 46 and json.loads((folder / "manifest.json").read_text())["state"] == "running"
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "already done" in res.stderr  # the partitions written before the kill are reused
    line = next(x for x in res.stderr.splitlines() if "tasks computed" in x)
    computed, reused = (int(w.split()[0].replace(",", "")) for w in line.split(";")[1].split(","))
    assert computed + reused == 46 and reused >= partial - 1
    assert json.loads((folder / "manifest.json").read_text())["state"] == "complete"
    assert not list((folder / "access").rglob(".*.tmp"))
    one = CliRunner().invoke(cli, [*common, "-o", str(tmp_path / "one.csv"), "--summary-json", str(tmp_path / "one.json")])
    assert one.exit_code == 0, one.output
    assert (folder / "accesses.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert (folder / "summary.json").read_bytes() == (tmp_path / "one.json").read_bytes()
