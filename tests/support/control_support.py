"""Shared helpers for the control-plane tests: stores on SQLite and PostgreSQL, seeding, servers.

PostgreSQL cases run when ``$LEONET_TEST_PG_URL`` names a role that may create databases
(``.ci/run`` starts such a server on 127.0.0.1); each test gets a fresh database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from leonet.control.db import make_engine
from leonet.control.service import ControlService, init_store

PG_ENV = "LEONET_TEST_PG_URL"
BOX = {"type": "Polygon", "coordinates": [[[120.0, 20.0], [121.0, 20.0], [121.0, 21.0], [120.0, 21.0], [120.0, 20.0]]]}
CELLS = ["85283473fffffff", "85283447fffffff", "8528340ffffffff"]  # resolution-5 H3 cells
BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def new_store(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of ``backend`` (skips PostgreSQL when not configured)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'control.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL case: set {PG_ENV}=postgresql://user:pw@127.0.0.1:PORT/db (a role with CREATEDB; .ci/run does this)")
    import psycopg

    name = f"leonet_t_{uuid.uuid4().hex[:12]}"
    admin_dsn = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str) -> dict[str, str]:
    """Initialise ``url`` with users (admin, op1, op2, p1, p2, au) and regions (TWN sensitive,
    box, cells1); the users' tokens. p1 is entitled to all three regions, p2 to none."""
    tokens = {"admin": init_store(url)}
    engine = make_engine(url)
    try:
        svc = ControlService(engine)
        admin = svc.authenticate(tokens["admin"])
        for name, role, ents in [("op1", "operator", []), ("op2", "operator", []), ("p1", "partner", ["TWN", "box", "cells1"]),
                                 ("p2", "partner", []), ("au", "auditor", [])]:
            tokens[name] = svc.create_user(admin, name, role, f"party of {name}", ents)["token"]
        op = svc.authenticate(tokens["op1"])
        svc.create_region(op, "TWN", "country", country="TW", sensitive=True)
        svc.create_region(op, "box", "polygon", geometry=BOX)
        svc.create_region(op, "cells1", "cells", cells=CELLS)
    finally:
        engine.dispose()
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def live_server(url: str) -> Iterator[str]:
    """The API over ``url`` served by uvicorn in a thread on 127.0.0.1; its base URL."""
    import uvicorn

    from leonet.control.api import create_app

    app = create_app(url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not th.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        th.join(15)
        app.state.service.engine.dispose()


def start_server_process(url: str, port: int) -> subprocess.Popen:
    """``leonet serve`` in a child process, once it answers."""
    proc = subprocess.Popen([sys.executable, "-c", "from leonet.cli.main import main; main()", "serve", "--db", url, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"leonet serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("leonet serve did not answer within 60 s")
        time.sleep(0.1)
