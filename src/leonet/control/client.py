"""The CLI's client: the same operations against a server (``--server URL``) or straight on the
database (``--db URL``), both authorised by the caller's token and both driven by the shared
route table (:data:`leonet.control.routes.ROUTES`).

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
from leonet.control.routes import ROUTES
from leonet.errors import InputError, LeonetError

_BY_STATUS: dict[int, type[LeonetError]] = {400: InputError, 401: AuthError, 403: ForbiddenError, 404: NotFoundError, 409: ConflictError,
                                            413: InputError, 422: InputError, 429: StoreError, 503: StoreError}


class ControlClient(Protocol):
    """Operations the CLI needs; every method returns JSON-like data."""

    def call(self, op: str, **kw: Any) -> Any: ...

    def export_lines(self) -> Iterator[str]: ...

    def close(self) -> None: ...


def _route(op: str) -> Any:
    if op not in ROUTES:
        raise InputError(f"unknown operation {op!r}")
    return ROUTES[op]


class RemoteClient:
    """Talks to ``leonet serve`` over HTTP."""

    def __init__(self, server: str, token: str | None, timeout_s: float = 60.0) -> None:
        if not server.startswith(("http://", "https://")):
            raise InputError(f"--server {server!r} must be an http(s) URL such as http://127.0.0.1:8600")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=timeout_s)

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
            if r.status_code == 429:
                detail += f" (Retry-After: {r.headers.get('retry-after', '?')} s)"
            raise _BY_STATUS.get(r.status_code, LeonetError)(f"server said {r.status_code}: {detail}")
        return r

    def call(self, op: str, **kw: Any) -> Any:
        route = _route(op)
        path = route.path.format(**{k: kw.pop(k) for k in route.path_params()})
        kw = {k: v for k, v in kw.items() if v is not None}
        args: dict[str, Any] = {}
        if route.args == "json":
            args["json"] = kw
        elif route.args == "query":
            args["params"] = kw
        return self._send(route.method, path, **args).json()

    def export_lines(self) -> Iterator[str]:
        route = ROUTES["audit_export"]
        yield from self._send(route.method, route.path).text.splitlines()

    def close(self) -> None:
        self.http.close()


class LocalClient:
    """Works on the database directly, as the token's user (same checks as the server)."""

    def __init__(self, db_url: str, token: str | None) -> None:
        from leonet.control.db import check_initialised, make_engine
        from leonet.control.service import ControlService, writers_key

        self.engine = make_engine(db_url)
        check_initialised(self.engine)
        self.service = ControlService(self.engine, writers_key())  # $LEONET_AUDIT_KEY signs what this process writes
        self.token = token

    def _who(self) -> Any:
        who, reason = self.service.check_token(self.token)
        if who is None:
            from leonet.control.accounts import auth_error

            self.service.record_failed_logins({"failures": 1, "clients": 1, "by_client": {"local --db": 1}, "by_reason": {reason: 1}})
            raise auth_error(reason)
        return who

    def call(self, op: str, **kw: Any) -> Any:
        route = _route(op)
        if op == "audit_verify" and self.token is None:
            return self.service.audit_verify(None, kw.get("expect_head"), kw.get("signer")).as_dict()  # the database holder may verify
        if route.permission is None:
            out = getattr(self.service, route.method_name)(**kw)
        else:
            out = getattr(self.service, route.method_name)(self._who(), **(kw | route.fixed))
        if op == "audit_verify":
            return out.as_dict()
        return [_clean(x) for x in out] if isinstance(out, list) else _clean(out)

    def export_lines(self) -> Iterator[str]:
        from leonet.control.audit import canonical_json

        who = self._who()
        self.service.audit_entries(who, 0, 1)  # records the export
        after = 0
        while True:
            page = self.service.audit_entries(who, after, 5000, record=False)
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
    """A client for ``--server``/``--db`` (exactly one) and the caller's token."""
    if bool(server) == bool(db):
        raise InputError("give either --server URL (a running `leonet serve`) or --db URL (the database itself), not both or neither")
    if not token and not token_optional:
        raise InputError("no token: set LEONET_TOKEN, or give --token-file FILE (`leonet user enrol` gives you your token)")
    if server:
        return RemoteClient(server, token or None)
    return LocalClient(db or "", token or None)
