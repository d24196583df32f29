"""Concurrency and crashes: 50 clients filing and deciding requests against one ``leonet
serve`` process on 127.0.0.1 (bounded loops), then kill -9 of the server under load."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
from control_support import BACKENDS, auth, free_port, new_store, seed, start_server_process
from sqlalchemy import func, select

from leonet.control.db import audit_log, decisions, make_engine, policy_states, requests

CLIENTS = 50
ROUNDS = 2
# All clients share 127.0.0.1 and a few tokens here; the limits are tested in test_guard.py.
UNLIMITED = ("--client-rate", "1e6/s", "--token-rate", "1e6/s")


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path):
    """(url, base URL, tokens, port, process) of a seeded store served by a child process."""
    with new_store(request.param, tmp_path) as url:
        tokens = seed(url)
        port = free_port()
        proc = start_server_process(url, port, *UNLIMITED)
        state = {"proc": proc}
        try:
            yield url, f"http://127.0.0.1:{port}", tokens, port, state
        finally:
            if state["proc"].poll() is None:
                state["proc"].terminate()
                state["proc"].wait(15)


def _run_threads(n: int, target) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            out = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (requests, decisions, policy_states, audit_log)}
            out |= {f"audit:{a}": n for a, n in conn.execute(select(audit_log.c.action, func.count()).group_by(audit_log.c.action))}
            return out
    finally:
        engine.dispose()


def test_fifty_concurrent_clients_lose_and_double_nothing(served) -> None:
    url, base, tok, _port, _state = served
    before = _counts(url)
    filed: dict[int, str] = {}
    decided: dict[int, str] = {}
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            for k in range(ROUNDS):
                region = ("box", "cells1")[(i + k) % 2]
                r = http.post("/requests", json={"region": region, "action": "deactivate", "justification": f"c{i}-{k}"}, headers=auth(tok["p1"]))
                assert r.status_code == 201, r.text
                rid = r.json()["id"]
                verb, who = ("approve", "op1") if (i + k) % 3 else ("reject", "op2")
                d = http.post(f"/requests/{rid}/{verb}", json={"reason": f"d{i}-{k}"}, headers=auth(tok[who]))
                assert d.status_code == 200, d.text
                with lock:
                    filed[rid] = f"c{i}-{k}"
                    decided[rid] = d.json()["state"]

    assert _run_threads(CLIENTS, client) == []
    # Races on the same requests: for each, several operators decide at once; exactly one wins.
    # Sensitive (TWN) requests get one approval from each of two operators at once: both count.
    with httpx.Client(base_url=base, timeout=60) as http:
        plain = [http.post("/requests", json={"region": "box", "action": "activate", "justification": f"race{j}"}, headers=auth(tok["p1"])).json()["id"] for j in range(8)]
        sens = [http.post("/requests", json={"region": "TWN", "action": "deactivate", "justification": f"sens{j}"}, headers=auth(tok["p1"])).json()["id"] for j in range(8)]
    outcomes: list[tuple[int, int]] = []

    def racer(i: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            if i < 32:
                rid, verb, who = plain[i % 8], ("approve", "reject")[i % 2], ("op1", "op2")[(i // 8) % 2]
            else:
                rid, verb, who = sens[(i - 32) % 8], "approve", ("op1", "op2")[(i - 32) // 8]
            r = http.post(f"/requests/{rid}/{verb}", json={"reason": f"race {i}"}, headers=auth(tok[who]))
            with lock:
                outcomes.append((rid, r.status_code))
            assert r.status_code in (200, 409), r.text

    assert _run_threads(48, racer) == []
    wins = Counter(rid for rid, status in outcomes if status == 200)
    assert all(wins[r] == 1 for r in plain) and all(wins[r] == 2 for r in sens)

    after = _counts(url)
    approved = sum(s == "approved" for s in decided.values())
    grew = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert len(filed) == CLIENTS * ROUNDS
    assert grew["requests"] == CLIENTS * ROUNDS + 16
    assert grew["decisions"] == CLIENTS * ROUNDS + 8 + 16
    with httpx.Client(base_url=base, timeout=60) as http:
        states = {r["id"]: r for r in http.get("/requests", headers=auth(tok["au"])).json()}
        verify = http.get("/audit/verify", headers=auth(tok["au"])).json()
    assert all(states[rid]["justification"] == j and states[rid]["state"] == decided[rid] for rid, j in filed.items())
    assert all(states[r]["state"] == "approved" and len(states[r]["decisions"]) == 2 for r in sens)
    race_approved = sum(states[r]["state"] == "approved" for r in plain)
    assert grew["policy_states"] == approved + race_approved + len(sens)
    assert grew["audit:request.file"] == grew["requests"] and grew["audit:policy.change"] == grew["policy_states"]
    assert grew["audit:request.approve"] + grew["audit:request.reject"] == grew["decisions"]
    assert verify["ok"] and verify["entries"] == after["audit_log"], verify


def test_kill_9_under_load_keeps_every_acknowledged_write(served) -> None:
    url, base, tok, port, state = served
    acked: dict[int, str] = {}
    lock = threading.Lock()
    enough = threading.Event()

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            for k in range(40):  # bounded; the kill ends it sooner
                try:
                    r = http.post("/requests", json={"region": "box", "action": "deactivate", "justification": f"k{i}-{k}"}, headers=auth(tok["p1"]))
                except httpx.HTTPError:
                    return  # the server died mid-request: not acknowledged
                assert r.status_code == 201, r.text
                with lock:
                    acked[r.json()["id"]] = f"k{i}-{k}"
                    if len(acked) >= 60:
                        enough.set()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    assert enough.wait(60), "the load did not get going"
    os.kill(state["proc"].pid, signal.SIGKILL)
    state["proc"].wait(15)
    for t in threads:
        t.join(60)
    state["proc"] = start_server_process(url, port, *UNLIMITED)
    with httpx.Client(base_url=base, timeout=60) as http:
        rows = {r["id"]: r["justification"] for r in http.get("/requests", headers=auth(tok["au"])).json()}
        verify = http.get("/audit/verify", headers=auth(tok["au"])).json()
        # The restarted server takes writes again, on an intact chain.
        assert http.post("/requests", json={"region": "box", "action": "deactivate", "justification": "after"}, headers=auth(tok["p1"])).status_code == 201
    assert all(rows.get(rid) == j for rid, j in acked.items()), "an acknowledged write is missing"
    counts = _counts(url)
    assert verify["ok"], verify
    assert counts["audit:request.file"] == counts["requests"]  # no request without its audit entry, nor the reverse
