"""Judging: a panel scores each entry 1–10 without names; results name winners who agree."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import ContestEntry, ContestJudge, EntryScore, Reader, SubmissionContest
from bot.notices.intents import Notice, NoticeData, notice_kind
from bot.services import audit, outbox
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.roles import RoleSet
from bot.services.submissions.entries import load_contest

SCORES = range(1, 11)
WINNERS = 3


class NotAJudgeError(NotAllowedError):
    """Only the contest's panel scores its entries."""


class OwnEntryError(DomainError):
    """A judge cannot score their own entry."""


class AlreadyScoredError(DomainError):
    """This judge has scored this entry already."""


@notice_kind("contest.consent")
class ConsentWanted(NoticeData):
    """A winner is asked whether their name may be published with the results."""

    contest_title: str
    entry_id: int
    place: int


async def managed_contest(
    session: AsyncSession, actor: Reader, roles: RoleSet, contest_id: int
) -> SubmissionContest:
    """The contest if the actor opened it or is an admin."""
    contest = await load_contest(session, contest_id)
    if not roles.is_admin and contest.organiser_id != actor.id:
        raise NotAllowedError("not the organiser")
    return contest


async def add_judge(
    session: AsyncSession, actor: Reader, roles: RoleSet, contest_id: int, judge: Reader
) -> bool:
    """Put the reader on the panel; False if they were on it already."""
    contest = await managed_contest(session, actor, roles, contest_id)
    known = await session.scalar(
        select(ContestJudge.id).where(
            ContestJudge.contest_id == contest.id, ContestJudge.reader_id == judge.id
        )
    )
    if known is not None:
        return False
    try:
        async with write(session):
            session.add(ContestJudge(contest_id=contest.id, reader_id=judge.id))
            await session.flush()
            audit.record(
                session,
                actor,
                "contest.judge",
                target_type="contest",
                target_id=contest.id,
                judge_id=judge.id,
            )
    except IntegrityError:
        return False
    return True


async def _panel_member(session: AsyncSession, judge: Reader, contest_id: int) -> None:
    found = await session.scalar(
        select(ContestJudge.id).where(
            ContestJudge.contest_id == contest_id, ContestJudge.reader_id == judge.id
        )
    )
    if found is None:
        raise NotAJudgeError("not a judge")


async def judged_contests(session: AsyncSession, judge: Reader) -> list[SubmissionContest]:
    """The contests the reader judges."""
    return list(
        await session.scalars(
            select(SubmissionContest)
            .join(ContestJudge, ContestJudge.contest_id == SubmissionContest.id)
            .where(ContestJudge.reader_id == judge.id)
            .order_by(SubmissionContest.deadline.desc())
        )
    )


@dataclass(frozen=True)
class ToJudge:
    """The next entry for a judge (never its author), and how many are left with it."""

    entry: ContestEntry | None
    left: int


async def next_entry(session: AsyncSession, judge: Reader, contest_id: int) -> ToJudge:
    """The oldest entry the judge has not scored, leaving out their own."""
    await _panel_member(session, judge, contest_id)
    scored = select(EntryScore.entry_id).where(EntryScore.judge_id == judge.id)
    waiting = (
        select(ContestEntry)
        .where(
            ContestEntry.contest_id == contest_id,
            ContestEntry.reader_id != judge.id,
            ContestEntry.id.not_in(scored),
        )
        .order_by(ContestEntry.id)
    )
    entries = list(await session.scalars(waiting))
    return ToJudge(entry=entries[0] if entries else None, left=len(entries))


async def score_entry(
    session: AsyncSession, judge: Reader, entry_id: int, score: int, *, now: datetime
) -> ContestEntry:
    """Store the judge's 1–10 score once; their own entry is refused."""
    if score not in SCORES:
        raise InvalidInputError("score")
    entry = await session.get(ContestEntry, entry_id)
    if entry is None:
        raise NotFoundError("entry")
    await _panel_member(session, judge, entry.contest_id)
    if entry.reader_id == judge.id:
        raise OwnEntryError("own entry")
    given = await session.scalar(
        select(EntryScore.id).where(
            EntryScore.entry_id == entry.id, EntryScore.judge_id == judge.id
        )
    )
    if given is not None:
        raise AlreadyScoredError("scored")
    try:
        async with write(session):
            session.add(
                EntryScore(entry_id=entry.id, judge_id=judge.id, score=score, scored_at=now)
            )
            await session.flush()
    except IntegrityError as error:
        raise AlreadyScoredError("scored") from error
    return entry


