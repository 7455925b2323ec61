"""Update middlewares: throttling, one DB session per update, the reader, their language."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, InlineQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import choose_language
from bot.models import Reader, utcnow
from bot.services.readers import Contact, touch_reader
from bot.services.roles import role_set

if TYPE_CHECKING:
    from bot.scaling import RedisThrottle

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class ThrottlingMiddleware(BaseMiddleware):
    """Per-user token bucket: a burst, then ``rate`` updates per second; one polite notice."""

    def __init__(
        self,
        i18n: I18n,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 100_000,
        shared: RedisThrottle | None = None,
    ) -> None:
        self.i18n = i18n
        # With several instances the buckets live in Redis; otherwise in this process.
        self.shared = shared
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_users = max_users
        self.buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def _allow(self, user_id: int) -> tuple[bool, bool]:
        """Whether to process the update, and whether to send the notice."""
        now = self.clock()
        bucket = self.buckets.pop(user_id, None) or _Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= self.burst:
            # A full bucket means the flood is over; the next one gets a notice again.
            bucket.warned = False
        self.buckets[user_id] = bucket
        while len(self.buckets) > self.max_users:
            self.buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True, False
        notify = not bucket.warned
        bucket.warned = True
        return False, notify

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        if self.shared is not None:
            allowed, notify = await self.shared.allow(user.id)
        else:
            allowed, notify = self._allow(user.id)
        if allowed:
            return await handler(event, data)
        logger.info("throttled user_id=%s", user.id)
        if notify and isinstance(event, Update):
            language = choose_language(None, user.language_code, self.i18n.default_locale)
            with self.i18n.context(), self.i18n.use_locale(language):
                notice = _("You are sending messages very fast. Please wait a moment.")
            if event.message is not None:
                await event.message.answer(notice)
            elif event.callback_query is not None:
                await event.callback_query.answer(notice)
        return None


class DbSessionMiddleware(BaseMiddleware):
    """One AsyncSession per update, closed (and rolled back if uncommitted) afterwards."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            return await handler(event, data)


class ReaderMiddleware(BaseMiddleware):
    """Loads the Reader (creating them on first contact) and their roles."""

    def __init__(self, settings: Settings) -> None:
        self.admin_ids = frozenset(settings.admin_ids)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or user.is_bot:
            return await handler(event, data)
        session: AsyncSession = data["session"]
        # Only a private chat tells us where to write to the person; elsewhere keep what we had.
        private_chat_id = chat.id if chat is not None and chat.type == "private" else None
        reader = await touch_reader(
            session,
            Contact(
                telegram_id=user.id,
                chat_id=private_chat_id or user.id,
                first_name=user.first_name,
                username=user.username,
            ),
            utcnow(),
        )
        data["reader"] = reader
        data["roles"] = role_set(reader, reader.roles, self.admin_ids)
        return await handler(event, data)


class ReaderLocaleMiddleware(I18nMiddleware):
    """The reader's language, else Telegram's language_code, else the alliance default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        reader: Reader | None = data.get("reader")
        user: User | None = data.get("event_from_user")
        return choose_language(
            reader.language if reader else None,
            user.language_code if user else None,
            self.i18n.default_locale,
        )


def describe_update(update: Update, callback_prefixes: Collection[str] = ()) -> str:
    """A short, text-free description of an update for logs (no message content).

    Callback data is named by its prefix only when it is one of ``callback_prefixes``:
    forged data can carry anything a person typed.
    """
    event = update.event
    kind = update.event_type
    if isinstance(event, Message):
        return f"{kind}:{event.content_type}"
    if isinstance(event, CallbackQuery):
        prefix = (event.data or "").split(":", 1)[0]
        if prefix not in callback_prefixes:
            prefix = f"?len={len(event.data or '')}"
        return f"{kind}:{prefix}"
    if isinstance(event, InlineQuery):
        return f"{kind}:len={len(event.query)}"
    return kind
