"""/help and the main-menu buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.commands import commands_for
from bot.services.roles import RoleSet
from handlers.filters import Onboarded
from handlers.keyboards import MENU_SEARCH, main_menu
from handlers.subjects import browse_button


async def show_help(message: Message, roles: RoleSet) -> None:
    """What the bot can do, and the commands this reader may use."""
    lines = [
        _("📚 Bookbridge searches every library of the alliance at once."),
        "",
        _("• Type a title, an author or an ISBN to search."),
        _("• Reserve a copy at the library nearest to you, or have it sent there."),
        _("• Find reading events and sign up in one tap."),
        _("• Share your location to see the nearest libraries first."),
        "",
        _("Commands:"),
    ]
    lines += [f"/{spec.name} — {_(spec.description)}" for spec in commands_for(roles.roles)]
    await message.answer("\n".join(lines), reply_markup=main_menu())


async def search_prompt(message: Message) -> None:
    """The Search button: explain what to type."""
    await message.answer(
        _(
            "Type a title, an author or an ISBN, in Chinese or English, and I will search "
            "every library in the alliance."
        ),
        reply_markup=browse_button(),
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.message.register(show_help, Command("help"))
    router.message.register(search_prompt, F.text == MENU_SEARCH)
    return router
