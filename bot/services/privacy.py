"""Privacy: everything stored about a reader as JSON, and forgetting a reader on request.

Every column that points at ``readers.id`` has one ``ReaderLink`` in ``READER_LINKS``: what
the export shows of those rows and what forgetting does to them. A test walks the models and
fails when a table with such a column is missing here, so new tables get a decision.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db import checkpoint, write
from bot.models import (
    ACTIVE_HOLD_STATUSES,
    Base,
    Event,
    Feedback,
    Hold,
    Notification,
    NotificationStatus,
    Reader,
    Registration,
    RegistrationStatus,
)
from bot.services import audit
from bot.services.errors import InvalidInputError
from bot.services.events.registration import WaitlistRules, cancel_registration
from bot.services.holds import reader_actions as holds_service
from bot.services.reading.recommend import forget_reader_pairs, pair_works

FORGOTTEN_REASON = "the reader asked to be forgotten"
ACTIVE_REGISTRATION_STATUSES = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.OFFERED,
)


class Forget(enum.StrEnum):
    """What forgetting a reader does to the rows that point at them."""

    # The rows are personal and serve no statistic: they go.
    DELETE = "delete"
    # The rows stay for statistics, without the reader (the column becomes NULL).
    DETACH = "detach"
    # The rows stay linked to the reader's anonymous tombstone, so statistics count them
    # the same; anything personal in them is scrubbed by the steps in forget_reader.
    KEEP = "keep"


@dataclass(frozen=True)
class ReaderLink:
    """One column pointing at readers.id: the export section, its columns, the forget rule."""

    table: str
    column: str
    section: str
    export: tuple[str, ...]
    forget: Forget


READER_LINKS: tuple[ReaderLink, ...] = (
    ReaderLink(
        "role_grants", "reader_id", "roles", ("role", "library_id", "granted_at"), Forget.DELETE
    ),
    ReaderLink(
        "role_grants", "granted_by_id", "roles_you_granted", ("role", "granted_at"), Forget.KEEP
    ),
    ReaderLink(
        "library_follows", "reader_id", "follows", ("library_id", "created_at"), Forget.DELETE
    ),
    ReaderLink(
        "holds",
        "reader_id",
        "holds",
        (
            "id",
            "work_id",
            "pickup_library_id",
            "status",
            "queued_at",
            "ready_at",
            "ready_until",
            "collected_at",
            "closed_at",
            "reason",
        ),
        Forget.KEEP,
    ),
    ReaderLink(
        "registrations",
        "reader_id",
        "registrations",
        ("event_id", "status", "position", "created_at", "cancelled_at", "attended_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "feedback",
        "reader_id",
        "feedback",
        ("event_id", "rating", "comment", "created_at"),
        Forget.DETACH,
    ),
    ReaderLink(
        "purchase_votes",
        "reader_id",
        "purchase_votes",
        ("suggestion_id", "created_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "search_logs",
        "reader_id",
        "searches",
        ("query", "hit_count", "source", "district_id", "created_at"),
        Forget.DETACH,
    ),
    # Which works the reader's searches led them to: personal, and counted per reader only.
    ReaderLink(
        "searched_works", "reader_id", "works_found_by_search", ("work_id", "day"), Forget.DELETE
    ),
    ReaderLink(
        "notifications",
        "reader_id",
        "notifications",
        ("kind", "message_class", "topic", "status", "created_at", "not_before", "sent_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "audit_log",
        "actor_id",
        "actions",
        ("action", "target_type", "target_id", "created_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "events",
        "organiser_id",
        "events_organised",
        ("id", "title", "starts_at", "status"),
        Forget.KEEP,
    ),
    ReaderLink(
        "broadcasts",
        "author_id",
        "broadcasts_written",
        ("id", "audience", "text", "recipients", "created_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "campaigns",
        "created_by_id",
        "campaigns_created",
        ("id", "name", "status", "created_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "work_watches",
        "reader_id",
        "arrival_watches",
        ("work_id", "created_at", "arrived_at", "notified_at"),
        Forget.DELETE,
    ),
    ReaderLink(
        "campaign_recipients",
        "reader_id",
        "campaigns_received",
        ("campaign_id", "holdout", "assigned_at", "opened_at"),
        # Kept on the tombstone: campaign reach, opens and uplift stay as they were.
        Forget.KEEP,
    ),
    ReaderLink(
        "event_series",
        "organiser_id",
        "event_series_organised",
        ("id", "title", "recurrence"),
        Forget.KEEP,
    ),
    ReaderLink(
        "purchase_suggestions",
        "decided_by_id",
        "purchase_decisions",
        ("id", "query", "status", "decided_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "vouchers",
        "reader_id",
        "vouchers",
        ("code", "isbn", "bookstore_id", "status", "issued_at", "price", "due_at"),
        # Kept on the tombstone: settlements and budgets must still add up.
        Forget.KEEP,
    ),
    ReaderLink(
        "vouchers",
        "confirmed_by_id",
        "vouchers_confirmed",
        ("code", "price", "confirmed_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "bookstore_staff",
        "reader_id",
        "bookstore_roles",
        ("bookstore_id", "granted_at"),
        Forget.DELETE,
    ),
    ReaderLink(
        "bookstore_staff",
        "granted_by_id",
        "bookstore_roles_granted",
        ("bookstore_id", "granted_at"),
        Forget.KEEP,
    ),
    ReaderLink("choose_rules", "updated_by_id", "purchase_rules_set", ("library_id",), Forget.KEEP),
    ReaderLink(
        "settlements",
        "approved_by_id",
        "settlements_approved",
        ("bookstore_id", "library_id", "month", "approved_at"),
        Forget.KEEP,
    ),
    # A member library's own card the reader linked (never the PIN, which is not stored).
    ReaderLink(
        "ils_patron_links",
        "reader_id",
        "library_cards",
        ("library_id", "card_number", "created_at"),
        Forget.DELETE,
    ),
    # The campus cultural programme.
    ReaderLink(
        "living_books", "person_id", "living_books", ("event_id", "name", "topic"), Forget.DETACH
    ),
    ReaderLink(
        "living_book_slots",
        "reader_id",
        "living_book_conversations",
        ("book_id", "starts_at", "ends_at", "booked_at"),
        Forget.DETACH,
    ),
    ReaderLink(
        "living_book_waits",
        "reader_id",
        "living_book_waitlists",
        ("book_id", "created_at"),
        Forget.DELETE,
    ),
    ReaderLink(
        "living_book_feedback",
        "author_id",
        "living_book_ratings",
        ("slot_id", "rating", "created_at"),
        Forget.DELETE,
    ),
    ReaderLink(
        "quizzes", "organiser_id", "quizzes_organised", ("id", "title", "starts_at"), Forget.KEEP
    ),
    ReaderLink(
        "quiz_entries",
        "reader_id",
        "quiz_entries",
        ("quiz_id", "joined_at", "score", "time_ms"),
        Forget.KEEP,
    ),
    ReaderLink(
        "volunteer_signups",
        "reader_id",
        "volunteer_shifts",
        ("shift_id", "signed_up_at", "checked_in_at", "checked_out_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "submission_contests",
        "organiser_id",
        "contests_organised",
        ("id", "title", "deadline"),
        Forget.KEEP,
    ),
    ReaderLink("contest_judges", "reader_id", "contests_judged", ("contest_id",), Forget.DELETE),
    ReaderLink(
        "contest_entries",
        "reader_id",
        "contest_entries",
        ("contest_id", "text", "file_kind", "submitted_at", "consent"),
        Forget.DELETE,
    ),
    ReaderLink(
        "entry_scores",
        "judge_id",
        "contest_scores",
        ("entry_id", "score", "scored_at"),
        Forget.KEEP,
    ),
    ReaderLink(
        "partner_organisers",
        "reader_id",
        "partners_organised_for",
        ("partner_id",),
        Forget.DELETE,
    ),
    # Reading life: reads carry ratings and notes, so they go (rankings lose them too).
    ReaderLink(
        "reading_log",
        "reader_id",
        "reads",
        ("work_id", "library_id", "source", "rating", "note", "read_at"),
        Forget.DELETE,
    ),
    ReaderLink(
        "list_follows",
        "reader_id",
        "reading_lists_followed",
        ("list_id", "created_at"),
        Forget.DELETE,
    ),
    # Lists are published work of staff: they stay, without their author.
    ReaderLink(
        "reading_lists",
        "created_by_id",
        "reading_lists_made",
        ("id", "title", "title_en", "published", "created_at"),
        Forget.DETACH,
    ),
    # A forgotten participant leaves every challenge and leaderboard (their reads go too).
    ReaderLink(
        "challenge_entries",
        "reader_id",
        "challenges",
        ("challenge_id", "joined_at", "completed_at", "team_id"),
        Forget.DELETE,
    ),
    # Badges are the reader's own milestones: they go with the reads that earned them.
    ReaderLink("reader_badges", "reader_id", "badges", ("badge", "awarded_at"), Forget.DELETE),
    ReaderLink(
        "challenges",
        "created_by_id",
        "challenges_created",
        ("id", "title", "goal", "starts_at", "ends_at"),
        Forget.DETACH,
    ),
    ReaderLink(
        "reading_preferences",
        "reader_id",
        "reading_preferences",
        ("recommendations", "weekly_digest", "digest_sent_at", "department_id"),
        Forget.DELETE,
    ),
)

# What happens to each column of the reader's own row when they are forgotten.
READER_COLUMNS_KEPT = frozenset(
    {
        # Kept for aggregate statistics (reach per district and period); not identifying.
        "id",
        "district_id",
        "created_at",
        "updated_at",
        "onboarded_at",
        "last_seen_at",
        "forgotten_at",
        # Overwritten below with tombstone values.
        "telegram_id",
        "chat_id",
        "card_number",
        "is_blocked",
        "blocked_at",
    }
)
READER_COLUMNS_CLEARED: dict[str, Any] = {
    "first_name": "",
    "username": None,
    "language": None,
    "latitude": None,
    "longitude": None,
    "age_group": None,
    "interests": [],
    "notify_events": False,
    "notify_announcements": False,
    "notify_campaigns": False,
}


def reader_links_in_schema() -> set[tuple[str, str]]:
    """Every (table, column) in the models with a foreign key to readers.id."""
    found = set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            for key in column.foreign_keys:
                if key.column.table.name == "readers" and key.column.name == "id":
                    found.add((table.name, column.name))
    return found


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


async def export_reader(session: AsyncSession, reader: Reader, now: datetime) -> dict[str, Any]:
    """Everything stored about the reader, as plain JSON-ready data."""
    readers = _table("readers")
    row = (await session.execute(select(readers).where(readers.c.id == reader.id))).one()
    data: dict[str, Any] = {
        "exported_at": now.isoformat(),
        "reader": {key: _plain(value) for key, value in row._mapping.items()},
    }
    for link in READER_LINKS:
        table = _table(link.table)
        columns = [table.c[name] for name in link.export]
        order = table.c["id"] if "id" in table.c else columns[0]
        rows = await session.execute(
            select(*columns).where(table.c[link.column] == reader.id).order_by(order)
        )
        data.setdefault(link.section, []).extend(
            {key: _plain(value) for key, value in found._mapping.items()} for found in rows
        )
    return data


@dataclass(frozen=True)
class ForgetSummary:
    """What forgetting changed, by kind of row."""

    holds_cancelled: int
    copies_released: int
    registrations_cancelled: int
    notifications_skipped: int
    rows_deleted: int
    rows_detached: int


async def _close_holds(
    session: AsyncSession, reader: Reader, now: datetime, settings: Settings
) -> tuple[int, int]:
    """Cancel the reader's active holds by the holds rules: their copies go to the next reader."""
    holds = list(
        await session.scalars(
            select(Hold).where(Hold.reader_id == reader.id, Hold.status.in_(ACTIVE_HOLD_STATUSES))
        )
    )
    released = sum(hold.item_id is not None for hold in holds)
    for hold_id in [hold.id for hold in holds]:
        await holds_service.cancel_hold(
            session,
            reader,
            hold_id,
            FORGOTTEN_REASON,
            settings=settings,
            now=now,
        )
    return len(holds), released


