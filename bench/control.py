"""Benchmark: the control plane under 50 concurrent clients on 127.0.0.1, with and without a
bad-token flood, on SQLite and PostgreSQL.

    .venv/bin/python bench/control.py [--seconds 60] [--clients 50] [--rate 2] [--flood 225]
                                      [--backends sqlite,postgresql] [--pg-url URL]

Each backend gets a fresh store and a ``leonet serve`` child process with its default limits.
Each client has its own source address (127.0.1.N), its own partner token and one of ten
operator tokens, and repeats, paced at ``--rate`` operations a second: file a request
(write), read it back, approve it (write). Phase 1 runs the clients alone for ``--seconds``;
phase 2 the same while flood threads from 127.0.0.2 send ``--flood`` bad-token requests a
second. Both phases are bounded in time and count; all traffic goes to 127.0.0.1.

Reported per phase: requests/s served to the clients, p50/p99/max latency, non-2xx answers,
acknowledged writes lost or doubled (every 201/200 checked against the store afterwards), the
audit chain status (chain + replay), and for the flood how it was answered (401 / 429) and
how many audit rows it cost. Targets (issue 12): p99 <= 250 ms on PostgreSQL and <= 500 ms on
SQLite, 0 lost or doubled, chain intact, also under the flood. PostgreSQL needs
``--pg-url`` or ``$LEONET_TEST_PG_URL`` (a role that may create databases). Exit status 0
whatever the verdict: this is a report. The machine's load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from _common import log, machine_info, print_lines, print_table, verdict  # noqa: E402

TARGET_P99_S = {"sqlite": 0.5, "postgresql": 0.25}
OPERATORS = 10


def _store(backend: str, pg_url: str | None, tmp: Path) -> tuple[str, Any]:
    """A fresh database URL and a function that drops it."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'bench-control.db'}", lambda: None
    if not pg_url:
        raise SystemExit("PostgreSQL: give --pg-url or set LEONET_TEST_PG_URL (a role with CREATEDB), or --backends sqlite")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"leonet_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(pg_url).set(database=name).render_as_string(hide_password=False), drop


