"""The alliance's districts and libraries as menus, lists and labels need them (read only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.geo import haversine_km
from bot.models import District, Library


async def library_codes(session: AsyncSession) -> list[str]:
    """Every library's code, in code order."""
    return list(await session.scalars(select(Library.code).order_by(Library.code)))


async def district_codes(session: AsyncSession) -> list[str]:
    """Every district's code, in code order."""
    return list(await session.scalars(select(District.code).order_by(District.code)))


async def districts(session: AsyncSession) -> list[District]:
    """Every district, in code order."""
    return list(await session.scalars(select(District).order_by(District.code)))


async def libraries(session: AsyncSession) -> list[Library]:
    """Every library, in code order."""
    return list(await session.scalars(select(Library).order_by(Library.code)))


async def libraries_with_districts(session: AsyncSession) -> list[tuple[Library, str]]:
    """Every library with its district's code, in library code order."""
    rows = await session.execute(
        select(Library, District.code)
        .join(District, District.id == Library.district_id)
        .order_by(Library.code)
    )
    return [(library, code) for library, code in rows.all()]


async def library_page(
    session: AsyncSession, page: int, per_page: int
) -> tuple[list[Library], int, int]:
    """One page of libraries in code order: (libraries, the page shown, pages)."""
    total = int(await session.scalar(select(func.count(Library.id))) or 0)
    pages = max(1, -(-total // per_page))
    shown = min(max(page, 0), pages - 1)
    found = await session.scalars(
        select(Library).order_by(Library.code).offset(shown * per_page).limit(per_page)
    )
    return list(found), shown, pages


async def district(session: AsyncSession, district_id: int | None) -> District | None:
    """The district with that id, if there is one."""
    return await session.get(District, district_id) if district_id else None


async def library(session: AsyncSession, library_id: int | None) -> Library | None:
    """The library with that id, if there is one."""
    return await session.get(Library, library_id) if library_id else None


async def districts_by_id(session: AsyncSession, ids: Sequence[int]) -> list[District]:
    """The districts with these ids that exist, in the order given."""
    if not ids:
        return []
    found = {d.id: d for d in await session.scalars(select(District).where(District.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


async def libraries_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Library]:
    """The libraries with these ids that exist, in the order given."""
    if not ids:
        return []
    found = {
        lib.id: lib for lib in await session.scalars(select(Library).where(Library.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]


async def nearest_library_km(
    session: AsyncSession, latitude: float, longitude: float
) -> float | None:
    """How far the nearest member library is from a point (None before any library exists)."""
    rows = await session.execute(select(Library.latitude, Library.longitude))
    return min(
        (haversine_km(latitude, longitude, lat, lon) for lat, lon in rows.all()), default=None
    )
