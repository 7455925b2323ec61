"""Two processes at once: the chat and the ILS job relaying one hold, two links of one card."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import IlsHoldRelay, IlsPatronLink, Reader, RelayStatus
from bot.services.holds.placing import place_hold
from bot.services.ils.cards import link_card
from bot.services.ils.holds import relay_hold
from bot.services.ils.live import LiveAvailability
from sandbox.library_system import LibrarySystem, Patron
from tests.factories import make_reader
from tests.ils.conftest import build_shelf


async def test_one_hold_relayed_twice_at_once_is_placed_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    library_system: LibrarySystem,
) -> None:
    library_system.patrons["P1"] = Patron(pin="1", name="Ann")
    async with sessionmaker() as session:
        shelf = await build_shelf(session, library_system)
        reader = await make_reader(session)
        await session.commit()
    lives = [LiveAvailability(), LiveAvailability()]
    try:
        async with sessionmaker() as first, sessionmaker() as second:
            readers = [await first.get(Reader, reader.id), await second.get(Reader, reader.id)]
            assert readers[0] is not None and readers[1] is not None
            results = await asyncio.gather(
                link_card(first, lives[0], readers[0], shelf.city.id, "P1", "1"),
                link_card(second, lives[1], readers[1], shelf.city.id, "P1", "1"),
            )
        assert [outcome.result.value for outcome in results] == ["linked", "linked"]
        async with sessionmaker() as session:
            links = list(await session.scalars(select(IlsPatronLink)))
            assert len(links) == 1
            row = await session.get(Reader, reader.id)
            assert row is not None
            placement = await place_hold(
                session, row, shelf.work.id, shelf.city.id, settings=settings
            )
            hold_id = placement.hold.id
        async with sessionmaker() as first, sessionmaker() as second:
            outcomes = await asyncio.gather(
                relay_hold(first, lives[0], hold_id, within_s=2),
                relay_hold(second, lives[1], hold_id, within_s=2),
            )
        assert {outcome.status for outcome in outcomes if outcome} == {RelayStatus.PLACED}
        assert {outcome.library.code for outcome in outcomes if outcome} == {"CITY"}
        async with sessionmaker() as session:
            relays = list(await session.scalars(select(IlsHoldRelay)))
        assert [(relay.hold_id, relay.status) for relay in relays] == [
            (hold_id, RelayStatus.PLACED)
        ]
        assert library_system.copies[shelf.city_copies[0]].holds == ["P1"]
    finally:
        for live in lives:
            await live.close()
