"""Callback data can be forged: every search button re-checks what it names."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import SearchLog
from handlers.search.callbacks import (
    AuthorWorks,
    DidYouMean,
    ResultsPage,
    SuggestPurchase,
    WorkOpen,
)
from tests.harness import BotHarness, ChatUser, texts

from .conftest import Catalogue, reader

GONE = "Sorry, that book is not in the catalogue any more."
EXPIRED = "This search has expired. Please type it again."
NO_PAGE = "That page of results doesn't exist any more. Please search again."
STALE = "This button is no longer active."


async def _search_ids(harness: BotHarness) -> list[int]:
    async with harness.app.sessionmaker() as session:
        return list(await session.scalars(select(SearchLog.id).order_by(SearchLog.id)))


async def _alert(user: ChatUser, data: str) -> str:
    assert await user.forge(data) == []
    answer = user.last_answer
    assert answer is not None
    return str(answer["text"])


async def test_forged_search_buttons(harness: BotHarness, catalogue: Catalogue) -> None:
    alice = await reader(harness, 701)
    bob = await reader(harness, 702)
    [results] = await alice.send("garden notes")
    await bob.send("harry potter")
    alice_search, bob_search = await _search_ids(harness)

    cases = {
        WorkOpen(work_id=999_999).pack(): GONE,
        "wk:99999999999999999999:0:0:0:x:x:0": GONE,
        WorkOpen(work_id=-5).pack(): GONE,
        WorkOpen(work_id=0).pack(): GONE,
        ResultsPage(search_id=alice_search, page=3).pack(): NO_PAGE,
        ResultsPage(search_id=alice_search, page=-1).pack(): NO_PAGE,
        ResultsPage(search_id=alice_search, page=10**30).pack(): NO_PAGE,
        ResultsPage(search_id=bob_search, page=0).pack(): EXPIRED,  # somebody else's search
        ResultsPage(search_id=987_654, page=0).pack(): EXPIRED,
        AuthorWorks(work_id=123_456).pack(): GONE,
        DidYouMean(search_id=bob_search).pack(): EXPIRED,
        DidYouMean(search_id=alice_search).pack(): EXPIRED,  # it found works: nothing to correct
        SuggestPurchase(search_id=bob_search).pack(): EXPIRED,
        SuggestPurchase(search_id=alice_search).pack(): (
            "That search found books, so there is nothing to suggest."
        ),
        "sr:garbage": STALE,
        f"sr:{alice_search}:0:1:klingon:x:0": STALE,
        "wk:": STALE,
        "ps:1:2:3": STALE,
    }
    for data, expected in cases.items():
        assert await _alert(alice, data) == expected, data
        assert alice.last_answer is not None and alice.last_answer["show_alert"], data

    # Nothing was changed by any of them, and nobody saw an apology or a traceback.
    assert harness.sandbox.message(701, results.message_id).text == results.text
    assert await _search_ids(harness) == [alice_search, bob_search]
    assert "Sorry, something went wrong" not in " ".join(texts(alice.chat()))

    # A well-formed button for a real work opens it, whatever message it arrives on.
    await alice.forge(WorkOpen(work_id=catalogue.journey.id).pack())
    assert (alice.last_bot_message().text or "").startswith("📖 西遊記 · Xi you ji")
