"""ISBNs typed in any form, barcode photos, and inline mode in other chats."""

from __future__ import annotations

import io

import barcode
import barcode.writer
from PIL import Image
from sqlalchemy import select

from bot.models import SearchLog
from tests.harness import BotHarness, inline_labels

from .conftest import Catalogue, reader

LINK = "https://t.me/bookbridge_bot?start=wk_{id}"


def ean13_png(digits: str) -> bytes:
    """An EAN-13 barcode picture, as a phone would photograph the back cover."""
    buffer = io.BytesIO()
    barcode.get("ean13", digits, writer=barcode.writer.ImageWriter()).write(buffer)
    return buffer.getvalue()


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "white").save(buffer, format="PNG")
    return buffer.getvalue()


async def _logged(harness: BotHarness) -> list[tuple[str, int, str]]:
    async with harness.app.sessionmaker() as session:
        rows = await session.execute(
            select(SearchLog.query, SearchLog.hit_count, SearchLog.source).order_by(SearchLog.id)
        )
        return [(query, hits, source) for query, hits, source in rows.all()]


async def test_typed_isbns_in_any_form(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 601)
    for typed in ("978-0-7475-3269-9", "ISBN 0-7475-3269-9", "0747532699", "978 0 7475 3269 9"):
        [reply] = await user.send(typed)
        text = reply.text or ""
        assert text.startswith("🔍 ISBN 9780747532699"), typed
        assert "1 work found" in text and "philosopher's stone" in text, typed
    # Full-width digits, as a Chinese keyboard types them.
    [reply] = await user.send("９７８７０２０００２２０７")
    assert "紅樓夢" in (reply.text or "")
    assert {query for query, _, _ in await _logged(harness)} == {"9780747532699", "9787020002207"}


async def test_barcode_photo(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 602)
    [reply] = await user.send_photo(ean13_png("978702000220"))
    text = reply.text or ""
    assert text.startswith("🔍 ISBN 9787020002207")
    assert inline_labels(reply)[0] == "1. 紅樓夢 · Hong lou meng"

    [reply] = await user.send_photo(blank_png())
    assert (reply.text or "").startswith("I couldn't find a barcode in that photo.")

    [reply] = await user.send_photo(ean13_png("400638133393"))  # a chocolate bar, not a book
    assert (reply.text or "").startswith("That barcode is not a book's ISBN.")

    [reply] = await user.send_photo(ean13_png("978730210487"))  # a book no library holds
    assert "Nothing found for “9787302104872”." in (reply.text or "")
    assert "🛒 Suggest a purchase" in inline_labels(reply)
    assert [query for query, _, _ in await _logged(harness)] == ["9787020002207", "9787302104872"]


async def test_inline_mode(harness: BotHarness, catalogue: Catalogue) -> None:
    user = await reader(harness, 603, district=catalogue.east)
    results = await user.inline("harry potter")
    assert results is not None
    ids = {catalogue.stone.id, catalogue.chamber.id}
    assert {result["id"] for result in results} == {f"wk{work_id}" for work_id in ids}
    stone = next(result for result in results if result["id"] == f"wk{catalogue.stone.id}")
    assert stone["type"] == "article"
    assert stone["title"] == "Harry Potter and the philosopher's stone"
    assert stone["description"].startswith("Rowling, J. K. · 1997 · On the shelf at 1 library — ")
    link = LINK.format(id=catalogue.stone.id)
    assert link in stone["input_message_content"]["message_text"]
    assert stone["reply_markup"]["inline_keyboard"][0][0]["url"] == link
    answer = harness.sandbox.requests[-1]
    assert answer.method == "answerInlineQuery"
    assert answer.params["cache_time"] == 300 and answer.params["is_personal"] is True

    assert await user.inline("") == []
    assert await user.inline("   ") == []
    garden = await user.inline("garden notes")
    assert garden is not None and len(garden) == 12

    # The card's Share button types "@bot wk_<id>": exactly that book.
    shared = await user.inline(f"wk_{catalogue.dream.id}")
    assert shared is not None and [result["id"] for result in shared] == [f"wk{catalogue.dream.id}"]
    assert shared[0]["title"] == "紅樓夢 · Hong lou meng"
    assert await user.inline("wk_999999") == []

    # Anybody can search inline, even before talking to the bot.
    stranger = harness.user(604, "Stranger", language_code="zh")
    results = await stranger.inline("红楼梦")
    assert results is not None and results[0]["id"] == f"wk{catalogue.dream.id}"
    button = results[0]["reply_markup"]["inline_keyboard"][0][0]
    assert button["text"] == "📖 在书桥中打开"

    assert await _logged(harness) == [
        ("harry potter", 2, "inline"),
        ("garden notes", 12, "inline"),
        ("红楼梦", 1, "inline"),
    ]
