"""Opening a submission contest and submitting to it: before the deadline, within the limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import ContestEntry, ContestKind, Reader, Role, SubmissionContest
from bot.services import audit
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.roles import RoleSet

TEXT_LIMIT = 5000
# A document larger than this is refused before it is downloaded or stored.
DOCUMENT_LIMIT_BYTES = 10 * 1024 * 1024
TITLE_LIMIT = 200


class DeadlinePassedError(DomainError):
    """The contest's deadline has passed: no more entries."""


class EntryLimitError(DomainError):
    """The reader has submitted as many entries as the contest allows."""


class EntryTooLargeError(DomainError):
    """The text or the file is over the contest's limits."""


class WrongEntryKindError(DomainError):
    """A photo contest takes photos; essays and poems take text or a document."""


async def create_contest(
    session: AsyncSession,
    organiser: Reader,
    roles: RoleSet,
    *,
    title: str,
    kind: ContestKind,
    deadline: datetime,
    now: datetime,
    entries_per_reader: int = 1,
) -> SubmissionContest:
    """A contest open for entries until the deadline (organisers and admins)."""
    if not roles.has(Role.ORGANISER):
        raise NotAllowedError("organisers only")
    if not 0 < len(title) <= TITLE_LIMIT:
        raise InvalidInputError("title")
    if deadline <= now:
        raise InvalidInputError("deadline")
    async with write(session):
        contest = SubmissionContest(
            title=title,
            kind=kind,
            organiser_id=organiser.id,
            deadline=deadline,
            entries_per_reader=entries_per_reader,
        )
        session.add(contest)
        await session.flush()
        audit.record(
            session, organiser, "contest.open", target_type="contest", target_id=contest.id
        )
    return contest


async def load_contest(session: AsyncSession, contest_id: int) -> SubmissionContest:
    """The contest (NotFoundError if unknown)."""
    contest = await session.get(SubmissionContest, contest_id)
    if contest is None:
        raise NotFoundError("contest")
    return contest


async def recent_contests(
    session: AsyncSession, *, now: datetime, limit: int = 10
) -> list[SubmissionContest]:
    """Contests open for entries, and those whose results are out, newest deadline first."""
    return list(
        await session.scalars(
            select(SubmissionContest)
            .where(
                (SubmissionContest.deadline > now) | SubmissionContest.results_published.is_(True)
            )
            .order_by(SubmissionContest.deadline.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class NewEntry:
    """What the reader sent: text, or a Telegram file with its size."""

    text: str | None = None
    file_id: str | None = None
    file_kind: str | None = None
    file_size: int = 0


def check_entry(contest: SubmissionContest, entry: NewEntry) -> None:
    """Refuse an entry of the wrong kind or over the limits."""
    if contest.kind is ContestKind.PHOTO and entry.file_kind != "photo":
        raise WrongEntryKindError("photo")
    if contest.kind is not ContestKind.PHOTO and entry.file_kind == "photo":
        raise WrongEntryKindError("text")
    if entry.text is not None and not 0 < len(entry.text.strip()) <= TEXT_LIMIT:
        raise EntryTooLargeError("text")
    if entry.file_kind == "document" and entry.file_size > DOCUMENT_LIMIT_BYTES:
        raise EntryTooLargeError("document")
    if entry.text is None and entry.file_id is None:
        raise InvalidInputError("empty")


async def submit(
    session: AsyncSession, reader: Reader, contest_id: int, entry: NewEntry, *, now: datetime
) -> ContestEntry:
    """Store the entry if the contest is open and the reader has entries left."""
    contest = await load_contest(session, contest_id)
    if now > contest.deadline:
        raise DeadlinePassedError("deadline")
    check_entry(contest, entry)
    async with write(session):
        # Counted inside the write unit: on SQLite it holds the lock; on PostgreSQL the
        # contest row is locked so two entries at once cannot both take the last one.
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                select(SubmissionContest.id)
                .where(SubmissionContest.id == contest.id)
                .with_for_update()
            )
        entered = await session.scalar(
            select(func.count()).where(
                ContestEntry.contest_id == contest.id, ContestEntry.reader_id == reader.id
            )
        )
        if (entered or 0) >= contest.entries_per_reader:
            raise EntryLimitError("limit")
        stored = ContestEntry(
            contest_id=contest.id,
            reader_id=reader.id,
            text=entry.text.strip() if entry.text is not None else None,
            file_id=entry.file_id,
            file_kind=entry.file_kind,
            submitted_at=now,
        )
        session.add(stored)
        await session.flush()
    return stored
