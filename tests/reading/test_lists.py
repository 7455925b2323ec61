"""/lists: staff build a list, readers follow it, see the nearest copy and reserve from it."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.models import ReadingListEntry, Role, RoleGrant, Work, WorkIsbn
from bot.services.reading import lists
from tests.harness import BotHarness, ChatUser, inline_labels

from .world import RED_CHAMBER_ISBN, build_world, chat_reader, reader_of, set_district


async def _organiser(harness: BotHarness, user_id: int, language: str = "en") -> ChatUser:
    user = await chat_reader(harness, user_id, language)
    reader = await reader_of(harness, user)
    async with harness.app.sessionmaker() as session:
        session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER))
        await session.commit()
    return user


async def _isbns(harness: BotHarness, works: list[Work]) -> list[str]:
    """Give each work an ISBN-13 (978 + 9 digits + check digit)."""
    made = []
    async with harness.app.sessionmaker() as session:
        for n, work in enumerate(works):
            stem = f"978{700000000 + work.id * 10 + n:09d}"
            check = (
                10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(stem)) % 10
            ) % 10
            isbn = stem + str(check)
            session.add(WorkIsbn(isbn=isbn, work_id=work.id))
            made.append(isbn)
        await session.commit()
    return made


async def _list_id(harness: BotHarness) -> int:
    async with harness.app.sessionmaker() as session:
        from bot.models import ReadingList

        found = await session.scalar(select(func.max(ReadingList.id)))
        assert found is not None
        return int(found)


async def test_build_publish_follow_and_reserve(harness: BotHarness) -> None:
    world = await build_world(harness)
    isbns = await _isbns(harness, world.works[1:3])
    organiser = await _organiser(harness, 1931)
    [ask] = await organiser.send("/newlist 春天读诗 | Poems for spring")
    assert "Make the reading list 春天读诗 · Poems for spring?" in (ask.text or "")
    await organiser.tap("✅ Create")
    assert "春天读诗 · Poems for spring" in (organiser.last_bot_message().text or "")
    list_id = await _list_id(harness)
    await organiser.send(f"/listadd {list_id} {RED_CHAMBER_ISBN} {' '.join(isbns)}")
    await organiser.send(f"/listnote {list_id} 2 Start here")
    view = organiser.last_bot_message()
    assert "2. Book 1 — Start here" in (view.text or "")
    await organiser.tap("⬆️ 2")
    text = organiser.last_bot_message().text or ""
    assert text.index("1. Book 1") < text.index("2. Hong lou meng")
    await organiser.tap("✖️ 3")
    assert "Book 2" not in (organiser.last_bot_message().text or "")
    await organiser.tap("📢 Publish")
    assert "published" in (organiser.last_bot_message().text or "")

    reader = await chat_reader(harness, 1932)
    await set_district(harness, reader, world.district)
    await reader.send("/lists")
    await reader.tap("📚 Poems for spring (2)")
    text = reader.last_bot_message().text or ""
    assert "1. Book 1" in text and "Start here" in text
    assert "✅ on the shelf at City Library" in text
    await reader.tap("⭐ Follow this list")
    assert "1 following" in (reader.last_bot_message().text or "")
    await reader.tap("🔖 1")
    labels = inline_labels(reader.last_bot_message())
    await reader.tap(next(label for label in labels if label.startswith("City Library")))
    assert "Book 1" in (reader.last_bot_message().text or "")
    # The follower leaves (/forgetme): the list no longer counts them.
    await reader.send("/forgetme")
    await reader.tap("🗑 Yes, delete my data")
    other = await chat_reader(harness, 1936)
    await other.send("/lists")
    await other.tap("📚 Poems for spring (2)")
    assert "2 books · 0 following" in (other.last_bot_message().text or "")


async def test_chinese_reader_and_a_list_of_1001_books_is_refused(harness: BotHarness) -> None:
    world = await build_world(harness, works=3)
    organiser = await _organiser(harness, 1933, language="zh")
    await organiser.send("/newlist 红楼梦专题")
    await organiser.tap("✅ 创建")
    list_id = await _list_id(harness)
    # 1,000 books straight into the database; the 1,001st by chat is refused.
    async with harness.app.sessionmaker() as session:
        for n in range(1000):
            work = Work(title=f"Filler {n}", work_key=f"filler{n}", authors=[])
            session.add(work)
            await session.flush()
            session.add(ReadingListEntry(list_id=list_id, work_id=work.id, position=n + 1))
        await session.commit()
    [reply] = await organiser.send(f"/listadd {list_id} {RED_CHAMBER_ISBN}")
    assert "1000" in (reply.text or "") and "1001" in (reply.text or "")
    async with harness.app.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ReadingListEntry)
            .where(ReadingListEntry.list_id == list_id)
        )
    assert count == lists.MAX_ENTRIES
    # An unknown ISBN refuses the whole addition too.
    [reply] = await organiser.send(f"/listadd {list_id} 9780306406157")
    assert "9780306406157" in (reply.text or "")
    del world


async def test_readers_cannot_build_lists_and_unpublished_lists_stay_hidden(
    harness: BotHarness,
) -> None:
    await build_world(harness)
    organiser = await _organiser(harness, 1934)
    await organiser.send("/newlist 草稿 | Draft")
    await organiser.tap("✅ Create")
    list_id = await _list_id(harness)
    reader = await chat_reader(harness, 1935)
    [reply] = await reader.send("/newlist Mine")
    assert "organiser" in (reply.text or "").lower()
    [menu] = await reader.send("/lists")
    assert menu.text == "There are no reading lists yet."
    await reader.forge(f"rl:o:{list_id}:0")
    assert reader.last_answer is not None and "not there" in reader.last_answer["text"]
    await reader.forge(f"rl:rm:{list_id}:1")
    async with harness.app.sessionmaker() as session:
        from bot.models import ReadingList

        found = await session.get(ReadingList, list_id)
        assert found is not None and found.published is False
