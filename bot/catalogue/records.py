"""What reading a catalogue file gives (records, holdings, problems), its errors and limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

__all__ = [
    "CSV_COLUMNS",
    "BibRecord",
    "CatalogueFileError",
    "CatalogueFormat",
    "CatalogueTooLargeError",
    "Holding",
    "HoldingStatus",
    "ReadLimits",
    "Readable",
    "RecordProblem",
]

CatalogueFormat = Literal["marc", "marcxml", "csv", "unimarc"]
# What a holding's exported item status says; None where the export says nothing of it.
HoldingStatus = Literal["available", "lost", "not_for_loan", "on_loan"]

CSV_COLUMNS = (
    "title",
    "original_title",
    "authors",
    "original_authors",
    "isbn",
    "language",
    "year",
    "publisher",
    "subjects",
    "summary",
    "barcode",
    "call_number",
    "copies",
)


@dataclass(frozen=True)
class Holding:
    """One library's copy (or copies) of a record."""

    library_code: str | None
    barcode: str | None
    call_number: str | None
    copies: int = 1
    status: HoldingStatus | None = None
    due: date | None = None


@dataclass(frozen=True)
class BibRecord:
    """A bibliographic record read from a catalogue file.

    ``warnings`` say what was odd about a record that could still be read in full (such as a
    missing end-of-record byte); they are reported with the import's problems.
    """

    record_number: int
    control_number: str | None
    title: str
    original_title: str | None
    authors: tuple[str, ...]
    original_authors: tuple[str, ...]
    subjects: tuple[str, ...]
    language: str | None
    year: int | None
    publisher: str | None
    isbns: tuple[str, ...]
    summary: str | None
    holdings: tuple[Holding, ...]
    work_key: str
    warnings: tuple[str, ...] = ()
    # Read from CNMARC/UNIMARC: parallel (510), variant (517) and pinyin (200 $A/$9) titles,
    # Chinese Library Classification numbers (690), edition (205) and series (225).
    variant_titles: tuple[str, ...] = ()
    clc_numbers: tuple[str, ...] = ()
    edition: str | None = None
    series: str | None = None
    # The work this record is an edition or translation of, and its other titles
    # (bot.catalogue.editions).
    uniform_title: str | None = None
    other_titles: tuple[str, ...] = ()
    # The author of that work, when the record names it (a UNIMARC 454's, or the original
    # form of a translated author's name): the family key takes it over the first author.
    uniform_author: str | None = None


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be read, with a short reason for operators."""

    record_number: int
    reason: str


class CatalogueFileError(Exception):
    """The file cannot be read as a catalogue at all; the message says why."""


Bound = Literal["unpacked", "field", "line"]

_BOUND_TEXTS: dict[Bound, str] = {
    "unpacked": "the compressed file unpacks to more than {limit:,} bytes",
    "field": "a field or XML tag is longer than {limit:,} bytes",
    "line": "a CSV line or XML record is longer than {limit:,} bytes",
}


class CatalogueTooLargeError(CatalogueFileError):
    """Reading would pass one of the ReadLimits: ``bound`` names which, ``limit`` is in bytes."""

    def __init__(self, bound: Bound, limit: int) -> None:
        self.bound: Bound = bound
        self.limit = limit
        super().__init__(_BOUND_TEXTS[bound].format(limit=limit))


class Readable(Protocol):
    """What the readers need of a file: its bytes, a block at a time."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class ReadLimits:
    """How much of a file a reader holds or accepts, in bytes, so memory stays flat.

    ``unpacked``: what a compressed file may unpack to; ``field``: one MARCXML element's text,
    or one XML tag, comment or other token; ``line``: one CSV row (its lines together) or
    one MARCXML record. MARC 21 records are bounded by the format itself (99,999 bytes).
    """

    unpacked: int = 1024 * 1024 * 1024
    field: int = 256 * 1024
    line: int = 1024 * 1024

    @classmethod
    def of(cls, *, unpacked_mb: int, field_kb: int, line_kb: int) -> ReadLimits:
        """Limits given in the units of the settings."""
        return cls(unpacked=unpacked_mb * 1024 * 1024, field=field_kb * 1024, line=line_kb * 1024)
