"""The REST API (FastAPI) over :class:`leonet.control.service.ControlService`.

Every operation is registered from the shared route table (:mod:`.routes`). Before any body is
read or parsed, a guard (:class:`Guard`) applies, in order: a lockout of clients with too many
failed logins, a per-client rate limit, the body size limit (413), the bearer token (401; 429
when that failure finds the client out of failed-login allowance) and a per-token rate limit
(429 with ``Retry-After``). Failed logins are counted in memory and
summarised into the audit log once per window. The client address is the TCP peer unless that
peer is a configured trusted proxy (then the last untrusted ``X-Forwarded-For`` hop). Every
response carries security headers. Errors are JSON ``{"detail": "what was wrong and how to fix
it"}``; the spec (``/openapi.json``) documents each status; ``/docs`` serves Swagger UI from
local files (the ``swagger-ui-bundle`` package), so it works offline.
"""

# No "from __future__ import annotations": FastAPI must see the Depends(...) closures in the
# signatures at definition time.

import ipaddress
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import anyio
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from leonet.control import audit
from leonet.control.db import check_initialised, make_engine
from leonet.control.errors import AuthError, http_status
from leonet.control.limits import Buckets, FailedLogins, Rate
from leonet.control.principal import Principal, require
from leonet.control.routes import ROUTES
from leonet.control.service import ControlService
from leonet.control.validate import KEY_PATTERN, check_key, check_text, text_pattern
from leonet.errors import InputError, LeonetError
from leonet.version import __version__

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN), AfterValidator(check_key)]
# Free text: the service's check_text, documented as the equivalent pattern so that the spec says what is accepted.
_TEXT = {"pattern": text_pattern()}
Text200 = Annotated[str, StringConstraints(max_length=200), AfterValidator(lambda v: check_text(v, "text", 200, required=False)),
                    Field(json_schema_extra=_TEXT)]
Text4000 = Annotated[str, StringConstraints(min_length=1, max_length=4000), AfterValidator(lambda v: check_text(v, "text", 4000)),
                     Field(json_schema_extra={"pattern": text_pattern()[:-2] + "[^\\s" + text_pattern()[3:-2] + text_pattern()[1:]})]  # not blank
# ISO-8601 instants (1900..2199; days up to 28 keep every generated date real) or "now".
TIME_PATTERN = r"^(now|(19|20|21)\d\d-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-](0\d|1[0-3]):[0-5]\d)?)?)$"
Time = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=TIME_PATTERN)]
PathKey = Annotated[str, Path(max_length=64, pattern=KEY_PATTERN)]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Request number.")]  # INTEGER keys on PostgreSQL are 32-bit
Role = Literal["admin", "operator", "partner", "auditor"]
PUBLIC = ("/openapi.json", "/docs", "/enrol")  # and /docs/...: no token needed
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                 b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
]


@dataclass
class ServerSettings:
    """Limits of one server process (``leonet serve`` options)."""

    max_body_bytes: int = 8 * 2**20  # a region of 200,000 cells is ~4 MB of JSON
    client_rate: Rate = field(default_factory=lambda: Rate(100.0, 200.0))  # per client address
    token_rate: Rate = field(default_factory=lambda: Rate(50.0, 100.0))  # per token
    failure_rate: Rate = field(default_factory=lambda: Rate(1.0, 20.0))  # failed logins per client before a lockout
    failure_window_s: float = 60.0  # one audit summary of failed logins per window
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks whose X-Forwarded-For is believed
    # Paths served without a token besides the docs and enrolment (a page and its static assets,
    # which cannot send a bearer header when the browser loads them); "/x/" covers all below it, "/" only itself.
    public_paths: tuple[str, ...] = ()
    # Threads running the database calls. Writers queue on one lock anyway and a read takes a
    # few milliseconds, so more threads only fight over the GIL (FastAPI's default is 40).
    threads: int = int(os.environ.get("LEONET_SERVER_THREADS", "16"))


# ------------------------------------------------------------------------------ models


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_In):
    name: Key
    role: Role
    party: Text200 = ""
    entitlements: list[Key] = Field(default_factory=list, max_length=10_000, description="Region keys a partner may see and file requests for.")


