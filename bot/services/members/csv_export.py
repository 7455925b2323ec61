"""Districts and libraries as CSV in the import's columns: an export imports back unchanged."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Library
from bot.services.members.csv_rows import (
    DISTRICT_COLUMNS,
    DISTRICT_OPTIONAL_COLUMNS,
    LIBRARY_COLUMNS,
    LIBRARY_OPTIONAL_COLUMNS,
)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


async def export_districts(session: AsyncSession) -> str:
    """Every district as CSV in the import's columns, by code: it imports back unchanged."""
    districts = await session.scalars(select(District).order_by(District.code))
    return _csv(
        (*DISTRICT_COLUMNS, *DISTRICT_OPTIONAL_COLUMNS),
        (
            (d.code, d.name, d.population, d.latitude, d.longitude, d.name_en or "")
            for d in districts
        ),
    )


async def export_libraries(session: AsyncSession) -> str:
    """Every library as CSV in the import's columns, by code: it imports back unchanged."""
    rows = await session.execute(
        select(Library, District.code)
        .join(District, Library.district_id == District.id)
        .order_by(Library.code)
    )
    return _csv(
        (*LIBRARY_COLUMNS, *LIBRARY_OPTIONAL_COLUMNS),
        (
            (
                library.code,
                library.name,
                library.kind.value,
                district_code,
                library.address,
                library.latitude,
                library.longitude,
                library.opening_hours,
                library.name_en or "",
                library.address_en or "",
                "yes" if library.is_pickup_point else "no",
            )
            for library, district_code in rows.all()
        ),
    )
