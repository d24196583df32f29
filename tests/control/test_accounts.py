"""Separation of duties and credential life cycle: no single account, admin included, completes
a two-person change; tokens are the user's own, expire, and stay revoked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from control_support import BACKENDS, enrol, seeded_store

from leonet.control.errors import AuthError, ConflictError, ForbiddenError
from leonet.control.service import ControlService


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path):
    with seeded_store(request.param, tmp_path) as store:
        yield store


def _head(svc: ControlService) -> int:
    return svc.audit_verify(None).head_seq


def test_an_admin_cannot_act_as_the_second_operator(store) -> None:
    """Issue 12, weakness 2: the admin reset op2's token and approved with it after op1."""
    _url, tok, svc = store
    admin, op1 = svc.authenticate(tok["admin"]), svc.authenticate(tok["op1"])
    r = svc.file_request(svc.authenticate(tok["p1"]), "TWN", "deactivate", "sensitive")
    svc.decide(op1, r["id"], "approve", "first")
    # The reset hands the admin an enrolment code, never a token; redeeming it himself...
    reset = svc.reset_credential(admin, "op2")
    assert set(reset) == {"name", "enrolment_code", "enrolment_expires_at"}
    stolen = svc.enrol("op2", reset["enrolment_code"])["token"]
    with pytest.raises(AuthError, match="revoked"):
        svc.authenticate(tok["op2"])  # the real op2 is locked out, and will notice
    # ...gives an unconfirmed credential that cannot approve; the admin cannot confirm his own grant.
    with pytest.raises(ForbiddenError, match="not yet confirmed"):
        svc.decide(svc.authenticate(stolen), r["id"], "approve", "second")
    with pytest.raises(ForbiddenError, match="different admin"):
        svc.confirm_user(admin, "op2")
    # A puppet operator made by the admin is no better, nor is a puppet admin to confirm it.
    puppet = enrol(svc, tok["admin"], "puppet", "operator")
    puppet_admin = enrol(svc, tok["admin"], "padmin", "admin")
    with pytest.raises(ForbiddenError, match="not yet confirmed"):
        svc.decide(svc.authenticate(puppet), r["id"], "approve", "puppet")
    with pytest.raises(ForbiddenError, match="not confirmed itself"):
        svc.confirm_user(svc.authenticate(puppet_admin), "puppet")
    # Raising an existing user to operator also needs a second admin.
    svc.update_user(admin, "au", role="operator")
    with pytest.raises(ForbiddenError, match="not yet confirmed"):
        svc.decide(svc.authenticate(tok["au"]), r["id"], "approve", "raised")
    assert svc.get_request(op1, r["id"])["state"] == "pending"
    # Only a second, confirmed admin's confirmation (after checking with op2) lets op2 approve.
    svc.confirm_user(svc.authenticate(tok["admin2"]), "op2")
    assert svc.decide(svc.authenticate(stolen), r["id"], "approve", "second")["state"] == "approved"
    assert svc.audit_verify(None).ok


def test_enrolment_codes_are_single_use_and_tokens_expire(store) -> None:
    _url, tok, svc = store
    admin = svc.authenticate(tok["admin"])
    code = svc.create_user(admin, "newop", "operator")["enrolment_code"]
    with pytest.raises(AuthError, match="unknown code"):
        svc.enrol("op1", code)  # another user's name
    with pytest.raises(AuthError):
        svc.authenticate(code)  # a code is not a token
    token = svc.enrol("newop", code)["token"]
    with pytest.raises(AuthError, match="used or revoked"):
        svc.enrol("newop", code)
    with pytest.raises(ConflictError, match="has not enrolled"):
        svc.confirm_user(svc.authenticate(tok["admin2"]), svc.create_user(admin, "late", "operator")["name"])
    # Rotation: the old token dies, confirmation stays (same holder).
    rotated = svc.rotate_token(svc.authenticate(tok["op1"]))
    with pytest.raises(AuthError, match="revoked"):
        svc.authenticate(tok["op1"])
    assert svc.authenticate(rotated["token"]).confirmed
    # Expiry.
    svc.TOKEN_TTL_S = 0.5
    short = svc.rotate_token(svc.authenticate(token))["token"]
    assert svc.authenticate(short).name == "newop"
    time.sleep(0.7)
    with pytest.raises(AuthError, match="expired"):
        svc.authenticate(short)
    svc.ENROL_TTL_S = 0.2
    old_code = svc.reset_credential(admin, "newop")["enrolment_code"]
    time.sleep(0.4)
    with pytest.raises(AuthError, match="expired code"):
        svc.enrol("newop", old_code)


def test_revoked_tokens_stay_revoked(store) -> None:
    """Issue 12, weakness 7: reactivating a user revived their old token."""
    _url, tok, svc = store
    admin = svc.authenticate(tok["admin"])
    assert svc.authenticate(tok["p2"]).name == "p2"
    svc.update_user(admin, "p2", active=False)
    with pytest.raises(AuthError, match="revoked"):
        svc.authenticate(tok["p2"])
    svc.update_user(admin, "p2", active=True)
    with pytest.raises(AuthError, match="revoked"):
        svc.authenticate(tok["p2"])
    code = svc.reset_credential(admin, "p2")["enrolment_code"]
    assert svc.authenticate(svc.enrol("p2", code)["token"]).name == "p2"
    with pytest.raises(ConflictError, match="last active admin"):
        svc.update_user(admin, "admin2", active=False) and svc.update_user(admin, "admin", active=False)


def test_failed_logins_write_nothing_per_attempt(store) -> None:
    _url, tok, svc = store
    before = _head(svc)
    for bad in (None, "", "lnt_wrong", "lne_code", "x" * 500):
        with pytest.raises(AuthError):
            svc.authenticate(bad)
    assert _head(svc) == before
    seq = svc.record_failed_logins({"failures": 5, "clients": 1})
    assert seq == before + 1 and svc.audit_entries(svc.authenticate(tok["au"]), before, 1)[0]["action"] == "login.failed"
