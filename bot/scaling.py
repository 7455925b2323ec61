"""State shared by several bot instances through Redis (or kept in this process without it):
FSM, per-reader locks, throttling, and the updates already received."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage as MemoryLimits
from limits.aio.storage import RedisStorage as RedisLimits
from limits.aio.storage import Storage as LimitsStorage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.config import Settings

logger = logging.getLogger(__name__)


class Throttle:
    """Per-user flood control: one rule (the ``limits`` library) in memory or in Redis.

    A user gets ``burst`` updates in a window of ``burst / rate`` seconds (whole seconds,
    counted from the window's first update), so ``rate`` a second over time; a refused update
    earns one polite notice per window. With Redis the windows are shared by every instance.
    """

    def __init__(self, storage: LimitsStorage, rate: float, burst: int) -> None:
        window = max(1, round(burst / rate))
        self.updates = RateLimitItemPerSecond(max(burst, round(rate * window)), window)
        self.notices = RateLimitItemPerSecond(1, window)
        self.limiter = FixedWindowRateLimiter(storage)

    async def allow(self, user_id: int) -> tuple[bool, bool]:
        """Whether to process the user's update, and whether to send the notice."""
        user = str(user_id)
        try:
            if await self.limiter.hit(self.updates, "updates", user):
                return True, False
            return False, await self.limiter.hit(self.notices, "notice", user)
        except (StorageError, RedisError, OSError) as exc:
            # Throttling protects the bot; an unreachable Redis must not silence it.
            logger.warning("throttling: the store is unreachable (%s); letting the update in", exc)
            return True, False


def memory_throttle(rate: float, burst: int) -> Throttle:
    """A throttle whose windows live in this process."""
    return Throttle(MemoryLimits(), rate, burst)


def redis_throttle(redis: Redis, prefix: str, rate: float, burst: int) -> Throttle:
    """A throttle whose windows live in Redis, on the connections of ``redis``."""
    # The URI only picks the storage; its connections come from the shared pool.
    storage = RedisLimits(
        "async+redis://",
        implementation="redispy",
        key_prefix=f"{prefix}:throttle",
        wrap_exceptions=True,
        # A documented option that the library's annotations leave out.
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]
    )
    return Throttle(storage, rate, burst)


class RecentUpdates:
    """The update ids received lately, so an update Telegram delivers again is handled once.

    Telegram redelivers a webhook update when our answer did not reach it in time. Ids are
    remembered for ``seconds`` in Redis (shared by every instance), else the last ``size``
    in this process.
    """

    def __init__(
        self, redis: Redis | None, prefix: str, *, seconds: int = 3600, size: int = 10_000
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.seconds = seconds
        self.size = size
        self.seen: OrderedDict[int, None] = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        """Remember the update; whether it is new (False: a repeat, to be skipped)."""
        if self.redis is not None:
            try:
                stored = await self.redis.set(
                    f"{self.prefix}:update:{update_id}", b"1", nx=True, ex=self.seconds
                )
            except (RedisError, OSError) as exc:
                logger.warning("updates: Redis is unreachable (%s); handling the update", exc)
                return True
            return bool(stored)
        if update_id in self.seen:
            return False
        self.seen[update_id] = None
        while len(self.seen) > self.size:
            self.seen.popitem(last=False)
        return True


@dataclass
class SharedState:
    """The FSM storage, event isolation, throttle and received updates of one instance."""

    storage: BaseStorage
    events_isolation: BaseEventIsolation
    throttle: Throttle
    updates: RecentUpdates
    redis: Redis | None = None


def build_shared_state(settings: Settings) -> SharedState:
    """Redis-backed state when REDIS_URL is set, in-process state otherwise."""
    if not settings.redis_url:
        return SharedState(
            storage=MemoryStorage(),
            events_isolation=SimpleEventIsolation(),
            throttle=memory_throttle(settings.throttle_rate, settings.throttle_burst),
            updates=RecentUpdates(None, settings.redis_prefix),
        )
    redis = Redis.from_url(settings.redis_url)
    keys = DefaultKeyBuilder(prefix=settings.redis_prefix, with_bot_id=True)
    return SharedState(
        storage=RedisStorage(redis, key_builder=keys),
        # One reader's updates are handled one at a time, whichever instance gets them.
        events_isolation=RedisEventIsolation(redis, key_builder=keys),
        throttle=redis_throttle(
            redis, settings.redis_prefix, settings.throttle_rate, settings.throttle_burst
        ),
        updates=RecentUpdates(redis, settings.redis_prefix),
        redis=redis,
    )
