"""The work card: holdings nearest first, statuses, addresses, More by this author, Share, links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from aiogram.types import InlineKeyboardButton, Message
from sqlalchemy import select

from bot.geo import haversine_km
from bot.models import SearchLog
from tests.factories import make_library, make_work
from tests.harness import BotHarness, inline_labels

from .conftest import Catalogue, reader

DREAM = "1. 紅樓夢 · Hong lou meng"


def _button(message: Message, label: str) -> InlineKeyboardButton:
    assert message.reply_markup is not None
    return next(b for row in message.reply_markup.inline_keyboard for b in row if b.text == label)


def _order(text: str, *names: str) -> list[int]:
    return [text.index(f"• {name}") for name in names]


async def test_card_lists_holdings_nearest_to_the_shared_location(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    user = await reader(harness, 401, location=(31.301, 121.699))  # beside Riverside Library
    [results] = await user.send("hong lou meng")
    assert await user.tap(DREAM) == []
    card = user.last_bot_message()
    assert card.message_id == results.message_id
    text = card.text or ""
    lines = text.splitlines()
    assert lines[:3] == [
        "📖 紅樓夢 · Hong lou meng",
        "曹雪芹 (Cao, Xueqin) · 1982 · Ren min wen xue chu ban she",
        "ISBN 9787020002207",
    ]
    assert "Where to find it" in lines
    assert "Distances are from the location you shared." in lines
    first, second, third = _order(text, "Riverside Library", "Campus Library", "City Library")
    assert first < second < third
    metres = round(haversine_km(31.301, 121.699, 31.3, 121.7) * 100) * 10
    assert f"• Riverside Library — {metres} m · public library" in lines
    assert "   ✅ available ×2, in transit · call number I242.47/C3" in lines
    assert "   📍 7 River Lane · 🕘 Tue–Sun 10:00–18:00" in lines
    assert "   ⏳ on loan, missing · call number I242.47/C2" in lines
    assert any(
        line.startswith("• Campus Library — ") and "university library" in line for line in lines
    )

    assert inline_labels(card) == [
        "🔖 Reserve",
        "📗 I have read it",
        "👤 More by this author",
        "📤 Share",
        "🔗 Send the link",
        "⬅️ Back to results",
    ]
    link = f"https://t.me/bookbridge_bot?start=wk_{catalogue.dream.id}"
    assert _button(card, "📤 Share").switch_inline_query == f"wk_{catalogue.dream.id}"
    share = urlparse(_button(card, "🔗 Send the link").url or "")
    assert parse_qs(share.query)["url"] == [link]

    await user.tap("⬅️ Back to results")
    back = user.last_bot_message()
    assert (back.text or "").startswith("🔍 Results for “hong lou meng”")
    assert inline_labels(back)[0] == DREAM


async def test_card_measures_from_the_district_centre_without_a_location(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    user = await reader(harness, 402, district=catalogue.east)
    await user.send("hong lou meng")
    await user.tap(DREAM)
    text = user.last_bot_message().text or ""
    assert "Distances are from the centre of East" in text
    first, second, third = _order(text, "City Library", "Campus Library", "Riverside Library")
    assert first < second < third


async def test_back_returns_to_the_same_page_and_filters(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    user = await reader(harness, 403)
    await user.send("garden notes")
    await user.tap("Available now")
    await user.tap("▶️")
    before = user.last_bot_message()
    work_label = inline_labels(before)[0]
    assert work_label.startswith("6. ")
    await user.tap(work_label)
    assert "Where to find it" in (user.last_bot_message().text or "")
    await user.tap("⬅️ Back to results")
    after = user.last_bot_message()
    assert after.text == before.text
    assert inline_labels(after) == inline_labels(before)


async def test_more_by_this_author(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 404)
    await user.send("philosopher's stone")
    await user.tap("1. Harry Potter and the philosopher's stone")
    [more] = await user.tap("👤 More by this author")
    text = more.text or ""
    assert text.startswith("🔍 More by Rowling, J. K.")
    assert "2 works found" in text
    assert "philosopher's stone" in text and "chamber of secrets" in text
    assert "Rowling : a biography" not in text  # about her, not by her
    async with harness.app.sessionmaker() as session:
        log = await session.scalar(select(SearchLog).order_by(SearchLog.id.desc()).limit(1))
    assert log is not None and (log.query, log.hit_count) == ("Rowling, J. K.", 2)


async def test_a_work_without_copies(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 405)
    await user.send("lonely pamphlet")
    await user.tap("1. A lonely pamphlet")
    card = user.last_bot_message()
    assert "No library in the alliance has a copy yet." in (card.text or "")
    assert "📤 Share" in inline_labels(card)


async def test_deep_link_opens_the_card(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 406)
    [card] = await user.send(f"/start wk_{catalogue.stone.id}")
    assert (card.text or "").startswith("📖 Harry Potter and the philosopher's stone")
    assert "Campus Library" in (card.text or "")
    assert "⬅️ Back to results" not in inline_labels(card)  # nothing to go back to

    for payload in ("wk_999999", "wk_abc", "wk_99999999999999999999"):
        [reply] = await user.send(f"/start {payload}")
        assert reply.text == "Sorry, that book is not in the catalogue any more.", payload

    # A newcomer who follows a shared link sees the book right after onboarding.
    newcomer = harness.user(407, "New", language_code="en")
    await newcomer.send(f"/start wk_{catalogue.dream.id}")
    await newcomer.tap("English")
    await newcomer.tap("Skip")
    replies = await newcomer.send("Skip")
    assert (replies[-1].text or "").startswith("📖 紅樓夢 · Hong lou meng")


async def test_a_widely_held_work_stays_within_one_message(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    async with harness.app.sessionmaker() as session:
        libraries = [
            await make_library(
                session,
                catalogue.east,
                name_en=f"Branch {n:02d} " + "with a very long name " * 5,
                address="Long Street " * 20,
                opening_hours="Mo-Su 09:00-21:00 " * 10,
                latitude=31.2 + n / 100,
                longitude=121.4,
            )
            for n in range(14)
        ]
        work = await make_work(session, title="Everywhere " * 60, libraries=tuple(libraries))
        await session.commit()
        await harness.app.indexer.sync(session, [work.id])
    user = await reader(harness, 408, district=catalogue.east)
    [card] = await user.send(f"/start wk_{work.id}")
    text = card.text or ""
    assert len(text) < 4096
    assert text.index("Branch 00") < text.index("Branch 01") < text.index("Branch 02")
    assert text.splitlines()[-1] == f"…and {14 - text.count('• Branch')} more libraries."
