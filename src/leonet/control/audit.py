"""The append-only, hash-chained audit log.

Entry ``n`` stores ``hash = SHA-256(prev_hash + "\\n" + canonical JSON of [seq, at, actor,
action, object_type, object_id, payload])`` with ``prev_hash`` the hash of entry ``n - 1``
(64 zeros for entry 1), and the single ``audit_head`` row holds the last entry's number and
hash. Entries are appended only inside :func:`leonet.control.db.write_tx`, which holds the
head lock, so the chain is linear and each entry commits with the change it records.

:func:`verify` walks the chain and names the first bad entry: an edited field breaks that
entry's hash, a deleted entry leaves a gap in the numbers, a reordered or inserted one breaks
the numbering or the ``prev_hash`` link, and entries deleted from (or appended to) the end
no longer match the head.

The log is also the truth about the data: every write records the full new image of each
row it inserts or updates (``payload["rows"]``), so :mod:`leonet.control.replay` rebuilds the
users, tokens, regions, requests, decisions and policy states from the log alone and
:func:`verify` names the first row where the tables disagree with it (a direct edit of a data
table). Someone able to rewrite the whole chain *and* the head can hide that from the chain
alone; a signed checkpoint exported earlier (:mod:`leonet.control.checkpoint`) catches it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Integer, insert, select
from sqlalchemy.types import BigInteger

from leonet.control.db import DATA_TABLES, SET_AUDIT_HEAD, audit_head, audit_log

TABLES = {t.name: t for t in DATA_TABLES}

GENESIS_HASH = "0" * 64


def utc_now() -> str:
    """Now as ISO-8601 UTC with microseconds (the form every ``*_at`` column holds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, object_type: str, object_id: str, payload: str) -> str:
    """The hash of one entry given its predecessor's hash (``payload`` as stored)."""
    body = canonical_json([int(seq), at, actor, action, object_type, object_id, payload])
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def row_image(table: str, row: Any) -> dict[str, Any]:
    """A data row as JSON values (booleans and integers normalised across SQLite and PostgreSQL)."""
    m = row if isinstance(row, dict) else dict(row._mapping)
    out: dict[str, Any] = {}
    for col in TABLES[table].columns:
        v = m.get(col.name)
        if v is not None and isinstance(col.type, Boolean):
            v = bool(v)
        elif v is not None and isinstance(col.type, Integer | BigInteger):
            v = int(v)
        out[col.name] = v
    return out


def append(conn: Connection, actor: str, action: str, object_type: str, object_id: str | int, payload: dict[str, Any],
           rows: list[tuple[str, Any]] | None = None) -> int:
    """Append one entry in the caller's write transaction (which holds the head lock); its number.

    ``rows``: ``(table name, row)`` for every data row the write inserted or updated, as it now
    stands; recorded in full so that the log can rebuild the tables.
    """
    # write_tx read the head under its lock; entries of one transaction follow each other.
    cached = conn.info.get("leonet_head")
    if cached is None:
        got = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
        cached = (int(got.seq), got.hash)
    prev_seq, prev_hash = cached
    if rows:
        payload = payload | {"rows": [{"table": t, "row": row_image(t, r)} for t, r in rows]}
    seq, at, text = prev_seq + 1, utc_now(), canonical_json(payload)
    h = entry_hash(prev_hash, seq, at, actor, action, object_type, str(object_id), text)
    signer = conn.info.get("leonet_signer")
    sig = signer.sign(bytes.fromhex(h)).hex() if signer is not None else None
    conn.execute(_INSERT_ENTRY, {"seq": seq, "at": at, "actor": actor, "action": action, "object_type": object_type, "object_id": str(object_id),
                                 "payload": text, "prev_hash": prev_hash, "hash": h, "sig": sig})
    if "leonet_head" in conn.info:  # write_tx holds the head: it stores the last one with the commit
        conn.info["leonet_head"] = (seq, h)
    else:
        conn.execute(SET_AUDIT_HEAD, {"new_seq": seq, "new_hash": h})
    return seq


