"""Pacing: a global rate below Telegram's limit, one message per second per chat, pauses on 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiolimiter import AsyncLimiter

from bot.models import utcnow

CHAT_INTERVAL_S = 1.0
LIMITER_BURST = 3


@dataclass
class Timekeeper:
    """Wall clock (database times, quiet hours), monotonic clock (pacing) and sleep."""

    now: Callable[[], datetime] = utcnow
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


class Pacer:
    """The global rate (aiolimiter), one message per second per chat, and pauses after 429."""

    def __init__(
        self,
        rate_per_s: float | None,
        *,
        chat_interval: float = CHAT_INTERVAL_S,
        timekeeper: Timekeeper | None = None,
    ) -> None:
        # A bucket of a few sends: evenly spaced at the rate, with just enough slack to make up
        # for timer jitter (Telegram tolerates short bursts; its limit is about 30/s).
        self.limiter = (
            AsyncLimiter(LIMITER_BURST, LIMITER_BURST / rate_per_s) if rate_per_s else None
        )
        self.rate_per_s = rate_per_s
        self.chat_interval = chat_interval
        self.time = timekeeper or Timekeeper()
        self.paused_until = 0.0
        self._last_sent: dict[int, float] = {}

    def pause(self, seconds: float) -> None:
        """Stop every send for this long (Telegram's retry_after)."""
        self.paused_until = max(self.paused_until, self.time.monotonic() + seconds)

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may get another message."""
        last = self._last_sent.get(chat_id)
        if last is None:
            return 0.0
        return max(0.0, last + self.chat_interval - self.time.monotonic())

    async def acquire(self) -> None:
        """Wait out a pause, then take a slot from the global limiter."""
        while (wait := self.paused_until - self.time.monotonic()) > 0:
            await self.time.sleep(wait)
        if self.limiter is not None:
            await self.limiter.acquire()

    def sent(self, chat_id: int) -> None:
        """Remember a send to the chat."""
        now = self.time.monotonic()
        self._last_sent[chat_id] = now
        if len(self._last_sent) > 10_000:
            cutoff = now - self.chat_interval
            self._last_sent = {chat: at for chat, at in self._last_sent.items() if at > cutoff}
