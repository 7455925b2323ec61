"""Fixtures for the admin console tests: an onboarded admin and staff who are not admins."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    AuditLog,
    District,
    Library,
    Notification,
    PurchaseSuggestion,
    Role,
    RoleGrant,
)
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.harness import BotHarness, ChatUser


@dataclass
class Staff:
    """The people of a test: an admin, and a reader, librarian and organiser who are not."""

    admin: ChatUser
    reader: ChatUser
    librarian: ChatUser
    organiser: ChatUser


async def grant(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram_id: int,
    role: Role,
    library_code: str | None = None,
) -> None:
    """Give an onboarded person a role directly in the database."""
    from bot.models import Reader

    async with sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
        assert reader is not None
        library_id = None
        if library_code:
            library_id = await session.scalar(
                select(Library.id).where(Library.code == library_code)
            )
        session.add(RoleGrant(reader_id=reader.id, role=role, library_id=library_id))
        await session.commit()


@pytest.fixture
async def staff(harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]) -> Staff:
    """Onboarded admin, reader, librarian (of library HOME) and organiser, in English."""
    from tests.factories import make_district, make_library

    async with sessionmaker() as session:
        district = await make_district(
            session, code="CORE", name="中心区", name_en="Core", latitude=37.5, longitude=121.4
        )
        await make_library(
            session, district, code="HOME", name="中心图书馆", name_en="Home Library"
        )
        await session.commit()
    people = Staff(
        admin=harness.user(ADMIN_TELEGRAM_ID, "Ada", username="ada"),
        reader=harness.user(301, "Rui", username="rui"),
        librarian=harness.user(302, "Lin", username="lin"),
        organiser=harness.user(303, "Oren", username="oren"),
    )
    for person in (people.admin, people.reader, people.librarian, people.organiser):
        await person.onboard()
    await grant(sessionmaker, 302, Role.LIBRARIAN, "HOME")
    await grant(sessionmaker, 303, Role.ORGANISER)
    return people


async def table_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Row counts of the tables the admin console writes to."""
    async with sessionmaker() as session:
        counts = {}
        for model in (District, Library, AuditLog, Notification, PurchaseSuggestion, RoleGrant):
            counts[model.__tablename__] = int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
        return counts
