"""Registration under load, cancellations promoting the waitlist, timed offers moving on."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Notification, Reader, Registration, RegistrationStatus, utcnow
from bot.services.events import registration
from bot.services.events.errors import (
    AlreadyRegisteredError,
    OfferGoneError,
    RegistrationClosedError,
)
from bot.services.events.organising import set_capacity
from bot.services.events.registration import WaitlistRules
from bot.services.events.tick import expire_offers
from tests.factories import make_event, make_reader


async def _registrations(
    maker: async_sessionmaker[AsyncSession], event_id: int
) -> list[Registration]:
    async with maker() as session:
        return list(
            await session.scalars(
                select(Registration)
                .where(Registration.event_id == event_id)
                .order_by(Registration.position)
            )
        )


async def test_twenty_readers_at_once_for_five_places(
    sessionmaker: async_sessionmaker[AsyncSession], rules: WaitlistRules
) -> None:
    async with sessionmaker() as session:
        event = await make_event(session, capacity=5)
        readers = [await make_reader(session) for _ in range(20)]
        await session.commit()

    async def one(reader: Reader) -> registration.Registered:
        async with sessionmaker() as session:
            return await registration.register(session, reader, event.id, now=utcnow())

    results = await asyncio.gather(*(one(reader) for reader in readers))
    rows = await _registrations(sessionmaker, event.id)
    statuses = [row.status for row in rows]
    assert statuses == [RegistrationStatus.CONFIRMED] * 5 + [RegistrationStatus.WAITLISTED] * 15
    assert [row.position for row in rows] == list(range(1, 21))
    assert len({row.reader_id for row in rows}) == 20
    ranks = sorted(r.waitlist_rank for r in results if r.waitlist_rank is not None)
    assert ranks == list(range(1, 16))
    by_reader = {r.registration.reader_id: r.waitlist_rank for r in results}
    assert [by_reader[row.reader_id] for row in rows[5:]] == list(range(1, 16))


async def test_one_registration_per_reader_and_window(
    session: AsyncSession, rules: WaitlistRules
) -> None:
    now = utcnow()
    event = await make_event(session, capacity=2)
    later = await make_event(session, registration_opens_at=now + timedelta(days=1))
    closed = await make_event(session, registration_closes_at=now - timedelta(minutes=1))
    reader = await make_reader(session)
    await session.commit()
    await registration.register(session, reader, event.id, now=now)
    with pytest.raises(AlreadyRegisteredError):
        await registration.register(session, reader, event.id, now=now)
    with pytest.raises(RegistrationClosedError) as not_open:
        await registration.register(session, reader, later.id, now=now)
    assert not_open.value.opens_at is not None
    with pytest.raises(RegistrationClosedError):
        await registration.register(session, reader, closed.id, now=now)
    # Closes at the start by default.
    with pytest.raises(RegistrationClosedError):
        await registration.register(
            session, reader, event.id, now=event.starts_at + timedelta(seconds=1)
        )


async def test_cancellations_and_capacity_promote_in_order(
    sessionmaker: async_sessionmaker[AsyncSession], rules: WaitlistRules
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        event = await make_event(session, capacity=2, starts_at=now + timedelta(days=5))
        readers = [await make_reader(session) for _ in range(5)]
        await session.commit()
        for reader in readers:
            await registration.register(session, reader, event.id, now=now)
        await registration.cancel_registration(session, readers[0], event.id, now=now, rules=rules)
    rows = {row.reader_id: row.status for row in await _registrations(sessionmaker, event.id)}
    assert rows[readers[0].id] is RegistrationStatus.CANCELLED
    assert rows[readers[2].id] is RegistrationStatus.CONFIRMED
    assert rows[readers[3].id] is RegistrationStatus.WAITLISTED
    async with sessionmaker() as session:
        organiser = await make_reader(session)
        from bot.models import Role
        from bot.services.roles import RoleSet

        admin = RoleSet(roles=frozenset({Role.ADMIN}))
        await set_capacity(session, organiser, admin, event.id, 4, now=now, rules=rules)
        kinds = list(
            await session.scalars(
                select(Notification.reader_id).where(Notification.kind == "event-promoted")
            )
        )
    rows = {row.reader_id: row.status for row in await _registrations(sessionmaker, event.id)}
    assert rows[readers[3].id] is RegistrationStatus.CONFIRMED
    assert rows[readers[4].id] is RegistrationStatus.CONFIRMED
    assert kinds == [readers[2].id, readers[3].id, readers[4].id]


async def test_timed_offers_expire_and_move_on(
    sessionmaker: async_sessionmaker[AsyncSession], rules: WaitlistRules
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        # Within the offer window (24 h by default): freed places are offered, not given.
        event = await make_event(session, capacity=1, starts_at=now + timedelta(hours=10))
        readers = [await make_reader(session) for _ in range(4)]
        await session.commit()
        for reader in readers:
            await registration.register(session, reader, event.id, now=now)
        await registration.cancel_registration(session, readers[0], event.id, now=now, rules=rules)
    rows = {row.reader_id: row for row in await _registrations(sessionmaker, event.id)}
    offered = rows[readers[1].id]
    assert offered.status is RegistrationStatus.OFFERED
    assert offered.offer_expires_at == now + timedelta(hours=2)
    # Nothing happens before the offer expires.
    async with sessionmaker() as session:
        early = now + timedelta(hours=1)
        assert await expire_offers(session, now=early, rules=rules) == 0
        later = now + timedelta(hours=2, seconds=1)
        assert await expire_offers(session, now=later, rules=rules) == 1
        # An expired offer cannot be accepted.
        with pytest.raises(OfferGoneError):
            await registration.answer_offer(
                session, readers[1], offered.id, True, now=later, rules=rules
            )
    rows = {row.reader_id: row for row in await _registrations(sessionmaker, event.id)}
    assert rows[readers[1].id].status is RegistrationStatus.CANCELLED
    assert rows[readers[2].id].status is RegistrationStatus.OFFERED
    async with sessionmaker() as session:
        await registration.answer_offer(
            session, readers[2], rows[readers[2].id].id, False, now=later, rules=rules
        )
        # Someone else's offer cannot be taken with a forged id.
        with pytest.raises(OfferGoneError):
            await registration.answer_offer(
                session, readers[0], rows[readers[3].id].id, True, now=later, rules=rules
            )
        await registration.answer_offer(
            session, readers[3], rows[readers[3].id].id, True, now=later, rules=rules
        )
        kinds = [
            (n.reader_id, n.kind)
            for n in await session.scalars(select(Notification).order_by(Notification.id))
        ]
    rows = {row.reader_id: row for row in await _registrations(sessionmaker, event.id)}
    assert rows[readers[3].id].status is RegistrationStatus.CONFIRMED
    assert kinds == [
        (readers[1].id, "event-offer"),
        (readers[1].id, "event-offer-expired"),
        (readers[2].id, "event-offer"),
        (readers[3].id, "event-offer"),
    ]