@dataclass(frozen=True)
class Placed:
    """An entry's place by its average score; ``name`` only with the author's consent."""

    place: int
    entry_id: int
    average: float
    scores: int
    name: str | None


async def standings(session: AsyncSession, contest_id: int) -> list[Placed]:
    """Entries with at least one score, best average first (ties: earlier entry)."""
    rows = (
        await session.execute(
            select(
                ContestEntry.id,
                func.avg(EntryScore.score),
                func.count(EntryScore.id),
                Reader.first_name,
                ContestEntry.consent,
            )
            .join(EntryScore, EntryScore.entry_id == ContestEntry.id)
            .join(Reader, Reader.id == ContestEntry.reader_id)
            .where(ContestEntry.contest_id == contest_id)
            .group_by(ContestEntry.id, Reader.first_name, ContestEntry.consent)
            .order_by(func.avg(EntryScore.score).desc(), ContestEntry.id)
        )
    ).all()
    return [
        Placed(
            place=place,
            entry_id=entry_id,
            average=float(average),
            scores=int(count),
            name=(name or "—") if consent else None,
        )
        for place, (entry_id, average, count, name, consent) in enumerate(rows, start=1)
    ]


async def publish_results(
    session: AsyncSession, actor: Reader, roles: RoleSet, contest_id: int, *, now: datetime
) -> list[Placed]:
    """Publish the results and ask the winners whether their names may be shown."""
    contest = await managed_contest(session, actor, roles, contest_id)
    if now <= contest.deadline:
        raise InvalidInputError("before deadline")
    top = (await standings(session, contest.id))[:WINNERS]
    authors = dict(
        (
            await session.execute(
                select(ContestEntry.id, ContestEntry.reader_id).where(
                    ContestEntry.id.in_([placed.entry_id for placed in top])
                )
            )
        ).all()
    )
    async with write(session):
        await session.execute(
            update(SubmissionContest)
            .where(SubmissionContest.id == contest.id)
            .values(results_published=True)
            .execution_options(synchronize_session=False)
        )
        await outbox.enqueue_notices(
            session,
            [
                Notice(
                    reader_id=authors[placed.entry_id],
                    data=ConsentWanted(
                        contest_title=contest.title, entry_id=placed.entry_id, place=placed.place
                    ),
                    dedup_key=f"contest:{contest.id}:consent:{placed.entry_id}",
                )
                for placed in top
            ],
            now=now,
        )
        audit.record(session, actor, "contest.publish", target_type="contest", target_id=contest.id)
    return top


async def set_consent(session: AsyncSession, author: Reader, entry_id: int, consent: bool) -> None:
    """The author's answer: may their name be published? (Only the author can answer.)"""
    entry = await session.get(ContestEntry, entry_id)
    if entry is None or entry.reader_id != author.id:
        raise NotAllowedError("not the author")
    async with write(session):
        await session.execute(
            update(ContestEntry)
            .where(ContestEntry.id == entry_id, ContestEntry.reader_id == author.id)
            .values(consent=consent)
            .execution_options(synchronize_session=False)
        )


async def scores_csv(
    session: AsyncSession, actor: Reader, roles: RoleSet, contest_id: int
) -> bytes:
    """Every score: entry, author, judge, score, and each entry's average (organisers)."""
    contest = await managed_contest(session, actor, roles, contest_id)
    scores = list(
        await session.scalars(
            select(EntryScore)
            .join(ContestEntry, EntryScore.entry_id == ContestEntry.id)
            .where(ContestEntry.contest_id == contest.id)
            .order_by(EntryScore.entry_id, EntryScore.judge_id)
        )
    )
    entries = {
        entry.id: entry
        for entry in await session.scalars(
            select(ContestEntry)
            .where(ContestEntry.contest_id == contest.id)
            .options(selectinload(ContestEntry.reader))
        )
    }
    judges = {
        reader.id: reader
        for reader in await session.scalars(
            select(Reader).where(Reader.id.in_({score.judge_id for score in scores}))
        )
    }
    averages = {placed.entry_id: placed.average for placed in await standings(session, contest.id)}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["entry", "author", "judge", "score", "entry_average"])
    for score in scores:
        entry = entries[score.entry_id]
        judge = judges.get(score.judge_id)
        writer.writerow(
            [
                entry.id,
                entry.reader.first_name,
                judge.first_name if judge else "—",
                score.score,
                f"{averages.get(entry.id, 0):.2f}",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
