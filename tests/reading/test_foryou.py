"""/foryou and the card's "also reserved" block: co-occurrence, reasons, opt-out, privacy."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.models import Reader
from bot.services.reading import recommend
from tests.harness import BotHarness

from .world import build_world, chat_reader, crowd, set_district


async def _refresh(harness: BotHarness) -> int:
    async with harness.app.sessionmaker() as session:
        return await recommend.refresh_also_reserved(session)


async def test_recommendation_explains_itself(harness: BotHarness) -> None:
    world = await build_world(harness)
    red, book1, book2, book3 = world.works[0], world.works[1], world.works[2], world.works[3]
    # Readers who reserved the Red Chamber also reserved Book 1; others read Book 2 and 3.
    await crowd(harness, world, 6, holds=(red, book1))
    await crowd(harness, world, 3, reads=(book2, book3))
    user = await chat_reader(harness, 1921)
    await set_district(harness, user, world.district)
    await user.send(f"/start wk_{red.id}")
    await user.tap("🔖 Reserve")
    await user.tap(next(label for label in _labels(user) if label.startswith("City Library")))
    [message] = await user.send("/foryou")
    text = message.text or ""
    lines = text.splitlines()
    assert lines[2] == "1. Book 1"
    assert lines[3].strip() == "because you reserved Hong lou meng"
    # Then what the district reads, saying so.
    assert "popular with readers in your district" in text


async def test_chinese_reader_reads_why_and_cold_start_uses_interests(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    async with harness.app.sessionmaker() as session:
        from bot.models import Work

        await session.execute(
            update(Work).where(Work.id == world.works[4].id).values(subjects=["诗歌"])
        )
        await session.commit()
    await crowd(harness, world, 5, holds=(world.works[3],))
    await crowd(harness, world, 2, holds=(world.works[4],))
    user = await chat_reader(harness, 1922, language="zh")
    reader = await set_district(harness, user, world.district)
    async with harness.app.sessionmaker() as session:
        await session.execute(
            update(Reader).where(Reader.id == reader.id).values(interests=["诗歌"])
        )
        await session.commit()
    [message] = await user.send("/foryou")
    lines = (message.text or "").splitlines()
    # Fewer readers, but on the reader's interest: first.
    assert lines[2] == "1. Book 4"
    assert "诗歌" in lines[3]
    assert lines[4] == "2. Book 3"
    assert "你所在区的读者" in lines[5]


async def test_turning_recommendations_off_in_settings(harness: BotHarness) -> None:
    world = await build_world(harness)
    await crowd(harness, world, 5, holds=(world.works[1],))
    user = await chat_reader(harness, 1923)
    await user.send("/settings")
    await user.tap("📚 Reading")
    assert "✅ Personal recommendations (/foryou)" in (user.last_bot_message().text or "")
    await user.tap("Turn off personal recommendations")
    assert "🚫 Personal recommendations (/foryou)" in (user.last_bot_message().text or "")
    [message] = await user.send("/foryou")
    assert message.text == "You turned personal recommendations off."
    assert "Book 1" not in (message.text or "")
    await user.tap("Turn on personal recommendations")
    [message] = await user.send("/foryou")
    assert "Book 1" in (message.text or "")


async def test_card_shows_also_reserved_only_with_five_readers(harness: BotHarness) -> None:
    world = await build_world(harness)
    red, book1, book2 = world.works[0], world.works[1], world.works[2]
    await crowd(harness, world, 5, holds=(red, book1))
    await crowd(harness, world, 4, holds=(red, book2))
    assert await _refresh(harness) == 2  # Red Chamber <-> Book 1, both ways
    user = await chat_reader(harness, 1924)
    [card] = await user.send(f"/start wk_{red.id}")
    text = card.text or ""
    assert "Readers who chose this also chose" in text
    assert "• Book 1" in text and "Book 2" not in text
    chinese = await chat_reader(harness, 1925, language="zh")
    [card] = await chinese.send(f"/start wk_{book1.id}")
    assert "选了这本书的读者还选了" in (card.text or "")
    assert "• 红楼梦" in (card.text or "")
    # One of the five leaves (/forgetme): the pair falls under five readers, off the card now.
    async with harness.app.sessionmaker() as session:
        from bot.models import Hold

        first = await session.scalar(
            select(Hold.reader_id).where(Hold.work_id == book1.id).order_by(Hold.id).limit(1)
        )
        assert first is not None
        leaving = await session.get(Reader, first)
        assert leaving is not None
        telegram_id = leaving.telegram_id
    leaver = harness.user(telegram_id, "Leaver")
    await leaver.send("/forgetme")
    await leaver.tap("🗑 Yes, delete my data")
    [card] = await user.send(f"/start wk_{red.id}")
    assert "also chose" not in (card.text or "")
    # The reading job's recount agrees.
    assert await _refresh(harness) == 0


def _labels(user: object) -> list[str]:
    from tests.harness import ChatUser, inline_labels

    assert isinstance(user, ChatUser)
    return inline_labels(user.last_bot_message())
