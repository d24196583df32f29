"""Running the Alembic migrations from leonet (no alembic.ini: the config is built here)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from leonet.control.db import store_errors

SCRIPT_LOCATION = "leonet.control:migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def head_revision() -> str:
    """The newest migration leonet ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # the package always ships at least the initial revision
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None: not a migrated database)."""
    with store_errors(), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision``, in one transaction."""
    cfg = _config()
    with store_errors(), engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
