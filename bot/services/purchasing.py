"""Reviewing purchase suggestions: approve (a library buys) or decline; suggesters are told.

After Koha's purchase suggestions: open suggestions are reviewed most-voted first; an
approved one names the library that buys it and appears on that library's buying list;
everybody who suggested or seconded it gets a transactional notice through the outbox.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import (
    Library,
    PurchaseSuggestion,
    PurchaseVote,
    Reader,
    SuggestionStatus,
)
from bot.notices.intents import Names, Notice, NoticeData, notice_kind
from bot.services import audit, outbox
from bot.services.errors import NotAllowedError, NotFoundError

__all__ = [
    "SuggestionDecided",
    "SuggestionView",
    "approved_by_library",
    "approved_csv",
    "decide",
    "get_suggestion",
    "open_suggestions",
]


@notice_kind("suggestion_decided")
class SuggestionDecided(NoticeData):
    """A suggestion the reader made or seconded was decided: bought by a library, or not."""

    suggestion_id: int
    title: str
    library: Names | None  # the library that buys it; None when declined


NOTICE_KIND = SuggestionDecided.kind


class AlreadyDecidedError(NotAllowedError):
    """The suggestion was approved or declined already (perhaps by another admin)."""


@dataclass(frozen=True)
class SuggestionView:
    """A purchase suggestion as the review screens show it."""

    id: int
    query: str
    isbn: str | None
    votes: int
    status: SuggestionStatus
    library_code: str | None
    library_name: str | None
    created_at: datetime
    decided_at: datetime | None


def _view(suggestion: PurchaseSuggestion, library: Library | None) -> SuggestionView:
    return SuggestionView(
        id=suggestion.id,
        query=suggestion.query,
        isbn=suggestion.isbn,
        votes=suggestion.votes,
        status=suggestion.status,
        library_code=library.code if library else None,
        library_name=library.name if library else None,
        created_at=suggestion.created_at,
        decided_at=suggestion.decided_at,
    )


async def open_suggestions(
    session: AsyncSession, *, offset: int, limit: int
) -> tuple[list[SuggestionView], int]:
    """One page of open suggestions, most votes first (then oldest), and how many are open."""
    total = await session.scalar(
        select(func.count()).where(PurchaseSuggestion.status == SuggestionStatus.OPEN)
    )
    rows = await session.scalars(
        select(PurchaseSuggestion)
        .where(PurchaseSuggestion.status == SuggestionStatus.OPEN)
        .order_by(
            PurchaseSuggestion.votes.desc(), PurchaseSuggestion.created_at, PurchaseSuggestion.id
        )
        .offset(max(0, offset))
        .limit(limit)
    )
    return [_view(row, None) for row in rows], int(total or 0)


async def get_suggestion(session: AsyncSession, suggestion_id: int) -> SuggestionView:
    """One suggestion with the library that buys it, if any."""
    row = (
        await session.execute(
            select(PurchaseSuggestion, Library)
            .outerjoin(Library, Library.id == PurchaseSuggestion.library_id)
            .where(PurchaseSuggestion.id == suggestion_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise NotFoundError("suggestion")
    return _view(row[0], row[1])


async def decide(
    session: AsyncSession,
    actor: Reader,
    suggestion_id: int,
    *,
    approve: bool,
    library_id: int | None,
    now: datetime,
) -> tuple[SuggestionView, int]:
    """Approve (with the buying library) or decline an open suggestion; tell every voter.

    Returns the decided suggestion and how many notices were queued. Only open suggestions
    can be decided: a second decision (a double tap, another admin) raises
    AlreadyDecidedError and changes nothing.
    """
    status = SuggestionStatus.APPROVED if approve else SuggestionStatus.DECLINED
    async with write(session):
        library = None
        if approve:
            library = await session.get(Library, library_id) if library_id else None
            if library is None:
                raise NotFoundError("library")
        result = await session.execute(
            update(PurchaseSuggestion)
            .where(
                PurchaseSuggestion.id == suggestion_id,
                PurchaseSuggestion.status == SuggestionStatus.OPEN,
            )
            .values(
                status=status,
                library_id=library.id if library else None,
                decided_by_id=actor.id,
                decided_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            await get_suggestion(session, suggestion_id)  # NotFoundError when it does not exist
            raise AlreadyDecidedError("already decided")
        suggestion = await get_suggestion(session, suggestion_id)
        voters = list(
            await session.scalars(
                select(PurchaseVote.reader_id)
                .where(PurchaseVote.suggestion_id == suggestion_id)
                .order_by(PurchaseVote.id)
            )
        )
        decided = SuggestionDecided(
            suggestion_id=suggestion_id,
            title=suggestion.query,
            library=Names(name=library.name, name_en=library.name_en) if library else None,
        )
        queued = await outbox.enqueue_notices(
            session,
            [
                Notice(
                    reader_id=reader_id,
                    data=decided,
                    dedup_key=f"suggestion:{suggestion_id}:{status.value}:{reader_id}",
                )
                for reader_id in voters
            ],
            now=now,
        )
        audit.record(
            session,
            actor,
            "suggestion.approve" if approve else "suggestion.decline",
            target_type="purchase_suggestion",
            target_id=suggestion_id,
            query=suggestion.query,
            library=library.code if library else None,
            voters=len(voters),
        )
    return suggestion, queued


async def approved_by_library(
    session: AsyncSession, library_id: int | None = None
) -> list[tuple[Library, list[SuggestionView]]]:
    """Approved suggestions grouped by the library that buys them (most voted first)."""
    query = (
        select(PurchaseSuggestion, Library)
        .join(Library, Library.id == PurchaseSuggestion.library_id)
        .where(PurchaseSuggestion.status == SuggestionStatus.APPROVED)
        .order_by(Library.code, PurchaseSuggestion.votes.desc(), PurchaseSuggestion.id)
    )
    if library_id is not None:
        query = query.where(Library.id == library_id)
    grouped: dict[int, tuple[Library, list[SuggestionView]]] = {}
    for suggestion, library in (await session.execute(query)).all():
        grouped.setdefault(library.id, (library, []))[1].append(_view(suggestion, library))
    return list(grouped.values())


def approved_csv(groups: list[tuple[Library, list[SuggestionView]]]) -> str:
    """The buying lists as CSV: library, title or query, ISBN, votes, approval date."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["library", "library_name", "suggestion_id", "title", "isbn", "votes", "approved_at"]
    )
    for library, suggestions in groups:
        for item in suggestions:
            writer.writerow(
                [
                    library.code,
                    library.name,
                    item.id,
                    item.query,
                    item.isbn or "",
                    item.votes,
                    item.decided_at.date().isoformat() if item.decided_at else "",
                ]
            )
    return out.getvalue()
