"""Team challenges by school (or university) and by college or department: readers pick their
department in /settings; readers without a team take part alone and are told so; forgotten
readers leave every leaderboard; an ended challenge refuses joining."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import (
    Challenge,
    ChallengeEntry,
    LibraryFollow,
    Partner,
    PartnerInstitution,
    PartnerKind,
    Reader,
    ReadingPreference,
    utcnow,
)
from bot.services.reading import challenges
from tests.harness import BotHarness, inline_labels

from .test_challenges import _organiser, _period
from .world import World, build_world, chat_reader, crowd, reader_of


async def _departments(harness: BotHarness, world: World) -> dict[str, Partner]:
    """Two colleges of the campus's university, and one that belongs to no institution."""
    made = {}
    async with harness.app.sessionmaker() as session:
        for code, kind, name, name_en, library in (
            ("LIT", PartnerKind.COLLEGE, "文学院", "School of Literature", world.campus),
            ("PHY", PartnerKind.DEPARTMENT, "物理系", "Physics", world.campus),
            ("FAR", PartnerKind.COLLEGE, "远方学院", "Far College", None),
        ):
            partner = Partner(code=code, kind=kind, name=name, name_en=name_en)
            session.add(partner)
            await session.flush()
            if library is not None:
                session.add(PartnerInstitution(partner_id=partner.id, library_id=library.id))
            made[code] = partner
        await session.commit()
    return made


async def _follow_campus(harness: BotHarness, world: World, reader: Reader) -> None:
    async with harness.app.sessionmaker() as session:
        session.add(LibraryFollow(reader_id=reader.id, library_id=world.campus.id))
        await session.commit()


async def _latest_challenge(harness: BotHarness) -> Challenge:
    async with harness.app.sessionmaker() as session:
        found = await session.scalar(select(Challenge).order_by(Challenge.id.desc()))
        assert found is not None
        return found


async def test_department_teams_picked_in_settings(harness: BotHarness) -> None:
    world = await build_world(harness)
    partners = await _departments(harness, world)
    student = await chat_reader(harness, 1961)
    await _follow_campus(harness, world, await reader_of(harness, student))
    await student.send("/settings")
    await student.tap("🎓 Department")
    text = student.last_bot_message().text or ""
    assert "Your college or department: not chosen" in text
    assert "Pick yours at Campus Library:" in text
    labels = inline_labels(student.last_bot_message())
    assert "School of Literature" in labels and "Physics" in labels
    assert "Far College" not in labels
    # A college of no institution of theirs is refused, and nothing is stored.
    await student.forge(f"dp:p:{partners['FAR'].id}")
    assert student.last_answer is not None and student.last_answer["show_alert"]
    assert "not a college or department of your school" in student.last_answer["text"]
    await student.tap("School of Literature")
    assert "Your college or department: School of Literature" in (
        student.last_bot_message().text or ""
    )
    [settings] = await student.send("/settings")
    assert "College or department: School of Literature" in (settings.text or "")

    # A reader whose school we do not know cannot pick one.
    stranger = await chat_reader(harness, 1962)
    await stranger.send("/settings")
    await stranger.tap("🎓 Department")
    assert "We do not know your school or university yet" in (
        stranger.last_bot_message().text or ""
    )
    assert inline_labels(stranger.last_bot_message()) == []

    organiser = await _organiser(harness, 1963)
    [reply] = await organiser.send(f"/newchallenge 2 {_period(1, 10)} team:club 俱乐部 | Clubs")
    assert "team:school" in (reply.text or "") and "team:department" in (reply.text or "")
    [reply] = await organiser.send(
        f"/newchallenge 2 {_period(1, 10)} team:department 院系赛 | Colleges"
    )
    assert "is open: Colleges" in (reply.text or "")
    assert "👥 teams by college or department" in (reply.text or "")
    challenge = await _latest_challenge(harness)
    assert challenge.team_kind == "department"

    await student.send("/challenges")
    await student.tap("Join: Colleges")
    assert student.last_answer is not None
    assert "in the team of School of Literature" in student.last_answer["text"]
    await stranger.send("/challenges")
    await stranger.tap("Join: Colleges")
    answer = stranger.last_answer
    assert answer is not None and answer["show_alert"]
    assert "You joined, alone: you have not picked your college or department" in answer["text"]
    await student.send(f"/start wk_{world.works[1].id}")
    await student.tap("📗 I have read it")
    await stranger.send(f"/start wk_{world.works[2].id}")
    await stranger.tap("📗 I have read it")
    await student.send("/challenges")
    [board] = await student.tap("👥 Teams: Colleges")
    text = board.text or ""
    assert "Colleges: teams by college or department" in text
    assert "1. School of Literature: 1 books by 1 readers" in text
    assert "Taking part alone (no team of this kind): 1 readers." in text
    assert "Reader1962" not in text and "Reader1961" not in text

    # Clearing the department leaves the team of a challenge already joined as it was.
    await student.send("/settings")
    await student.tap("🎓 Department")
    await student.tap("Clear my department")
    assert "Your college or department: not chosen" in (student.last_bot_message().text or "")
    async with harness.app.sessionmaker() as session:
        cleared = await session.get(ReadingPreference, (await reader_of(harness, student)).id)
        assert cleared is not None and cleared.department_id is None
    await student.send("/challenges")
    [board] = await student.tap("👥 Teams: Colleges")
    assert "1. School of Literature: 1 books by 1 readers" in (board.text or "")

    # The reader alone leaves: nobody takes part alone any more.
    await stranger.send("/forgetme")
    await stranger.tap("🗑 Yes, delete my data")
    await student.send("/challenges")
    [board] = await student.tap("👥 Teams: Colleges")
    assert "1. School of Literature: 1 books by 1 readers" in (board.text or "")
    assert "Taking part alone" not in (board.text or "")
    # Once the period is over, joining is refused.
    async with harness.app.sessionmaker() as session:
        ended = await session.get(Challenge, challenge.id)
        assert ended is not None
        ended.starts_at = utcnow() - timedelta(days=3)
        ended.ends_at = utcnow() - timedelta(minutes=1)
        await session.commit()
    late = await chat_reader(harness, 1967)
    await late.forge(f"ch:j:{challenge.id}")
    assert late.last_answer is not None and "ended on" in late.last_answer["text"]