def _seed(url: str, clients: int) -> dict[str, str]:
    """Admins, OPERATORS confirmed operators, one partner per client, an auditor, region box."""
    from control_support import BOX, enrol

    from leonet.control.db import make_engine
    from leonet.control.service import ControlService, init_store

    tok = init_store(url, ("admin", "admin2"))
    engine = make_engine(url)
    try:
        svc = ControlService(engine)
        for i in range(OPERATORS):
            tok[f"op{i}"] = enrol(svc, tok["admin"], f"op{i}", "operator", confirm_with=tok["admin2"])
        for i in range(clients):
            tok[f"p{i}"] = enrol(svc, tok["admin"], f"p{i}", "partner", ["box"])
        tok["au"] = enrol(svc, tok["admin"], "au", "auditor")
        svc.create_region(svc.authenticate(tok["op0"]), "box", "polygon", geometry=BOX)
    finally:
        engine.dispose()
    return tok


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def _phase(base: str, tok: dict[str, str], clients: int, seconds: float, rate: float, flood_rps: float, tag: str) -> dict[str, Any]:
    import httpx

    lat: list[float] = []
    codes: Counter[int] = Counter()
    acked: dict[int, str] = {}
    approved: set[int] = set()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    flood_codes: Counter[int] = Counter()

    def timed(http: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = http.request(method, path, **kw)
        except httpx.HTTPError:
            with lock:
                codes[0] += 1
            return None
        dt = time.perf_counter() - t0
        with lock:
            lat.append(dt)
            codes[r.status_code] += 1
        return r

    def client(i: int) -> None:
        transport = httpx.HTTPTransport(local_address=f"127.0.1.{i + 1}")
        mine, op = {"Authorization": f"Bearer {tok[f'p{i}']}"}, {"Authorization": f"Bearer {tok[f'op{i % OPERATORS}']}"}
        with httpx.Client(base_url=base, timeout=60, transport=transport) as http:
            k, nxt = 0, time.monotonic() + (i / clients) / rate  # spread the clients' phases
            while time.monotonic() < stop_at and k < 100_000:
                time.sleep(max(0.0, nxt - time.monotonic()))
                nxt += 3 / rate  # three requests per round
                just = f"{tag}-c{i}-{k}"
                r = timed(http, "POST", "/requests", json={"region": "box", "action": "deactivate", "justification": just}, headers=mine)
                if r is None or r.status_code != 201:
                    k += 1
                    continue
                rid = r.json()["id"]
                with lock:
                    acked[rid] = just
                timed(http, "GET", f"/requests/{rid}", headers=mine)
                a = timed(http, "POST", f"/requests/{rid}/approve", json={"reason": just}, headers=op)
                if a is not None and a.status_code == 200:
                    with lock:
                        approved.add(rid)
                k += 1

    def flooder(j: int, n: int) -> None:
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=base, timeout=60, transport=transport) as http:
            nxt = time.monotonic()
            for m in range(n):
                if time.monotonic() >= stop_at:
                    return
                time.sleep(max(0.0, nxt - time.monotonic()))
                nxt += 4 / flood_rps
                try:
                    r = http.get("/whoami", headers={"Authorization": f"Bearer lnt_flood{j}_{m}"})
                    with lock:
                        flood_codes[r.status_code] += 1
                except httpx.HTTPError:
                    with lock:
                        flood_codes[0] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    if flood_rps > 0:
        per = int(flood_rps * seconds / 4) + 1
        threads += [threading.Thread(target=flooder, args=(j, per), daemon=True) for j in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    wall = time.monotonic() - t0
    return {"lat": lat, "codes": codes, "acked": acked, "approved": approved, "wall": wall, "flood": flood_codes}


def _check_store(url: str, res: dict[str, Any]) -> dict[str, Any]:
    """Lost / doubled acknowledged writes, and the chain (hash links + replay of every table)."""
    from sqlalchemy import func, select

    from leonet.control import audit
    from leonet.control.db import audit_log, decisions, make_engine, read_tx, requests

    engine = make_engine(url)
    try:
        with read_tx(engine) as conn:
            rows = {r.id: r.justification for r in conn.execute(select(requests.c.id, requests.c.justification))}
            per_just = Counter(rows.values())
            dec = Counter(conn.execute(select(decisions.c.request_id)).scalars())
            failed_rows = conn.execute(select(func.count()).select_from(audit_log).where(audit_log.c.action == "login.failed")).scalar_one()
            ok = audit.verify(conn)
    finally:
        engine.dispose()
    lost = sum(rows.get(rid) != j for rid, j in res["acked"].items()) + sum(dec.get(rid, 0) != 1 for rid in res["approved"])
    doubled = sum(n > 1 for n in per_just.values()) + sum(n > 1 for n in dec.values())
    return {"lost": lost, "doubled": doubled, "chain": "intact" if ok.ok else f"BROKEN: {ok.problem}", "failed_login_rows": failed_rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rate", type=float, default=2.0, help="Requests a second per client (paced).")
    ap.add_argument("--flood", type=float, default=225.0, help="Bad-token requests a second in phase 2.")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("LEONET_TEST_PG_URL"))
    a = ap.parse_args()
    if not (1 <= a.clients <= 200 and 1 <= a.seconds <= 600 and 0 < a.rate <= 50 and 0 <= a.flood <= 2000):
        raise SystemExit("bounds: 1..200 clients, 1..600 s, rate 0..50/s, flood 0..2000/s")
    from control_support import free_port, start_server_process

    info = machine_info(("fastapi", "sqlalchemy", "psycopg", "leonet"))
    load_before = os.getloadavg()
    rows, notes = [], []
    for backend in a.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            url, drop = _store(backend, a.pg_url, Path(tmp))
            try:
                log(f"{backend}: seeding {a.clients} partners and {OPERATORS} operators")
                tok = _seed(url, a.clients)
                port = free_port()
                proc = start_server_process(url, port)
                try:
                    for phase, flood in (("clients", 0.0), ("clients + flood", a.flood)):
                        log(f"{backend}: {phase}, {a.seconds:.0f} s")
                        res = _phase(f"http://127.0.0.1:{port}", tok, a.clients, a.seconds, a.rate, flood, f"{backend}-{phase.replace(' ', '')}")
                        chk = _check_store(url, res)
                        lat, codes = res["lat"], res["codes"]
                        bad = sum(n for c, n in codes.items() if not 200 <= c < 300)
                        p99 = _pct(lat, 0.99)
                        ok = p99 <= TARGET_P99_S[backend] and chk["lost"] == 0 and chk["doubled"] == 0 and chk["chain"] == "intact" and bad == 0
                        fl = res["flood"]
                        rows.append([backend[:6], "+flood" if flood else "alone", f"{len(lat) / res['wall']:.1f}", f"{_pct(lat, 0.5) * 1000:.0f}", f"{p99 * 1000:.0f}",
                                     f"{max(lat) * 1000:.0f}" if lat else "-", str(bad), str(chk["lost"]), str(chk["doubled"]), chk["chain"][:40],
                                     f"{sum(fl.values())}/{fl.get(401, 0)}/{fl.get(429, 0)}" if flood else "-",
                                     f"{verdict(ok)} <={TARGET_P99_S[backend] * 1000:.0f}ms"])
                finally:
                    proc.terminate()
                    proc.wait(30)
                # The server wrote its last failed-login summary when it stopped.
                end = _check_store(url, {"acked": {}, "approved": set()})
                notes.append(f"{backend}: after the server stopped the chain is {end['chain']}; the flood's failed logins cost "
                             f"{end['failed_login_rows']} audit row(s) (one summary a minute), not one a request")
            finally:
                drop()
    load_after = os.getloadavg()
    print_table(f"control plane, {a.clients} clients x {a.rate:g} req/s each, {a.seconds:.0f} s per phase, flood {a.flood:g} bad tokens/s from another address",
                ["db", "phase", "req/s", "p50ms", "p99ms", "maxms", "non2xx", "lost", "dbl", "chain", "flood sent/401/429", "verdict"], rows,
                right=[2, 3, 4, 5, 6, 7, 8])
    notes.append(f"machine: {info['cores']['usable']} of {info['cores']['logical']} cores ({info['cpu']}), load average 1/5/15 min before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
                 f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}; clients, flood and server share these cores")
    print_lines(notes)


if __name__ == "__main__":
    main()
