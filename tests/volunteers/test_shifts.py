"""Volunteer shifts: the last place under load, check-out needs a check-in, hours and CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Reader, Role, VolunteerShift, VolunteerSignup, utcnow
from bot.services.roles import RoleSet
from bot.services.volunteers import attendance, hours, shifts
from bot.services.volunteers.attendance import AttendanceError
from tests.factories import make_district, make_event, make_library, make_reader

ADMIN = RoleSet(roles=frozenset({Role.ADMIN}))


async def _shift(session: AsyncSession, *, places: int = 2) -> VolunteerShift:
    district = await make_district(session)
    library = await make_library(session, district, name="海滨图书馆", name_en="Haibin Library")
    event = await make_event(session, venue_library_id=library.id)
    organiser = await make_reader(session)
    await session.commit()
    starts = utcnow() + timedelta(minutes=20)
    return await shifts.add_shift(
        session,
        organiser,
        ADMIN,
        event.id,
        role="Usher",
        places=places,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        now=utcnow(),
    )


async def test_ten_readers_for_the_last_place(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        shift = await _shift(session, places=1)
        readers = [await make_reader(session) for _ in range(10)]
        await session.commit()

    async def one(reader: Reader) -> str:
        async with sessionmaker() as session:
            try:
                await shifts.sign_up(session, reader, shift.id, now=utcnow())
            except shifts.ShiftFullError:
                return "full"
            return "in"

    outcomes = await asyncio.gather(*(one(reader) for reader in readers))
    assert outcomes.count("in") == 1
    async with sessionmaker() as session:
        signed = list(await session.scalars(select(VolunteerSignup)))
        assert len(signed) == 1


async def test_check_out_needs_a_check_in_and_hours_are_counted(session: AsyncSession) -> None:
    shift = await _shift(session)
    reader = await make_reader(session, first_name="Vera")
    stranger = await make_reader(session)
    await session.commit()
    await shifts.sign_up(session, reader, shift.id, now=utcnow())
    with pytest.raises(shifts.AlreadySignedUpError):
        await shifts.sign_up(session, reader, shift.id, now=utcnow())
    with pytest.raises(AttendanceError) as refused:
        await attendance.check_out(session, reader, shift.token, now=utcnow())
    assert refused.value.reason == "not_in"
    signup = await session.scalar(select(VolunteerSignup))
    assert signup is not None and signup.checked_out_at is None and signup.checked_in_at is None
    with pytest.raises(AttendanceError) as outsider:
        await attendance.check_in(session, stranger, shift.token, now=utcnow())
    assert outsider.value.reason == "not_signed_up"
    arrived = shift.starts_at - timedelta(minutes=10)
    await attendance.check_in(session, reader, shift.token, now=arrived)
    with pytest.raises(AttendanceError):
        await attendance.check_in(session, reader, shift.token, now=arrived)
    # Early arrival counts from the start; two and a half hours are served.
    _, served = await attendance.check_out(
        session, reader, shift.token, now=shift.starts_at + timedelta(hours=2.5)
    )
    assert served == timedelta(hours=2.5)
    with pytest.raises(AttendanceError) as twice:
        await attendance.check_out(session, reader, shift.token, now=shift.ends_at)
    assert twice.value.reason == "already_out"
    day = timedelta(days=1)
    total = await hours.reader_service(session, reader, utcnow() - day, utcnow() + day)
    assert total.shifts == 1 and total.hours == 2.5
    organiser = await make_reader(session)
    export = await hours.export_hours(session, organiser, ADMIN, utcnow() - day, utcnow() + day)
    readers = list(csv.reader(io.StringIO(export.per_reader.decode("utf-8-sig"))))
    assert readers == [
        ["card_number", "name", "shifts", "hours"],
        [reader.card_number, "Vera", "1", "2.50"],
    ]
    places = list(csv.reader(io.StringIO(export.per_institution.decode("utf-8-sig"))))
    assert places[1] == ["海滨图书馆", "1", "1", "2.50"]
    # An organiser sees only their own events' hours.
    other = RoleSet(roles=frozenset({Role.ORGANISER}))
    assert (
        await hours.export_hours(session, organiser, other, utcnow() - day, utcnow() + day)
    ).readers == 0


async def test_withdrawing_frees_the_place(session: AsyncSession) -> None:
    shift = await _shift(session, places=1)
    first, second = await make_reader(session), await make_reader(session)
    await session.commit()
    await shifts.sign_up(session, first, shift.id, now=utcnow())
    with pytest.raises(shifts.ShiftFullError):
        await shifts.sign_up(session, second, shift.id, now=utcnow())
    with pytest.raises(shifts.NotSignedUpError):
        await shifts.withdraw(session, second, shift.id, now=utcnow())
    await shifts.withdraw(session, first, shift.id, now=utcnow())
    await shifts.sign_up(session, second, shift.id, now=utcnow())
    await session.execute(update(VolunteerShift).values(starts_at=utcnow() - timedelta(minutes=1)))
    await session.commit()
    with pytest.raises(shifts.ShiftStartedError):
        await shifts.withdraw(session, second, shift.id, now=utcnow())


async def test_the_demo_has_shifts_to_sign_up_for(session: AsyncSession) -> None:
    from datetime import datetime

    from bot.config import Settings
    from bot.services.demo import seed_demo

    zone = Settings(_env_file=None).zone  # type: ignore[call-arg]
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    reader = await make_reader(session)
    await session.commit()
    found = await shifts.open_shifts(session, reader, now=utcnow())
    assert len(found) == 2 and sum(item.shift.places for item in found) == 5
    await shifts.sign_up(session, reader, found[0].shift.id, now=utcnow())
