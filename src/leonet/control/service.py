"""Every control-plane operation, authorised by role and audited in the same transaction.

Roles (deny by default: an operation not listed for a role in :data:`PERMISSIONS` is refused):

* ``admin``: users, roles, entitlements and tokens;
* ``operator``: creates regions, changes the policy, decides (approves or rejects) requests,
  files requests for internal teams;
* ``partner``: files requests for the regions it is entitled to and sees their state and its
  own requests; other regions do not exist for it;
* ``auditor``: reads everything, exports and verifies the audit log, changes nothing.

A request names a region, an action (activate / deactivate), a justification, optionally the
party it is filed on behalf of and the validity interval of the change. It is approved by one
operator, or by two different operators where the region is sensitive, and never by the
operator who filed it; approval creates the policy state. Sensitive regions change only
through such requests.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from leonet.control import audit
from leonet.control.db import (
    decisions,
    policy_states,
    read_tx,
    regions,
    requests,
    tokens,
    users,
    write_tx,
)
from leonet.control.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from leonet.errors import InputError
from leonet.times import format_time, parse_time

ROLES = ("admin", "operator", "partner", "auditor")
ACTIONS = ("activate", "deactivate")
STATES = ("pending", "approved", "rejected", "withdrawn")

PERMISSIONS: dict[str, frozenset[str]] = {
    "whoami": frozenset(ROLES),
    "users.read": frozenset({"admin", "auditor"}),
    "users.write": frozenset({"admin"}),
    "regions.read": frozenset({"operator", "partner", "auditor"}),
    "regions.write": frozenset({"operator"}),
    "policy.read": frozenset({"operator", "partner", "auditor"}),
    "policy.write": frozenset({"operator"}),
    "requests.read": frozenset({"operator", "partner", "auditor"}),
    "requests.file": frozenset({"operator", "partner"}),
    "requests.decide": frozenset({"operator"}),
    "requests.withdraw": frozenset({"operator", "partner"}),
    "audit.read": frozenset({"auditor"}),
}

TOKEN_PREFIX = "lnt_"
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
KEY_HELP = "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
# Instants are int64 ns; keep them well inside that range (and numpy's datetime64[ns]).
MIN_NS = parse_time("1900-01-01T00:00:00Z")
MAX_NS = parse_time("2200-01-01T00:00:00Z")
MAX_CELLS = 200_000


@dataclass(frozen=True)
class Principal:
    """An authenticated user."""

    name: str
    role: str
    party: str
    entitlements: frozenset[str]

    def may(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, frozenset())

    def sees_region(self, key: str) -> bool:
        return self.role != "partner" or key in self.entitlements


def require(who: Principal, permission: str) -> None:
    """Refuse unless ``who``'s role grants ``permission`` (unknown permissions: refused)."""
    if not who.may(permission):
        allowed = ", ".join(sorted(PERMISSIONS.get(permission, ()))) or "no role"
        raise ForbiddenError(f"user {who.name!r} (role {who.role}) may not do {permission!r}; only {allowed} may")


def hash_token(token: str) -> str:
    """Tokens are 256-bit random, so a plain SHA-256 suffices to store them."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


# ---------------------------------------------------------------------------- input checks


def check_text(value: Any, field: str, max_len: int, required: bool = True) -> str | None:
    """A clean string: no NUL or other control characters (but newline and tab), no lone surrogates."""
    if value is None:
        if required:
            raise InputError(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise InputError(f"{field} must not be empty")
    if len(value) > max_len:
        raise InputError(f"{field} is {len(value)} characters long; at most {max_len} are allowed")
    for ch in value:
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in "\n\t") or cat == "Cs":
            raise InputError(f"{field} contains the control or invalid character {ch!r}; remove it")
    return value


def check_key(value: Any, field: str = "region") -> str:
    if not isinstance(value, str) or not KEY_RE.match(value):
        raise InputError(f"{field} {value!r} is not a valid key: use {KEY_HELP}")
    return value


def check_time(value: Any, field: str) -> int | None:
    """An ISO-8601 instant (or None) as ns, between 1900 and 2200."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{field} must be an ISO-8601 time string such as '2025-01-01T00:00:00Z'")
    check_text(value, field, 64)
    t = parse_time(value)
    if not MIN_NS <= t < MAX_NS:
        raise InputError(f"{field} {value!r} is outside 1900-01-01 .. 2200-01-01; give a time in that range")
    return t


