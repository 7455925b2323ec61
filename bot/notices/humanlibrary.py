"""How human library notices read: reminders, a freed slot given, bookings, feedback prompts."""

from __future__ import annotations

from html import escape

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt
from bot.notices.events import rating_label
from bot.notices.registry import Context, renders
from bot.services.events.calendar import calendar_file
from bot.services.events.times import span_text
from bot.services.humanlibrary.feedback import RATINGS
from bot.services.humanlibrary.notices import (
    ConversationBooked,
    ConversationCancelled,
    ConversationFeedbackWanted,
    ConversationReminder,
    LivingBookCalledOff,
    SlotGiven,
    SlotShown,
)
from bot.services.outbox import Attachment, Button, OutboxMessage


class RateConversation(CallbackData, prefix="hlf"):
    """A 1–5 rating of a conversation with a living book (by either side)."""

    slot_id: DbInt
    rating: DbInt


def slot_lines(slot: SlotShown, ctx: Context) -> str:
    """The living book, the topic, the event, the time and the place."""
    lines = [
        f"📖 <b>{escape(slot.book, quote=False)}</b> — {escape(slot.topic, quote=False)}",
        f"🎪 {escape(ctx.name(slot.event), quote=False)}",
        f"🕒 {span_text(slot.starts_at, slot.ends_at, ctx.settings.zone)}",
    ]
    if slot.venue is not None and ctx.name(slot.venue):
        lines.append(f"📍 {escape(ctx.name(slot.venue), quote=False)}")
    return "\n".join(lines)


def slot_filename(slot_id: int) -> str:
    """The name of a conversation's calendar file."""
    return f"living-book-{slot_id}.ics"


@renders(ConversationReminder)
def _reminder(notice: ConversationReminder, ctx: Context) -> OutboxMessage:
    what = ctx._("⏰ Reminder: your human library conversation starts soon.")
    return OutboxMessage(text={ctx.language: what + "\n\n" + slot_lines(notice.slot, ctx)})


@renders(SlotGiven)
def _given(notice: SlotGiven, ctx: Context) -> OutboxMessage:
    what = ctx._(
        "🎉 A slot opened up and it is yours: you were first on the waitlist. "
        "The calendar file is attached; /humanlibrary to give it back."
    )
    return OutboxMessage(
        text={ctx.language: what + "\n\n" + slot_lines(notice.slot, ctx)},
        attachment=Attachment(
            kind="document",
            content=calendar_file(notice.calendar, ctx.settings.zone, language=ctx.language),
            filename=slot_filename(notice.slot.slot_id),
        ),
    )


@renders(ConversationBooked)
def _booked(notice: ConversationBooked, ctx: Context) -> OutboxMessage:
    name = escape(notice.reader_name, quote=False)
    if notice.cancelled:
        what = ctx._("↩️ {name} gave back their conversation with you.").format(name=name)
    else:
        what = ctx._("🗓 {name} booked a conversation with you.").format(name=name)
    return OutboxMessage(text={ctx.language: what + "\n\n" + slot_lines(notice.slot, ctx)})


@renders(ConversationFeedbackWanted)
def _feedback(notice: ConversationFeedbackWanted, ctx: Context) -> OutboxMessage:
    if notice.as_living_book:
        what = ctx._("💬 How did the conversation go for you? Tap 1 to 5 stars.")
    else:
        what = ctx._("💬 Thank you for reading a living book! How was it? Tap 1 to 5 stars.")
    return OutboxMessage(
        text={ctx.language: what + "\n\n" + slot_lines(notice.slot, ctx)},
        buttons=[
            [
                Button(
                    label=rating_label(rating),
                    callback_data=RateConversation(
                        slot_id=notice.slot.slot_id, rating=rating
                    ).pack(),
                )
                for rating in RATINGS
            ]
        ],
    )


@renders(ConversationCancelled)
def _cancelled(notice: ConversationCancelled, ctx: Context) -> OutboxMessage:
    book = escape(notice.book, quote=False)
    if notice.starts_at is None:
        what = ctx._(
            "❌ The event was cancelled, so you are no longer on the waitlist for {book}."
        ).format(book=book)
    else:
        what = ctx._(
            "❌ The event was cancelled, so your conversation with {book} on {when} is off."
        ).format(book=book, when=ctx.when(notice.starts_at))
    lines = [what, "", f"📖 {escape(notice.topic, quote=False)}"]
    lines.append(f"🎪 {escape(ctx.name(notice.event), quote=False)}")
    return OutboxMessage(text={ctx.language: "\n".join(lines)})


@renders(LivingBookCalledOff)
def _book_called_off(notice: LivingBookCalledOff, ctx: Context) -> OutboxMessage:
    event = escape(ctx.name(notice.event), quote=False)
    if notice.conversations:
        what = ctx.ngettext(
            "❌ {event} was cancelled. Your {count} booked conversation as {book} is off; "
            "its reader has been told.",
            "❌ {event} was cancelled. Your {count} booked conversations as {book} are off; "
            "their readers have been told.",
            notice.conversations,
        )
    else:
        what = ctx._("❌ {event} was cancelled, so you will not be a living book as {book} there.")
    return OutboxMessage(
        text={
            ctx.language: what.format(
                event=event, book=escape(notice.book, quote=False), count=notice.conversations
            )
        }
    )
