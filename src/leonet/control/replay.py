"""Rebuild the data tables from the audit log and compare them with the stored ones.

Every write appends the full image of each row it inserted or updated (``payload["rows"]``),
and a migration to a schema with this guarantee starts the log with a snapshot of every row.
Replaying the images in chain order therefore yields the users, tokens, regions, requests,
decisions and policy states exactly as leonet wrote them. A row that differs, is missing or
has no entry behind it was changed outside leonet: flipped policy states, a region no longer
sensitive, a partner raised to admin, an inserted token hash, a deleted decision, a request
set approved by hand.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from leonet.control.audit import TABLES, iter_entries, row_image


def replay(conn: Connection) -> tuple[dict[str, dict[int, dict[str, Any]]], dict[tuple[str, int], int]]:
    """The tables the log describes, ``{table: {id: row}}``, and the entry that last set each row."""
    tables: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in TABLES}
    last: dict[tuple[str, int], int] = {}
    for entry in iter_entries(conn):
        if '"rows"' not in entry.payload:  # cheap skip of entries that change no data
            continue
        try:
            payload = json.loads(entry.payload)
        except ValueError:
            continue  # an unreadable payload already fails the hash check
        for item in payload.get("rows", []) if isinstance(payload, dict) else []:
            name, row = item.get("table"), item.get("row")
            if name in tables and isinstance(row, dict) and isinstance(row.get("id"), int):
                tables[name][row["id"]] = row
                last[(name, row["id"])] = int(entry.seq)
    return tables, last


def compare_tables(conn: Connection) -> tuple[int | None, str] | None:
    """None when every data row matches the log; else (entry number or None, what differs)."""
    logged, last = replay(conn)
    for name, table in TABLES.items():
        stored = {int(r.id): row_image(name, r) for r in conn.execute(select(table).order_by(table.c.id))}
        for rid in sorted(set(stored) | set(logged[name])):
            have, want = stored.get(rid), logged[name].get(rid)
            label = _label(name, have or want or {})
            if want is None:
                return None, f"table {name} holds row {rid}{label} that no audit entry wrote: it was inserted outside leonet"
            seq = last[(name, rid)]
            if have is None:
                return seq, f"table {name} lacks row {rid}{label}, written by audit entry {seq}: it was deleted outside leonet"
            for col in want:
                if json.loads(json.dumps(have.get(col))) != want[col]:
                    return seq, (f"table {name} row {rid}{label}: {col} is {have.get(col)!r} but the audit log (entry {seq}) says "
                                 f"{want[col]!r}: the table was edited outside leonet")
    return None


def _label(name: str, row: dict[str, Any]) -> str:
    for key in ("key", "name"):
        if row.get(key):
            return f" ({key} {row[key]!r})"
    return ""
