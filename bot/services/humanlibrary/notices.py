"""The notices of the human library: reminders, a freed slot given, bookings, feedback prompts."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.models import LivingBookSlot
from bot.notices.intents import Names, Notice, NoticeData, notice_kind
from bot.services.events.calendar import CalendarEntry
from bot.services.events.records import event_point, venue_addresses, venue_names

# Readers are reminded this long before their conversation.
REMINDER_BEFORE = timedelta(hours=1)


class SlotShown(BaseModel):
    """What every human library notice says about the conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slot_id: int
    book: str
    topic: str
    event: Names
    starts_at: datetime
    ends_at: datetime
    venue: Names | None = None


def shown(slot: LivingBookSlot) -> SlotShown:
    """The slot as notices show it (book, event and venue must be loaded)."""
    event = slot.book.event
    return SlotShown(
        slot_id=slot.id,
        book=slot.book.name,
        topic=slot.book.topic,
        event=Names(name=event.title, name_en=event.title_en),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        venue=venue_names(event),
    )


def slot_calendar(slot: LivingBookSlot) -> CalendarEntry:
    """The conversation as a calendar entry (book, event and venue must be loaded)."""
    book, event = slot.book, slot.book.event
    title = f"{book.name}: {book.topic}"
    return CalendarEntry(
        event_id=event.id,
        uid=f"living-book-slot-{slot.id}@bookbridge",
        title=Names(name=f"{event.title} · {title}", name_en=f"{event.title_en} · {title}")
        if event.title_en
        else Names(name=f"{event.title} · {title}"),
        description=book.blurb,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        stamp=slot.booked_at or slot.starts_at,
        place=venue_names(event),
        address=venue_addresses(event),
        point=event_point(event),
    )


@notice_kind("humanlibrary.reminder")
class ConversationReminder(NoticeData):
    """A reader's conversation with a living book starts soon."""

    slot: SlotShown


@notice_kind("humanlibrary.given")
class SlotGiven(NoticeData):
    """A freed slot went to the first reader on the waitlist (the calendar file goes along)."""

    slot: SlotShown
    calendar: CalendarEntry


@notice_kind("humanlibrary.booked")
class ConversationBooked(NoticeData):
    """The living book is told who booked a conversation, or that one was given back."""

    slot: SlotShown
    reader_name: str
    cancelled: bool = False


@notice_kind("humanlibrary.feedback")
class ConversationFeedbackWanted(NoticeData):
    """After the conversation, its reader and the living book are asked for 1–5 stars."""

    slot: SlotShown
    as_living_book: bool = False


def slot_key(slot_id: int, reader_id: int) -> str:
    """The dedup key prefix of one booking's notices (skipped together when it is cancelled)."""
    return f"hl:{slot_id}:{reader_id}:"


def booking_notices(slot: LivingBookSlot, reader_id: int, now: datetime) -> list[Notice]:
    """The reminder and the feedback prompts one booking schedules (loaded slot)."""
    about = shown(slot)
    # A booking given back and made again schedules its notices afresh.
    key = f"{slot_key(slot.id, reader_id)}{int(now.timestamp() * 1000)}:"
    notices = [
        Notice(
            reader_id=reader_id,
            data=ConversationFeedbackWanted(slot=about),
            dedup_key=key + "feedback",
            not_before=slot.ends_at,
        )
    ]
    remind_at = slot.starts_at - REMINDER_BEFORE
    if remind_at > now:
        notices.append(
            Notice(
                reader_id=reader_id,
                data=ConversationReminder(slot=about),
                dedup_key=key + "reminder",
                not_before=remind_at,
                expires_at=slot.starts_at,
            )
        )
    person_id = slot.book.person_id
    if person_id is not None:
        notices.append(
            Notice(
                reader_id=person_id,
                data=ConversationFeedbackWanted(slot=about, as_living_book=True),
                dedup_key=key + "feedback-book",
                not_before=slot.ends_at,
            )
        )
    return notices


@notice_kind("humanlibrary.book_called_off")
class LivingBookCalledOff(NoticeData):
    """The event was cancelled: the living book is told, with how many bookings are off."""

    book: str
    event: Names
    conversations: int


@notice_kind("humanlibrary.cancelled")
class ConversationCancelled(NoticeData):
    """The event was cancelled: the reader's conversation, or place on a waitlist, is off."""

    book: str
    topic: str
    event: Names
    # When the booked conversation would have started; None for a place on the waitlist.
    starts_at: datetime | None = None
