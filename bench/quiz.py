"""Live quiz benchmark: N contestants answer a live round through the sandbox.

    python -m bench.quiz [--contestants 500] [--questions 10] [--seconds 10] [--gap 5]
        [--rate R] [--database-url URL]

The real dispatcher runs against an in-process sandbox (no flood limits); the delivery
worker sends the outbox (each question, then the leaderboards) unpaced unless ``--rate`` is
given, and the quiz tick runs every ``QUIZ_TICK_S``, as in the bot. Each contestant waits
until its question has arrived in its chat, then taps an option (most of them the right
one) on that message; the server times the answer. Measured per question: answers recorded
per second (recorded answers over the time from the first tap to the last answer handled)
and the leaderboard's delay after the deadline (first, median and last contestant to have
it, from the outbox's ``sent_at``). The baseline, in the same run and through the same
sandbox: the bot sending as many plain messages as there were answers, as fast as the
sandbox takes them with the same concurrency. The last line printed is ``RESULT {json}``.

The named database is never touched: PostgreSQL gets a scratch database on the same server
(dropped afterwards), SQLite a file in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.broadcast import scratch_database
from bot.app import Application, build_application, create_bot
from bot.config import Settings
from bot.db import create_engine
from bot.delivery.pacing import Pacer
from bot.delivery.worker import DeliveryWorker
from bot.migrate import upgrade
from bot.models import Notification, Quiz, QuizAnswer, QuizMode, Reader, Role, utcnow
from bot.notices.quizzes import AnswerQuestion
from bot.services import outbox
from bot.services.outbox import OutboxMessage
from bot.services.quizzes import playing
from bot.services.quizzes.building import NewQuiz, QuestionDraft, create_quiz
from bot.services.quizzes.playing import live_slots
from bot.services.roles import RoleSet
from jobs.quizzes import send_quiz_boards
from sandbox.core import Sandbox
from sandbox.session import SandboxSession

TOKEN = "424242:QUIZ-BENCHMARK"
FIRST_USER_ID = 40_000_000
CONCURRENCY = 50
RIGHT_SHARE = 0.8


def _questions(count: int, seconds: int) -> list[QuestionDraft]:
    return [
        QuestionDraft(
            text=f"第{n}题：哪一部是四大名著之一？",
            text_en=f"Question {n}: which is one of the four great novels?",
            options=["红楼梦", "围城", "家", "骆驼祥子"],
            options_en=["Dream of the Red Chamber", "Fortress Besieged", "Family", "Rickshaw Boy"],
            correct=0,
            seconds=seconds,
        )
        for n in range(1, count + 1)
    ]


async def _contestants(app: Application, sandbox: Sandbox, count: int) -> list[Reader]:
    readers = []
    async with app.sessionmaker() as session:
        for n in range(count):
            user_id = FIRST_USER_ID + n
            language = "zh" if n % 2 else "en"
            sandbox.add_user(user_id, f"C{n}", language_code=language)
            reader = Reader(
                telegram_id=user_id,
                chat_id=user_id,
                first_name=f"C{n}",
                language=language,
                card_number=f"Q{user_id}",
                onboarded_at=utcnow(),
            )
            session.add(reader)
            readers.append(reader)
        await session.commit()
    return readers


async def _repeat(every_s: float, job: Callable[[], Awaitable[Any]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        await job()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def _question_message(sandbox: Sandbox, user_id: int, prefix: str) -> tuple[int, str] | None:
    """The message carrying this question's buttons, and the data of the option to tap."""
    for message in reversed(sandbox.messages(user_id)):
        markup = message.reply_markup
        if markup is None or not sandbox.is_from_bot(message):
            continue
        datas = [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]
        if datas and datas[0].startswith(prefix):
            right = datas[0] if random.random() < RIGHT_SHARE else datas[-1]
            return message.message_id, right
    return None


