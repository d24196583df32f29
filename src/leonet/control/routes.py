"""The REST route table, shared by the server (:mod:`.api` registers exactly these) and the
CLI's clients (:mod:`.client` calls them over HTTP, or the same service method locally).

``op -> Route``: HTTP method and path template, where the remaining arguments travel
(``json`` body, ``query`` string or nowhere), the permission the caller needs (None: no token,
e.g. enrolment), and the :class:`leonet.control.service.ControlService` method with any fixed
arguments it takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    args: str  # "json" | "query" | ""
    permission: str | None
    method_name: str
    fixed: dict[str, Any] = field(default_factory=dict)
    status: int = 200

    def path_params(self) -> list[str]:
        return [p.split("}")[0] for p in self.path.split("{")[1:]]


ROUTES: dict[str, Route] = {
    "whoami": Route("GET", "/whoami", "", "whoami", "whoami"),
    "rotate_token": Route("POST", "/token/rotate", "", "whoami", "rotate_token"),
    "enrol": Route("POST", "/enrol", "json", None, "enrol"),
    "list_users": Route("GET", "/users", "", "users.read", "list_users"),
    "create_user": Route("POST", "/users", "json", "users.write", "create_user", status=201),
    "update_user": Route("PATCH", "/users/{name}", "json", "users.write", "update_user"),
    "reset_credential": Route("POST", "/users/{name}/token", "", "users.write", "reset_credential"),
    "confirm_user": Route("POST", "/users/{name}/confirm", "", "users.write", "confirm_user"),
    "list_regions": Route("GET", "/regions", "", "regions.read", "list_regions"),
    "create_region": Route("POST", "/regions", "json", "regions.write", "create_region", status=201),
    "get_region": Route("GET", "/regions/{key}", "", "regions.read", "get_region"),
    "policy_at": Route("GET", "/policy", "query", "policy.read", "policy_at"),
    "list_states": Route("GET", "/policy/states", "query", "policy.read", "list_states"),
    "set_state": Route("POST", "/policy/states", "json", "policy.write", "set_state", status=201),
    "list_requests": Route("GET", "/requests", "query", "requests.read", "list_requests"),
    "file_request": Route("POST", "/requests", "json", "requests.file", "file_request", status=201),
    "get_request": Route("GET", "/requests/{request_id}", "", "requests.read", "get_request"),
    "approve": Route("POST", "/requests/{request_id}/approve", "json", "requests.decide", "decide", {"decision": "approve"}),
    "reject": Route("POST", "/requests/{request_id}/reject", "json", "requests.decide", "decide", {"decision": "reject"}),
    "withdraw": Route("POST", "/requests/{request_id}/withdraw", "json", "requests.withdraw", "decide", {"decision": "withdraw"}),
    "audit_entries": Route("GET", "/audit", "query", "audit.read", "audit_entries"),
    "audit_export": Route("GET", "/audit/export", "", "audit.read", "audit_entries"),
    "audit_head": Route("GET", "/audit/head", "", "audit.read", "audit_head"),
    "audit_verify": Route("GET", "/audit/verify", "query", "audit.read", "audit_verify"),
}
