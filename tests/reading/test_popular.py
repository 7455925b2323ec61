"""/popular: rankings show a work only when five or more different readers are behind it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.models import AgeGroup, Item, LibraryFollow, Reader, utcnow
from tests.harness import BotHarness

from .world import build_world, chat_reader, crowd, set_district


async def test_ranking_hides_works_with_fewer_than_five_readers(harness: BotHarness) -> None:
    world = await build_world(harness)
    popular_work, rare_work, hot_read = world.works[1], world.works[2], world.works[3]
    await crowd(harness, world, 6, holds=(popular_work,))
    await crowd(harness, world, 4, holds=(rare_work,), reads=(hot_read,))
    await crowd(harness, world, 1, reads=(hot_read,))
    user = await chat_reader(harness, 1911)
    await set_district(harness, user, world.district)
    [message] = await user.send("/popular")
    text = message.text or ""
    assert "Most reserved · This week · your district" in text
    assert "1. Book 1 — 6 readers" in text
    # Four readers reserved Book 2: not enough to show it.
    assert "Book 2" not in text
    await user.tap("📗 Most read")
    text = user.last_bot_message().text or ""
    assert "1. Book 3 — 5 readers" in text
    # The same holds as reads count nothing here.
    assert "Book 1" not in text and "Book 2" not in text


async def test_one_reader_reserving_many_times_counts_once(harness: BotHarness) -> None:
    world = await build_world(harness)
    [busy] = await crowd(harness, world, 1, holds=(world.works[1],))
    for _ in range(5):
        await crowd(harness, world, 0)
    # Five holds by the same reader are one reader.
    from bot.models import Hold, HoldStatus

    async with harness.app.sessionmaker() as session:
        for _ in range(5):
            session.add(
                Hold(
                    reader_id=busy.id,
                    work_id=world.works[1].id,
                    pickup_library_id=world.city.id,
                    status=HoldStatus.CANCELLED,
                    queued_at=utcnow(),
                )
            )
        await session.commit()
    user = await chat_reader(harness, 1912)
    [message] = await user.send("/popular")
    assert "Book 1" not in (message.text or "")
    assert "No book has 5 or more different readers behind it here yet." in (message.text or "")


async def test_periods_and_scopes_in_chinese(harness: BotHarness) -> None:
    world = await build_world(harness)
    # Reserved three weeks ago: this month, not this week.
    await crowd(harness, world, 5, holds=(world.works[4],), at=utcnow() - timedelta(days=21))
    # Five students who pick up at the university library.
    students = await crowd(harness, world, 5, holds=(world.works[5],), pickup=world.campus)
    async with harness.app.sessionmaker() as session:
        await session.execute(
            update(Reader)
            .where(Reader.id.in_([s.id for s in students]))
            .values(age_group=AgeGroup.STUDENTS)
        )
        await session.commit()
    user = await chat_reader(harness, 1913, language="zh")
    reader = await set_district(harness, user, world.district)
    [message] = await user.send("/popular")
    assert "Book 4" not in (message.text or "")
    await user.tap("本月")
    assert "1. Book 4 — 5 位读者" in (user.last_bot_message().text or "")
    # No university and no age group yet: each says how to get one.
    await user.tap("我的大学")
    assert "/follow" in (user.last_bot_message().text or "")
    await user.tap("我的年龄段")
    assert "年龄段" in (user.last_bot_message().text or "")
    async with harness.app.sessionmaker() as session:
        session.add(LibraryFollow(reader_id=reader.id, library_id=world.campus.id))
        await session.execute(
            update(Reader).where(Reader.id == reader.id).values(age_group=AgeGroup.STUDENTS)
        )
        await session.commit()
    await user.tap("我的大学")
    text = user.last_bot_message().text or ""
    assert "大学图书馆" in text and "Book 5 — 5 位读者" in text and "Book 4" not in text
    await user.tap("我的年龄段")
    text = user.last_bot_message().text or ""
    assert "Book 5 — 5 位读者" in text and "Book 4" not in text


async def test_forgotten_readers_leave_the_ranking(harness: BotHarness) -> None:
    world = await build_world(harness)
    await crowd(harness, world, 4, holds=(world.works[1],), reads=(world.works[2],))
    leaver = harness.user(1915, "Leaver")
    await leaver.onboard()
    await set_district(harness, leaver, world.district)
    await leaver.send(f"/start wk_{world.works[2].id}")
    await leaver.tap("📗 I have read it")
    async with harness.app.sessionmaker() as session:
        from bot.models import Hold, HoldStatus

        reader = await set_district(harness, leaver, world.district)
        session.add(
            Hold(
                reader_id=reader.id,
                work_id=world.works[1].id,
                pickup_library_id=world.city.id,
                status=HoldStatus.CANCELLED,
                queued_at=utcnow(),
            )
        )
        await session.commit()
    user = await chat_reader(harness, 1916)
    await set_district(harness, user, world.district)
    [message] = await user.send("/popular")
    assert "Book 1 — 5 readers" in (message.text or "")
    await user.tap("📗 Most read")
    assert "Book 2 — 5 readers" in (user.last_bot_message().text or "")
    await leaver.send("/forgetme")
    await leaver.tap("🗑 Yes, delete my data")
    [message] = await user.send("/popular")
    assert "Book 1" not in (message.text or "")
    await user.tap("📗 Most read")
    assert "Book 2" not in (user.last_bot_message().text or "")


async def test_new_arrivals_per_library(harness: BotHarness) -> None:
    world = await build_world(harness)
    async with harness.app.sessionmaker() as session:
        await session.execute(
            update(Item)
            .where(Item.work_id != world.works[6].id)
            .values(created_at=utcnow() - timedelta(days=90))
        )
        await session.commit()
    user = await chat_reader(harness, 1917)
    await set_district(harness, user, world.district)
    await user.send("/popular")
    await user.tap("🆕 New arrivals")
    text = user.last_bot_message().text or ""
    assert "City Library" in text and "Book 6" in text and "Book 5" not in text
