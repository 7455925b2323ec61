"""The enumerations the models store (as VARCHAR with a CHECK constraint)."""

from __future__ import annotations

import enum


class LibraryKind(enum.StrEnum):
    UNIVERSITY = "university"
    PUBLIC = "public"
    SCHOOL = "school"
    PARTNER = "partner"


class ItemStatus(enum.StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    HELD = "held"
    IN_TRANSIT = "in_transit"
    MISSING = "missing"
    # For use in the library only (a catalogue export says so): never lent, never held.
    NOT_FOR_LOAN = "not_for_loan"


class HoldStatus(enum.StrEnum):
    QUEUED = "queued"
    IN_TRANSIT = "in_transit"
    READY = "ready"
    COLLECTED = "collected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ACTIVE_HOLD_STATUSES = (HoldStatus.QUEUED, HoldStatus.IN_TRANSIT, HoldStatus.READY)


class Role(enum.StrEnum):
    READER = "reader"
    LIBRARIAN = "librarian"
    ORGANISER = "organiser"
    ADMIN = "admin"


class AgeGroup(enum.StrEnum):
    CHILDREN = "children"
    STUDENTS = "students"
    ADULTS = "adults"
    SENIORS = "seniors"


class EventCategory(enum.StrEnum):
    LECTURE = "lecture"
    BOOK_CLUB = "book_club"
    HUMAN_LIBRARY = "human_library"
    CLASSICS_READING = "classics_reading"
    CONTEST = "contest"
    EXHIBITION = "exhibition"
    VOLUNTEERING = "volunteering"
    WORKSHOP = "workshop"
    OTHER = "other"


class EventAudience(enum.StrEnum):
    EVERYONE = "everyone"
    CHILDREN = "children"
    STUDENTS = "students"
    ADULTS = "adults"
    SENIORS = "seniors"


class EventStatus(enum.StrEnum):
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class EventRecurrence(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    CANCELLED = "cancelled"
    ATTENDED = "attended"


class NotificationClass(enum.StrEnum):
    TRANSACTIONAL = "transactional"
    PROMOTIONAL = "promotional"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class SuggestionStatus(enum.StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    DECLINED = "declined"
