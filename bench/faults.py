"""Faults on the bot's side of the wire: requests that time out before or after delivery.

The sandbox refuses calls as Telegram does (429, 5xx: ``Sandbox.add_fault``); what it cannot
show is the network losing an answer. ``FaultySession`` wraps the bot's real session and
makes chosen calls time out — before the request reaches the Bot API, or after the Bot API
has delivered the message (the answer is lost) — the way aiogram reports a timeout. Calls
are numbered per method, so a run is the same every time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot


class FaultySession(BaseSession):
    """Passes calls to ``inner``; numbered calls of ``method`` time out before or after."""

    def __init__(self, inner: BaseSession, *, method: str = "sendMessage") -> None:
        super().__init__(api=inner.api, timeout=inner.timeout)
        self.inner = inner
        self.method = method
        self.calls = 0
        # Call numbers (1, 2, ...) of ``method`` that time out before reaching the Bot API,
        # and those that time out after it delivered the message.
        self.before: set[int] = set()
        self.after: set[int] = set()
        # Awaited once a numbered call has been delivered, before its answer is returned
        # (a benchmark cancels the worker there: killed mid-send).
        self.on_delivered: dict[int, Callable[[], Awaitable[None]]] = {}
        self.lost_before = 0
        self.lost_after = 0

    def time_out(self, *, before: Any = (), after: Any = ()) -> None:
        """Make these call numbers time out (before or after delivery)."""
        self.before.update(before)
        self.after.update(after)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        """The inner session's answer, unless this call is one that times out."""
        if method.__api_method__ != self.method:
            return await self.inner.make_request(bot, method, timeout)
        self.calls += 1
        number = self.calls
        if number in self.before:
            self.lost_before += 1
            raise _timeout(method)
        result = await self.inner.make_request(bot, method, timeout)
        if hook := self.on_delivered.pop(number, None):
            await hook()
        if number in self.after:
            self.lost_after += 1
            raise _timeout(method)
        return result

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """The inner session's download."""
        async for chunk in self.inner.stream_content(
            url, headers, timeout, chunk_size, raise_for_status
        ):
            yield chunk

    async def close(self) -> None:
        """Close the inner session."""
        await self.inner.close()


def _timeout(method: TelegramMethod[Any]) -> TelegramNetworkError:
    # As aiogram's AiohttpSession reports a request that got no answer in time.
    error = TelegramNetworkError(method=method, message="Request timeout error")
    error.__cause__ = TimeoutError()
    return error
