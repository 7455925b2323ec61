"""Zero hits: "did you mean", and purchase suggestions that merge, count votes and are capped."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.models import PurchaseSuggestion, PurchaseVote, Reader, SearchLog, utcnow
from bot.services.suggestions import month_start
from tests.conftest import HarnessFactory
from tests.harness import BotHarness, inline_labels

from .conftest import Catalogue, build_catalogue, reader

SUGGEST = "🛒 Suggest a purchase"
TYPOS = ("hary", "rwling", "byography", "rowlnig")


async def _suggestions(harness: BotHarness) -> list[tuple[str, str, str | None, int]]:
    async with harness.app.sessionmaker() as session:
        rows = await session.execute(
            select(
                PurchaseSuggestion.match_key,
                PurchaseSuggestion.query,
                PurchaseSuggestion.isbn,
                PurchaseSuggestion.votes,
            ).order_by(PurchaseSuggestion.id)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def _votes(harness: BotHarness) -> int:
    async with harness.app.sessionmaker() as session:
        return int(await session.scalar(select(func.count(PurchaseVote.id))) or 0)


async def test_did_you_mean_searches_the_correction(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    # How forgiving the index is belongs to the index; ask it which misspelling it corrects.
    index = harness.app.indexer.index
    for typo in TYPOS:
        if (result := await index.search(typo)).total == 0 and result.suggestion:
            break
    else:
        raise AssertionError(f"the index suggests no correction for any of {TYPOS}")
    suggestion = result.suggestion
    found = (await index.search(suggestion)).total
    assert found > 0

    user = await reader(harness, 501)
    [reply] = await user.send(typo)
    text = reply.text or ""
    assert f"Nothing found for “{typo}”." in text
    assert f"Did you mean “{suggestion}”?" in text
    assert "You choose, the library buys" in text
    assert inline_labels(reply) == [f"🔎 Search “{suggestion}”", SUGGEST]

    [results] = await user.tap(f"🔎 Search “{suggestion}”")
    assert (results.text or "").startswith(f"🔍 Results for “{suggestion}”")
    assert (f"{found} works found" if found > 1 else "1 work found") in (results.text or "")
    async with harness.app.sessionmaker() as session:
        logged = (await session.execute(select(SearchLog.query, SearchLog.hit_count))).all()
    assert [tuple(row) for row in logged] == [(typo, 0), (suggestion, found)]

    # Chinese words get no spelling suggestion, only the purchase offer.
    [reply] = await user.send("不存在的书名")
    assert "Did you mean" not in (reply.text or "")
    assert inline_labels(reply) == [SUGGEST]


async def test_suggestions_merge_and_count_one_vote_per_reader(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    alice = await reader(harness, 502)
    bob = await reader(harness, 503)

    await alice.send("Quantum Basket Weaving")
    [thanks] = await alice.tap(SUGGEST)
    assert alice.last_answer is not None and alice.last_answer["text"] == "Suggestion saved."
    assert (thanks.text or "").startswith(
        "Thank you! “Quantum Basket Weaving” is on the alliance's purchase list now."
    )
    assert await alice.tap(SUGGEST) == []
    assert alice.last_answer is not None and alice.last_answer["show_alert"]
    assert alice.last_answer["text"] == (
        "You have already suggested this. Readers asking for it: 1."
    )

    await bob.send("  quantum   BASKET-weaving! ")
    [thanks] = await bob.tap(SUGGEST)
    assert thanks.text == (
        "Thank you! Other readers asked for “Quantum Basket Weaving” too — it now has 2 votes."
    )
    assert await _suggestions(harness) == [
        ("q:quantum basket weaving", "Quantum Basket Weaving", None, 2)
    ]
    assert await _votes(harness) == 2

    # An ISBN nobody holds is suggested by its ISBN, however it was typed.
    await alice.send("978-7-302-10487-2")
    await alice.tap(SUGGEST)
    await bob.send("ISBN 9787302104872")
    await bob.tap(SUGGEST)
    assert (await _suggestions(harness))[1] == (
        "isbn:9787302104872",
        "9787302104872",
        "9787302104872",
        2,
    )


async def test_monthly_limit(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(suggestions_per_month=2)
    await build_catalogue(harness)
    user = await reader(harness, 504)
    last_month = month_start(utcnow(), harness.app.settings.zone) - timedelta(days=1)
    async with harness.app.sessionmaker() as session:
        me = await session.scalar(select(Reader).where(Reader.telegram_id == 504))
        assert me is not None
        for n in range(3):  # last month's suggestions do not count
            old = PurchaseSuggestion(match_key=f"q:old {n}", query=f"old {n}")
            session.add(old)
            await session.flush()
            session.add(PurchaseVote(suggestion_id=old.id, reader_id=me.id, created_at=last_month))
        await session.commit()

    for title in ("Arctic bee keeping", "Volcano cookery"):
        await user.send(title)
        [thanks] = await user.tap(SUGGEST)
        assert (thanks.text or "").startswith("Thank you!")
    await user.send("Moonlight sonata diaries")
    assert await user.tap(SUGGEST) == []
    assert user.last_answer is not None and user.last_answer["show_alert"]
    assert user.last_answer["text"] == (
        "You have made 2 purchase suggestions this month, as many as we take. "
        "Thank you! You can suggest more next month."
    )
    assert len(await _suggestions(harness)) == 5

    # Seconding somebody else's suggestion is a suggestion too.
    other = await reader(harness, 505)
    await other.send("Moonlight sonata diaries")
    await other.tap(SUGGEST)
    await user.send("moonlight sonata diaries")
    await user.tap(SUGGEST)
    assert user.last_answer is not None and "2 purchase suggestions" in user.last_answer["text"]
    assert (await _suggestions(harness))[-1][3] == 1


async def test_words_too_common_to_search_ask_for_more_and_offer_no_purchase(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    user = await reader(harness, 521)
    for typed in ("the", "Of The", "de la"):
        [reply] = await user.send(typed)
        assert (reply.text or "").endswith(
            f"“{typed}” is made of words too common to search for on their own: add a word "
            "of the title or the author's name."
        )
        assert SUGGEST not in inline_labels(reply)
    assert await _suggestions(harness) == []
    # With a real word beside them, they search as usual.
    [found] = await user.send("the harry")
    assert "found" in (found.text or "")
