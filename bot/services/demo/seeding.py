"""Seeding the demo alliance in one unit of work; a second run adds nothing."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import District, Event, Item, Library, Reader, Work
from bot.services.demo.accounts import ORGANISER_TELEGRAM_ID, seed_accounts
from bot.services.demo.activity import seed_activity
from bot.services.demo.bookstores import seed_bookstores
from bot.services.demo.campus import seed_campus
from bot.services.demo.catalogue import seed_catalogue
from bot.services.demo.data import DemoDataError, data_text
from bot.services.demo.events import seed_events
from bot.services.demo.follows import seed_follows
from bot.services.demo.summary import DemoSummary
from bot.services.members import import_districts, import_libraries


async def _totals(session: AsyncSession) -> dict[str, int]:
    totals: dict[str, int] = {}
    for name, model in (
        ("districts", District),
        ("libraries", Library),
        ("works", Work),
        ("items", Item),
        ("events", Event),
        ("readers", Reader),
    ):
        totals[name] = await session.scalar(select(func.count()).select_from(model)) or 0
    return totals


async def _members(session: AsyncSession) -> DemoSummary:
    """Import the districts and libraries of the data files."""
    districts = await import_districts(session, data_text("districts.csv"), commit=False)
    if not districts.ok:
        raise DemoDataError(districts.describe())
    libraries = await import_libraries(session, data_text("libraries.csv"), commit=False)
    if not libraries.ok:
        raise DemoDataError(libraries.describe())
    return DemoSummary(districts, libraries)


async def seed_demo(session: AsyncSession, *, today: date, zone: ZoneInfo) -> DemoSummary:
    """Seed the demo alliance (idempotent: a second run adds nothing) in one transaction."""
    async with write(session):
        summary = await _members(session)
        districts = {
            district.code: district for district in await session.scalars(select(District))
        }
        libraries = {library.code: library for library in await session.scalars(select(Library))}
        readers = await seed_accounts(session, districts, libraries, summary)
        await seed_catalogue(session, libraries, summary, today=today, zone=zone)
        organiser = readers[ORGANISER_TELEGRAM_ID]
        await seed_events(session, districts, libraries, organiser, summary, today=today, zone=zone)
        await seed_activity(session, districts, summary, today=today, zone=zone)
        await seed_follows(session, libraries, summary)
        await seed_bookstores(session, libraries, today=today, zone=zone)
        await seed_campus(session, organiser, summary)
        summary.totals = await _totals(session)
    return summary
