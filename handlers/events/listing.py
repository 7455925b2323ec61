"""The Events menu: upcoming events, filtered by date, kind, audience, district or nearness."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import EventAudience, EventCategory, Reader, utcnow
from bot.services import directory
from bot.services.errors import InvalidInputError
from bot.services.events.discovery import EventFilter, When, discover, districts_with_events
from bot.services.events.records import Listing
from handlers.common import edit_message
from handlers.events.callbacks import (
    EventFilterPick,
    EventList,
    EventOpen,
    FilterKind,
    MyEventsOpen,
)
from handlers.events.labels import (
    audience_label,
    button_title,
    category_label,
    joined,
    page_buttons,
    places_line,
    when_label,
)
from handlers.keyboards import MENU_EVENTS, district_label, location_keyboard

PAGE_SIZE = 6
DISTRICT_PAGE = 10


def _filter_of(data: EventList | EventFilterPick) -> EventFilter:
    try:
        when = When(data.when)
        category = EventCategory(data.cat) if data.cat else None
        audience = EventAudience(data.aud) if data.aud else None
    except ValueError:
        raise InvalidInputError("filter") from None
    return EventFilter(
        when=when,
        category=category,
        audience=audience,
        district_id=data.dist or None,
    )


def list_data(data: EventList | EventFilterPick, **changes: Any) -> EventList:
    """The list with the same filters as ``data``, from its first page, changed by ``changes``."""
    values = {
        "when": data.when,
        "cat": data.cat,
        "aud": data.aud,
        "dist": data.dist,
        "near": data.near,
        "page": 0,
    }
    values.update(changes)
    return EventList(**values)


def _pick(data: EventList | EventFilterPick, kind: FilterKind, page: int = 0) -> str:
    return EventFilterPick(
        kind=kind,
        when=data.when,
        cat=data.cat,
        aud=data.aud,
        dist=data.dist,
        near=data.near,
        page=page,
    ).pack()


async def _chosen(
    session: AsyncSession, wanted: EventFilter, data: EventList, language: str
) -> list[str]:
    chosen = [when_label(wanted.when)]
    if wanted.category:
        chosen.append(category_label(wanted.category))
    if wanted.audience:
        chosen.append(audience_label(wanted.audience))
    if data.dist:
        district = await directory.district(session, data.dist)
        if district is not None:
            chosen.append(district_label(district, language))
    if data.near:
        chosen.append(_("near me"))
    return chosen


def _listing_line(number: int, listing: Listing, settings: Settings, language: str) -> str:
    event = listing.event
    starts = event.starts_at.astimezone(settings.zone)
    title = escape(event.display_title(language))
    line = f"{number}. {starts:%m-%d %H:%M} <b>{title}</b> — " + places_line(listing)
    if listing.distance_km is not None:
        line += " · " + _("{km} km").format(km=f"{listing.distance_km:.1f}")
    return line


def _filter_rows(data: EventList, wanted: EventFilter) -> list[list[InlineKeyboardButton]]:
    dates = [
        InlineKeyboardButton(
            text=("✓ " if wanted.when is when else "") + when_label(when),
            callback_data=list_data(data, when=when.value).pack(),
        )
        for when in (When.TODAY, When.WEEK, When.WEEKEND, When.ALL)
    ]
    pickers = [
        InlineKeyboardButton(text=_("Category"), callback_data=_pick(data, FilterKind.CATEGORY)),
        InlineKeyboardButton(text=_("Audience"), callback_data=_pick(data, FilterKind.AUDIENCE)),
        InlineKeyboardButton(text=_("District"), callback_data=_pick(data, FilterKind.DISTRICT)),
    ]
    near = [
        InlineKeyboardButton(
            text=("✓ " if data.near else "") + _("📍 Near me"),
            callback_data=list_data(data, near=0 if data.near else 1).pack(),
        ),
        InlineKeyboardButton(text=_("🎟 My events"), callback_data=MyEventsOpen().pack()),
    ]
    return [dates, pickers, near]


async def render_list(
    session: AsyncSession, reader: Reader, settings: Settings, data: EventList, language: str
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The list text and keyboard; None when "near me" needs a location first."""
    wanted = _filter_of(data)
    if data.near:
        if reader.latitude is None or reader.longitude is None:
            return None
        wanted = EventFilter(
            when=wanted.when,
            category=wanted.category,
            audience=wanted.audience,
            district_id=wanted.district_id,
            near=(reader.latitude, reader.longitude),
        )
    listings, more = await discover(
        session,
        wanted,
        now=utcnow(),
        zone=settings.zone,
        limit=PAGE_SIZE,
        offset=data.page * PAGE_SIZE,
    )
    chosen = await _chosen(session, wanted, data, language)
    lines = [_("🎉 Reading events") + " · " + joined(chosen, language)]
    builder = InlineKeyboardBuilder()
    if not listings:
        lines.append("")
        lines.append(_("No events match these filters. Try other dates or filters."))
    for number, listing in enumerate(listings, start=1 + data.page * PAGE_SIZE):
        lines.append(_listing_line(number, listing, settings, language))
        builder.row(
            InlineKeyboardButton(
                text=f"{number}. {button_title(listing.event, language)}",
                callback_data=EventOpen(event_id=listing.event.id).pack(),
            )
        )
    paging = page_buttons(data.page, more, lambda page: list_data(data, page=page).pack())
    if paging:
        builder.row(*paging)
    for row in _filter_rows(data, wanted):
        builder.row(*row)
    return "\n".join(lines), builder.as_markup()


