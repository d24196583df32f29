"""Group commit (:class:`leonet.control.db.GroupCommit`): writers that queue share one commit;
a failing change is undone alone; a failed commit fails every caller of its group and stores
nothing; nobody returns before the commit holding its change; the chain stays intact."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from control_support import BACKENDS, seeded_store
from sqlalchemy import event, func, select

from leonet.control import audit
from leonet.control.db import _group_commit, audit_head, audit_log, read_tx, write_tx
from leonet.control.errors import StoreError

N = 12


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path):
    with seeded_store(request.param, tmp_path) as (url, tokens, svc):
        yield svc


def _entries(svc) -> list[str]:
    with read_tx(svc.engine) as conn:
        return list(conn.execute(select(audit_log.c.object_id).where(audit_log.c.action == "test.write").order_by(audit_log.c.seq)).scalars())


def _grouped(svc, body, n: int = N) -> tuple[list[object], int]:
    """Run ``body(i, conn)`` for i < n in n threads, writer 0 holding the chain until the others
    queue behind it (so they form one group); each thread's result or exception, and commits."""
    gc = _group_commit(svc.engine)
    commits: list[int] = []

    def count(_conn) -> None:
        commits.append(1)

    out: list[object] = [None] * n
    first_in = threading.Event()

    def run(i: int) -> None:
        if i:
            first_in.wait(30)
        try:
            with write_tx(svc.engine) as conn:
                if i == 0:
                    first_in.set()
                    deadline = time.monotonic() + 30
                    while gc._queued < n - 1 and time.monotonic() < deadline:
                        time.sleep(0.01)
                out[i] = body(i, conn)
            # Returned: the change must already be visible to any other connection.
            if out[i] == "ok":
                assert str(i) in _entries(svc), f"writer {i} returned before its change was committed"
        except BaseException as exc:  # collected for the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    event.listen(svc.engine, "commit", count)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        event.remove(svc.engine, "commit", count)
    return out, len(commits)


def _write(i: int, conn) -> str:
    audit.append(conn, "tester", "test.write", "test", str(i), {"i": i})
    return "ok"


def _verify(svc) -> None:
    with read_tx(svc.engine) as conn:
        res = audit.verify(conn)
        head = conn.execute(select(audit_head.c.seq)).scalar_one()
        last = conn.execute(select(func.max(audit_log.c.seq))).scalar_one()
    assert res.ok, res.problem
    assert head == last


@pytest.mark.parametrize("failing", [set(), {0}, {5}, {5, 7, N - 1}])
def test_queued_writers_share_one_commit_and_a_failing_change_is_undone_alone(store, failing: set[int]) -> None:
    svc = store
    before = _entries(svc)

    def body(i: int, conn) -> str:
        _write(i, conn)  # written, then refused: the change must vanish, the others stay
        if i in failing:
            raise ValueError(f"writer {i} refuses")
        return "ok"

    out, commits = _grouped(svc, body)
    for i, got in enumerate(out):
        if i in failing:
            assert isinstance(got, ValueError) and str(i) in str(got)
        else:
            assert got == "ok", got
    assert sorted(_entries(svc)[len(before):], key=int) == [str(i) for i in range(N) if i not in failing]
    # One commit for all (a failing first change rolls its own transaction back; the rest form one group).
    assert commits == 1
    _verify(svc)


def test_a_failed_commit_fails_every_writer_of_the_group_and_stores_nothing(store) -> None:
    svc = store
    before = _entries(svc)
    with read_tx(svc.engine) as conn:
        head_before = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()

    def refuse(conn) -> None:
        raise RuntimeError("disk full")

    event.listen(svc.engine, "commit", refuse)
    try:
        out, _ = _grouped(svc, _write)
    finally:
        event.remove(svc.engine, "commit", refuse)
    assert all(isinstance(x, RuntimeError | StoreError) for x in out), out
    assert _entries(svc) == before
    with read_tx(svc.engine) as conn:
        assert conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one() == head_before
    # The next writer starts a fresh transaction on an intact chain.
    with write_tx(svc.engine) as conn:
        _write(99, conn)
    assert _entries(svc)[-1] == "99"
    _verify(svc)
