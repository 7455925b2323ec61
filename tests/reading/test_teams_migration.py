"""The reading-teams migration on a database with challenges in it: district teams keep their
participants and districts, list challenges freeze their books, nothing else is lost."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.migrate import alembic_config, downgrade, upgrade
from tests.migration_rows import insert_row


def _before_teams() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    [found] = [rev for rev in script.walk_revisions() if rev.revision.endswith("reading_teams")]
    assert isinstance(found.down_revision, str)
    return found.down_revision


async def test_upgrade_keeps_entries_and_freezes_list_books(database_url: str) -> None:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("the data is written with sqlite3")
    path = make_url(database_url).database or ""
    await asyncio.to_thread(downgrade, database_url, _before_teams())
    with sqlite3.connect(path) as connection:
        insert_row(connection, "districts", id=1, code="D1", name="一区")
        insert_row(
            connection, "readers", id=1, telegram_id=1, chat_id=1, card_number="C1", district_id=1
        )
        insert_row(connection, "works", id=1, title="One")
        insert_row(connection, "works", id=2, title="Two")
        insert_row(connection, "reading_lists", id=1, title="书单", published=1)
        for n in (1, 2):
            insert_row(connection, "reading_list_entries", id=n, list_id=1, work_id=n, position=n)
        period = {"starts_at": "2026-01-01", "ends_at": "2027-01-01", "title": "t"}
        insert_row(
            connection, "challenges", id=1, goal=3, team_by_district=1, kind="books", **period
        )
        insert_row(
            connection,
            "challenges",
            id=2,
            goal=2,
            team_by_district=0,
            kind="list",
            list_id=1,
            **period,
        )
        for n in (1, 2):
            insert_row(connection, "challenge_entries", id=n, challenge_id=n, reader_id=1)
        insert_row(connection, "reading_log", id=1, reader_id=1, work_id=1, source="card")
    await asyncio.to_thread(upgrade, database_url)
    with sqlite3.connect(path) as connection:
        kinds = connection.execute("SELECT id, team_kind FROM challenges ORDER BY id").fetchall()
        teams = connection.execute(
            "SELECT id, team_id FROM challenge_entries ORDER BY id"
        ).fetchall()
        books = connection.execute("SELECT challenge_id, work_id FROM challenge_books").fetchall()
        reads = connection.execute("SELECT count(*) FROM reading_log").fetchone()
    assert kinds == [(1, "district"), (2, "none")]
    assert teams == [(1, 1), (2, None)]
    assert sorted(books) == [(2, 1), (2, 2)]
    assert reads == (1,)
    await asyncio.to_thread(downgrade, database_url, _before_teams())
    with sqlite3.connect(path) as connection:
        flags = connection.execute("SELECT id, team_by_district FROM challenges ORDER BY id")
        assert flags.fetchall() == [(1, 1), (2, 0)]
        entries = connection.execute("SELECT count(*) FROM challenge_entries").fetchone()
        assert entries == (2,)