async def _cancel_registrations(
    session: AsyncSession, reader: Reader, now: datetime, settings: Settings
) -> int:
    """Cancel the reader's places at events by the events rules: the waitlist moves up."""
    event_ids = list(
        await session.scalars(
            select(Registration.event_id)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.reader_id == reader.id,
                Registration.status.in_(ACTIVE_REGISTRATION_STATUSES),
                # Past events keep their registrations: they are history, not places.
                Event.ends_at > now,
            )
        )
    )
    rules = WaitlistRules.for_alliance(settings)
    for event_id in event_ids:
        await cancel_registration(session, reader, event_id, now=now, rules=rules)
    return len(event_ids)


async def forget_reader(
    session: AsyncSession,
    reader: Reader,
    now: datetime,
    *,
    settings: Settings,
) -> ForgetSummary:
    """Delete the reader's personal data and anonymise their history, keeping statistics.

    Active holds and event places are given up first, by their own rules (each commits), so
    the next reader in a queue or on a waitlist is served and told. On SQLite the WAL is
    then checkpointed, so the erased values are gone from the database's files too.
    """
    if reader.forgotten_at is not None:
        raise InvalidInputError("reader already forgotten")
    # The cards whose "also reserved" block counts the reader, taken before their follows go.
    pair_works_before = await pair_works(session, reader.id)
    holds_cancelled, released = await _close_holds(session, reader, now, settings)
    registrations_cancelled = await _cancel_registrations(session, reader, now, settings)
    async with write(session):
        skipped, deleted, detached = await _erase(session, reader, now)
        summary = ForgetSummary(
            holds_cancelled=holds_cancelled,
            copies_released=released,
            registrations_cancelled=registrations_cancelled,
            notifications_skipped=skipped,
            rows_deleted=deleted,
            rows_detached=detached,
        )
        audit.record(
            session,
            reader,
            "privacy.forget",
            target_type="reader",
            target_id=reader.id,
            **summary.__dict__,
        )
    # The reader's holds stay on the tombstone for statistics; the card's "also reserved"
    # pairs are recounted without them now, not at the next run of the reading job.
    await forget_reader_pairs(session, pair_works_before)
    await checkpoint(session)
    return summary


