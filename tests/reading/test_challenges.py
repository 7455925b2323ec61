"""/challenges: organisers set them; readers join, progress, complete and get a certificate;
team leaderboards count districts; ended challenges and forgotten readers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Challenge, ChallengeEntry, Role, RoleGrant, utcnow
from tests.harness import BotHarness, ChatUser, inline_labels

from .world import build_world, chat_reader, crowd, reader_of, set_district


async def _organiser(harness: BotHarness, user_id: int, language: str = "en") -> ChatUser:
    user = await chat_reader(harness, user_id, language)
    reader = await reader_of(harness, user)
    async with harness.app.sessionmaker() as session:
        session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER))
        await session.commit()
    return user


def _period(days_before: int, days_after: int) -> str:
    today = utcnow().date()
    return f"{today - timedelta(days=days_before)}..{today + timedelta(days=days_after)}"


async def test_a_challenge_completes_and_sends_its_certificate(harness: BotHarness) -> None:
    world = await build_world(harness)
    organiser = await _organiser(harness, 1941)
    [reply] = await organiser.send(f"/newchallenge 2 {_period(1, 10)} 冬日读书 | Winter reading")
    assert "Winter reading" in (reply.text or "") and "is open" in (reply.text or "")
    reader = await chat_reader(harness, 1942)
    [overview] = await reader.send("/challenges")
    assert "Winter reading" in (overview.text or "")
    await reader.tap("Join: Winter reading")
    assert "Your progress: 0 of 2" in (reader.last_bot_message().text or "")
    await reader.send(f"/start wk_{world.works[1].id}")
    await reader.tap("📗 I have read it")
    [overview] = await reader.send("/challenges")
    assert "Your progress: 1 of 2" in (overview.text or "")
    assert "Your streak: 1 weeks in a row" in (overview.text or "")
    await reader.send(f"/start wk_{world.works[2].id}")
    messages = await reader.tap("📗 I have read it")
    certificate = messages[-1]
    assert certificate.photo, "the certificate is a photo"
    assert "Challenge completed: Winter reading" in (certificate.caption or "")
    stored = harness.sandbox.file(certificate.photo[-1].file_id)
    assert stored is not None and stored.content.startswith(b"\x89PNG")
    # Completed once: another read sends no second certificate.
    await reader.send(f"/start wk_{world.works[3].id}")
    messages = await reader.tap("📗 I have read it")
    assert not any(m.photo for m in messages)
    [overview] = await reader.send("/challenges")
    assert "🏅 Certificate: Winter reading" in inline_labels(overview)


async def test_chinese_team_challenge_ended_challenge_and_forgotten_reader(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    organiser = await _organiser(harness, 1943, language="zh")
    [reply] = await organiser.send(f"/newchallenge 3 {_period(20, -2)} 旧挑战")
    assert "已经结束" in (reply.text or "")
    [reply] = await organiser.send(f"/newchallenge 0 {_period(1, 5)} 零本")
    assert "/newchallenge" in (reply.text or "")
    await organiser.send(f"/newchallenge 3 {_period(1, 5)} team 区队挑战 | District teams")
    async with harness.app.sessionmaker() as session:
        challenge = await session.scalar(select(Challenge).order_by(Challenge.id.desc()))
        assert challenge is not None
    readers = await crowd(harness, world, 2, reads=(world.works[1], world.works[2]))
    async with harness.app.sessionmaker() as session:
        for person in readers:
            session.add(
                ChallengeEntry(
                    challenge_id=challenge.id, reader_id=person.id, team_id=world.district.id
                )
            )
        await session.commit()
    zh = await chat_reader(harness, 1944, language="zh")
    await set_district(harness, zh, world.district)
    await zh.send("/challenges")
    await zh.tap("加入：区队挑战")
    await zh.tap("👥 队伍：区队挑战")
    board = zh.last_bot_message().text or ""
    assert "4 本书，3 位读者" in board
    # A participant leaves: the team counts without them.
    leaver = harness.user(readers[0].telegram_id, "Leaver")
    await leaver.send("/forgetme")
    await leaver.tap("🗑 Yes, delete my data")
    await zh.send("/challenges")
    await zh.tap("👥 队伍：区队挑战")
    assert "2 本书，2 位读者" in (zh.last_bot_message().text or "")
    # Ending: a challenge whose period is over cannot be joined.
    async with harness.app.sessionmaker() as session:
        ended = await session.get(Challenge, challenge.id)
        assert ended is not None
        ended.ends_at = utcnow() - timedelta(minutes=1)
        ended.starts_at = utcnow() - timedelta(days=3)
        await session.commit()
    late = await chat_reader(harness, 1945)
    await late.forge(f"ch:j:{challenge.id}")
    assert late.last_answer is not None and "ended on" in late.last_answer["text"]
    async with harness.app.sessionmaker() as session:
        entries = await session.scalars(
            select(ChallengeEntry.reader_id).where(ChallengeEntry.challenge_id == challenge.id)
        )
        assert len(list(entries)) == 2
