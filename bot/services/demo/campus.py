"""The demo's campus programme: living books at the human library event, a live quiz."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    ContestEntry,
    ContestJudge,
    ContestKind,
    Event,
    EventCategory,
    EventHost,
    Library,
    LivingBook,
    LivingBookSlot,
    Partner,
    PartnerInstitution,
    PartnerKind,
    PartnerOrganiser,
    Quiz,
    QuizMode,
    QuizQuestion,
    Reader,
    SubmissionContest,
    VolunteerShift,
    utcnow,
)
from bot.services.demo.summary import DemoSummary
from bot.services.humanlibrary.shelves import slot_times

# (name, topic, blurb): the living books of the demo's first human library event.
DEMO_LIVING_BOOKS = (
    (
        "陈船长 Captain Chen",
        "三十年远洋航海 Thirty years at sea",
        "从青岛到鹿特丹：航线、风暴与港口。From Qingdao to Rotterdam: routes, storms, ports.",
    ),
    (
        "古籍修复师 The book restorer",
        "修补一本明代刻本 Mending a Ming-dynasty print",
        "纸、浆糊和耐心。Paper, paste and patience: how a torn book is made whole again.",
    ),
    (
        "留学生 Amina, an exchange student",
        "在中国读研究生 A graduate student far from home",
        "从内罗毕到海滨：语言、食物和友谊。From Nairobi to Haibin: language, food, friends.",
    ),
)
SLOT_MINUTES = 30


async def seed_living_books(session: AsyncSession, summary: DemoSummary, *, now: datetime) -> None:
    """Three living books at the first human library event to come, unless it has some."""
    event = await session.scalar(
        select(Event)
        .where(Event.category == EventCategory.HUMAN_LIBRARY, Event.starts_at > now)
        .order_by(Event.starts_at)
        .limit(1)
    )
    if event is None:
        return
    if await session.scalar(select(LivingBook.id).where(LivingBook.event_id == event.id)):
        return
    for name, topic, blurb in DEMO_LIVING_BOOKS:
        book = LivingBook(
            event_id=event.id, name=name, topic=topic, blurb=blurb, slot_minutes=SLOT_MINUTES
        )
        session.add(book)
        await session.flush()
        session.add_all(
            LivingBookSlot(book_id=book.id, starts_at=start, ends_at=end)
            for start, end in slot_times(event, SLOT_MINUTES, now - timedelta(days=1))
        )
        summary.campus_created += 1
    await session.flush()


# (Chinese, English, options, options in English, the right one): the demo quizzes' questions.
DEMO_QUESTIONS = (
    (
        "《红楼梦》的作者是谁？",
        "Who wrote Dream of the Red Chamber?",
        ["曹雪芹", "罗贯中", "吴承恩"],
        ["Cao Xueqin", "Luo Guanzhong", "Wu Cheng'en"],
        0,
    ),
    (
        "“床前明月光”出自哪位诗人？",
        "Which poet wrote 'Moonlight before my bed'?",
        ["杜甫", "李白", "王维", "白居易"],
        ["Du Fu", "Li Bai", "Wang Wei", "Bai Juyi"],
        1,
    ),
    (
        "《论语》记录的是谁的言行？",
        "Whose sayings do the Analects record?",
        ["孟子", "老子", "孔子"],
        ["Mencius", "Laozi", "Confucius"],
        2,
    ),
    (
        "世界读书日是哪一天？",
        "When is World Book Day?",
        ["4月23日", "9月28日"],
        ["23 April", "28 September"],
        0,
    ),
)
DEMO_QUIZZES = (
    ("读书知识竞赛（现场赛）", "Reading Quiz (live round)", QuizMode.LIVE),
    ("经典知识挑战（随时参加）", "Classics Challenge (any time this fortnight)", QuizMode.WINDOW),
)
# The live round starts this long after seeding, so a person trying the demo can join it.
LIVE_QUIZ_LEAD = timedelta(minutes=10)
WINDOW_QUIZ_DAYS = 14


async def seed_quizzes(
    session: AsyncSession, organiser: Reader, summary: DemoSummary, *, now: datetime
) -> None:
    """A live round soon and a quiz open for a fortnight, unless they are still to come."""
    for title, title_en, mode in DEMO_QUIZZES:
        known = await session.scalar(
            select(Quiz.id).where(
                Quiz.title == title,
                (Quiz.closes_at > now) if mode is QuizMode.WINDOW else (Quiz.starts_at > now),
            )
        )
        if known is not None:
            continue
        starts = now + LIVE_QUIZ_LEAD if mode is QuizMode.LIVE else now - timedelta(minutes=1)
        session.add(
            Quiz(
                title=title,
                title_en=title_en,
                organiser_id=organiser.id,
                mode=mode,
                starts_at=starts.replace(second=0, microsecond=0),
                closes_at=now + timedelta(days=WINDOW_QUIZ_DAYS)
                if mode is QuizMode.WINDOW
                else None,
                gap_seconds=10,
                top_places=3,
                published=True,
                questions=[
                    QuizQuestion(
                        position=position,
                        text=text,
                        text_en=text_en,
                        options=list(options),
                        options_en=list(options_en),
                        correct=correct,
                        seconds=20,
                    )
                    for position, (text, text_en, options, options_en, correct) in enumerate(
                        DEMO_QUESTIONS
                    )
                ],
            )
        )
        summary.campus_created += 1
    await session.flush()


# (role, places, minutes before the event, minutes after its start): the demo's shifts.
DEMO_SHIFTS = (("引导员 Usher", 4, 30, 90), ("摄影 Photographer", 1, 0, 90))


async def seed_shifts(session: AsyncSession, summary: DemoSummary, *, now: datetime) -> None:
    """Volunteer shifts on the first event to come that has none (and no living books)."""
    event = await session.scalar(
        select(Event)
        .where(
            Event.starts_at > now + timedelta(hours=2),
            Event.category != EventCategory.HUMAN_LIBRARY,
        )
        .order_by(Event.starts_at)
        .limit(1)
    )
    if event is None or await session.scalar(
        select(VolunteerShift.id).where(VolunteerShift.event_id == event.id)
    ):
        return
    for role, places, before, length in DEMO_SHIFTS:
        starts = event.starts_at - timedelta(minutes=before)
        session.add(
            VolunteerShift(
                event_id=event.id,
                role=role,
                places=places,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=length),
                token=secrets.token_urlsafe(16),
            )
        )
        summary.campus_created += 1
    await session.flush()


DEMO_ESSAYS = (
    "图书馆是城市的记忆。每一次借阅，都是一次与陌生人的相遇。",
    "The reading room at night: radiators ticking, pages turning, a city breathing slowly.",
    "在乡村书屋里，孩子们第一次读到了大海。",
)
DEMO_CONTEST = "征文：我的图书馆，我的城市 My library, my city"
# The demo reader and admin judge it, so /judging can be tried as either.
DEMO_JUDGES = (1001, 1004)


async def seed_essay_contest(
    session: AsyncSession, organiser: Reader, summary: DemoSummary, *, now: datetime
) -> None:
    """An essay contest open for a fortnight with three entries and a panel of two."""
    if await session.scalar(
        select(SubmissionContest.id).where(SubmissionContest.title == DEMO_CONTEST)
    ):
        return
    contest = SubmissionContest(
        title=DEMO_CONTEST,
        kind=ContestKind.ESSAY,
        organiser_id=organiser.id,
        deadline=now + timedelta(days=14),
        entries_per_reader=1,
    )
    session.add(contest)
    await session.flush()
    personas = (*DEMO_JUDGES, organiser.telegram_id)
    authors = list(
        await session.scalars(
            select(Reader).where(Reader.telegram_id.not_in(personas)).order_by(Reader.id).limit(3)
        )
    )
    for author, text in zip(authors, DEMO_ESSAYS, strict=False):
        session.add(
            ContestEntry(contest_id=contest.id, reader_id=author.id, text=text, submitted_at=now)
        )
    for judge in await session.scalars(select(Reader).where(Reader.telegram_id.in_(DEMO_JUDGES))):
        session.add(ContestJudge(contest_id=contest.id, reader_id=judge.id))
    summary.campus_created += 1
    await session.flush()


# (code, kind, name, English name, description): the demo's partners.
DEMO_PARTNERS = (
    (
        "HBU_LIT",
        PartnerKind.COLLEGE,
        "海滨大学文学院",
        "Haibin University School of Literature",
        "文学院师生与图书馆合办经典诵读和诗词大会。",
    ),
    (
        "SEABOOKS",
        PartnerKind.BOOKSTORE,
        "海滨书店",
        "Seaside Books",
        "独立书店，和联盟一起办读书会与作者见面会。",
    ),
)


async def seed_partners(
    session: AsyncSession, organiser: Reader, summary: DemoSummary, *, now: datetime
) -> None:
    """Two partners co-hosting the next two events; the demo organiser works for the first."""
    if await session.scalar(select(Partner.id).where(Partner.code == DEMO_PARTNERS[0][0])):
        return
    events = list(
        await session.scalars(
            select(Event).where(Event.starts_at > now).order_by(Event.starts_at).limit(2)
        )
    )
    # The School of Literature is a college of Haibin University: its readers pick it.
    university = await session.scalar(select(Library.id).where(Library.code == "HBU"))
    for code, kind, name, name_en, description in DEMO_PARTNERS:
        partner = Partner(
            code=code,
            kind=kind,
            name=name,
            name_en=name_en,
            description=description,
        )
        session.add(partner)
        await session.flush()
        if university is not None and kind is PartnerKind.COLLEGE:
            session.add(PartnerInstitution(partner_id=partner.id, library_id=university))
        for event in events:
            session.add(EventHost(event_id=event.id, partner_id=partner.id))
            event.partners = [*(event.partners or []), name]
        summary.campus_created += 1
    first = await session.scalar(select(Partner.id).where(Partner.code == DEMO_PARTNERS[0][0]))
    assert first is not None
    session.add(PartnerOrganiser(partner_id=first, reader_id=organiser.id))
    await session.flush()


async def seed_campus(session: AsyncSession, organiser: Reader, summary: DemoSummary) -> None:
    """Everything of the campus programme the demo shows (idempotent)."""
    now = utcnow()
    await seed_living_books(session, summary, now=now)
    await seed_quizzes(session, organiser, summary, now=now)
    await seed_shifts(session, summary, now=now)
    await seed_essay_contest(session, organiser, summary, now=now)
    await seed_partners(session, organiser, summary, now=now)
