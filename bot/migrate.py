"""Schema migrations: Alembic configured in code, so no alembic.ini is needed."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# Alembic announces its "Context impl" and DDL mode at INFO whenever a context is configured.
_CONTEXT_LOG = logging.getLogger("alembic.runtime.migration")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the project's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the database to a revision (blocking; run it off the event loop)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Downgrade the database to a revision (blocking)."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    """The newest revision in the migrations folder."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def all_revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _current(connection: Connection) -> str | None:
    # Only reading the revision (every command and start-up does): those two lines are noise.
    level = _CONTEXT_LOG.level
    _CONTEXT_LOG.setLevel(max(level, logging.WARNING))
    try:
        return MigrationContext.configure(connection).get_current_revision()
    finally:
        _CONTEXT_LOG.setLevel(level)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


class SchemaBehindError(Exception):
    """The database is not at the newest migration."""


async def ensure_at_head(engine: AsyncEngine) -> None:
    """Refuse to run on a database behind head."""
    current = await current_revision(engine)
    head = head_revision()
    if current != head:
        raise SchemaBehindError(
            f"the database is at revision {current or 'none (empty)'}, the code needs {head}: "
            "run `bookbridge migrate`"
        )
