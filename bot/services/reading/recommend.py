"""Recommendations from what readers reserve and read together (item-to-item co-occurrence),
starting from what the reader reserved, read or follows.

A work is recommended to a reader when other readers who reserved or read the same works as
they did also reserved or read it: each pair of works scores the number of readers they
share, divided by the geometric mean of their readers (cosine similarity), so that what
everybody reserves does not crowd out what readers like this one reserve. The reader's own
works are what they reserved or read and the books of the published lists they follow (a
follower is interested in them, and has not got them: they are seeds, never exclusions).
Each recommendation keeps the work of the reader's that scored it most: "because you
reserved …", or "because you follow the list …". Other readers' follows are not counted in
the pairs scored here: bench.recommend measured them to lower the hit rate (a list's dozen
books swamp the few each reader reserved); the card's block, kept by the reading job, does
count them (``ALSO_FOLLOWS``), where they measured better. A reader with no history yet gets
what is popular among readers of their district, works on their interests first. Plain SQL;
no model to train or keep fresh. Forgotten readers' holds are left out (their reads and
follows are already deleted).
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
from bot.models import (
    AlsoReservedPair,
    Hold,
    ListFollow,
    Reader,
    ReadingList,
    ReadingListEntry,
    ReadingLog,
    Work,
)
from bot.services.reading.preferences import preferences
from bot.services.reading.rankings import MIN_READERS

RECOMMENDATIONS = 10
ALSO_RESERVED = 3
# The card's block counts a list's followers as if they had reserved its books: in
# bench.recommend this made the block hit a later hold more often (see bench/RESULTS.md).
ALSO_FOLLOWS = True


class Reason(enum.StrEnum):
    RESERVED = "reserved"  # because you reserved <work>
    READ = "read"  # because you read <work>
    FOLLOWED = "followed"  # because you follow the list <list>
    INTEREST = "interest"  # popular near you, on a subject you like
    DISTRICT = "district"  # popular in your district
    ALLIANCE = "alliance"  # popular in the alliance


@dataclass(frozen=True)
class Recommendation:
    work_id: int
    title: str
    original_title: str | None
    reason: Reason
    # The reader's own work behind it (co-occurrence), the list they follow with that work
    # on it (FOLLOWED), or the interest it matches.
    because: str | None = None
    because_original: str | None = None


class RecommendationsOff(Exception):
    """The reader turned personal recommendations off in /settings."""


@dataclass(frozen=True)
class Seed:
    """A work of the reader's: reserved, read, or on a published list they follow (which)."""

    reason: Reason
    list_title: str | None = None
    list_title_en: str | None = None


def followed_works() -> Select[Any, Any, Any]:
    """(reader_id, work_id, list) for every book on a published list a reader follows."""
    return (
        select(
            ListFollow.reader_id.label("reader_id"),
            ReadingListEntry.work_id.label("work_id"),
            ListFollow.list_id.label("list_id"),
        )
        .join(ReadingListEntry, ReadingListEntry.list_id == ListFollow.list_id)
        .join(ReadingList, ReadingList.id == ListFollow.list_id)
        .where(ReadingList.published.is_(True))
    )


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


async def history(
    session: AsyncSession, reader_id: int, *, follows: bool = True
) -> dict[int, Seed]:
    """The reader's works: reserved, read (read wins: it says more), and with ``follows``
    the books on the published lists they follow that they have not reserved or read."""
    found: dict[int, Seed] = {}
    if follows:
        followed = followed_works().subquery()
        rows = await session.execute(
            select(followed.c.work_id, ReadingList.title, ReadingList.title_en)
            .join(ReadingList, ReadingList.id == followed.c.list_id)
            .where(followed.c.reader_id == reader_id)
            .order_by(followed.c.list_id.desc())
        )
        for work_id, title, title_en in rows:
            found[work_id] = Seed(Reason.FOLLOWED, title, title_en)
    holds = await session.scalars(select(Hold.work_id).where(Hold.reader_id == reader_id))
    for work_id in holds:
        found[work_id] = Seed(Reason.RESERVED)
    reads = await session.scalars(
        select(ReadingLog.work_id).where(ReadingLog.reader_id == reader_id)
    )
    for work_id in reads:
        found[work_id] = Seed(Reason.READ)
    return found


