"""Quizzes in chat: an organiser builds one; readers join, answer in time or too late."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Quiz, QuizAnswer, QuizEntry, QuizMode, QuizQuestion, utcnow
from bot.notices.quizzes import AnswerQuestion
from bot.services.quizzes.boards import send_due_boards
from bot.services.quizzes.building import NewQuiz, QuestionDraft, create_quiz
from tests.factories import make_reader
from tests.harness import BotHarness, inline_labels, texts
from tests.humanlibrary.helpers import deliver, grant_organiser
from tests.quizzes.helpers import ORGANISER

GOOD_CSV = (
    "question,option_1,option_2,option_3,option_4,correct,seconds,question_en,option_1_en,option_2_en\n"
    "《论语》是谁的言行录？,孔子,孟子,,,1,15,Whose sayings are the Analects?,Confucius,Mencius\n"
    "“床前明月光”的作者？,杜甫,李白,白居易,,2,,,,\n"
).encode()
BAD_CSV = (
    b"question,option_1,option_2,correct,seconds\n"
    b"Fine?,Yes,No,1,20\n"
    b"Only one option?,Yes,,1,20\n"
    b"Too slow?,Yes,No,1,999\n"
)


async def test_an_organiser_builds_a_quiz_in_chat(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = harness.user(82001, "Olga")
    await organiser.onboard()
    await grant_organiser(session, 82001)
    zone = harness.app.settings.zone
    starts = (utcnow() + timedelta(days=1)).astimezone(zone)
    await organiser.send("/newquiz")
    await organiser.send("读书知识竞赛 / Reading Quiz")
    await organiser.tap("🔴 Live round at a start time")
    await organiser.send("2020-01-01 10:00")
    replies = [organiser.last_bot_message()]
    assert "has passed" in texts(replies)[-1]
    await organiser.send(f"{starts:%Y-%m-%d %H:%M}")
    replies = [organiser.last_bot_message()]
    assert "the right one starting with *" in texts(replies)[-1]
    await organiser.send("Who wrote Dream of the Red Chamber?\nCao Xueqin\nLu Xun")
    replies = [organiser.last_bot_message()]
    assert "Mark exactly one right option" in texts(replies)[-1]
    await organiser.send("Who wrote Dream of the Red Chamber?\n*Cao Xueqin\nLu Xun\n30")
    replies = [organiser.last_bot_message()]
    assert "1 question(s) added; the quiz has 1" in texts(replies)[-1]
    await organiser.send_document("bad.csv", BAD_CSV)
    replies = [organiser.last_bot_message()]
    problems = texts(replies)[-1]
    assert "Nothing was added" in problems
    assert "Line 3: give 2 to 4 options" in problems and "Line 4: the time must be" in problems
    await organiser.send_document("quiz.csv", GOOD_CSV)
    replies = [organiser.last_bot_message()]
    assert "2 question(s) added; the quiz has 3" in texts(replies)[-1]
    await organiser.tap("✅ Publish")
    assert "is published with 3 questions" in (organiser.last_bot_message().text or "")
    async with sessionmaker() as check:
        quiz = await check.scalar(select(Quiz))
        assert quiz is not None and quiz.title == "读书知识竞赛" and quiz.title_en == "Reading Quiz"
        assert quiz.mode is QuizMode.LIVE and quiz.starts_at == starts.replace(
            second=0, microsecond=0
        )
        questions = list(await check.scalars(select(QuizQuestion).order_by(QuizQuestion.position)))
        assert [q.seconds for q in questions] == [30, 15, 20]
        assert [q.correct for q in questions] == [0, 0, 1]
        assert questions[1].options_en == ["Confucius", "Mencius"]


async def test_a_live_round_in_english(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = await make_reader(session)
    await session.commit()
    now = utcnow()
    # The first question (5 s) closed a second ago; the second (30 s) is open now.
    quiz = await create_quiz(
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
                QuestionDraft(
                    text="一？", text_en="One?", options=["甲", "乙"], correct=0, seconds=5
                ),
                QuestionDraft(
                    text="二？",
                    text_en="Two?",
                    options=["甲", "乙"],
                    options_en=["A1", "B2"],
                    correct=1,
                    seconds=30,
                ),
            ],
        ),
        now=now - timedelta(hours=1),
    )
    q1, q2 = quiz.questions
    ann = harness.user(82002, "Ann")
    await ann.onboard()
    listing = await ann.send("/contests")
    assert "Reading Quiz" in texts(listing)[-1]
    await ann.tap("📝 Reading Quiz")
    assert "one attempt per reader" in (ann.last_bot_message().text or "")
    await ann.tap("✅ Join")
    assert ann.last_answer and ann.last_answer["text"] == "You are in!"
    await deliver(harness, sessionmaker, utcnow())
    question = ann.last_bot_message()
    assert "Question 2 of 2" in (question.text or "") and "Two?" in (question.text or "")
    assert inline_labels(question) == ["A. A1", "B. B2"]
    # An answer to the closed first question is refused and nothing is stored.
    await ann.forge(
        AnswerQuestion(question_id=q1.id, choice=0).pack(), message_id=listing[-1].message_id
    )
    assert ann.last_answer and "Time is up" in ann.last_answer["text"]
    await ann.tap("B. B2", message_id=question.message_id)
    assert ann.last_answer and ann.last_answer["text"] == "✅ Right!"
    await ann.forge(AnswerQuestion(question_id=q2.id, choice=0).pack())
    assert ann.last_answer and "already answered" in ann.last_answer["text"]
    async with sessionmaker() as check:
        assert await check.scalar(select(func.count()).select_from(QuizAnswer)) == 1
        entry = await check.scalar(select(QuizEntry))
        assert entry is not None and entry.score == 1
        # The leaderboards: the first's deadline has passed, the last's comes at its end.
        assert await send_due_boards(check, now=utcnow()) == 1
        assert await send_due_boards(check, now=utcnow() + timedelta(seconds=31)) == 1
    await deliver(harness, sessionmaker, utcnow())
    # The last board was queued at its deadline, 31 seconds on.
    await deliver(harness, sessionmaker, utcnow() + timedelta(seconds=40))
    chat = texts(ann.chat())
    assert any("the leaderboard after question 1 of 2" in t for t in chat)
    final = next(m for m in ann.chat() if "Final results" in (m.text or ""))
    assert "is over. Final results" in (final.text or "") and "🥇 Ann: 1 points" in (
        final.text or ""
    )
    # Once it is over, the top place gets a certificate image.
    async with sessionmaker() as check:
        await check.execute(update(Quiz).values(starts_at=utcnow() - timedelta(hours=1)))
        await check.commit()
    await ann.tap("🏅 My certificate", message_id=final.message_id)
    photos = [m for m in ann.chat() if m.photo]
    assert photos and photos[-1].caption == "🏅 Your certificate."
    again = await ann.send("/contests")
    await ann.tap("🏁 Reading Quiz", message_id=again[-1].message_id)
    await ann.tap("🏁 Results")
    assert "🥇 Ann" in (ann.last_bot_message().text or "")


async def test_a_window_quiz_in_chinese(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.quizzes.helpers import make_quiz

    quiz = await make_quiz(session, mode=QuizMode.WINDOW, count=2, seconds=20)
    async with sessionmaker() as move:
        await move.execute(update(Quiz).values(starts_at=utcnow() - timedelta(minutes=5)))
        await move.commit()
    mei = harness.user(82010, "梅", language_code="zh")
    await mei.onboard("zh")
    await mei.send("/contests")
    await mei.tap("📝 读书知识竞赛")
    await mei.tap("✅ 参加")
    first = mei.last_bot_message()
    assert "第 1 题，共 2 题" in (first.text or "") and "第1题：哪一个？" in (first.text or "")
    await mei.tap("B. 乙", message_id=first.message_id)
    assert mei.last_answer and mei.last_answer["text"] == "✅ 答对了！"
    second = mei.last_bot_message()
    assert "第 2 题，共 2 题" in (second.text or "")
    # The second question's time runs out: a late answer is refused; moving on is offered.
    async with sessionmaker() as move:
        await move.execute(update(QuizEntry).values(shown_at=utcnow() - timedelta(seconds=21)))
        await move.commit()
    await mei.tap("B. 乙", message_id=second.message_id)
    assert mei.last_answer and "时间已到" in mei.last_answer["text"]
    await mei.tap("➡️ 下一题", message_id=second.message_id)
    assert "这是最后一题" in (mei.last_bot_message().text or "")
    await mei.send("/contests")
    await mei.tap("📝 读书知识竞赛")
    assert "✅ 您已参加。" in (mei.last_bot_message().text or "")
    await mei.forge(f"qz:j:{quiz.id}")
    assert mei.last_answer and "只有一次机会" in mei.last_answer["text"]
    async with sessionmaker() as check:
        entry = await check.scalar(select(QuizEntry))
        assert entry is not None and entry.score == 1 and entry.current == 2


def _picture() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_question_with_a_picture_goes_out_as_a_photo(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = harness.user(82020, "Olga")
    await organiser.onboard()
    await grant_organiser(session, 82020)
    starts = (utcnow() + timedelta(days=1)).astimezone(harness.app.settings.zone)
    await organiser.send("/newquiz")
    await organiser.send("图书馆知识 / Library Quiz")
    await organiser.tap("🔴 Live round at a start time")
    await organiser.send(f"{starts:%Y-%m-%d %H:%M}")
    assert "send it as a photo with the question as its caption" in (
        organiser.last_bot_message().text or ""
    )
    # A photo without the question, or with a bad one, adds nothing.
    await organiser.send_photo(_picture())
    assert "Send the question as the photo's caption" in (organiser.last_bot_message().text or "")
    await organiser.send_photo(_picture(), caption="这是哪座图书馆？\n国家图书馆\n上海图书馆")
    assert "Mark exactly one right option" in (organiser.last_bot_message().text or "")
    await organiser.send_photo(_picture(), caption="这是哪座图书馆？\n*国家图书馆\n上海图书馆\n30")
    assert "the quiz has 1" in (organiser.last_bot_message().text or "")
    await organiser.send("《红楼梦》的作者是谁？\n*曹雪芹\n鲁迅")
    assert "the quiz has 2" in (organiser.last_bot_message().text or "")
    await organiser.tap("✅ Publish")
    assert "is published with 2 questions" in (organiser.last_bot_message().text or "")
    async with sessionmaker() as check:
        questions = list(await check.scalars(select(QuizQuestion).order_by(QuizQuestion.position)))
        assert questions[0].image_file_id and questions[1].image_file_id is None
        # The round starts now.
        await check.execute(update(Quiz).values(starts_at=utcnow() - timedelta(seconds=1)))
        await check.commit()
        quiz = await check.scalar(select(Quiz))
        assert quiz is not None
        second_opens = quiz.starts_at + timedelta(seconds=30 + quiz.gap_seconds)

    ann, mei = harness.user(82021, "Ann"), harness.user(82022, "梅", language_code="zh")
    await ann.onboard()
    await mei.onboard("zh")
    for user, quiz_label, join in (
        (ann, "📝 Library Quiz", "✅ Join"),
        (mei, "📝 图书馆知识", "✅ 参加"),
    ):
        await user.send("/contests")
        await user.tap(quiz_label)
        await user.tap(join)
    await deliver(harness, sessionmaker, utcnow())
    for user, first_line in ((ann, "Question 1 of 2"), (mei, "第 1 题，共 2 题")):
        shown = user.last_bot_message()
        assert shown.photo, "the first question comes as a photo"
        assert first_line in (shown.caption or "") and "这是哪座图书馆？" in (shown.caption or "")
        assert inline_labels(shown) == ["A. 国家图书馆", "B. 上海图书馆"]
    await mei.tap("A. 国家图书馆", message_id=mei.last_bot_message().message_id)
    assert mei.last_answer and mei.last_answer["text"] == "✅ 答对了！"
    await deliver(harness, sessionmaker, second_opens + timedelta(seconds=1))
    second = ann.last_bot_message()
    assert not second.photo and "Question 2 of 2" in (second.text or "")
    assert "《红楼梦》的作者是谁？" in (second.text or "")

    # A quiz played within a window sends its picture question as a photo too.
    boss = await make_reader(session)
    await session.commit()
    window = await create_quiz(
        session,
        boss,
        ORGANISER,
        NewQuiz(
            title="看图识馆",
            title_en="Spot the Library",
            mode=QuizMode.WINDOW,
            starts_at=utcnow() + timedelta(minutes=1),
            closes_at=utcnow() + timedelta(days=1),
            questions=[
                QuestionDraft(
                    text="这是哪座图书馆？",
                    options=["国家图书馆", "上海图书馆"],
                    correct=0,
                    image_file_id=questions[0].image_file_id,
                )
            ],
        ),
        now=utcnow(),
    )
    async with sessionmaker() as move:
        await move.execute(
            update(Quiz)
            .where(Quiz.id == window.id)
            .values(starts_at=utcnow() - timedelta(minutes=1))
        )
        await move.commit()
    await ann.send("/contests")
    await ann.tap("📝 Spot the Library")
    await ann.tap("✅ Join")
    shown = ann.last_bot_message()
    assert shown.photo and "Question 1 of 1" in (shown.caption or "")
    await ann.tap("B. 上海图书馆", message_id=shown.message_id)
    assert ann.last_answer and "the answer is A" in ann.last_answer["text"]
