"""A reader's own registrations for events to come, a page at a time."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, RegistrationStatus, utcnow
from bot.services.events.registration import my_events
from handlers.common import edit_message
from handlers.events.callbacks import EventList, EventOpen, MyEventsOpen
from handlers.events.labels import BUTTON_TITLE, button_title, page_buttons, status_label

PAGE_SIZE = 10


async def show_my_events(
    query: CallbackQuery,
    callback_data: MyEventsOpen,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The reader's registrations for events to come."""
    language = i18n.current_locale
    page = max(0, callback_data.page)
    mine, more = await my_events(
        session, reader, now=utcnow(), limit=PAGE_SIZE, offset=page * PAGE_SIZE
    )
    await query.answer()
    builder = InlineKeyboardBuilder()
    if not mine and page == 0:
        text = _("You are not registered for any upcoming event.")
    else:
        lines = [_("🎟 Your events:")]
        for item in mine:
            starts = item.event.starts_at.astimezone(settings.zone)
            status = ""
            if item.registration.status is not RegistrationStatus.CANCELLED:
                status = status_label(item.registration.status, item.waitlist_rank)
            title = escape(item.event.display_title(language))
            lines.append(f"• {starts:%m-%d %H:%M} {title} — {status}")
            builder.row(
                InlineKeyboardButton(
                    text=button_title(item.event, language, BUTTON_TITLE + 8),
                    callback_data=EventOpen(event_id=item.event.id).pack(),
                )
            )
        text = "\n".join(lines)
    paging = page_buttons(page, more, lambda to: MyEventsOpen(page=to).pack())
    if paging:
        builder.row(*paging)
    builder.row(InlineKeyboardButton(text=_("◀️ Events"), callback_data=EventList().pack()))
    await edit_message(query.message, text, builder.as_markup())


def build_router() -> Router:
    """A fresh router with the reader's own list."""
    router = Router(name=__name__)
    router.callback_query.register(show_my_events, MyEventsOpen.filter())
    return router
