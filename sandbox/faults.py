"""Faults and flood control: injected Bot API failures, and Telegram's rate limits."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from http import HTTPStatus


@dataclass
class Fault:
    """An injected failure for the next `remaining` calls of `method` ("*" matches any)."""

    method: str
    error_code: int
    retry_after: int | None
    description: str
    remaining: int


def _description(error_code: int, retry_after: int | None) -> str:
    if error_code == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after}"
    if error_code == HTTPStatus.FORBIDDEN:
        return "Forbidden: bot was blocked by the user"
    if error_code == HTTPStatus.BAD_REQUEST:
        return "Bad Request"
    try:
        return HTTPStatus(error_code).phrase
    except ValueError:
        return "Error"


class FaultList:
    """The injected faults, consumed one per matching call in the order they were added."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(
        self,
        method: str,
        error_code: int,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
    ) -> None:
        """Fail the next `count` calls of `method` ("*" for any); Telegram's wording by default."""
        if error_code == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        if description is None:
            description = _description(error_code, retry_after)
        self.faults.append(Fault(method, error_code, retry_after, description, count))

    def clear(self) -> None:
        """Remove every injected fault."""
        self.faults.clear()

    def take(self, method: str) -> Fault | None:
        """The fault this call of `method` meets, if any (one use of it is consumed)."""
        for fault in self.faults:
            if fault.method in ("*", method) or fault.method.lower() == method.lower():
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None


class FloodGate:
    """Token buckets: about 30 messages/s in all and 1/s per chat after a small burst."""

    def __init__(self, global_rate: float = 30.0, chat_rate: float = 1.0, chat_burst: int = 3):
        self.global_rate = global_rate
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.global_bucket = (global_rate, time.monotonic())
        self.chat_buckets: dict[int, tuple[float, float]] = {}

    @staticmethod
    def _refill(bucket: tuple[float, float], rate: float, cap: float, now: float) -> float:
        tokens, updated = bucket
        return min(cap, tokens + (now - updated) * rate)

    def take(self, chat_id: int) -> int | None:
        """Consume one send; the seconds to wait if refused."""
        now = time.monotonic()
        total = self._refill(self.global_bucket, self.global_rate, self.global_rate, now)
        bucket = self.chat_buckets.get(chat_id, (float(self.chat_burst), now))
        chat = self._refill(bucket, self.chat_rate, float(self.chat_burst), now)
        if total < 1:
            self.global_bucket = (total, now)
            return max(1, math.ceil((1 - total) / self.global_rate))
        if chat < 1:
            self.chat_buckets[chat_id] = (chat, now)
            return max(1, math.ceil((1 - chat) / self.chat_rate))
        self.global_bucket = (total - 1, now)
        self.chat_buckets[chat_id] = (chat - 1, now)
        return None
