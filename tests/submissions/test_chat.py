"""An essay contest in chat: entries, refusals, anonymous judging, results with consent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import ContestEntry, EntryScore, SubmissionContest, utcnow
from handlers.submissions.judging import ScoreEntry
from tests.harness import BotHarness, texts
from tests.humanlibrary.helpers import deliver, grant_organiser


async def test_an_essay_contest_from_entries_to_results(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = harness.user(84001, "Olga")
    await organiser.onboard()
    await grant_organiser(session, 84001)
    judge = harness.user(84003, "Jia", username="judge_jia")
    await judge.onboard()
    zone = harness.app.settings.zone
    deadline = (utcnow() + timedelta(days=3)).astimezone(zone)
    await organiser.send(f"/newcontest essay {deadline:%Y-%m-%d %H:%M} My library, my city")
    assert "is open until" in (organiser.last_bot_message().text or "")
    async with sessionmaker() as check:
        contest = await check.scalar(select(SubmissionContest))
        assert contest is not None
    await organiser.send(f"/judge {contest.id} @judge_jia")
    assert "is on the panel" in (organiser.last_bot_message().text or "")

    wen = harness.user(84002, "Wen")
    await wen.onboard()
    await wen.send("/contests")
    await wen.tap("✍️ My library, my city")
    await wen.tap("✍️ Send an entry")
    # A 50 MB document is refused and nothing is stored.
    await wen.send_document("essay.pdf", b"x" * (50 * 1024 * 1024), mime_type="application/pdf")
    assert "too large" in (wen.last_bot_message().text or "")
    async with sessionmaker() as check:
        assert await check.scalar(select(func.count()).select_from(ContestEntry)) == 0
    await wen.send("The library is where my city keeps its memory.")
    assert "Your entry is in" in (wen.last_bot_message().text or "")
    # The judge enters too; they will never be asked to score it.
    await judge.send("/contests")
    await judge.tap("✍️ My library, my city")
    await judge.tap("✍️ Send an entry")
    await judge.send("A judge's own essay.")
    async with sessionmaker() as check:
        own = await check.scalar(
            select(ContestEntry.id).where(ContestEntry.text == "A judge's own essay.")
        )
    replies = await judge.send("/judging")
    shown = texts(replies)[-1]
    assert "memory" in shown and "Wen" not in shown and "own essay" not in shown
    await judge.tap("8")
    assert judge.last_answer and judge.last_answer["text"] == "Scored 8."
    assert "scored every entry" in (judge.last_bot_message().text or "")
    await judge.forge(ScoreEntry(entry_id=own or 0, score=10).pack())
    assert judge.last_answer and "your own entry" in judge.last_answer["text"]
    async with sessionmaker() as check:
        assert list(await check.scalars(select(EntryScore.score))) == [8]

    # After the deadline: no more entries; results out; the winner agrees to be named.
    async with sessionmaker() as move:
        await move.execute(
            update(SubmissionContest).values(deadline=utcnow() - timedelta(minutes=1))
        )
        await move.commit()
    await wen.send("/contests")
    await organiser.send(f"/publishresults {contest.id}")
    assert "Results published" in (organiser.last_bot_message().text or "")
    await organiser.send(f"/contestscores {contest.id}")
    assert organiser.last_bot_message().document is not None
    await deliver(harness, sessionmaker, utcnow())
    assert "placed 1" in (wen.last_bot_message().text or "")
    await wen.tap("✅ Publish my name")
    await wen.send("/contests")
    await wen.tap("✍️ My library, my city")
    assert "Send an entry" not in str(wen.last_bot_message().reply_markup)
    await wen.tap("🏁 Results")
    assert "1. Wen — 8.00 points" in (wen.last_bot_message().text or "")


async def test_a_late_entry_in_chinese_is_refused(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from bot.models import ContestKind
    from bot.services.submissions.entries import create_contest
    from tests.factories import make_reader
    from tests.quizzes.helpers import ORGANISER

    organiser = await make_reader(session)
    await session.commit()
    contest = await create_contest(
        session,
        organiser,
        ORGANISER,
        title="秋日诗会",
        kind=ContestKind.POETRY,
        deadline=utcnow() + timedelta(hours=1),
        now=utcnow(),
    )
    mei = harness.user(84010, "梅", language_code="zh")
    await mei.onboard("zh")
    await mei.send("/contests")
    assert "诗词比赛" in (mei.last_bot_message().text or "")
    await mei.tap("📜 秋日诗会")
    await mei.tap("✍️ 投稿")
    async with sessionmaker() as move:
        await move.execute(
            update(SubmissionContest)
            .where(SubmissionContest.id == contest.id)
            .values(deadline=utcnow() - timedelta(seconds=1))
        )
        await move.commit()
    await mei.send("床前明月光")
    assert "截止时间已过" in (mei.last_bot_message().text or "")
    async with sessionmaker() as check:
        assert await check.scalar(select(func.count()).select_from(ContestEntry)) == 0
