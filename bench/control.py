"""Benchmark: the control plane under 50 concurrent clients on 127.0.0.1, with and without a
bad-token flood, on SQLite and PostgreSQL, beside a baseline server measured in the same run.

    .venv/bin/python bench/control.py [--seconds 60] [--clients 50] [--rate 2] [--flood 225]
                                      [--backends sqlite,postgresql] [--pg-url URL] [--baseline cbe2b32|none]

Each server gets a fresh store and a ``leonet serve`` child process with its default limits:
this checkout's, and the baseline's (``--baseline``: a git revision, by default main before the
server was made cheaper per request; its ``src`` is taken with ``git archive`` into a temporary
folder and put first on the child's ``PYTHONPATH``). Each client has its own source address
(127.0.1.N), its own partner token and one of ten operator tokens, and repeats, paced at
``--rate`` operations a second: file a request (write), read it back, approve it (write). Phase
"alone" runs the clients for ``--seconds``; phase "+flood" the same while another process (4
threads, from 127.0.0.2; its own GIL, so that it does not delay the measuring clients) sends
``--flood`` bad-token requests a second. The two servers run each phase one after
the other (baseline first), so that they meet the same machine as far as possible. Everything is
bounded in time and count; all traffic goes to 127.0.0.1.

Reported per server and phase: offered and served requests/s, p50/p99/max latency, non-2xx
answers, acknowledged writes lost or doubled (every 201/200 checked against the store
afterwards), the audit chain status (chain + replay), for the flood how it was answered (401 /
429), the server's CPU milliseconds per client request (psutil; on PostgreSQL "+" the CPU of
the backends serving that database) -- a figure that does not depend on how loaded the shared
machine is -- and the median load average during the phase, then the ratios this/baseline.
Targets (issue 12): p99 <= 250 ms on PostgreSQL and <= 500 ms on SQLite, 0 lost or doubled,
chain intact, also under the flood. PostgreSQL needs ``--pg-url`` or ``$LEONET_TEST_PG_URL``
(a role that may create databases). Exit status 0 whatever the verdict: this is a report.
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
BASELINE_REF = "cbe2b32"  # main before the server was made cheaper per request (group commit etc.)
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

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    flood_proc, flood_q = None, None
    if flood_rps > 0:
        # The attacker is another process (as it would be): its threads must not take the GIL
        # from the measuring clients, whose latencies would then include the wait for it.
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        flood_q = ctx.Queue()
        flood_proc = ctx.Process(target=_flood, args=(base, flood_rps, seconds, stop_at, flood_q), daemon=True)
        flood_proc.start()
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    wall = time.monotonic() - t0
    if flood_proc is not None and flood_q is not None:
        import queue

        try:
            flood_codes.update(flood_q.get(timeout=max(10.0, stop_at - time.monotonic() + 120)))
        except queue.Empty:
            flood_codes[-1] += 1  # the flood process did not report
        flood_proc.join(30)
        if flood_proc.is_alive():
            flood_proc.kill()
    return {"lat": lat, "codes": codes, "acked": acked, "approved": approved, "wall": wall, "flood": flood_codes}


def _flood(base: str, flood_rps: float, seconds: float, stop_at: float, out: Any) -> None:
    """In its own process: 4 threads from 127.0.0.2 sending bad tokens at ``flood_rps`` in all
    until ``stop_at`` (time.monotonic, one clock for all processes); the status counts to ``out``."""
    import httpx

    codes: Counter[int] = Counter()
    lock = threading.Lock()
    per = int(flood_rps * seconds / 4) + 1

    def flooder(j: int) -> None:
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=base, timeout=60, transport=transport) as http:
            nxt = time.monotonic()
            for m in range(per):
                if time.monotonic() >= stop_at:
                    return
                time.sleep(max(0.0, nxt - time.monotonic()))
                nxt += 4 / flood_rps
                try:
                    r = http.get("/whoami", headers={"Authorization": f"Bearer lnt_flood{j}_{m}"})
                    with lock:
                        codes[r.status_code] += 1
                except httpx.HTTPError:
                    with lock:
                        codes[0] += 1

    threads = [threading.Thread(target=flooder, args=(j,), daemon=True) for j in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    out.put(dict(codes))


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


def _baseline_sources(ref: str, tmp: Path) -> Path | None:
    """The ``src`` folder of leonet at git ``ref`` (``git archive``; no worktree left behind), or None."""
    import subprocess
    import tarfile

    repo = Path(__file__).resolve().parents[1]
    out = tmp / f"baseline-{ref}"
    try:
        blob = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", ref, "src"], capture_output=True, check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"baseline {ref}: cannot read it from git ({exc}); running without a baseline")
        return None
    import io

    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(out, filter="data")
    return out / "src"


class _Cpu:
    """CPU seconds (user + system) used by the server process and, on PostgreSQL, by the
    backends serving its database, between :meth:`start` and :meth:`stop`."""

    def __init__(self, pid: int, url: str) -> None:
        import psutil

        self.server, self.url, self.psutil = psutil.Process(pid), url, psutil
        self.pg = not url.startswith("sqlite")

    def _backends(self) -> dict[int, float]:
        if not self.pg:
            return {}
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(self.url)
        dsn = u.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as c:
            pids = [r[0] for r in c.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        out = {}
        for pid in pids:
            try:
                t = self.psutil.Process(pid).cpu_times()
                out[pid] = t.user + t.system
            except (self.psutil.Error, OSError):
                pass
        return out

    def _server(self) -> float:
        t = self.server.cpu_times()
        return t.user + t.system

    def start(self) -> None:
        self.s0, self.b0 = self._server(), self._backends()

    def stop(self) -> tuple[float, float | None]:
        """(server CPU s, database backends' CPU s or None on SQLite); backends that ended during
        the phase are not counted (a pool that keeps its connections loses nothing)."""
        s1, b1 = self._server(), self._backends()
        db = sum(max(0.0, v - self.b0.get(pid, 0.0)) for pid, v in b1.items()) if self.pg else None
        return s1 - self.s0, db


def _load_sampler(stop: threading.Event, out: list[float]) -> None:
    while not stop.wait(1.0):
        out.append(os.getloadavg()[0])


def _run_phase(base: str, url: str, pid: int, tok: dict[str, str], a: argparse.Namespace, flood: float, tag: str) -> dict[str, Any]:
    """One phase against one server: latencies, store check, CPU per request, load during it."""
    cpu = _Cpu(pid, url)
    loads: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_load_sampler, args=(stop, loads), daemon=True)
    cpu.start()
    sampler.start()
    try:
        res = _phase(base, tok, a.clients, a.seconds, a.rate, flood, tag)
    finally:
        stop.set()
        sampler.join(5)
    server_s, db_s = cpu.stop()
    res |= _check_store(url, res)
    n = len(res["lat"]) + sum(res["flood"].values())
    res["cpu_ms"] = 1000 * server_s / max(1, len(res["lat"]))
    res["cpu_ms_all"] = 1000 * server_s / max(1, n)
    res["db_cpu_ms"] = None if db_s is None else 1000 * db_s / max(1, len(res["lat"]))
    res["load"] = sorted(loads)[len(loads) // 2] if loads else os.getloadavg()[0]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rate", type=float, default=2.0, help="Requests a second per client (paced).")
    ap.add_argument("--flood", type=float, default=225.0, help="Bad-token requests a second in phase 2.")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("LEONET_TEST_PG_URL"))
    ap.add_argument("--baseline", default=BASELINE_REF, help="git revision whose server runs beside this one, same client, same phases ('none': skip).")
    a = ap.parse_args()
    if not (1 <= a.clients <= 200 and 1 <= a.seconds <= 600 and 0 < a.rate <= 50 and 0 <= a.flood <= 2000):
        raise SystemExit("bounds: 1..200 clients, 1..600 s, rate 0..50/s, flood 0..2000/s")
    from control_support import free_port, start_server_process

    info = machine_info(("fastapi", "sqlalchemy", "psycopg", "uvicorn", "uvloop", "leonet"))
    load_before = os.getloadavg()
    rows, notes, ratios = [], [], []
    offered = f"{a.clients * a.rate:g}"
    with tempfile.TemporaryDirectory() as tmp_root:
        tmp_root_p = Path(tmp_root)
        servers: list[tuple[str, dict[str, str] | None]] = [("this", None)]
        if a.baseline != "none":
            src = _baseline_sources(a.baseline, tmp_root_p)
            if src is not None:
                env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
                servers.insert(0, (a.baseline, env))
        for backend in a.backends.split(","):
            stores: dict[str, Any] = {}
            try:
                for name, env in servers:
                    (tmp_root_p / name / backend).mkdir(parents=True)
                    url, drop = _store(backend, a.pg_url, tmp_root_p / name / backend)
                    stores[name] = {"url": url, "drop": drop}
                    log(f"{backend} ({name}): seeding {a.clients} partners and {OPERATORS} operators")
                    stores[name]["tok"] = _seed(url, a.clients)
                    port = free_port()
                    stores[name]["port"] = port
                    stores[name]["proc"] = start_server_process(url, port, env=env)
                # Phases interleaved (baseline, this; then the same under the flood) so that both
                # servers meet the same machine load as far as possible; the idle one costs nothing.
                for phase, flood in (("alone", 0.0), ("+flood", a.flood)):
                    got = {}
                    for name, _env in servers:
                        st = stores[name]
                        log(f"{backend} ({name}): {phase}, {a.seconds:.0f} s")
                        res = got[name] = _run_phase(f"http://127.0.0.1:{st['port']}", st["url"], st["proc"].pid, st["tok"], a, flood,
                                                     f"{backend}-{name}-{phase}")
                        lat, codes = res["lat"], res["codes"]
                        bad = sum(n for c, n in codes.items() if not 200 <= c < 300)
                        p99 = _pct(lat, 0.99)
                        ok = p99 <= TARGET_P99_S[backend] and res["lost"] == 0 and res["doubled"] == 0 and res["chain"] == "intact" and bad == 0
                        fl = res["flood"]
                        rows.append([backend[:6], name, phase, offered + (f"+{flood:g}" if flood else ""), f"{len(lat) / res['wall']:.1f}",
                                     f"{_pct(lat, 0.5) * 1000:.0f}", f"{p99 * 1000:.0f}", f"{max(lat) * 1000:.0f}" if lat else "-", str(bad),
                                     str(res["lost"]), str(res["doubled"]), res["chain"][:40],
                                     f"{sum(fl.values())}/{fl.get(401, 0)}/{fl.get(429, 0)}" if flood else "-",
                                     f"{res['cpu_ms']:.2f}" + ("" if res["db_cpu_ms"] is None else f" +{res['db_cpu_ms']:.2f}"),
                                     f"{res['load']:.1f}", f"{verdict(ok)} <={TARGET_P99_S[backend] * 1000:.0f}ms" if name == "this" else "(baseline)"])
                    if len(got) == 2:
                        b, t = got[a.baseline], got["this"]
                        cb = b["cpu_ms"] + (b["db_cpu_ms"] or 0.0)
                        ct = t["cpu_ms"] + (t["db_cpu_ms"] or 0.0)
                        ratios.append(f"{backend} {phase}: p99 {_pct(t['lat'], 0.99) * 1000:.0f} ms vs {_pct(b['lat'], 0.99) * 1000:.0f} ms "
                                      f"({_pct(b['lat'], 0.99) / max(_pct(t['lat'], 0.99), 1e-9):.1f}x shorter), p50 {_pct(t['lat'], 0.5) * 1000:.0f} vs "
                                      f"{_pct(b['lat'], 0.5) * 1000:.0f} ms, CPU per request {ct:.2f} vs {cb:.2f} ms ({cb / max(ct, 1e-9):.1f}x less)")
            finally:
                for name, st in stores.items():
                    proc = st.get("proc")
                    if proc is not None:
                        proc.terminate()
                        proc.wait(30)
                        # The server wrote its last failed-login summary when it stopped.
                        end = _check_store(st["url"], {"acked": {}, "approved": set()})
                        notes.append(f"{backend} ({name}): after the server stopped the chain is {end['chain']}; the flood's failed logins cost "
                                     f"{end['failed_login_rows']} audit row(s) (one summary a minute), not one a request")
                    st["drop"]()
    load_after = os.getloadavg()
    print_table(f"control plane, {a.clients} clients x {a.rate:g} req/s each, {a.seconds:.0f} s per phase, flood {a.flood:g} bad tokens/s from another address",
                ["db", "server", "phase", "offered/s", "req/s", "p50ms", "p99ms", "maxms", "non2xx", "lost", "dbl", "chain", "flood sent/401/429",
                 "cpu ms/req", "load", "verdict"], rows, right=[3, 4, 5, 6, 7, 8, 9, 10, 13, 14])
    notes += ratios
    notes.append("cpu ms/req: CPU time of the server process (+ the PostgreSQL backends serving it) per client request answered, "
                 "flood requests included in the work but not in the count; a figure that does not depend on how loaded the machine is")
    notes.append(f"machine: {info['cores']['usable']} of {info['cores']['logical']} cores ({info['cpu']}), load average 1/5/15 min before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
                 f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}, 'load' column: median 1-min load during the phase; "
                 "clients, flood and server share these cores")
    print_lines(notes)


if __name__ == "__main__":
    main()
