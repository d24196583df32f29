"""Control-plane errors; each maps to one HTTP status (see :data:`HTTP_STATUS`)."""

from __future__ import annotations

from leonet.errors import InputError, LeonetError


class AuthError(LeonetError):
    """No token, or a token that matches no active user (HTTP 401)."""


class ForbiddenError(LeonetError):
    """The caller's role does not allow the operation (HTTP 403)."""


class NotFoundError(LeonetError):
    """The object does not exist, or is not visible to the caller (HTTP 404)."""


class ConflictError(LeonetError):
    """The operation clashes with the current state, e.g. deciding a decided request (HTTP 409)."""


class StoreError(LeonetError):
    """The database is missing, not initialised, busy or unreachable (HTTP 503)."""


HTTP_STATUS: dict[type[LeonetError], int] = {
    AuthError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    InputError: 422,
    StoreError: 503,
}


def http_status(exc: LeonetError) -> int:
    """The HTTP status for a control-plane error (500 for anything unexpected)."""
    for cls, status in HTTP_STATUS.items():
        if isinstance(exc, cls):
            return status
    return 500
