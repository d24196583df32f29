"""The REST API (FastAPI): every endpoint authenticates a bearer token and checks the role.

Errors are JSON ``{"detail": "what was wrong and how to fix it"}`` with 401 (no or bad
token), 403 (role not allowed), 404 (no such object, or not visible to the caller), 409
(state conflict), 422 (bad input) or 503 (database busy or unreachable). The spec is served
at ``/openapi.json`` and browsable at ``/docs``.
"""

# No "from __future__ import annotations": FastAPI must see the Depends(...) closures in the
# signatures at definition time.

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from leonet.control import audit
from leonet.control.db import check_initialised, make_engine
from leonet.control.errors import http_status
from leonet.control.service import ControlService, Principal, require
from leonet.errors import LeonetError
from leonet.version import __version__

Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
Text200 = Annotated[str, StringConstraints(max_length=200)]
Text4000 = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Time = Annotated[str, StringConstraints(min_length=1, max_length=64)]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Request number.")]  # INTEGER keys on PostgreSQL are 32-bit
Role = Literal["admin", "operator", "partner", "auditor"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_In):
    name: Key
    role: Role
    party: Text200 = ""
    entitlements: list[Key] = Field(default_factory=list, max_length=10_000, description="Region keys a partner may see and file requests for.")


class UserUpdate(_In):
    role: Role | None = None
    party: Text200 | None = None
    entitlements: list[Key] | None = Field(default=None, max_length=10_000)
    active: bool | None = None


class RegionCreate(_In):
    key: Key
    kind: Literal["country", "polygon", "cells"]
    name: Text200 | None = None
    country: Text200 | None = Field(default=None, description="ISO 3166-1 code or name (kind=country).")
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon/MultiPolygon, lon/lat degrees (kind=polygon).")
    cells: list[Annotated[str, StringConstraints(max_length=16)]] | None = Field(default=None, max_length=200_000, description="H3 ids in hex (kind=cells).")
    h3_res: int | None = Field(default=None, ge=0, le=15)
    sensitive: bool = Field(default=False, description="Changes need approvals from two different operators.")


class StateCreate(_In):
    region: Key
    active: bool
    reason: Text4000
    valid_from: Time | None = None
    valid_to: Time | None = None


class RequestCreate(_In):
    region: Key
    action: Literal["activate", "deactivate"]
    justification: Text4000
    on_behalf_of: Text200 | None = Field(default=None, description="The party the request is filed for, if not the filer's own.")
    valid_from: Time | None = None
    valid_to: Time | None = None


class DecisionIn(_In):
    reason: Text4000


class UserOut(BaseModel):
    name: str
    role: str
    party: str
    entitlements: list[str]
    active: bool
    created_at: str


class UserWithToken(UserOut):
    token: str = Field(description="Shown once; only its hash is stored.")


class TokenOut(BaseModel):
    name: str
    token: str


class WhoAmI(BaseModel):
    name: str
    role: str
    party: str
    entitlements: list[str]


class RegionOut(BaseModel):
    key: str
    kind: str
    name: str
    country: str | None
    geometry: dict[str, Any] | None
    cells: list[str] | None
    h3_res: int | None
    sensitive: bool
    created_by: str
    created_at: str


class StateOut(BaseModel):
    id: int
    region: str
    active: bool
    valid_from: str | None
    valid_to: str | None
    reason: str
    request_id: int | None
    created_by: str
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
    state: str
    approvals_needed: int
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


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None
    problem: str | None


_bearer = HTTPBearer(auto_error=False, description="A leonet token (`leonet db init` prints the first admin's).")


def create_app(db_url: str) -> FastAPI:
    """The API over the store at ``db_url`` (which must be initialised)."""
    engine = make_engine(db_url)
    check_initialised(engine)
    return build_app(ControlService(engine))