_INSERT_ENTRY = insert(audit_log)  # built once; values bound per entry


def entry_dict(row: Any) -> dict[str, Any]:
    """An audit row as exported (payload decoded when it is JSON, kept as text otherwise)."""
    try:
        payload: Any = json.loads(row.payload)
    except ValueError:
        payload = row.payload
    return {"seq": int(row.seq), "at": row.at, "actor": row.actor, "action": row.action, "object_type": row.object_type,
            "object_id": row.object_id, "payload": payload, "prev_hash": row.prev_hash, "hash": row.hash}


def iter_entries(conn: Connection, after: int = 0, limit: int | None = None) -> Iterator[Any]:
    """Rows with ``seq > after`` in chain order, streamed."""
    q = select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
    if limit is not None:
        q = q.limit(limit)
    yield from conn.execution_options(yield_per=1000).execute(q)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`; ``first_bad`` is the number of the first bad entry."""

    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    problem: str | None = None
    store_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify(conn: Connection, expect_head: str | None = None, signer: Any = None) -> VerifyResult:
    """Check the whole chain and the head, then replay the log against the tables; stop at the
    first problem. ``signer``: the writers' Ed25519 public key; every entry from the first one
    it signed on must carry its valid signature (a forged append has none)."""
    from cryptography.exceptions import InvalidSignature

    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash, audit_head.c.store_id).where(audit_head.c.id == 1)).first()
    head_seq, head_hash, store_id = (int(head.seq), head.hash, head.store_id) if head is not None else (-1, "", "")
    expected, prev, count, signed = 1, GENESIS_HASH, 0, 0

    def bad(seq: int | None, problem: str) -> VerifyResult:
        return VerifyResult(False, count, head_seq, head_hash, seq, problem, store_id)

    for row in iter_entries(conn):
        seq = int(row.seq)
        if seq != expected:
            return bad(seq, f"entry {seq} follows entry {expected - 1}: entry {expected} is missing (deleted) or entries were renumbered (reordered or inserted)")
        if row.prev_hash != prev:
            return bad(seq, f"entry {seq} does not link to entry {seq - 1} (its prev_hash differs): an entry was inserted, deleted or reordered here")
        if entry_hash(row.prev_hash, seq, row.at, row.actor, row.action, row.object_type, row.object_id, row.payload) != row.hash:
            return bad(seq, f"entry {seq} does not match its hash: a field was edited")
        if signer is not None and (row.sig is not None or signed):
            try:
                signer.verify(bytes.fromhex(row.sig or ""), bytes.fromhex(row.hash))
            except (InvalidSignature, ValueError):
                what = "carries no signature" if row.sig is None else "has a signature the writers' key did not make"
                return bad(seq, f"entry {seq} {what}: it was written outside leonet (forged), or by a writer without the key")
            signed += 1
        prev, expected, count = row.hash, expected + 1, count + 1
    last = expected - 1
    if head is None:
        return bad(last + 1, "the chain head row is missing: the audit_head table was edited")
    if head_seq != last or head_hash != prev:
        if head_seq > last:
            return bad(last + 1, f"the log ends at entry {last} but the chain head records entry {head_seq}: entries {last + 1}..{head_seq} were deleted")
        return bad(min(head_seq + 1, last) if head_seq < last else last, f"the chain head records entry {head_seq} (hash {head_hash[:12]}...) but the log ends at entry {last}: entries were appended, edited or the head was altered outside leonet")
    if expect_head is not None and expect_head.strip().lower() != head_hash:
        return bad(last, f"the chain head hash {head_hash} differs from the expected {expect_head.strip()}: the log was rewritten (or the expected hash is of another database)")
    if signer is not None and count and not signed:
        return bad(None, "no entry is signed by the given writers' key: the log was written without it, or by someone else")
    from leonet.control.replay import compare_tables

    disagreement = compare_tables(conn)
    if disagreement is not None:
        return bad(disagreement[0], disagreement[1])
    return VerifyResult(True, count, head_seq, head_hash, store_id=store_id)
