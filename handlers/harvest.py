"""/admin → Catalogue harvest: each connected library's last harvest, its counts, its last error."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Role, display_name
from bot.notices.campaigns import number
from bot.notices.registry import Context
from bot.services.harvest.sources import SourceView, list_sources
from handlers.admin import back_to_menu, fit_lines
from handlers.admin_callbacks import AdminMenu
from handlers.filters import HasRole


def error_reason(kind: str | None, detail: str) -> str:
    """Why the last harvest stopped, in the reader's language (the detail kept as given)."""
    reasons = {
        "unreachable": _("the repository could not be reached"),
        "http": _("the repository answered with an HTTP error"),
        "oai": _("the repository answered with an OAI-PMH error"),
        "bad_resumption_token": _(
            "the repository refused the resumption token; the next harvest starts again "
            "from the last complete one"
        ),
        "format": _("that metadata format cannot be harvested"),
        "invalid_xml": _("the answer was not well-formed XML"),
        "unsafe_xml": _("the answer declared a DTD or entities and was refused"),
    }
    reason = reasons.get(kind or "", _("the harvest stopped"))
    return f"{reason} ({escape(detail[:300])})"


def _source_lines(source: SourceView, ctx: Context) -> list[str]:
    name = display_name(source.library_name, source.library_name_en, ctx.language)
    origin = escape(source.url)
    if source.set_spec:
        origin += " · " + _("set {set}").format(set=escape(source.set_spec))
    lines = [
        f"🏛 <b>{escape(source.library_code)}</b> {escape(name)}",
        f"   {source.prefix} · {origin}",
    ]
    if source.last_success_at is None:
        lines.append("   " + _("Not harvested completely yet."))
    else:
        lines.append(
            "   " + _("Last complete harvest: {when}").format(when=ctx.when(source.last_success_at))
        )
    if source.last_started_at is not None:
        lines.append(
            "   "
            + _("Last run: {records} records, {deleted} deleted, {skipped} skipped").format(
                records=number(source.records_harvested, ctx.language),
                deleted=number(source.records_deleted, ctx.language),
                skipped=number(source.records_skipped, ctx.language),
            )
        )
    if source.error is not None and source.error_at is not None:
        lines.append(
            "   "
            + _("⚠️ Last error ({when}): {reason}").format(
                when=ctx.when(source.error_at), reason=error_reason(source.error_kind, source.error)
            )
        )
    return lines


def harvest_text(sources: list[SourceView], settings: Settings, ctx: Context) -> str:
    """The console's harvest section."""
    lines = [_("<b>Catalogue harvest (OAI-PMH)</b>")]
    if not sources:
        lines.append(
            _("No library is connected. On the server: {command}").format(
                command="bookbridge libraries connect CODE --oai-pmh URL"
            )
        )
        return "\n".join(lines)
    if settings.harvest_interval_minutes:
        lines.append(
            _("Every library is harvested every {minutes} minutes.").format(
                minutes=settings.harvest_interval_minutes
            )
        )
    else:
        lines.append(_("Scheduled harvests are off; run bookbridge harvest on the server."))
    for source in sources:
        lines.append("")
        lines += _source_lines(source, ctx)
    return fit_lines(lines)


async def harvest_section(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """The admin menu's Catalogue harvest."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    sources = await list_sources(session)
    ctx = Context(language=i18n.current_locale, translator=i18n, settings=settings)
    await callback.message.answer(
        harvest_text(sources, settings, ctx),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[back_to_menu()]]),
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(
        harvest_section, AdminMenu.filter(F.section == "harvest"), HasRole(Role.ADMIN)
    )
    return router
