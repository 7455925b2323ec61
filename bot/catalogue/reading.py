"""Reading a catalogue file: its format, its records in order, and how many there are.

Records are yielded in file order and ``record_number`` (1-based, bad records included) grows
by one per item, so it can drive a progress bar together with ``count_records``. Every text
value is in Unicode NFC with surrounding whitespace removed. A file that passes one of the
``ReadLimits`` before its first record is refused (CatalogueTooLargeError); later, reading
stops there with a RecordProblem, keeping the records before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from bot.catalogue.csv_rows import check_csv, read_csv
from bot.catalogue.files import READ_ERRORS, Unpacked, compressed, detect, opened, read_head
from bot.catalogue.holdings_map import HoldingsMap
from bot.catalogue.marc21 import marc_chunks
from bot.catalogue.marcxml import read_marcxml
from bot.catalogue.records import (
    BibRecord,
    CatalogueFileError,
    CatalogueFormat,
    CatalogueTooLargeError,
    ReadLimits,
    RecordProblem,
)
from bot.catalogue.unimarc import read_iso2709
from bot.catalogue.xml_encoding import utf8_xml

__all__ = ["FileFormat", "count_records", "detect_format", "read_records"]

# "cnmarc" and "unimarc" are one format (CNMARC is China's UNIMARC), in ISO 2709 or XML.
FileFormat = Literal["auto", "marc", "marcxml", "csv", "unimarc", "cnmarc"]


def detect_format(path: Path, *, limits: ReadLimits | None = None) -> CatalogueFormat:
    """Tell by content whether `path` is ISO 2709, MARCXML or CSV, else raise CatalogueFileError.

    ISO 2709 ("marc") and XML ("marcxml") files are read record by record as MARC 21 or
    UNIMARC, as each record's fields show.
    """
    limits = limits or ReadLimits()
    with opened(path, limits) as stream:
        return detect(stream, read_head(stream), limits)


def _chosen(stream: Unpacked, file_format: FileFormat, limits: ReadLimits) -> CatalogueFormat:
    head = read_head(stream)
    if file_format == "cnmarc":
        file_format = "unimarc"
    chosen = detect(stream, head, limits) if file_format == "auto" else file_format
    if not head.strip():
        raise CatalogueFileError("the file is empty")
    if chosen == "csv":
        check_csv(head)
    return chosen


def _container(stream: Unpacked, limits: ReadLimits) -> CatalogueFormat:
    """Whether a file to read as UNIMARC is ISO 2709 or XML."""
    container = detect(stream, read_head(stream), limits)
    if container not in ("marc", "marcxml"):
        raise CatalogueFileError("a UNIMARC file is ISO 2709 or XML, not CSV")
    return container


def _reader(
    stream: Unpacked, chosen: CatalogueFormat, limits: ReadLimits, holdings: HoldingsMap | None
) -> Iterator[BibRecord | RecordProblem]:
    unimarc = chosen == "unimarc"
    if unimarc:
        chosen = _container(stream, limits)
    if chosen == "marc":
        return read_iso2709(stream, unimarc=unimarc, holdings_map=holdings)
    if chosen == "marcxml":
        return read_marcxml(utf8_xml(stream), limits, unimarc=unimarc, holdings_map=holdings)
    return read_csv(stream, limits)


def _records(
    path: Path, chosen: CatalogueFormat, limits: ReadLimits, holdings: HoldingsMap | None
) -> Iterator[BibRecord | RecordProblem]:
    with opened(path, limits) as stream:
        number = 0
        try:
            for item in _reader(stream, chosen, limits, holdings):
                number = item.record_number
                yield item
        except READ_ERRORS as exc:
            yield RecordProblem(
                number + 1,
                f"the file cannot be read after record {number} ({exc}); reading stopped",
            )
        except CatalogueTooLargeError as exc:
            if number == 0:
                raise
            yield RecordProblem(number + 1, f"{exc}; reading stopped")


def read_records(
    path: Path,
    *,
    format: FileFormat = "auto",
    limits: ReadLimits | None = None,
    holdings_map: HoldingsMap | None = None,
) -> Iterator[BibRecord | RecordProblem]:
    """Stream the records of a catalogue file in order; raises CatalogueFileError at once.

    ``holdings_map``: the library's own holdings field in its UNIMARC records.
    """
    limits = limits or ReadLimits()
    with opened(path, limits) as stream:
        chosen = _chosen(stream, format, limits)
        if chosen == "unimarc":
            _container(stream, limits)
    return _records(path, chosen, limits, holdings_map)


def count_records(path: Path, *, format: FileFormat = "auto") -> int | None:
    """Count the records of an uncompressed MARC 21 file; None where that would be slow.

    ``format`` is the one the file will be read as ("auto": detected from the content).
    """
    if compressed(path):
        return None
    limits = ReadLimits()
    with opened(path, limits) as stream:
        chosen = _chosen(stream, format, limits)
        if chosen == "unimarc":
            chosen = _container(stream, limits)
        if chosen != "marc":
            return None
        return sum(1 for _ in marc_chunks(stream))
