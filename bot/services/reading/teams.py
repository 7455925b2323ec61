"""Teams of reading challenges: by district, by school (or university), or by department.

A participant's team is the one they belong to when they join, and stays theirs for the
challenge (a reader who moves district or picks another department mid-way does not carry
books from one team to another). Their district is the one in /settings; their school is
their institution (a school or university library they follow, else where they last
collected, as rankings derive it); their department is the college or department of that
institution they picked in /settings. A reader without a team of the challenge's kind takes
part alone: their books count for them, and for no team. Leaderboards show counts only, and
forgotten readers are on none (their entries are deleted, and their reads with them).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import (
    Challenge,
    ChallengeEntry,
    District,
    Library,
    LibraryKind,
    Partner,
    PartnerInstitution,
    PartnerKind,
    Reader,
    ReadingLog,
    ReadingPreference,
)
from bot.services.errors import NotFoundError
from bot.services.reading.rankings import institution_of
from bot.services.search.query import valid_id

# The libraries that make an institution a reader belongs to, and the partners that are
# its colleges and departments.
INSTITUTION_KINDS = (LibraryKind.UNIVERSITY, LibraryKind.SCHOOL)
DEPARTMENT_KINDS = (PartnerKind.COLLEGE, PartnerKind.DEPARTMENT)
DEPARTMENTS_SHOWN = 30


class TeamKind(enum.StrEnum):
    """How a challenge's participants form teams."""

    NONE = "none"
    DISTRICT = "district"
    SCHOOL = "school"
    DEPARTMENT = "department"


@dataclass(frozen=True)
class TeamName:
    """A team's name in its original script and in English."""

    name: str
    name_en: str | None


async def school_of(session: AsyncSession, reader_id: int) -> Library | None:
    """The reader's school or university (its library), if we know it."""
    return await institution_of(session, reader_id, INSTITUTION_KINDS)


async def team_of(session: AsyncSession, reader: Reader, kind: TeamKind) -> int | None:
    """The id of the reader's team of this kind now (a district, library or partner)."""
    if kind is TeamKind.DISTRICT:
        return reader.district_id
    if kind is TeamKind.SCHOOL:
        school = await school_of(session, reader.id)
        return school.id if school is not None else None
    if kind is TeamKind.DEPARTMENT:
        department = await department_of(session, reader)
        return department.id if department is not None else None
    return None


# What each kind of team is, as a table with a name and an English name.
_TEAM_TABLES: dict[TeamKind, type[District] | type[Library] | type[Partner]] = {
    TeamKind.DISTRICT: District,
    TeamKind.SCHOOL: Library,
    TeamKind.DEPARTMENT: Partner,
}


async def team_names(
    session: AsyncSession, kind: TeamKind, team_ids: Collection[int]
) -> dict[int, TeamName]:
    """The names of those teams of that kind, in one query (missing ones are left out)."""
    table = _TEAM_TABLES.get(kind)
    if table is None or not team_ids:
        return {}
    rows = await session.execute(
        select(table.id, table.name, table.name_en).where(table.id.in_(set(team_ids)))
    )
    return {team_id: TeamName(name, name_en) for team_id, name, name_en in rows}


async def team_name(session: AsyncSession, kind: TeamKind, team_id: int | None) -> TeamName | None:
    """A team's name (None: no such team, or none at all)."""
    if team_id is None:
        return None
    return (await team_names(session, kind, [team_id])).get(team_id)


@dataclass(frozen=True)
class Departments:
    """The reader's institution, its colleges and departments, and the reader's choice."""

    school: Library | None
    choices: list[Partner]
    current: Partner | None


async def departments_for(session: AsyncSession, reader: Reader) -> Departments:
    """What the reader may pick as their department: those of their school or university."""
    school = await school_of(session, reader.id)
    choices: list[Partner] = []
    if school is not None:
        choices = list(
            await session.scalars(
                select(Partner)
                .join(PartnerInstitution, PartnerInstitution.partner_id == Partner.id)
                .where(
                    PartnerInstitution.library_id == school.id, Partner.kind.in_(DEPARTMENT_KINDS)
                )
                .order_by(Partner.kind, Partner.code)
                .limit(DEPARTMENTS_SHOWN)
            )
        )
    return Departments(school, choices, await department_of(session, reader))


async def department_of(session: AsyncSession, reader: Reader) -> Partner | None:
    """The college or department the reader picked, if any."""
    return await session.scalar(
        select(Partner)
        .join(ReadingPreference, ReadingPreference.department_id == Partner.id)
        .where(ReadingPreference.reader_id == reader.id)
    )


async def set_department(
    session: AsyncSession, reader: Reader, partner_id: int | None
) -> Partner | None:
    """Pick a department (one of the reader's institution's) or clear it (None)."""
    chosen = None
    if partner_id is not None:
        offered = await departments_for(session, reader)
        wanted = partner_id if valid_id(partner_id) else None
        chosen = next((choice for choice in offered.choices if choice.id == wanted), None)
        if chosen is None:
            raise NotFoundError("department")
    async with write(session):
        choices = await session.get(ReadingPreference, reader.id, with_for_update=True)
        if choices is None:
            choices = ReadingPreference(
                reader_id=reader.id, recommendations=True, weekly_digest=False
            )
            session.add(choices)
        choices.department_id = chosen.id if chosen else None
    return chosen


@dataclass(frozen=True)
class TeamRow:
    """One team: its participants and the books they read for the challenge (counts only)."""

    name: TeamName | None
    participants: int
    reads: int


@dataclass(frozen=True)
class Board:
    """A team challenge's leaderboard, and how many take part alone."""

    challenge: Challenge
    kind: TeamKind
    teams: list[TeamRow]
    alone: int


async def board(
    session: AsyncSession, challenge: Challenge, counted: Sequence[ColumnElement[bool]]
) -> Board:
    """The challenge's teams, most books first, counting the reads that ``counted`` selects
    (``challenges.counted``); forgotten readers are in no team."""
    kind = TeamKind(challenge.team_kind)
    if kind is TeamKind.NONE:
        raise NotFoundError("challenge")
    reads = (
        select(ReadingLog.reader_id, func.count().label("reads"))
        .where(*counted)
        .group_by(ReadingLog.reader_id)
        .subquery()
    )
    total = func.coalesce(func.sum(reads.c.reads), 0)
    participants = func.count(ChallengeEntry.id)
    rows = await session.execute(
        select(ChallengeEntry.team_id, participants, total)
        .join(Reader, Reader.id == ChallengeEntry.reader_id)
        .outerjoin(reads, reads.c.reader_id == Reader.id)
        .where(ChallengeEntry.challenge_id == challenge.id, Reader.forgotten_at.is_(None))
        .group_by(ChallengeEntry.team_id)
        .order_by(total.desc(), participants.desc(), ChallengeEntry.team_id)
    )
    counted_rows = rows.all()
    alone = next((int(count) for team_id, count, _ in counted_rows if team_id is None), 0)
    names = await team_names(
        session, kind, [team_id for team_id, _, _ in counted_rows if team_id is not None]
    )
    teams = [
        TeamRow(names.get(team_id), int(count), int(books))
        for team_id, count, books in counted_rows
        if team_id is not None
    ]
    return Board(challenge, kind, teams, alone)
