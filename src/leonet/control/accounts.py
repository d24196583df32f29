"""Users and credentials, with separation of duties.

* Credentials are the user's own: an admin creating a user, or resetting one's credential,
  gets a one-time **enrolment code** (valid :attr:`ENROL_TTL_S`); the user trades it for a
  token (``POST /enrol``, ``leonet user enrol``) that no admin ever sees, and may rotate it
  (``POST /token/rotate``). Only hashes are stored.
* Tokens expire (:attr:`TOKEN_TTL_S` after issue) and are revoked for good: a new credential,
  a reset or a deactivation revokes every earlier token and code; reactivating a user revives
  none (the user needs a new enrolment code).
* **No single account completes a two-person change**: a credential or role granted by an
  admin cannot approve requests until a *different*, itself confirmed admin confirms it
  (``POST /users/NAME/confirm``) after checking with the person that they hold it. An admin
  who kept or redeemed someone's enrolment code therefore still cannot approve in their name
  alone, nor through an account they created. The admins named at ``leonet db init`` are the
  root of trust and start confirmed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select

from leonet.control import audit
from leonet.control.db import insert_row, read_one, read_tx, tokens, update_row, users, write_tx
from leonet.control.errors import AuthError, ConflictError, ForbiddenError, NotFoundError
from leonet.control.principal import ENROL_PREFIX, ROLES, TOKEN_PREFIX, Principal, hash_secret, new_secret, require
from leonet.control.validate import check_key, check_text
from leonet.errors import InputError

INIT_ACTOR = "leonet db init"


def _iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AccountsMixin:
    """User and credential operations of :class:`leonet.control.service.ControlService`."""

    engine: Engine
    signing_key: Any = None  # Ed25519 private key signing every audit entry written (None: unsigned)
    TOKEN_TTL_S: float = 90 * 86400.0
    ENROL_TTL_S: float = 7 * 86400.0

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """:func:`write_tx` whose audit entries this service's key signs."""
        with write_tx(self.engine) as conn:
            conn.info["leonet_signer"] = self.signing_key
            try:
                yield conn
            finally:
                conn.info.pop("leonet_signer", None)

    # ----------------------------------------------------------------- authentication

    def check_token(self, token: str | None) -> tuple[Principal | None, str]:
        """The holder of ``token``, or None and why not. Reads only: failures are counted by the
        caller and summarised into the log (:meth:`record_failed_logins`), never one row each."""
        if not token:
            return None, "no token"
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None, "not a leonet token" + (" (that is an enrolment code: trade it with `leonet user enrol`)" if token.startswith(ENROL_PREFIX) else "")
        with read_one(self.engine) as conn:
            row = conn.execute(_TOKEN_HOLDER, {"h": hash_secret(token)}).first()
        if row is None or row.kind != "token":
            return None, "unknown token"
        if row.revoked:
            return None, "revoked token"
        if row.expires_at <= audit.utc_now():
            return None, f"token expired at {row.expires_at}"
        if not row.active:
            return None, f"user {row.name!r} is deactivated"
        confirmed = row.confirmed_by is not None
        return Principal(row.name, row.role, row.party, frozenset(json.loads(row.entitlements)), confirmed, int(row.tid)), ""

    def authenticate(self, token: str | None) -> Principal:
        """The holder of ``token`` or :class:`AuthError` (nothing written)."""
        who, reason = self.check_token(token)
        if who is None:
            raise auth_error(reason)
        return who

    def record_failed_logins(self, summary: dict[str, Any]) -> int:
        """One audit entry summarising failed logins of a window (counts by client and reason)."""
        with self._write() as conn:
            return audit.append(conn, "anonymous", "login.failed", "session", "-", summary)

    # ----------------------------------------------------------------- bootstrap

    def bootstrap_admins(self, names: list[str], actor: str = INIT_ACTOR) -> dict[str, str]:
        """The first admins of an empty store, confirmed (the root of trust); their tokens."""
        if not names or len(set(names)) != len(names):
            raise InputError("give one or more distinct admin names")
        for n in names:
            check_key(n, "admin name")
        with self._write() as conn:
            if conn.execute(select(func.count()).select_from(users)).scalar_one():
                raise ConflictError("the database already has users; an admin adds more with `leonet user add NAME --role ROLE`")
            out = {}
            for n in names:
                row = self._insert_user(conn, actor, n, "admin", "operator's administration", [], confirmed_by=actor)
                out[n] = self._issue(conn, actor, row, "token")
            return out

    # ----------------------------------------------------------------- users

    def whoami(self, who: Principal) -> dict[str, Any]:
        require(who, "whoami")
        with read_tx(self.engine) as conn:
            exp = conn.execute(select(tokens.c.expires_at).where(tokens.c.id == who.token_id)).scalar_one_or_none()
        return {"name": who.name, "role": who.role, "party": who.party, "entitlements": sorted(who.entitlements),
                "confirmed": who.confirmed, "token_expires_at": exp}

    def list_users(self, who: Principal) -> list[dict[str, Any]]:
        require(who, "users.read")
        with read_tx(self.engine) as conn:
            return [user_dict(r) for r in conn.execute(select(users).order_by(users.c.id))]

    def create_user(self, who: Principal, name: str, role: str, party: str = "", entitlements: list[str] | None = None) -> dict[str, Any]:
        """A new user and its one-time enrolment code (the user trades it for a token)."""
        require(who, "users.write")
        check_key(name, "user name")
        role = check_role(role)
        party = check_text(party or "", "party", 200, required=False) or ""
        ents = check_entitlements(entitlements or [])
        with self._write() as conn:
            if conn.execute(select(users.c.id).where(users.c.name == name)).first():
                raise ConflictError(f"user {name!r} already exists; change it with `leonet user set {name}`")
            row = self._insert_user(conn, who.name, name, role, party, ents, granted_by=who.name)
            code = self._issue(conn, who.name, row, "enrol")
            return user_dict(conn.execute(select(users).where(users.c.id == row.id)).one()) | self._code_out(code)

    def _code_out(self, code: str) -> dict[str, Any]:
        return {"enrolment_code": code, "enrolment_expires_at": _iso_in(self.ENROL_TTL_S)}

    def _insert_user(self, conn: Connection, actor: str, name: str, role: str, party: str, ents: list[str],
                     granted_by: str | None = None, confirmed_by: str | None = None) -> Any:
        row = insert_row(conn, users, name=name, role=role, party=party, entitlements=json.dumps(ents), active=True,
                         created_at=audit.utc_now(), granted_by=granted_by, confirmed_by=confirmed_by)
        audit.append(conn, actor, "user.create", "user", name, {"role": role, "party": party, "entitlements": ents}, [("users", row)])
        return row

    def _issue(self, conn: Connection, actor: str, user_row: Any, kind: str) -> str:
        """A new token or enrolment code for the user, revoking every earlier one (for good)."""
        rows = self._revoke_all(conn, int(user_row.id))
        secret = new_secret(TOKEN_PREFIX if kind == "token" else ENROL_PREFIX)
        ttl = self.TOKEN_TTL_S if kind == "token" else self.ENROL_TTL_S
        t = insert_row(conn, tokens, user_id=user_row.id, token_hash=hash_secret(secret), created_at=audit.utc_now(), revoked=False,
                       kind=kind, issued_by=actor, expires_at=_iso_in(ttl))
        audit.append(conn, actor, "token.issue" if kind == "token" else "enrolment.issue", "user", user_row.name,
                     {"kind": kind, "expires_at": t.expires_at, "revoked_previous": len(rows)}, rows + [("tokens", t)])
        return secret

    def _revoke_all(self, conn: Connection, uid: int) -> list[tuple[str, Any]]:
        live = conn.execute(select(tokens.c.id).where(tokens.c.user_id == uid, tokens.c.revoked.is_(False))).scalars().all()
        return [("tokens", update_row(conn, tokens, int(i), revoked=True)) for i in live]

    def enrol(self, name: str, code: str) -> dict[str, Any]:
        """Trade a one-time enrolment code for the user's own token (no other credential needed)."""
        check_key(name, "user name")
        if not isinstance(code, str) or not code.startswith(ENROL_PREFIX) or len(code) > 200:
            raise auth_error("not an enrolment code (they start with 'lne_'; ask an admin: `leonet user token NAME`)")
        with self._write() as conn:
            row = conn.execute(select(users, tokens.c.id.label("tid"), tokens.c.revoked, tokens.c.expires_at, tokens.c.kind)
                               .join(tokens, tokens.c.user_id == users.c.id)
                               .where(tokens.c.token_hash == hash_secret(code), users.c.name == name)).first()
            if row is None or row.kind != "enrol" or row.revoked or row.expires_at <= audit.utc_now() or not row.active:
                why = "unknown code" if row is None or row.kind != "enrol" else "used or revoked code" if row.revoked else \
                    "expired code" if row.expires_at <= audit.utc_now() else "deactivated user"
                raise auth_error(f"enrolment refused ({why}); ask an admin for a new code (`leonet user token {name}`)")
            token = self._issue(conn, name, row, "token")
            out = {"name": name, "token": token}
            return out | {"token_expires_at": conn.execute(select(tokens.c.expires_at).where(tokens.c.token_hash == hash_secret(token))).scalar_one()}

    def rotate_token(self, who: Principal) -> dict[str, Any]:
        """A fresh token for the caller, revoking the one used (confirmation is kept: same holder)."""
        require(who, "whoami")
        with self._write() as conn:
            row = conn.execute(select(users).where(users.c.name == who.name)).one()
            token = self._issue(conn, who.name, row, "token")
            exp = conn.execute(select(tokens.c.expires_at).where(tokens.c.token_hash == hash_secret(token))).scalar_one()
            return {"name": who.name, "token": token, "token_expires_at": exp}

    def reset_credential(self, who: Principal, name: str) -> dict[str, Any]:
        """Revoke all of ``name``'s tokens and give a new enrolment code; approvals need a new confirmation."""
        require(who, "users.write")
        with self._write() as conn:
            row = self._user_row(conn, name)
            row = update_row(conn, users, int(row.id), granted_by=who.name, confirmed_by=None)
            audit.append(conn, who.name, "user.unconfirm", "user", name, {"why": "credential reset"}, [("users", row)])
            return {"name": name} | self._code_out(self._issue(conn, who.name, row, "enrol"))

    def confirm_user(self, who: Principal, name: str) -> dict[str, Any]:
        """A second admin confirms that ``name`` holds its credential: approvals are allowed again."""
        require(who, "users.write")
        if not who.confirmed:
            raise ForbiddenError(f"admin {who.name!r} is not confirmed itself; a confirmed admin must confirm {who.name!r} first")
        with self._write() as conn:
            row = self._user_row(conn, name)
            if row.confirmed_by is not None:
                raise ConflictError(f"user {name!r} is already confirmed (by {row.confirmed_by})")
            if who.name in (row.granted_by, name):
                raise ForbiddenError(f"{who.name!r} granted {name!r}'s current credential or role (or is {name!r}); a different admin must confirm it")
            if not conn.execute(select(tokens.c.id).where(tokens.c.user_id == row.id, tokens.c.kind == "token", tokens.c.revoked.is_(False))).first():
                raise ConflictError(f"user {name!r} has not enrolled yet (`leonet user enrol {name}`); confirm after they hold their token")
            row = update_row(conn, users, int(row.id), confirmed_by=who.name)
            audit.append(conn, who.name, "user.confirm", "user", name, {"granted_by": row.granted_by}, [("users", row)])
            return user_dict(row)

    def update_user(self, who: Principal, name: str, role: str | None = None, party: str | None = None,
                    entitlements: list[str] | None = None, active: bool | None = None) -> dict[str, Any]:
        """Change a user's role, party, entitlements or active flag (the last active admin stays).

        A new role needs a second admin's confirmation before it can approve; deactivating
        revokes every token and code for good."""
        require(who, "users.write")
        changes: dict[str, Any] = {}
        if role is not None:
            changes["role"] = check_role(role)
        if party is not None:
            changes["party"] = check_text(party, "party", 200, required=False)
        if entitlements is not None:
            changes["entitlements"] = json.dumps(check_entitlements(entitlements))
        if active is not None:
            if not isinstance(active, bool):
                raise InputError("active must be true or false")
            changes["active"] = active
        if not changes:
            raise InputError("nothing to change: give role, party, entitlements or active")
        with self._write() as conn:
            row = self._user_row(conn, name)
            losing_admin = row.role == "admin" and row.active and (changes.get("role", "admin") != "admin" or changes.get("active") is False)
            if losing_admin:
                admins = conn.execute(select(func.count()).select_from(users).where(users.c.role == "admin", users.c.active.is_(True))).scalar_one()
                if admins <= 1:
                    raise ConflictError(f"{name!r} is the last active admin; make another user admin first")
            if "role" in changes and changes["role"] != row.role:
                changes |= {"granted_by": who.name, "confirmed_by": None}
            new = update_row(conn, users, int(row.id), **changes)
            revoked = self._revoke_all(conn, int(row.id)) if changes.get("active") is False else []
            shown = {k: (json.loads(v) if k == "entitlements" else v) for k, v in changes.items()}
            audit.append(conn, who.name, "user.update", "user", name, {"before": user_dict(row), "changes": shown, "revoked": len(revoked)},
                         [("users", new)] + revoked)
            return user_dict(new)

    def _user_row(self, conn: Connection, name: str) -> Any:
        check_key(name, "user name")
        row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no user {name!r}; list them with `leonet user list`")
        return row


