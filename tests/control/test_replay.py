"""The log is the truth: direct edits of any data table are named by `audit verify`, and signed
checkpoints (Ed25519, key outside the database) catch a rewritten or cut log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from control_support import BACKENDS, audit_rows, new_store, rewrite_from, seed
from sqlalchemy import delete, insert, select, text, update

from leonet.cli.main import cli
from leonet.control import audit
from leonet.control.db import audit_head, audit_log, decisions, make_engine, policy_states, regions, requests, tokens, users
from leonet.control.service import ControlService


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path):
    with new_store(request.param, tmp_path) as url:
        tok = seed(url)
        engine = make_engine(url)
        svc = ControlService(engine)
        p1, op1, op2 = (svc.authenticate(tok[n]) for n in ("p1", "op1", "op2"))
        r = svc.file_request(p1, "TWN", "deactivate", "needed")
        svc.decide(op1, r["id"], "approve", "one")
        svc.decide(op2, r["id"], "approve", "two")
        svc.file_request(p1, "box", "deactivate", "pending one")
        try:
            yield url, tok, svc
        finally:
            engine.dispose()


def _one(conn, table, **where):
    q = select(table)
    for k, v in where.items():
        q = q.where(table.c[k] == v)
    return dict(conn.execute(q).first()._mapping)


# name: (tamper(conn) -> undo(conn), table named in the problem)
Tamper = Callable[[object], Callable[[object], None]]


def _set(table, where: dict, **values) -> Tamper:
    def tamper(conn):
        before = _one(conn, table, **where)
        conn.execute(update(table).where(table.c.id == before["id"]).values(**values))
        return lambda c: c.execute(update(table).where(table.c.id == before["id"]).values(**{k: before[k] for k in values}))
    return tamper


def _insert_token(conn):
    uid = _one(conn, users, name="p1")["id"]
    conn.execute(insert(tokens).values(user_id=uid, token_hash="ab" * 32, created_at="2025-01-01T00:00:00.000000Z", revoked=False, kind="token",
                                       issued_by="mallory", expires_at="2199-01-01T00:00:00.000000Z"))
    return lambda c: c.execute(delete(tokens).where(tokens.c.token_hash == "ab" * 32))


def _delete_decision(conn):
    row = _one(conn, decisions, decided_by="op2")
    conn.execute(delete(decisions).where(decisions.c.id == row["id"]))
    return lambda c: c.execute(insert(decisions).values(**row))


TAMPERS: dict[str, tuple[Tamper, str]] = {
    "flip a policy state": (_set(policy_states, {"id": 1}, active=True), "policy_states row 1"),
    "mark taiwan not sensitive": (_set(regions, {"key": "TWN"}, sensitive=False), "regions row 1 (key 'TWN'): sensitive"),
    "raise a partner to admin": (_set(users, {"name": "p1"}, role="admin"), "users row"),
    "insert a token hash": (_insert_token, "inserted outside leonet"),
    "delete a decision": (_delete_decision, "lacks row"),
    "set a request approved": (_set(requests, {"state": "pending"}, state="approved"), "requests row 2"),
    "revive a revoked token": (_set(tokens, {"revoked": True}, revoked=False), "tokens row"),
}


def test_direct_edits_of_data_tables_are_detected(store) -> None:
    """Issue 12, weakness 5: 7 of 7 direct table edits went unnoticed."""
    url, _tok, svc = store
    assert svc.audit_verify(None).ok
    for name, (tamper, words) in TAMPERS.items():
        with svc.engine.begin() as conn:
            undo = tamper(conn)
        res = svc.audit_verify(None)
        assert not res.ok and words in res.problem and "outside leonet" in res.problem, (name, res)
        got = CliRunner().invoke(cli, ["audit", "verify", "--db", url])
        assert got.exit_code == 1 and words.split(" (")[0] in got.output, (name, got.output)
        with svc.engine.begin() as conn:
            undo(conn)
        assert svc.audit_verify(None).ok, name


def test_signed_checkpoints_catch_rewrites_and_cut_tails(store, tmp_path: Path) -> None:
    url, tok, svc = store
    env = {"LEONET_TOKEN": tok["au"]}
    run = lambda *a: CliRunner().invoke(cli, list(a), env=env, catch_exceptions=False)  # noqa: E731
    key, cps = tmp_path / "keys" / "cp.pem", tmp_path / "checkpoints.jsonl"
    key.parent.mkdir()
    gen = run("audit", "keygen", "--key", str(key))
    pub = gen.stdout.strip().splitlines()[-1]
    assert gen.exit_code == 0 and len(pub) == 64 and oct(key.stat().st_mode & 0o777) == "0o600"
    assert "PRIVATE KEY" in key.read_text() and run("audit", "keygen", "--key", str(key)).exit_code == 1  # never overwritten
    assert run("audit", "checkpoint", "--key", str(key), "-o", str(cps), "--db", url).exit_code == 0
    first = json.loads(cps.read_text().splitlines()[0])
    svc.file_request(svc.authenticate(tok["p1"]), "box", "activate", "later work")
    assert run("audit", "checkpoint", "--key", str(key), "-o", str(cps), "--db", url).exit_code == 0
    ok = run("audit", "verify", "--db", url, "--checkpoints", str(cps), "--public-key", pub)
    assert ok.exit_code == 0 and "intact" in ok.output, ok.output
    with svc.engine.connect() as conn:
        snapshot, head = audit_rows(conn), dict(conn.execute(select(audit_head)).one()._mapping)

    def restore() -> None:
        with svc.engine.begin() as conn:
            conn.execute(delete(audit_log))
            conn.execute(insert(audit_log), snapshot)
            conn.execute(update(audit_head).values(seq=head["seq"], hash=head["hash"]))

    # A full rewrite passes the chain and replay checks, not the checkpoints.
    with svc.engine.begin() as conn:
        rewrite_from(conn, 3)
    assert svc.audit_verify(None).ok
    bad = run("audit", "verify", "--db", url, "--checkpoints", str(cps), "--public-key", pub)
    assert bad.exit_code == 1 and "rewritten" in bad.output, bad.output
    restore()
    # A cut tail (entries and head removed consistently: here the recorded reads) is caught.
    cut_to = first["seq"] + 1
    with svc.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq > cut_to))
        last = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == cut_to)).scalar_one()
        conn.execute(update(audit_head).values(seq=cut_to, hash=last))
    res = svc.audit_verify(None)
    bad = run("audit", "verify", "--db", url, "--checkpoints", str(cps))
    assert bad.exit_code == 1 and ("cut" in bad.output or not res.ok), bad.output
    restore()
    # An altered checkpoint file, a foreign key and another database are refused too.
    lines = cps.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"seq": 1}
    (tmp_path / "forged.jsonl").write_text(lines[0] + "\n" + json.dumps(forged) + "\n")
    bad = run("audit", "verify", "--db", url, "--checkpoints", str(tmp_path / "forged.jsonl"))
    assert bad.exit_code == 1 and "not signed by the pinned key" in bad.output
    other = tmp_path / "other.pem"
    run("audit", "keygen", "--key", str(other))
    bad = run("audit", "verify", "--db", url, "--checkpoints", str(cps), "--public-key", str(other))
    assert bad.exit_code == 1 and "pinned key" in bad.output
    (tmp_path / "x").mkdir()
    with new_store("sqlite", tmp_path / "x") as url2:
        seed(url2)
        bad = CliRunner().invoke(cli, ["audit", "verify", "--db", url2, "--checkpoints", str(cps)], env={"LEONET_TOKEN": ""})
        assert bad.exit_code == 1 and "another or a recreated database" in bad.output


def test_upgrading_an_old_store_keeps_its_data_and_starts_the_replay(tmp_path: Path) -> None:
    """A store made at revision 0001 upgrades in place; the log then rebuilds every table."""
    from leonet.control.migrations_api import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url, must_exist=False)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, name, role, party, entitlements, active, created_at) VALUES (1, 'admin', 'admin', '', '[]', 1, '2025-01-01T00:00:00.000000Z')"))
            conn.execute(text("INSERT INTO tokens (id, user_id, token_hash, created_at, revoked) VALUES (1, 1, :h, '2025-01-01T00:00:00.000000Z', 0)"),
                         {"h": hashlib.sha256(b"lnt_old").hexdigest()})
            conn.execute(text("INSERT INTO regions (id, key, kind, name, country, sensitive, created_by, created_at) VALUES (1, 'TWN', 'country', 'Taiwan', 'TWN', 1, 'op', 'x')"))
        upgrade(engine)
        svc = ControlService(engine)
        res = svc.audit_verify(None)
        assert res.ok and res.entries == 1 and res.store_id
        who = svc.authenticate("lnt_old")
        assert who.name == "admin" and who.confirmed
        with engine.begin() as conn:
            conn.execute(update(regions).values(sensitive=False))
        assert "sensitive" in (svc.audit_verify(None).problem or "")
    finally:
        engine.dispose()


def test_serve_signs_periodic_checkpoints(tmp_path: Path) -> None:
    """`leonet serve --checkpoint-key K --checkpoint-file F` signs the head whenever it moved."""
    import time

    import httpx
    from control_support import auth, free_port, start_server_process

    from leonet.control.checkpoint import generate_key

    with new_store("sqlite", tmp_path) as url:
        tok = seed(url)
        key, cps = tmp_path / "cp.pem", tmp_path / "cps.jsonl"
        pub = generate_key(key)
        port = free_port()
        proc = start_server_process(url, port, "--checkpoint-key", str(key), "--checkpoint-file", str(cps), "--checkpoint-every", "1")
        try:
            deadline = time.monotonic() + 30
            while not cps.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            r = httpx.post(f"http://127.0.0.1:{port}/requests", json={"region": "box", "action": "deactivate", "justification": "x"}, headers=auth(tok["p1"]))
            assert r.status_code == 201
            while len(cps.read_text().splitlines()) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(30)
        seqs = [json.loads(x)["seq"] for x in cps.read_text().splitlines()]
        assert len(seqs) >= 2 and seqs == sorted(set(seqs))
        got = CliRunner().invoke(cli, ["audit", "verify", "--db", url, "--checkpoints", str(cps), "--public-key", pub], env={"LEONET_TOKEN": ""})
        assert got.exit_code == 0 and "intact" in got.output, got.output


def test_writers_signatures_catch_forged_appends(store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forged append (right chain hash, rows the tables agree with) is caught when the writers
    sign every entry with a key kept outside the database."""
    from leonet.control.checkpoint import generate_key, load_private

    url, tok, svc = store
    key = tmp_path / "writers.pem"
    pub = generate_key(key)
    signed = ControlService(svc.engine, load_private(key))
    signed.file_request(signed.authenticate(tok["p1"]), "box", "deactivate", "signed write")
    monkeypatch.setenv("LEONET_AUDIT_KEY", str(key))  # a CLI writer with the key signs too
    env = {"LEONET_TOKEN": tok["p1"], "LEONET_AUDIT_KEY": str(key)}
    assert CliRunner().invoke(cli, ["request", "file", "box", "--action", "activate", "--justification", "cli", "--db", url], env=env).exit_code == 0
    assert svc.audit_verify(None, signer=pub).ok  # entries before the first signed one are history
    got = CliRunner().invoke(cli, ["audit", "verify", "--db", url, "--signer", str(key)], env={"LEONET_TOKEN": ""})
    assert got.exit_code == 0, got.output
    with svc.engine.begin() as conn:
        last = audit_rows(conn)[-1]
        seq = last["seq"] + 1
        row = {"seq": seq, "at": last["at"], "actor": "op1", "action": "audit.read", "object_type": "audit", "object_id": "entries", "payload": "{}",
               "prev_hash": last["hash"]}
        row["hash"] = audit.entry_hash(last["hash"], seq, row["at"], row["actor"], row["action"], row["object_type"], row["object_id"], row["payload"])
        conn.execute(insert(audit_log).values(row))
        conn.execute(update(audit_head).values(seq=seq, hash=row["hash"]))
    assert svc.audit_verify(None).ok  # chain and replay alone cannot tell
    res = svc.audit_verify(None, signer=pub)
    assert not res.ok and res.first_bad == seq and "carries no signature" in res.problem
    with svc.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(sig="00" * 64))
    res = svc.audit_verify(None, signer=pub)
    assert not res.ok and "did not make" in res.problem
    other = tmp_path / "other.pem"
    assert "did not make" in svc.audit_verify(None, signer=generate_key(other)).problem  # another key's log
