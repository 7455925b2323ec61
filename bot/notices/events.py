"""How event notices read: offers, promotions, reminders, feedback prompts, moves, messages.

The buttons they carry are packed from the callback data defined here, which the events
handlers filter on: one shape, one place.
"""

from __future__ import annotations

import enum
from html import escape

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt
from bot.notices.registry import Context, renders
from bot.services.events.calendar import calendar_file, calendar_filename
from bot.services.events.notices import (
    EventCancelled,
    EventMoved,
    EventReminder,
    EventShown,
    FeedbackWanted,
    OfferExpired,
    OrganiserMessage,
    PlaceConfirmed,
    PlaceOffered,
)
from bot.services.events.times import local_time, span_text
from bot.services.outbox import Attachment, Button, OutboxMessage


class OfferReply(enum.StrEnum):
    """The answers to a timed offer."""

    ACCEPT = "a"
    DECLINE = "d"


class OfferAnswer(CallbackData, prefix="evo"):
    """Accept or decline a timed offer (from the notice or the event card)."""

    registration_id: DbInt
    answer: OfferReply


class RateEvent(CallbackData, prefix="evf"):
    """A 1-5 rating from the feedback prompt; 0 skips the comment."""

    event_id: DbInt
    rating: DbInt


SKIP_RATING = 0
RATINGS = range(1, 6)


def _about(event: EventShown, ctx: Context) -> str:
    """The lines under every event notice: the title in bold, the time, the place."""
    zone = ctx.settings.zone
    lines = [
        f"<b>{escape(event.title.in_language(ctx.language), quote=False)}</b>",
        f"🕒 {span_text(event.starts_at, event.ends_at, zone)}",
    ]
    if event.venue is not None:
        venue = event.venue.in_language(ctx.language)
        if venue:
            lines.append(f"📍 {escape(venue, quote=False)}")
    return "\n".join(lines)


def _notice(what: str, event: EventShown, ctx: Context) -> str:
    return what + "\n\n" + _about(event, ctx)


def offer_buttons(registration_id: int, ctx: Context) -> list[Button]:
    """Accept and Decline, for a notice or the event card."""
    return [
        Button(
            label=ctx._("Accept"),
            callback_data=OfferAnswer(
                registration_id=registration_id, answer=OfferReply.ACCEPT
            ).pack(),
        ),
        Button(
            label=ctx._("Decline"),
            callback_data=OfferAnswer(
                registration_id=registration_id, answer=OfferReply.DECLINE
            ).pack(),
        ),
    ]


@renders(PlaceOffered)
def _place_offered(notice: PlaceOffered, ctx: Context) -> OutboxMessage:
    until = local_time(notice.until, ctx.settings.zone)
    what = ctx._(
        "🎟 A place has opened up for you! Accept it by {until}, or it goes "
        "to the next person on the waitlist."
    ).format(until=until)
    return OutboxMessage(
        text={ctx.language: _notice(what, notice.event, ctx)},
        buttons=[offer_buttons(notice.registration_id, ctx)],
    )


@renders(PlaceConfirmed)
def _place_confirmed(notice: PlaceConfirmed, ctx: Context) -> OutboxMessage:
    what = ctx._("🎉 Good news: a place opened up and you moved from the waitlist to confirmed.")
    return OutboxMessage(text={ctx.language: _notice(what, notice.event, ctx)})


@renders(OfferExpired)
def _offer_expired(notice: OfferExpired, ctx: Context) -> OutboxMessage:
    what = ctx._(
        "⌛ The place we offered you was not accepted in time, so it went to the "
        "next person on the waitlist."
    )
    return OutboxMessage(text={ctx.language: _notice(what, notice.event, ctx)})


@renders(EventReminder)
def _reminder(notice: EventReminder, ctx: Context) -> OutboxMessage:
    starts = local_time(notice.event.starts_at, ctx.settings.zone)
    what = ctx._("⏰ Reminder: your event starts at {starts}.").format(starts=starts)
    return OutboxMessage(text={ctx.language: _notice(what, notice.event, ctx)})


def rating_label(rating: int) -> str:
    """⭐, 2⭐, 3⭐ ... (one star alone reads better than 1⭐)."""
    return "⭐" if rating < 2 else f"{rating}⭐"


@renders(FeedbackWanted)
def _feedback_wanted(notice: FeedbackWanted, ctx: Context) -> OutboxMessage:
    what = ctx._("💬 Thank you for coming! How was it? Tap 1 to 5 stars.")
    return OutboxMessage(
        text={ctx.language: _notice(what, notice.event, ctx)},
        buttons=[
            [
                Button(
                    label=rating_label(rating),
                    callback_data=RateEvent(event_id=notice.event.event_id, rating=rating).pack(),
                )
                for rating in RATINGS
            ]
        ],
    )


@renders(EventMoved)
def _event_moved(notice: EventMoved, ctx: Context) -> OutboxMessage:
    zone = ctx.settings.zone
    what = ctx._(
        "📅 This event has moved to {starts}. Your registration is kept; the new calendar "
        "file is attached."
    ).format(starts=local_time(notice.event.starts_at, zone))
    return OutboxMessage(
        text={ctx.language: _notice(what, notice.event, ctx)},
        attachment=Attachment(
            kind="document",
            content=calendar_file(notice.calendar, zone, language=ctx.language),
            filename=calendar_filename(notice.calendar.event_id),
        ),
    )


@renders(EventCancelled)
def _event_cancelled(notice: EventCancelled, ctx: Context) -> OutboxMessage:
    what = ctx._("❌ Sorry, this event has been cancelled by its organiser.")
    return OutboxMessage(text={ctx.language: _notice(what, notice.event, ctx)})


@renders(OrganiserMessage)
def _organiser_message(notice: OrganiserMessage, ctx: Context) -> OutboxMessage:
    # The organiser's own Telegram HTML, checked when it was queued: sent as they wrote it.
    return OutboxMessage(text={ctx.language: notice.html})