def has_got(mine: dict[int, Seed]) -> set[int]:
    """The works the reader reserved or read: never recommended back to them."""
    return {work_id for work_id, seed in mine.items() if seed.reason is not Reason.FOLLOWED}


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
    session: AsyncSession, reader_id: int, seeds: set[int], exclude: set[int]
) -> dict[tuple[int, int], int]:
    """(my work, other work) -> readers who have both, over other readers."""
    a = interactions().subquery()
    b = interactions().subquery()
    shared = func.count(func.distinct(b.c.reader_id))
    rows = await session.execute(
        select(a.c.work_id, b.c.work_id, shared)
        .join(b, (b.c.reader_id == a.c.reader_id) & (b.c.work_id != a.c.work_id))
        .where(a.c.work_id.in_(seeds), a.c.reader_id != reader_id, b.c.work_id.not_in(exclude))
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
    session: AsyncSession, reader_id: int, mine: dict[int, Seed], limit: int
) -> list[tuple[int, int]]:
    """(work, the reader's work behind it), best first, from co-occurrence."""
    if not mine:
        return []
    pairs = await _co_occurrence(session, reader_id, set(mine), has_got(mine))
    works = set(mine) | {other for _, other in pairs}
    popularity = await _popularity(session, works)
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


def _explained(
    work_id: int, seed: Seed, seed_id: int, titles: dict[int, tuple[str, str | None]]
) -> Recommendation:
    """The recommendation of ``work_id``, saying which work (or followed list) led to it."""
    because, original = titles[seed_id]
    if seed.reason is Reason.FOLLOWED and seed.list_title is not None:
        # As titles go: the English title (else the Chinese) and the Chinese original.
        because, original = seed.list_title_en or seed.list_title, seed.list_title
    return Recommendation(
        work_id, *titles[work_id], reason=seed.reason, because=because, because_original=original
    )


async def recommend(
    session: AsyncSession, reader: Reader, *, limit: int = RECOMMENDATIONS, follows: bool = True
) -> list[Recommendation]:
    """The recommendations themselves (no opt-out check: the benchmark calls this, also with
    ``follows`` off to measure what list follows add)."""
    mine = await history(session, reader.id, follows=follows)
    scored = await scored_by_history(session, reader.id, mine, limit)
    titles = await _titles(session, {w for w, _ in scored} | {s for _, s in scored})
    found = [_explained(work_id, mine[seed], seed, titles) for work_id, seed in scored]
    if len(found) < limit:
        exclude = has_got(mine) | {item.work_id for item in found}
        found += await _cold_start(session, reader, exclude, limit - len(found))
    return found


@dataclass(frozen=True)
class AlsoReserved:
    work_id: int
    title: str
    original_title: str | None
    readers: int


def _reserved_or_followed(name: str, *, follows: bool) -> Any:
    """(reader_id, work_id) of every hold, and with ``follows`` of every followed list's book."""
    if not follows:
        return Hold.__table__.alias(name)
    holds = select(Hold.reader_id.label("reader_id"), Hold.work_id.label("work_id"))
    followed = followed_works().subquery()
    return union_all(holds, select(followed.c.reader_id, followed.c.work_id)).subquery(name)


async def refresh_also_reserved(
    session: AsyncSession, works: set[int] | None = None, *, follows: bool = ALSO_FOLLOWS
) -> int:
    """Recount the pairs of works reserved by the same readers; pairs under MIN_READERS go.

    All pairs (the reading job), or only the pairs that involve ``works`` (a forgotten
    reader's works). Forgotten readers count for nothing. With ``follows``, a reader who
    follows a list counts as having reserved its books. Returns the pairs now stored.
    """
    a = _reserved_or_followed("a", follows=follows)
    b = _reserved_or_followed("b", follows=follows)
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


async def pair_works(session: AsyncSession, reader_id: int) -> set[int]:
    """The works whose card blocks count the reader: those they reserved, and the books of
    the lists they follow (take them before the reader's rows are erased)."""
    works = set(await session.scalars(select(Hold.work_id).where(Hold.reader_id == reader_id)))
    if ALSO_FOLLOWS:
        followed = followed_works().subquery()
        works |= set(
            await session.scalars(
                select(followed.c.work_id).where(followed.c.reader_id == reader_id)
            )
        )
    return works


async def forget_reader_pairs(session: AsyncSession, works: set[int]) -> int:
    """Recount the pairs of a reader just forgotten (their ``pair_works``), so they leave
    every card at once."""
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
