"""The work card: facts and holdings nearest first, from a result, a ``wk_<id>`` link or Back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from html import escape
from typing import Any
from urllib.parse import quote

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader
from bot.services.errors import NotFoundError
from bot.services.ils.live import LiveAvailability
from bot.services.members import describe_opening_hours
from bot.services.roles import RoleSet
from bot.services.search.work_card import (
    LibraryHoldings,
    WorkCard,
    card_from_results,
    work_card,
)
from handlers.common import distance_text, edit_message
from handlers.deeplinks import DeepLinks
from handlers.holds.callbacks import reserve_rows
from handlers.ils.age import as_of_text
from handlers.keyboards import main_menu
from handlers.reading.callbacks import also_reserved_block, mark_read_row
from handlers.reading.list_pick import add_to_list_rows
from handlers.search.callbacks import AuthorWorks, ResultsPage, WorkOpen, button
from handlers.search.wording import (
    TITLE_CHARS,
    authors_plain,
    clip,
    gone_text,
    kind_label,
    language_label,
    library_name,
    origin_note,
    status_label,
    title_html,
    title_plain,
)
from handlers.subjects import clc_line

WORK_LINK_PREFIX = "wk"
CARD_LIBRARIES = 10
# Telegram takes 4,096 characters; the card stops adding libraries well before that.
CARD_BUDGET = 3500
PLACE_CHARS = 100
SUMMARY_CHARS = 300
# Other editions and translations listed on the card, each also a button opening its card.
CARD_EDITIONS = 5
EDITION_TITLE_CHARS = 80
EDITION_BUTTON_CHARS = 40


def _holding_lines(holding: LibraryHoldings, language: str, zone: tzinfo) -> list[str]:
    place = holding.library
    head = f"• <b>{escape(library_name(place, language))}</b>"
    if place.distance_km is not None:
        head += f" — {distance_text(place.distance_km)}"
    head += f" · {kind_label(place.kind)}"
    statuses = ", ".join(
        status_label(status) if count == 1 else f"{status_label(status)} ×{count}"
        for status, count in holding.statuses
    )
    icon = "✅" if holding.available else "⏳"
    detail = f"   {icon} {statuses}"
    if holding.as_of is not None:
        detail += " · " + as_of_text(holding.as_of, zone, language)
    elif holding.connected:
        detail += " · " + _("live")
    if holding.call_numbers:
        detail += " · " + _("call number {call_number}").format(
            call_number=escape(clip(", ".join(holding.call_numbers), 80))
        )
    lines = [head, detail]
    hours = describe_opening_hours(place.opening_hours or "", language)
    address = place.display_address(language)
    where = [escape(clip(part, PLACE_CHARS)) for part in (address, hours) if part]
    if address and place.opening_hours:
        lines.append(f"   📍 {where[0]} · 🕘 {where[1]}")
    elif address:
        lines.append(f"   📍 {where[0]}")
    elif place.opening_hours:
        lines.append(f"   🕘 {where[0]}")
    return lines


def _edition_lines(card: WorkCard) -> list[str]:
    """Other editions and translations: title, language and year, a few at most."""
    if not card.editions:
        return []
    lines = ["", _("<b>Other editions and translations</b>")]
    for edition in card.editions[:CARD_EDITIONS]:
        year = str(edition.year) if edition.year else ""
        facts = [title_plain(edition, EDITION_TITLE_CHARS), language_label(edition.language), year]
        lines.append("• " + escape(" · ".join(fact for fact in facts if fact)))
    hidden = len(card.editions) - CARD_EDITIONS
    if hidden > 0:
        lines.append(_("…and {count} more.").format(count=hidden))
    return lines


def card_text(card: WorkCard, language: str, zone: tzinfo = UTC) -> str:
    """The work card: facts, then each holding library, nearest first."""
    work = card.work
    lines = [f"📖 {title_html(work)}"]
    facts = [
        authors_plain(work),
        str(work.year) if work.year else "",
        work.publisher or "",
        card.edition or "",
    ]
    facts_line = " · ".join(clip(fact, TITLE_CHARS) for fact in facts if fact)
    if facts_line:
        lines.append(escape(facts_line))
    if card.isbns:
        lines.append("ISBN " + escape(", ".join(card.isbns[:3])))
    if card.series:
        lines.append(escape(_("Series: {series}").format(series=clip(card.series, TITLE_CHARS))))
    if card.clc_numbers:
        lines.append(escape(clc_line(card.clc_numbers)))
    if card.summary:
        lines.append(f"<i>{escape(clip(card.summary, SUMMARY_CHARS))}</i>")
    lines.extend(_edition_lines(card))
    lines.append("")
    if not card.holdings:
        lines.append(_("No library in the alliance has a copy yet."))
        return "\n".join(lines)
    lines.append(_("<b>Where to find it</b>"))
    lines.append("<i>" + origin_note(card.origin, language) + "</i>")
    shown = 0
    for holding in card.holdings[:CARD_LIBRARIES]:
        more = _holding_lines(holding, language, zone)
        if shown and len("\n".join(lines + more)) > CARD_BUDGET:
            break
        lines.extend(more)
        shown += 1
    hidden = len(card.holdings) - shown
    if hidden > 0:
        lines.append(_("…and {count} more libraries.").format(count=hidden))
    return "\n".join(lines)


def work_link(bot_username: str, work_id: int) -> str:
    """The deep link that opens a work's card in the bot."""
    return f"https://t.me/{bot_username}?start={WORK_LINK_PREFIX}_{work_id}"


