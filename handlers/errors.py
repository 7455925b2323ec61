"""The last line of defence: log the failure with context, apologise, never show a traceback."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import choose_language
from bot.middlewares import describe_update
from bot.models import Reader
from handlers.drafts import FormExpired

logger = logging.getLogger(__name__)


def callback_prefixes() -> set[str]:
    """The prefixes of every typed callback data the bot defines."""
    found: set[str] = set()
    pending: list[type[CallbackData]] = [CallbackData]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            prefix = getattr(sub, "__prefix__", None)
            if isinstance(prefix, str):
                found.add(prefix)
    return found


def failing_handler(exception: BaseException) -> str:
    """The innermost handler function in the traceback (module:function)."""
    name = "?"
    for frame, _lineno in traceback.walk_tb(exception.__traceback__):
        module = frame.f_globals.get("__name__", "")
        if module.startswith("handlers."):
            name = f"{module}:{frame.f_code.co_name}"
    return name


def _language(i18n: I18n, data: dict[str, Any]) -> str:
    """The reader's language for an error reply (the locale middleware's context is gone)."""
    user = data.get("event_from_user")
    reader: Reader | None = data.get("reader")
    return choose_language(
        reader.language if reader else None,
        user.language_code if user else None,
        i18n.default_locale,
    )


async def on_error(event: ErrorEvent, i18n: I18n, **data: Any) -> bool:
    """Log the error with the update and reader ids, and apologise in the reader's language."""
    update = event.update
    user = data.get("event_from_user")
    reader: Reader | None = data.get("reader")
    logger.error(
        "handler failed update_id=%s user_id=%s reader_id=%s handler=%s event=%s",
        update.update_id,
        user.id if user else None,
        reader.id if reader else None,
        failing_handler(event.exception),
        describe_update(update, callback_prefixes()),
        exc_info=event.exception,
    )
    with i18n.context(), i18n.use_locale(_language(i18n, data)):
        apology = _("Sorry, something went wrong on our side. Please try again in a moment.")
    try:
        if update.message is not None:
            await update.message.answer(apology)
        elif update.callback_query is not None:
            query = update.callback_query
            try:
                await query.answer(apology, show_alert=True)
            except TelegramBadRequest:
                # The handler had already answered the button; say it in the chat instead.
                if query.message is not None and query.bot is not None:
                    await query.bot.send_message(query.message.chat.id, apology)
    except Exception:  # the apology itself must never raise
        logger.exception("could not send the apology for update_id=%s", update.update_id)
    return True


async def on_form_expired(event: ErrorEvent, i18n: I18n, **data: Any) -> bool:
    """A wizard's draft is gone: leave the wizard and name the command that starts it again."""
    assert isinstance(event.exception, FormExpired)
    state: FSMContext | None = data.get("state")
    if state is not None:
        await state.clear()
    with i18n.context(), i18n.use_locale(_language(i18n, data)):
        text = _("This form has expired. Please start again with {command}.").format(
            command=event.exception.command
        )
    update = event.update
    if update.message is not None:
        await update.message.answer(text)
    elif update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    return True


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.errors.register(on_form_expired, ExceptionTypeFilter(FormExpired))
    router.errors.register(on_error)
    return router
