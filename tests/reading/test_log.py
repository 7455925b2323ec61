"""/read: marking books read from a card, a collected hold or by ISBN, with ratings and notes."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Hold, HoldStatus, Reader, utcnow
from bot.services.reading import log
from tests.harness import BotHarness, inline_labels

from .world import RED_CHAMBER_ISBN, build_world, chat_reader, reader_of, reads_of


async def test_mark_read_from_the_card_then_rate_and_note(harness: BotHarness) -> None:
    world = await build_world(harness)
    user = await chat_reader(harness, 1901)
    work = world.works[1]
    await user.send(f"/start wk_{work.id}")
    assert "📗 I have read it" in inline_labels(user.last_bot_message())
    await user.tap("📗 I have read it")
    message = user.last_bot_message()
    assert "Logged as read: Book 1" in (message.text or "")
    assert "How would you rate it?" in (message.text or "")
    await user.tap("4⭐")
    assert "Your rating: ★★★★☆" in (user.last_bot_message().text or "")
    await user.tap("📝 Add a note")
    await user.send("Quiet and lovely.")
    assert "Your note: Quiet and lovely." in (user.last_bot_message().text or "")
    reader = await reader_of(harness, user)
    [entry] = await reads_of(harness, reader.id)
    assert (entry.work_id, entry.rating, entry.note, entry.source) == (
        work.id,
        4,
        "Quiet and lovely.",
        "card",
    )
    # Marking it again updates the same entry.
    await user.send(f"/start wk_{work.id}")
    await user.tap("📗 I have read it")
    assert "Updated in your reading log" in (user.last_bot_message().text or "")
    assert len(await reads_of(harness, reader.id)) == 1


async def test_read_by_isbn_in_chinese_with_rating_and_note(harness: BotHarness) -> None:
    await build_world(harness)
    user = await chat_reader(harness, 1902, language="zh")
    [reply] = await user.send("/read 978-7-02-000220-7 5 百读不厌")
    assert "红楼梦" in (reply.text or "")
    assert "★★★★★" in (reply.text or "")
    assert "百读不厌" in (reply.text or "")
    reader = await reader_of(harness, user)
    [entry] = await reads_of(harness, reader.id)
    assert (entry.rating, entry.note, entry.source) == (5, "百读不厌", "isbn")
    [overview] = await user.send("/read")
    assert "阅读记录中的书：1" in (overview.text or "")


async def test_unknown_isbn_and_bad_rating_are_refused_and_nothing_is_stored(
    harness: BotHarness,
) -> None:
    await build_world(harness)
    user = await chat_reader(harness, 1903)
    [reply] = await user.send("/read 9780306406157")
    assert "No book in the alliance's catalogue has the ISBN 9780306406157" in (reply.text or "")
    [reply] = await user.send(f"/read {RED_CHAMBER_ISBN} 7 great")
    assert "A rating is a whole number from 1 to 5." in (reply.text or "")
    [reply] = await user.send(f"/read {RED_CHAMBER_ISBN} 0")
    assert "A rating is a whole number from 1 to 5." in (reply.text or "")
    [reply] = await user.send("/read not-an-isbn")
    assert "That is not a valid ISBN" in (reply.text or "")
    [reply] = await user.send(f"/read {RED_CHAMBER_ISBN} 3 " + "x" * 250)
    assert "at most 200 characters" in (reply.text or "")
    reader = await reader_of(harness, user)
    assert await reads_of(harness, reader.id) == []
    # A forged star button is refused too.
    await user.send(f"/read {RED_CHAMBER_ISBN}")
    await user.forge(f"rd:r:{(await reads_of(harness, reader.id))[0].work_id}:9")
    assert user.last_answer is not None
    assert "from 1 to 5" in user.last_answer["text"]
    assert (await reads_of(harness, reader.id))[0].rating is None


async def test_collected_hold_is_offered_in_my_holds_and_marked_read(harness: BotHarness) -> None:
    world = await build_world(harness)
    user = await chat_reader(harness, 1904)
    reader = await reader_of(harness, user)
    async with harness.app.sessionmaker() as session:
        session.add(
            Hold(
                reader_id=reader.id,
                work_id=world.works[2].id,
                pickup_library_id=world.campus.id,
                status=HoldStatus.COLLECTED,
                collected_at=utcnow(),
                closed_at=utcnow(),
            )
        )
        await session.commit()
    [overview] = await user.send("/holds")
    assert "📗 Read: Book 2" in inline_labels(overview)
    await user.tap("📗 Read: Book 2")
    assert "Logged as read: Book 2" in (user.last_bot_message().text or "")
    [entry] = await reads_of(harness, reader.id)
    assert (entry.source, entry.library_id) == ("holds", world.campus.id)
    # Logged: no longer offered.
    [overview] = await user.send("/holds")
    assert "📗 Read: Book 2" not in inline_labels(overview)


async def test_two_marks_at_once_make_one_entry(harness: BotHarness) -> None:
    world = await build_world(harness)
    user = await chat_reader(harness, 1905)
    reader = await reader_of(harness, user)
    maker = harness.app.sessionmaker

    async def mark(rating: int) -> None:
        async with maker() as session:
            person = await session.get(Reader, reader.id)
            assert person is not None
            await log.mark_read(
                session,
                person,
                world.works[3].id,
                source=log.ReadSource.CARD,
                now=utcnow(),
                rating=rating,
            )

    await asyncio.gather(mark(2), mark(3), mark(4))
    [entry] = await reads_of(harness, reader.id)
    assert entry.rating in {2, 3, 4}


async def test_service_refuses_a_work_that_does_not_exist(session: AsyncSession) -> None:
    from tests.factories import make_reader

    reader = await make_reader(session)
    await session.commit()
    try:
        await log.mark_read(session, reader, 999_999, source=log.ReadSource.CARD, now=utcnow())
    except log.NotFoundError:
        pass
    else:
        raise AssertionError("an unknown work was logged")
