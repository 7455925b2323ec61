"""Essay contests: deadline, limits, the panel scoring at once, own entries refused, results."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import ContestEntry, ContestKind, EntryScore, Notification, Reader, Role, utcnow
from bot.services.roles import RoleSet
from bot.services.submissions import entries, judging
from bot.services.submissions.entries import NewEntry
from tests.factories import make_reader

ORGANISER = RoleSet(roles=frozenset({Role.ORGANISER}))


async def test_two_judges_at_once_and_no_own_entry(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        organiser = await make_reader(session)
        poet, judge_a, judge_b = [await make_reader(session) for _ in range(3)]
        await session.commit()
        contest = await entries.create_contest(
            session,
            organiser,
            ORGANISER,
            title="秋日诗会",
            kind=ContestKind.POETRY,
            deadline=utcnow() + timedelta(days=1),
            now=utcnow(),
        )
        for judge in (judge_a, judge_b):
            assert await judging.add_judge(session, organiser, ORGANISER, contest.id, judge)
        assert not await judging.add_judge(session, organiser, ORGANISER, contest.id, judge_a)
        entry = await entries.submit(
            session, poet, contest.id, NewEntry(text="床前明月光"), now=utcnow()
        )
        own = await entries.submit(
            session, judge_a, contest.id, NewEntry(text="我的诗"), now=utcnow()
        )

    async def score(judge: Reader, value: int) -> None:
        async with sessionmaker() as session:
            await judging.score_entry(session, judge, entry.id, value, now=utcnow())

    await asyncio.gather(score(judge_a, 8), score(judge_b, 6))
    async with sessionmaker() as session:
        assert sorted(await session.scalars(select(EntryScore.score))) == [6, 8]
        with pytest.raises(judging.OwnEntryError):
            await judging.score_entry(session, judge_a, own.id, 10, now=utcnow())
        with pytest.raises(judging.AlreadyScoredError):
            await judging.score_entry(session, judge_b, entry.id, 1, now=utcnow())
        with pytest.raises(judging.NotAJudgeError):
            await judging.score_entry(session, poet, own.id, 10, now=utcnow())
        assert await session.scalar(select(func.count()).select_from(EntryScore)) == 2
        # A judge's queue never holds their own entry.
        assert (await judging.next_entry(session, judge_a, contest.id)).entry is None
        queue = await judging.next_entry(session, judge_b, contest.id)
        assert queue.entry is not None and queue.entry.id == own.id


async def test_deadline_limits_and_results_with_consent(session: AsyncSession) -> None:
    organiser = await make_reader(session)
    writer, judge = await make_reader(session, first_name="Wen"), await make_reader(session)
    await session.commit()
    contest = await entries.create_contest(
        session,
        organiser,
        ORGANISER,
        title="征文",
        kind=ContestKind.ESSAY,
        deadline=utcnow() + timedelta(hours=1),
        now=utcnow(),
    )
    await judging.add_judge(session, organiser, ORGANISER, contest.id, judge)
    with pytest.raises(entries.EntryTooLargeError):
        await entries.submit(
            session,
            writer,
            contest.id,
            NewEntry(file_id="f", file_kind="document", file_size=50 * 1024 * 1024),
            now=utcnow(),
        )
    with pytest.raises(entries.EntryTooLargeError):
        await entries.submit(session, writer, contest.id, NewEntry(text="字" * 5001), now=utcnow())
    with pytest.raises(entries.WrongEntryKindError):
        await entries.submit(
            session, writer, contest.id, NewEntry(file_id="p", file_kind="photo"), now=utcnow()
        )
    entry = await entries.submit(
        session, writer, contest.id, NewEntry(text="一篇文章"), now=utcnow()
    )
    with pytest.raises(entries.EntryLimitError):
        await entries.submit(session, writer, contest.id, NewEntry(text="第二篇"), now=utcnow())
    late = contest.deadline + timedelta(seconds=1)
    with pytest.raises(entries.DeadlinePassedError):
        await entries.submit(session, judge, contest.id, NewEntry(text="迟到"), now=late)
    assert await session.scalar(select(func.count()).select_from(ContestEntry)) == 1
    await judging.score_entry(session, judge, entry.id, 9, now=utcnow())
    top = await judging.publish_results(session, organiser, ORGANISER, contest.id, now=late)
    assert [(p.place, p.average, p.name) for p in top] == [(1, 9.0, None)]
    assert (
        await session.scalar(select(Notification.kind).where(Notification.reader_id == writer.id))
        == "contest.consent"
    )
    with pytest.raises(judging.NotAllowedError):
        await judging.set_consent(session, judge, entry.id, True)
    await judging.set_consent(session, writer, entry.id, True)
    assert [p.name for p in await judging.standings(session, contest.id)] == ["Wen"]
    rows = list(
        csv.reader(
            io.StringIO(
                (await judging.scores_csv(session, organiser, ORGANISER, contest.id)).decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert rows[0] == ["entry", "author", "judge", "score", "entry_average"]
    assert rows[1][1:] == ["Wen", judge.first_name, "9", "9.00"]


async def test_the_demo_contest_can_be_judged(session: AsyncSession) -> None:
    from datetime import datetime

    from bot.config import Settings
    from bot.services.demo import seed_demo

    zone = Settings(_env_file=None).zone  # type: ignore[call-arg]
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    contests = await entries.recent_contests(session, now=utcnow())
    assert len(contests) == 1
    judge = await session.scalar(select(Reader).where(Reader.telegram_id == 1001))
    assert judge is not None
    queue = await judging.next_entry(session, judge, contests[0].id)
    assert queue.left == 3 and queue.entry is not None
    await judging.score_entry(session, judge, queue.entry.id, 7, now=utcnow())