async def _answer_round(
    app: Application,
    sandbox: Sandbox,
    bot: Any,
    readers: list[Reader],
    question_id: int,
    opens_at: datetime,
    deadline: datetime,
) -> dict[str, Any]:
    """Wait until the question has reached every contestant (or half its time has gone), then
    all of them tap an option at once; how long delivery took and how fast answers went in."""
    prefix = AnswerQuestion(question_id=question_id, choice=0).pack().rsplit(":", 1)[0] + ":"
    found: dict[int, tuple[int, str]] = {}
    cutoff = opens_at + (deadline - opens_at) / 2
    while len(found) < len(readers) and utcnow() < cutoff:
        for reader in readers:
            if reader.telegram_id not in found:
                message = _question_message(sandbox, reader.telegram_id, prefix)
                if message is not None:
                    found[reader.telegram_id] = message
        # Looking through 500 chats takes CPU from the bot: not too often.
        await asyncio.sleep(0.25)
    delivered_s = (utcnow() - opens_at).total_seconds()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def tap(user_id: int, message_id: int, data: str) -> None:
        async with gate:
            update = sandbox.press(user_id, message_id, callback_data=data)
            await app.dispatcher.feed_update(bot, update)

    started = time.perf_counter()
    await asyncio.gather(*(tap(user, *message) for user, message in found.items()))
    elapsed = time.perf_counter() - started
    async with app.sessionmaker() as session:
        recorded = await session.scalar(
            select(func.count()).where(QuizAnswer.question_id == question_id)
        )
    return {
        "question_delivered_s": round(delivered_s, 2),
        "recorded": recorded or 0,
        "missed": len(readers) - len(found),
        "answers_per_s": round((recorded or 0) / elapsed, 1) if elapsed else 0.0,
        "answered_before_deadline": utcnow() <= deadline,
    }


async def _plain_messages(
    app: Application, worker: DeliveryWorker, readers: list[Reader], total: int
) -> float:
    """The baseline: as many plain messages through the outbox and the same worker; per second."""
    async with app.sessionmaker() as session:
        await outbox.enqueue_many(
            session,
            [
                outbox.Outgoing(
                    reader_id=readers[n % len(readers)].id,
                    kind="bench.plain",
                    message=OutboxMessage(text={"en": f"Plain message {n}"}),
                    dedup_key=f"bench-plain:{n}",
                )
                for n in range(total)
            ],
        )
        await session.commit()
    started = time.perf_counter()
    while True:
        await worker.drain()
        async with app.sessionmaker() as session:
            left = await session.scalar(
                select(func.count()).where(
                    Notification.kind == "bench.plain", Notification.sent_at.is_(None)
                )
            )
        if not left:
            break
        await asyncio.sleep(0.05)
    return total / (time.perf_counter() - started)


async def _board_delays(app: Application, quiz: Quiz) -> list[dict[str, float]]:
    delays = []
    async with app.sessionmaker() as session:
        for number, slot in enumerate(live_slots(quiz)):
            sent = list(
                await session.scalars(
                    select(Notification.sent_at).where(
                        Notification.kind == "quiz.board",
                        Notification.dedup_key.startswith(f"quiz:{quiz.id}:board{number}:"),
                        Notification.sent_at.is_not(None),
                    )
                )
            )
            seconds = sorted((moment - slot.closes_at).total_seconds() for moment in sent if moment)
            delays.append(
                {
                    "boards": len(seconds),
                    "first_s": round(seconds[0], 2) if seconds else -1,
                    "median_s": round(statistics.median(seconds), 2) if seconds else -1,
                    "last_s": round(seconds[-1], 2) if seconds else -1,
                }
            )
    return delays


