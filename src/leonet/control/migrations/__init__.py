"""Alembic migrations of the control-plane schema (run by :mod:`leonet.control.migrations_api`)."""
