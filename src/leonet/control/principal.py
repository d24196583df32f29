"""Who may do what: roles, permissions, the authenticated caller, secrets and their hashes.

Roles (deny by default: an operation not listed for a role in :data:`PERMISSIONS` is refused):

* ``admin``: users, roles, entitlements, enrolment codes, and confirming another admin's grants;
* ``operator``: creates regions, changes the policy, decides (approves or rejects) requests,
  files requests for internal teams;
* ``partner``: files requests for the regions it is entitled to and sees their state and its
  own requests; other regions do not exist for it;
* ``auditor``: reads everything, exports, checkpoints and verifies the audit log, changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from leonet.control.errors import ForbiddenError

ROLES = ("admin", "operator", "partner", "auditor")

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
ENROL_PREFIX = "lne_"


@dataclass(frozen=True)
class Principal:
    """An authenticated user; ``confirmed``: a second admin confirmed its current credential and role."""

    name: str
    role: str
    party: str
    entitlements: frozenset[str]
    confirmed: bool = False
    token_id: int = 0

    def may(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, frozenset())

    def sees_region(self, key: str) -> bool:
        return self.role != "partner" or key in self.entitlements


def require(who: Principal, permission: str) -> None:
    """Refuse unless ``who``'s role grants ``permission`` (unknown permissions: refused)."""
    if not who.may(permission):
        allowed = ", ".join(sorted(PERMISSIONS.get(permission, ()))) or "no role"
        raise ForbiddenError(f"user {who.name!r} (role {who.role}) may not do {permission!r}; only {allowed} may")


def hash_secret(secret: str) -> str:
    """Tokens and enrolment codes are 256-bit random, so a plain SHA-256 suffices to store them."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)
