"""Every events list pages with ◀️ ▶️: nothing is cut off (issue 16, defect 6)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, Role, RoleGrant, utcnow
from bot.services.events.registration import register
from tests.factories import make_event, make_reader
from tests.harness import BotHarness, ChatUser, inline_labels

PAGING = ("◀️", "▶️")


async def _organiser(harness: BotHarness, session: AsyncSession, telegram_id: int) -> Reader:
    user = harness.user(telegram_id, "Olga")
    await user.onboard()
    reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
    assert reader is not None
    session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER))
    await session.commit()
    return reader


async def _every_page(user: ChatUser) -> list[list[str]]:
    """The labels of each page, turning ▶️ until there is none."""
    pages = [inline_labels(user.last_bot_message())]
    while "▶️" in pages[-1]:
        await user.tap("▶️")
        pages.append(inline_labels(user.last_bot_message()))
        assert "◀️" in pages[-1]
    return pages


async def test_myevents_pages_through_all_22_events(
    harness: BotHarness, session: AsyncSession
) -> None:
    owner = await _organiser(harness, session, 75001)
    starts = utcnow() + timedelta(days=2)
    titles = [f"Reading circle {n:02d}" for n in range(1, 23)]
    for n, title in enumerate(titles):
        await make_event(
            session, organiser_id=owner.id, title=title, starts_at=starts + timedelta(hours=n)
        )
    await session.commit()
    organiser = harness.user(75001)

    await organiser.send("/myevents")
    pages = await _every_page(organiser)

    assert len(pages) == 3
    shown = [label.split(" ", 2)[2] for page in pages for label in page if label not in PAGING]
    assert shown == titles
    # Back to the first page.
    await organiser.tap("◀️")
    await organiser.tap("◀️")
    first = inline_labels(organiser.last_bot_message())
    assert first[0].endswith("Reading circle 01") and "◀️" not in first


async def test_my_registrations_and_the_attendee_list_page(
    harness: BotHarness, session: AsyncSession
) -> None:
    owner = await _organiser(harness, session, 75002)
    starts = utcnow() + timedelta(days=2)
    events = [
        await make_event(
            session,
            organiser_id=owner.id,
            title=f"Talk {n:02d}",
            starts_at=starts + timedelta(hours=n),
            capacity=30,
        )
        for n in range(12)
    ]
    await session.commit()
    reader = harness.user(75003, "Ren")
    await reader.onboard()
    me = await session.scalar(select(Reader).where(Reader.telegram_id == 75003))
    assert me is not None
    for event in events:
        await register(session, me, event.id, now=utcnow())
    others = [await make_reader(session, first_name=f"Guest {n:02d}") for n in range(24)]
    await session.commit()
    for other in others:
        await register(session, other, events[0].id, now=utcnow())

    await reader.send("/events")
    await reader.tap("🎟 My events")
    pages = await _every_page(reader)
    talks = [label for page in pages for label in page if label.startswith("Talk")]
    assert talks == [f"Talk {n:02d}" for n in range(12)]

    organiser = harness.user(75002)
    await organiser.forge(f"oev:a:{events[0].id}")
    first = organiser.last_bot_message().text or ""
    # 20 a page: Ren and 19 guests, then the 5 other guests.
    assert "1. Ren" in first and "Guest 18" in first and "Guest 19" not in first
    await organiser.tap("▶️")
    second = organiser.last_bot_message().text or ""
    assert "21. Guest 19" in second and "25. Guest 23" in second and "Ren" not in second
    assert "▶️" not in inline_labels(organiser.last_bot_message())
