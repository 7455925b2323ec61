"""What a failed Bot API call means for its row: definitely not delivered, or maybe delivered.

Telegram's own answers (an error code) are definite: the message was not delivered. A
timeout, or a connection that broke after the request was written, or an answer that could
not be read, leaves it open: Telegram may have delivered the message. Only a connection that
was never made (refused, no such host) is certainly not a delivery.
"""

from __future__ import annotations

import enum
import socket

from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiohttp import ClientConnectorError


class Halt(Exception):
    """The bot token is refused: stop sending for a while."""


class Failure(enum.Enum):
    """What a failed call means for its row."""

    BLOCKED = "blocked"  # 403: the reader blocked the bot
    REFUSED = "refused"  # Telegram refuses this message for good (400, 404, 413...)
    UNAUTHORIZED = "unauthorized"  # the token is refused: stop everything
    TRANSIENT = "transient"  # not delivered; try again later (5xx, no connection)
    AMBIGUOUS = "ambiguous"  # may have been delivered (timeout, connection lost mid-request)


# Connection errors raised before anything was written.
_NEVER_CONNECTED = (ClientConnectorError, ConnectionRefusedError, socket.gaierror)


def _never_connected(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _NEVER_CONNECTED):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def classify(exc: BaseException) -> Failure | None:
    """The meaning of a failed send; None for an error the worker does not handle."""
    if isinstance(exc, TelegramForbiddenError):
        return Failure.BLOCKED
    if isinstance(
        exc, TelegramBadRequest | TelegramNotFound | TelegramEntityTooLarge | TelegramMigrateToChat
    ):
        return Failure.REFUSED
    if isinstance(exc, TelegramUnauthorizedError):
        return Failure.UNAUTHORIZED
    if isinstance(exc, TelegramNetworkError | TimeoutError | ClientDecodeError | OSError):
        return Failure.TRANSIENT if _never_connected(exc) else Failure.AMBIGUOUS
    if isinstance(exc, TelegramAPIError | AiogramError):
        return Failure.TRANSIENT
    return None


def describe(exc: BaseException) -> str:
    """The reason stored for a failed send."""
    if isinstance(exc, TimeoutError):
        return "timeout: no answer from the Bot API in time"
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"
