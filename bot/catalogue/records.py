"""What reading a catalogue file gives (records, holdings, problems), and its error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "CSV_COLUMNS",
    "BibRecord",
    "CatalogueFileError",
    "CatalogueFormat",
    "Holding",
    "Readable",
    "RecordProblem",
]

CatalogueFormat = Literal["marc", "marcxml", "csv"]

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


@dataclass(frozen=True)
class BibRecord:
    """A bibliographic record read from a catalogue file."""

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


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be read, with a short reason for operators."""

    record_number: int
    reason: str


class CatalogueFileError(Exception):
    """The file cannot be read as a catalogue at all; the message says why."""


class Readable(Protocol):
    """What the readers need of a file: its bytes, a block at a time."""

    def read(self, size: int, /) -> bytes: ...
