"""Organisers cancel a quiz: entrants are told, old buttons refused, nothing more is sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    AuditLog,
    Notification,
    NotificationStatus,
    Quiz,
    QuizAnswer,
    QuizEntry,
    QuizMode,
    Reader,
    utcnow,
)
from bot.services.quizzes.boards import send_due_boards
from bot.services.quizzes.building import NewQuiz, create_quiz
from bot.services.quizzes.organising import cancel_quiz
from handlers.quizzes.callbacks import ManageAction, QuizManage
from tests.harness import BotHarness, inline_labels, texts
from tests.humanlibrary.helpers import deliver, grant_organiser
from tests.quizzes.helpers import ORGANISER, questions


async def _live_quiz(session: AsyncSession, organiser: Reader) -> Quiz:
    """A live round that started 6 s ago: question 1 (5 s) closed, 2 open, 3 to come."""
    now = utcnow()
    return await create_quiz(
        session,
        organiser,
        ORGANISER,
        NewQuiz(
            title="读书知识竞赛",
            title_en="Reading Quiz",
            mode=QuizMode.LIVE,
            starts_at=now - timedelta(seconds=6),
            closes_at=None,
            gap_seconds=0,
            questions=[
                *questions(1, seconds=5),
                *questions(2, seconds=30)[1:],
                *questions(3, seconds=30)[2:],
            ],
        ),
        now=now - timedelta(hours=1),
    )


def _cancel(quiz_id: int) -> str:
    return QuizManage(action=ManageAction.CANCEL, quiz_id=quiz_id).pack()


async def test_an_organiser_cancels_a_running_quiz_and_entrants_are_told(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    olga = harness.user(83001, "Olga")
    await olga.onboard()
    organiser = await grant_organiser(session, 83001)
    other = harness.user(83002, "Oscar")
    await other.onboard()
    await grant_organiser(session, 83002)
    quiz = await _live_quiz(session, organiser)
    q2 = quiz.questions[1]
    ann, mei = harness.user(83003, "Ann"), harness.user(83004, "梅", language_code="zh")
    await ann.onboard()
    await mei.onboard("zh")
    for user, label, join in (
        (ann, "📝 Reading Quiz", "✅ Join"),
        (mei, "📝 读书知识竞赛", "✅ 参加"),
    ):
        await user.send("/contests")
        await user.tap(label)
        await user.tap(join)
    await deliver(harness, sessionmaker, utcnow())
    ann_question, mei_question = ann.last_bot_message(), mei.last_bot_message()
    assert "Question 2 of 3" in (ann_question.text or "")
    await ann.tap("B. Beta", message_id=ann_question.message_id)
    assert ann.last_answer and ann.last_answer["text"] == "✅ Right!"

    # Another organiser, and a reader, cannot cancel it.
    await other.forge(_cancel(quiz.id))
    assert other.last_answer and "Only the quiz's organiser" in other.last_answer["text"]
    await other.send("/myquizzes")
    assert "no quizzes to come or running" in (other.last_bot_message().text or "")
    await ann.forge(_cancel(quiz.id))

    listing = await olga.send("/myquizzes")
    assert "Reading Quiz" in texts(listing)[-1] and "(running)" in texts(listing)[-1]
    assert "2 joined" in texts(listing)[-1]
    await olga.tap("❌ Cancel Reading Quiz")
    ask = olga.last_bot_message()
    assert "Cancel this quiz? Everyone who joined (2) is told" in (ask.text or "")
    assert inline_labels(ask) == ["❌ Yes, cancel the quiz", "◀️ No, keep it"]
    async with sessionmaker() as check:
        assert (await check.get(Quiz, quiz.id)).cancelled_at is None  # type: ignore[union-attr]
    await olga.tap("❌ Yes, cancel the quiz")
    assert "is cancelled; 2 entrant(s) are told" in (olga.last_bot_message().text or "")
    # A double tap (an old confirmation) cancels nothing more.
    await olga.forge(_cancel(quiz.id))
    assert olga.last_answer and "already cancelled" in olga.last_answer["text"]

    await deliver(harness, sessionmaker, utcnow())
    assert "has been cancelled by its organiser" in (ann.last_bot_message().text or "")
    assert "Reading Quiz" in (ann.last_bot_message().text or "")
    assert "已被组织者取消" in (mei.last_bot_message().text or "")
    assert "读书知识竞赛" in (mei.last_bot_message().text or "")

    # Old buttons are refused, with the reason.
    await mei.tap("B. 乙", message_id=mei_question.message_id)
    assert mei.last_answer and mei.last_answer["text"] == "该知识竞赛已取消。"
    await ann.forge(f"qz:j:{quiz.id}")
    assert ann.last_answer and ann.last_answer["text"] == "This quiz was cancelled."
    await ann.forge(f"qz:o:{quiz.id}")
    assert ann.last_answer and ann.last_answer["text"] == "This quiz was cancelled."
    assert "Reading Quiz" not in texts(await ann.send("/contests"))[-1]
    assert "读书知识竞赛" not in texts(await mei.send("/contests"))[-1]

    # The tick sends no leaderboard; the third question is never delivered.
    seen = len(ann.chat()), len(mei.chat())
    async with sessionmaker() as check:
        assert await send_due_boards(check, now=utcnow() + timedelta(seconds=120)) == 0
    await deliver(harness, sessionmaker, utcnow() + timedelta(seconds=120))
    assert (len(ann.chat()), len(mei.chat())) == seen
    async with sessionmaker() as check:
        kept = await check.get(Quiz, quiz.id)
        assert kept is not None and kept.cancelled_at is not None and kept.boards_sent == 0
        told = await check.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.dedup_key.startswith(f"quiz-cancelled:{quiz.id}:"))
        )
        assert told == 2
        skipped = await check.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.dedup_key.startswith(f"quiz:{quiz.id}:q2:"),
                Notification.status == NotificationStatus.SKIPPED,
            )
        )
        assert skipped == 2
        # Entries and the answer stay for the record.
        assert await check.scalar(select(func.count()).select_from(QuizEntry)) == 2
        answer = await check.scalar(select(QuizAnswer))
        assert answer is not None and answer.question_id == q2.id and answer.correct


async def test_a_finished_quiz_cannot_be_cancelled_and_keep_changes_nothing_in_chinese(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lin = harness.user(83011, "林", language_code="zh")
    await lin.onboard("zh")
    organiser = await grant_organiser(session, 83011)
    now = utcnow()
    starts = now + timedelta(hours=2)
    window = await create_quiz(
        session,
        organiser,
        ORGANISER,
        NewQuiz(
            title="图书馆知识",
            title_en="Library Quiz",
            mode=QuizMode.WINDOW,
            starts_at=starts,
            closes_at=starts + timedelta(days=1),
            questions=questions(2),
        ),
        now=now,
    )
    finished = await _live_quiz(session, organiser)
    async with sessionmaker() as move:
        await move.execute(
            update(Quiz)
            .where(Quiz.id == finished.id)
            .values(starts_at=utcnow() - timedelta(hours=1))
        )
        await move.commit()

    listing = await lin.send("/myquizzes")
    assert "图书馆知识" in texts(listing)[-1] and "未开始" in texts(listing)[-1]
    assert "读书知识竞赛" not in texts(listing)[-1]
    await lin.forge(_cancel(finished.id))
    assert lin.last_answer and lin.last_answer["text"] == "该竞赛已结束：已结束的竞赛不能取消。"

    await lin.tap("❌ 取消 图书馆知识")
    assert "取消该竞赛吗？所有参赛者（0 人）" in (lin.last_bot_message().text or "")
    await lin.tap("◀️ 不，保留")
    assert "竞赛照常进行" in (lin.last_bot_message().text or "")
    async with sessionmaker() as check:
        for quiz_id in (window.id, finished.id):
            kept = await check.get(Quiz, quiz_id)
            assert kept is not None and kept.cancelled_at is None

    await lin.send("/myquizzes")
    await lin.tap("❌ 取消 图书馆知识")
    await lin.tap("❌ 是的，取消竞赛")
    assert "“图书馆知识”已取消；已通知 0 名参赛者" in (lin.last_bot_message().text or "")
    assert "你没有未开始或进行中的知识竞赛" in (texts(await lin.send("/myquizzes"))[-1])


async def test_a_cancel_happens_once(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.factories import make_reader

    organiser = await make_reader(session)
    await session.commit()
    quiz = await _live_quiz(session, organiser)
    async with sessionmaker() as first, sessionmaker() as second:
        # The second tap loaded the quiz before the first cancelled it: the conditional
        # update decides, and only the first tells anyone.
        stale = await second.get(Quiz, quiz.id)
        assert stale is not None and stale.cancelled_at is None
        one = await cancel_quiz(first, organiser, ORGANISER, quiz.id, now=utcnow())
        two = await cancel_quiz(second, organiser, ORGANISER, quiz.id, now=utcnow())
    assert (one.already, two.already) == (False, True)
    async with sessionmaker() as check:
        audits = await check.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "quiz.cancel")
        )
        assert audits == 1
