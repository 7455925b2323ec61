"""A "finish this list" challenge keeps the books its list had when it was set: taking a
book off the list, or adding one, changes neither its target nor what counts."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import ChallengeBook, Work
from tests.harness import BotHarness, ChatUser

from .test_challenges import _organiser, _period
from .test_lists import _isbns, _list_id
from .world import build_world, chat_reader


async def _set_list(harness: BotHarness, language: str, works: list[Work]) -> tuple[int, ChatUser]:
    organiser = await _organiser(harness, 1981 if language == "en" else 1983, language)
    isbns = await _isbns(harness, works)
    await organiser.send("/newlist 冬日书单 | Winter list")
    await organiser.tap("✅ Create" if language == "en" else "✅ 创建")
    list_id = await _list_id(harness)
    await organiser.send(f"/listadd {list_id} {' '.join(isbns[:3])}")
    await organiser.tap("📢 Publish" if language == "en" else "📢 发布")
    await organiser.send(
        f"/newchallenge list:{list_id} {_period(1, 10)} 读完冬日书单 | Finish the winter list"
    )
    return list_id, organiser


async def test_removing_or_adding_a_book_keeps_the_running_challenge(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    isbns = await _isbns(harness, world.works[4:5])
    list_id, organiser = await _set_list(harness, "en", world.works[1:4])
    reader = await chat_reader(harness, 1982)
    await reader.send("/challenges")
    await reader.tap("Join: Finish the winter list")
    assert "(3 books)" in (reader.last_bot_message().text or "")
    # The organiser takes book 3 off the list, and adds another: the challenge keeps its 3.
    await organiser.send(f"/listadd {list_id} {isbns[0]}")
    view = organiser.last_bot_message()
    assert "Running challenges to finish this list: 1. They keep the books" in (view.text or "")
    await organiser.tap("✖️ 3")
    text = organiser.last_bot_message().text or ""
    assert "Book 3" not in text and "Running challenges to finish this list: 1" in text
    await organiser.send(f"/start wk_{world.works[5].id}")
    await organiser.tap("➕ Add to list")
    await organiser.tap("📚 Winter list")
    text = organiser.last_bot_message().text or ""
    assert "Added to Winter list" in text and "Running challenges to finish this list: 1" in text
    [overview] = await reader.send("/challenges")
    assert "(3 books)" in (overview.text or "") and "Your progress: 0 of 3" in (overview.text or "")
    # The added book does not count; the removed one still does.
    await reader.send(f"/start wk_{world.works[4].id}")
    await reader.tap("📗 I have read it")
    await reader.send(f"/start wk_{world.works[3].id}")
    await reader.tap("📗 I have read it")
    [overview] = await reader.send("/challenges")
    assert "Your progress: 1 of 3" in (overview.text or "")
    for work in world.works[1:3]:
        await reader.send(f"/start wk_{work.id}")
        messages = await reader.tap("📗 I have read it")
    assert messages[-1].photo, "the certificate is a photo"
    assert "Challenge completed: Finish the winter list" in (messages[-1].caption or "")
    async with harness.app.sessionmaker() as session:
        frozen = sorted(await session.scalars(select(ChallengeBook.work_id)))
    assert frozen == sorted(work.id for work in world.works[1:4])


async def test_chinese_list_edit_says_running_challenges_keep_their_books(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    list_id, organiser = await _set_list(harness, "zh", world.works[1:4])
    await organiser.send(f"/listnote {list_id} 1 先读这本")
    text = organiser.last_bot_message().text or ""
    assert "正在进行的“读完此书单”挑战：1 项。它们保留设立时的书目" in text
    await organiser.tap("✖️ 1")
    assert "正在进行的“读完此书单”挑战：1 项" in (organiser.last_bot_message().text or "")
    reader = await chat_reader(harness, 1984, language="zh")
    await reader.send("/challenges")
    await reader.tap("加入：读完冬日书单")
    text = reader.last_bot_message().text or ""
    assert f"读完书单 {list_id}（3 本）" in text and "你的进度：0 / 3" in text
