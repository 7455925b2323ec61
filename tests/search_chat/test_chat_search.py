"""Typing a search in the chat: results by work, availability, distances, paging, filters."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.geo import haversine_km
from bot.models import SearchLog
from tests.harness import BotHarness, inline_labels, texts

from .conftest import (
    Catalogue,
    garden_is_available,
    garden_is_university,
    garden_language,
    reader,
)

APOLOGY = "Sorry, something went wrong"


async def _logs(harness: BotHarness) -> list[SearchLog]:
    async with harness.app.sessionmaker() as session:
        return list(await session.scalars(select(SearchLog).order_by(SearchLog.id)))


def _garden_numbers(labels: list[str]) -> list[int]:
    return [
        int(match[1]) for label in labels if (match := re.search(r"Garden notes (\d+)$", label))
    ]


def _count_line(text: str) -> str:
    return next(line for line in text.splitlines() if "found" in line or "Showing" in line)


async def test_results_group_by_work_with_availability_and_are_logged(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    user = await reader(harness, 301, district=catalogue.east)
    [reply] = await user.send("hong lou meng")
    text = reply.text or ""
    nearest = haversine_km(31.2, 121.4, 31.21, 121.41)
    assert text.splitlines()[:3] == [
        "🔍 Results for “hong lou meng”",
        "1 work found",
        "Distances are from the centre of East; share your location in /settings for better ones.",
    ]
    assert "1. 紅樓夢 · Hong lou meng" in text
    assert "曹雪芹 (Cao, Xueqin) · 1982" in text
    assert f"✅ On the shelf at 2 libraries — nearest {nearest:.1f} km, City Library" in text
    assert inline_labels(reply)[0] == "1. 紅樓夢 · Hong lou meng"

    [reply] = await user.send("harry potter")
    text = reply.text or ""
    assert "2 works found" in text
    assert "Rowling, J. K. · 1997" in text
    assert "On the shelf at 1 library — " in text and "Campus Library" in text
    assert "⏳ The only copy is out at the moment" in text  # the chamber of secrets is on loan

    [reply] = await user.send("lonely pamphlet")
    assert "▫️ No library in the alliance has a copy yet" in (reply.text or "")

    logs = await _logs(harness)
    assert [(log.query, log.hit_count, log.source) for log in logs] == [
        ("hong lou meng", 1, "chat"),
        ("harry potter", 2, "chat"),
        ("lonely pamphlet", 1, "chat"),
    ]
    assert all(log.district_id == catalogue.east.id and log.reader_id for log in logs)


async def test_a_reader_without_location_or_district_is_told_how_to_get_distances(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    user = await reader(harness, 302)
    [reply] = await user.send("hong lou meng")
    text = reply.text or ""
    assert "Share your location or choose your district in /settings to see distances." in text
    assert "On the shelf at 2 libraries, including " in text
    assert " km" not in text


async def test_paging_five_works_a_page(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 303)
    [reply] = await user.send("garden notes")
    assert _count_line(reply.text or "") == "12 works found · page 1 of 3"
    labels = inline_labels(reply)
    assert [label.split(".")[0] for label in labels[:5]] == ["1", "2", "3", "4", "5"]
    assert "1/3" in labels and "▶️" in labels and "◀️" not in labels
    seen = _garden_numbers(labels)

    assert await user.tap("▶️") == []  # edited in place
    page = user.last_bot_message()
    assert page.message_id == reply.message_id
    assert _count_line(page.text or "") == "12 works found · page 2 of 3"
    assert "6. Garden notes" in (page.text or "")
    assert {"◀️", "2/3", "▶️"} <= set(inline_labels(page))
    seen += _garden_numbers(inline_labels(page))

    await user.tap("▶️")
    page = user.last_bot_message()
    assert _count_line(page.text or "") == "12 works found · page 3 of 3"
    assert "▶️" not in inline_labels(page)
    seen += _garden_numbers(inline_labels(page))
    assert sorted(seen) == list(range(1, 13))

    await user.tap("◀️")
    assert "page 2 of 3" in (user.last_bot_message().text or "")
    await user.tap("2/3")  # the page number re-draws the same page: no error
    assert user.last_answer is not None and user.last_answer["text"] is None
    assert len(await _logs(harness)) == 1  # paging is not a new search


async def test_filters_narrow_the_results(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 304)
    await user.send("garden notes")
    numbers = range(1, 13)

    async def shown() -> set[int]:
        found: set[int] = set()
        while True:
            message = user.last_bot_message()
            found.update(_garden_numbers(inline_labels(message)))
            if "▶️" not in inline_labels(message):
                break
            await user.tap("▶️")
        while "◀️" in inline_labels(user.last_bot_message()):
            await user.tap("◀️")
        return found

    await user.tap("Available now")
    message = user.last_bot_message()
    assert "Filters: available now" in (message.text or "")
    assert "✓ Available now" in inline_labels(message)
    assert await shown() == {n for n in numbers if garden_is_available(n)}

    await user.tap("✓ Available now")
    assert "Filters:" not in (user.last_bot_message().text or "")
    assert await shown() == set(numbers)

    await user.tap("Chinese")
    assert await shown() == {n for n in numbers if garden_language(n) == "chi"}
    await user.tap("University libraries")
    assert "Filters: in Chinese, at university libraries" in (user.last_bot_message().text or "")
    assert await shown() == {
        n for n in numbers if garden_language(n) == "chi" and garden_is_university(n)
    }
    await user.tap("✓ Chinese")
    assert await shown() == {n for n in numbers if garden_is_university(n)}
    await user.tap("Public libraries")  # switches from university to public
    assert "✓ Public libraries" in inline_labels(user.last_bot_message())
    assert "University libraries" in inline_labels(user.last_bot_message())
    assert await shown() == {n for n in numbers if not garden_is_university(n)}
    await user.tap("English")
    await user.tap("Available now")
    assert await shown() == {
        n
        for n in numbers
        if not garden_is_university(n) and garden_language(n) == "eng" and garden_is_available(n)
    }

    # Availability counts only the kind of library asked for.
    await user.send("hong lou meng")
    await user.tap("University libraries")
    text = user.last_bot_message().text or ""
    assert "⏳ All 2 copies are out at the moment" in text

    # Nothing left: say so and keep the filters to turn off.
    await user.tap("English")
    text = user.last_bot_message().text or ""
    assert "Nothing matches “hong lou meng” with these filters." in text
    assert "🛒 Suggest a purchase" not in inline_labels(user.last_bot_message())
    await user.tap("✓ English")
    assert "1 work found" in (user.last_bot_message().text or "")


async def test_hostile_queries_get_polite_answers(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    user = await reader(harness, 305)
    [reply] = await user.send("*** ~~ :: ((")
    assert (reply.text or "").startswith("There is nothing I can search for in that.")

    [reply] = await user.send('AND ( " * ~ :')
    assert '“AND ( " * ~ :” is made of words too common to search for on their own' in (
        reply.text or ""
    )

    [reply] = await user.send('title:harry AND (potter OR "stone*~')
    assert "2 works found" in (reply.text or "")

    [reply] = await user.send("<b>bold</b> & <script>alert(1)</script>")
    assert "“<b>bold</b> & <script>alert(1)</script>”" in (reply.text or "")

    long_query = "harry potter " + "x" * 3990
    [reply] = await user.send(long_query)
    text = reply.text or ""
    assert (
        f"(Your search was too long ({len(long_query)} characters), so I searched for its "
        "first 200 characters only.)"
    ) in text
    assert "2 works found" in text

    [reply] = await user.send("y" * 4000)
    assert "(Your search was too long (4000 characters)" in (reply.text or "")
    assert "Nothing found for" in (reply.text or "")

    logs = await _logs(harness)
    assert len(logs) == 5  # the query with nothing to search for is not logged
    assert max(len(log.query) for log in logs) <= 200
    assert APOLOGY not in " ".join(texts(user.chat()))


async def test_index_not_ready(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 306)
    [results] = await user.send("garden notes")
    harness.app.indexer.status.ready = False  # a rebuild of a missing index is under way
    [reply] = await user.send("harry potter")
    assert reply.text == "The catalogue is being prepared. Please try again in a minute."
    await user.tap("▶️", message_id=results.message_id)
    assert user.last_answer is not None
    assert user.last_answer["text"] == reply.text and user.last_answer["show_alert"]
    assert await user.inline("harry potter") == []
    assert len(await _logs(harness)) == 1

    harness.app.indexer.status.ready = True
    [reply] = await user.send("harry potter")
    assert "2 works found" in (reply.text or "")


async def test_missing_index_before_first_build(harness: BotHarness) -> None:
    user = await reader(harness, 307)
    [reply] = await user.send("anything at all")
    assert reply.text == "The catalogue is being prepared. Please try again in a minute."


async def test_chinese_interface(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 308, language="zh", district=catalogue.east)
    nearest = haversine_km(31.2, 121.4, 31.21, 121.41)
    [reply] = await user.send("红楼梦")
    text = reply.text or ""
    assert text.splitlines()[:3] == [
        "🔍 “红楼梦”的检索结果",
        "找到 1 种作品",
        "距离按东区中心计算；在 /settings 中分享位置可更准确。",
    ]
    assert f"2 个图书馆在架——最近 {nearest:.1f} 公里，市图书馆" in text
    assert inline_labels(reply)[1:] == [
        "现在可借",
        "中文",
        "英文",
        "高校图书馆",
        "公共图书馆",
        "📚 学科…",
    ]

    await user.tap("1. 紅樓夢 · Hong lou meng")
    card = user.last_bot_message().text or ""
    assert "馆藏位置" in card
    assert "• 市图书馆 — " in card and "公共图书馆" in card
    assert "可借 · 索书号 I242.47/C1" in card
    assert "已借出, 遗失 · 索书号 I242.47/C2" in card
    assert "可借 ×2, 调送中" in card
    assert inline_labels(user.last_bot_message()) == [
        "🔖 预约",
        "📗 我读过了",
        "👤 该作者的更多作品",
        "📤 分享",
        "🔗 发送链接",
        "⬅️ 返回检索结果",
    ]

    [reply] = await user.send("qwertyuiop")
    assert "没有找到“qwertyuiop”。" in (reply.text or "")
    assert "🛒 推荐采购" in inline_labels(reply)


async def test_onboarding_and_dialogs_are_not_searches(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    newcomer = harness.user(309, "New", language_code="en")
    [reply] = await newcomer.send("harry potter")
    assert "Let's get you set up first" in (reply.text or "")

    user = await reader(harness, 310)
    [reply] = await user.send("🔍 Search")
    assert (reply.text or "").startswith("Type a title, an author or an ISBN")
    await user.send("/settings")
    await user.tap("Share location")
    [reply] = await user.send("harry potter")
    assert "Please tap “📍 Share my location”" in (reply.text or "")
    await user.send("Cancel")
    [reply] = await user.send("harry potter")
    assert "2 works found" in (reply.text or "")
    assert [log.query for log in await _logs(harness)] == ["harry potter"]
