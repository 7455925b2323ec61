"""The demo's four personas: a reader, an organiser, a librarian and an admin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Library, Reader, Role, RoleGrant, utcnow
from bot.services.demo.data import CENTRAL_LIBRARY
from bot.services.demo.summary import DemoSummary
from bot.services.readers import new_card_number


@dataclass(frozen=True)
class DemoAccount:
    """A sandbox account of the demo: not a person, a role to try the bot as."""

    telegram_id: int
    first_name: str
    username: str
    language: str
    district_code: str
    role: Role | None = None
    library_code: str | None = None


# The organiser is bound to the central library, so /broadcast reaches its followers.
DEMO_ACCOUNTS = (
    DemoAccount(1001, "演示读者", "demo_reader", "zh", "XISHAN"),
    DemoAccount(
        1002, "演示活动组织者", "demo_organiser", "zh", "GANGKOU", Role.ORGANISER, CENTRAL_LIBRARY
    ),
    DemoAccount(
        1003, "演示馆员", "demo_librarian", "zh", "GANGKOU", Role.LIBRARIAN, CENTRAL_LIBRARY
    ),
    DemoAccount(1004, "Demo admin", "demo_admin", "en", "GAOXIN", Role.ADMIN),
)
READER_TELEGRAM_ID = 1001
ORGANISER_TELEGRAM_ID = 1002


def fresh_card_number(taken: set[str]) -> str:
    """A library card number no reader has yet (and remember it as taken)."""
    card_number = new_card_number()
    while card_number in taken:
        card_number = new_card_number()
    taken.add(card_number)
    return card_number


def _reader(account: DemoAccount, district: District, card_number: str) -> Reader:
    return Reader(
        telegram_id=account.telegram_id,
        chat_id=account.telegram_id,
        first_name=account.first_name,
        username=account.username,
        language=account.language,
        district_id=district.id,
        latitude=round(district.latitude, 3),
        longitude=round(district.longitude, 3),
        card_number=card_number,
        onboarded_at=utcnow(),
    )


async def _grant_role(
    session: AsyncSession, reader: Reader, role: Role, library_id: int | None
) -> bool:
    """Grant the role unless the reader holds it (for that library) already."""
    grant = await session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.reader_id == reader.id,
            RoleGrant.role == role,
            RoleGrant.library_id.is_(None)
            if library_id is None
            else RoleGrant.library_id == library_id,
        )
    )
    if grant is not None:
        return False
    session.add(RoleGrant(reader_id=reader.id, role=role, library_id=library_id))
    return True


async def seed_accounts(
    session: AsyncSession,
    districts: Mapping[str, District],
    libraries: Mapping[str, Library],
    summary: DemoSummary,
) -> dict[int, Reader]:
    """The persona readers with their roles, by Telegram id (idempotent)."""
    telegram_ids = [account.telegram_id for account in DEMO_ACCOUNTS]
    found = await session.scalars(select(Reader).where(Reader.telegram_id.in_(telegram_ids)))
    readers = {reader.telegram_id: reader for reader in found}
    taken = set(await session.scalars(select(Reader.card_number)))
    for account in DEMO_ACCOUNTS:
        reader = readers.get(account.telegram_id)
        if reader is None:
            district = districts[account.district_code]
            reader = _reader(account, district, fresh_card_number(taken))
            session.add(reader)
            await session.flush()
            readers[account.telegram_id] = reader
            summary.readers_created += 1
        if account.role is None:
            continue
        library_id = libraries[account.library_code].id if account.library_code else None
        if await _grant_role(session, reader, account.role, library_id):
            summary.roles_granted += 1
    await session.flush()
    return readers
