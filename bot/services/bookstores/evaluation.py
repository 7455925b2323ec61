"""The alliance's evaluation report: per member library, what it did for the alliance in a
period — copies lent to other members' readers, events and attendance, readers reached in
under-reached districts, purchases, hold-to-ready time and feedback."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Event,
    EventStatus,
    Feedback,
    Hold,
    Item,
    Library,
    LibraryKind,
    PurchaseSuggestion,
    Reader,
    Registration,
    RegistrationStatus,
    SuggestionStatus,
    Voucher,
    VoucherStatus,
)
from bot.services.bookstores.lending import FILLED
from bot.services.bookstores.money import yuan
from bot.services.statistics import Period

CSV_COLUMNS = (
    "library",
    "name",
    "name_en",
    "holds_filled_for_others",
    "events",
    "attended",
    "readers_reached_in_under_reached_districts",
    "suggestions_approved",
    "vouchers",
    "voucher_spend",
    "avg_hold_to_ready_hours",
    "feedback",
    "avg_rating",
)


@dataclass(frozen=True)
class LibraryEvaluation:
    """One member library's figures for the period."""

    library: Library
    filled_for_others: int = 0
    events: int = 0
    attended: int = 0
    reached_under_reached: int = 0
    suggestions: int = 0
    vouchers: int = 0
    voucher_spend: int = 0
    hold_to_ready_hours: float | None = None
    feedback: int = 0
    rating: float | None = None


@dataclass(frozen=True)
class Evaluation:
    """Every member library's figures, by code."""

    period: Period
    libraries: list[LibraryEvaluation]


def _within(column: Any, period: Period) -> list[ColumnElement[bool]]:
    return [column >= period.start, column < period.end]


async def _grouped(session: AsyncSession, query: Select[Any, Any]) -> dict[int, int]:
    rows = await session.execute(query)
    return {int(key): int(value) for key, value in rows.all() if key is not None}


async def _filled_for_others(session: AsyncSession, period: Period) -> dict[int, int]:
    started = func.coalesce(Hold.in_transit_at, Hold.ready_at, Hold.collected_at)
    return await _grouped(
        session,
        select(Item.library_id, func.count(Hold.id))
        .join(Item, Item.id == Hold.item_id)
        .where(
            Item.library_id != Hold.pickup_library_id,
            Hold.status.in_(FILLED),
            *_within(started, period),
        )
        .group_by(Item.library_id),
    )


def _events_in(period: Period) -> list[ColumnElement[bool]]:
    return [Event.status != EventStatus.CANCELLED, *_within(Event.starts_at, period)]


async def _events(session: AsyncSession, period: Period) -> tuple[dict[int, int], dict[int, int]]:
    events = await _grouped(
        session,
        select(Event.venue_library_id, func.count(Event.id))
        .where(*_events_in(period))
        .group_by(Event.venue_library_id),
    )
    attended = await _grouped(
        session,
        select(Event.venue_library_id, func.count(Registration.id))
        .join(Registration, Registration.event_id == Event.id)
        .where(*_events_in(period), Registration.status == RegistrationStatus.ATTENDED)
        .group_by(Event.venue_library_id),
    )
    return events, attended


async def _reached(
    session: AsyncSession, period: Period, under_reached: Collection[int]
) -> dict[int, int]:
    """Distinct readers of under-reached districts who placed a hold to pick up at the
    library, or attended an event there, in the period."""
    if not under_reached:
        return {}
    from_holds = select(Hold.pickup_library_id.label("library_id"), Hold.reader_id).where(
        *_within(Hold.queued_at, period)
    )
    from_events = (
        select(Event.venue_library_id.label("library_id"), Registration.reader_id)
        .join(Registration, Registration.event_id == Event.id)
        .where(*_events_in(period), Registration.status == RegistrationStatus.ATTENDED)
    )
    contacts = from_holds.union(from_events).subquery()
    return await _grouped(
        session,
        select(contacts.c.library_id, func.count(func.distinct(contacts.c.reader_id)))
        .join(Reader, Reader.id == contacts.c.reader_id)
        .where(Reader.district_id.in_(list(under_reached)))
        .group_by(contacts.c.library_id),
    )


