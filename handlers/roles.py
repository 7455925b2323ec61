"""Admin commands for roles: /grant, /revoke, /roles."""

from __future__ import annotations

from html import escape

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.menus import publish_commands_for
from bot.models import Library, Reader, Role
from bot.services import directory
from bot.services import roles as role_service
from bot.services.errors import InvalidInputError, NotFoundError
from handlers.filters import HasRole

USAGE_GRANT = "/grant @username|ID organiser|librarian|admin [LIBRARY_CODE]"
USAGE_REVOKE = "/revoke @username|ID organiser|librarian|admin [LIBRARY_CODE]"


def role_name(role: Role) -> str:
    """A role's name in words."""
    names = {
        Role.READER: _("reader"),
        Role.LIBRARIAN: _("librarian"),
        Role.ORGANISER: _("organiser"),
        Role.ADMIN: _("admin"),
    }
    return names[role]


async def _parse(
    session: AsyncSession,
    message: Message,
    args: str | None,
    usage: str,
    *,
    librarian_needs_library: bool,
) -> tuple[Reader, Role, Library | None] | None:
    """Reader, role and optional library from the command's arguments, or None after replying."""
    parts = (args or "").split()
    if len(parts) not in (2, 3) or len(args or "") > 200:
        await message.answer(_("Usage: {usage}").format(usage=usage))
        return None
    try:
        role = role_service.parse_role(parts[1])
    except InvalidInputError:
        await message.answer(
            _("Unknown role “{role}”. Roles: organiser, librarian, admin.").format(
                role=parts[1][:40]
            )
        )
        return None
    try:
        target = await role_service.find_reader(session, parts[0])
    except InvalidInputError:
        await message.answer(_("Name the person as @username or by their Telegram id."))
        return None
    except NotFoundError:
        await message.answer(
            _("I don't know {who} yet: they need to open the bot and press Start first.").format(
                who=escape(parts[0][:40])
            )
        )
        return None
    library = None
    if len(parts) == 3:
        try:
            library = await role_service.find_library(session, parts[2])
        except NotFoundError:
            codes = await directory.library_codes(session)
            await message.answer(
                _("No library has the code “{code}”. Known codes: {codes}").format(
                    code=escape(parts[2][:40]), codes=", ".join(codes) or "—"
                )
            )
            return None
    if librarian_needs_library and role is Role.LIBRARIAN and library is None:
        await message.answer(_("A librarian belongs to one library: add its code."))
        return None
    return target, role, library


async def grant(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    bot: Bot,
    settings: Settings,
) -> None:
    """Give a reader a role."""
    parsed = await _parse(session, message, command.args, USAGE_GRANT, librarian_needs_library=True)
    if parsed is None:
        return
    target, role, library = parsed
    try:
        await role_service.grant_role(session, reader, target, role, library)
    except role_service.AlreadyGrantedError:
        await message.answer(_("They already have that role."))
        return
    await publish_commands_for(bot, session, target, settings)
    await message.answer(
        _("Done: {name} is now {role}{where}.").format(
            name=escape(target.first_name),
            role=role_name(role),
            where=f" ({library.code})" if library else "",
        )
    )


async def revoke(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    bot: Bot,
    settings: Settings,
) -> None:
    """Take a role away (a librarian role without a library code: from every library)."""
    parsed = await _parse(
        session, message, command.args, USAGE_REVOKE, librarian_needs_library=False
    )
    if parsed is None:
        return
    target, role, library = parsed
    try:
        await role_service.revoke_role(session, reader, target, role, library)
    except role_service.NotGrantedError:
        await message.answer(_("They don't have that role."))
        return
    except role_service.LastAdminError:
        await message.answer(
            _(
                "{name} is the alliance's only admin: make someone else an admin first "
                "(/grant @username admin), or nobody could grant roles any more."
            ).format(name=escape(target.first_name))
        )
        return
    await publish_commands_for(bot, session, target, settings)
    await message.answer(
        _("Done: {name} is no longer {role}.").format(
            name=escape(target.first_name), role=role_name(role)
        )
    )


async def list_roles(message: Message, session: AsyncSession) -> None:
    """Who holds which role."""
    grants = await role_service.all_grants(session)
    if not grants:
        await message.answer(
            _("Nobody holds a role yet (bootstrap admins come from the settings).")
        )
        return
    lines = [_("Roles:")]
    for grant in grants:
        who = (
            f"@{grant.reader.username}" if grant.reader.username else str(grant.reader.telegram_id)
        )
        where = f" — {grant.library.code}" if grant.library else ""
        lines.append(
            f"• {role_name(grant.role)}: {escape(grant.reader.first_name)} ({escape(who)}){where}"
        )
    await message.answer("\n".join(lines))


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.message.register(grant, Command("grant"))
    router.message.register(revoke, Command("revoke"))
    router.message.register(list_roles, Command("roles"))
    return router
