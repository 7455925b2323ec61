"""Admin commands for roles: /grant, /revoke, /roles (and the choice when a @username is shared)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.menus import publish_commands_for
from bot.models import Library, Reader, Role
from bot.services import directory
from bot.services import roles as role_service
from bot.services.errors import InvalidInputError, NotFoundError
from handlers.admin_callbacks import RoleChange, RoleTarget
from handlers.common import remove_buttons
from handlers.filters import HasRole

USAGE_GRANT = "/grant @username|ID organiser|librarian|admin [LIBRARY_CODE]"
USAGE_REVOKE = "/revoke @username|ID organiser|librarian|admin [LIBRARY_CODE]"
# At most this many readers are offered when a @username is shared.
CANDIDATES_SHOWN = 8


def role_name(role: Role) -> str:
    """A role's name in words."""
    names = {
        Role.READER: _("reader"),
        Role.LIBRARIAN: _("librarian"),
        Role.ORGANISER: _("organiser"),
        Role.ADMIN: _("admin"),
    }
    return names[role]


def reader_label(reader: Reader) -> str:
    """A reader as an admin tells them apart: name, @username and Telegram id (escaped)."""
    if reader.username:
        return _("{name} (@{username}, id {id})").format(
            name=escape(reader.first_name), username=escape(reader.username), id=reader.telegram_id
        )
    return _("{name} (id {id})").format(name=escape(reader.first_name), id=reader.telegram_id)


def candidates_text(reference: str, candidates: list[Reader], settings: Settings) -> str:
    """Who a shared @username may be: each with their id and when they were last seen."""

    def seen(moment: datetime | None) -> str:
        if moment is None:
            return _("never seen")
        when = moment.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        return _("last seen {when}").format(when=when)

    lines = [
        _("Several readers are known as {who}. Which one do you mean?").format(
            who=escape(reference)
        )
    ]
    lines += [
        f"• {reader_label(reader)} — {seen(reader.last_seen_at)}"
        for reader in candidates[:CANDIDATES_SHOWN]
    ]
    return "\n".join(lines)


def candidate_label(reader: Reader) -> str:
    """A choice button: plain text, the name and the Telegram id."""
    return f"{reader.first_name[:30]} · id {reader.telegram_id}"


@dataclass(frozen=True)
class RoleRequest:
    """What /grant or /revoke asked for; ``candidates`` when the @username is shared."""

    reference: str
    role: Role
    library: Library | None
    target: Reader | None
    candidates: list[Reader]


async def _parse(
    session: AsyncSession,
    message: Message,
    args: str | None,
    usage: str,
    *,
    librarian_needs_library: bool,
) -> RoleRequest | None:
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
    try:
        target = await role_service.find_reader(session, parts[0])
    except role_service.AmbiguousReaderError as shared:
        return RoleRequest(parts[0][:40], role, library, None, shared.candidates)
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
    return RoleRequest(parts[0], role, library, target, [])


async def _ask_which(
    message: Message, request: RoleRequest, change: RoleChange, settings: Settings
) -> None:
    builder = InlineKeyboardBuilder()
    for candidate in request.candidates[:CANDIDATES_SHOWN]:
        builder.button(
            text=candidate_label(candidate),
            callback_data=RoleTarget(
                change=change,
                reader=candidate.id,
                role=request.role,
                library=request.library.id if request.library else 0,
            ),
        )
    builder.adjust(1)
    await message.answer(
        candidates_text(request.reference, request.candidates, settings),
        reply_markup=builder.as_markup(),
    )


async def _grant(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    target: Reader,
    role: Role,
    library: Library | None,
    bot: Bot,
    settings: Settings,
) -> None:
    try:
        await role_service.grant_role(session, reader, target, role, library)
    except role_service.AlreadyGrantedError:
        await message.answer(_("They already have that role."))
        return
    await publish_commands_for(bot, session, target, settings)
    await message.answer(
        _("Done: {name} is now {role}{where}.").format(
            name=reader_label(target),
            role=role_name(role),
            where=f" ({escape(library.code)})" if library else "",
        )
    )


async def _revoke(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    target: Reader,
    role: Role,
    library: Library | None,
    bot: Bot,
    settings: Settings,
) -> None:
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
            name=reader_label(target), role=role_name(role)
        )
    )


async def grant(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    bot: Bot,
    settings: Settings,
) -> None:
    """Give a reader a role."""
    request = await _parse(
        session, message, command.args, USAGE_GRANT, librarian_needs_library=True
    )
    if request is None:
        return
    if request.target is None:
        await _ask_which(message, request, RoleChange.GRANT, settings)
        return
    await _grant(
        message, session, reader, request.target, request.role, request.library, bot, settings
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
    request = await _parse(
        session, message, command.args, USAGE_REVOKE, librarian_needs_library=False
    )
    if request is None:
        return
    if request.target is None:
        await _ask_which(message, request, RoleChange.REVOKE, settings)
        return
    await _revoke(
        message, session, reader, request.target, request.role, request.library, bot, settings
    )


async def _chosen(
    callback: CallbackQuery, callback_data: RoleTarget, session: AsyncSession
) -> tuple[Message, Reader, Library | None] | None:
    """The message, reader and library a choice button names, or None after saying why not."""
    if not isinstance(callback.message, Message):
        await callback.answer()
        return None
    library = None
    try:
        target = await role_service.reader_by_id(session, callback_data.reader)
        if callback_data.library:
            library = await directory.library(session, callback_data.library)
            if library is None:
                raise NotFoundError("library")
    except NotFoundError:
        await callback.answer(_("It no longer exists."), show_alert=True)
        return None
    await callback.answer()
    await remove_buttons(callback.message)
    return callback.message, target, library


async def grant_chosen(
    callback: CallbackQuery,
    callback_data: RoleTarget,
    session: AsyncSession,
    reader: Reader,
    bot: Bot,
    settings: Settings,
) -> None:
    """The reader meant by a shared @username, tapped: give them the role."""
    chosen = await _chosen(callback, callback_data, session)
    if chosen is not None:
        message, target, library = chosen
        await _grant(message, session, reader, target, callback_data.role, library, bot, settings)


async def revoke_chosen(
    callback: CallbackQuery,
    callback_data: RoleTarget,
    session: AsyncSession,
    reader: Reader,
    bot: Bot,
    settings: Settings,
) -> None:
    """The reader meant by a shared @username, tapped: take the role away."""
    chosen = await _chosen(callback, callback_data, session)
    if chosen is not None:
        message, target, library = chosen
        await _revoke(message, session, reader, target, callback_data.role, library, bot, settings)


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
    admin = HasRole(Role.ADMIN)
    router.message.filter(admin)
    router.callback_query.filter(admin)
    router.message.register(grant, Command("grant"))
    router.message.register(revoke, Command("revoke"))
    router.message.register(list_roles, Command("roles"))
    router.callback_query.register(grant_chosen, RoleTarget.filter(F.change == RoleChange.GRANT))
    router.callback_query.register(revoke_chosen, RoleTarget.filter(F.change == RoleChange.REVOKE))
    return router
