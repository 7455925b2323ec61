"""The demo alliance can be browsed by subject: its works carry a CLC class."""

from __future__ import annotations

from datetime import datetime

from bot.services.demo.seeding import seed_demo
from tests.harness import BotHarness, inline_labels


async def test_the_demo_catalogue_is_browsed_and_filtered_by_subject(harness: BotHarness) -> None:
    zone = harness.app.settings.zone
    async with harness.app.sessionmaker() as session:
        await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await harness.app.indexer.rebuild()
    await harness.app.indexer.ensure_ready()
    user = harness.user(701, "Reader")
    await user.onboard()
    await user.send("/subjects")
    await user.tap("I · Literature")
    page = user.last_bot_message().text or ""
    lines = page.splitlines()
    assert lines[0] == "📚 I · Literature"
    assert int(lines[1].split()[0]) > 8  # "N works", more than a page
    assert "▶️" in inline_labels(user.last_bot_message())
    await user.tap("▶️")
    assert (user.last_bot_message().text or "").splitlines()[2].startswith("9. ")
    # The subject filter keeps literature among the results for 三体.
    await user.send("三体")
    await user.tap("📚 Subject…")
    await user.tap("I · Literature")
    filtered = inline_labels(user.last_bot_message())
    assert filtered[0].startswith("1. 三体") and "✓ I · Literature" in filtered
