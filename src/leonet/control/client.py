"""The CLI's client: the same operations against a server (``--server URL --token T``) or
straight on the database (``--db URL --token T``); both authorise by the token's role.

Errors come back as the control-plane exceptions (:mod:`leonet.control.errors`) with the
server's message, so the CLI reports them the same way in both modes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import httpx

from leonet.control.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    StoreError,
)
from leonet.errors import InputError, LeonetError

_BY_STATUS: dict[int, type[LeonetError]] = {401: AuthError, 403: ForbiddenError, 404: NotFoundError, 409: ConflictError, 422: InputError, 400: InputError, 503: StoreError}


class ControlClient(Protocol):
    """Operations the CLI needs; every method returns JSON-like data."""

    def call(self, op: str, **kw: Any) -> Any: ...

    def export_lines(self) -> Iterator[str]: ...

    def close(self) -> None: ...


# op -> (HTTP method, path template, where the arguments go: "json" | "query" | "")
ROUTES: dict[str, tuple[str, str, str]] = {
    "whoami": ("GET", "/whoami", ""),
    "list_users": ("GET", "/users", ""),
    "create_user": ("POST", "/users", "json"),
    "update_user": ("PATCH", "/users/{name}", "json"),
    "issue_token": ("POST", "/users/{name}/token", ""),
    "list_regions": ("GET", "/regions", ""),
    "create_region": ("POST", "/regions", "json"),
    "get_region": ("GET", "/regions/{key}", ""),
    "policy_at": ("GET", "/policy", "query"),
    "list_states": ("GET", "/policy/states", "query"),
    "set_state": ("POST", "/policy/states", "json"),
    "list_requests": ("GET", "/requests", "query"),
    "file_request": ("POST", "/requests", "json"),
    "get_request": ("GET", "/requests/{request_id}", ""),
    "decide": ("POST", "/requests/{request_id}/{decision}", "json"),
    "audit_entries": ("GET", "/audit", "query"),
    "audit_verify": ("GET", "/audit/verify", "query"),
}


class RemoteClient:
    """Talks to ``leonet serve`` over HTTP."""

    def __init__(self, server: str, token: str, timeout_s: float = 60.0) -> None:
        if not server.startswith(("http://", "https://")):
            raise InputError(f"--server {server!r} must be an http(s) URL such as http://127.0.0.1:8600")
        self.http = httpx.Client(base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the control server at {self.http.base_url} ({exc}); is `leonet serve` running there?") from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise _BY_STATUS.get(r.status_code, LeonetError)(f"server said {r.status_code}: {detail}")
        return r

    def call(self, op: str, **kw: Any) -> Any:
        method, template, where = ROUTES[op]
        path_keys = [k for k in kw if "{" + k + "}" in template]
        path = template.format(**{k: kw.pop(k) for k in path_keys})
        kw = {k: v for k, v in kw.items() if v is not None}
        args: dict[str, Any] = {}
        if where == "json":
            args["json"] = kw
        elif where == "query":
            args["params"] = kw
        return self._send(method, path, **args).json()

    def export_lines(self) -> Iterator[str]:
        yield from self._send("GET", "/audit/export").text.splitlines()

    def close(self) -> None:
        self.http.close()


class LocalClient:
    """Works on the database directly, as the token's user (same checks as the server)."""

    def __init__(self, db_url: str, token: str | None) -> None:
        from leonet.control.db import check_initialised, make_engine
        from leonet.control.service import ControlService

        self.engine = make_engine(db_url)
        check_initialised(self.engine)
        self.service = ControlService(self.engine)
        self.token = token

    def _who(self) -> Any:
        return self.service.authenticate(self.token, "local")

    def call(self, op: str, **kw: Any) -> Any:
        if op not in ROUTES:
            raise InputError(f"unknown operation {op!r}")
        if op == "audit_verify" and self.token is None:
            return self.service.audit_verify(None, kw.get("expect_head")).as_dict()  # the database holder may verify
        out = getattr(self.service, op)(self._who(), **kw)
        if op == "audit_verify":
            return out.as_dict()
        return [_clean(x) for x in out] if isinstance(out, list) else _clean(out)

    def export_lines(self) -> Iterator[str]:
        from leonet.control.audit import canonical_json

        who = self._who()
        after = 0
        while True:
            page = self.service.audit_entries(who, after, 5000)
            if not page:
                return
            for e in page:
                yield canonical_json(e)
            after = page[-1]["seq"]

    def close(self) -> None:
        self.engine.dispose()


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def connect(server: str | None, db: str | None, token: str | None, token_optional: bool = False) -> ControlClient:
    """A client for ``--server``/``--db`` (exactly one) and ``--token``."""
    if bool(server) == bool(db):
        raise InputError("give either --server URL (a running `leonet serve`) or --db URL (the database itself), not both or neither")
    if not token and not (db and token_optional):
        raise InputError("no token: give --token T or set LEONET_TOKEN (`leonet db init` prints the first admin token)")
    if server:
        return RemoteClient(server, token or "")
    return LocalClient(db or "", token or None)
