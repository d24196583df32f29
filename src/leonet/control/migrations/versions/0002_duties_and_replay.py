"""Separation of duties, expiring credentials, backdating flags, a store id for signed
checkpoints, writers' signatures on audit entries, and a snapshot entry that lets the audit log rebuild the data tables.

Revision ID: 0002
Revises: 0001

Users already in the store count as confirmed by this migration (they were trusted before it);
tokens already issued expire 90 days after the upgrade. The snapshot entry records every row
as it stands, so that :mod:`leonet.control.replay` can rebuild the tables from the log.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("granted_by", sa.String(64), nullable=True))
        b.add_column(sa.Column("confirmed_by", sa.String(64), nullable=True))
    with op.batch_alter_table("tokens") as b:
        b.add_column(sa.Column("kind", sa.String(8), nullable=True))
        b.add_column(sa.Column("issued_by", sa.String(64), nullable=True))
        b.add_column(sa.Column("expires_at", sa.String(40), nullable=True))
    for t in ("requests", "policy_states"):
        with op.batch_alter_table(t) as b:
            b.add_column(sa.Column("backdated", sa.Boolean, nullable=True))
    with op.batch_alter_table("audit_head") as b:
        b.add_column(sa.Column("store_id", sa.String(36), nullable=True))
    with op.batch_alter_table("audit_log") as b:
        b.add_column(sa.Column("sig", sa.String(128), nullable=True))
    expires = (datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    op.execute(sa.text("UPDATE users SET confirmed_by = 'migration 0002'"))
    op.execute(sa.text("UPDATE tokens SET kind = 'token', issued_by = 'migration 0002', expires_at = :e").bindparams(e=expires))
    op.execute(sa.text("UPDATE requests SET backdated = false"))
    op.execute(sa.text("UPDATE policy_states SET backdated = false"))
    op.execute(sa.text("UPDATE audit_head SET store_id = :s").bindparams(s=str(uuid.uuid4())))
    with op.batch_alter_table("tokens") as b:
        for c in ("kind", "issued_by", "expires_at"):
            b.alter_column(c, nullable=False, existing_type=sa.String(40))
    for t in ("requests", "policy_states"):
        with op.batch_alter_table(t) as b:
            b.alter_column("backdated", nullable=False, existing_type=sa.Boolean)
    with op.batch_alter_table("audit_head") as b:
        b.alter_column("store_id", nullable=False, existing_type=sa.String(36))
    _snapshot(op.get_bind())


def _snapshot(conn: sa.Connection) -> None:
    """One audit entry holding every data row: the log's starting point for replay."""
    from sqlalchemy import select

    from leonet.control import audit
    from leonet.control.db import DATA_TABLES

    rows = [(t.name, dict(r._mapping)) for t in DATA_TABLES for r in conn.execute(select(t).order_by(t.c.id))]
    if rows:
        audit.append(conn, "leonet db upgrade", "store.snapshot", "store", "-", {"revision": revision}, rows)


def downgrade() -> None:
    for t, cols in (("audit_log", ["sig"]), ("audit_head", ["store_id"]), ("policy_states", ["backdated"]), ("requests", ["backdated"]),
                    ("tokens", ["expires_at", "issued_by", "kind"]), ("users", ["confirmed_by", "granted_by"])):
        with op.batch_alter_table(t) as b:
            for c in cols:
                b.drop_column(c)
