"""Readers: first contact, onboarding choices and preferences."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.db import write
from bot.models import District, Reader
from bot.services.errors import InvalidInputError, NotFoundError

CARD_PREFIX = "BB"
# Three decimals of a degree is about 110 m of latitude: a coarse location, never an address.
LOCATION_DECIMALS = 3
NOTIFICATION_TOPICS = ("events", "announcements", "campaigns")
# last_seen_at is kept to this resolution, so that an update that changes nothing writes nothing.
SEEN_RESOLUTION = timedelta(minutes=5)


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit for a string of digits (as on many library cards)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def new_card_number() -> str:
    """A random alliance card number: BB, nine digits and a Luhn check digit."""
    body = f"{secrets.randbelow(10**9):09d}"
    return f"{CARD_PREFIX}{body}{luhn_check_digit(body)}"


def is_valid_card_number(text: str) -> bool:
    """Whether the text is a well-formed alliance card number."""
    value = text.strip().upper()
    body = value.removeprefix(CARD_PREFIX)
    return (
        value.startswith(CARD_PREFIX)
        and len(body) == 10
        and body.isdigit()
        and luhn_check_digit(body[:-1]) == body[-1]
    )


@dataclass(frozen=True)
class Contact:
    """What Telegram tells us about the person behind an update."""

    telegram_id: int
    chat_id: int
    first_name: str
    username: str | None


async def touch_reader(session: AsyncSession, contact: Contact, now: datetime) -> Reader:
    """The reader behind a Telegram user, with their role grants, created on first contact.

    Their details are refreshed and committed only when something changed, or when
    ``last_seen_at`` is older than ``SEEN_RESOLUTION``; otherwise nothing is written.
    """
    reader = await _reader_by_telegram_id(session, contact.telegram_id)
    if reader is not None and not _stale(reader, contact, now):
        return reader
    async with write(session):
        if reader is None:
            # Looked up again under the write lock: another instance may have just added them.
            reader = await _reader_by_telegram_id(session, contact.telegram_id)
        if reader is None:
            reader = Reader(
                telegram_id=contact.telegram_id,
                chat_id=contact.chat_id,
                first_name=contact.first_name[:128],
                username=contact.username,
                card_number=await _unused_card_number(session),
                last_seen_at=now,
                roles=[],
            )
            session.add(reader)
            return reader
        _refresh(reader, contact)
        if reader.last_seen_at is None or now - reader.last_seen_at >= SEEN_RESOLUTION:
            reader.last_seen_at = now
        if reader.is_blocked:
            # They wrote to us again, so they unblocked the bot.
            reader.is_blocked = False
            reader.blocked_at = None
    return reader


async def _reader_by_telegram_id(session: AsyncSession, telegram_id: int) -> Reader | None:
    found = await session.scalars(
        select(Reader).options(joinedload(Reader.roles)).where(Reader.telegram_id == telegram_id)
    )
    return found.unique().one_or_none()


def _stale(reader: Reader, contact: Contact, now: datetime) -> bool:
    """Whether the stored reader differs from what Telegram says now, or was seen long ago."""
    return (
        reader.chat_id != contact.chat_id
        or reader.first_name != contact.first_name[:128]
        or reader.username != contact.username
        or reader.last_seen_at is None
        or now - reader.last_seen_at >= SEEN_RESOLUTION
        or reader.is_blocked
    )


def _refresh(reader: Reader, contact: Contact) -> None:
    """Copy what Telegram says now onto the reader (attributes that are equal stay clean)."""
    fresh = {
        "chat_id": contact.chat_id,
        "first_name": contact.first_name[:128],
        "username": contact.username,
    }
    for name, value in fresh.items():
        if getattr(reader, name) != value:
            setattr(reader, name, value)


async def _unused_card_number(session: AsyncSession) -> str:
    while True:
        number = new_card_number()
        taken = await session.scalar(select(Reader.id).where(Reader.card_number == number))
        if taken is None:
            return number


async def set_language(session: AsyncSession, reader: Reader, language: str) -> None:
    """Remember the reader's language."""
    if language not in ("en", "zh"):
        raise InvalidInputError(f"unsupported language {language!r}")
    async with write(session):
        reader.language = language


@dataclass(frozen=True)
class DistrictPage:
    """One page of the district list."""

    districts: list[District]
    page: int
    pages: int


async def district_page(session: AsyncSession, page: int, per_page: int = 8) -> DistrictPage:
    """Districts sorted by code, one page at a time (out-of-range pages are clamped)."""
    total = await session.scalar(select(func.count(District.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    rows = await session.scalars(
        select(District).order_by(District.code).offset(page * per_page).limit(per_page)
    )
    return DistrictPage(districts=list(rows), page=page, pages=pages)


async def set_district(
    session: AsyncSession, reader: Reader, district_id: int | None
) -> District | None:
    """Set (or clear, with None) the reader's home district."""
    district = None
    async with write(session):
        if district_id is not None:
            district = await session.get(District, district_id)
            if district is None:
                raise NotFoundError("district")
        reader.district_id = district.id if district else None
    return district


def coarse(value: float) -> float:
    """A coordinate rounded to about 100 m."""
    return round(value, LOCATION_DECIMALS)


async def set_location(
    session: AsyncSession, reader: Reader, latitude: float | None, longitude: float | None
) -> None:
    """Store the reader's coarse location, or forget it (None, None)."""
    if latitude is not None and longitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InvalidInputError("coordinates out of range")
        latitude, longitude = coarse(latitude), coarse(longitude)
    else:
        latitude = longitude = None
    async with write(session):
        reader.latitude, reader.longitude = latitude, longitude


async def complete_onboarding(session: AsyncSession, reader: Reader, now: datetime) -> None:
    """Mark onboarding finished (idempotent)."""
    if reader.onboarded_at is None:
        async with write(session):
            reader.onboarded_at = now


async def set_notification(
    session: AsyncSession, reader: Reader, topic: str, enabled: bool
) -> None:
    """Opt in or out of one category of promotional messages."""
    if topic not in NOTIFICATION_TOPICS:
        raise InvalidInputError(f"unknown topic {topic!r}")
    async with write(session):
        setattr(reader, f"notify_{topic}", enabled)


def notification_settings(reader: Reader) -> dict[str, bool]:
    """The reader's opt-ins by topic."""
    return {topic: bool(getattr(reader, f"notify_{topic}")) for topic in NOTIFICATION_TOPICS}
