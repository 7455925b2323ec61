"""The reader behind every update: loaded with their roles in one query, written only on change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.models import Reader, Role, RoleGrant, utcnow
from bot.services.readers import SEEN_RESOLUTION, Contact, touch_reader
from bot.services.roles import role_set
from tests.factories import make_library

CONTACT = Contact(telegram_id=5551, chat_id=5551, first_name="Lin", username="lin")


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements the engine sends while the block runs (first word, upper case)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _stored(sessionmaker: async_sessionmaker[AsyncSession]) -> Reader:
    async with sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == 5551))
        assert reader is not None
        return reader


async def test_first_contact_creates_the_reader_with_no_roles(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        reader = await touch_reader(session, CONTACT, now)
        assert reader.roles == []
        assert role_set(reader, reader.roles, ()).roles == {Role.READER}
    stored = await _stored(sessionmaker)
    assert stored.first_name == "Lin"
    assert stored.last_seen_at == now


async def test_an_update_that_changes_nothing_writes_nothing(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = utcnow()
    async with sessionmaker() as session:
        await touch_reader(session, CONTACT, first)
    with statements(engine) as sent:
        async with sessionmaker() as session:
            await touch_reader(session, CONTACT, first + SEEN_RESOLUTION - timedelta(seconds=1))
    assert "UPDATE" not in sent and "INSERT" not in sent
    assert sent.count("SELECT") == 1, sent  # the reader and their grants in one query
    assert (await _stored(sessionmaker)).last_seen_at == first


async def test_last_seen_is_refreshed_once_the_resolution_has_passed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first = utcnow()
    async with sessionmaker() as session:
        await touch_reader(session, CONTACT, first)
    later = first + SEEN_RESOLUTION
    async with sessionmaker() as session:
        await touch_reader(session, CONTACT, later)
    assert (await _stored(sessionmaker)).last_seen_at == later


async def test_changed_details_and_unblocking_are_written_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        reader = await touch_reader(session, CONTACT, now)
        reader.is_blocked = True
        reader.blocked_at = now
        await session.commit()
    renamed = Contact(telegram_id=5551, chat_id=5551, first_name="Lin Mei", username=None)
    async with sessionmaker() as session:
        await touch_reader(session, renamed, now + timedelta(seconds=5))
    stored = await _stored(sessionmaker)
    assert (stored.first_name, stored.username) == ("Lin Mei", None)
    assert stored.is_blocked is False and stored.blocked_at is None
    assert stored.last_seen_at == now


async def test_role_grants_come_with_the_reader(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        reader = await touch_reader(session, CONTACT, utcnow())
        library = await make_library(session)
        session.add(RoleGrant(reader_id=reader.id, role=Role.LIBRARIAN, library_id=library.id))
        session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER, library_id=None))
        await session.commit()
        library_id = library.id
    async with sessionmaker() as session:
        reader = await touch_reader(session, CONTACT, utcnow())
        roles = role_set(reader, reader.roles, admin_ids=(5551,))
    assert roles.roles == {Role.READER, Role.LIBRARIAN, Role.ORGANISER, Role.ADMIN}
    assert roles.librarian_of == {library_id}
    assert roles.organiser_for == frozenset()
