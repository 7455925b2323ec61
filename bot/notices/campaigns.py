"""How campaign notices read: the campaign message, the approval request and its buttons.

Numbers, shares and lists are written as the reader's locale writes them (Babel); the
campaign console, /reach and /stats use the same helpers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from html import escape
from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from babel.dates import format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

from bot.models import DbInt, Role
from bot.notices.registry import BABEL_LOCALES, Context, renders
from bot.services.campaigns.notices import (
    CampaignApproval,
    CampaignBody,
    CampaignMessage,
    campaign_link,
    list_link,
)
from bot.services.outbox import Button, OutboxMessage

# A button's label is plain text; a long list title is cut to this.
LABEL_CHARS = 60
# Babel's English list style is the plain "en" one ("A, B, and C"); Chinese joins with 、.
LIST_LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


class ControlAction(StrEnum):
    PAUSE = "p"
    RESUME = "r"
    CANCEL = "c"
    APPROVE = "a"
    REFRESH = "f"


class CampaignControl(CallbackData, prefix="cpc"):
    """Pause, resume, cancel, approve or refresh one campaign (admins only)."""

    required_role: ClassVar[Role] = Role.ADMIN

    action: ControlAction
    campaign_id: DbInt


def _locale(language: str) -> str:
    return BABEL_LOCALES.get(language, BABEL_LOCALES["en"])


def number(value: float, language: str, pattern: str = "#,##0") -> str:
    """A number as the reader's locale writes it."""
    return format_decimal(value, format=pattern, locale=_locale(language))


def percent(share: float, language: str, *, decimals: int = 0) -> str:
    """A share (0.125) as a percentage ("12.5%") in the reader's locale."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return format_percent(share, format=pattern, locale=_locale(language))


def points(value: float, language: str) -> str:
    """A signed difference with one decimal ("+6.2", "-1.0")."""
    return number(value, language, "+#,##0.0;-#,##0.0")


def listing(items: Iterable[str], language: str) -> str:
    """Items joined as the language lists them: "A, B, and C"; "甲、乙和丙"."""
    words = list(items)
    return format_list(words, locale=LIST_LOCALES.get(language, "en")) if words else ""


def short_moment(moment: datetime, ctx: Context) -> str:
    """Month, day and time in the alliance's zone ("12-24 19:30")."""
    local = moment.astimezone(ctx.settings.zone)
    return format_datetime(local, "MM-dd HH:mm", locale=_locale(ctx.language))


def time_of_day(moment: datetime, ctx: Context) -> str:
    """The time of a moment in the alliance's zone ("19:30")."""
    local = moment.astimezone(ctx.settings.zone)
    return format_datetime(local, "HH:mm", locale=_locale(ctx.language))


def body_html(body: CampaignBody, ctx: Context) -> str:
    """A campaign's message in the reader's language (the admin's HTML, or the event list)."""
    if body.text:
        for language in (ctx.language, ctx.settings.default_language, "zh", "en"):
            if body.text.get(language):
                return body.text[language]
        return next(iter(body.text.values()))
    lines = [ctx._("<b>Reading events near you this fortnight</b>")]
    for event in body.events:
        lines.append(
            "• "
            + ctx._("{title} — {when}").format(
                title=escape(ctx.name(event.title)), when=short_moment(event.starts_at, ctx)
            )
        )
    lines.append(ctx._("Tap the button to see the first one and sign up."))
    return "\n".join(lines)


@renders(CampaignMessage)
def campaign_message(notice: CampaignMessage, ctx: Context) -> OutboxMessage:
    """What a treated recipient gets: the message and the button that opens its page."""
    link = campaign_link(notice.bot_username, notice.campaign_id)
    buttons: tuple[tuple[Button, ...], ...] = (
        (Button(label=ctx._("📖 Find out more"), url=link),),
    )
    if notice.reading_list_id is not None and notice.reading_list is not None:
        label = ctx._("📚 Reading list: {title}").format(title=ctx.name(notice.reading_list))
        url = list_link(notice.bot_username, notice.reading_list_id)
        buttons += ((Button(label=label[:LABEL_CHARS], url=url),),)
    return OutboxMessage(text={ctx.language: body_html(notice.body, ctx)}, buttons=buttons)


@renders(CampaignApproval)
def _approval(notice: CampaignApproval, ctx: Context) -> OutboxMessage:
    events = ctx.ngettext(
        "{count} event near them", "{count} events near them", notice.events
    ).format(count=number(notice.events, ctx.language))
    request = ctx.ngettext(
        "A campaign for the under-reached districts ({districts}) is ready: "
        "{count} reader, {events}. Launch it?",
        "A campaign for the under-reached districts ({districts}) is ready: "
        "{count} readers, {events}. Launch it?",
        notice.readers,
    ).format(
        districts=escape(listing(notice.district_codes, ctx.language)),
        count=number(notice.readers, ctx.language),
        events=events,
    )
    launch = CampaignControl(action=ControlAction.APPROVE, campaign_id=notice.campaign_id)
    return OutboxMessage(
        text={ctx.language: request + "\n\n" + body_html(notice.body, ctx)},
        buttons=((Button(label=ctx._("🚀 Launch"), callback_data=launch.pack()),),),
    )
