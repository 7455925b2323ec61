"""A Bot API request middleware that waits out short flood-control pauses (429) once or twice."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

logger = logging.getLogger(__name__)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Interactive replies: on 429 wait ``retry_after`` (if short) and try again."""

    def __init__(self, *, attempts: int = 2, longest_wait: float = 5.0) -> None:
        self.attempts = attempts
        self.longest_wait = longest_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.longest_wait:
                    raise
                logger.info(
                    "flood control on %s: waiting %ss", method.__api_method__, exc.retry_after
                )
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")
