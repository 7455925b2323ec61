"""Catch-alls, registered last: unknown commands, stray text, old or forged buttons."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.models import Reader
from handlers.callbacks import Origin
from handlers.filters import Onboarded
from handlers.keyboards import language_keyboard, main_menu
from handlers.start import Onboarding, greeting

MAX_TEXT = 300


async def not_onboarded(message: Message, state: FSMContext, reader: Reader) -> None:
    """Anything but /start from somebody who has not finished onboarding."""
    await state.set_state(Onboarding.language)
    await message.answer(
        _("Let's get you set up first — it takes three taps.") + "\n\n" + greeting(reader),
        reply_markup=language_keyboard(Origin.ONBOARDING),
    )


async def cancel_anything(message: Message, state: FSMContext, raw_state: str | None) -> None:
    """/cancel that no form answered itself: end whatever is open."""
    if raw_state is None:
        await message.answer(_("There is nothing to cancel."), reply_markup=main_menu())
        return
    await state.clear()
    await message.answer(_("Cancelled. Nothing was changed."), reply_markup=main_menu())


async def unknown_command(message: Message) -> None:
    """A slash command nobody handles."""
    name = (message.text or "").split()[0][:33]
    await message.answer(
        _("I don't know the command {command}. Send /help to see what I can do.").format(
            command=escape(name)
        )
    )


async def stray_text(message: Message) -> None:
    """Text outside any dialog."""
    text = message.text or ""
    if len(text) > MAX_TEXT:
        await message.answer(
            _(
                "That message is too long for me ({length} characters). "
                "Please send at most {limit}."
            ).format(length=len(text), limit=MAX_TEXT)
        )
        return
    await message.answer(
        _("I didn't understand that. Use the menu below, or send /help."), reply_markup=main_menu()
    )


async def unsupported_message(message: Message) -> None:
    """Stickers, voice, photos and the like where nothing expects them."""
    await message.answer(
        _("I can't read that kind of message here. Please send text, or use the menu."),
        reply_markup=main_menu(),
    )


async def stale_button(query: CallbackQuery) -> None:
    """A button from an old message, or callback data nobody recognises."""
    await query.answer(_("This button is no longer active."), show_alert=True)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(not_onboarded, ~Onboarded())
    router.message.register(cancel_anything, Command("cancel"))
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(stray_text, F.text)
    router.message.register(unsupported_message)
    router.callback_query.register(stale_button)
    return router