class UserUpdate(_In):
    """At least one field; absent fields stay as they are (null is not a value here)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    role: Role = Field(default=None)  # type: ignore[assignment]
    party: Text200 = Field(default=None)  # type: ignore[assignment]
    entitlements: list[Key] = Field(default=None, max_length=10_000)  # type: ignore[assignment]
    active: bool = Field(default=None)  # type: ignore[assignment]


class EnrolIn(_In):
    name: Key
    code: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(description="The one-time enrolment code an admin gave you.")


class RegionCreate(_In):
    key: Key
    kind: Literal["country", "polygon", "cells"]
    name: Text200 | None = None
    country: Text200 | None = Field(default=None, description="ISO 3166-1 code or name (kind=country).")
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon/MultiPolygon, lon/lat degrees (kind=polygon).")
    cells: list[Annotated[str, StringConstraints(max_length=16)]] | None = Field(default=None, max_length=200_000, description="H3 ids in hex (kind=cells).")
    h3_res: int | None = Field(default=None, ge=0, le=15)
    sensitive: bool = Field(default=False, description="Its cells form a sensitive zone: any change reaching them needs two different operators.")


class StateCreate(_In):
    region: Key
    active: bool
    reason: Text4000
    valid_from: Time | None = Field(default=None, description="ISO-8601; default now.")
    valid_to: Time | None = None
    backdate: bool = Field(default=False, description="Allow a valid_from in the past (recorded in the audit log).")


class RequestCreate(_In):
    region: Key
    action: Literal["activate", "deactivate"]
    justification: Text4000
    on_behalf_of: Text200 | None = Field(default=None, description="The party the request is filed for, if not the filer's own.")
    valid_from: Time | None = Field(default=None, description="ISO-8601; default now (at approval if that is later).")
    valid_to: Time | None = None
    backdate: bool = Field(default=False, description="Allow a valid_from in the past (recorded in the audit log).")


class DecisionIn(_In):
    reason: Text4000


class ErrorOut(BaseModel):
    detail: str = Field(description="What was wrong and how to fix it.")


class UserOut(BaseModel):
    name: str
    role: str
    party: str
    entitlements: list[str]
    active: bool
    confirmed: bool = Field(description="A second admin confirmed the user's current credential and role (needed to approve).")
    granted_by: str | None
    confirmed_by: str | None
    created_at: str


class EnrolmentOut(BaseModel):
    enrolment_code: str = Field(description="Shown once; give it to the user, who trades it for a token (POST /enrol).")
    enrolment_expires_at: str


class UserWithCode(UserOut, EnrolmentOut):
    pass


class NameWithCode(EnrolmentOut):
    name: str


class TokenOut(BaseModel):
    name: str
    token: str = Field(description="Shown once, to its holder only; only its hash is stored.")
    token_expires_at: str


class WhoAmI(BaseModel):
    name: str
    role: str
    party: str
    entitlements: list[str]
    confirmed: bool
    token_expires_at: str | None


class RegionOut(BaseModel):
    key: str
    kind: str
    name: str
    country: str | None
    geometry: dict[str, Any] | None
    cells: list[str] | None
    h3_res: int | None
    sensitive: bool
    sensitive_zones_reached: list[str] = Field(description="Sensitive regions sharing cells with this one: its changes need two operators.")
    created_by: str
    created_at: str


class StateOut(BaseModel):
    id: int
    region: str
    active: bool
    valid_from: str | None
    valid_to: str | None
    reason: str | None = Field(description="None for a partner unless the state comes from its own request.")
    request_id: int | None
    backdated: bool
    created_by: str | None
    created_at: str


class RegionInForce(BaseModel):
    region: str
    name: str
    sensitive: bool
    active: bool | None = Field(description="None: no state set, the twin's default applies.")
    state_id: int | None


class PolicyOut(BaseModel):
    at: str
    regions: list[RegionInForce]


class DecisionOut(BaseModel):
    decided_by: str
    decision: str
    reason: str
    created_at: str


class RequestOut(BaseModel):
    id: int
    region: str
    action: str
    justification: str
    filed_by: str
    party: str
    on_behalf_of: str | None
    valid_from: str | None
    valid_to: str | None
    backdated: bool
    state: str
    approvals_needed: int
    sensitive_zones_reached: list[str]
    decisions: list[DecisionOut]
    policy_state_id: int | None
    created_at: str
    updated_at: str


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    payload: Any
    prev_hash: str
    hash: str


class HeadOut(BaseModel):
    seq: int
    hash: str
    store_id: str


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None
    problem: str | None
    store_id: str


_RETRY = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Malformed request (e.g. a bad Content-Length or Authorization header)."},
    401: {"model": ErrorOut, "description": "No token, or an unknown, revoked or expired one."},
    403: {"model": ErrorOut, "description": "The caller's role (or an unconfirmed credential) does not allow this."},
    404: {"model": ErrorOut, "description": "No such object, or not visible to the caller."},
    409: {"model": ErrorOut, "description": "Conflicts with the current state."},
    413: {"model": ErrorOut, "description": "Body larger than the server's limit."},
    422: {"model": ErrorOut, "description": "Invalid input; the detail names the field and the fix."},
    429: {"model": ErrorOut, "description": "Rate limited or locked out after failed logins.", "headers": _RETRY},
    503: {"model": ErrorOut, "description": "Database busy or unreachable."},
}


# ------------------------------------------------------------------------------ the guard


def _too_many(what: str, wait: float) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A 429 saying ``what`` and when to retry (whole seconds, rounded up), in the body and in
    ``Retry-After``."""
    return _json(429, f"{what}; retry after {int(wait) + 1} s", [(b"retry-after", str(int(wait) + 1).encode())])