@contextlib.asynccontextmanager
async def _running(
    app: Application, bot: Any, settings: Settings, rate: float | None
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    worker = DeliveryWorker(app.sessionmaker, bot, app.i18n, settings, pacer=Pacer(rate))
    tasks = [
        asyncio.create_task(_repeat(0.05, worker.drain, stop)),
        asyncio.create_task(
            _repeat(settings.quiz_tick_s, lambda: send_quiz_boards(app.sessionmaker), stop)
        ),
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """One run: join, play the live round, then the plain-message baseline."""
    async with scratch_database(args.database_url) as url:
        await asyncio.to_thread(upgrade, url)
        settings = Settings(
            _env_file=None,
            bot_token=TOKEN,
            database_url=url,
            index_dir=Path(tempfile.mkdtemp()) / "index",
            throttle_enabled=False,
        )
        engine = create_engine(url, single_connection=True, pool_size=20)
        app = build_application(settings, engine=engine)
        sandbox = Sandbox(token=TOKEN, queue_updates=False)
        bot = create_bot(TOKEN, session=SandboxSession(sandbox))
        try:
            return await _play(app, sandbox, bot, settings, args)
        finally:
            await app.indexer.close()
            await bot.session.close()
            await sandbox.close()
            await engine.dispose()


async def _play(
    app: Application, sandbox: Sandbox, bot: Any, settings: Settings, args: argparse.Namespace
) -> dict[str, Any]:
    readers = await _contestants(app, sandbox, args.contestants)
    async with app.sessionmaker() as session:
        organiser = await session.get(Reader, readers[0].id)
        assert organiser is not None
        starts = utcnow() + timedelta(seconds=args.lead)
        quiz = await create_quiz(
            session,
            organiser,
            RoleSet(roles=frozenset({Role.ORGANISER})),
            NewQuiz(
                title="读书知识竞赛",
                title_en="Reading Quiz",
                mode=QuizMode.LIVE,
                starts_at=starts,
                closes_at=None,
                questions=_questions(args.questions, args.seconds),
                gap_seconds=args.gap,
            ),
            now=utcnow(),
        )
    joined_at = time.perf_counter()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def join(reader: Reader) -> None:
        async with gate, app.sessionmaker() as session:
            await playing.join(session, reader, quiz.id, now=utcnow())

    await asyncio.gather(*(join(reader) for reader in readers))
    join_s = time.perf_counter() - joined_at
    if utcnow() >= starts:
        raise SystemExit(f"joining took {join_s:.1f} s, longer than --lead {args.lead} s")
    rounds = []
    async with _running(app, bot, settings, args.rate):
        for question, slot in zip(quiz.questions, live_slots(quiz), strict=True):
            await asyncio.sleep(max(0.0, (slot.opens_at - utcnow()).total_seconds()))
            rounds.append(
                await _answer_round(
                    app, sandbox, bot, readers, question.id, slot.opens_at, slot.closes_at
                )
            )
            print(f"question {question.position + 1}: {rounds[-1]}", flush=True)
        last_close = live_slots(quiz)[-1].closes_at
        await asyncio.sleep(max(0.0, (last_close - utcnow()).total_seconds()) + args.settle)
    delays = await _board_delays(app, quiz)
    answers = sum(r["recorded"] for r in rounds)
    worker = DeliveryWorker(app.sessionmaker, bot, app.i18n, settings, pacer=Pacer(args.rate))
    baseline = await _plain_messages(app, worker, readers, max(answers, 1))
    rates = [r["answers_per_s"] for r in rounds if r["answers_per_s"]]
    answers_per_s = statistics.median(rates) if rates else 0.0
    lasts = [d["last_s"] for d in delays if d["last_s"] >= 0]
    return {
        "contestants": args.contestants,
        "questions": args.questions,
        "join_s": round(join_s, 1),
        "answers_recorded": answers,
        "answers_missed": sum(r["missed"] for r in rounds),
        "answers_per_s_median": answers_per_s,
        "question_delivered_s_median": statistics.median(r["question_delivered_s"] for r in rounds),
        "plain_msgs_per_s": round(baseline, 1),
        "ratio_to_plain": round(answers_per_s / baseline, 3) if baseline else 0.0,
        "board_delay_first_s_median": round(statistics.median(d["first_s"] for d in delays), 2),
        "board_delay_last_s_median": round(statistics.median(lasts), 2) if lasts else -1,
        "board_delay_last_s_max": max(lasts) if lasts else -1,
        "rate": args.rate,
        "rounds": rounds,
        "boards": delays,
    }


def main() -> None:
    """Parse the options, run, print the figures and ``RESULT {json}``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contestants", type=int, default=500)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--gap", type=int, default=5)
    parser.add_argument("--lead", type=float, default=40.0, help="seconds to join before start")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the last deadline")
    parser.add_argument("--rate", type=float, default=None, help="pace sends (msgs/s)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    random.seed(20)
    result = asyncio.run(run(args))
    print(
        f"answers recorded: {result['answers_per_s_median']}/s (median of the questions) vs "
        f"{result['plain_msgs_per_s']} plain messages/s through the outbox: "
        f"ratio {result['ratio_to_plain']}"
    )
    print(
        "leaderboard after each deadline: first contestant "
        f"{result['board_delay_first_s_median']} s, last {result['board_delay_last_s_median']} s "
        f"(medians), slowest {result['board_delay_last_s_max']} s"
    )
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
