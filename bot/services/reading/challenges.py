"""Reading challenges, alone or by team (a district, a school or university, a college or
department; see ``teams``): read a number of books in a period, finish a reading list
(every book on it), or explore a CLC class (a number of books whose work has a Chinese
Library Classification number in one top class, A-Z).

Progress counts the reads in the reading log dated within the period (for a list, those of
the list's books as they were when the challenge was set: they are frozen then, so editing
the list later changes neither the target nor what counts; for a class, those of books in
the class). A participant completes once (a conditional UPDATE, so two reads logged at once
complete it once), earning the challenge badge in the same transaction; the handler then
sends the certificate. Streaks are weeks in a row with at least one read.
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
    ChallengeBook,
    ChallengeEntry,
    Reader,
    ReadingList,
    ReadingListEntry,
    ReadingLog,
    Work,
)
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.reading import badges, teams
from bot.services.reading.lists import parse_titles
from bot.services.reading.teams import TeamKind
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
    team: TeamKind
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


def _team(word: str) -> TeamKind | None:
    """``team`` (by district), ``team:district``, ``team:school`` or ``team:department``;
    None when the word is not about teams (it begins the title)."""
    word = word.lower()
    if word == "team":
        return TeamKind.DISTRICT
    if not word.startswith("team:"):
        return None
    try:
        kind = TeamKind(word.removeprefix("team:"))
    except ValueError:
        raise BadChallenge("team") from None
    if kind is TeamKind.NONE:
        raise BadChallenge("team")
    return kind


def parse_challenge(text: str, zone: tzinfo) -> ChallengeSpec:
    """``GOAL FROM..TO [team[:KIND]] 中文标题 | English title``; dates in the alliance's zone,
    both days included. ``list:LIST`` in place of the goal: finish that reading list;
    ``GOAL:CLASS`` (e.g. ``3:I``): that many books in a CLC top class. ``team`` makes teams
    by district; ``team:school`` by school or university, ``team:department`` by college or
    department."""
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
    words = parts[2].split(maxsplit=1)
    team = _team(words[0])
    rest = parts[2]
    if team is not None:
        rest = words[1] if len(words) > 1 else ""
    title, title_en = parse_titles(rest)
    starts = datetime(first.year, first.month, first.day, tzinfo=zone)
    end_day = last + timedelta(days=1)
    ends = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone)
    return ChallengeSpec(
        goal, starts, ends, team or TeamKind.NONE, title, title_en, kind, list_id, clc_class
    )


async def _list_books(session: AsyncSession, list_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(ReadingListEntry.work_id).where(ReadingListEntry.list_id == list_id)
        )
    )


async def create_challenge(
    session: AsyncSession, author: Reader, spec: ChallengeSpec, now: datetime
) -> Challenge:
    """A new challenge; one whose period has already ended is refused."""
    if spec.ends_at <= now:
        raise ChallengeEnded(spec.ends_at)
    async with write(session):
        books: list[int] = []
        if spec.kind == LIST:
            # A list to finish must be published (readers open it) and have books on it;
            # its books are frozen for the challenge, in the same transaction.
            list_id = spec.list_id or 0
            found = await session.get(ReadingList, list_id) if valid_id(list_id) else None
            books = await _list_books(session, found.id) if found and found.published else []
            if not books or len(books) > MAX_GOAL:
                raise BadChallenge("list")
        made = Challenge(
            title=spec.title,
            title_en=spec.title_en,
            goal=len(books) if spec.kind == LIST else spec.goal,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            team_kind=spec.team.value,
            created_by_id=author.id,
            kind=spec.kind,
            list_id=spec.list_id,
            clc_class=spec.clc_class,
        )
        session.add(made)
        await session.flush()
        session.add_all(ChallengeBook(challenge_id=made.id, work_id=work) for work in books)
        return made


async def _challenge(session: AsyncSession, challenge_id: int) -> Challenge:
    found = await session.get(Challenge, challenge_id) if valid_id(challenge_id) else None
    if found is None:
        raise NotFoundError("challenge")
    return found


@dataclass(frozen=True)
class Joined:
    """A challenge joined: the participant's team (None: alone) and what it completed."""

    challenge: Challenge
    kind: TeamKind
    team: teams.TeamName | None
    completed: list[Challenge]


async def join(session: AsyncSession, reader: Reader, challenge_id: int, now: datetime) -> Joined:
    """Take part (twice is once) in the reader's team of the challenge's kind, or alone
    without one; a challenge whose period has ended is refused. Reads already logged in
    the period count, so joining may complete it."""
    found = await _challenge(session, challenge_id)
    if found.ends_at <= now:
        raise ChallengeEnded(found.ends_at)
    kind = TeamKind(found.team_kind)
    team_id = await teams.team_of(session, reader, kind)
    try:
        async with write(session):
            entry = await session.scalar(
                select(ChallengeEntry).where(
                    ChallengeEntry.challenge_id == found.id, ChallengeEntry.reader_id == reader.id
                )
            )
            if entry is None:
                entry = ChallengeEntry(
                    challenge_id=found.id, reader_id=reader.id, joined_at=now, team_id=team_id
                )
                session.add(entry)
            team_id = entry.team_id
    except IntegrityError:
        pass  # joined by another tap at the same moment
    name = await teams.team_name(session, kind, team_id)
    return Joined(found, kind, name, await record_reads(session, reader, now))


def counted(challenge: Challenge) -> list[ColumnElement[bool]]:
    """Which reads count: dated within the period, and of the kind's books."""
    found = [ReadingLog.read_at >= challenge.starts_at, ReadingLog.read_at < challenge.ends_at]
    if challenge.kind == LIST:
        found.append(
            ReadingLog.work_id.in_(
                select(ChallengeBook.work_id).where(ChallengeBook.challenge_id == challenge.id)
            )
        )
    elif challenge.kind == CLC:
        # Stored as a JSON array of strings: an element in the class begins with '"X'.
        in_class = cast(Work.clc_numbers, String).ilike(f'%"{challenge.clc_class}%')
        found.append(ReadingLog.work_id.in_(select(Work.id).where(in_class)))
    return found


def target(challenge: Challenge) -> int:
    """The books to read: the goal (for a list, its books when the challenge was set)."""
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
                target(challenge),
            )
        )
    return found


async def record_reads(session: AsyncSession, reader: Reader, now: datetime) -> list[Challenge]:
    """After a read is logged (or on joining): the challenges it completed just now (each
    only once), with the challenge badge; joins the caller's ``write`` when there is one."""
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
        goal = target(challenge)
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
                await badges.award(session, reader.id, [badges.Badge.CHALLENGE], now)
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


async def leaderboard(session: AsyncSession, challenge_id: int) -> teams.Board:
    """The team challenge's leaderboard (counts only); NotFoundError for one without teams."""
    challenge = await _challenge(session, challenge_id)
    return await teams.board(session, challenge, counted(challenge))


async def running_for_list(session: AsyncSession, list_id: int, now: datetime) -> int:
    """How many challenges to finish the list are not over yet (they keep their books)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Challenge)
        .where(Challenge.kind == LIST, Challenge.list_id == list_id, Challenge.ends_at > now)
    )
    return int(count or 0)


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
