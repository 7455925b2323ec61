"""Challenges to finish a reading list and to explore a CLC class: set, progress, complete."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.models import Challenge, ReadingList, ReadingListEntry, Work
from tests.harness import BotHarness

from .test_challenges import _organiser, _period
from .world import build_world, chat_reader, set_district


async def _list_of(harness: BotHarness, works: list[Work], *, published: bool = True) -> int:
    async with harness.app.sessionmaker() as session:
        made = ReadingList(title="春天读诗", title_en="Poems for spring", published=published)
        session.add(made)
        await session.flush()
        for place, work in enumerate(works, start=1):
            session.add(ReadingListEntry(list_id=made.id, work_id=work.id, position=place))
        await session.commit()
        return made.id


async def test_finish_a_list_completes_with_its_certificate(harness: BotHarness) -> None:
    world = await build_world(harness)
    organiser = await _organiser(harness, 1951)
    hidden = await _list_of(harness, world.works[1:3], published=False)
    [reply] = await organiser.send(f"/newchallenge list:{hidden} {_period(1, 10)} 读完 | Finish")
    assert "must be published" in (reply.text or "")
    list_id = await _list_of(harness, world.works[1:3])
    [reply] = await organiser.send(
        f"/newchallenge list:{list_id} {_period(1, 10)} team 读完书单 | Finish the list"
    )
    assert "is open" in (reply.text or "")
    reader = await chat_reader(harness, 1952)
    await set_district(harness, reader, world.district)
    await reader.send("/challenges")
    await reader.tap("Join: Finish the list")
    text = reader.last_bot_message().text or ""
    assert f"finish reading list {list_id} (2 books)" in text
    assert "Your progress: 0 of 2" in text
    # A book not on the list does not count.
    await reader.send(f"/start wk_{world.works[4].id}")
    await reader.tap("📗 I have read it")
    await reader.send(f"/start wk_{world.works[1].id}")
    messages = await reader.tap("📗 I have read it")
    assert not any(m.photo for m in messages)
    [overview] = await reader.send("/challenges")
    assert "Your progress: 1 of 2" in (overview.text or "")
    # The team leaderboard counts only the list's books too.
    [board] = await reader.tap("👥 Teams: Finish the list")
    assert "1 books by 1 readers" in (board.text or "")
    await reader.send(f"/start wk_{world.works[2].id}")
    messages = await reader.tap("📗 I have read it")
    assert messages[-1].photo, "the certificate is a photo"
    assert "Challenge completed: Finish the list" in (messages[-1].caption or "")


async def test_explore_a_clc_class_in_chinese(harness: BotHarness) -> None:
    world = await build_world(harness)
    classes = {1: ["I207.411"], 2: ["TP312"], 3: ["K20", "i247.5"]}
    async with harness.app.sessionmaker() as session:
        for n, numbers in classes.items():
            await session.execute(
                update(Work).where(Work.id == world.works[n].id).values(clc_numbers=numbers)
            )
        await session.commit()
    organiser = await _organiser(harness, 1953, language="zh")
    [reply] = await organiser.send(f"/newchallenge 2:1 {_period(1, 10)} 文学")
    assert "/newchallenge" in (reply.text or "") and "3:I" in (reply.text or "")
    await organiser.send(f"/newchallenge 2:i {_period(1, 10)} 文学探索 | Explore literature")
    async with harness.app.sessionmaker() as session:
        made = await session.scalar(select(Challenge).order_by(Challenge.id.desc()))
        assert made is not None and (made.kind, made.clc_class, made.goal) == ("clc", "I", 2)
    reader = await chat_reader(harness, 1954, language="zh")
    await reader.send("/challenges")
    await reader.tap("加入：文学探索")
    text = reader.last_bot_message().text or ""
    assert "中图法 I 类图书 2 本" in text
    for n in (1, 2):
        await reader.send(f"/start wk_{world.works[n].id}")
        messages = await reader.tap("📗 我读过了")
        assert not any(m.photo for m in messages)
    [overview] = await reader.send("/challenges")
    assert "你的进度：1 / 2" in (overview.text or "")
    await reader.send(f"/start wk_{world.works[3].id}")
    messages = await reader.tap("📗 我读过了")
    assert messages[-1].photo, "the certificate is a photo"