def work_card_keyboard(
    card: WorkCard,
    *,
    bot_username: str,
    back: ResultsPage | None = None,
    extra_rows: Sequence[Sequence[InlineKeyboardButton]] = (),
) -> InlineKeyboardMarkup:
    """The card's buttons: ``extra_rows`` first (the holds feature's Reserve row goes there),
    then More by this author, Share, and Back to results."""
    rows = [list(row) for row in extra_rows]
    work_id = card.work.work_id
    if card.author:
        rows.append([button(_("👤 More by this author"), AuthorWorks(work_id=work_id))])
    link = work_link(bot_username, work_id)
    share_url = (
        f"https://t.me/share/url?url={quote(link, safe='')}"
        f"&text={quote(title_plain(card.work), safe='')}"
    )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("📤 Share"), switch_inline_query=f"{WORK_LINK_PREFIX}_{work_id}"
            ),
            InlineKeyboardButton(text=_("🔗 Send the link"), url=share_url),
        ]
    )
    for edition in card.editions[:CARD_EDITIONS]:
        label = "📚 " + title_plain(edition, EDITION_BUTTON_CHARS)
        rows.append([button(label, WorkOpen(work_id=edition.work_id))])
    if back is not None:
        rows.append([button(_("⬅️ Back to results"), back)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def bot_username(bot: Bot) -> str:
    """The bot's @username (without the @), for links."""
    me = await bot.me()
    return me.username or ""


async def open_work(
    query: CallbackQuery,
    callback_data: WorkOpen,
    session: AsyncSession,
    reader: Reader,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    ils: LiveAvailability,
    roles: RoleSet | None = None,
) -> None:
    """A result tapped: show the work's card in place of the results."""
    try:
        card = await card_from_results(
            session,
            reader,
            callback_data.work_id,
            callback_data.search_id,
            live=ils,
            live_libraries=CARD_LIBRARIES,
        )
    except NotFoundError:
        await query.answer(gone_text(), show_alert=True)
        return
    await query.answer()
    username = await bot_username(bot)
    also = await also_reserved_block(session, card.work.work_id, i18n.current_locale, username)
    await edit_message(
        query.message,
        card_text(card, i18n.current_locale, settings.zone) + also,
        work_card_keyboard(
            card,
            bot_username=username,
            back=callback_data.back(),
            extra_rows=[
                *reserve_rows(card.work.work_id),
                mark_read_row(card.work.work_id),
                *add_to_list_rows(card.work.work_id, roles),
            ],
        ),
    )


async def open_work_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``wk_<id>``: send the work's card."""
    session = data["session"]
    reader = data["reader"]
    i18n = data["i18n"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    settings = data["settings"]
    ils = data["ils"]
    roles = data.get("roles")
    assert isinstance(i18n, I18n) and message.bot is not None
    assert isinstance(settings, Settings) and isinstance(ils, LiveAvailability)
    try:
        card = await work_card(
            session,
            reader,
            int(argument) if argument.isdigit() else 0,
            live=ils,
            live_libraries=CARD_LIBRARIES,
        )
    except NotFoundError:
        await message.answer(gone_text(), reply_markup=main_menu())
        return
    username = await bot_username(message.bot)
    also = await also_reserved_block(session, card.work.work_id, i18n.current_locale, username)
    await message.answer(
        card_text(card, i18n.current_locale, settings.zone) + also,
        reply_markup=work_card_keyboard(
            card,
            bot_username=username,
            extra_rows=[
                *reserve_rows(card.work.work_id),
                mark_read_row(card.work.work_id),
                *add_to_list_rows(card.work.work_id, roles),
            ],
        ),
        disable_web_page_preview=bool(also),
    )


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start wk_<id>`` to the work card."""
    deep_links.register(WORK_LINK_PREFIX, open_work_link)


def build_router() -> Router:
    """A result's card, in place of the results."""
    router = Router(name=__name__)
    router.callback_query.register(open_work, WorkOpen.filter())
    return router
