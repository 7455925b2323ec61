"""A reader's own card at a member library, linked after its system checks card and PIN.

The PIN goes to the library's system once and is never stored or logged. Attempts are
limited per reader (``ILS_CARD_ATTEMPTS_PER_HOUR``, counted by this process).
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import IlsConnection, IlsKind, IlsPatronLink, Library, Reader
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.ils.connectors import Connector, PatronAnswer
from bot.services.ils.live import LiveAvailability
from bot.services.ils.sip2 import IlsError, IlsUnreachableError

CARD_CHARS = 64
PIN_CHARS = 64
HOUR_S = 3600.0


class LinkResult(enum.StrEnum):
    LINKED = "linked"
    WRONG = "wrong"  # unknown card or wrong PIN (the system does not say which to us)
    BLOCKED = "blocked"
    EXPIRED = "expired"
    UNREACHABLE = "unreachable"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class LinkOutcome:
    """What linking a card came to, with the library system's own words when it gave any."""

    result: LinkResult
    library: Library
    message: str = ""


def _allow(live: LiveAvailability, reader_id: int) -> bool:
    """Count a link attempt if the reader has one left this hour."""
    now = live.clock()
    attempts = live.card_attempts.setdefault(reader_id, deque())
    while attempts and now - attempts[0] >= HOUR_S:
        attempts.popleft()
    if len(attempts) >= live.card_attempts_per_hour:
        return False
    attempts.append(now)
    return True


def clean_card(text: str) -> str:
    """A card number as typed: 1 to 64 visible characters (InvalidInputError otherwise)."""
    card = text.strip()
    if not card or len(card) > CARD_CHARS or not card.isprintable() or "|" in card:
        raise InvalidInputError("card number")
    return card


async def card_libraries(session: AsyncSession) -> list[Library]:
    """Libraries whose systems can check a card (SIP2-connected), by code."""
    rows = await session.scalars(
        select(Library)
        .join(IlsConnection, IlsConnection.library_id == Library.id)
        .where(IlsConnection.kind == IlsKind.SIP2)
        .order_by(Library.code)
    )
    return list(rows)


async def linked_cards(session: AsyncSession, reader: Reader) -> list[tuple[Library, str]]:
    """The reader's linked library cards."""
    rows = await session.execute(
        select(Library, IlsPatronLink.card_number)
        .join(IlsPatronLink, IlsPatronLink.library_id == Library.id)
        .where(IlsPatronLink.reader_id == reader.id)
        .order_by(Library.code)
    )
    return [(library, card) for library, card in rows]


def _result(answer: PatronAnswer) -> LinkResult:
    if not answer.known or not answer.pin_ok:
        return LinkResult.WRONG
    if answer.expired:
        return LinkResult.EXPIRED
    if answer.blocked:
        return LinkResult.BLOCKED
    return LinkResult.LINKED


async def link_card(
    session: AsyncSession,
    live: LiveAvailability,
    reader: Reader,
    library_id: int,
    card: str,
    pin: str,
) -> LinkOutcome:
    """Check the card and PIN with the library's system and link the card if it may hold."""
    card = clean_card(card)
    if not pin or len(pin) > PIN_CHARS or "|" in pin or not pin.isprintable():
        raise InvalidInputError("PIN")
    found = await session.execute(
        select(Library, IlsConnection)
        .join(IlsConnection, IlsConnection.library_id == Library.id)
        .where(Library.id == library_id, IlsConnection.kind == IlsKind.SIP2)
    )
    row = found.one_or_none()
    if row is None:
        raise NotFoundError("library")
    library, connection = row
    if not _allow(live, reader.id):
        return LinkOutcome(LinkResult.TOO_MANY, library)

    async def check(connector: Connector) -> PatronAnswer:
        return await connector.patron(card, pin)

    try:
        answer = await live.ask(library.code, connection, check, within_s=live.timeout_s)
    except IlsUnreachableError:
        return LinkOutcome(LinkResult.UNREACHABLE, library)
    except IlsError as exc:
        return LinkOutcome(LinkResult.UNREACHABLE, library, str(exc))
    result = _result(answer)
    if result is LinkResult.LINKED:
        await _store_link(session, reader.id, library.id, card)
        await session.refresh(library)  # a race's rollback expired it
    return LinkOutcome(result, library, answer.message)


async def _store_link(session: AsyncSession, reader_id: int, library_id: int, card: str) -> None:
    """Insert or update the reader's card there (a link made at the same moment elsewhere
    is updated instead)."""
    for _attempt in range(2):
        try:
            async with write(session):
                link = await session.scalar(
                    select(IlsPatronLink).where(
                        IlsPatronLink.reader_id == reader_id, IlsPatronLink.library_id == library_id
                    )
                )
                if link is None:
                    session.add(
                        IlsPatronLink(reader_id=reader_id, library_id=library_id, card_number=card)
                    )
                else:
                    link.card_number = card
                await session.flush()  # a link inserted meanwhile fails here, inside the unit
            return
        except IntegrityError:
            continue


async def unlink_card(session: AsyncSession, reader: Reader, library_id: int) -> bool:
    """Forget the reader's card at the library (False if there was none)."""
    async with write(session):
        link = await session.scalar(
            select(IlsPatronLink).where(
                IlsPatronLink.reader_id == reader.id, IlsPatronLink.library_id == library_id
            )
        )
        if link is None:
            return False
        await session.delete(link)
        return True
