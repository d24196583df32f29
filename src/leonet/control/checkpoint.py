"""Signed checkpoints of the audit chain head: an anchor outside the database.

An auditor (or a cron job) signs the head ``(store id, entry number, hash)`` with an Ed25519
key kept *outside* the database (a PEM file, ``$LEONET_CHECKPOINT_KEY``) and appends the
checkpoint to a JSON Lines file kept elsewhere (``leonet audit checkpoint``). Later, ``leonet
audit verify --checkpoints FILE`` checks every checkpoint's signature against the pinned
public key and that the log still holds each checkpointed entry with the same hash: a
rewritten log (even one with every hash recomputed), a cut tail or a swapped database fails.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leonet.control.audit import canonical_json, utc_now
from leonet.errors import InputError

KEY_ENV = "LEONET_CHECKPOINT_KEY"
FORMAT = "leonet-checkpoint-1"
_SIGNED = ("format", "store_id", "seq", "hash", "at", "public_key")


def _crypto() -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return serialization, ed25519


def generate_key(path: str | Path) -> str:
    """Write a new Ed25519 private key (PEM, mode 0600) to ``path``; its public key (hex)."""
    serialization, ed25519 = _crypto()
    p = Path(path)
    if p.exists():
        raise InputError(f"{p} exists; refusing to overwrite a signing key (move it away first)")
    if not p.parent.is_dir():
        raise InputError(f"folder {p.parent} does not exist; create it first")
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return public_hex(key)


def public_hex(key: Any) -> str:
    serialization, _ = _crypto()
    pub = key.public_key() if hasattr(key, "public_key") else key
    return str(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex())


def load_private(path: str | Path) -> Any:
    serialization, ed25519 = _crypto()
    p = Path(path)
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
    except OSError as exc:
        raise InputError(f"cannot read the checkpoint key {p} ({exc.strerror}); create one with `leonet audit keygen --key {p}`") from None
    except (ValueError, TypeError):
        raise InputError(f"{p} is not an unencrypted PEM private key; create one with `leonet audit keygen --key FILE`") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise InputError(f"{p} is not an Ed25519 key; create one with `leonet audit keygen --key FILE`")
    return key


def load_public(text: str) -> Any:
    """A pinned public key: 64 hex digits, or the path of a private key file (its public half)."""
    _, ed25519 = _crypto()
    t = text.strip()
    if len(t) == 64 and all(c in "0123456789abcdefABCDEF" for c in t):
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(t))
    return load_private(t).public_key()


def sign(head: dict[str, Any], key: Any) -> dict[str, Any]:
    """A checkpoint of ``head`` (``seq``, ``hash``, ``store_id``) signed with ``key``."""
    cp = {"format": FORMAT, "store_id": str(head["store_id"]), "seq": int(head["seq"]), "hash": str(head["hash"]), "at": utc_now(), "public_key": public_hex(key)}
    return cp | {"signature": key.sign(canonical_json([cp[k] for k in _SIGNED]).encode()).hex()}


def append(path: str | Path, cp: dict[str, Any]) -> None:
    """Append a checkpoint to a JSON Lines file, synced to disk."""
    p = Path(path)
    if not p.parent.is_dir():
        raise InputError(f"folder {p.parent} for the checkpoints does not exist; create it first")
    with p.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(cp, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    checkpoints: int
    problem: str | None = None


def check(path: str | Path, head: dict[str, Any], hash_at: Callable[[int], str | None], public_key: str | None = None) -> CheckResult:
    """Check the store (its ``head`` and ``hash_at(seq)``) against every checkpoint in ``path``.

    ``public_key`` pins the signer (hex or a key file); without it the key of the first
    checkpoint is trusted and every later one must match it.
    """
    from cryptography.exceptions import InvalidSignature

    try:
        lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read checkpoints from {path} ({exc})") from None
    if not lines:
        raise InputError(f"{path} holds no checkpoints; make one with `leonet audit checkpoint`")
    pinned = load_public(public_key) if public_key else None
    for i, line in enumerate(lines, 1):
        try:
            cp = json.loads(line)
            fields = [cp[k] for k in _SIGNED]
            sig = bytes.fromhex(cp["signature"])
        except (ValueError, KeyError, TypeError):
            return CheckResult(False, i - 1, f"checkpoint {i} in {path} is not a readable checkpoint")
        if pinned is None:
            pinned = load_public(cp["public_key"])
        try:
            pinned.verify(sig, canonical_json(fields).encode())
        except InvalidSignature:
            return CheckResult(False, i - 1, f"checkpoint {i} (entry {cp['seq']}) is not signed by the pinned key: the checkpoint file was altered or mixes keys")
        if cp["store_id"] != head["store_id"]:
            return CheckResult(False, i - 1, f"checkpoint {i} is of store {cp['store_id']}, this database is store {head['store_id']}: another or a recreated database")
        if int(head["seq"]) < int(cp["seq"]):
            return CheckResult(False, i - 1, f"checkpoint {i} (signed {cp['at']}) records entry {cp['seq']} but the log ends at entry {head['seq']}: its tail was cut")
        have = hash_at(int(cp["seq"]))
        if have != cp["hash"]:
            return CheckResult(False, i - 1, f"entry {cp['seq']} has hash {str(have)[:12]}... but checkpoint {i} (signed {cp['at']}) says {cp['hash'][:12]}...: "
                                             "the log was rewritten up to there")
    return CheckResult(True, len(lines))