async def _erase(session: AsyncSession, reader: Reader, now: datetime) -> tuple[int, int, int]:
    """Scrub, delete or detach the rows about the reader and make them a tombstone.

    Returns how many notifications were skipped, rows deleted and rows detached.
    """
    skipped = await session.execute(
        update(Notification)
        .where(
            Notification.reader_id == reader.id,
            Notification.status.in_((NotificationStatus.PENDING, NotificationStatus.SENDING)),
        )
        .values(status=NotificationStatus.SKIPPED, last_error=FORGOTTEN_REASON)
    )
    # Message contents are personal (names, titles they asked for); delivery figures stay.
    await session.execute(
        update(Notification)
        .where(Notification.reader_id == reader.id)
        .values(payload={}, claimed_by=None)
    )
    await session.execute(
        update(Feedback).where(Feedback.reader_id == reader.id).values(comment=None)
    )
    deleted = detached = 0
    for link in READER_LINKS:
        table = _table(link.table)
        column = table.c[link.column]
        if link.forget is Forget.DELETE:
            result = await session.execute(delete(table).where(column == reader.id))
            deleted += result.rowcount or 0  # type: ignore[attr-defined]
        elif link.forget is Forget.DETACH:
            result = await session.execute(
                update(table).where(column == reader.id).values({link.column: None})
            )
            detached += result.rowcount or 0  # type: ignore[attr-defined]
    for name, value in READER_COLUMNS_CLEARED.items():
        setattr(reader, name, value)
    # Telegram user ids are positive, so a negative id can never match a person again.
    reader.telegram_id = -reader.id
    reader.chat_id = -reader.id
    reader.card_number = f"FORGOTTEN{reader.id}"
    reader.is_blocked = True
    reader.blocked_at = now
    reader.forgotten_at = now
    return skipped.rowcount or 0, deleted, detached  # type: ignore[attr-defined]