def build_app(service: ControlService) -> FastAPI:
    app = FastAPI(title="leonet control plane", version=__version__,
                  description="Regions, activation states, requests and approvals, roles and the hash-chained audit log.")
    app.state.service = service

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
        """A dependency: the caller, authenticated and allowed ``permission`` (else 401/403)."""

        def dep(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
            who = service.authenticate(creds.credentials if creds else None, request.client.host if request.client else "")
            require(who, permission)
            return who

        return dep

    def clean(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if not k.startswith("_")}

    @app.get("/whoami", response_model=WhoAmI, tags=["users"])
    def whoami(who: Annotated[Principal, Depends(allow("whoami"))]) -> dict[str, Any]:
        """The caller's name, role, party and entitlements (any role)."""
        return service.whoami(who)

    @app.get("/users", response_model=list[UserOut], tags=["users"])
    def list_users(who: Annotated[Principal, Depends(allow("users.read"))]) -> list[dict[str, Any]]:
        """All users (admin, auditor)."""
        return service.list_users(who)

    @app.post("/users", response_model=UserWithToken, status_code=201, tags=["users"])
    def create_user(body: UserCreate, who: Annotated[Principal, Depends(allow("users.write"))]) -> dict[str, Any]:
        """Create a user; the response holds its token, shown once (admin)."""
        return service.create_user(who, body.name, body.role, body.party, body.entitlements)

    @app.patch("/users/{name}", response_model=UserOut, tags=["users"])
    def update_user(name: Annotated[str, Path(max_length=64)], body: UserUpdate, who: Annotated[Principal, Depends(allow("users.write"))]) -> dict[str, Any]:
        """Change a user's role, party, entitlements or active flag (admin)."""
        return service.update_user(who, name, body.role, body.party, body.entitlements, body.active)

    @app.post("/users/{name}/token", response_model=TokenOut, tags=["users"])
    def issue_token(name: Annotated[str, Path(max_length=64)], who: Annotated[Principal, Depends(allow("users.write"))]) -> dict[str, Any]:
        """A fresh token for the user, revoking its previous ones (admin)."""
        return service.issue_token(who, name)

    @app.get("/regions", response_model=list[RegionOut], tags=["regions"])
    def list_regions(who: Annotated[Principal, Depends(allow("regions.read"))]) -> list[dict[str, Any]]:
        """Regions (operator, auditor; a partner sees those it is entitled to)."""
        return service.list_regions(who)

    @app.post("/regions", response_model=RegionOut, status_code=201, tags=["regions"])
    def create_region(body: RegionCreate, who: Annotated[Principal, Depends(allow("regions.write"))]) -> dict[str, Any]:
        """Create a region: a country, a GeoJSON polygon or a set of H3 cells (operator)."""
        return service.create_region(who, body.key, body.kind, body.name, body.country, body.geometry, body.cells, body.h3_res, body.sensitive)

    @app.get("/regions/{key}", response_model=RegionOut, tags=["regions"])
    def get_region(key: Annotated[str, Path(max_length=64)], who: Annotated[Principal, Depends(allow("regions.read"))]) -> dict[str, Any]:
        """One region (as for GET /regions)."""
        return service.get_region(who, key)

    @app.get("/policy", response_model=PolicyOut, tags=["policy"])
    def policy_at(who: Annotated[Principal, Depends(allow("policy.read"))],
                  at: Annotated[str | None, Query(max_length=64, description="ISO-8601 instant; default now.")] = None) -> dict[str, Any]:
        """The activation state in force in each visible region at an instant."""
        return service.policy_at(who, at)

    @app.get("/policy/states", response_model=list[StateOut], tags=["policy"])
    def list_states(who: Annotated[Principal, Depends(allow("policy.read"))],
                    region: Annotated[str | None, Query(max_length=64)] = None) -> list[dict[str, Any]]:
        """Every activation state with its validity interval, oldest first (later ones win)."""
        return [clean(s) for s in service.list_states(who, region)]

    @app.post("/policy/states", response_model=StateOut, status_code=201, tags=["policy"])
    def set_state(body: StateCreate, who: Annotated[Principal, Depends(allow("policy.write"))]) -> dict[str, Any]:
        """Set a region's state for an interval (operator; sensitive regions need a request)."""
        return clean(service.set_state(who, body.region, body.active, body.reason, body.valid_from, body.valid_to))

    @app.get("/requests", response_model=list[RequestOut], tags=["requests"])
    def list_requests(who: Annotated[Principal, Depends(allow("requests.read"))],
                      state: Annotated[Literal["pending", "approved", "rejected", "withdrawn"] | None, Query()] = None,
                      region: Annotated[str | None, Query(max_length=64)] = None) -> list[dict[str, Any]]:
        """Requests, oldest first (operator, auditor; a partner sees its own)."""
        return service.list_requests(who, state, region)

    @app.post("/requests", response_model=RequestOut, status_code=201, tags=["requests"])
    def file_request(body: RequestCreate, who: Annotated[Principal, Depends(allow("requests.file"))]) -> dict[str, Any]:
        """File a request to activate or deactivate a region (partner, operator)."""
        return service.file_request(who, body.region, body.action, body.justification, body.on_behalf_of, body.valid_from, body.valid_to)

    @app.get("/requests/{request_id}", response_model=RequestOut, tags=["requests"])
    def get_request(request_id: RequestId, who: Annotated[Principal, Depends(allow("requests.read"))]) -> dict[str, Any]:
        """One request with its decisions."""
        return service.get_request(who, request_id)

    @app.post("/requests/{request_id}/approve", response_model=RequestOut, tags=["requests"])
    def approve(request_id: RequestId, body: DecisionIn, who: Annotated[Principal, Depends(allow("requests.decide"))]) -> dict[str, Any]:
        """Approve (operator, not the filer); sensitive regions need two different operators."""
        return service.decide(who, request_id, "approve", body.reason)

    @app.post("/requests/{request_id}/reject", response_model=RequestOut, tags=["requests"])
    def reject(request_id: RequestId, body: DecisionIn, who: Annotated[Principal, Depends(allow("requests.decide"))]) -> dict[str, Any]:
        """Reject a pending request (operator)."""
        return service.decide(who, request_id, "reject", body.reason)

    @app.post("/requests/{request_id}/withdraw", response_model=RequestOut, tags=["requests"])
    def withdraw(request_id: RequestId, body: DecisionIn, who: Annotated[Principal, Depends(allow("requests.withdraw"))]) -> dict[str, Any]:
        """Withdraw a pending request (its filer only)."""
        return service.decide(who, request_id, "withdraw", body.reason)

    @app.get("/audit", response_model=list[AuditEntryOut], tags=["audit"])
    def audit_entries(who: Annotated[Principal, Depends(allow("audit.read"))],
                      after: Annotated[int, Query(ge=0, le=2**62, description="Entries after this number.")] = 0,
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
        """Audit entries in chain order (auditor)."""
        return service.audit_entries(who, after, limit)

    @app.get("/audit/export", tags=["audit"], response_class=StreamingResponse,
             responses={200: {"content": {"application/x-ndjson": {}}, "description": "One JSON entry per line."}})
    def audit_export(who: Annotated[Principal, Depends(allow("audit.read"))]) -> StreamingResponse:
        """The whole audit log as JSON Lines (auditor)."""

        def lines() -> Iterator[bytes]:
            after = 0
            while True:
                page = service.audit_entries(who, after, 5000)
                if not page:
                    return
                yield "".join(audit.canonical_json(e) + "\n" for e in page).encode("utf-8")
                after = page[-1]["seq"]

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.get("/audit/verify", response_model=VerifyOut, tags=["audit"])
    def audit_verify(who: Annotated[Principal, Depends(allow("audit.read"))],
                     expect_head: Annotated[str | None, Query(max_length=64, description="Head hash kept elsewhere, to detect a rewritten log.")] = None) -> dict[str, Any]:
        """Check the hash chain; names the first bad entry (auditor)."""
        return service.audit_verify(who, expect_head).as_dict()

    return app
