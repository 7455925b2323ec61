"""`bookbridge demo` prepares a fresh, seeded alliance and the sandbox's people and places."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.app import build_application
from bot.config import Settings
from bot.demo_app import DEMO_TOKEN, prepare_demo, sandbox_people_and_places
from bot.models import Event, Work
from bot.services.demo.activity import ACTIVITY_TELEGRAM_BASE, DEMO_ACTIVITY


async def test_prepare_demo_twice_starts_fresh(settings: Settings, tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    configured = await prepare_demo(settings, directory)
    (directory / "leftover.txt").write_text("from an earlier run")
    configured = await prepare_demo(settings, directory)
    assert not (directory / "leftover.txt").exists()
    assert configured.require_token() == DEMO_TOKEN
    assert configured.database_url.endswith("demo/bookbridge.db")

    people, places = await sandbox_people_and_places(configured)
    # The demo accounts, then the readers whose searches give /reach something to rank
    # (sandbox users too, so campaigns to them are delivered and can be looked at).
    activity = sum(active + idle for _code, active, idle in DEMO_ACTIVITY)
    assert [reader.telegram_id for reader in people] == [
        1001,
        1002,
        1003,
        1004,
        *range(ACTIVITY_TELEGRAM_BASE + 1, ACTIVITY_TELEGRAM_BASE + 1 + activity),
    ]
    assert len(places) >= 12
    assert all(place["name_zh"] and place["name_en"] for place in places)

    app = build_application(configured)
    try:
        async with app.sessionmaker() as session:
            assert (await session.scalar(select(func.count(Work.id))) or 0) >= 500
            assert (await session.scalar(select(func.count(Event.id))) or 0) >= 15
    finally:
        await app.close()
