"""List follows: a reader who follows a published list is interested in its books; in /foryou
a recommendation it leads to says "because you follow the list …", and the card's block
counts a list's followers as choosing its books."""

from __future__ import annotations

from sqlalchemy import update

from bot.models import ListFollow, ReadingList, ReadingListEntry, Work
from bot.services.reading import recommend
from tests.harness import BotHarness

from .world import build_world, chat_reader, crowd, set_district


async def _poems(harness: BotHarness, works: list[Work]) -> int:
    """A published list 春天读诗 | Poems for spring with these works."""
    async with harness.app.sessionmaker() as session:
        made = ReadingList(title="春天读诗", title_en="Poems for spring", published=True)
        session.add(made)
        await session.flush()
        session.add_all(
            ReadingListEntry(list_id=made.id, work_id=work.id, position=place)
            for place, work in enumerate(works, start=1)
        )
        await session.commit()
        return made.id


def _reason_of(text: str, title: str) -> str:
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines) if line.endswith(f". {title}"))
    return lines[at + 1].strip()


async def test_following_a_list_leads_to_what_readers_of_its_books_reserved(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    book1, book2, book3 = world.works[1], world.works[2], world.works[3]
    await _poems(harness, [book1, book2])
    # Readers who reserved the list's books also reserved Book 3.
    await crowd(harness, world, 6, holds=(book1, book2, book3))
    user = await chat_reader(harness, 2201)
    await set_district(harness, user, world.district)
    # Not following yet: nothing is "because you follow".
    [message] = await user.send("/foryou")
    assert "because you follow the list" not in (message.text or "")
    await user.send("/lists")
    await user.tap("📚 Poems for spring (2)")
    await user.tap("⭐ Follow this list")
    [message] = await user.send("/foryou")
    text = message.text or ""
    assert _reason_of(text, "Book 3") == "because you follow the list Poems for spring"
    # The list's books are not the reader's yet: they may be recommended too, saying why.
    assert _reason_of(text, "Book 2") == "because you follow the list Poems for spring"


async def test_chinese_reason_and_an_unpublished_list_counts_nothing(harness: BotHarness) -> None:
    world = await build_world(harness)
    book1, book3 = world.works[1], world.works[3]
    list_id = await _poems(harness, [book1])
    await crowd(harness, world, 6, holds=(book1, book3))
    user = await chat_reader(harness, 2202, language="zh")
    reader = await set_district(harness, user, world.district)
    async with harness.app.sessionmaker() as session:
        session.add(ListFollow(list_id=list_id, reader_id=reader.id))
        await session.commit()
    [message] = await user.send("/foryou")
    assert _reason_of(message.text or "", "Book 3") == "因为你关注了书单 春天读诗"
    # Taken back by its maker: the follows stay, but count for nothing until it is published.
    async with harness.app.sessionmaker() as session:
        await session.execute(
            update(ReadingList).where(ReadingList.id == list_id).values(published=False)
        )
        await session.commit()
    [message] = await user.send("/foryou")
    assert "春天读诗" not in (message.text or "")


async def test_card_block_counts_list_followers_and_forgets_them(harness: BotHarness) -> None:
    world = await build_world(harness)
    book1, book2, book3 = world.works[1], world.works[2], world.works[3]
    list_id = await _poems(harness, [book2, book3])
    # Five readers reserved Book 1 and follow the list of Books 2 and 3; none reserved those.
    readers = await crowd(harness, world, 5, holds=(book1,))
    async with harness.app.sessionmaker() as session:
        session.add_all(ListFollow(list_id=list_id, reader_id=r.id) for r in readers)
        await session.commit()
        assert await recommend.refresh_also_reserved(session) == 6
    user = await chat_reader(harness, 2203)
    [card] = await user.send(f"/start wk_{book1.id}")
    assert "Readers who chose this also chose\n• Book 2\n• Book 3" in (card.text or "")
    chinese = await chat_reader(harness, 2204, language="zh")
    [card] = await chinese.send(f"/start wk_{book2.id}")
    assert "选了这本书的读者还选了\n• Book 1\n• Book 3" in (card.text or "")
    # One of the five leaves: every pair falls under five readers and leaves the cards at
    # once, Books 2 and 3 too, which the leaver only followed.
    leaver = harness.user(readers[0].telegram_id, "Leaver")
    await leaver.send("/forgetme")
    await leaver.tap("🗑 Yes, delete my data")
    for work in (book1, book2):
        [card] = await user.send(f"/start wk_{work.id}")
        assert "also chose" not in (card.text or "")
