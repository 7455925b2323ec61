"""The ``cmp_<id>`` deep link: the campaign's message, its event or reading list."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import CampaignStatus, Event, Reader, utcnow
from bot.notices.campaigns import body_html, listing, time_of_day
from bot.notices.registry import Context
from bot.services.campaigns.links import OpenedCampaign, open_link
from bot.services.campaigns.notices import CampaignBody
from bot.services.errors import NotFoundError
from handlers.campaigns.launch import bot_username
from handlers.search import work_link

EVENT_LINK_PREFIX = "ev"
LIST_PREVIEW = 10
DESCRIPTION_CHARS = 600
BUTTON_TITLE_CHARS = 40


def _event_lines(event: Event, ctx: Context) -> list[str]:
    lines = [
        "📅 <b>" + escape(event.title) + "</b>",
        _("{start} – {end}").format(
            start=ctx.when(event.starts_at), end=time_of_day(event.ends_at, ctx)
        ),
    ]
    venue = event.venue_library
    place = venue.display_name(ctx.language) if venue is not None else event.place_name
    if place:
        lines.append("📍 " + escape(place))
    if event.description:
        lines.append(escape(event.description[:DESCRIPTION_CHARS]))
    return lines


def _page(
    opened: OpenedCampaign, ctx: Context, username: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [body_html(CampaignBody.of(opened.campaign.message), ctx)]
    rows: list[list[InlineKeyboardButton]] = []
    if opened.event is not None:
        lines += ["", *_event_lines(opened.event, ctx)]
        link = f"https://t.me/{username}?start={EVENT_LINK_PREFIX}_{opened.event.id}"
        rows.append([InlineKeyboardButton(text=_("📅 Details and sign-up"), url=link)])
    if opened.works:
        lines += ["", _("<b>Reading list</b>")]
        for work in opened.works[:LIST_PREVIEW]:
            authors = listing(work.authors[:2], ctx.language)
            lines.append("📖 " + escape(work.title) + (f" — {escape(authors)}" if authors else ""))
            rows.append(
                [
                    InlineKeyboardButton(
                        text=work.title[:BUTTON_TITLE_CHARS], url=work_link(username, work.id)
                    )
                ]
            )
    if opened.campaign.status is CampaignStatus.CANCELLED:
        lines += ["", _("(This campaign has ended.)")]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def open_campaign_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``cmp_<id>``: count the open, show the linked event or reading list."""
    session, reader = data["session"], data["reader"]
    settings, i18n = data["settings"], data["i18n"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    assert isinstance(settings, Settings) and isinstance(i18n, I18n)
    campaign_id = int(argument) if argument.isdigit() and len(argument) < 10 else 0
    try:
        opened = await open_link(session, reader, campaign_id, now=utcnow())
    except NotFoundError:
        await message.answer(_("This campaign is no longer available."))
        return
    ctx = Context(language=i18n.current_locale, translator=i18n, settings=settings)
    username = await bot_username(message.bot) if message.bot else ""
    text, markup = _page(opened, ctx, username)
    await message.answer(text, reply_markup=markup)
