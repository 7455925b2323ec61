"""Which system each library is connected through; stored, changed and read here."""

from __future__ import annotations

import codecs
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import IlsConnection, IlsKind, Library
from bot.services.catalogue_import.libraries import find_library
from bot.services.errors import InvalidInputError

FIELD_CHARS = 255


@dataclass(frozen=True)
class Sip2Settings:
    """What `libraries connect --sip2` was given (the password is never shown)."""

    host: str
    port: int
    user: str
    password: str
    location: str = ""
    institution: str = ""
    tls: bool = False
    encoding: str = "utf-8"

    def __repr__(self) -> str:
        return f"Sip2Settings(host={self.host!r}, port={self.port}, user={self.user!r})"


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` → (host, port); InvalidInputError for anything else."""
    host, separator, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInputError(f"{address!r} is not HOST:PORT (a port from 1 to 65535)")
    return host, int(port)


def _check(settings: Sip2Settings) -> None:
    for name, value in (("user", settings.user), ("password", settings.password)):
        if not value:
            raise InvalidInputError(f"the SIP2 {name} is empty")
    for name, value in (
        ("host", settings.host),
        ("user", settings.user),
        ("password", settings.password),
        ("location", settings.location),
        ("institution", settings.institution),
    ):
        if len(value) > FIELD_CHARS or "|" in value or "\r" in value or "\n" in value:
            raise InvalidInputError(
                f"the SIP2 {name} must be at most {FIELD_CHARS} characters without | or line breaks"
            )
    try:
        codecs.lookup(settings.encoding)
    except LookupError:
        raise InvalidInputError(f"unknown character encoding {settings.encoding!r}") from None


async def _connection(session: AsyncSession, library: Library) -> IlsConnection:
    found = await session.scalar(
        select(IlsConnection).where(IlsConnection.library_id == library.id)
    )
    if found is None:
        found = IlsConnection(library_id=library.id)
        session.add(found)
    return found


async def connect_sip2(session: AsyncSession, code: str, settings: Sip2Settings) -> Library:
    """Connect a library through SIP2 (replacing what it had)."""
    _check(settings)
    library = await find_library(session, code)
    async with write(session):
        connection = await _connection(session, library)
        connection.kind = IlsKind.SIP2
        connection.host, connection.port = settings.host, settings.port
        connection.username, connection.password = settings.user, settings.password
        connection.location, connection.institution = settings.location, settings.institution
        connection.use_tls, connection.encoding = settings.tls, settings.encoding
        connection.feed_url = ""
    return library


async def connect_feed(session: AsyncSession, code: str, url: str) -> Library:
    """Connect a library through a status feed (a CSV file or URL)."""
    if not url.strip() or len(url) > 1000:
        raise InvalidInputError("the feed must be a URL or path of at most 1000 characters")
    library = await find_library(session, code)
    async with write(session):
        connection = await _connection(session, library)
        connection.kind = IlsKind.FEED
        connection.feed_url = url.strip()
        connection.host, connection.port, connection.username, connection.password = "", 0, "", ""
    return library


async def connect_manual(session: AsyncSession, code: str) -> Library:
    """Back to the librarians' commands: the stored credentials are erased."""
    library = await find_library(session, code)
    async with write(session):
        connection = await _connection(session, library)
        connection.kind = IlsKind.MANUAL
        connection.host, connection.port, connection.username, connection.password = "", 0, "", ""
        connection.location, connection.institution, connection.feed_url = "", "", ""
    return library


async def connection_of(session: AsyncSession, code: str) -> tuple[Library, IlsConnection | None]:
    """A library (by code) and its stored connection, if it has one."""
    library = await find_library(session, code)
    connection = await session.scalar(
        select(IlsConnection).where(IlsConnection.library_id == library.id)
    )
    return library, connection


async def live_connections(
    session: AsyncSession, library_ids: Collection[int]
) -> dict[int, IlsConnection]:
    """The connections of these libraries that can answer live (SIP2 or a feed)."""
    if not library_ids:
        return {}
    rows = await session.scalars(
        select(IlsConnection).where(
            IlsConnection.library_id.in_(library_ids), IlsConnection.kind != IlsKind.MANUAL
        )
    )
    return {row.library_id: row for row in rows}
