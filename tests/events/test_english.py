"""Events in the reader's language: titles, places, counts and lists (issue 16, defect 8)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import create_engine
from bot.i18n import create_i18n
from bot.migrate import downgrade, upgrade
from bot.models import Event, Notification, Reader, Role, RoleGrant, utcnow
from bot.notices.render import render
from bot.services.events.drafts import split_bilingual
from bot.services.events.registration import register
from jobs.events import EventsTick
from tests.factories import make_event, make_library, make_reader
from tests.harness import BotHarness, inline_labels, texts

TITLE = "讲座：《三体》中的物理学"
TITLE_EN = "Lecture: The Physics of The Three-Body Problem"


async def _event(session: AsyncSession) -> Event:
    library = await make_library(session, name="海滨图书馆", name_en="Haibin Library")
    event = await make_event(
        session,
        title=TITLE,
        title_en=TITLE_EN,
        venue_library_id=library.id,
        capacity=1,
        partners=["城市书店", "诗社", "青年志愿者协会"],
        starts_at=utcnow() + timedelta(days=1),
    )
    await session.commit()
    return event


async def test_english_readers_see_the_english_title_and_chinese_readers_the_chinese(
    harness: BotHarness, session: AsyncSession
) -> None:
    event = await _event(session)
    english, chinese = harness.user(77001, "Emma"), harness.user(77002, "Li")
    await english.onboard("en")
    await chinese.onboard("zh")

    listing = texts(await english.send("/events"))[-1]
    assert TITLE_EN in listing and TITLE not in listing
    [button] = [b for b in inline_labels(english.last_bot_message()) if b.startswith("1. ")]
    # Cut to fit a phone, visibly, and never into the other language.
    assert button == "1. Lecture: The Physics of The Three-Body…"
    card = texts(await english.send(f"/start ev_{event.id}"))[-1]
    assert TITLE_EN in card and "Haibin Library" in card and "海滨图书馆" not in card
    assert "1 of 1 place left" in card
    assert "城市书店, 诗社, and 青年志愿者协会" in card

    listing = texts(await chinese.send("/events"))[-1]
    assert TITLE in listing and TITLE_EN not in listing
    card = texts(await chinese.send(f"/start ev_{event.id}"))[-1]
    assert TITLE in card and "海滨图书馆" in card
    assert "城市书店、诗社和青年志愿者协会" in card


async def test_notices_are_in_each_readers_language(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with sessionmaker() as session:
        event = await _event(session)
        reader = await make_reader(session)
        await session.commit()
        await register(session, reader, event.id, now=utcnow())
    await EventsTick(
        sessionmaker, settings, clock=lambda: event.starts_at - timedelta(hours=1)
    ).run()
    async with sessionmaker() as session:
        row = await session.scalar(
            select(Notification).where(Notification.kind == "event-reminder")
        )
        assert row is not None
    i18n = create_i18n("zh")
    en = render(row.payload, "en", translator=i18n, settings=settings).text["en"]
    zh = render(row.payload, "zh", translator=i18n, settings=settings).text["zh"]
    assert f"<b>{TITLE_EN}</b>" in en and "📍 Haibin Library" in en and TITLE not in en
    assert f"<b>{TITLE}</b>" in zh and "📍 海滨图书馆" in zh and zh.startswith("⏰")


async def test_the_wizard_asks_for_an_english_title_after_a_chinese_one(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_library(session, name="海滨图书馆", name_en="Haibin Library")
    await session.commit()
    organiser = harness.user(77010, "Olga")
    await organiser.onboard()
    reader = await session.scalar(select(Reader).where(Reader.telegram_id == 77010))
    assert reader is not None
    session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER))
    await session.commit()
    zone = harness.app.settings.zone
    starts = (
        (utcnow() + timedelta(days=3))
        .astimezone(zone)
        .replace(hour=19, minute=0, second=0, microsecond=0)
    )

    async def publish(*titles: str) -> None:
        await organiser.send("/newevent")
        for title in titles:
            await organiser.send(title)
        await organiser.send("讲物理。")
        await organiser.tap("Lecture")
        await organiser.tap("Everyone")
        await organiser.send(f"{starts:%Y-%m-%d %H:%M}")
        await organiser.send("21:00")
        await organiser.tap("Haibin Library")
        await organiser.send("30")
        await organiser.tap("Skip")
        preview = texts(await organiser.tap("Once"))[-1]
        assert "Preview" in preview and "🎟 30 places" in preview
        await organiser.tap("✅ Publish")

    await organiser.send("/newevent")
    asked = texts(await organiser.send(TITLE))[-1]
    assert "title in English" in asked
    assert "Describe the event" in texts(await organiser.tap("Skip"))[-1]
    await organiser.tap("✖️ Cancel")
    await publish(TITLE, TITLE_EN)
    # "中文 / English" in one message gives both at once.
    await publish("读书会：《平凡的世界》 / Book Club: Ordinary World")
    async with sessionmaker() as check:
        stored = [
            (event.title, event.title_en)
            for event in await check.scalars(select(Event).order_by(Event.id))
        ]
    assert stored == [
        (TITLE, TITLE_EN),
        ("读书会：《平凡的世界》", "Book Club: Ordinary World"),
    ]


def test_only_the_chinese_slash_english_shape_is_split() -> None:
    assert split_bilingual("讲座：书页里的海 / Lecture: The Sea on the Page") == (
        "讲座：书页里的海",
        "Lecture: The Sea on the Page",
    )
    assert split_bilingual("English Book Club / 英文读书会：《老人与海》") == (
        "英文读书会：《老人与海》",
        "English Book Club",
    )
    for kept in ("Poetry evening", "A / B", "诗 / 词", "甲 / B / 丙", "海风书店 Sea Breeze"):
        assert split_bilingual(kept) == (kept, None)


async def test_the_migration_splits_stored_bilingual_titles(database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "0008")
    engine = create_engine(database_url)
    insert = text(
        "INSERT INTO events (title, description, category, audience, starts_at, ends_at, "
        "capacity, partners, status, checkin_token) VALUES (:title, '', 'lecture', "
        "'everyone', :starts, :ends, 10, '[]', 'published', :token)"
    )
    starts = datetime(2030, 1, 1, 11, 0, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            for n, title in enumerate(
                ("讲座：书页里的海 / Lecture: The Sea on the Page", "Poetry evening")
            ):
                await connection.execute(
                    insert,
                    {
                        "title": title,
                        "starts": starts,
                        "ends": starts + timedelta(hours=2),
                        "token": f"t{n}",
                    },
                )
        await asyncio.to_thread(upgrade, database_url)
        async with engine.connect() as connection:
            rows = list(await connection.execute(text("SELECT title, title_en FROM events")))
        assert sorted(tuple(row) for row in rows) == [
            ("Poetry evening", None),
            ("讲座：书页里的海", "Lecture: The Sea on the Page"),
        ]
        # Down again: the English title goes back where it came from.
        await asyncio.to_thread(downgrade, database_url, "0008")
        async with engine.connect() as connection:
            titles = sorted(await connection.scalars(text("SELECT title FROM events")))
        assert titles == ["Poetry evening", "讲座：书页里的海 / Lecture: The Sea on the Page"]
    finally:
        await engine.dispose()
        await asyncio.to_thread(upgrade, database_url)


async def test_organisers_add_and_remove_an_english_title_and_place_name(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = harness.user(77020, "Olga")
    await organiser.onboard()
    owner = await session.scalar(select(Reader).where(Reader.telegram_id == 77020))
    assert owner is not None
    session.add(RoleGrant(reader_id=owner.id, role=Role.ORGANISER))
    event = await make_event(
        session,
        organiser_id=owner.id,
        title="草坪读书会",
        place_name="阳光草坪",
        latitude=36.0,
        longitude=120.0,
    )
    await session.commit()

    for field, typed in (("title_en", "Reading on the Lawn"), ("place_en", "Sunny Lawn")):
        await organiser.forge(f"oed:{event.id}:{field}")
        assert "Saved." in texts(await organiser.send(typed))[-1]
    async with sessionmaker() as check:
        stored = await check.get(Event, event.id)
        assert stored is not None
        assert (stored.title_en, stored.place_name_en) == ("Reading on the Lawn", "Sunny Lawn")
    await organiser.forge(f"oed:{event.id}:title_en")
    await organiser.send("-")
    async with sessionmaker() as check:
        stored = await check.get(Event, event.id)
        assert stored is not None and stored.title_en is None
