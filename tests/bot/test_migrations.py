"""Migrations: every revision upgrades, downgrades and upgrades again; models match the schema."""

from __future__ import annotations

import asyncio
import logging

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
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
