"""Redis shared by instances: throttling holds across them, one reader's updates never overlap."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import Message, TelegramObject

from bot.operations import JsonLogFormatter, LogContextFilter
from tests.conftest import HarnessFactory
from tests.harness import BotHarness, texts
from tests.scale.conftest import REDIS_URL

SLOW_NOTICE = "You are sending messages very fast. Please wait a moment."


async def _close(*harnesses: BotHarness) -> None:
    for harness in harnesses:
        await harness.app.close()


async def test_throttling_holds_across_instances(
    harness_factory: HarnessFactory, redis_prefix: str
) -> None:
    shared = {
        "redis_url": REDIS_URL,
        "redis_prefix": redis_prefix,
        "throttle_burst": 2,
        "throttle_rate": 0.01,
    }
    first, second = await harness_factory(**shared), await harness_factory(**shared)
    try:
        on_first, on_second = first.user(880, "Flo"), second.user(880, "Flo")
        await on_first.send("/start")
        await on_second.send("/help")
        # The third update within the burst window is refused, whichever instance gets it.
        assert texts(await on_first.send("/help")) == [SLOW_NOTICE]
        assert await on_second.send("/help") == []  # the notice is given once
        # Another reader is not affected.
        other = second.user(881, "Gus")
        assert texts(await other.send("/start")) != [SLOW_NOTICE]
    finally:
        await _close(first, second)


async def test_without_redis_each_instance_keeps_its_own_buckets(
    harness_factory: HarnessFactory,
) -> None:
    first = await harness_factory(throttle_burst=2, throttle_rate=0.01)
    second = await harness_factory(throttle_burst=2, throttle_rate=0.01)
    try:
        on_first, on_second = first.user(882, "Flo"), second.user(882, "Flo")
        for user in (on_first, on_second, on_first, on_second):
            assert texts(await user.send("/help")) != [SLOW_NOTICE]
        assert texts(await on_first.send("/help")) == [SLOW_NOTICE]
    finally:
        await _close(first, second)


class OverlapProbe:
    """An inner message middleware that records when each handler ran, slowly."""

    def __init__(self) -> None:
        self.spans: dict[int, list[tuple[float, float]]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Message) and event.from_user is not None
        started = time.monotonic()
        await asyncio.sleep(0.3)
        try:
            return await handler(event, data)
        finally:
            self.spans.setdefault(event.from_user.id, []).append((started, time.monotonic()))


def _overlap(spans: list[tuple[float, float]]) -> bool:
    ordered = sorted(spans)
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered))


async def test_one_readers_updates_never_run_at_once_on_two_instances(
    harness_factory: HarnessFactory, redis_prefix: str
) -> None:
    shared = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    first, second = await harness_factory(**shared), await harness_factory(**shared)
    probe = OverlapProbe()
    for harness in (first, second):
        harness.app.dispatcher.message.middleware(probe)
    try:
        for user_id in (890, 891):
            first.user(user_id, "Hal")
            second.user(user_id, "Hal")
        updates = [
            (first, first.sandbox.send_text(890, "/help")),
            (second, second.sandbox.send_text(890, "/help")),
            (first, first.sandbox.send_text(890, "/help")),
            (second, second.sandbox.send_text(891, "/help")),
        ]
        await asyncio.gather(*(harness.feed(update) for harness, update in updates))
    finally:
        await _close(first, second)
    # Reader 890's three updates ran one after another.
    assert len(probe.spans[890]) == 3
    assert not _overlap(probe.spans[890])
    if first.app.engine.dialect.name == "postgresql":
        # Reader 891 did not wait for them (SQLite serialises every writing transaction).
        assert _overlap([*probe.spans[890], *probe.spans[891]])


async def test_log_lines_carry_the_update_and_reader_but_never_the_text(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(throttle_burst=1, throttle_rate=0.01)
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    collector = Collect(level=logging.DEBUG)
    collector.addFilter(LogContextFilter())
    collector.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        user = harness.user(895, "Ivy")
        await user.send("/start")
        flood = harness.sandbox.send_text(895, "my very private words")
        await harness.feed(flood)
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)
        await harness.app.close()
    entries = [json.loads(line) for line in lines]
    throttled = [e for e in entries if e["message"].startswith("throttled")]
    assert len(throttled) == 1
    assert throttled[0]["update_id"] == flood.update_id
    assert throttled[0]["user_id"] == 895
    assert {"ts", "level", "logger"} <= throttled[0].keys()
    assert not any("my very private words" in line for line in lines)
