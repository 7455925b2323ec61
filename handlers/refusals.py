"""Polite refusals for commands that need a role the reader does not hold."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.commands import guarded_commands
from bot.models import Role
from handlers.filters import Onboarded


def needed_role(role: Role) -> str:
    """Who a guarded command is for, in words."""
    names = {
        Role.LIBRARIAN: _("librarians"),
        Role.ORGANISER: _("event organisers"),
        Role.ADMIN: _("alliance admins"),
        Role.READER: _("readers"),
    }
    return names[role]


async def refuse(message: Message, command: CommandObject) -> None:
    """Reached only when the guarded router's role filter refused the reader."""
    role = guarded_commands()[command.command.lower()]
    await message.answer(
        _("Sorry, /{command} is only for {who}. Send /help to see what you can do.").format(
            command=command.command, who=needed_role(role)
        )
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.message.register(refuse, Command(*guarded_commands()))
    return router
