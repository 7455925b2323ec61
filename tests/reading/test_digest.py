"""The weekly digest: opt-in, through the outbox, held back in quiet hours, once a week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.models import Notification, NotificationStatus, utcnow
from bot.services.reading import digest
from tests.harness import BotHarness, inline_labels

from ..holds.chat import deliver
from .world import build_world, chat_reader, crowd, set_district


async def _queue(harness: BotHarness, at: datetime) -> int:
    async with harness.app.sessionmaker() as session:
        return await digest.queue_digests(session, at, harness.app.settings.zone)


async def _digest_statuses(harness: BotHarness) -> list[NotificationStatus]:
    async with harness.app.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Notification.status).where(Notification.kind == "reading.digest")
            )
        )


async def test_digest_is_opt_in_waits_for_morning_and_comes_once_a_week(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    await crowd(harness, world, 5, holds=(world.works[0], world.works[1]))
    english = await chat_reader(harness, 1951)
    chinese = await chat_reader(harness, 1952, language="zh")
    silent = await chat_reader(harness, 1953)
    for user in (english, chinese, silent):
        await set_district(harness, user, world.district)
    for user, label in ((english, "Turn on the weekly digest"), (chinese, "开启每周阅读简报")):
        await user.send("/settings")
        await user.tap("📚 Reading" if user is english else "📚 阅读")
        await user.tap(label)
    await english.send(f"/start wk_{world.works[0].id}")
    await english.tap("🔖 Reserve")
    labels = inline_labels(english.last_bot_message())
    await english.tap(next(label for label in labels if label.startswith("City Library")))
    # 23:00 in Shanghai: queued now, held back by the quiet hours.
    night = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    assert await _queue(harness, night) == 2
    assert await _queue(harness, night + timedelta(hours=1)) == 0
    await deliver(harness, night)
    assert await _digest_statuses(harness) == [NotificationStatus.PENDING] * 2
    english.new_bot_messages()
    morning = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    assert await deliver(harness, morning) == 2
    [message] = english.new_bot_messages()
    text = message.text or ""
    assert "Your reading week" in text
    assert "New near you:\n• Book 7" in text
    assert "For you: Book 1" in text and "because you reserved or read Hong lou meng" in text
    [message] = chinese.new_bot_messages()
    assert "你的阅读周报" in (message.text or "")
    assert silent.new_bot_messages() == []
    # A week later the next one is due.
    assert await _queue(harness, night + timedelta(days=7)) == 2


async def test_forgotten_readers_get_no_digest(harness: BotHarness) -> None:
    await build_world(harness)
    user = await chat_reader(harness, 1954)
    await user.send("/settings")
    await user.tap("📚 Reading")
    await user.tap("Turn on the weekly digest")
    await user.send("/forgetme")
    await user.tap("🗑 Yes, delete my data")
    assert await _queue(harness, utcnow()) == 0
    async with harness.app.sessionmaker() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.kind == "reading.digest")
        )
        assert list(rows) == []
