"""Where a reader's distances are measured from: their location, their district, or nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.geo import haversine_km
from bot.models import District, Reader


class OriginKind(StrEnum):
    """What distances are measured from."""

    LOCATION = "location"
    DISTRICT = "district"
    NONE = "none"


@dataclass(frozen=True)
class ReaderOrigin:
    """Where distances are measured from: the reader's location, their district, or nowhere."""

    kind: OriginKind
    latitude: float | None = None
    longitude: float | None = None
    district_name: str | None = None
    district_name_en: str | None = None

    def distance_km(self, latitude: float, longitude: float) -> float | None:
        """Kilometres from here to the point, or None without an origin."""
        if self.latitude is None or self.longitude is None:
            return None
        return haversine_km(self.latitude, self.longitude, latitude, longitude)


async def reader_origin(session: AsyncSession, reader: Reader) -> ReaderOrigin:
    """The reader's shared location, else their district's centre, else no origin."""
    if reader.latitude is not None and reader.longitude is not None:
        return ReaderOrigin(OriginKind.LOCATION, reader.latitude, reader.longitude)
    if reader.district_id is not None:
        district = await session.get(District, reader.district_id)
        if district is not None:
            return ReaderOrigin(
                OriginKind.DISTRICT,
                district.latitude,
                district.longitude,
                district.name,
                district.name_en,
            )
    return ReaderOrigin(OriginKind.NONE)
