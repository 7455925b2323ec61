"""The demo catalogue searched in the chat: kind-of-library filters, ISBNs and barcode photos."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot.models import Item, ItemStatus, Library, LibraryKind, Work
from bot.services.demo.seeding import seed_demo
from tests.harness import BotHarness, inline_labels

from .conftest import reader
from .test_isbn_barcode_inline import ean13_png

THREE_BODY_ISBN = "9787536692930"


@pytest.fixture
async def demo(harness: BotHarness) -> None:
    """The demo alliance, indexed."""
    zone = harness.app.settings.zone
    async with harness.app.sessionmaker() as session:
        await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await harness.app.indexer.rebuild()
    await harness.app.indexer.ensure_ready()


async def _shelves(
    harness: BotHarness, work_filter: object, *, available: bool = False
) -> dict[str, LibraryKind]:
    """The libraries holding copies of the work (on the shelf now, if asked), by code."""
    async with harness.app.sessionmaker() as session:
        query = (
            select(Library.code, Library.kind)
            .join(Item, Item.library_id == Library.id)
            .join(Work, Work.id == Item.work_id)
            .where(work_filter)  # type: ignore[arg-type]
        )
        if available:
            query = query.where(Item.status == ItemStatus.AVAILABLE)
        return dict((await session.execute(query.distinct())).all())


def _availability(text: str, numbered_title: str) -> str:
    """The availability line of one result (two lines below its title)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(numbered_title))
    return lines[start + 2].strip()


async def test_kind_of_library_filters_find_the_copies_of_that_kind(
    harness: BotHarness, demo: None
) -> None:
    user = await reader(harness, 701)
    held = await _shelves(harness, Work.title == "Jane Eyre")
    assert LibraryKind.PUBLIC in held.values()  # as in the report (issue 16.1)

    [reply] = await user.send("Jane Eyre")
    assert "1 work found" in (reply.text or "")
    await user.tap("Public libraries")
    text = user.last_bot_message().text or ""
    assert "Filters: at public libraries" in text
    assert "1 work found" in text and "Nothing matches" not in text
    assert inline_labels(user.last_bot_message())[0] == "1. Jane Eyre"

    # 三体 is on the shelves of every kind of library: each filter keeps it.
    three_body = await _shelves(harness, Work.original_title == "三体")
    assert {LibraryKind.PUBLIC, LibraryKind.UNIVERSITY} <= set(three_body.values())
    on_shelf = await _shelves(harness, Work.original_title == "三体", available=True)
    await user.send("San ti")
    for label, kind in (
        ("University libraries", LibraryKind.UNIVERSITY),
        ("Public libraries", LibraryKind.PUBLIC),
    ):
        await user.tap(label)
        message = user.last_bot_message()
        assert "Nothing matches" not in (message.text or ""), label
        assert inline_labels(message)[0] == "1. 三体 · San ti (The Three-Body Problem)"
        # Copies on the shelf are counted at libraries of that kind only.
        count = sum(1 for shelf_kind in on_shelf.values() if shelf_kind is kind)
        assert _availability(message.text or "", "1. 三体 · San ti").startswith(
            f"✅ On the shelf at {count} libraries"
        )


async def test_isbn_and_barcode_find_the_demo_works(harness: BotHarness, demo: None) -> None:
    user = await reader(harness, 702)
    on_shelf = await _shelves(harness, Work.original_title == "三体", available=True)
    assert len(on_shelf) >= 10
    expected = f"On the shelf at {len(on_shelf)} libraries"

    [typed] = await user.send("978-7-5366-9293-0")
    [photo] = await user.send_photo(ean13_png(THREE_BODY_ISBN[:12]))
    for reply in (typed, photo):
        text = reply.text or ""
        assert text.startswith(f"🔍 ISBN {THREE_BODY_ISBN}")
        assert "1 work found" in text and expected in text
        assert inline_labels(reply)[0] == "1. 三体 · San ti (The Three-Body Problem)"
