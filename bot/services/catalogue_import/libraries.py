"""The library a catalogue is imported for, found by its code."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue.holdings_map import HoldingsMap, HoldingsMapError
from bot.db import write
from bot.models import Library
from bot.services.errors import InvalidInputError, NotFoundError

__all__ = [
    "UnknownLibraryError",
    "find_library",
    "holdings_map",
    "member_codes",
    "set_holdings_map",
]


class UnknownLibraryError(NotFoundError):
    """No member library has the code; ``known`` lists the codes that exist."""

    def __init__(self, code: str, known: Sequence[str]) -> None:
        self.code = code
        self.known = list(known)
        listed = ", ".join(self.known) or "none yet (import libraries first)"
        super().__init__(f"no library has the code {code!r}; known codes: {listed}")


async def find_library(session: AsyncSession, code: str) -> Library:
    """A member library by code (case-insensitive), else UnknownLibraryError with the codes."""
    wanted = code.strip()
    library = await session.scalar(
        select(Library).where(func.lower(Library.code) == wanted.lower())
    )
    if library is None:
        known = list(await session.scalars(select(Library.code).order_by(Library.code)))
        raise UnknownLibraryError(wanted, known)
    return library


async def member_codes(session: AsyncSession) -> dict[str, str]:
    """Every member library's code, by its casefolded form."""
    codes = await session.scalars(select(Library.code))
    return {code.casefold(): code for code in codes}


def holdings_map(library: Library) -> HoldingsMap | None:
    """The library's own CNMARC holdings field, if it has one."""
    if not library.holdings_fields:
        return None
    return HoldingsMap.parse(library.holdings_fields)


async def set_holdings_map(session: AsyncSession, code: str, spec: str) -> HoldingsMap | None:
    """Store (or, with "none" or "", clear) a library's holdings field mapping.

    InvalidInputError says what is wrong with `spec`; UnknownLibraryError names the codes.
    """
    mapping = None
    if spec.strip().lower() not in ("", "none"):
        try:
            mapping = HoldingsMap.parse(spec)
        except HoldingsMapError as exc:
            raise InvalidInputError(f"holdings mapping: {exc}") from exc
    async with write(session):
        library = await find_library(session, code)
        library.holdings_fields = mapping.spec() if mapping is not None else None
    return mapping
