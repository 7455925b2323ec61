"""`bookbridge demo` prepares a fresh, seeded alliance and the sandbox's people and places."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from aiogram.types import Message
from sqlalchemy import func, select, update

from bot.app import build_application
from bot.config import Settings
from bot.delivery import DeliveryWorker, Pacer, Timekeeper
from bot.demo_app import DEMO_TOKEN, prepare_demo, sandbox_people_and_places
from bot.models import Event, Library, LibraryFollow, Reader, Work
from bot.services.demo.accounts import ORGANISER_TELEGRAM_ID, READER_TELEGRAM_ID
from bot.services.demo.activity import ACTIVITY_TELEGRAM_BASE, DEMO_ACTIVITY
from bot.services.demo.data import CENTRAL_LIBRARY
from bot.services.demo.seeding import seed_demo
from tests.harness import BotHarness, inline_labels


async def test_prepare_demo_twice_starts_fresh(settings: Settings, tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    configured = await prepare_demo(settings, directory)
    (directory / "leftover.txt").write_text("from an earlier run")
    configured = await prepare_demo(settings, directory)
    assert not (directory / "leftover.txt").exists()
    assert configured.require_token() == DEMO_TOKEN
    assert configured.database_url.endswith("demo/bookbridge.db")

    people, places = await sandbox_people_and_places(configured)
    # The demo accounts, then the readers whose searches give /reach something to rank
    # (sandbox users too, so campaigns to them are delivered and can be looked at).
    activity = sum(active + idle for _code, active, idle in DEMO_ACTIVITY)
    assert [reader.telegram_id for reader in people] == [
        1001,
        1002,
        1003,
        1004,
        *range(ACTIVITY_TELEGRAM_BASE + 1, ACTIVITY_TELEGRAM_BASE + 1 + activity),
    ]
    assert len(places) >= 12
    assert all(place["name_zh"] and place["name_en"] for place in places)

    app = build_application(configured)
    try:
        async with app.sessionmaker() as session:
            assert (await session.scalar(select(func.count(Work.id))) or 0) >= 500
            assert (await session.scalar(select(func.count(Event.id))) or 0) >= 15
    finally:
        await app.close()


async def _instantly(_seconds: float) -> None:
    await asyncio.sleep(0)


def _label(message: Message, start: str) -> str:
    """The label of the message's button that starts so (counts in labels may vary)."""
    return next(label for label in inline_labels(message) if label.startswith(start))


async def test_the_demo_organiser_broadcasts_to_the_followers_of_their_library(
    harness: BotHarness,
) -> None:
    zone = harness.app.settings.zone
    maker = harness.app.sessionmaker
    async with maker() as session:
        await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
        followers = list(
            await session.scalars(
                select(Reader)
                .join(LibraryFollow, LibraryFollow.reader_id == Reader.id)
                .join(Library, Library.id == LibraryFollow.library_id)
                .where(Library.code == CENTRAL_LIBRARY)
            )
        )
        # The organiser persona speaks Chinese; English keeps the labels below readable.
        await session.execute(
            update(Reader).where(Reader.telegram_id == ORGANISER_TELEGRAM_ID).values(language="en")
        )
        await session.commit()
    assert READER_TELEGRAM_ID in {reader.telegram_id for reader in followers}
    for reader in followers:
        harness.user(reader.telegram_id, reader.first_name, language_code=reader.language)
    organiser = harness.user(ORGANISER_TELEGRAM_ID, "演示活动组织者", username="demo_organiser")
    demo_reader = harness.user(READER_TELEGRAM_ID, "演示读者", language_code="zh")

    [start] = await organiser.send("/broadcast")
    assert (start.text or "").startswith("📣 New broadcast.")
    central = _label(start, "▫️ Haibin Public Library (Central)")
    assert central.endswith(f"({len(followers)} followers)")
    await organiser.tap(central)
    await organiser.tap("Next ▶️")
    await organiser.send("本周六下午有读书会，欢迎参加。")
    await organiser.tap("Skip")  # no English version
    await organiser.tap("Skip")  # no link button
    await organiser.tap(_label(organiser.last_bot_message(), "✅"))
    assert any(
        (message.text or "").startswith("📣 Broadcast #1 is on its way to")
        for message in organiser.chat()
    )

    tomorrow_morning = datetime.combine(
        datetime.now(zone).date() + timedelta(days=1), time(10, 0), zone
    ).astimezone(UTC)
    clock = Timekeeper(now=lambda: tomorrow_morning, sleep=_instantly)
    worker = DeliveryWorker(
        maker,
        harness.bot,
        harness.app.i18n,
        harness.app.settings,
        pacer=Pacer(None, timekeeper=clock),
        timekeeper=clock,
    )
    report = await worker.drain()
    assert report.sent == len(followers)
    assert [message.text for message in demo_reader.new_bot_messages()] == [
        "本周六下午有读书会，欢迎参加。"
    ]
