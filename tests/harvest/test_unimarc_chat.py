"""A Chinese reader finds a book harvested over OAI-PMH as CNMARC, in the chat."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiogram.types import Message

from bot.services.harvest.run import harvest_library
from bot.services.harvest.sources import connect
from tests.conftest import shared_data
from tests.factories import make_district, make_library
from tests.harness import BotHarness, inline_labels
from tests.harvest.conftest import BATCH, RECORDS
from tests.harvest.repository import TestRepository
from tests.harvest.unimarc import LIBRARY, chinese_records

FINANCE_ISBN = "9789575316396"  # 國際公司理財 (International finance), LC class HG: CLC F


@pytest.fixture
def cn_repository() -> Iterator[TestRepository]:
    repo = TestRepository(batch_size=BATCH).start()
    repo.load(chinese_records(shared_data("marc", "loc-books-chinese-8030.mrc"), RECORDS))
    try:
        yield repo
    finally:
        repo.stop()


def _text(message: Message) -> str:
    return message.text or ""


async def _harvested(harness: BotHarness, repository: TestRepository) -> None:
    """CNLIB harvests CNMARC and EAST MARC 21 from the repository; the index is ready."""
    app = harness.app
    async with app.sessionmaker() as session:
        district = await make_district(session, code="D1", latitude=31.2, longitude=121.4)
        await make_library(session, district, code=LIBRARY, name="市图书馆", name_en="City")
        await make_library(session, district, code="EAST", name="东区图书馆", name_en="East")
        await session.commit()
        await connect(session, LIBRARY, repository.url, prefix="cnmarc")
        await connect(session, "EAST", repository.url, prefix="marc21")
    settings = app.settings.model_copy(update={"harvest_timeout_s": 5.0})
    for code in (LIBRARY, "EAST"):
        report = await harvest_library(app.sessionmaker, settings, code, indexer=app.indexer)
        assert report.error is None and report.records == RECORDS, report.summary()
    await app.indexer.catch_up()
    await app.indexer.ensure_ready()


async def test_a_chinese_reader_finds_a_harvested_cnmarc_book(
    harness: BotHarness, cn_repository: TestRepository
) -> None:
    await _harvested(harness, cn_repository)
    user = harness.user(502, "读者", language_code="zh")
    await user.onboard("zh")
    for query in ("國際公司理財", "国际公司理财"):
        [results] = await user.send(query)
        assert inline_labels(results)[0].startswith("1. 國際公司理財"), (query, _text(results))
    [results] = await user.send("978-957-531-639-6")
    assert _text(results).splitlines()[:2] == [f"🔍 ISBN {FINANCE_ISBN}", "找到 1 种作品"]
    await user.tap(inline_labels(results)[0])
    card = _text(user.last_bot_message())
    assert "中图分类号：F（经济）" in card.splitlines(), card
    # One work: the CNMARC library's copy and the MARC 21 library's.
    assert any(line.startswith("• 市图书馆") for line in card.splitlines()), card
    assert any(line.startswith("• 东区图书馆") for line in card.splitlines()), card
    assert "索书号 F" in card
