"""Districts and member libraries: the places of the alliance."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, display_name, stored_enum
from bot.models.enums import LibraryKind


class District(Base):
    """A district of the alliance's city or region: the unit of reach."""

    __tablename__ = "districts"
    __table_args__ = (
        CheckConstraint("population >= 0", name="population_non_negative"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    population: Mapped[int] = mapped_column(Integer)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)

    libraries: Mapped[list[Library]] = relationship(back_populates="district")

    def display_name(self, language: str) -> str:
        """The district's name in the language: the English one when there is one."""
        return display_name(self.name, self.name_en, language)


class Library(Timestamps, Base):
    """A member library (university, public, school) or partner organisation."""

    __tablename__ = "libraries"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[LibraryKind] = mapped_column(stored_enum(LibraryKind, "library_kind"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    address_en: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    opening_hours: Mapped[str] = mapped_column(String(300), default="")
    is_pickup_point: Mapped[bool] = mapped_column(Boolean, default=True)
    # The library's own CNMARC holdings field, as ``bot.catalogue.holdings_map`` reads it.
    holdings_fields: Mapped[str | None] = mapped_column(String(200))

    district: Mapped[District] = relationship(back_populates="libraries")

    def display_name(self, language: str) -> str:
        """The library's name in the language: the English one when there is one."""
        return display_name(self.name, self.name_en, language)

    def display_address(self, language: str) -> str:
        """The library's address in the language: the English one when there is one."""
        return display_name(self.address, self.address_en, language)
