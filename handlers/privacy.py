"""/mydata: everything stored about the reader as a JSON file; /forgetme, with confirmation."""

from __future__ import annotations

import json
import secrets
import time
from enum import StrEnum

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, utcnow
from bot.services import privacy
from handlers.common import edit_message

# A confirmation button works for this long after /forgetme, and only in that reader's chat.
CONFIRM_WINDOW_S = 600
_TOKEN_KEY = "forget_token"
_ISSUED_KEY = "forget_issued"


class ForgetAction(StrEnum):
    CONFIRM = "y"
    CANCEL = "n"


class ForgetMe(CallbackData, prefix="fgt"):
    """The answer to “delete all my data?”, tied to the one question it answers."""

    action: ForgetAction
    token: str


async def my_data(message: Message, session: AsyncSession, reader: Reader) -> None:
    """Send the reader a JSON file of everything stored about them."""
    data = await privacy.export_reader(session, reader, utcnow())
    content = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode()
    await message.answer_document(
        BufferedInputFile(content, filename=f"bookbridge-{reader.card_number}.json"),
        caption=_(
            "Everything Bookbridge stores about you. /forgetme deletes it and anonymises "
            "your history."
        ),
    )


async def forget_me(message: Message, state: FSMContext) -> None:
    """Ask for confirmation before forgetting the reader."""
    token = secrets.token_urlsafe(12)
    await state.update_data({_TOKEN_KEY: token, _ISSUED_KEY: time.time()})
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("🗑 Yes, delete my data"),
                    callback_data=ForgetMe(action=ForgetAction.CONFIRM, token=token).pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    text=_("Keep my data"),
                    callback_data=ForgetMe(action=ForgetAction.CANCEL, token=token).pack(),
                )
            ],
        ]
    )
    await message.answer(
        _(
            "This deletes your profile, roles, follows, location and messages, cancels your "
            "active holds and event places, and removes your name from your searches and "
            "feedback. Counts stay in anonymous statistics. It cannot be undone.\n\n"
            "Delete your data?"
        ),
        reply_markup=markup,
    )


async def forget_answer(
    query: CallbackQuery,
    callback_data: ForgetMe,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Confirmed or cancelled: only the newest question, asked in this chat, recently."""
    data = await state.get_data()
    issued = data.get(_ISSUED_KEY)
    fresh = isinstance(issued, int | float) and time.time() - issued <= CONFIRM_WINDOW_S
    if not fresh or not secrets.compare_digest(str(data.get(_TOKEN_KEY, "")), callback_data.token):
        await query.answer(
            _("This confirmation is no longer valid. Send /forgetme again."), show_alert=True
        )
        return
    await state.clear()
    if callback_data.action is ForgetAction.CANCEL:
        await query.answer()
        await edit_message(query.message, _("Nothing was deleted."))
        return
    await privacy.forget_reader(session, reader, utcnow(), settings=settings)
    await query.answer()
    await edit_message(
        query.message,
        _("Done: your data is deleted. If you write to me again, you start as a new reader."),
    )
    if query.message is not None and query.bot is not None:
        await query.bot.send_message(
            query.message.chat.id, _("Goodbye!"), reply_markup=ReplyKeyboardRemove()
        )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    # No onboarding needed: anyone who ever wrote to the bot has a right to their data.
    router.message.register(my_data, Command("mydata"))
    router.message.register(forget_me, Command("forgetme"))
    router.callback_query.register(forget_answer, ForgetMe.filter())
    return router
