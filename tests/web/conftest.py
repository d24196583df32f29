"""A real ``leonet serve`` (a child process on 127.0.0.1, stopped by its PID) over a seeded
control store, the 2026-08 Starlink snapshot and a small scenario run, for the browser tests."""

from __future__ import annotations

import os
import signal

import pytest
from control_support import free_port, seed, start_server_process
from refdata import ref_file

from leonet.control.db import make_engine
from leonet.control.service import ControlService

ELEMENTS = "tle/starlink_20260822_celestrak_gp.tle"
SCENARIO = """
[scenario]
name = "Taiwan, one hour"
[constellation]
source = "tle/starlink_20260822_celestrak_gp.tle"
[time]
start = "2026-08-22T00:00:00Z"
duration = "1h"
step = "10min"
[coverage]
regions = ["TWN"]
h3_res = 5
min_elevation_deg = 25
[policy]
default = "active"
[[policy.rules]]
region = "TWN"
active = false
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """(base URL, tokens by user name, results root) of a running server."""
    elements = ref_file(ELEMENTS)
    d = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{d / 'control.db'}"
    tokens = seed(url)  # admins, operators op1/op2, partners p1 (TWN, box, cells1), auditor au; regions TWN, box, cells1
    engine = make_engine(url)
    try:  # Germany as a non-sensitive country region p1 may file for: its service map is what changes
        svc = ControlService(engine)
        svc.create_region(svc.authenticate(tokens["op1"]), "germany", "country", country="DEU")
        svc.update_user(svc.authenticate(tokens["admin"]), "p1", entitlements=["TWN", "box", "cells1", "germany"])
    finally:
        engine.dispose()
    results = d / "results"
    (results / "taiwan").mkdir(parents=True)
    scenario = d / "taiwan.toml"
    scenario.write_text(SCENARIO)
    import leonet

    leonet.run_scenario(scenario, results / "taiwan")
    from leonet.control import checkpoint

    key = d / "checkpoint.pem"
    checkpoint.generate_key(key)
    port = free_port()
    proc = start_server_process(url, port, "--elements", str(elements), "--results-root", str(results),
                                "--checkpoint-key", str(key), "--checkpoint-file", str(d / "checkpoints.jsonl"), "--checkpoint-every", "2")
    try:
        yield f"http://127.0.0.1:{port}", tokens, results
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except Exception:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)