_TOKEN_HOLDER = (select(users, tokens.c.id.label("tid"), tokens.c.revoked, tokens.c.expires_at, tokens.c.kind)
                 .join(tokens, tokens.c.user_id == users.c.id).where(tokens.c.token_hash == bindparam("h")))


def auth_error(reason: str) -> AuthError:
    if reason == "no token":
        return AuthError("no token: send the header 'Authorization: Bearer <token>' (`leonet user enrol` gives you yours)")
    if reason.startswith("enrolment refused"):
        return AuthError(reason)
    return AuthError(f"token refused ({reason}); enrol with a new code from an admin (`leonet user token NAME`), or rotate before expiry (`leonet user rotate`)")


def check_role(role: Any) -> str:
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return str(role)


def check_entitlements(ents: Any) -> list[str]:
    if not isinstance(ents, list) or len(ents) > 10_000:
        raise InputError("entitlements must be a list of at most 10000 region keys")
    return sorted({check_key(e, "entitled region") for e in ents})


def user_dict(r: Any) -> dict[str, Any]:
    return {"name": r.name, "role": r.role, "party": r.party, "entitlements": json.loads(r.entitlements), "active": bool(r.active),
            "confirmed": r.confirmed_by is not None, "granted_by": r.granted_by, "confirmed_by": r.confirmed_by, "created_at": r.created_at}
