"""Reading a catalogue file: its format, its records in order, and how many there are.

Records are yielded in file order and ``record_number`` (1-based, bad records included) grows
by one per item, so it can drive a progress bar together with ``count_records``. Every text
value is in Unicode NFC with surrounding whitespace removed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from bot.catalogue.csv_rows import check_csv, read_csv
from bot.catalogue.files import READ_ERRORS, compressed, opened, read_head, sniff
from bot.catalogue.marc21 import marc_chunks, read_marc
from bot.catalogue.marcxml import read_marcxml
from bot.catalogue.records import BibRecord, CatalogueFileError, CatalogueFormat, RecordProblem

__all__ = ["FileFormat", "count_records", "detect_format", "read_records"]

FileFormat = Literal["auto", "marc", "marcxml", "csv"]


def detect_format(path: Path) -> CatalogueFormat:
    """Tell by content whether `path` is MARC 21, MARCXML or CSV, else raise CatalogueFileError."""
    with opened(path) as stream:
        return sniff(read_head(stream))


def _reader(
    stream: io.BufferedIOBase, chosen: CatalogueFormat
) -> Iterator[BibRecord | RecordProblem]:
    if chosen == "marc":
        return read_marc(stream)
    if chosen == "marcxml":
        return read_marcxml(stream)
    return read_csv(stream)


def _records(path: Path, chosen: CatalogueFormat) -> Iterator[BibRecord | RecordProblem]:
    with opened(path) as stream:
        number = 0
        try:
            for item in _reader(stream, chosen):
                number = item.record_number
                yield item
        except READ_ERRORS as exc:
            yield RecordProblem(
                number + 1,
                f"the file cannot be read after record {number} ({exc}); reading stopped",
            )


def read_records(path: Path, *, format: FileFormat = "auto") -> Iterator[BibRecord | RecordProblem]:
    """Stream the records of a catalogue file in order; raises CatalogueFileError at once."""
    with opened(path) as stream:
        head = read_head(stream)
        chosen = sniff(head) if format == "auto" else format
        if not head.strip():
            raise CatalogueFileError("the file is empty")
        if chosen == "csv":
            check_csv(head)
    return _records(path, chosen)


def count_records(path: Path) -> int | None:
    """Count the records of an uncompressed MARC 21 file; None where that would be slow."""
    if compressed(path) or detect_format(path) != "marc":
        return None
    with opened(path) as stream:
        return sum(1 for _ in marc_chunks(stream))
