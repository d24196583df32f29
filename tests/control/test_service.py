"""Control-plane store: workflow, audit chain and tampering, atomicity, migrations, the twin's view."""

from __future__ import annotations

import json
from pathlib import Path

import h3
import numpy as np
import pytest
from click.testing import CliRunner
from control_support import BACKENDS, BOX_CELL, CELLS, audit_rows, rewrite_from, seeded_store
from sqlalchemy import delete, func, insert, select, text, update

from leonet.cli.main import cli
from leonet.control import audit, load_policy
from leonet.control.db import audit_head, audit_log, decisions, make_engine, metadata, policy_states, requests
from leonet.control.errors import ConflictError, ForbiddenError, NotFoundError
from leonet.control.service import ControlService
from leonet.errors import InputError
from leonet.policy.model import ServicePolicy
from leonet.times import parse_time


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """(url, tokens, service) of a seeded store on each backend."""
    with seeded_store(request.param, tmp_path) as store:
        yield store


@pytest.fixture(params=BACKENDS, scope="module")
def shared_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One seeded store per backend for tests that must write nothing."""
    with seeded_store(request.param, tmp_path_factory.mktemp(request.param)) as store:
        yield store


def _count(svc: ControlService, table) -> int:
    with svc.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _head(svc: ControlService) -> int:
    with svc.engine.connect() as conn:
        return int(conn.execute(select(audit_head.c.seq)).scalar_one())


def test_request_workflow_and_policy_in_force(store) -> None:
    url, tok, svc = store
    op1, op2, p1, p2, au = (svc.authenticate(tok[n]) for n in ("op1", "op2", "p1", "p2", "au"))
    # A partner files for a sensitive region on behalf of another party.
    r = svc.file_request(p1, "TWN", "deactivate", "asked by the ministry", on_behalf_of="Ministry of X", valid_from="2025-01-01T00:00:00Z", valid_to="2025-02-01T00:00:00Z",
                         backdate=True)
    assert (r["state"], r["approvals_needed"], r["filed_by"], r["party"], r["on_behalf_of"]) == ("pending", 2, "p1", "party of p1", "Ministry of X")
    with pytest.raises(NotFoundError):
        svc.file_request(p2, "TWN", "deactivate", "not entitled")
    with pytest.raises(ForbiddenError):
        svc.decide(p1, r["id"], "approve", "partners cannot decide")
    assert svc.decide(op1, r["id"], "approve", "first")["state"] == "pending"
    with pytest.raises(ConflictError, match="already approved"):
        svc.decide(op1, r["id"], "approve", "same operator twice")
    done = svc.decide(op2, r["id"], "approve", "second")
    assert done["state"] == "approved" and [d["decided_by"] for d in done["decisions"]] == ["op1", "op2"] and done["policy_state_id"]
    with pytest.raises(ConflictError, match="already approved"):
        svc.decide(op2, r["id"], "reject", "too late")
    # Sensitive regions change only through requests; others directly.
    with pytest.raises(ConflictError, match="sensitive"):
        svc.set_state(op1, "TWN", True, "direct")
    with pytest.raises(InputError, match="in the past.*--backdate"):
        svc.set_state(op1, "box", False, "maintenance", valid_from="2025-01-10T00:00:00Z")
    backdated = svc.set_state(op1, "box", False, "maintenance", valid_from="2025-01-10T00:00:00Z", backdate=True)
    assert backdated["backdated"] and svc.audit_entries(au, 0, 10_000)[-2]["payload"]["backdated"] is True
    # In force: TWN inactive in January only; box inactive from Jan 10.
    jan = {x["region"]: x["active"] for x in svc.policy_at(au, "2025-01-15T00:00:00Z")["regions"]}
    mar = {x["region"]: x["active"] for x in svc.policy_at(au, "2025-03-01T00:00:00Z")["regions"]}
    assert jan == {"TWN": False, "box": False, "cells1": None} and mar == {"TWN": None, "box": False, "cells1": None}
    # The filer cannot approve its own request; only the filer withdraws.
    own = svc.file_request(op1, "box", "activate", "internal team")
    with pytest.raises(ForbiddenError, match="cannot approve"):
        svc.decide(op1, own["id"], "approve", "self")
    mine = svc.file_request(p1, "cells1", "deactivate", "x")
    with pytest.raises(ForbiddenError, match="only the filer"):
        svc.decide(op1, mine["id"], "withdraw", "not mine")
    assert svc.decide(p1, mine["id"], "withdraw", "changed our mind")["state"] == "withdrawn"
    assert svc.decide(op2, own["id"], "reject", "no")["state"] == "rejected"
    # Partners see only their entitled regions and their own requests.
    assert {x["key"] for x in svc.list_regions(p2)} == set() and svc.policy_at(p2)["regions"] == []
    assert {x["filed_by"] for x in svc.list_requests(p1)} == {"p1"}
    with pytest.raises(NotFoundError):
        svc.get_request(p1, own["id"])
    assert svc.audit_verify(au).ok


def test_write_and_its_audit_entry_commit_together(store, monkeypatch: pytest.MonkeyPatch) -> None:
    _url, tok, svc = store
    op1, p1 = svc.authenticate(tok["op1"]), svc.authenticate(tok["p1"])
    r = svc.file_request(p1, "box", "deactivate", "x")
    counts = lambda: (_head(svc), _count(svc, requests), _count(svc, decisions), _count(svc, policy_states))  # noqa: E731
    before = counts()
    real = audit.append

    def failing(conn, actor, action, *a, **k):
        if action == "policy.change":  # after the decision and the request update were written
            raise RuntimeError("disk full")
        return real(conn, actor, action, *a, **k)

    monkeypatch.setattr(audit, "append", failing)
    with pytest.raises(RuntimeError):
        svc.decide(op1, r["id"], "approve", "ok")
    assert counts() == before and svc.get_request(op1, r["id"])["state"] == "pending"
    monkeypatch.setattr(audit, "append", real)
    assert svc.decide(op1, r["id"], "approve", "ok")["state"] == "approved"


@pytest.mark.parametrize(
    "call",
    [
        lambda s, t: s.file_request(t("p1"), "box", "deactivate", "x", valid_from="2125-02-01", valid_to="2125-01-01"),
        lambda s, t: s.file_request(t("p1"), "box", "deactivate", "x", valid_from="1900-01-01T00:00:00Z"),  # retroactive, no backdate flag
        lambda s, t: s.set_state(t("op1"), "box", False, "x", valid_from="2020-01-01T00:00:00Z"),
        lambda s, t: s.file_request(t("p1"), "box", "deactivate", "looks fine\u202eevil"),  # right-to-left override
        lambda s, t: s.file_request(t("p1"), "box", "deactivate", "zero\u200bwidth"),
        lambda s, t: s.create_region(t("op1"), "box\n", "polygon", geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}),
        lambda s, t: s.create_user(t("admin"), "op1\n", "operator"),
        lambda s, t: s.update_user(t("admin"), "op1\n", party="x"),
        lambda s, t: s.file_request(t("p1"), "box", "pause", "x"),
        lambda s, t: s.file_request(t("p1"), "box", "deactivate", "bad\x00text"),
        lambda s, t: s.file_request(t("p1"), "box", "deactivate", "x", valid_from="yesterday-ish"),
        lambda s, t: s.file_request(t("p1"), "box", "deactivate", "x", valid_from="9999-01-01T00:00:00Z"),
        lambda s, t: s.create_region(t("op1"), "bow", "polygon", geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
        lambda s, t: s.create_region(t("op1"), "mix", "cells", cells=[CELLS[0], "84283473fffffff"]),
        lambda s, t: s.create_region(t("op1"), "bad key!", "country", country="TW"),
        lambda s, t: s.create_region(t("op1"), "nar", "country", country="Narnia"),
        lambda s, t: s.create_user(t("admin"), "x", "superuser"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(shared_store, call) -> None:
    _url, tok, svc = shared_store
    before = _head(svc)
    with pytest.raises(InputError) as err:
        call(svc, lambda n: svc.authenticate(tok[n]))
    assert len(str(err.value)) > 20
    assert _head(svc) == before


# ------------------------------------------------------------------------------ tampering

def _forge(prev: dict, seq: int, actor: str = "mallory") -> dict:
    row = {"seq": seq, "at": prev["at"], "actor": actor, "action": "policy.change", "object_type": "policy_state", "object_id": "1", "payload": "{}", "prev_hash": prev["hash"]}
    return row | {"hash": audit.entry_hash(prev["hash"], seq, row["at"], actor, row["action"], row["object_type"], row["object_id"], row["payload"])}


def _swap(conn, a: int, b: int) -> None:
    rows = {r["seq"]: r for r in audit_rows(conn)}
    for x, y in ((a, b), (b, a)):
        conn.execute(update(audit_log).where(audit_log.c.seq == x).values({k: v for k, v in rows[y].items() if k != "seq"}))


def _renumber(conn, a: int, b: int) -> None:
    conn.execute(update(audit_log).where(audit_log.c.seq == a).values(seq=-1))
    conn.execute(update(audit_log).where(audit_log.c.seq == b).values(seq=a))
    conn.execute(update(audit_log).where(audit_log.c.seq == -1).values(seq=b))


def _insert_middle(conn, at: int, forged_ok: bool) -> None:
    rows = audit_rows(conn)
    conn.execute(update(audit_log).where(audit_log.c.seq >= at).values(seq=audit_log.c.seq + 100000))
    conn.execute(update(audit_log).where(audit_log.c.seq >= 100000).values(seq=audit_log.c.seq - 99999))
    forged = _forge(rows[at - 2], at)
    conn.execute(insert(audit_log).values(forged if forged_ok else forged | {"hash": "f" * 64}))


TAMPERS = {
    # name: (tamper(conn, n) with n the number of entries, first bad entry, words in the problem)
    "edit actor": (lambda c, n: c.execute(update(audit_log).where(audit_log.c.seq == 5).values(actor="mallory")), lambda n: 5, "edited"),
    "edit payload": (lambda c, n: c.execute(update(audit_log).where(audit_log.c.seq == 7).values(payload='{"role":"admin"}')), lambda n: 7, "edited"),
    "edit time": (lambda c, n: c.execute(update(audit_log).where(audit_log.c.seq == 2).values(at="2020-01-01T00:00:00.000000Z")), lambda n: 2, "edited"),
    "delete middle": (lambda c, n: c.execute(delete(audit_log).where(audit_log.c.seq == 4)), lambda n: 5, "missing"),
    "delete first": (lambda c, n: c.execute(delete(audit_log).where(audit_log.c.seq == 1)), lambda n: 2, "missing"),
    "delete last": (lambda c, n: c.execute(delete(audit_log).where(audit_log.c.seq == n)), lambda n: n, "deleted"),
    "reorder contents": (lambda c, n: _swap(c, 3, 4), lambda n: 3, "link"),
    "reorder numbers": (lambda c, n: _renumber(c, 3, 4), lambda n: 3, "link"),
    "insert naive": (lambda c, n: _insert_middle(c, 6, False), lambda n: 6, "edited"),
    "insert forged": (lambda c, n: _insert_middle(c, 6, True), lambda n: 7, "link"),
    "append forged": (lambda c, n: c.execute(insert(audit_log).values(_forge(audit_rows(c)[-1], n + 1))), lambda n: n + 1, "appended"),
    "edit head": (lambda c, n: c.execute(update(audit_head).values(hash="0" * 64)), lambda n: n, "head"),
}


def test_audit_tampering_is_detected(store) -> None:
    url, tok, svc = store
    au = None  # the database holder verifies: no audit.read entries appended while tampering
    svc.file_request(svc.authenticate(tok["p1"]), "box", "deactivate", "x")
    with svc.engine.connect() as conn:
        snapshot, head = audit_rows(conn), dict(conn.execute(select(audit_head)).one()._mapping)
    n = len(snapshot)
    assert n >= 12 and svc.audit_verify(au).ok
    for name, (tamper, first_bad, word) in TAMPERS.items():
        with svc.engine.begin() as conn:
            tamper(conn, n)
        res = svc.audit_verify(au)
        assert not res.ok and res.first_bad == first_bad(n) and word in res.problem, (name, res)
        with svc.engine.begin() as conn:  # restore the untouched log
            conn.execute(delete(audit_log))
            conn.execute(insert(audit_log), snapshot)
            conn.execute(update(audit_head).values(seq=head["seq"], hash=head["hash"]))
        assert svc.audit_verify(au).ok, name
    # A full rewrite (every later hash and the head recomputed) is caught against a kept head hash.
    with svc.engine.begin() as conn:
        rewrite_from(conn, 4)
    assert svc.audit_verify(au).ok
    res = svc.audit_verify(au, expect_head=head["hash"])
    assert not res.ok and "rewritten" in res.problem
    # The CLI reports the first bad entry and exits 1; export is JSON Lines.
    with svc.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 9).values(object_id="999"))
    got = CliRunner().invoke(cli, ["audit", "verify", "--db", url])
    assert got.exit_code == 1 and "entry 9" in got.output


# ------------------------------------------------------------------------------ schema and the twin

def test_migrations_match_the_models(store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    _url, _tok, svc = store
    with svc.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_load_policy_applies_states_at_each_time(store) -> None:
    url, tok, svc = store
    op1, op2, p1 = (svc.authenticate(tok[n]) for n in ("op1", "op2", "p1"))
    svc.set_state(op1, "cells1", False, "off in January", valid_from="2025-01-01T00:00:00Z", valid_to="2025-02-01T00:00:00Z", backdate=True)
    svc.set_state(op1, "cells1", True, "back on for Jan 10", valid_from="2025-01-10T00:00:00Z", valid_to="2025-01-11T00:00:00Z", backdate=True)
    r = svc.file_request(p1, "box", "deactivate", "x", valid_from="2025-01-05T00:00:00Z", backdate=True)
    svc.decide(op2, r["id"], "approve", "ok")
    pol = load_policy(url)
    assert isinstance(pol, ServicePolicy) and len(pol.rules) == 3 and pol.default_active
    cells = np.array([h3.str_to_int(c) for c in CELLS + [h3.latlng_to_cell(*BOX_CELL, 5), h3.latlng_to_cell(0.0, 0.0, 5)]], dtype=np.uint64)
    t = np.array([parse_time(x) for x in ("2024-12-31", "2025-01-06", "2025-01-10T12:00", "2025-03-01")], dtype=np.int64)
    got = pol.active(cells, 5, t)
    expect = np.array([[1, 0, 1, 1]] * 3 + [[1, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    assert (got == expect).all(), got
    # A scenario's own policy as the default: its rules first, the store's after.
    base = ServicePolicy.active_everywhere().deactivate(ServicePolicy.active_only_in(["JP"]).rules[0].region)
    assert load_policy(url, default=base).rules[0] == base.rules[0]
    assert not load_policy(url, default=False).default_active


def test_cli_end_to_end_on_a_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"

    def run(*a: str, token: str | None = None, input: str | None = None):
        env = {"LEONET_TOKEN": token} if token else {"LEONET_TOKEN": ""}
        return CliRunner().invoke(cli, list(a), env=env, input=input, catch_exceptions=False)

    init = run("db", "init", "--db", url, "--admin", "alice", "--admin", "bob")
    alice, bob = init.stdout.strip().splitlines()[-2:]
    assert init.exit_code == 0 and alice.startswith("lnt_") and bob.startswith("lnt_")
    again = run("db", "init", "--db", url)
    assert again.exit_code == 1 and "already has users" in again.output

    def add(name: str, role: str) -> str:
        code = run("user", "add", name, "--role", role, "--db", url, token=alice).stdout.strip().splitlines()[-1]
        assert code.startswith("lne_")
        (tmp_path / f"{name}.code").write_text(code + "\n")
        got = run("user", "enrol", name, "--db", url, "--code-file", str(tmp_path / f"{name}.code"), "-o", str(tmp_path / f"{name}.token"))
        assert got.exit_code == 0, got.output
        assert oct((tmp_path / f"{name}.token").stat().st_mode & 0o777) == "0o600"
        return (tmp_path / f"{name}.token").read_text().strip()

    op, op2, au = add("op", "operator"), add("op2", "operator"), add("au", "auditor")
    # The token file option reads the token; a second admin confirms the operators.
    for name in ("op", "op2"):
        (tmp_path / "bob.token").write_text(bob + "\n")
        assert run("user", "confirm", name, "--db", url, "--token-file", str(tmp_path / "bob.token")).exit_code == 0
    bad_name = run("user", "add", "op\n", "--role", "operator", "--db", url, token=alice)
    assert bad_name.exit_code == 2 and "not valid" in bad_name.output
    cells = tmp_path / "cells.txt"
    cells.write_text("\n".join(CELLS))
    assert run("policy", "add-region", "c1", "--cells", str(cells), "--db", url, token=op).exit_code == 0
    filed = run("request", "file", "c1", "--action", "deactivate", "--justification", "test", "--json", "--db", url, token=op)
    rid = str(json.loads(filed.stdout)["id"])
    denied = run("request", "approve", rid, "--reason", "self", "--db", url, token=op)
    assert denied.exit_code == 1 and "cannot approve" in denied.output
    assert json.loads(run("request", "approve", rid, "--reason", "ok", "--db", url, token=op2).stdout)["state"] == "approved"
    shown = json.loads(run("policy", "show", "--json", "--db", url, token=au).stdout)
    assert shown["regions"][0]["active"] is False
    assert run("audit", "verify", "--db", url).exit_code == 0
    out = tmp_path / "audit.jsonl"
    assert run("audit", "export", "-o", str(out), "--db", url, token=au).exit_code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1)) and lines[-1]["action"] == "audit.read"
    bad = run("policy", "show", "--db", url, token="nope")
    assert bad.exit_code == 1 and "token refused" in bad.output
    missing = run("policy", "show", "--db", f"sqlite:///{tmp_path / 'none.db'}", token="x")
    assert missing.exit_code == 1 and "leonet db init" in missing.output
    with make_engine(url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
