"""The organisers' forms: the /newevent wizard's steps and draft, and typed edits' draft."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from aiogram.fsm.state import State, StatesGroup

from bot.models import EventAudience, EventCategory, EventRecurrence
from bot.services.events.drafts import EventDraft, Venue
from bot.services.events.organising import EditField
from handlers.drafts import Draft, FormExpired


class NewEvent(StatesGroup):
    """The steps of /newevent."""

    title = State()
    title_en = State()
    description = State()
    category = State()
    audience = State()
    starts = State()
    ends = State()
    venue = State()
    place_name = State()
    place_location = State()
    capacity = State()
    partners = State()
    repeat = State()
    sessions = State()
    preview = State()


class OrganiserInput(StatesGroup):
    """Waiting for a typed value for one event (edit, capacity, reschedule, message)."""

    value = State()
    reschedule_end = State()


class NewEventDraft(Draft):
    """The answers of /newevent so far; nothing is stored until Publish."""

    key: ClassVar[str] = "new_event"
    command: ClassVar[str] = "/newevent"

    title: str | None = None
    title_en: str | None = None
    description: str | None = None
    category: EventCategory | None = None
    audience: EventAudience | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    library_id: int | None = None
    place_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    capacity: int | None = None
    partners: list[str] = []
    recurrence: EventRecurrence | None = None
    sessions: int = 1

    def start(self) -> datetime:
        """The start answered earlier (the form expired if it is gone)."""
        if self.starts_at is None:
            raise FormExpired(self.command)
        return self.starts_at

    def event_draft(self) -> EventDraft:
        """The complete event to preview and publish (the form expired if answers are gone)."""
        if (
            self.title is None
            or self.description is None
            or self.category is None
            or self.audience is None
            or self.starts_at is None
            or self.ends_at is None
            or self.capacity is None
        ):
            raise FormExpired(self.command)
        return EventDraft(
            title=self.title,
            title_en=self.title_en,
            description=self.description,
            category=self.category,
            audience=self.audience,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            venue=Venue(
                library_id=self.library_id,
                place_name=self.place_name,
                latitude=self.latitude,
                longitude=self.longitude,
            ),
            capacity=self.capacity,
            partners=tuple(self.partners),
            recurrence=self.recurrence,
            sessions=self.sessions,
        )


class Awaited(enum.StrEnum):
    """What an organiser is asked to type about one event."""

    EDIT = "edit"
    CAPACITY = "capacity"
    START = "start"
    MESSAGE = "message"


class EventEditDraft(Draft):
    """The event being changed by typing, what is asked, and the new start of a move."""

    key: ClassVar[str] = "event_edit"
    command: ClassVar[str] = "/myevents"

    event_id: int
    awaited: Awaited
    edit: EditField | None = None
    starts_at: datetime | None = None

    def start(self) -> datetime:
        """The new start typed before the end (the form expired if it is gone)."""
        if self.starts_at is None:
            raise FormExpired(self.command)
        return self.starts_at