async def _ask_location(message: Message) -> None:
    await message.answer(
        _(
            "To find events near you, share your location with the button below, "
            "then tap “📍 Near me” again."
        ),
        reply_markup=location_keyboard(skippable=False),
    )


async def events_menu(
    message: Message, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """The Events button or /events: upcoming events with filters."""
    rendered = await render_list(session, reader, settings, EventList(), i18n.current_locale)
    assert rendered is not None
    await message.answer(rendered[0], reply_markup=rendered[1])


async def event_list(
    query: CallbackQuery,
    callback_data: EventList,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A filter changed or a page turned."""
    try:
        rendered = await render_list(session, reader, settings, callback_data, i18n.current_locale)
    except InvalidInputError:
        await query.answer(_("That list is out of date."), show_alert=True)
        return
    await query.answer()
    if rendered is None:
        if isinstance(query.message, Message):
            await _ask_location(query.message)
        return
    await edit_message(query.message, *rendered)


async def pick_category(query: CallbackQuery, callback_data: EventFilterPick) -> None:
    """The kinds of event, each a list with that kind."""
    builder = InlineKeyboardBuilder()
    for category in EventCategory:
        builder.button(
            text=category_label(category),
            callback_data=list_data(callback_data, cat=category.value),
        )
    builder.button(text=_("Any kind"), callback_data=list_data(callback_data, cat=""))
    builder.adjust(2)
    await query.answer()
    await edit_message(query.message, _("Which kind of event?"), builder.as_markup())


async def pick_audience(query: CallbackQuery, callback_data: EventFilterPick) -> None:
    """The audiences, each a list for that audience."""
    builder = InlineKeyboardBuilder()
    for audience in EventAudience:
        if audience is EventAudience.EVERYONE:
            continue
        builder.button(
            text=audience_label(audience),
            callback_data=list_data(callback_data, aud=audience.value),
        )
    builder.button(text=_("Anyone"), callback_data=list_data(callback_data, aud=""))
    builder.adjust(2)
    await query.answer()
    await edit_message(query.message, _("Who is it for?"), builder.as_markup())


async def pick_district(
    query: CallbackQuery, callback_data: EventFilterPick, session: AsyncSession, i18n: I18n
) -> None:
    """The districts with events (a page of them), each a list for that district."""
    page = max(0, callback_data.page)
    districts, more = await districts_with_events(
        session, utcnow(), limit=DISTRICT_PAGE, offset=page * DISTRICT_PAGE
    )
    builder = InlineKeyboardBuilder()
    for district in districts:
        builder.button(
            text=district_label(district, i18n.current_locale),
            callback_data=list_data(callback_data, dist=district.id),
        )
    builder.button(text=_("Every district"), callback_data=list_data(callback_data, dist=0))
    builder.adjust(2)
    paging = page_buttons(page, more, lambda to: _pick(callback_data, FilterKind.DISTRICT, page=to))
    if paging:
        builder.row(*paging)
    await query.answer()
    await edit_message(query.message, _("Which district?"), builder.as_markup())


def build_router() -> Router:
    """A fresh router with the list's handlers."""
    router = Router(name=__name__)
    router.message.register(events_menu, F.text == MENU_EVENTS)
    router.message.register(events_menu, Command("events"))
    router.callback_query.register(event_list, EventList.filter())
    picks = (
        (pick_category, FilterKind.CATEGORY),
        (pick_audience, FilterKind.AUDIENCE),
        (pick_district, FilterKind.DISTRICT),
    )
    for handler, kind in picks:
        router.callback_query.register(handler, EventFilterPick.filter(F.kind == kind))
    return router
