"""Migrations: every revision upgrades, downgrades and upgrades again; models match the schema."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import create_engine
from bot.migrate import (
    SchemaBehindError,
    all_revisions,
    current_revision,
    downgrade,
    ensure_at_head,
    head_revision,
    upgrade,
)
from bot.models import Base
from tests.migration_rows import insert_row


async def test_stairway(database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "base")
    for revision in all_revisions():
        await asyncio.to_thread(upgrade, database_url, revision)
        await asyncio.to_thread(downgrade, database_url, "-1")
        await asyncio.to_thread(upgrade, database_url, revision)
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_refuses_a_database_behind_head(database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "base")
    engine = create_engine(database_url)
    try:
        with pytest.raises(SchemaBehindError, match="bookbridge migrate"):
            await ensure_at_head(engine)
        await asyncio.to_thread(upgrade, database_url)
        await ensure_at_head(engine)
    finally:
        await engine.dispose()


async def test_checking_the_revision_logs_nothing(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # Every command and every start-up checks the revision; Alembic's context lines are noise.
    with caplog.at_level(logging.INFO, logger="alembic"):
        await ensure_at_head(engine)
    assert [record.getMessage() for record in caplog.records] == []
    assert logging.getLogger("alembic.runtime.migration").level == logging.NOTSET


async def test_a_table_copy_keeps_the_rows_that_point_at_it(database_url: str) -> None:
    # On SQLite, batch mode copies a table and drops the original; 0019 does so to
    # ``challenges``. With foreign keys enforced, that emptied ``challenge_entries``.
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL alters tables in place; the rows are written with sqlite3")
    path = make_url(database_url).database or ""
    await asyncio.to_thread(downgrade, database_url, "0018_reading")
    with sqlite3.connect(path) as connection:
        insert_row(connection, "readers", id=1, telegram_id=1, chat_id=1, card_number="C1")
        period = {"starts_at": "2026-01-01", "ends_at": "2027-01-01", "title": "t"}
        insert_row(connection, "challenges", id=1, goal=3, **period)
        insert_row(connection, "challenge_entries", id=1, challenge_id=1, reader_id=1)
    await asyncio.to_thread(upgrade, database_url, "0019_reading_more")
    await asyncio.to_thread(downgrade, database_url, "0018_reading")
    await asyncio.to_thread(upgrade, database_url)
    with sqlite3.connect(path) as connection:
        entries = connection.execute("SELECT id, challenge_id, reader_id FROM challenge_entries")
        assert entries.fetchall() == [(1, 1, 1)]