def check_interval(start: Any, end: Any) -> tuple[int | None, int | None]:
    a, b = check_time(start, "valid_from"), check_time(end, "valid_to")
    if a is not None and b is not None and b <= a:
        raise InputError(f"valid_to {end!r} must be after valid_from {start!r}")
    return a, b


def _iso(ns: int | None) -> str | None:
    return None if ns is None else str(format_time(int(ns)))


# ---------------------------------------------------------------------------- the service


class ControlService:
    """The control plane over one database engine (thread-safe; one transaction per call)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ----------------------------------------------------------------- authentication

    def authenticate(self, token: str | None, client: str = "") -> Principal:
        """The user holding ``token``; a failure is audited (in its own transaction) and raised."""
        if token:
            with read_tx(self.engine) as conn:
                row = conn.execute(
                    select(users).join(tokens, tokens.c.user_id == users.c.id).where(tokens.c.token_hash == hash_token(token), tokens.c.revoked.is_(False))
                ).first()
            if row is not None and row.active:
                return Principal(row.name, row.role, row.party, frozenset(json.loads(row.entitlements)))
            reason = "unknown or revoked token" if row is None else f"user {row.name!r} is deactivated"
        else:
            reason = "no token"
        with write_tx(self.engine) as conn:
            hint = hash_token(token)[:12] if token else ""
            audit.append(conn, "anonymous", "login.failed", "session", hint or "-", {"reason": reason, "client": client[:100], "token_sha256_prefix": hint})
        if not token:
            raise AuthError("no token: send the header 'Authorization: Bearer <token>' (leonet db init prints the first admin token)")
        raise AuthError(f"token refused ({reason}); ask an admin for a new token (leonet user token NAME)")

    # ----------------------------------------------------------------- bootstrap

    def bootstrap_admin(self, name: str = "admin", actor: str = "leonet db init") -> str:
        """Create the first admin on an empty database; its token (shown once)."""
        check_key(name, "admin name")
        with write_tx(self.engine) as conn:
            if conn.execute(select(func.count()).select_from(users)).scalar_one():
                raise ConflictError("the database already has users; an admin issues tokens with `leonet user token NAME`")
            return self._create_user(conn, actor, name, "admin", "operator's administration", [])

    # ----------------------------------------------------------------- users

    def whoami(self, who: Principal) -> dict[str, Any]:
        require(who, "whoami")
        return {"name": who.name, "role": who.role, "party": who.party, "entitlements": sorted(who.entitlements)}

    def list_users(self, who: Principal) -> list[dict[str, Any]]:
        require(who, "users.read")
        with read_tx(self.engine) as conn:
            return [_user_dict(r) for r in conn.execute(select(users).order_by(users.c.id))]

    def create_user(self, who: Principal, name: str, role: str, party: str = "", entitlements: list[str] | None = None) -> dict[str, Any]:
        """A new user and its first token (returned once, stored hashed)."""
        require(who, "users.write")
        check_key(name, "user name")
        role = _check_role(role)
        party = check_text(party or "", "party", 200, required=False) or ""
        ents = _check_entitlements(entitlements or [])
        with write_tx(self.engine) as conn:
            if conn.execute(select(users.c.id).where(users.c.name == name)).first():
                raise ConflictError(f"user {name!r} already exists; change it with `leonet user set {name}`")
            token = self._create_user(conn, who.name, name, role, party, ents)
            return _user_dict(conn.execute(select(users).where(users.c.name == name)).one()) | {"token": token}

    def _create_user(self, conn: Connection, actor: str, name: str, role: str, party: str, ents: list[str]) -> str:
        now = audit.utc_now()
        uid = conn.execute(insert(users).values(name=name, role=role, party=party, entitlements=json.dumps(ents), active=True, created_at=now)).inserted_primary_key[0]
        audit.append(conn, actor, "user.create", "user", name, {"role": role, "party": party, "entitlements": ents})
        return self._issue_token(conn, actor, int(uid), name)

    def _issue_token(self, conn: Connection, actor: str, uid: int, name: str) -> str:
        token = new_token()
        revoked = conn.execute(update(tokens).where(tokens.c.user_id == uid, tokens.c.revoked.is_(False)).values(revoked=True)).rowcount
        conn.execute(insert(tokens).values(user_id=uid, token_hash=hash_token(token), created_at=audit.utc_now(), revoked=False))
        audit.append(conn, actor, "token.issue", "user", name, {"revoked_previous": int(revoked or 0)})
        return token

    def update_user(self, who: Principal, name: str, role: str | None = None, party: str | None = None,
                    entitlements: list[str] | None = None, active: bool | None = None) -> dict[str, Any]:
        """Change a user's role, party, entitlements or active flag (the last active admin stays)."""
        require(who, "users.write")
        check_key(name, "user name")
        changes: dict[str, Any] = {}
        if role is not None:
            changes["role"] = _check_role(role)
        if party is not None:
            changes["party"] = check_text(party, "party", 200, required=False)
        if entitlements is not None:
            changes["entitlements"] = json.dumps(_check_entitlements(entitlements))
        if active is not None:
            if not isinstance(active, bool):
                raise InputError("active must be true or false")
            changes["active"] = active
        if not changes:
            raise InputError("nothing to change: give role, party, entitlements or active")
        with write_tx(self.engine) as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"no user {name!r}; list them with `leonet user list`")
            losing_admin = row.role == "admin" and row.active and (changes.get("role", "admin") != "admin" or changes.get("active") is False)
            if losing_admin:
                admins = conn.execute(select(func.count()).select_from(users).where(users.c.role == "admin", users.c.active.is_(True))).scalar_one()
                if admins <= 1:
                    raise ConflictError(f"{name!r} is the last active admin; make another user admin first")
            conn.execute(update(users).where(users.c.id == row.id).values(**changes))
            shown = {k: (json.loads(v) if k == "entitlements" else v) for k, v in changes.items()}
            audit.append(conn, who.name, "user.update", "user", name, {"before": _user_dict(row), "changes": shown})
            return _user_dict(conn.execute(select(users).where(users.c.id == row.id)).one())

    def issue_token(self, who: Principal, name: str) -> dict[str, Any]:
        """A fresh token for ``name``; its previous tokens are revoked."""
        require(who, "users.write")
        check_key(name, "user name")
        with write_tx(self.engine) as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"no user {name!r}; list them with `leonet user list`")
            return {"name": name, "token": self._issue_token(conn, who.name, int(row.id), name)}

    # ----------------------------------------------------------------- regions

    def create_region(self, who: Principal, key: str, kind: str, name: str | None = None, country: str | None = None,
                      geometry: dict[str, Any] | None = None, cells: list[str] | None = None, h3_res: int | None = None,
                      sensitive: bool = False) -> dict[str, Any]:
        """A region: a country (ISO code or name), a GeoJSON polygon or a set of H3 cells."""
        require(who, "regions.write")
        check_key(key, "region key")
        if name is not None:
            check_text(name, "name", 200)
        if not isinstance(sensitive, bool):
            raise InputError("sensitive must be true or false")
        values: dict[str, Any] = {"country": None, "geometry": None, "cells": None, "h3_res": None}
        if kind == "country":
            if country is None or geometry is not None or cells is not None:
                raise InputError("a country region takes 'country' (an ISO 3166 code or name) and no geometry or cells")
            from leonet.ground.borders import load_countries

            rec = load_countries().lookup(check_text(country, "country", 100))  # type: ignore[arg-type]
            values["country"] = rec.iso_a3 or rec.name
            name = name or rec.name
        elif kind == "polygon":
            if geometry is None or country is not None or cells is not None:
                raise InputError("a polygon region takes 'geometry' (a GeoJSON Polygon or MultiPolygon, lon/lat degrees) and no country or cells")
            values["geometry"] = json.dumps(_check_geometry(geometry), separators=(",", ":"))
        elif kind == "cells":
            if cells is None or country is not None or geometry is not None:
                raise InputError("a cells region takes 'cells' (H3 ids in hex, all of one resolution) and no country or geometry")
            ids, res = _check_cells(cells, h3_res)
            values["cells"], values["h3_res"] = json.dumps(ids), res
        else:
            raise InputError(f"region kind {kind!r} is not one of country, polygon, cells")
        with write_tx(self.engine) as conn:
            if conn.execute(select(regions.c.id).where(regions.c.key == key)).first():
                raise ConflictError(f"region {key!r} already exists; pick another key")
            row = dict(key=key, kind=kind, name=name or key, sensitive=sensitive, created_by=who.name, created_at=audit.utc_now(), **values)
            conn.execute(insert(regions).values(**row))
            audit.append(conn, who.name, "region.create", "region", key, {k: v for k, v in row.items() if k not in ("created_at", "created_by")})
            return _region_dict(conn.execute(select(regions).where(regions.c.key == key)).one())

    def list_regions(self, who: Principal) -> list[dict[str, Any]]:
        require(who, "regions.read")
        with read_tx(self.engine) as conn:
            return [_region_dict(r) for r in conn.execute(select(regions).order_by(regions.c.id)) if who.sees_region(r.key)]

    def get_region(self, who: Principal, key: str) -> dict[str, Any]:
        require(who, "regions.read")
        with read_tx(self.engine) as conn:
            return _region_dict(self._region_row(conn, who, key))

    def _region_row(self, conn: Connection, who: Principal, key: str) -> Any:
        check_key(key)
        row = conn.execute(select(regions).where(regions.c.key == key)).first()
        if row is None or not who.sees_region(key):  # a partner cannot learn of other regions
            raise NotFoundError(f"no region {key!r}" + ("" if who.role == "partner" else "; list them with `leonet policy regions`"))
        return row

    # ----------------------------------------------------------------- policy

    def set_state(self, who: Principal, region: str, active: bool, reason: str, valid_from: str | None = None, valid_to: str | None = None) -> dict[str, Any]:
        """An operator's direct policy change (refused for sensitive regions)."""
        require(who, "policy.write")
        if not isinstance(active, bool):
            raise InputError("active must be true or false")
        check_text(reason, "reason", 4000)
        a, b = check_interval(valid_from, valid_to)
        with write_tx(self.engine) as conn:
            row = self._region_row(conn, who, region)
            if row.sensitive:
                raise ConflictError(f"region {region!r} is sensitive: a change needs a request approved by two different operators (`leonet request file {region} ...`)")
            sid = self._add_state(conn, who.name, row, active, a, b, reason, None)
            return self._state(conn, sid)

    def _add_state(self, conn: Connection, actor: str, region_row: Any, active: bool, a: int | None, b: int | None, reason: str, request_id: int | None) -> int:
        sid = int(conn.execute(insert(policy_states).values(region_id=region_row.id, active=active, valid_from=a, valid_to=b, reason=reason,
                                                             request_id=request_id, created_by=actor, created_at=audit.utc_now())).inserted_primary_key[0])
        audit.append(conn, actor, "policy.change", "policy_state", sid, {"region": region_row.key, "active": active, "valid_from": _iso(a), "valid_to": _iso(b), "reason": reason, "request_id": request_id})
        return sid

    def _state(self, conn: Connection, sid: int) -> dict[str, Any]:
        row = conn.execute(select(policy_states, regions.c.key).join(regions, regions.c.id == policy_states.c.region_id).where(policy_states.c.id == sid)).one()
        return _state_dict(row)

    def list_states(self, who: Principal, region: str | None = None) -> list[dict[str, Any]]:
        """Every activation state (with its validity interval), oldest first; later ones win."""
        require(who, "policy.read")
        with read_tx(self.engine) as conn:
            q = select(policy_states, regions.c.key).join(regions, regions.c.id == policy_states.c.region_id).order_by(policy_states.c.id)
            if region is not None:
                q = q.where(regions.c.id == self._region_row(conn, who, region).id)
            return [_state_dict(r) for r in conn.execute(q) if who.sees_region(r.key)]

    def policy_at(self, who: Principal, at: str | None = None) -> dict[str, Any]:
        """The state in force in each visible region at ``at`` (default now); None = no state set."""
        require(who, "policy.read")
        t = check_time(at or "now", "at")
        assert t is not None
        states = self.list_states(who)
        in_force: dict[str, dict[str, Any]] = {}
        for s in states:  # oldest first, so the last covering state wins
            if (s["_from"] is None or s["_from"] <= t) and (s["_to"] is None or t < s["_to"]):
                in_force[s["region"]] = s
        out = []
        for r in self.list_regions(who):
            s = in_force.get(r["key"])
            out.append({"region": r["key"], "name": r["name"], "sensitive": r["sensitive"], "active": None if s is None else s["active"], "state_id": None if s is None else s["id"]})
        return {"at": _iso(t), "regions": out}

    # ----------------------------------------------------------------- requests

    def file_request(self, who: Principal, region: str, action: str, justification: str, on_behalf_of: str | None = None,
                     valid_from: str | None = None, valid_to: str | None = None) -> dict[str, Any]:
        require(who, "requests.file")
        if action not in ACTIONS:
            raise InputError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        check_text(justification, "justification", 4000)
        check_text(on_behalf_of, "on_behalf_of", 200, required=False)
        a, b = check_interval(valid_from, valid_to)
        with write_tx(self.engine) as conn:
            row = self._region_row(conn, who, region)
            now = audit.utc_now()
            rid = int(conn.execute(insert(requests).values(region_id=row.id, action=action, justification=justification, filed_by=who.name, party=who.party,
                                                           on_behalf_of=on_behalf_of, valid_from=a, valid_to=b, state="pending", created_at=now, updated_at=now)).inserted_primary_key[0])
            audit.append(conn, who.name, "request.file", "request", rid, {"region": row.key, "action": action, "justification": justification, "party": who.party,
                                                                          "on_behalf_of": on_behalf_of, "valid_from": _iso(a), "valid_to": _iso(b)})
            return self._request(conn, who, rid)

    def list_requests(self, who: Principal, state: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
        """Requests, oldest first; a partner sees only its own."""
        require(who, "requests.read")
        if state is not None and state not in STATES:
            raise InputError(f"state {state!r} is not one of {', '.join(STATES)}")
        with read_tx(self.engine) as conn:
            q = select(requests.c.id).order_by(requests.c.id)
            if state is not None:
                q = q.where(requests.c.state == state)
            if region is not None:
                q = q.where(requests.c.region_id == self._region_row(conn, who, region).id)
            if who.role == "partner":
                q = q.where(requests.c.filed_by == who.name)
            return [self._request(conn, who, rid) for rid in conn.execute(q).scalars()]

    def get_request(self, who: Principal, request_id: int) -> dict[str, Any]:
        require(who, "requests.read")
        with read_tx(self.engine) as conn:
            return self._request(conn, who, request_id)

    def _request_row(self, conn: Connection, who: Principal, request_id: int) -> Any:
        if isinstance(request_id, bool) or not isinstance(request_id, int) or not 0 < request_id < 2**31:
            raise InputError(f"request id {request_id!r} must be a positive integer")
        row = conn.execute(select(requests, regions.c.key, regions.c.sensitive).join(regions, regions.c.id == requests.c.region_id).where(requests.c.id == request_id)).first()
        if row is None or (who.role == "partner" and row.filed_by != who.name):
            raise NotFoundError(f"no request {request_id}" + ("" if who.role == "partner" else "; list them with `leonet request list`"))
        return row

    def _request(self, conn: Connection, who: Principal, request_id: int) -> dict[str, Any]:
        row = self._request_row(conn, who, request_id)
        ds = conn.execute(select(decisions).where(decisions.c.request_id == row.id).order_by(decisions.c.id)).all()
        sid = conn.execute(select(policy_states.c.id).where(policy_states.c.request_id == row.id)).scalar_one_or_none()
        return {"id": row.id, "region": row.key, "action": row.action, "justification": row.justification, "filed_by": row.filed_by, "party": row.party,
                "on_behalf_of": row.on_behalf_of, "valid_from": _iso(row.valid_from), "valid_to": _iso(row.valid_to), "state": row.state,
                "approvals_needed": 2 if row.sensitive else 1, "decisions": [_decision_dict(d) for d in ds], "policy_state_id": sid,
                "created_at": row.created_at, "updated_at": row.updated_at}

    def decide(self, who: Principal, request_id: int, decision: str, reason: str) -> dict[str, Any]:
        """Approve, reject (operators) or withdraw (the filer) a pending request."""
        if decision not in ("approve", "reject", "withdraw"):
            raise InputError(f"decision {decision!r} is not one of approve, reject, withdraw")
        require(who, "requests.withdraw" if decision == "withdraw" else "requests.decide")
        check_text(reason, "reason", 4000)
        with write_tx(self.engine) as conn:
            row = self._request_row(conn, who, request_id)
            if row.state != "pending":
                raise ConflictError(f"request {row.id} is already {row.state}; only pending requests can be decided or withdrawn")
            if decision == "withdraw" and row.filed_by != who.name:
                raise ForbiddenError(f"only the filer ({row.filed_by}) may withdraw request {row.id}; operators reject instead")
            if decision == "approve" and row.filed_by == who.name:
                raise ForbiddenError(f"{who.name!r} filed request {row.id} and so cannot approve it; another operator must")
            prior = conn.execute(select(decisions.c.decided_by).where(decisions.c.request_id == row.id, decisions.c.decision == "approve")).scalars().all()
            if decision == "approve" and who.name in prior:
                raise ConflictError(f"{who.name!r} already approved request {row.id}; region {row.key!r} is sensitive and needs a second, different operator")
            now = audit.utc_now()
            conn.execute(insert(decisions).values(request_id=row.id, decided_by=who.name, decision=decision, reason=reason, created_at=now))
            needed = 2 if row.sensitive else 1
            new_state = {"reject": "rejected", "withdraw": "withdrawn"}.get(decision, "approved" if len(prior) + 1 >= needed else "pending")
            audit.append(conn, who.name, f"request.{decision}", "request", row.id, {"reason": reason, "state": new_state, "approvals": len(prior) + (decision == "approve"), "needed": needed})
            if new_state != "pending":
                conn.execute(update(requests).where(requests.c.id == row.id).values(state=new_state, updated_at=now))
            if new_state == "approved":
                region_row = conn.execute(select(regions).where(regions.c.id == row.region_id)).one()
                self._add_state(conn, who.name, region_row, row.action == "activate", row.valid_from, row.valid_to, f"request {row.id}: {row.justification}"[:4000], int(row.id))
            return self._request(conn, who, int(row.id))

    # ----------------------------------------------------------------- audit

    def audit_entries(self, who: Principal, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        require(who, "audit.read")
        with read_tx(self.engine) as conn:
            return [audit.entry_dict(r) for r in audit.iter_entries(conn, after, limit)]

    def audit_verify(self, who: Principal | None, expect_head: str | None = None) -> audit.VerifyResult:
        """Verify the chain; ``who=None`` is the database holder (``leonet audit verify --db``)."""
        if who is not None:
            require(who, "audit.read")
        if expect_head is not None:
            check_text(expect_head, "expect_head", 64)
        with read_tx(self.engine) as conn:
            return audit.verify(conn, expect_head)


# ---------------------------------------------------------------------------- helpers


def _check_role(role: Any) -> str:
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return str(role)


def _check_entitlements(ents: Any) -> list[str]:
    if not isinstance(ents, list) or len(ents) > 10_000:
        raise InputError("entitlements must be a list of at most 10000 region keys")
    return sorted({check_key(e, "entitled region") for e in ents})


def _check_geometry(geometry: Any) -> dict[str, Any]:
    import shapely
    import shapely.geometry

    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InputError("geometry must be a GeoJSON object of type Polygon or MultiPolygon")
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise InputError(f"geometry is not a readable GeoJSON polygon ({exc}); give rings of [lon, lat] pairs") from None
    if shape.is_empty or not shape.is_valid or shape.area <= 0:
        raise InputError(f"geometry is empty or invalid ({shapely.is_valid_reason(shape)}); give closed, non-self-intersecting rings")
    x0, y0, x1, y1 = shape.bounds
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise InputError("geometry is outside lon [-180, 180] / lat [-90, 90]; give degrees")
    return shapely.geometry.mapping(shape) | {}


def _check_cells(cells: Any, h3_res: Any) -> tuple[list[str], int]:
    import h3

    if not isinstance(cells, list) or not cells:
        raise InputError("cells must be a non-empty list of H3 cell ids in hex, e.g. '85283473fffffff'")
    if len(cells) > MAX_CELLS:
        raise InputError(f"{len(cells)} cells given; at most {MAX_CELLS} are allowed (use a polygon region instead)")
    out = set()
    for c in cells:
        if not isinstance(c, str) or len(c) > 16 or not h3.is_valid_cell(c):
            raise InputError(f"{c!r} is not an H3 cell id (15-16 hex digits, e.g. '85283473fffffff')")
        out.add(c.lower())
    res = {h3.get_resolution(c) for c in out}
    if len(res) != 1:
        raise InputError(f"cells mix H3 resolutions {sorted(res)}; give cells of one resolution")
    got = res.pop()
    if h3_res is not None and h3_res != got:
        raise InputError(f"h3_res {h3_res} does not match the cells' resolution {got}")
    return sorted(out), got


def _user_dict(r: Any) -> dict[str, Any]:
    return {"name": r.name, "role": r.role, "party": r.party, "entitlements": json.loads(r.entitlements), "active": bool(r.active), "created_at": r.created_at}


def _region_dict(r: Any) -> dict[str, Any]:
    return {"key": r.key, "kind": r.kind, "name": r.name, "country": r.country, "geometry": json.loads(r.geometry) if r.geometry else None,
            "cells": json.loads(r.cells) if r.cells else None, "h3_res": r.h3_res, "sensitive": bool(r.sensitive), "created_by": r.created_by, "created_at": r.created_at}


def _state_dict(r: Any) -> dict[str, Any]:
    # "_from"/"_to" (ns) serve policy_at; the API drops keys starting with "_".
    return {"id": r.id, "region": r.key, "active": bool(r.active), "valid_from": _iso(r.valid_from), "valid_to": _iso(r.valid_to), "reason": r.reason,
            "request_id": r.request_id, "created_by": r.created_by, "created_at": r.created_at, "_from": r.valid_from, "_to": r.valid_to}


def _decision_dict(d: Any) -> dict[str, Any]:
    return {"decided_by": d.decided_by, "decision": d.decision, "reason": d.reason, "created_at": d.created_at}


def init_store(db_url: str, admin: str = "admin") -> str:
    """Create (or upgrade) the schema at ``db_url`` and its first admin; the admin's token."""
    from leonet.control.db import make_engine
    from leonet.control.migrations_api import upgrade

    engine = make_engine(db_url, must_exist=False)
    try:
        upgrade(engine)
        return ControlService(engine).bootstrap_admin(admin)
    finally:
        engine.dispose()


__all__ = ["ControlService", "init_store", "Principal", "PERMISSIONS", "ROLES", "require"]