def _json(status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return status, [(b"content-type", b"application/json")] + (extra or []), json.dumps({"detail": detail}).encode()


class Guard:
    """ASGI middleware run before routing, body reading and parsing (see the module docstring)."""

    def __init__(self, app: Any, service: ControlService, settings: ServerSettings, failures: FailedLogins) -> None:
        self.app, self.service, self.s, self.failures = app, service, settings, failures
        self.clients, self.tokens, self.fails = Buckets(settings.client_rate), Buckets(settings.token_rate), Buckets(settings.failure_rate)
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]

    def client_of(self, scope: dict[str, Any]) -> str:
        peer = (scope.get("client") or ("", 0))[0] or "unknown"
        if not self.proxies or not self._trusted(peer):
            return peer
        hops = [h.strip() for v in _headers(scope, b"x-forwarded-for") for h in v.split(",") if h.strip()]
        for hop in reversed(hops):  # the last hop a trusted proxy did not add is the client
            if not self._trusted(hop):
                return hop[:64]
        return peer

    def _trusted(self, addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in n for n in self.proxies)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secure(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                msg = msg | {"headers": list(msg.get("headers", [])) + SECURITY_HEADERS}
                if msg["status"] == 401 and scope["path"] == "/enrol":  # a refused code counts as a failed login
                    client = scope.get("state", {}).get("client", "unknown")
                    self.failures.add(client, "enrolment refused")
                    self.fails.take(client)
            await send(msg)

        refusal = await self._check(scope)
        if refusal is not None:
            status, headers, body = refusal
            await send_secure({"type": "http.response.start", "status": status, "headers": headers + [(b"content-length", str(len(body)).encode())]})
            await send_secure({"type": "http.response.body", "body": body})
            return
        if _headers(scope, b"content-length") or scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send_secure)
            return
        # A streamed body has no length to check up front: read it here, up to the limit.
        body, more = b"", True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
            if len(body) > self.s.max_body_bytes:
                status, headers, out = _json(413, f"body is over the limit of {self.s.max_body_bytes} bytes; send less")
                await send_secure({"type": "http.response.start", "status": status, "headers": headers + [(b"content-length", str(len(out)).encode())]})
                await send_secure({"type": "http.response.body", "body": out})
                return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send_secure)

    async def _check(self, scope: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        client = self.client_of(scope)
        scope.setdefault("state", {})["client"] = client
        locked = self.fails.empty_for(client)
        if locked > 0:
            self.failures.add(client, "", refused=True)
            return _too_many(f"too many failed logins from {client}", locked)
        wait = self.clients.take(client)
        if wait > 0:
            return _too_many(f"rate limit for client {client} exceeded", wait)
        lengths = _headers(scope, b"content-length")
        if lengths:
            try:
                n = int(lengths[0])
            except ValueError:
                return _json(400, "Content-Length is not a number")
            if n > self.s.max_body_bytes:
                return _json(413, f"body of {n} bytes is over the limit of {self.s.max_body_bytes}; send less (e.g. a polygon instead of many cells)")
        path = scope["path"]
        if path in PUBLIC or path.startswith("/docs/") or any(path == p or (len(p) > 1 and p.endswith("/") and path.startswith(p)) for p in self.s.public_paths):
            return None
        auth = _headers(scope, b"authorization")
        token = None
        if auth:
            scheme, _, cred = auth[0].partition(" ")
            if scheme.lower() != "bearer" or not cred.strip():
                return _json(400, "the Authorization header must be 'Bearer <token>'")
            token = cred.strip()
        who, reason = await anyio.to_thread.run_sync(self.service.check_token, token)
        if who is None:
            # The lockout check above and this failure are not one step: requests in flight
            # together may all pass the check. Each 401 takes a whole token from the client's
            # failures, so one that finds none left is refused as locked out instead.
            wait = self.fails.take(client)
            self.failures.add(client, reason, refused=wait > 0)
            if wait > 0:
                return _too_many(f"too many failed logins from {client}", wait)
            return _json(401, str(_auth_error(reason)), [(b"www-authenticate", b"Bearer")])
        wait = self.tokens.take(str(who.token_id))
        if wait > 0:
            return _too_many(f"rate limit for {who.name}'s token exceeded", wait)
        scope["state"]["principal"] = who
        return None


def _headers(scope: dict[str, Any], name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]


def _auth_error(reason: str) -> AuthError:
    from leonet.control.accounts import auth_error

    return auth_error(reason)


async def _known_query_only(request: Request) -> None:
    """Refuse query parameters the operation does not take (a typo must not pass silently).

    ``async`` like the other dependencies that do no I/O: FastAPI runs a plain function in its
    thread pool, a hand-over (and a thread wake-up) per dependency per request."""
    route = request.scope.get("route")
    known = {p.alias for p in route.dependant.query_params} if route is not None and hasattr(route, "dependant") else set()
    for dep in getattr(getattr(route, "dependant", None), "dependencies", []):
        known |= {p.alias for p in dep.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise InputError(f"unknown query parameter(s) {', '.join(map(repr, unknown))}" + (f"; this operation takes {', '.join(sorted(known))}" if known else "; this operation takes none"))


# ------------------------------------------------------------------------------ the app


_bearer = HTTPBearer(auto_error=False, description="A leonet token (`leonet user enrol` gives you yours).")


def create_app(db_url: str, settings: ServerSettings | None = None, signing_key: Any = None) -> FastAPI:
    """The API over the store at ``db_url`` (which must be initialised); ``signing_key`` signs
    every audit entry it writes (default: ``$LEONET_AUDIT_KEY``, else none)."""
    from leonet.control.service import writers_key

    engine = make_engine(db_url)
    check_initialised(engine)
    return build_app(ControlService(engine, signing_key if signing_key is not None else writers_key()), settings)


def build_app(service: ControlService, settings: ServerSettings | None = None) -> FastAPI:
    s = settings or ServerSettings()
    failures = FailedLogins(s.failure_window_s)

    def flush_failures() -> None:
        summary = failures.drain()
        if summary is not None:
            service.record_failed_logins(summary)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        anyio.to_thread.current_default_thread_limiter().total_tokens = s.threads
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(min(1.0, s.failure_window_s)):
                if failures.due():
                    try:
                        flush_failures()
                    except LeonetError:
                        pass  # database busy: kept counting, written at the next window
        th = threading.Thread(target=loop, name="leonet-failed-logins", daemon=True)
        th.start()
        try:
            yield
        finally:
            stop.set()
            th.join(5)
            try:
                flush_failures()
            except LeonetError:
                pass

    app = FastAPI(title="leonet control plane", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Regions, activation states, requests and approvals, roles and the hash-chained audit log. "
                              "Every operation needs a bearer token except enrolment; see each status below.")
    app.router.dependencies.append(Depends(_known_query_only))
    app.state.service = service
    app.state.failures = failures
    app.state.flush_failures = flush_failures
    app.add_middleware(Guard, service=service, settings=s, failures=failures)  # type: ignore[arg-type]

    @app.exception_handler(LeonetError)
    async def _leonet_error(_request: Request, exc: LeonetError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=http_status(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:20]:
            where = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "invalid input: " + "; ".join(parts) + " (see /docs for the expected fields)"}, status_code=422)

    def allow(permission: str) -> Callable[..., Principal]:
        """A dependency: the caller the guard authenticated, allowed ``permission`` (else 403)."""

        async def dep(request: Request, _creds: Annotated[Any, Depends(_bearer)]) -> Principal:
            who = request.scope.get("state", {}).get("principal")
            if who is None:  # unreachable behind the guard; never serve without it
                raise AuthError("no token: send the header 'Authorization: Bearer <token>'")
            require(who, permission)
            return who

        return dep

    def clean(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if not k.startswith("_")}

    def add(op: str, endpoint: Callable[..., Any], model: Any, tag: str, **kw: Any) -> None:
        r = ROUTES[op]
        kw.setdefault("responses", RESPONSES)
        app.add_api_route(r.path, endpoint, methods=[r.method], status_code=r.status, response_model=model, tags=[tag], operation_id=op, **kw)

    Who = lambda op: Annotated[Principal, Depends(allow(ROUTES[op].permission or ""))]  # noqa: E731

    def whoami(who: Who("whoami")) -> dict[str, Any]:
        """The caller's name, role, party, entitlements and token expiry (any role)."""
        return service.whoami(who)

    def rotate_token(who: Who("rotate_token")) -> dict[str, Any]:
        """A fresh token for the caller; the one used stops working (any role)."""
        return service.rotate_token(who)

    def enrol(body: EnrolIn) -> dict[str, Any]:
        """Trade a one-time enrolment code for your own token (no token needed)."""
        return service.enrol(body.name, body.code)

    def list_users(who: Who("list_users")) -> list[dict[str, Any]]:
        """All users (admin, auditor)."""
        return service.list_users(who)

    def create_user(body: UserCreate, who: Who("create_user")) -> dict[str, Any]:
        """Create a user; the response holds its one-time enrolment code (admin)."""
        return service.create_user(who, body.name, body.role, body.party, body.entitlements)

    def update_user(name: PathKey, body: UserUpdate, who: Who("update_user")) -> dict[str, Any]:
        """Change a user's role, party, entitlements or active flag (admin). A new role needs a
        second admin's confirmation before it approves; deactivating revokes all tokens."""
        return service.update_user(who, name, body.role, body.party, body.entitlements, body.active)

    def reset_credential(name: PathKey, who: Who("reset_credential")) -> dict[str, Any]:
        """Revoke the user's tokens and give a new enrolment code (admin); approvals need a new confirmation."""
        return service.reset_credential(who, name)

    def confirm_user(name: PathKey, who: Who("confirm_user")) -> dict[str, Any]:
        """Confirm that the user holds its credential (a confirmed admin other than the one who granted it)."""
        return service.confirm_user(who, name)

    def list_regions(who: Who("list_regions")) -> list[dict[str, Any]]:
        """Regions (operator, auditor; a partner sees those it is entitled to)."""
        return service.list_regions(who)

    def create_region(body: RegionCreate, who: Who("create_region")) -> dict[str, Any]:
        """Create a region: a country, a GeoJSON polygon or a set of H3 cells (operator)."""
        return service.create_region(who, body.key, body.kind, body.name, body.country, body.geometry, body.cells, body.h3_res, body.sensitive)

    def get_region(key: PathKey, who: Who("get_region")) -> dict[str, Any]:
        """One region (as for GET /regions)."""
        return service.get_region(who, key)

    def policy_at(who: Who("policy_at"), at: Annotated[str | None, Query(max_length=64, description="ISO-8601 instant; default now.")] = None) -> dict[str, Any]:
        """The activation state in force in each visible region at an instant."""
        return service.policy_at(who, at)

    def list_states(who: Who("list_states"), region: Annotated[str | None, Query(max_length=64, pattern=KEY_PATTERN)] = None) -> list[dict[str, Any]]:
        """Every activation state with its validity interval, oldest first (later ones win)."""
        return [clean(x) for x in service.list_states(who, region)]

    def set_state(body: StateCreate, who: Who("set_state")) -> dict[str, Any]:
        """Set a region's state for an interval (operator; changes reaching a sensitive zone need a request)."""
        return clean(service.set_state(who, body.region, body.active, body.reason, body.valid_from, body.valid_to, body.backdate))

    def list_requests(who: Who("list_requests"), state: Annotated[Literal["pending", "approved", "rejected", "withdrawn"] | None, Query()] = None,
                      region: Annotated[str | None, Query(max_length=64, pattern=KEY_PATTERN)] = None) -> list[dict[str, Any]]:
        """Requests, oldest first (operator, auditor; a partner sees its own)."""
        return service.list_requests(who, state, region)

    def file_request(body: RequestCreate, who: Who("file_request")) -> dict[str, Any]:
        """File a request to activate or deactivate a region (partner, operator)."""
        return service.file_request(who, body.region, body.action, body.justification, body.on_behalf_of, body.valid_from, body.valid_to, body.backdate)

    def get_request(request_id: RequestId, who: Who("get_request")) -> dict[str, Any]:
        """One request with its decisions."""
        return service.get_request(who, request_id)

    def decider(op: str, doc: str) -> Callable[..., Any]:
        def decide(request_id: RequestId, body: DecisionIn, who: Who(op)) -> dict[str, Any]:
            return service.decide(who, request_id, ROUTES[op].fixed["decision"], body.reason)

        decide.__doc__ = doc
        return decide

    def audit_entries(who: Who("audit_entries"), after: Annotated[int, Query(ge=0, le=2**62, description="Entries after this number.")] = 0,
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
        """Audit entries in chain order (auditor; the read is recorded)."""
        return service.audit_entries(who, after, limit)

    def audit_export(who: Who("audit_export")) -> StreamingResponse:
        """The whole audit log as JSON Lines (auditor; the read is recorded)."""
        service.audit_entries(who, 0, 1)

        def lines() -> Iterator[bytes]:
            after = 0
            while True:
                page = service.audit_entries(who, after, 5000, record=False)
                if not page:
                    return
                yield "".join(audit.canonical_json(e) + "\n" for e in page).encode("utf-8")
                after = page[-1]["seq"]

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    def audit_head(who: Who("audit_head")) -> dict[str, Any]:
        """The chain head, to sign into a checkpoint (auditor; the read is recorded after it)."""
        return service.audit_head(who)

    def audit_verify(who: Who("audit_verify"), expect_head: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$", description="Head hash kept elsewhere.")] = None,
                     signer: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$", description="Writers' public key: every entry since its first must be signed.")] = None,
                     ) -> dict[str, Any]:
        """Check the hash chain (and writers' signatures) and replay it against the tables; names the first disagreement (auditor)."""
        return service.audit_verify(who, expect_head, signer).as_dict()

    add("whoami", whoami, WhoAmI, "users")
    add("rotate_token", rotate_token, TokenOut, "users")
    add("enrol", enrol, TokenOut, "users", openapi_extra={"security": []})
    add("list_users", list_users, list[UserOut], "users")
    add("create_user", create_user, UserWithCode, "users")
    add("update_user", update_user, UserOut, "users")
    add("reset_credential", reset_credential, NameWithCode, "users")
    add("confirm_user", confirm_user, UserOut, "users")
    add("list_regions", list_regions, list[RegionOut], "regions")
    add("create_region", create_region, RegionOut, "regions")
    add("get_region", get_region, RegionOut, "regions")
    add("policy_at", policy_at, PolicyOut, "policy")
    add("list_states", list_states, list[StateOut], "policy")
    add("set_state", set_state, StateOut, "policy")
    add("list_requests", list_requests, list[RequestOut], "requests")
    add("file_request", file_request, RequestOut, "requests")
    add("get_request", get_request, RequestOut, "requests")
    add("approve", decider("approve", "Approve (confirmed operator, not the filer); changes reaching a sensitive zone need two."), RequestOut, "requests")
    add("reject", decider("reject", "Reject a pending request (operator)."), RequestOut, "requests")
    add("withdraw", decider("withdraw", "Withdraw a pending request (its filer only)."), RequestOut, "requests")
    add("audit_entries", audit_entries, list[AuditEntryOut], "audit")
    add("audit_export", audit_export, None, "audit", response_class=StreamingResponse,
        responses=RESPONSES | {200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}, "description": "One JSON entry per line."}})
    add("audit_head", audit_head, HeadOut, "audit")
    add("audit_verify", audit_verify, VerifyOut, "audit")
    _docs(app)
    return app


def _docs(app: FastAPI) -> None:
    """Swagger UI from the ``swagger-ui-bundle`` package's files: no CDN, works offline."""
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="swagger-ui")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>leonet control plane</title>"
            "<link rel='stylesheet' href='/docs/assets/swagger-ui.css'></head><body><div id='swagger-ui'></div>"
            "<script src='/docs/assets/swagger-ui-bundle.js'></script><script src='/docs/init.js'></script></body></html>")
    init = "window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true});\n"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(init, media_type="application/javascript")
