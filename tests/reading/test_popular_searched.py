"""/popular "most searched-for": the works readers' searches led them to (a card opened from
the results), once per reader, work and day, shown only with five or more readers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import SearchedWork, SearchLog, Work, utcnow
from bot.services.privacy import export_reader
from handlers.search.callbacks import WorkOpen
from tests.harness import BotHarness, ChatUser

from .world import World, build_world, chat_reader, reader_of, set_district


async def _index(harness: BotHarness, world: World) -> None:
    async with harness.app.sessionmaker() as session:
        await harness.app.indexer.sync(session, [work.id for work in world.works])
    await harness.app.indexer.ensure_ready()


async def _search_and_open(user: ChatUser, query: str, title: str) -> None:
    """Type a search, then open the result with this title from the results."""
    await user.send(query)
    await user.tap(f"1. {title}")


async def _searchers(
    harness: BotHarness, world: World, first_id: int, count: int, work: Work
) -> list[ChatUser]:
    made = []
    for n in range(count):
        user = await chat_reader(harness, first_id + n)
        await set_district(harness, user, world.district)
        await _search_and_open(user, work.title, work.title)
        made.append(user)
    return made


async def _rows(harness: BotHarness) -> list[tuple[int, int]]:
    async with harness.app.sessionmaker() as session:
        rows = await session.execute(select(SearchedWork.reader_id, SearchedWork.work_id))
        return [(reader_id, work_id) for reader_id, work_id in rows]


async def test_most_searched_for_hides_works_with_fewer_than_five_readers(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    await _index(harness, world)
    found, rare = world.works[1], world.works[2]
    [keen, *_others] = await _searchers(harness, world, 2101, 5, found)
    await _searchers(harness, world, 2111, 4, rare)
    # The same reader opening the same card again the same day counts once.
    await keen.tap("⬅️ Back to results")
    await keen.tap(f"1. {found.title}")
    await _search_and_open(keen, found.title, found.title)
    rows = await _rows(harness)
    assert len(rows) == 9 and len(set(rows)) == 9
    user = await chat_reader(harness, 2120)
    await set_district(harness, user, world.district)
    await user.send("/popular")
    await user.tap("🔎 Most searched-for")
    text = user.last_bot_message().text or ""
    assert "Most searched-for · This week · your district" in text
    assert "1. Book 1 — 5 readers" in text
    # Four readers' searches led them to Book 2: not enough to show it.
    assert "Book 2" not in text
    assert "readers whose search led them to open the book" in text


async def test_a_card_opened_from_a_link_or_a_forged_search_counts_nothing(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    await _index(harness, world)
    user = await chat_reader(harness, 2130)
    # A deep link to the card is not a search.
    await user.send(f"/start wk_{world.works[1].id}")
    assert await _rows(harness) == []
    # Another reader's search id in forged callback data counts nothing either.
    other = await chat_reader(harness, 2131)
    await other.send(world.works[1].title)
    async with harness.app.sessionmaker() as session:
        search_id = await session.scalar(select(SearchLog.id).order_by(SearchLog.id.desc()))
    assert search_id is not None
    await user.send(world.works[2].title)
    forged = WorkOpen(work_id=world.works[1].id, search_id=search_id).pack()
    await user.forge(forged, message_id=user.last_bot_message().message_id)
    # The card opens (the forged button is a valid one), but nothing is counted.
    assert "Where to find it" in (user.last_bot_message().text or "")
    assert await _rows(harness) == []


async def test_searched_for_in_chinese_by_month_export_and_forgetme(harness: BotHarness) -> None:
    world = await build_world(harness)
    await _index(harness, world)
    work = world.works[3]
    searchers = await _searchers(harness, world, 2140, 5, work)
    # Reached three weeks ago: this month, not this week.
    async with harness.app.sessionmaker() as session:
        for row in await session.scalars(select(SearchedWork)):
            row.day = (utcnow() - timedelta(days=21)).date()
        await session.commit()
    user = await chat_reader(harness, 2150, language="zh")
    await set_district(harness, user, world.district)
    await user.send("/popular")
    await user.tap("🔎 最常被搜到")
    text = user.last_bot_message().text or ""
    assert "最常被搜到 · 本周" in text and "Book 3" not in text
    await user.tap("本月")
    assert "1. Book 3 — 5 位读者" in (user.last_bot_message().text or "")
    await user.tap("全联盟")
    assert "1. Book 3 — 5 位读者" in (user.last_bot_message().text or "")
    # The export has the rows; /forgetme erases them, and the work leaves the ranking.
    leaver = searchers[0]
    leaver_reader = await reader_of(harness, leaver)
    async with harness.app.sessionmaker() as session:
        exported = await export_reader(session, leaver_reader, utcnow())
    assert [row["work_id"] for row in exported["works_found_by_search"]] == [work.id]
    await leaver.send("/forgetme")
    await leaver.tap("🗑 Yes, delete my data")
    assert all(reader_id != leaver_reader.id for reader_id, _ in await _rows(harness))
    await user.tap("本周")
    await user.tap("本月")
    text = user.last_bot_message().text or ""
    assert "Book 3" not in text
