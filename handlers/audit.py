"""/audit: the audit log, newest first, paged, filtered by actor (@username or id) or action."""

from __future__ import annotations

import json
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, Role
from bot.services import audit_log
from bot.services import roles as role_service
from bot.services.audit_log import AuditEntry, AuditPage
from bot.services.errors import InvalidInputError, NotFoundError
from handlers.admin import fit_lines
from handlers.admin_callbacks import AdminMenu, AuditNav
from handlers.common import edit_message
from handlers.filters import HasRole
from handlers.roles import CANDIDATES_SHOWN, candidate_label, candidates_text, reader_label

PAGE_SIZE = 10
USAGE = "/audit [@username|ID] [ACTION]"
DETAILS_CHARS = 160


def _entry_line(entry: AuditEntry, settings: Settings) -> str:
    when = entry.created_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    if entry.actor_name is None:
        who = _("(system)")
    else:
        handle = (
            f"@{entry.actor_username}" if entry.actor_username else str(entry.actor_telegram_id)
        )
        who = f"{entry.actor_name} ({handle})"
    target = (
        f" → {entry.target_type} #{entry.target_id}"
        if entry.target_type and entry.target_id
        else (f" → {entry.target_type}" if entry.target_type else "")
    )
    details = {key: value for key, value in entry.details.items() if value not in (None, "", [])}
    extra = ""
    if details:
        text = "; ".join(f"{key}: {_detail(value)}" for key, value in details.items())
        extra = "\n   " + (text if len(text) <= DETAILS_CHARS else text[: DETAILS_CHARS - 1] + "…")
    return f"{when} · <b>{escape(entry.action)}</b> · {escape(who)}{escape(target)}{escape(extra)}"


def _detail(value: object) -> str:
    """One detail as a person reads it: lists as "a, b", anything nested as JSON."""
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _view(
    result: AuditPage, settings: Settings, actor_id: int, actor: Reader | None, action: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    heading = _("📜 Audit log, newest first: {total} entries (page {page} of {pages}).").format(
        total=result.total, page=result.page + 1, pages=result.pages
    )
    lines = [heading]
    if actor is not None:
        lines.append(_("By: {who}").format(who=reader_label(actor)))
    if action:
        lines.append(_("Action: {action}").format(action=escape(action)))
    lines += [_entry_line(entry, settings) for entry in result.entries]
    if not result.entries:
        lines.append(_("Nothing recorded."))
    buttons = []
    if result.page > 0:
        buttons.append(
            InlineKeyboardButton(
                text=_("◀️ Newer"),
                callback_data=AuditNav(page=result.page - 1, actor=actor_id, action=action).pack(),
            )
        )
    if result.page + 1 < result.pages:
        buttons.append(
            InlineKeyboardButton(
                text=_("Older ▶️"),
                callback_data=AuditNav(page=result.page + 1, actor=actor_id, action=action).pack(),
            )
        )
    markup = InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None
    return fit_lines(lines), markup


async def audit_command(
    message: Message, command: CommandObject, session: AsyncSession, settings: Settings
) -> None:
    """/audit [@username|ID] [ACTION]: the first page."""
    parts = (command.args or "").split()
    reference: str | None = None
    action = ""
    if len(parts) > 2 or len(command.args or "") > 100:
        await message.answer(_("Usage: {usage}").format(usage=USAGE))
        return
    for part in parts:
        if part.startswith("@") or part.isdigit():
            if reference is not None:
                await message.answer(_("Usage: {usage}").format(usage=USAGE))
                return
            reference = part
            continue
        try:
            action = audit_log.check_action_filter(part)
        except InvalidInputError:
            await message.answer(
                _(
                    "“{action}” is not an action. Actions look like role.grant or "
                    "suggestion.approve; a word alone (role) shows its whole area."
                ).format(action=escape(part[:40]))
            )
            return
    actor: Reader | None = None
    if reference is not None:
        try:
            actor = await role_service.find_reader(session, reference)
        except role_service.AmbiguousReaderError as shared:
            await _ask_which(message, reference[:40], shared.candidates, action, settings)
            return
        except (InvalidInputError, NotFoundError):
            await message.answer(_("I don't know {who}.").format(who=escape(reference[:40])))
            return
    await _send_page(message, session, settings, actor.id if actor else 0, action, new=True)


async def _ask_which(
    message: Message, reference: str, candidates: list[Reader], action: str, settings: Settings
) -> None:
    """A @username several readers share: whose entries, with their ids to choose from."""
    builder = InlineKeyboardBuilder()
    for candidate in candidates[:CANDIDATES_SHOWN]:
        builder.button(
            text=candidate_label(candidate),
            callback_data=AuditNav(page=0, actor=candidate.id, action=action),
        )
    builder.adjust(1)
    await message.answer(
        candidates_text(reference, candidates, settings), reply_markup=builder.as_markup()
    )


async def _send_page(
    message: Message | None,
    session: AsyncSession,
    settings: Settings,
    actor_id: int,
    action: str,
    *,
    new: bool,
    page: int = 0,
) -> None:
    result = await audit_log.audit_page(
        session, page=page, page_size=PAGE_SIZE, actor_id=actor_id or None, action=action or None
    )
    actor = None
    if actor_id:
        try:
            actor = await role_service.reader_by_id(session, actor_id)
        except NotFoundError:
            actor = None
    text, markup = _view(result, settings, actor_id, actor, action)
    if new and message is not None:
        await message.answer(text, reply_markup=markup)
    else:
        await edit_message(message, text, markup)


async def audit_page(
    callback: CallbackQuery, callback_data: AuditNav, session: AsyncSession, settings: Settings
) -> None:
    """◀️ / ▶️: another page with the same filters."""
    try:
        action = audit_log.check_action_filter(callback_data.action) if callback_data.action else ""
    except InvalidInputError:
        await callback.answer(_("That button is not valid."), show_alert=True)
        return
    await callback.answer()
    message = callback.message if isinstance(callback.message, Message) else None
    await _send_page(
        message, session, settings, callback_data.actor, action, new=False, page=callback_data.page
    )


async def audit_section(callback: CallbackQuery, session: AsyncSession, settings: Settings) -> None:
    """The admin menu's Audit log: the first page, and how to filter."""
    await callback.answer()
    if isinstance(callback.message, Message):
        await _send_page(callback.message, session, settings, 0, "", new=True)
        await callback.message.answer(
            _("Filter with {usage}, e.g. /audit @someone or /audit suggestion.").format(
                usage=escape(USAGE)
            )
        )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    admin = HasRole(Role.ADMIN)
    router.message.filter(admin)
    router.callback_query.filter(admin)
    router.message.register(audit_command, Command("audit"))
    router.callback_query.register(audit_page, AuditNav.filter())
    router.callback_query.register(audit_section, AdminMenu.filter(F.section == "audit"))
    return router