async def _purchases(
    session: AsyncSession, period: Period
) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    suggestions = await _grouped(
        session,
        select(PurchaseSuggestion.library_id, func.count(PurchaseSuggestion.id))
        .where(
            PurchaseSuggestion.status == SuggestionStatus.APPROVED,
            *_within(PurchaseSuggestion.decided_at, period),
        )
        .group_by(PurchaseSuggestion.library_id),
    )
    confirmed = [Voucher.status == VoucherStatus.CONFIRMED, *_within(Voucher.confirmed_at, period)]
    vouchers = await _grouped(
        session,
        select(Voucher.library_id, func.count(Voucher.id))
        .where(*confirmed)
        .group_by(Voucher.library_id),
    )
    spend = await _grouped(
        session,
        select(Voucher.library_id, func.sum(Voucher.price))
        .where(*confirmed)
        .group_by(Voucher.library_id),
    )
    return suggestions, vouchers, spend


async def _hold_to_ready(session: AsyncSession, period: Period) -> dict[int, float]:
    """Average hours from a hold being placed to its copy being ready for pickup."""
    rows = await session.execute(
        select(Hold.pickup_library_id, Hold.queued_at, Hold.ready_at).where(
            Hold.ready_at.is_not(None), *_within(Hold.ready_at, period)
        )
    )
    waits: dict[int, list[float]] = defaultdict(list)
    for library_id, queued_at, ready_at in rows.all():
        if ready_at is None:
            continue
        waits[library_id].append((ready_at - queued_at).total_seconds() / 3600)
    return {library_id: sum(hours) / len(hours) for library_id, hours in waits.items()}


async def _feedback(
    session: AsyncSession, period: Period
) -> tuple[dict[int, int], dict[int, float]]:
    rows = await session.execute(
        select(Event.venue_library_id, func.count(Feedback.id), func.avg(Feedback.rating))
        .join(Event, Event.id == Feedback.event_id)
        .where(*_within(Feedback.created_at, period))
        .group_by(Event.venue_library_id)
    )
    counts: dict[int, int] = {}
    ratings: dict[int, float] = {}
    for library_id, count, average in rows.all():
        if library_id is not None:
            counts[int(library_id)] = int(count)
            ratings[int(library_id)] = float(average)
    return counts, ratings


async def evaluate(
    session: AsyncSession, period: Period, *, under_reached: Collection[int]
) -> Evaluation:
    """Every member library's figures (partner organisations are not members)."""
    libraries = list(
        await session.scalars(
            select(Library).where(Library.kind != LibraryKind.PARTNER).order_by(Library.code)
        )
    )
    filled = await _filled_for_others(session, period)
    events, attended = await _events(session, period)
    reached = await _reached(session, period, under_reached)
    suggestions, vouchers, spend = await _purchases(session, period)
    waits = await _hold_to_ready(session, period)
    feedback, ratings = await _feedback(session, period)
    return Evaluation(
        period,
        [
            LibraryEvaluation(
                library=library,
                filled_for_others=filled.get(library.id, 0),
                events=events.get(library.id, 0),
                attended=attended.get(library.id, 0),
                reached_under_reached=reached.get(library.id, 0),
                suggestions=suggestions.get(library.id, 0),
                vouchers=vouchers.get(library.id, 0),
                voucher_spend=spend.get(library.id, 0),
                hold_to_ready_hours=waits.get(library.id),
                feedback=feedback.get(library.id, 0),
                rating=ratings.get(library.id),
            )
            for library in libraries
        ],
    )


def evaluation_csv(evaluation: Evaluation) -> str:
    """One row per member library."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in evaluation.libraries:
        writer.writerow(
            [
                row.library.code,
                row.library.name,
                row.library.name_en or "",
                row.filled_for_others,
                row.events,
                row.attended,
                row.reached_under_reached,
                row.suggestions,
                row.vouchers,
                yuan(row.voucher_spend),
                "" if row.hold_to_ready_hours is None else f"{row.hold_to_ready_hours:.1f}",
                row.feedback,
                "" if row.rating is None else f"{row.rating:.2f}",
            ]
        )
    return buffer.getvalue()
