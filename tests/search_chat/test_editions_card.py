"""A work's card lists its other editions and translations; each opens its own card."""

from __future__ import annotations

from bot.models import Library
from tests.factories import make_work
from tests.harness import BotHarness, inline_labels

from .conftest import Catalogue, reader, sessions

FAMILY = "littleprince|saintexupery"


async def _family(harness: BotHarness, library: Library) -> tuple[int, int, int]:
    async with sessions(harness)() as session:
        french = await make_work(
            session,
            title="Le petit prince",
            authors=["Saint-Exupéry, Antoine de"],
            language="fre",
            year=1946,
            family_key=FAMILY,
            libraries=(library,),
        )
        chinese = await make_work(
            session,
            title="Xiao wang zi",
            original_title="小王子",
            authors=["Saint-Exupéry, Antoine de"],
            language="chi",
            year=2003,
            family_key=FAMILY,
            other_titles=["Petit prince"],
        )
        spanish = await make_work(
            session,
            title="El principito",
            authors=["Saint-Exupéry, Antoine de"],
            language="spa",
            family_key=FAMILY,
        )
        await session.commit()
        await harness.app.indexer.sync(session, [french.id])
    return french.id, chinese.id, spanish.id


async def test_the_card_lists_translations_and_opens_them(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    french, _, _ = await _family(harness, catalogue.city)
    user = await reader(harness, 601)
    [card] = await user.send(f"/start wk_{french}")
    lines = (card.text or "").splitlines()
    heading = lines.index("Other editions and translations")
    assert lines[heading + 1 : heading + 3] == [
        "• 小王子 · Xiao wang zi · Chinese · 2003",
        "• El principito · Spanish",
    ]
    labels = inline_labels(card)
    assert labels[labels.index("📚 小王子 · Xiao wang zi") + 1] == "📚 El principito"
    await user.tap("📚 小王子 · Xiao wang zi")
    translation = user.last_bot_message().text or ""
    assert translation.startswith("📖 小王子 · Xiao wang zi")
    assert "• Le petit prince · French · 1946" in translation
    assert "No library in the alliance has a copy yet." in translation


async def test_a_chinese_title_finds_the_french_edition_in_chinese(
    harness: BotHarness, catalogue: Catalogue
) -> None:
    await _family(harness, catalogue.city)
    user = await reader(harness, 602, language="zh")
    [results] = await user.send("小王子")
    labels = inline_labels(results)
    assert labels[0].startswith("1. 小王子") and labels[1] == "2. Le petit prince"
    await user.tap("2. Le petit prince")
    card = user.last_bot_message().text or ""
    assert "其他版本与译本" in card
    assert "• 小王子 · Xiao wang zi · 中文 · 2003" in card