async def test_school_teams_in_chinese_with_a_leaver_and_an_ended_challenge(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    organiser = await _organiser(harness, 1964, language="zh")
    [reply] = await organiser.send(f"/newchallenge 3 {_period(1, 10)} team:school 校际赛 | Schools")
    assert "👥 按学校或大学组队" in (reply.text or "")
    challenge = await _latest_challenge(harness)
    assert challenge.team_kind == "school"
    # Two readers whose school is known from where they collect (the university library),
    # one from the public library only: that one takes part alone.
    students = await crowd(
        harness, world, 2, holds=(world.works[0],), reads=(world.works[1],), pickup=world.campus
    )
    [townsperson] = await crowd(harness, world, 1, holds=(world.works[0],), reads=(world.works[1],))
    async with harness.app.sessionmaker() as session:
        for person in [*students, townsperson]:
            await challenges.join(session, person, challenge.id, utcnow())
    zh = await chat_reader(harness, 1965, language="zh")
    await _follow_campus(harness, world, await reader_of(harness, zh))
    await _departments(harness, world)
    await zh.send("/settings")
    await zh.tap("🎓 院系")
    text = zh.last_bot_message().text or ""
    assert "您的学院或院系：未选择" in text and "请选择您在大学图书馆的学院或院系：" in text
    await zh.tap("文学院")
    assert "您的学院或院系：文学院" in (zh.last_bot_message().text or "")
    await zh.send("/challenges")
    await zh.tap("加入：校际赛")
    assert zh.last_answer is not None and "您已加入大学图书馆队" in zh.last_answer["text"]
    await zh.send(f"/start wk_{world.works[2].id}")
    await zh.tap("📗 我读过了")
    await zh.send("/challenges")
    [board] = await zh.tap("👥 队伍：校际赛")
    text = board.text or ""
    assert "按学校或大学组队" in text
    assert "1. 大学图书馆：3 本书，3 位读者" in text
    assert "独自参加（没有此类队伍）：1 位读者。" in text

    # A participant leaves: they vanish from the board, and the team counts without them.
    leaver = harness.user(students[0].telegram_id, "Leaver")
    await leaver.send("/forgetme")
    await leaver.tap("🗑 Yes, delete my data")
    await zh.send("/challenges")
    [board] = await zh.tap("👥 队伍：校际赛")
    assert "1. 大学图书馆：2 本书，2 位读者" in (board.text or "")
    async with harness.app.sessionmaker() as session:
        left = await session.scalar(
            select(ChallengeEntry.id).where(ChallengeEntry.reader_id == students[0].id)
        )
        assert left is None

    # The period ends: joining is refused, and nobody is added.
    async with harness.app.sessionmaker() as session:
        ended = await session.get(Challenge, challenge.id)
        assert ended is not None
        ended.starts_at = utcnow() - timedelta(days=3)
        ended.ends_at = utcnow() - timedelta(minutes=1)
        await session.commit()
    late = await chat_reader(harness, 1966, language="zh")
    await late.forge(f"ch:j:{challenge.id}")
    assert late.last_answer is not None and "已经结束" in late.last_answer["text"]
    async with harness.app.sessionmaker() as session:
        entries = await session.scalars(
            select(ChallengeEntry.reader_id).where(ChallengeEntry.challenge_id == challenge.id)
        )
        assert len(list(entries)) == 3
