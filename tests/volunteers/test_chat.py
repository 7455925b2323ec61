"""Volunteering in chat: a shift with QR codes, sign-up, check-in and out, hours, exports."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import VolunteerShift, VolunteerSignup, utcnow
from tests.factories import make_event
from tests.harness import BotHarness, inline_labels, texts
from tests.humanlibrary.helpers import grant_organiser


async def test_a_shift_from_opening_to_hours(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = harness.user(83001, "Olga")
    await organiser.onboard()
    boss = await grant_organiser(session, 83001)
    event = await make_event(session, title="Reading festival", organiser_id=boss.id)
    await session.commit()
    zone = harness.app.settings.zone
    starts = (utcnow() + timedelta(minutes=20)).astimezone(zone)
    ends = starts + timedelta(hours=2)
    replies = await organiser.send(
        f"/newshift {event.id} 2 {starts:%Y-%m-%d} 99:00 {ends:%H:%M} Usher"
    )
    assert "/newshift EVENT_ID PLACES" in texts(replies)[-1]
    await organiser.send(
        f"/newshift {event.id} 2 {starts:%Y-%m-%d %H:%M} {ends:%H:%M} Reader guide"
    )
    photos = [m for m in organiser.chat() if m.photo]
    assert (
        len(photos) == 2
        and "vin_" in (photos[0].caption or "")
        and "vout_" in (photos[1].caption or "")
    )
    async with sessionmaker() as check:
        shift = await check.scalar(select(VolunteerShift))
        assert shift is not None and shift.role == "Reader guide" and shift.places == 2

    vera = harness.user(83002, "Vera")
    await vera.onboard()
    listing = await vera.send("/volunteer")
    assert "Reader guide at Reading festival" in texts(listing)[-1]
    assert "2 of 2 places left" in texts(listing)[-1]
    await vera.tap(next(b for b in inline_labels(listing[-1]) if b.startswith("🙋 Sign up")))
    assert vera.last_answer and "signed up as Reader guide" in vera.last_answer["text"]
    # Leaving before arriving is refused, and nothing is recorded.
    replies = await vera.send(f"/start vout_{shift.token}")
    assert "You have not checked in" in texts(replies)[-1]
    async with sessionmaker() as check:
        signup = await check.scalar(select(VolunteerSignup))
        assert signup is not None and signup.checked_out_at is None
    replies = await vera.send(f"/start vin_{shift.token}")
    assert "Checked in as Reader guide" in texts(replies)[-1]
    replies = await vera.send(f"/start vout_{shift.token}")
    assert "Checked out" in texts(replies)[-1]
    # Later, the shift has been served: two hours.
    now = utcnow()
    async with sessionmaker() as move:
        await move.execute(
            update(VolunteerShift).values(
                starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1)
            )
        )
        await move.execute(
            update(VolunteerSignup).values(
                checked_in_at=now - timedelta(hours=3, minutes=10),
                checked_out_at=now - timedelta(minutes=50),
            )
        )
        await move.commit()
    mine = await vera.send("/volunteer")
    assert "2.0 h in 1 shifts" in texts(mine)[-1]
    await vera.tap("🏅 Certificate of service hours")
    assert [m for m in vera.chat() if m.photo][
        -1
    ].caption == "🏅 Your certificate of service hours."

    await organiser.send("/volunteerhours")
    documents = [m.document.file_name for m in organiser.chat() if m.document]
    assert any("readers" in name for name in documents if name)
    assert any("institutions" in name for name in documents if name)


async def test_volunteering_in_chinese(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mei = harness.user(83010, "梅", language_code="zh")
    await mei.onboard("zh")
    replies = await mei.send("/volunteer")
    assert "志愿服务" in texts(replies)[-1] and "目前没有开放的志愿者班次" in texts(replies)[-1]
    replies = await mei.send("/volunteer 2026-13")
    assert texts(replies)[-1]
    replies = await mei.send("/start vin_nosuchtoken")
    assert "这个志愿者二维码无效" in texts(replies)[-1]
