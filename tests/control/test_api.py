"""REST API: the authorisation matrix (every role against every endpoint) and bad input over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from control_support import BACKENDS, CELLS, auth, enrol, live_server, new_store, seed

from leonet.control.api import ServerSettings
from leonet.control.db import make_engine
from leonet.control.limits import Rate
from leonet.control.principal import PERMISSIONS
from leonet.control.routes import ROUTES
from leonet.control.service import ControlService

ROLE_USER = {"admin": "admin", "operator": "op1", "partner": "p1", "auditor": "au"}
_uid = itertools.count()


class Ctx:
    """Fixtures for one call: the service (to prepare requests) and the acting user."""

    def __init__(self, svc: ControlService, tokens: dict[str, str]) -> None:
        self.svc, self.tokens = svc, tokens

    def request_by(self, user: str) -> int:
        return int(self.svc.file_request(self.svc.authenticate(self.tokens[user]), "box", "deactivate", "matrix")["id"])

    def fresh(self, role: str, by: str = "admin") -> tuple[str, str]:
        """A new enrolled user of ``role`` created by admin ``by``: (name, token)."""
        name = f"f{next(_uid)}"
        return name, enrol(self.svc, self.tokens[by], name, role)


def _filer(role: str) -> str:
    return ROLE_USER[role] if role in ("partner", "operator") else "p1"


# (method, path template, permission, path params(ctx, role), body(role), status when allowed); the
# caller's token is the role's seeded user's, except for rotation (a fresh user: rotating revokes it).
Endpoint = tuple[str, str, str, Callable[[Ctx, str], dict[str, Any]], Callable[[str], Any], int]
NONE: Callable[[Ctx, str], dict[str, Any]] = lambda c, r: {}  # noqa: E731
ENDPOINTS: list[Endpoint] = [
    ("GET", "/whoami", "whoami", NONE, lambda r: None, 200),
    ("POST", "/token/rotate", "whoami", NONE, lambda r: None, 200),
    ("POST", "/users/{name}/confirm", "users.write", lambda c, r: {"name": c.fresh("operator", by="admin2")[0]}, lambda r: None, 200),
    ("GET", "/audit/head", "audit.read", NONE, lambda r: None, 200),
    ("GET", "/users", "users.read", NONE, lambda r: None, 200),
    ("POST", "/users", "users.write", NONE, lambda r: {"name": f"u{next(_uid)}", "role": "auditor"}, 201),
    ("PATCH", "/users/{name}", "users.write", lambda c, r: {"name": "p2"}, lambda r: {"party": f"p{next(_uid)}"}, 200),
    ("POST", "/users/{name}/token", "users.write", lambda c, r: {"name": c.fresh("partner")[0]}, lambda r: None, 200),
    ("GET", "/regions", "regions.read", NONE, lambda r: None, 200),
    ("POST", "/regions", "regions.write", NONE, lambda r: {"key": f"r{next(_uid)}", "kind": "cells", "cells": CELLS}, 201),
    ("GET", "/regions/{key}", "regions.read", lambda c, r: {"key": "box"}, lambda r: None, 200),
    ("GET", "/policy", "policy.read", NONE, lambda r: None, 200),
    ("GET", "/policy/states", "policy.read", NONE, lambda r: None, 200),
    ("POST", "/policy/states", "policy.write", NONE, lambda r: {"region": "box", "active": False, "reason": "matrix"}, 201),
    ("GET", "/requests", "requests.read", NONE, lambda r: None, 200),
    ("POST", "/requests", "requests.file", NONE, lambda r: {"region": "box", "action": "deactivate", "justification": "matrix"}, 201),
    ("GET", "/requests/{request_id}", "requests.read", lambda c, r: {"request_id": c.request_by("p1")}, lambda r: None, 200),
    ("POST", "/requests/{request_id}/approve", "requests.decide", lambda c, r: {"request_id": c.request_by("p1")}, lambda r: {"reason": "ok"}, 200),
    ("POST", "/requests/{request_id}/reject", "requests.decide", lambda c, r: {"request_id": c.request_by("p1")}, lambda r: {"reason": "no"}, 200),
    ("POST", "/requests/{request_id}/withdraw", "requests.withdraw", lambda c, r: {"request_id": c.request_by(_filer(r))}, lambda r: {"reason": "w"}, 200),
    ("GET", "/audit", "audit.read", NONE, lambda r: None, 200),
    ("GET", "/audit/export", "audit.read", NONE, lambda r: None, 200),
    ("GET", "/audit/verify", "audit.read", NONE, lambda r: None, 200),
]


@pytest.fixture(params=BACKENDS, scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(base URL, tokens, service) of a seeded store served on 127.0.0.1."""
    with new_store(request.param, tmp_path_factory.mktemp(request.param)) as url:
        tokens = seed(url)
        engine = make_engine(url)
        try:
            # Every role's calls come from 127.0.0.1: no lockout here (test_guard.py covers it).
            with live_server(url, ServerSettings(failure_rate=Rate(1e6, 1e6), client_rate=Rate(1e6, 1e6), token_rate=Rate(1e6, 1e6))) as base:
                yield base, tokens, ControlService(engine)
        finally:
            engine.dispose()


