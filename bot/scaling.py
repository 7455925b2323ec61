"""State shared by several bot instances through Redis: FSM, per-reader locks, throttling."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.config import Settings

logger = logging.getLogger(__name__)

# A token bucket per user, refilled from Redis's own clock so instances agree on time.
# Returns {allowed, notify}: notify is 1 once per run of refusals (the polite notice).
_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'warned')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
local warned = state[3] == '1'
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local allowed = 0
local notify = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
  warned = false
else
  if not warned then notify = 1 end
  warned = true
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now),
  'warned', warned and '1' or '0')
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return {allowed, notify}
"""


class RedisThrottle:
    """Per-user token buckets in Redis, so the limit holds across instances."""

    def __init__(self, redis: Redis, prefix: str, rate: float, burst: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.rate = rate
        self.burst = burst
        self.script = redis.register_script(_TOKEN_BUCKET)

    async def allow(self, user_id: int) -> tuple[bool, bool]:
        """Whether to process the user's update, and whether to send the notice."""
        try:
            allowed, notify = await self.script(
                keys=[f"{self.prefix}:throttle:{user_id}"], args=[self.rate, self.burst]
            )
        except (RedisError, OSError) as exc:
            # Throttling protects the bot; an unreachable Redis must not silence it.
            logger.warning("throttling: Redis is unreachable (%s); letting the update in", exc)
            return True, False
        return bool(allowed), bool(notify)


@dataclass
class SharedState:
    """The FSM storage, event isolation and throttle of one instance."""

    storage: BaseStorage
    events_isolation: BaseEventIsolation
    redis: Redis | None = None
    throttle: RedisThrottle | None = None


def build_shared_state(settings: Settings) -> SharedState:
    """Redis-backed state when REDIS_URL is set, in-process state otherwise."""
    if not settings.redis_url:
        return SharedState(storage=MemoryStorage(), events_isolation=SimpleEventIsolation())
    redis = Redis.from_url(settings.redis_url)
    keys = DefaultKeyBuilder(prefix=settings.redis_prefix, with_bot_id=True)
    return SharedState(
        storage=RedisStorage(redis, key_builder=keys),
        # One reader's updates are handled one at a time, whichever instance gets them.
        events_isolation=RedisEventIsolation(redis, key_builder=keys),
        redis=redis,
        throttle=RedisThrottle(
            redis, settings.redis_prefix, settings.throttle_rate, settings.throttle_burst
        ),
    )
