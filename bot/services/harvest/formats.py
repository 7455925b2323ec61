"""Which OAI-PMH metadata formats a harvest reads, and the reader of each.

One entry per ``metadataPrefix``: a reader takes the serialised XML of one record's
metadata (the element inside ``<metadata>``), its number in the harvest and the library's
own holdings mapping (``Library.holdings_fields``), so that a harvested CNMARC record's
holdings read as an imported one's. The page the metadata came from was parsed strictly
(``protocol``); the readers parse the serialised element again and refuse one that declares
a DTD before anything in it is expanded (``declared_dtd``).
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable

from bot.catalogue.holdings_map import HoldingsMap
from bot.catalogue.marcxml import declared_dtd, read_marcxml, read_unimarc_xml
from bot.catalogue.records import BibRecord, ReadLimits, RecordProblem
from bot.services.errors import InvalidInputError

__all__ = [
    "PREFIXES",
    "RECORD_READERS",
    "FormatReader",
    "RecordReader",
    "UnsupportedFormatError",
    "read_marc21_xml",
    "record_reader",
]

RecordReader = Callable[[bytes, int], BibRecord | RecordProblem]
FormatReader = Callable[[bytes, int, HoldingsMap | None], BibRecord | RecordProblem]


def read_marc21_xml(
    payload: bytes, number: int, holdings_map: HoldingsMap | None = None
) -> BibRecord | RecordProblem:
    """A MARC 21 record in MARCXML, read as the catalogue file import reads it (a record
    with a 200 and no 245 is read as UNIMARC, with the library's holdings mapping)."""
    if declared_dtd(payload):
        return RecordProblem(number, "the record declares a DTD or entities: refused")
    for item in read_marcxml(io.BytesIO(payload), ReadLimits(), holdings_map=holdings_map):
        return dataclasses.replace(item, record_number=number)
    return RecordProblem(number, "the record's metadata holds no MARC record")


RECORD_READERS: dict[str, FormatReader] = {
    "marc21": read_marc21_xml,
    "marcxml": read_marc21_xml,
    "unimarc": read_unimarc_xml,
    "cnmarc": read_unimarc_xml,
}
PREFIXES = tuple(RECORD_READERS)


class UnsupportedFormatError(InvalidInputError):
    """Records in this metadata format cannot be read."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        super().__init__(f"unknown metadata prefix {prefix!r}; one of: {', '.join(PREFIXES)}")


def record_reader(prefix: str, holdings_map: HoldingsMap | None = None) -> RecordReader:
    """The reader of a prefix's records for one library, else UnsupportedFormatError."""
    reader = RECORD_READERS.get(prefix)
    if reader is None:
        raise UnsupportedFormatError(prefix)

    def read(payload: bytes, number: int) -> BibRecord | RecordProblem:
        return reader(payload, number, holdings_map)

    return read
