"""Which OAI-PMH metadata formats a harvest reads, and the reader of each.

One entry per ``metadataPrefix``: a reader takes the serialised XML of one record's
metadata (the element inside ``<metadata>``) and its number in the harvest. A prefix whose
reader is None is known but not read yet: connecting works, harvesting says so clearly.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable

from bot.catalogue.marcxml import read_marcxml
from bot.catalogue.records import BibRecord, ReadLimits, RecordProblem
from bot.services.errors import InvalidInputError

__all__ = [
    "PREFIXES",
    "RECORD_READERS",
    "RecordReader",
    "UnsupportedFormatError",
    "read_marc21_xml",
    "record_reader",
]

RecordReader = Callable[[bytes, int], BibRecord | RecordProblem]


def read_marc21_xml(payload: bytes, number: int) -> BibRecord | RecordProblem:
    """A MARC 21 record in MARCXML, read as the catalogue file import reads it."""
    for item in read_marcxml(io.BytesIO(payload), ReadLimits()):
        return dataclasses.replace(item, record_number=number)
    return RecordProblem(number, "the record's metadata holds no MARC record")


RECORD_READERS: dict[str, RecordReader | None] = {
    "marc21": read_marc21_xml,
    "marcxml": read_marc21_xml,
    "unimarc": None,
    "cnmarc": None,
}
PREFIXES = tuple(RECORD_READERS)


class UnsupportedFormatError(InvalidInputError):
    """Records in this metadata format cannot be read (yet, or at all)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        if prefix in RECORD_READERS:
            message = f"harvesting {prefix} records is not yet supported"
        else:
            message = f"unknown metadata prefix {prefix!r}; one of: {', '.join(PREFIXES)}"
        super().__init__(message)


def record_reader(prefix: str) -> RecordReader:
    """The reader of a prefix's records, else UnsupportedFormatError."""
    reader = RECORD_READERS.get(prefix)
    if reader is None:
        raise UnsupportedFormatError(prefix)
    return reader
