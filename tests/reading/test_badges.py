"""Badges: earned once each for reading milestones, in the read's transaction, announced
through the outbox, shown in /challenges; /forgetme erases them and the export has them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.models import (
    Notification,
    Reader,
    ReaderBadge,
    ReadingList,
    ReadingListEntry,
    ReadingLog,
    utcnow,
)
from bot.services.privacy import export_reader
from bot.services.reading import log, progress
from tests.harness import BotHarness, ChatUser

from ..holds.chat import deliver
from .test_challenges import _organiser, _period
from .world import World, build_world, chat_reader, reader_of


async def _badges(harness: BotHarness, reader_id: int) -> list[str]:
    async with harness.app.sessionmaker() as session:
        return sorted(
            await session.scalars(
                select(ReaderBadge.badge).where(ReaderBadge.reader_id == reader_id)
            )
        )


async def _badge_notices(harness: BotHarness, reader_id: int) -> int:
    async with harness.app.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.reader_id == reader_id, Notification.kind == "reading.badge")
        )
        return int(count or 0)


async def _past_reads(harness: BotHarness, world: World, reader_id: int, weeks: list[int]) -> None:
    """Reads logged earlier (without badges): one per given number of weeks ago."""
    async with harness.app.sessionmaker() as session:
        for n, ago in enumerate(weeks):
            session.add(
                ReadingLog(
                    reader_id=reader_id,
                    work_id=world.works[n + 1].id,
                    source="card",
                    read_at=utcnow() - timedelta(weeks=ago),
                )
            )
        await session.commit()


async def _read(user: ChatUser, work_id: int, label: str = "📗 I have read it") -> None:
    await user.send(f"/start wk_{work_id}")
    await user.tap(label)


async def test_first_book_streak_list_and_challenge_badges(harness: BotHarness) -> None:
    world = await build_world(harness, works=12)
    user = await chat_reader(harness, 1971)
    reader = await reader_of(harness, user)
    await _read(user, world.works[0].id)
    assert await _badges(harness, reader.id) == ["first_book"]
    user.new_bot_messages()
    await deliver(harness)
    [notice] = user.new_bot_messages()
    assert "New badge: 📗 First book logged" in (notice.text or "")
    assert "/challenges" in (notice.text or "")
    # Marking it read again (or rating it) awards nothing twice.
    await _read(user, world.works[0].id)
    await user.tap("5⭐")
    assert await _badges(harness, reader.id) == ["first_book"]
    assert await _badge_notices(harness, reader.id) == 1

    # Three earlier weeks with a read, and one this week: a 4-week streak.
    await _past_reads(harness, world, reader.id, [1, 2, 3])
    await _read(user, world.works[5].id)
    assert "streak_4" in await _badges(harness, reader.id)

    # A published list finished; an unpublished one earns nothing.
    async with harness.app.sessionmaker() as session:
        shown = ReadingList(title="书单", title_en="Shown", published=True)
        hidden = ReadingList(title="草稿", title_en="Draft", published=False)
        session.add_all([shown, hidden])
        await session.flush()
        for place, work in enumerate((world.works[6], world.works[7]), start=1):
            session.add(ReadingListEntry(list_id=shown.id, work_id=work.id, position=place))
        session.add(ReadingListEntry(list_id=hidden.id, work_id=world.works[8].id, position=1))
        await session.commit()
    await _read(user, world.works[8].id)
    await _read(user, world.works[6].id)
    assert "list" not in await _badges(harness, reader.id)
    await _read(user, world.works[7].id)
    assert "list" in await _badges(harness, reader.id)

    # A challenge completed (on joining: this week's reads count): certificate and badge.
    organiser = await _organiser(harness, 1972)
    await organiser.send(f"/newchallenge 1 {_period(0, 5)} 一本 | One more")
    await user.send("/challenges")
    assert "challenge" not in await _badges(harness, reader.id)
    messages = await user.tap("Join: One more")
    assert messages[-1].photo, "the certificate is a photo"
    assert "challenge" in await _badges(harness, reader.id)

    user.new_bot_messages()
    await deliver(harness)
    texts = [message.text or "" for message in user.new_bot_messages()]
    assert any("🔥 A 4-week reading streak" in text for text in texts)
    assert any("📜 A reading list finished" in text for text in texts)
    assert any("🏁 A reading challenge completed" in text for text in texts)

    await user.send("/challenges")
    [view] = await user.tap("🎖 My badges (4 of 9)")
    text = view.text or ""
    today = utcnow().astimezone(harness.app.settings.zone).date().isoformat()
    assert f"📗 First book logged — {today}" in text
    assert text.index("Still to earn:") < text.index("📚 10 books read")
    assert "🌟 A 12-week reading streak" in text.split("Still to earn:")[1]

    # Exported, then erased with the reader.
    async with harness.app.sessionmaker() as session:
        row = await session.get(Reader, reader.id)
        assert row is not None
        exported = await export_reader(session, row, utcnow())
    assert sorted(item["badge"] for item in exported["badges"]) == [
        "challenge",
        "first_book",
        "list",
        "streak_4",
    ]
    await user.send("/forgetme")
    await user.tap("🗑 Yes, delete my data")
    assert await _badges(harness, reader.id) == []


async def test_ten_books_in_chinese_and_two_reads_at_once_award_once(harness: BotHarness) -> None:
    world = await build_world(harness, works=13)
    user = await chat_reader(harness, 1973, language="zh")
    reader = await reader_of(harness, user)
    await _past_reads(harness, world, reader.id, [0] * 9)
    # Two reads land at once, the 10th and 11th books: each qualifies for ten books, and
    # the badge (and its notice) is awarded once.
    zone = harness.app.settings.zone

    async def read(work_index: int) -> progress.Logged:
        async with harness.app.sessionmaker() as session:
            row = await session.get(Reader, reader.id)
            assert row is not None
            return await progress.read_work(
                session,
                row,
                world.works[work_index].id,
                source=log.ReadSource.CARD,
                now=utcnow(),
                zone=zone,
            )

    first, second = await asyncio.gather(read(10), read(11))
    assert sorted(first.badges + second.badges) == ["books_10", "first_book"]
    assert await _badges(harness, reader.id) == ["books_10", "first_book"]
    assert await _badge_notices(harness, reader.id) == 2
    await _read(user, world.works[12].id, "📗 我读过了")
    assert await _badge_notices(harness, reader.id) == 2
    user.new_bot_messages()
    await deliver(harness)
    texts = [message.text or "" for message in user.new_bot_messages()]
    assert any("新徽章：📚 读完 10 本书" in text for text in texts)
    assert any("新徽章：📗 记下第一本书" in text for text in texts)
    await user.send("/challenges")
    [view] = await user.tap("🎖 我的徽章（2 / 9）")
    text = view.text or ""
    assert "📚 读完 10 本书 — " in text and "尚未获得：" in text
