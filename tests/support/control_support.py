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
# Far from the sensitive zone (Taiwan) at every protected resolution.
BOX = {"type": "Polygon", "coordinates": [[[10.0, 50.0], [11.0, 50.0], [11.0, 51.0], [10.0, 51.0], [10.0, 50.0]]]}
BOX_CELL = (50.5, 10.5)  # lat, lon inside BOX
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


def enrol(svc: ControlService, admin_token: str, name: str, role: str, ents: list[str] | None = None, confirm_with: str | None = None) -> str:
    """Create ``name`` (by the admin holding ``admin_token``), enrol it, optionally have a second
    admin confirm it; its own token."""
    created = svc.create_user(svc.authenticate(admin_token), name, role, f"party of {name}", ents or [])
    token = svc.enrol(name, created["enrolment_code"])["token"]
    if confirm_with:
        svc.confirm_user(svc.authenticate(confirm_with), name)
    return token


def seed(url: str) -> dict[str, str]:
    """Initialise ``url`` with admins (admin, admin2), operators op1, op2 (created by admin,
    confirmed by admin2), partners p1, p3 (both entitled to TWN, box and cells1) and p2 (none),
    an auditor au, and regions TWN (sensitive country), box (polygon) and cells1 (H3 cells);
    the users' tokens by name."""
    tokens = init_store(url, ("admin", "admin2"))
    engine = make_engine(url)
    try:
        svc = ControlService(engine)
        for name, role, ents in [("op1", "operator", []), ("op2", "operator", []), ("p1", "partner", ["TWN", "box", "cells1"]),
                                 ("p2", "partner", []), ("p3", "partner", ["TWN", "box", "cells1"]), ("au", "auditor", [])]:
            tokens[name] = enrol(svc, tokens["admin"], name, role, ents, confirm_with=tokens["admin2"] if role == "operator" else None)
        op = svc.authenticate(tokens["op1"])
        svc.create_region(op, "TWN", "country", country="TW", sensitive=True)
        svc.create_region(op, "box", "polygon", geometry=BOX)
        svc.create_region(op, "cells1", "cells", cells=CELLS)
    finally:
        engine.dispose()
    return tokens


@contextmanager
def seeded_store(backend: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], ControlService]]:
    """(url, tokens, service) of a freshly seeded store of ``backend``."""
    with new_store(backend, tmp_path) as url:
        tokens = seed(url)
        engine = make_engine(url)
        try:
            yield url, tokens, ControlService(engine)
        finally:
            engine.dispose()


def audit_rows(conn) -> list[dict]:
    """The audit log's rows in chain order, as dicts."""
    from sqlalchemy import select

    from leonet.control.db import audit_log

    return [dict(r._mapping) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))]


def rewrite_from(conn, start: int) -> None:
    """Edit entry ``start``'s actor and recompute every later hash and the head: a full rewrite."""
    from sqlalchemy import update

    from leonet.control import audit
    from leonet.control.db import audit_head, audit_log

    rows = audit_rows(conn)
    prev = rows[start - 2]["hash"]
    for r in rows[start - 1:]:
        if r["seq"] == start:
            r["actor"] = "mallory"
        r["prev_hash"] = prev
        r["hash"] = prev = audit.entry_hash(prev, r["seq"], r["at"], r["actor"], r["action"], r["object_type"], r["object_id"], r["payload"])
        conn.execute(update(audit_log).where(audit_log.c.seq == r["seq"]).values(actor=r["actor"], prev_hash=r["prev_hash"], hash=r["hash"]))
    conn.execute(update(audit_head).values(hash=prev))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def live_server(url: str, settings=None) -> Iterator[str]:
    """The API over ``url`` served by uvicorn in a thread on 127.0.0.1; its base URL (the app
    is ``live_server.app`` while it runs)."""
    import uvicorn

    from leonet.control.api import create_app

    app = create_app(url, settings)
    live_server.app = app  # type: ignore[attr-defined]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False))
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


def start_server_process(url: str, port: int, *options: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``leonet serve`` in a child process, once it answers (``env``: its environment, e.g. a
    ``PYTHONPATH`` naming another version's sources)."""
    proc = subprocess.Popen([sys.executable, "-c", "from leonet.cli.main import main; main()", "serve", "--db", url, "--port", str(port), *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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
