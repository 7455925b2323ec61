"""Roles: reader (everyone), librarian of a library, organiser, admin; granting and revoking."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Library, Reader, Role, RoleGrant
from bot.services import audit, readers
from bot.services.errors import DomainError, InvalidInputError, NotFoundError


@dataclass(frozen=True)
class RoleSet:
    """What one reader may do; admins may do everything."""

    roles: frozenset[Role]
    librarian_of: frozenset[int] = frozenset()
    organiser_for: frozenset[int] = frozenset()

    def has(self, role: Role) -> bool:
        """Whether the reader holds the role (admins hold every role)."""
        return role is Role.READER or role in self.roles or Role.ADMIN in self.roles

    @property
    def is_admin(self) -> bool:
        """Whether the reader is an admin."""
        return Role.ADMIN in self.roles


READER_ONLY = RoleSet(roles=frozenset({Role.READER}))


async def load_roles(session: AsyncSession, reader: Reader, admin_ids: Collection[int]) -> RoleSet:
    """The reader's roles from the database plus the bootstrap admins from the settings."""
    grants = list(await session.scalars(select(RoleGrant).where(RoleGrant.reader_id == reader.id)))
    return role_set(reader, grants, admin_ids)


def role_set(reader: Reader, grants: Collection[RoleGrant], admin_ids: Collection[int]) -> RoleSet:
    """The roles given by these grants plus the bootstrap admins from the settings."""
    roles = {Role.READER, *(grant.role for grant in grants)}
    if reader.telegram_id in admin_ids:
        roles.add(Role.ADMIN)
    return RoleSet(
        roles=frozenset(roles),
        librarian_of=frozenset(
            g.library_id for g in grants if g.role is Role.LIBRARIAN and g.library_id is not None
        ),
        organiser_for=frozenset(
            g.library_id for g in grants if g.role is Role.ORGANISER and g.library_id is not None
        ),
    )


class AlreadyGrantedError(DomainError):
    """The reader already holds that role."""


class NotGrantedError(DomainError):
    """The reader does not hold that role."""


class LastAdminError(DomainError):
    """Taking the role away would leave the alliance with no admin to grant it again."""


class AmbiguousReaderError(DomainError):
    """Several readers answer to one @username and none of them was clearly seen last."""

    def __init__(self, candidates: list[Reader]) -> None:
        super().__init__(f"{len(candidates)} readers share that username")
        self.candidates = candidates


async def find_reader(session: AsyncSession, reference: str) -> Reader:
    """A reader by ``@username`` or Telegram id; only people who have talked to the bot exist.

    A username can sit on two rows: someone renamed and has not been seen since, and another
    person took the name. The reader seen most recently holds it now; when that is not clear
    (never seen, or seen within the resolution ``last_seen_at`` is kept to)
    ``AmbiguousReaderError`` lists who it may be, most recently seen first.
    """
    reference = reference.strip()
    if reference.startswith("@") and len(reference) > 1:
        # Exact, case-insensitive: ilike would treat "_" in usernames as a wildcard.
        username = reference[1:].lower()
        candidates = list(
            await session.scalars(
                select(Reader)
                .where(func.lower(Reader.username) == username)
                .order_by(Reader.last_seen_at.desc().nulls_last(), Reader.id)
            )
        )
        reader = candidates[0] if candidates else None
        if len(candidates) > 1:
            latest, runner_up = candidates[0].last_seen_at, candidates[1].last_seen_at
            if latest is None or (
                runner_up is not None and latest - runner_up < readers.SEEN_RESOLUTION
            ):
                raise AmbiguousReaderError(candidates)
    elif reference.isdigit() and len(reference) <= 15:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == int(reference)))
    else:
        raise InvalidInputError("reader reference")
    if reader is None:
        raise NotFoundError("reader")
    return reader


async def reader_by_id(session: AsyncSession, reader_id: int) -> Reader:
    """A reader by their id in the database (a choice offered after an ambiguous username)."""
    reader = await session.get(Reader, reader_id)
    if reader is None or reader.forgotten_at is not None:
        raise NotFoundError("reader")
    return reader


async def find_library(session: AsyncSession, code: str) -> Library:
    """A library by its code (case-insensitive)."""
    library = await session.scalar(
        select(Library).where(func.lower(Library.code) == code.strip().lower())
    )
    if library is None:
        raise NotFoundError("library")
    return library


def parse_role(text: str) -> Role:
    """A grantable role from its name (reader is not grantable: everyone is one)."""
    try:
        role = Role(text.strip().lower())
    except ValueError:
        raise InvalidInputError("role") from None
    if role is Role.READER:
        raise InvalidInputError("role")
    return role


async def grant_role(
    session: AsyncSession, actor: Reader, target: Reader, role: Role, library: Library | None
) -> RoleGrant:
    """Give a reader a role; a librarian needs a library, an organiser may have one."""
    if role is Role.LIBRARIAN and library is None:
        raise InvalidInputError("library required")
    if role is Role.ADMIN:
        library = None
    library_id = library.id if library else None
    async with write(session):
        existing = await session.scalar(
            select(RoleGrant).where(
                RoleGrant.reader_id == target.id,
                RoleGrant.role == role,
                RoleGrant.library_id.is_(None)
                if library_id is None
                else RoleGrant.library_id == library_id,
            )
        )
        if existing is not None:
            raise AlreadyGrantedError(role.value)
        grant = RoleGrant(
            reader_id=target.id, role=role, library_id=library_id, granted_by_id=actor.id
        )
        session.add(grant)
        audit.record(
            session,
            actor,
            "role.grant",
            target_type="reader",
            target_id=target.id,
            role=role.value,
            library=library.code if library else None,
        )
    return grant


async def revoke_role(
    session: AsyncSession, actor: Reader, target: Reader, role: Role, library: Library | None
) -> int:
    """Take a role away (for one library, or everywhere when no library is named)."""
    query = select(RoleGrant).where(RoleGrant.reader_id == target.id, RoleGrant.role == role)
    if library is not None:
        query = query.where(RoleGrant.library_id == library.id)
    async with write(session):
        grants = list(await session.scalars(query))
        if not grants:
            raise NotGrantedError(role.value)
        if role is Role.ADMIN:
            # Locked, so two admins revoking each other at once cannot both succeed.
            admins = await session.scalars(
                select(RoleGrant.reader_id).where(RoleGrant.role == Role.ADMIN).with_for_update()
            )
            if not any(reader_id != target.id for reader_id in admins):
                raise LastAdminError(target.first_name)
        for grant in grants:
            await session.delete(grant)
        audit.record(
            session,
            actor,
            "role.revoke",
            target_type="reader",
            target_id=target.id,
            role=role.value,
            library=library.code if library else None,
        )
    return len(grants)


async def readers_with_roles(session: AsyncSession) -> list[Reader]:
    """Every reader holding a role beyond reader (for per-chat command menus)."""
    rows = await session.scalars(
        select(Reader)
        .where(Reader.id.in_(select(RoleGrant.reader_id)))
        .options(selectinload(Reader.roles))
    )
    return list(rows)


async def all_grants(session: AsyncSession) -> list[RoleGrant]:
    """Every role grant with its reader and library, by role then age (for /roles)."""
    rows = await session.scalars(
        select(RoleGrant)
        .options(selectinload(RoleGrant.reader), selectinload(RoleGrant.library))
        .order_by(RoleGrant.role, RoleGrant.id)
    )
    return list(rows)
