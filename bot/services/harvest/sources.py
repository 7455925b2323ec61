"""Connecting a library to its OAI-PMH repository, and the sources as the console shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import HarvestSource, Library, Reader
from bot.services import audit
from bot.services.catalogue_import.libraries import find_library
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.harvest.formats import PREFIXES, UnsupportedFormatError

__all__ = ["NotConnectedError", "SourceView", "connect", "list_sources", "source_of"]

URL_MAX = 500
SET_MAX = 200


class NotConnectedError(NotFoundError):
    """The library has no OAI-PMH source."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            f"library {code} is not connected: run `bookbridge libraries connect {code} "
            "--oai-pmh URL` first"
        )


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
        raise InvalidInputError(
            f"{url[:80]!r} is not an http(s) URL of at most {URL_MAX} characters"
        )
    return url


async def connect(
    session: AsyncSession,
    library_code: str,
    url: str,
    *,
    prefix: str = "marc21",
    set_spec: str | None = None,
    actor: Reader | None = None,
) -> HarvestSource:
    """Store (or change) a library's OAI-PMH source. Commits.

    A changed URL, prefix or set starts the next harvest from the beginning.
    """
    url = _checked_url(url)
    if prefix not in PREFIXES:
        raise UnsupportedFormatError(prefix)
    set_spec = (set_spec or "").strip() or None
    if set_spec is not None and (len(set_spec) > SET_MAX or any(c.isspace() for c in set_spec)):
        raise InvalidInputError(f"a set is a setSpec without spaces, at most {SET_MAX} characters")
    async with write(session):
        library = await find_library(session, library_code)
        source = await session.scalar(
            select(HarvestSource).where(HarvestSource.library_id == library.id)
        )
        if source is None:
            source = HarvestSource(library_id=library.id, url=url, metadata_prefix=prefix)
            session.add(source)
        elif (source.url, source.metadata_prefix, source.set_spec) != (url, prefix, set_spec):
            source.harvested_from = source.pending_from = source.resume_token = None
        source.url, source.metadata_prefix, source.set_spec = url, prefix, set_spec
        await session.flush()
        audit.record(
            session,
            actor,
            "harvest.connect",
            target_type="library",
            target_id=library.id,
            url=url,
            prefix=prefix,
            set=set_spec,
        )
    return source


async def source_of(session: AsyncSession, library_code: str) -> tuple[Library, HarvestSource]:
    """A library and its source; UnknownLibraryError or NotConnectedError."""
    library = await find_library(session, library_code)
    source = await session.scalar(
        select(HarvestSource).where(HarvestSource.library_id == library.id)
    )
    if source is None:
        raise NotConnectedError(library.code)
    return library, source


@dataclass(frozen=True)
class SourceView:
    """A source as the console lists it."""

    library_code: str
    library_name: str
    library_name_en: str | None
    url: str
    prefix: str
    set_spec: str | None
    last_success_at: datetime | None
    last_started_at: datetime | None
    records_harvested: int
    records_deleted: int
    records_skipped: int
    error_kind: str | None
    error: str | None
    error_at: datetime | None


async def list_sources(session: AsyncSession) -> list[SourceView]:
    """Every connected library's source, by library code."""
    rows = (
        await session.execute(
            select(HarvestSource, Library)
            .join(Library, Library.id == HarvestSource.library_id)
            .order_by(Library.code)
        )
    ).all()
    return [
        SourceView(
            library_code=library.code,
            library_name=library.name,
            library_name_en=library.name_en,
            url=source.url,
            prefix=source.metadata_prefix,
            set_spec=source.set_spec,
            last_success_at=source.last_success_at,
            last_started_at=source.last_started_at,
            records_harvested=source.records_harvested,
            records_deleted=source.records_deleted,
            records_skipped=source.records_skipped,
            error_kind=source.last_error_kind,
            error=source.last_error,
            error_at=source.last_error_at,
        )
        for source, library in rows
    ]
