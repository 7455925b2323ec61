"""Reading challenges, alone or as a district's team: read a number of books in a period,
finish a reading list (every book on it), or explore a CLC class (a number of books whose
work has a Chinese Library Classification number in one top class, A-Z).

Progress counts the reads in the reading log dated within the period (for a list, those of
books on the list; for a class, those of books in the class). A participant
completes once (a conditional UPDATE, so two reads logged at once complete it once); the
handler then sends the certificate. Streaks are weeks in a row with at least one read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, String, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import (
    Challenge,
    ChallengeEntry,
    District,
    Reader,
    ReadingList,
    ReadingListEntry,
    ReadingLog,
    Work,
)
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.reading.lists import parse_titles
from bot.services.search.query import valid_id

MAX_GOAL = 1000
MAX_DAYS = 366
BOOKS, LIST, CLC = "books", "list", "clc"
_LIST = re.compile(r"list:(\d{1,9})", re.IGNORECASE)
_CLASS = re.compile(r"(\d{1,6}):([A-Za-z])")
_PERIOD = re.compile(r"(\d{4})-(\d{2})-(\d{2})\.\.(\d{4})-(\d{2})-(\d{2})")


class BadChallenge(InvalidInputError):
    """The goal or period is malformed; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChallengeEnded(InvalidInputError):
    """The challenge's period is over: nobody can join it (or create it so)."""

    def __init__(self, ended: datetime) -> None:
        super().__init__(ended.isoformat())
        self.ended = ended


@dataclass(frozen=True)
class ChallengeSpec:
    goal: int
    starts_at: datetime
    ends_at: datetime
    team: bool
    title: str
    title_en: str | None
    kind: str = BOOKS
    list_id: int | None = None
    clc_class: str | None = None


def _kind(token: str) -> tuple[str, int, int | None, str | None]:
    """``GOAL``, ``list:LIST`` or ``GOAL:CLASS``: the kind, goal, list and class."""
    listed = _LIST.fullmatch(token)
    if listed is not None:
        return LIST, 1, int(listed[1]), None
    explore = _CLASS.fullmatch(token)
    if explore is not None:
        return CLC, int(explore[1]), None, explore[2].upper()
    if not token.isdigit():
        raise BadChallenge("format")
    return BOOKS, int(token[:6]), None, None


def parse_challenge(text: str, zone: tzinfo) -> ChallengeSpec:
    """``GOAL FROM..TO [team] 中文标题 | English title``; dates in the alliance's zone, both
    days included. ``list:LIST`` in place of the goal: finish that reading list;
    ``GOAL:CLASS`` (e.g. ``3:I``): that many books in a CLC top class."""
    parts = text.split(maxsplit=2)
    if len(parts) < 3:
        raise BadChallenge("format")
    kind, goal, list_id, clc_class = _kind(parts[0])
    if not 1 <= goal <= MAX_GOAL:
        raise BadChallenge("goal")
    match = _PERIOD.fullmatch(parts[1])
    if match is None:
        raise BadChallenge("format")
    try:
        first = date(int(match[1]), int(match[2]), int(match[3]))
        last = date(int(match[4]), int(match[5]), int(match[6]))
    except ValueError:
        raise BadChallenge("date") from None
    if last < first or (last - first).days >= MAX_DAYS:
        raise BadChallenge("period")
    rest = parts[2]
    team = rest.split(maxsplit=1)[0].lower() == "team"
    if team:
        rest = rest.split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else ""
    title, title_en = parse_titles(rest)
    starts = datetime(first.year, first.month, first.day, tzinfo=zone)
    end_day = last + timedelta(days=1)
    ends = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone)
    return ChallengeSpec(goal, starts, ends, team, title, title_en, kind, list_id, clc_class)


async def _list_size(session: AsyncSession, list_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(ReadingListEntry)
        .where(ReadingListEntry.list_id == list_id)
    )
    return int(count or 0)


