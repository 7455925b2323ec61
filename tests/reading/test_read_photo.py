"""/read by a barcode photo: the ISBN on the photographed barcode is logged as read."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.models import ReadingLog
from tests.harness import BotHarness
from tests.search_chat.test_isbn_barcode_inline import blank_png, ean13_png

from .world import RED_CHAMBER_ISBN, build_world, chat_reader


async def _logged(harness: BotHarness) -> list[tuple[int, int | None, str | None]]:
    async with harness.app.sessionmaker() as session:
        rows = await session.execute(
            select(ReadingLog.work_id, ReadingLog.rating, ReadingLog.note).order_by(ReadingLog.id)
        )
        return [(work_id, rating, note) for work_id, rating, note in rows]


async def test_a_barcode_photo_captioned_read_logs_the_book(harness: BotHarness) -> None:
    world = await build_world(harness)
    reader = await chat_reader(harness, 1961)
    [reply] = await reader.send_photo(ean13_png(RED_CHAMBER_ISBN[:12]), caption="/read 5 Moving")
    text = reply.text or ""
    assert "Logged as read" in text and "Hong lou meng" in text
    assert "Your rating: ★★★★★" in text and "Moving" in text
    assert await _logged(harness) == [(world.works[0].id, 5, "Moving")]


async def test_bad_photos_are_refused_in_chinese_and_nothing_is_logged(
    harness: BotHarness,
) -> None:
    await build_world(harness)
    reader = await chat_reader(harness, 1962, language="zh")
    [reply] = await reader.send_photo(blank_png(), caption="/read")
    assert "ISBN 条码" in (reply.text or "")
    # A barcode of an ISBN no library has: the unknown-ISBN refusal.
    [reply] = await reader.send_photo(ean13_png("978030640615"), caption="/read")
    assert "9780306406157" in (reply.text or "")
    # A rating out of range on a good barcode is refused too.
    [reply] = await reader.send_photo(ean13_png(RED_CHAMBER_ISBN[:12]), caption="/read 7")
    assert "评分须是 1 到 5 的整数" in (reply.text or "")
    assert await _logged(harness) == []
    async with harness.app.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReadingLog)) == 0
