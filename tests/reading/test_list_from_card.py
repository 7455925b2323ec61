"""➕ Add to list on a work card: organisers add the book to one of their lists."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.models import ReadingListEntry, Work
from bot.services.reading import lists
from tests.harness import BotHarness, inline_labels

from .test_lists import _list_id, _organiser
from .world import build_world, chat_reader


async def test_organiser_adds_a_book_from_its_card_once(harness: BotHarness) -> None:
    world = await build_world(harness, works=3)
    organiser = await _organiser(harness, 1941)
    await organiser.send("/newlist 春天读诗 | Poems for spring")
    await organiser.tap("✅ Create")
    list_id = await _list_id(harness)
    await organiser.send(f"/start wk_{world.works[1].id}")
    await organiser.tap("➕ Add to list")
    assert "Add this book to which list?" in (organiser.last_bot_message().text or "")
    await organiser.tap("📚 Poems for spring")
    assert "Added to Poems for spring (book 1)." in (organiser.last_bot_message().text or "")
    # The same book again: nothing changes, and the organiser is told.
    await organiser.send(f"/start wk_{world.works[1].id}")
    await organiser.tap("➕ Add to list")
    await organiser.tap("📚 Poems for spring")
    assert "already" in (organiser.last_bot_message().text or "")
    async with harness.app.sessionmaker() as session:
        works = list(
            await session.scalars(
                select(ReadingListEntry.work_id).where(ReadingListEntry.list_id == list_id)
            )
        )
    assert works == [world.works[1].id]


async def test_readers_see_no_add_button_and_the_limit_holds_in_chinese(
    harness: BotHarness,
) -> None:
    world = await build_world(harness, works=3)
    reader = await chat_reader(harness, 1942)
    await reader.send(f"/start wk_{world.works[1].id}")
    assert "➕ Add to list" not in inline_labels(reader.last_bot_message())
    # A reader forging the button is refused by the role filter: nothing is added.
    organiser = await _organiser(harness, 1943, language="zh")
    await organiser.send(f"/start wk_{world.works[1].id}")
    await organiser.tap("➕ 加入书单")
    assert "你还没有书单" in str(organiser.last_answer)
    await organiser.send("/newlist 红楼梦专题")
    await organiser.tap("✅ 创建")
    list_id = await _list_id(harness)
    await reader.forge(f"rl:a:{list_id}:{world.works[1].id}")
    async with harness.app.sessionmaker() as session:
        for n in range(lists.MAX_ENTRIES):
            work = Work(title=f"Filler {n}", work_key=f"filler{n}", authors=[])
            session.add(work)
            await session.flush()
            session.add(ReadingListEntry(list_id=list_id, work_id=work.id, position=n + 1))
        await session.commit()
    await organiser.send(f"/start wk_{world.works[1].id}")
    await organiser.tap("➕ 加入书单")
    await organiser.tap("📚 红楼梦专题")
    assert "1000" in str(organiser.last_answer) and "1001" in str(organiser.last_answer)
    async with harness.app.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ReadingListEntry)
            .where(ReadingListEntry.list_id == list_id)
        )
    assert count == lists.MAX_ENTRIES
