"""A Chinese reader finds CNMARC-imported books in the chat; subjects; /import of CNMARC."""

from __future__ import annotations

from aiogram.types import Message
from sqlalchemy import func, select

from bot.models import Item, Work
from bot.services.catalogue_import.run import import_catalogue
from tests.cnmarc.records import FIXTURES
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_district, make_library
from tests.harness import BotHarness, ChatUser, inline_labels


async def _catalogue(harness: BotHarness) -> None:
    """The CNMARC files imported for library CNLIB, and the index ready."""
    sessionmaker = harness.app.sessionmaker
    async with sessionmaker() as session:
        district = await make_district(session, code="EAST", latitude=31.2, longitude=121.4)
        await make_library(session, district, code="CNLIB", name="市图书馆", name_en="City Library")
        await session.commit()
    for name in ("cnmarc-utf8.mrc", "cnmarc-gbk.mrc", "unimarc.xml"):
        await import_catalogue(sessionmaker, "CNLIB", FIXTURES / name)
    await harness.app.indexer.catch_up()
    await harness.app.indexer.ensure_ready()


async def _chinese_reader(harness: BotHarness) -> ChatUser:
    user = harness.user(501, "读者", language_code="zh")
    await user.onboard("zh")
    return user


def _text(message: Message) -> str:
    return message.text or ""


async def test_a_chinese_reader_finds_a_cnmarc_book_every_way(harness: BotHarness) -> None:
    await _catalogue(harness)
    user = await _chinese_reader(harness)
    for query in ("红楼梦", "hongloumeng", "hong lou meng", "A dream of red mansions", "石头记"):
        [results] = await user.send(query)
        assert "1. 红楼梦" in _text(results).splitlines(), query
        assert inline_labels(results)[0].startswith("1. 红楼梦"), query
    # 200 $9 pinyin and the parallel English title of 三体.
    for query in ("san ti", "three-body problem"):
        [results] = await user.send(query)
        assert inline_labels(results)[0].startswith("1. 三体"), query
    # By ISBN, with or without hyphens: the card at once or a single result.
    for query in ("978-7-02-000220-7", "9787020002207"):
        [results] = await user.send(query)
        assert _text(results).splitlines()[:2] == ["🔍 ISBN 9787020002207", "找到 1 种作品"]
        assert "1. 红楼梦" in _text(results).splitlines(), query
    [results] = await user.send("红楼梦")
    await user.tap(inline_labels(results)[0])
    lines = _text(user.last_bot_message()).splitlines()
    assert lines[:6] == [
        "📖 红楼梦",
        "曹雪芹, 高鹗 · 1996 · 人民文学出版社 · 第3版",
        "ISBN 9787020002207",
        "丛书：中国古典文学读本丛书",
        "中图分类号：I242.4（文学）",
        "以贾、史、王、薛四大家族为背景的长篇小说。",
    ]
    assert "• 市图书馆 · 公共图书馆" in lines
    assert "   ✅ 可借 ×2 · 索书号 I242.4/12" in lines


async def test_browse_by_subject_and_filter_a_search_by_subject(harness: BotHarness) -> None:
    await _catalogue(harness)
    user = await _chinese_reader(harness)
    [prompt] = await user.send("🔍 检索")
    assert inline_labels(prompt) == ["📚 按学科浏览"]
    [classes] = await user.send("/subjects")
    labels = inline_labels(classes)
    assert len(labels) == 22 and labels[0].startswith("A · 马克思主义")
    assert "I · 文学" in labels and "Z · 综合性图书" in labels
    await user.tap("I · 文学")
    page = _text(user.last_bot_message())
    assert page.splitlines()[:2] == ["📚 I · 文学", "共 5 种"]
    assert "红楼梦" in page and "三体" in page and "围城" in page
    assert "朱镕基答记者问" not in page
    await user.tap("⬅️ 全部学科")
    await user.tap("D · 政治、法律")
    assert "朱镕基答记者问" in _text(user.last_bot_message())
    await user.tap("1. 朱镕基答记者问")
    assert "中图分类号：D61（政治、法律）" in _text(user.last_bot_message())

    # The subject filter of a search.
    [results] = await user.send("活着")
    assert "📚 学科…" in inline_labels(results)
    await user.tap("📚 学科…")
    picker = inline_labels(user.last_bot_message())
    assert len(picker) == 23 and picker[-1] == "不限学科"
    await user.tap("D · 政治、法律")
    filtered = user.last_bot_message()
    assert _text(filtered).splitlines()[1] == "筛选：D · 政治、法律"
    assert not any("活着" in label for label in inline_labels(filtered))
    assert "✓ D · 政治、法律" in inline_labels(filtered)
    await user.tap("✓ D · 政治、法律")
    await user.tap("I · 文学")
    assert inline_labels(user.last_bot_message())[0].startswith("1. 活着")


async def test_admin_imports_a_gbk_cnmarc_file_in_the_chat(harness: BotHarness) -> None:
    sessionmaker = harness.app.sessionmaker
    async with sessionmaker() as session:
        await make_library(session, code="CNLIB")
        await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.onboard()
    [bad] = await admin.send("/import CNLIB klingon")
    assert _text(bad).startswith("Usage: /import LIBRARY_CODE [cnmarc|unimarc|marc|marcxml|csv]")
    [prompt] = await admin.send("/import CNLIB cnmarc")
    assert "CNMARC/UNIMARC" in _text(prompt)
    content = (FIXTURES / "cnmarc-gbk.mrc").read_bytes()
    status, _report = await admin.send_document("cnlib.iso", content)
    lines = _text(status).splitlines()
    assert lines[0] == "✅ Import into CNLIB finished."
    assert "Records read: 3" in lines
    async with sessionmaker() as session:
        titles = set(await session.scalars(select(Work.title)))
        assert titles == {"活着", "朱镕基答记者问", "活着(插图本)"}
        assert await session.scalar(select(func.count(Item.id))) == 3
