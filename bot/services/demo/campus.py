"""The demo's campus programme: living books at the human library event, a live quiz."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Event, EventCategory, LivingBook, LivingBookSlot, Reader, utcnow
from bot.services.demo.summary import DemoSummary
from bot.services.humanlibrary.shelves import slot_times

# (name, topic, blurb): the living books of the demo's first human library event.
DEMO_LIVING_BOOKS = (
    (
        "陈船长 Captain Chen",
        "三十年远洋航海 Thirty years at sea",
        "从青岛到鹿特丹：航线、风暴与港口。From Qingdao to Rotterdam: routes, storms, ports.",
    ),
    (
        "古籍修复师 The book restorer",
        "修补一本明代刻本 Mending a Ming-dynasty print",
        "纸、浆糊和耐心。Paper, paste and patience: how a torn book is made whole again.",
    ),
    (
        "留学生 Amina, an exchange student",
        "在中国读研究生 A graduate student far from home",
        "从内罗毕到海滨：语言、食物和友谊。From Nairobi to Haibin: language, food, friends.",
    ),
)
SLOT_MINUTES = 30


async def seed_living_books(session: AsyncSession, summary: DemoSummary, *, now: datetime) -> None:
    """Three living books at the first human library event to come, unless it has some."""
    event = await session.scalar(
        select(Event)
        .where(Event.category == EventCategory.HUMAN_LIBRARY, Event.starts_at > now)
        .order_by(Event.starts_at)
        .limit(1)
    )
    if event is None:
        return
    if await session.scalar(select(LivingBook.id).where(LivingBook.event_id == event.id)):
        return
    for name, topic, blurb in DEMO_LIVING_BOOKS:
        book = LivingBook(
            event_id=event.id, name=name, topic=topic, blurb=blurb, slot_minutes=SLOT_MINUTES
        )
        session.add(book)
        await session.flush()
        session.add_all(
            LivingBookSlot(book_id=book.id, starts_at=start, ends_at=end)
            for start, end in slot_times(event, SLOT_MINUTES, now - timedelta(days=1))
        )
        summary.campus_created += 1
    await session.flush()


async def seed_campus(session: AsyncSession, organiser: Reader, summary: DemoSummary) -> None:
    """Everything of the campus programme the demo shows (idempotent)."""
    await seed_living_books(session, summary, now=utcnow())
