"""Recommendations from what readers reserve and read together (item-to-item co-occurrence).

A work is recommended to a reader when other readers who reserved or read the same works as
they did also reserved or read it: each pair of works scores the number of readers they
share, divided by the geometric mean of their readers (cosine similarity), so that what
everybody reserves does not crowd out what readers like this one reserve. Each
recommendation keeps the work of the reader's that scored it most: "because you reserved …".
A reader with no history yet gets what is popular among readers of their district, works on
their interests first. Plain SQL over the holds and the reading log; no model to train or
keep fresh. Forgotten readers' holds are left out (their reads are already deleted).
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import AlsoReservedPair, Hold, Reader, ReadingLog, Work
from bot.services.reading.preferences import preferences
from bot.services.reading.rankings import MIN_READERS

RECOMMENDATIONS = 10
ALSO_RESERVED = 3


class Reason(enum.StrEnum):
    RESERVED = "reserved"  # because you reserved <work>
    READ = "read"  # because you read <work>
    INTEREST = "interest"  # popular near you, on a subject you like
    DISTRICT = "district"  # popular in your district
    ALLIANCE = "alliance"  # popular in the alliance


@dataclass(frozen=True)
class Recommendation:
    work_id: int
    title: str
    original_title: str | None
    reason: Reason
    # The reader's own work behind it (co-occurrence), or the interest it matches.
    because: str | None = None
    because_original: str | None = None


class RecommendationsOff(Exception):
    """The reader turned personal recommendations off in /settings."""


def interactions() -> Select[Any]:
    """(reader_id, work_id, kind) of every hold and read, of readers not forgotten."""
    holds = select(
        Hold.reader_id.label("reader_id"),
        Hold.work_id.label("work_id"),
        literal(Reason.RESERVED.value).label("kind"),
    )
    reads = select(
        ReadingLog.reader_id.label("reader_id"),
        ReadingLog.work_id.label("work_id"),
        literal(Reason.READ.value).label("kind"),
    )
    both = union_all(holds, reads).subquery()
    return (
        select(both.c.reader_id, both.c.work_id, both.c.kind)
        .join(Reader, Reader.id == both.c.reader_id)
        .where(Reader.forgotten_at.is_(None))
    )


async def history(session: AsyncSession, reader_id: int) -> dict[int, Reason]:
    """The works the reader reserved or read (read wins: it says more)."""
    found: dict[int, Reason] = {}
    holds = await session.scalars(select(Hold.work_id).where(Hold.reader_id == reader_id))
    for work_id in holds:
        found[work_id] = Reason.RESERVED
    reads = await session.scalars(
        select(ReadingLog.work_id).where(ReadingLog.reader_id == reader_id)
    )
    for work_id in reads:
        found[work_id] = Reason.READ
    return found


async def _popularity(session: AsyncSession, work_ids: set[int]) -> dict[int, int]:
    """How many different readers reserved or read each work."""
    if not work_ids:
        return {}
    events = interactions().subquery()
    rows = await session.execute(
        select(events.c.work_id, func.count(func.distinct(events.c.reader_id)))
        .where(events.c.work_id.in_(work_ids))
        .group_by(events.c.work_id)
    )
    return {int(work_id): int(count) for work_id, count in rows}


async def _co_occurrence(
    session: AsyncSession, reader_id: int, mine: set[int]
) -> dict[tuple[int, int], int]:
    """(my work, other work) -> readers who have both, over other readers."""
    a = interactions().subquery()
    b = interactions().subquery()
    shared = func.count(func.distinct(b.c.reader_id))
    rows = await session.execute(
        select(a.c.work_id, b.c.work_id, shared)
        .join(b, (b.c.reader_id == a.c.reader_id) & (b.c.work_id != a.c.work_id))
        .where(a.c.work_id.in_(mine), a.c.reader_id != reader_id, b.c.work_id.not_in(mine))
        .group_by(a.c.work_id, b.c.work_id)
    )
    return {(seed, other): count for seed, other, count in rows}


async def _titles(session: AsyncSession, work_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    if not work_ids:
        return {}
    rows = await session.execute(
        select(Work.id, Work.title, Work.original_title).where(Work.id.in_(work_ids))
    )
    return {work_id: (title, original) for work_id, title, original in rows}


async def scored_by_history(
    session: AsyncSession, reader_id: int, mine: dict[int, Reason], limit: int
) -> list[tuple[int, int]]:
    """(work, the reader's work behind it), best first, from co-occurrence."""
    if not mine:
        return []
    pairs = await _co_occurrence(session, reader_id, set(mine))
    popularity = await _popularity(session, set(mine) | {other for _, other in pairs})
    score: dict[int, float] = defaultdict(float)
    best: dict[int, tuple[float, int]] = {}
    for (seed, other), shared in pairs.items():
        similarity = shared / math.sqrt(popularity.get(seed, 1) * popularity.get(other, 1))
        score[other] += similarity
        if other not in best or similarity > best[other][0]:
            best[other] = (similarity, seed)
    ranked = sorted(score, key=lambda work_id: (-score[work_id], work_id))[:limit]
    return [(work_id, best[work_id][1]) for work_id in ranked]


async def popular_near(
    session: AsyncSession,
    district_id: int | None,
    exclude: set[int],
    limit: int,
) -> list[int]:
    """The works most readers of the district reserved or read (the alliance's without one)."""
    events = interactions().subquery()
    readers = func.count(func.distinct(events.c.reader_id))
    query = (
        select(events.c.work_id)
        .join(Reader, Reader.id == events.c.reader_id)
        .group_by(events.c.work_id)
        .order_by(readers.desc(), events.c.work_id)
        .limit(limit + len(exclude))
    )
    if district_id is not None:
        query = query.where(Reader.district_id == district_id)
    found = [work_id for work_id in await session.scalars(query) if work_id not in exclude]
    return found[:limit]


async def _cold_start(
    session: AsyncSession, reader: Reader, exclude: set[int], limit: int
) -> list[Recommendation]:
    """Popular in the reader's district, the works on their interests first."""
    district = reader.district_id
    candidates = await popular_near(session, district, exclude, limit * 3)
    if len(candidates) < limit and district is not None:
        more = await popular_near(session, None, exclude | set(candidates), limit * 3)
        candidates += more
    works = {
        work.id: work for work in await session.scalars(select(Work).where(Work.id.in_(candidates)))
    }
    interests = {interest.casefold() for interest in reader.interests}
    matched: list[Recommendation] = []
    others: list[Recommendation] = []
    reason = Reason.DISTRICT if district is not None else Reason.ALLIANCE
    for work_id in candidates:
        work = works[work_id]
        subject = next((s for s in work.subjects if s.casefold() in interests), None)
        if subject is not None:
            matched.append(
                Recommendation(work.id, work.title, work.original_title, Reason.INTEREST, subject)
            )
        else:
            others.append(Recommendation(work.id, work.title, work.original_title, reason))
    return (matched + others)[:limit]


async def for_reader(
    session: AsyncSession, reader: Reader, *, limit: int = RECOMMENDATIONS
) -> list[Recommendation]:
    """Up to ``limit`` works for the reader, each with its reason; RecommendationsOff if off."""
    if not (await preferences(session, reader.id)).recommendations:
        raise RecommendationsOff()
    return await recommend(session, reader, limit=limit)


async def recommend(
    session: AsyncSession, reader: Reader, *, limit: int = RECOMMENDATIONS
) -> list[Recommendation]:
    """The recommendations themselves (no opt-out check: the benchmark calls this)."""
    mine = await history(session, reader.id)
    scored = await scored_by_history(session, reader.id, mine, limit)
    titles = await _titles(session, {w for w, _ in scored} | {s for _, s in scored})
    found = [
        Recommendation(
            work_id,
            *titles[work_id],
            reason=mine[seed],
            because=titles[seed][0],
            because_original=titles[seed][1],
        )
        for work_id, seed in scored
    ]
    if len(found) < limit:
        exclude = set(mine) | {item.work_id for item in found}
        found += await _cold_start(session, reader, exclude, limit - len(found))
    return found


@dataclass(frozen=True)
class AlsoReserved:
    work_id: int
    title: str
    original_title: str | None
    readers: int


async def refresh_also_reserved(session: AsyncSession, works: set[int] | None = None) -> int:
    """Recount the pairs of works reserved by the same readers; pairs under MIN_READERS go.

    All pairs (the reading job), or only the pairs that involve ``works`` (a forgotten
    reader's works). Forgotten readers count for nothing. Returns the pairs now stored.
    """
    a = Hold.__table__.alias("a")
    b = Hold.__table__.alias("b")
    shared = func.count(func.distinct(a.c.reader_id))
    pairs = (
        select(a.c.work_id, b.c.work_id, shared)
        .select_from(a)
        .join(b, (b.c.reader_id == a.c.reader_id) & (b.c.work_id != a.c.work_id))
        .join(Reader, Reader.id == a.c.reader_id)
        .where(Reader.forgotten_at.is_(None))
        .group_by(a.c.work_id, b.c.work_id)
        .having(shared >= MIN_READERS)
    )
    stale = delete(AlsoReservedPair)
    if works is not None:
        if not works:
            return 0
        pairs = pairs.where(a.c.work_id.in_(works) | b.c.work_id.in_(works))
        stale = stale.where(
            AlsoReservedPair.work_id.in_(works) | AlsoReservedPair.other_work_id.in_(works)
        )
    async with write(session):
        await session.execute(stale)
        result = await session.execute(
            insert(AlsoReservedPair).from_select(["work_id", "other_work_id", "readers"], pairs)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget_reader_pairs(session: AsyncSession, reader_id: int) -> int:
    """Recount the pairs of a reader just forgotten, so they leave every card at once."""
    works = set(await session.scalars(select(Hold.work_id).where(Hold.reader_id == reader_id)))
    return await refresh_also_reserved(session, works)


async def also_reserved(
    session: AsyncSession, work_id: int, *, limit: int = ALSO_RESERVED
) -> list[AlsoReserved]:
    """Works that readers who reserved this one also reserved, each by at least MIN_READERS.

    One lookup in the pairs the reading job keeps (``refresh_also_reserved``).
    """
    rows = await session.execute(
        select(Work.id, Work.title, Work.original_title, AlsoReservedPair.readers)
        .join(AlsoReservedPair, AlsoReservedPair.other_work_id == Work.id)
        .where(AlsoReservedPair.work_id == work_id)
        .order_by(AlsoReservedPair.readers.desc(), Work.id)
        .limit(limit)
    )
    return [AlsoReserved(*row) for row in rows]