def _head(svc: ControlService) -> int:
    return svc.audit_verify(None).head_seq


def test_matrix_covers_every_endpoint(server) -> None:
    base, _tokens, _svc = server
    spec = httpx.get(f"{base}/openapi.json").json()
    served = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    public = {(r.method, r.path) for r in ROUTES.values() if r.permission is None}
    assert served == {(m, p) for m, p, *_ in ENDPOINTS} | public
    assert {perm for _m, _p, perm, *_ in ENDPOINTS} == set(PERMISSIONS)
    # Every operation but enrolment declares the bearer scheme, and every one documents its errors.
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert bool(op.get("security")) == ((op["operationId"], path) not in {("enrol", "/enrol")}), path
            assert {"400", "401", "403", "404", "409", "413", "422", "429", "503"} <= set(op["responses"]), path
            assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut"), path


@pytest.mark.parametrize("role", list(ROLE_USER) + ["anonymous", "bad token"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_authorisation_matrix(server, endpoint: Endpoint, role: str) -> None:
    base, tokens, svc = server
    method, template, perm, params, body, ok_status = endpoint
    ctx = Ctx(svc, tokens)
    path = template.format(**params(ctx, role))
    token = "lnt_not_a_token" if role == "bad token" else None
    if role in ROLE_USER:
        token = ctx.fresh(role)[1] if template == "/token/rotate" else tokens[ROLE_USER[role]]
    headers = auth(token) if token else {}
    before = _head(svc)
    r = httpx.request(method, base + path, headers=headers, json=body(role), timeout=30)
    detail = r.json().get("detail", "") if r.headers.get("content-type", "").startswith("application/json") and r.status_code >= 400 else ""
    if role in ("anonymous", "bad token"):
        assert r.status_code == 401 and "token" in detail and r.headers["www-authenticate"] == "Bearer", r.text
        assert _head(svc) == before  # counted in memory, summarised later: no row per failure
    elif role in PERMISSIONS[perm]:
        assert r.status_code == ok_status, r.text
        if template.startswith("/audit"):
            assert _head(svc) == before + 1  # the read was recorded
    else:
        assert r.status_code == 403 and role in detail and perm in detail, r.text
        assert _head(svc) == before  # denied: nothing written


BAD = [
    # (user, method, path, json body, status, words in the message)
    ("p1", "POST", "/requests", {"region": "box", "action": "deactivate"}, 422, "justification"),
    ("p1", "POST", "/requests", {"region": "box", "action": "deactivate", "justification": "j", "extra": 1}, 422, "extra"),
    ("p1", "POST", "/requests", {"region": "box", "action": "deactivate", "justification": "a\u0000b"}, 422, "control"),
    ("p1", "POST", "/requests", {"region": "box", "action": "deactivate", "justification": "j", "valid_from": "2125-02-01", "valid_to": "2125-01-01"}, 422, "after"),
    ("p1", "POST", "/requests", {"region": "box", "action": "deactivate", "justification": "j", "valid_from": "1900-01-01T00:00:00Z"}, 409, "backdate"),
    ("p1", "POST", "/requests", {"region": "box", "action": "deactivate", "justification": "safe\u202egnp.exe"}, 422, "direction"),
    ("p1", "POST", "/requests", {"region": "box\n", "action": "deactivate", "justification": "j"}, 422, "region"),
    ("admin", "POST", "/users", {"name": "op1\n", "role": "operator"}, 422, "name"),
    ("p1", "POST", "/requests", {"region": "box", "action": "deactivate", "justification": "j", "valid_from": "soon"}, 422, "valid_from"),
    ("p1", "POST", "/requests", {"region": "nowhere", "action": "deactivate", "justification": "j"}, 404, "no region"),
    ("p1", "POST", "/requests", "not json", 422, "invalid input"),
    ("op1", "GET", f"/requests/{2**63}", None, 422, "request_id"),
    ("op1", "GET", f"/requests/{2**31}", None, 422, "request_id"),
    ("op1", "GET", "/requests/999999", None, 404, "no request"),
    ("op1", "GET", "/policy?at=tomorrow-ish", None, 422, "cannot read time"),
    ("op1", "POST", "/regions", {"key": "z", "kind": "polygon", "geometry": {"type": "Point", "coordinates": [0, 0]}}, 422, "Polygon"),
    ("op1", "POST", "/regions", {"key": "box", "kind": "cells", "cells": CELLS}, 409, "already exists"),
    ("op1", "POST", "/policy/states", {"region": "TWN", "active": True, "reason": "r"}, 409, "sensitive"),
    ("admin", "POST", "/users", {"name": "p1", "role": "partner"}, 409, "already exists"),
    ("admin", "PATCH", "/users/ghost", {"role": "auditor"}, 404, "no user"),
]


@pytest.mark.parametrize("user,method,path,body,status,words", BAD, ids=[f"{b[1]} {b[2][:30]} {b[5]}" for b in BAD])
def test_bad_input_gets_a_clear_4xx_and_writes_nothing(server, user: str, method: str, path: str, body: Any, status: int, words: str) -> None:
    base, tokens, svc = server
    before = _head(svc)
    kw: dict[str, Any] = {"content": body, "headers": auth(tokens[user]) | {"content-type": "application/json"}} if isinstance(body, str) else {"json": body, "headers": auth(tokens[user])}
    r = httpx.request(method, base + path, timeout=30, **kw)
    assert r.status_code == status and words in r.json()["detail"], r.text
    assert _head(svc) == before


def test_decided_request_conflicts(server) -> None:
    base, tokens, svc = server
    rid = Ctx(svc, tokens).request_by("p1")
    ok = httpx.post(f"{base}/requests/{rid}/reject", json={"reason": "no"}, headers=auth(tokens["op1"]))
    again = httpx.post(f"{base}/requests/{rid}/approve", json={"reason": "yes"}, headers=auth(tokens["op2"]))
    assert ok.status_code == 200 and again.status_code == 409 and "already rejected" in again.json()["detail"]
    export = httpx.get(f"{base}/audit/export", headers=auth(tokens["au"]))
    assert export.headers["content-type"].startswith("application/x-ndjson") and export.text.count("\n") == _head(svc)  # its own recorded read included


SECRETS = ("J1-secret-justification", "OBO-secret-party", "R1-secret-approval", "J3-secret-justification", "R3-secret-rejection", "OPS-secret-reason")


def test_partner_isolation_on_every_read_path(server) -> None:
    """Issue 12, weakness 4: another partner entitled to the same region read a justification
    through the policy states. p1 and p3 share box; p2 sees none of it."""
    base, tokens, svc = server
    op1, op2 = svc.authenticate(tokens["op1"]), svc.authenticate(tokens["op2"])
    r1 = svc.file_request(svc.authenticate(tokens["p1"]), "box", "deactivate", SECRETS[0], on_behalf_of=SECRETS[1])
    svc.decide(op1, r1["id"], "approve", SECRETS[2])
    r3 = svc.file_request(svc.authenticate(tokens["p3"]), "box", "activate", SECRETS[3])
    svc.decide(op2, r3["id"], "reject", SECRETS[4])
    svc.set_state(op1, "box", True, SECRETS[5], valid_from="2150-01-01T00:00:00Z")
    own = {"p1": set(SECRETS[:3]), "p3": set(SECRETS[3:5]), "p2": set()}
    reads = ["/whoami", "/regions", "/regions/box", "/policy", "/policy/states", "/policy/states?region=box", "/requests",
             "/requests?region=box", f"/requests/{r1['id']}", f"/requests/{r3['id']}", "/requests?state=approved"]
    with httpx.Client(base_url=base, timeout=30) as http:
        for viewer in ("p1", "p3", "p2"):
            seen = ""
            for path in reads:
                r = http.get(path, headers=auth(tokens[viewer]))
                assert r.status_code in (200, 404), (viewer, path, r.text)
                seen += r.text
            leaked = [s for s in SECRETS if s in seen and s not in own[viewer]]
            assert leaked == [], (viewer, leaked)
            assert own[viewer] - {SECRETS[2], SECRETS[4]} <= {s for s in SECRETS if s in seen}, viewer  # its own text stays visible
        # The state from p1's request names the request, never its justification.
        states = http.get("/policy/states?region=box", headers=auth(tokens["op1"])).json()
        mine = [s for s in states if s["request_id"] == r1["id"]]
        assert mine and SECRETS[0] not in str(mine) and mine[0]["reason"] == f"request {r1['id']} approved"
        shown = http.get("/policy/states?region=box", headers=auth(tokens["p3"])).json()
        assert all(s["reason"] is None and s["created_by"] is None for s in shown if s["request_id"] is None)
        # Other partners' requests do not exist for them, whatever they try.
        for path, verb in ((f"/requests/{r1['id']}", "GET"), (f"/requests/{r1['id']}/withdraw", "POST")):
            r = http.request(verb, base + path, headers=auth(tokens["p3"]), json={"reason": "x"} if verb == "POST" else None)
            assert r.status_code == 404 and SECRETS[0] not in r.text
        assert http.get("/regions/box", headers=auth(tokens["p2"])).status_code == 404
