"""A real Dask cluster on 127.0.0.1 (`dask scheduler` + two `dask worker` processes, stopped by
PID): the same dataset as in process, a worker killed mid-run, the client killed and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from scale_support import assert_same_as_reference, read_timeseries, write_small

from leonet.scale.cluster import DaskProcesses
from leonet.scale.run import execute, plan_scenario

LEONET = str(Path(sys.executable).with_name("leonet"))


@pytest.fixture(scope="module")
def cluster():
    with DaskProcesses(workers=2, timeout_s=120) as c:
        yield c


def _done(folder: Path) -> int:
    return len(list((folder / "timeseries").glob("chunk=*/part-0.parquet"))) if (folder / "timeseries").is_dir() else 0


def test_tcp_cluster_gives_the_local_result_and_survives_a_lost_worker(tmp_path, cluster):
    sc = write_small(tmp_path)
    folder = tmp_path / "out"
    plan = plan_scenario(sc, folder, chunk_instants=4)  # 30 tasks
    box: dict = {}
    runner = threading.Thread(target=lambda: box.setdefault("out", execute(plan, cluster.address)), daemon=True)
    runner.start()
    deadline = time.monotonic() + 180
    while _done(folder) < 3 and runner.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    killed_mid_run = runner.is_alive() and _done(folder) < len(plan.tasks)
    cluster.kill_worker(0)  # SIGKILL: its running task is retried on the other worker
    runner.join(timeout=240)
    assert not runner.is_alive(), "the run did not finish after a worker was lost"
    assert killed_mid_run, "the run finished before the worker could be killed; the test proves nothing"
    out = box["out"]
    assert out.computed == len(plan.tasks)
    assert {r["pid"] for r in out.task_results} - {cluster.workers[0].pid, cluster.workers[1].pid} == set()
    assert_same_as_reference(folder)
    assert not read_timeseries(folder).duplicated(["time_utc", "region"]).any()
    cluster.add_worker()  # back to two for the next test
    cluster.wait_workers(2)


def test_client_killed_then_resumed(tmp_path, cluster):
    sc = write_small(tmp_path)
    folder = tmp_path / "out"
    cmd = [LEONET, "run", str(sc), "-o", str(folder), "--scheduler", cluster.address, "--chunk-instants", "3"]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    client = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 180
    while _done(folder) < 4 and client.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.poll() is None, "the client finished before it could be killed: " + client.stdout.read().decode()[-2000:]
    os.kill(client.pid, signal.SIGKILL)
    client.wait(timeout=30)
    client.stdout.close()
    partial = _done(folder)
    assert 0 < partial < 40
    assert json.loads((folder / "manifest.json").read_text())["state"] == "running"
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "already done" in res.stderr
    m = json.loads((folder / "manifest.json").read_text())
    assert m["state"] == "complete"
    assert_same_as_reference(folder)
    # tasks computed now + reused = all, and at least those found done were reused
    line = next(x for x in res.stdout.splitlines() if "tasks computed" in x)
    computed, reused = (int(s.split()[0].replace(",", "")) for s in line.split(";")[2].split(","))
    assert computed + reused == 40 and reused >= partial - 1