async def create_challenge(
    session: AsyncSession, author: Reader, spec: ChallengeSpec, now: datetime
) -> Challenge:
    """A new challenge; one whose period has already ended is refused."""
    if spec.ends_at <= now:
        raise ChallengeEnded(spec.ends_at)
    goal = spec.goal
    if spec.kind == LIST:
        # A list to finish must be published (readers open it) and have books on it.
        list_id = spec.list_id or 0
        found = await session.get(ReadingList, list_id) if valid_id(list_id) else None
        goal = await _list_size(session, found.id) if found and found.published else 0
        if goal == 0:
            raise BadChallenge("list")
    async with write(session):
        made = Challenge(
            title=spec.title,
            title_en=spec.title_en,
            goal=goal,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            team_by_district=spec.team,
            created_by_id=author.id,
            kind=spec.kind,
            list_id=spec.list_id,
            clc_class=spec.clc_class,
        )
        session.add(made)
        await session.flush()
        return made


async def _challenge(session: AsyncSession, challenge_id: int) -> Challenge:
    found = await session.get(Challenge, challenge_id) if valid_id(challenge_id) else None
    if found is None:
        raise NotFoundError("challenge")
    return found


async def join(
    session: AsyncSession, reader: Reader, challenge_id: int, now: datetime
) -> Challenge:
    """Take part (twice is once); a challenge whose period has ended is refused."""
    found = await _challenge(session, challenge_id)
    if found.ends_at <= now:
        raise ChallengeEnded(found.ends_at)
    try:
        async with write(session):
            exists = await session.scalar(
                select(ChallengeEntry.id).where(
                    ChallengeEntry.challenge_id == found.id, ChallengeEntry.reader_id == reader.id
                )
            )
            if exists is None:
                session.add(
                    ChallengeEntry(challenge_id=found.id, reader_id=reader.id, joined_at=now)
                )
    except IntegrityError:
        pass  # joined by another tap at the same moment
    return found


def counted(challenge: Challenge) -> list[ColumnElement[bool]]:
    """Which reads count: dated within the period, and of the kind's books."""
    found = [ReadingLog.read_at >= challenge.starts_at, ReadingLog.read_at < challenge.ends_at]
    if challenge.kind == LIST:
        found.append(
            ReadingLog.work_id.in_(
                select(ReadingListEntry.work_id).where(
                    ReadingListEntry.list_id == challenge.list_id
                )
            )
        )
    elif challenge.kind == CLC:
        # Stored as a JSON array of strings: an element in the class begins with '"X'.
        in_class = cast(Work.clc_numbers, String).ilike(f'%"{challenge.clc_class}%')
        found.append(ReadingLog.work_id.in_(select(Work.id).where(in_class)))
    return found


async def target(session: AsyncSession, challenge: Challenge) -> int:
    """The books to read: the goal, or every book on the list as it is now."""
    if challenge.kind == LIST:
        return await _list_size(session, challenge.list_id) if challenge.list_id else 0
    return challenge.goal


async def reads_in(session: AsyncSession, reader_id: int, challenge: Challenge) -> int:
    """The reader's reads that count for the challenge."""
    count = await session.scalar(
        select(func.count())
        .select_from(ReadingLog)
        .where(ReadingLog.reader_id == reader_id, *counted(challenge))
    )
    return int(count or 0)


@dataclass(frozen=True)
class Standing:
    challenge: Challenge
    joined: bool
    progress: int
    completed_at: datetime | None
    target: int


