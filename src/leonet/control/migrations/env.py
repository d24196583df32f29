"""Alembic environment: leonet passes the connection in ``config.attributes['connection']``."""

from __future__ import annotations

from alembic import context

from leonet.control.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run leonet's migrations through `leonet db init` / `leonet db upgrade`, not the alembic command")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
