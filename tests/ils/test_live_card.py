"""A work card reads copies live from a connected library's system, within the deadline."""

from __future__ import annotations

import asyncio
import re
import time

from bot.operations import HealthSources, health_report
from sandbox.library_system import LibrarySystem
from tests.conftest import HarnessFactory
from tests.harness import BotHarness, ChatUser
from tests.ils.conftest import Shelf, build_shelf

CACHE_S = 0.3
DEADLINE_S = 1.5


async def _harness(harness_factory: HarnessFactory) -> BotHarness:
    return await harness_factory(
        ils_cache_s=CACHE_S, ils_deadline_s=DEADLINE_S, ils_timeout_s=5, ils_breaker_failures=3
    )


async def _card(user: ChatUser, shelf: Shelf) -> tuple[list[str], float]:
    started = time.perf_counter()
    [card] = await user.send(f"/start wk_{shelf.work.id}")
    return (card.text or "").splitlines(), time.perf_counter() - started


def _detail(lines: list[str], library: str) -> str:
    return lines[next(i for i, line in enumerate(lines) if line.startswith(f"• {library}")) + 1]


async def test_a_checkout_at_the_desk_shows_on_the_card_and_a_stopped_system_shows_its_age(
    harness_factory: HarnessFactory, library_system: LibrarySystem
) -> None:
    harness = await _harness(harness_factory)
    try:
        async with harness.app.sessionmaker() as session:
            shelf = await build_shelf(session, library_system)
        user = harness.user(801, "Ann")
        await user.onboard("en")

        lines, _took = await _card(user, shelf)
        assert _detail(lines, "City Library") == "   ✅ available ×2 · live"
        assert _detail(lines, "Town Library") == "   ✅ available"  # manual: as stored

        # Checked out at the library's desk: within the cache time the card says so.
        library_system.check_out(shelf.city_copies[0])
        await asyncio.sleep(CACHE_S)
        lines, _took = await _card(user, shelf)
        assert _detail(lines, "City Library") == "   ✅ available, on loan · live"

        # The system hangs: the card still answers within the deadline, with the last known
        # statuses and their age.
        library_system.delay = 10
        await asyncio.sleep(CACHE_S)
        lines, took = await _card(user, shelf)
        assert took < DEADLINE_S + 0.5
        assert re.fullmatch(
            r"   ✅ available, on loan · as of \d\d:\d\d", _detail(lines, "City Library")
        )

        # Stopped altogether: still answering at once, and the breaker opens.
        library_system.stop()
        lines, took = await _card(user, shelf)
        assert took < DEADLINE_S
        assert "as of" in _detail(lines, "City Library")
        asked = library_system.requests
        lines, took = await _card(user, shelf)
        assert took < 0.5 and library_system.requests == asked
        health = harness.app.ils.health()["CITY"]
        assert (health["up"], health["breaker"], health["kind"]) == (False, "open", "sip2")
        assert health["errors"] == 4 and "connect" in str(health["last_error"])

        _healthy, report = await health_report(
            HealthSources(
                engine=harness.app.engine,
                redis=None,
                indexer=None,
                scheduler=None,
                ils=harness.app.ils,
            )
        )
        assert report["checks"]["ils"]["libraries"]["CITY"]["up"] is False
        metrics = harness.app.metrics.render().decode()
        assert 'bookbridge_ils_up{library="CITY"} 0.0' in metrics
        assert 'bookbridge_ils_errors_total{library="CITY"} 4.0' in metrics
    finally:
        await harness.app.ils.close()


async def test_the_card_in_chinese_and_a_system_back_up(
    harness_factory: HarnessFactory, library_system: LibrarySystem
) -> None:
    harness = await harness_factory(
        ils_cache_s=CACHE_S, ils_deadline_s=DEADLINE_S, ils_breaker_cooldown_s=0.2
    )
    try:
        async with harness.app.sessionmaker() as session:
            shelf = await build_shelf(session, library_system)
        user = harness.user(802, "小明", language_code="zh")
        await user.onboard("zh")
        lines, _took = await _card(user, shelf)
        assert _detail(lines, "市图书馆") == "   ✅ 可借 ×2 · 实时"

        library_system.stop()
        await asyncio.sleep(CACHE_S)
        for _ in range(3):
            lines, _took = await _card(user, shelf)
        assert re.fullmatch(r"   ✅ 可借 ×2 · 截至 \d\d:\d\d", _detail(lines, "市图书馆"))
        assert harness.app.ils.health()["CITY"]["breaker"] == "open"

        # Back up: after the cool-down one trial request closes the breaker again.
        library_system.start()
        library_system.check_out(shelf.city_copies[1])
        await asyncio.sleep(0.3)
        lines, _took = await _card(user, shelf)
        assert _detail(lines, "市图书馆") == "   ✅ 可借, 已借出 · 实时"
        assert harness.app.ils.health()["CITY"]["up"] is True
    finally:
        await harness.app.ils.close()
