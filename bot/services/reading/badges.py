"""Badges: milestones of a reader's reading life, each earned at most once.

A small set, as Goodreads and Beanstack keep theirs: the first book logged; 10, 25, 50 and
100 books; a streak of 4 and of 12 weeks in a row with a read; a challenge completed; a
published reading list finished (every book on it read). A badge is awarded in the
transaction of the read (or the completion) that earns it, with an INSERT that yields to an
existing row of the same reader and badge (a unique constraint), so two reads landing at
once award it once; the announcement is queued through the outbox in that same transaction,
and only for a row that was really inserted.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import insert_new
from bot.models import ReaderBadge, ReadingList, ReadingListEntry, ReadingLog
from bot.notices.intents import BadgeEarned, Notice
from bot.services import outbox


class Badge(enum.StrEnum):
    """Every badge, in the order the reader's badge view shows them."""

    FIRST_BOOK = "first_book"
    BOOKS_10 = "books_10"
    BOOKS_25 = "books_25"
    BOOKS_50 = "books_50"
    BOOKS_100 = "books_100"
    STREAK_4 = "streak_4"
    STREAK_12 = "streak_12"
    CHALLENGE = "challenge"
    LIST = "list"


# Books logged, and weeks in a row with a read, that earn each counted badge.
BOOK_MILESTONES = {
    1: Badge.FIRST_BOOK,
    10: Badge.BOOKS_10,
    25: Badge.BOOKS_25,
    50: Badge.BOOKS_50,
    100: Badge.BOOKS_100,
}
STREAK_MILESTONES = {4: Badge.STREAK_4, 12: Badge.STREAK_12}


async def award(
    session: AsyncSession, reader_id: int, badges: Iterable[Badge], now: datetime
) -> list[Badge]:
    """Award the badges the reader has not got yet, and queue their announcements.

    Call inside the caller's ``write`` block (the read or completion that earns them);
    returns the badges awarded just now.
    """
    held = set(
        await session.scalars(select(ReaderBadge.badge).where(ReaderBadge.reader_id == reader_id))
    )
    awarded = []
    for badge in badges:
        if badge.value in held:
            continue
        inserted = await session.execute(
            insert_new(session, ReaderBadge, ["reader_id", "badge"])
            .values(reader_id=reader_id, badge=badge.value, awarded_at=now)
            .returning(ReaderBadge.id)
        )
        if inserted.first() is not None:
            awarded.append(badge)
    if awarded:
        await outbox.enqueue_notices(
            session,
            [
                Notice(
                    reader_id=reader_id,
                    data=BadgeEarned(badge=badge.value),
                    dedup_key=f"reading.badge:{reader_id}:{badge.value}",
                )
                for badge in awarded
            ],
            now=now,
        )
    return awarded


async def _lists_finished(session: AsyncSession, reader_id: int, work_id: int) -> bool:
    """Whether the reader has now read every book of a published list with this work on it."""
    lists = (
        select(ReadingListEntry.list_id)
        .join(ReadingList, ReadingList.id == ReadingListEntry.list_id)
        .where(ReadingListEntry.work_id == work_id, ReadingList.published.is_(True))
    )
    finished = await session.scalar(
        select(ReadingListEntry.list_id)
        .outerjoin(
            ReadingLog,
            (ReadingLog.work_id == ReadingListEntry.work_id) & (ReadingLog.reader_id == reader_id),
        )
        .where(ReadingListEntry.list_id.in_(lists))
        .group_by(ReadingListEntry.list_id)
        .having(func.count(ReadingListEntry.id) == func.count(ReadingLog.id))
        .limit(1)
    )
    return finished is not None


async def earned_by_read(
    session: AsyncSession, reader_id: int, work_id: int, streak_weeks: int
) -> list[Badge]:
    """The badges the reader's log now qualifies for, after reading ``work_id``."""
    count = await session.scalar(
        select(func.count()).select_from(ReadingLog).where(ReadingLog.reader_id == reader_id)
    )
    found = [badge for books, badge in BOOK_MILESTONES.items() if int(count or 0) >= books]
    found += [badge for weeks, badge in STREAK_MILESTONES.items() if streak_weeks >= weeks]
    if await _lists_finished(session, reader_id, work_id):
        found.append(Badge.LIST)
    return found


@dataclass(frozen=True)
class Earned:
    """A badge the reader has, and when it was awarded."""

    badge: Badge
    awarded_at: datetime


async def badges_of(session: AsyncSession, reader_id: int) -> list[Earned]:
    """The reader's badges, in the catalogue's order."""
    rows = await session.execute(
        select(ReaderBadge.badge, ReaderBadge.awarded_at).where(ReaderBadge.reader_id == reader_id)
    )
    known = {badge.value: badge for badge in Badge}
    earned = [Earned(known[name], at) for name, at in rows if name in known]
    order = list(Badge)
    return sorted(earned, key=lambda item: order.index(item.badge))
