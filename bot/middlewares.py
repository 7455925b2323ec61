"""Update middlewares: throttling, one DB session per update, the reader, their language."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, InlineQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import choose_language
from bot.models import Reader, utcnow
from bot.scaling import Throttle
from bot.services.readers import Contact, touch_reader
from bot.services.roles import role_set

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ThrottlingMiddleware(BaseMiddleware):
    """Per-user flood control (see ``Throttle``): a refused update gets one polite notice."""

    def __init__(self, i18n: I18n, throttle: Throttle) -> None:
        self.i18n = i18n
        self.throttle = throttle

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        allowed, notify = await self.throttle.allow(user.id)
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