async def standings(session: AsyncSession, reader: Reader, now: datetime) -> list[Standing]:
    """Challenges not yet over (and those the reader completed), with the reader's progress."""
    rows = await session.execute(
        select(Challenge, ChallengeEntry)
        .outerjoin(
            ChallengeEntry,
            (ChallengeEntry.challenge_id == Challenge.id) & (ChallengeEntry.reader_id == reader.id),
        )
        .where((Challenge.ends_at > now) | ChallengeEntry.completed_at.is_not(None))
        .order_by(Challenge.ends_at, Challenge.id)
        .limit(20)
    )
    found = []
    for challenge, entry in rows:
        progress = await reads_in(session, reader.id, challenge) if entry is not None else 0
        found.append(
            Standing(
                challenge,
                entry is not None,
                progress,
                entry.completed_at if entry else None,
                await target(session, challenge),
            )
        )
    return found


async def record_reads(session: AsyncSession, reader: Reader, now: datetime) -> list[Challenge]:
    """After a read is logged: the challenges it completed just now (each only once)."""
    rows = await session.execute(
        select(Challenge, ChallengeEntry.id)
        .join(ChallengeEntry, ChallengeEntry.challenge_id == Challenge.id)
        .where(
            ChallengeEntry.reader_id == reader.id,
            ChallengeEntry.completed_at.is_(None),
            Challenge.starts_at <= now,
            Challenge.ends_at > now,
        )
    )
    done = []
    for challenge, entry_id in list(rows):
        goal = await target(session, challenge)
        if goal == 0 or await reads_in(session, reader.id, challenge) < goal:
            continue
        async with write(session):
            result = await session.execute(
                update(ChallengeEntry)
                .where(ChallengeEntry.id == entry_id, ChallengeEntry.completed_at.is_(None))
                .values(completed_at=now)
            )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            done.append(challenge)
    return done


async def completed(session: AsyncSession, reader: Reader, challenge_id: int) -> Challenge:
    """A challenge the reader completed (for its certificate), or NotFoundError."""
    found = await _challenge(session, challenge_id)
    entry = await session.scalar(
        select(ChallengeEntry).where(
            ChallengeEntry.challenge_id == found.id,
            ChallengeEntry.reader_id == reader.id,
            ChallengeEntry.completed_at.is_not(None),
        )
    )
    if entry is None:
        raise NotFoundError("challenge")
    return found


@dataclass(frozen=True)
class TeamRow:
    """One district's team: participants and books read in the period (counts only)."""

    district: District | None
    participants: int
    reads: int


async def leaderboard(session: AsyncSession, challenge_id: int) -> tuple[Challenge, list[TeamRow]]:
    """The teams by district, most books first; forgotten readers are in no team."""
    challenge = await _challenge(session, challenge_id)
    reads = (
        select(ReadingLog.reader_id, func.count().label("reads"))
        .where(*counted(challenge))
        .group_by(ReadingLog.reader_id)
        .subquery()
    )
    total = func.coalesce(func.sum(reads.c.reads), 0)
    rows = await session.execute(
        select(Reader.district_id, func.count(ChallengeEntry.id), total)
        .join(Reader, Reader.id == ChallengeEntry.reader_id)
        .outerjoin(reads, reads.c.reader_id == Reader.id)
        .where(ChallengeEntry.challenge_id == challenge.id, Reader.forgotten_at.is_(None))
        .group_by(Reader.district_id)
        .order_by(total.desc(), func.count(ChallengeEntry.id).desc())
    )
    teams = []
    for district_id, participants, books in rows:
        district = await session.get(District, district_id) if district_id else None
        teams.append(TeamRow(district, int(participants), int(books)))
    return challenge, teams


async def streak_weeks(session: AsyncSession, reader_id: int, now: datetime, zone: tzinfo) -> int:
    """Weeks in a row, up to this one (or the last, if none yet this week), with a read."""
    moments = await session.scalars(
        select(ReadingLog.read_at).where(ReadingLog.reader_id == reader_id)
    )
    weeks = {_week(moment.astimezone(zone).date()) for moment in moments}
    current = _week(now.astimezone(zone).date())
    if current not in weeks:
        current -= timedelta(days=7)
    count = 0
    while current in weeks:
        count += 1
        current -= timedelta(days=7)
    return count


def _week(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())
