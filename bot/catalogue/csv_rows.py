"""CSV catalogues: UTF-8 text with a header row naming some of the known columns.

Any order of columns (see ``CSV_COLUMNS``); UTF-8 with or without BOM (other encodings such
as GBK or Windows-1252 are refused rather than guessed)::

    title,original_title,authors,original_authors,isbn,language,year,publisher,
    subjects,summary,barcode,call_number,copies

Only ``title`` is required; ``authors``, ``original_authors``, ``isbn`` and ``subjects`` hold
several values separated by ``;``. Header names are matched case-insensitively; an unknown
or repeated column raises ``CatalogueFileError``; a column without a name is ignored while it
stays empty. A row without a title, with a year that is not a number, copies that are not a
positive whole number (or more than one copy for a single barcode), more values than
columns, or undecodable text becomes a ``RecordProblem`` whose reason starts with the line
number. ``language`` takes a MARC code; common two-letter codes (``zh``, ``en``...) are
mapped to it. A row with a barcode, call number or copies gives one holding without a
library code (the importer knows which library sent the file). The work key follows the
MARC rule: the original title and author when there is one. A row (its lines together) longer
than ``ReadLimits.line`` stops reading with CatalogueTooLargeError.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator

from bot.catalogue.keys import work_key
from bot.catalogue.records import (
    CSV_COLUMNS,
    BibRecord,
    CatalogueFileError,
    CatalogueTooLargeError,
    Holding,
    Readable,
    ReadLimits,
    RecordProblem,
)
from bot.catalogue.text import SUBSTITUTE, nfc, trim, trim_name, unbracket, unique
from search.isbn import find_isbn13

__all__ = ["check_csv", "first_line", "is_utf8_text", "read_csv"]

_ENCODING = "utf-8-sig"
_BLOCK_BYTES = 1 << 20
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_LANGUAGE_CODES = {
    "zh": "chi",
    "en": "eng",
    "ja": "jpn",
    "ko": "kor",
    "fr": "fre",
    "de": "ger",
    "ru": "rus",
    "es": "spa",
    "it": "ita",
    "pt": "por",
    "ar": "ara",
}


def is_utf8_text(head: bytes) -> bool:
    """Whether a file starting with `head` is UTF-8 text, allowing a few stray bad bytes."""
    if b"\x00" in head:
        return False
    decoded = codecs.getincrementaldecoder(_ENCODING)(errors="replace").decode(head)
    bad = decoded.count(SUBSTITUTE)
    return bad == 0 or bad * 100 <= len(_NON_ASCII.findall(head))


def first_line(head: bytes) -> str:
    """The first line of the text `head` starts."""
    text = codecs.getincrementaldecoder(_ENCODING)(errors="replace").decode(head)
    return text.splitlines()[0] if text else ""


def _csv_header(names: list[str]) -> list[str]:
    """Validate a CSV header and return the normalised column names."""
    columns = [name.strip().lower() for name in names]
    unknown = [name.strip() for name, column in zip(names, columns, strict=True) if column]
    unknown = [name for name in unknown if name.lower() not in CSV_COLUMNS]
    if unknown:
        raise CatalogueFileError(
            f"unknown CSV column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} "
            f"(known columns: {', '.join(CSV_COLUMNS)})"
        )
    repeated = sorted({column for column in columns if column and columns.count(column) > 1})
    if repeated:
        raise CatalogueFileError(f"CSV column repeated in the header: {', '.join(repeated)}")
    if "title" not in columns:
        raise CatalogueFileError("the CSV header has no 'title' column")
    return columns


def check_csv(head: bytes) -> None:
    """Check the encoding and header at the start of a CSV file."""
    if not is_utf8_text(head):
        raise CatalogueFileError("the CSV file is not UTF-8 text; save it as 'CSV UTF-8'")
    _csv_header(next(csv.reader([first_line(head)]), []))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _csv_language(value: str) -> str | None:
    code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return _LANGUAGE_CODES.get(code, code) or None


def _row_errors(row: dict[str, str]) -> list[str]:
    errors: list[str] = []
    if any(SUBSTITUTE in value for value in row.values()):
        errors.append("the text cannot be decoded (save the file as UTF-8)")
    if row.pop("", ""):
        errors.append("a value stands in a column without a name")
    if not nfc(trim(row.get("title", ""))):
        errors.append("no title")
    year_text = row.get("year", "").strip()
    if year_text and not re.fullmatch(r"\d{1,4}", year_text):
        errors.append(f"year {year_text!r} is not a number")
    copies_text = row.get("copies", "").strip()
    copies_given = copies_text.isdigit() and int(copies_text) > 0
    if copies_text and not copies_given:
        errors.append(f"copies {copies_text!r} is not a positive whole number")
    if nfc(row.get("barcode", "")) and copies_given and int(copies_text) > 1:
        errors.append("one barcode cannot stand for several copies")
    return errors


def _csv_record(number: int, line: int, row: dict[str, str]) -> BibRecord | RecordProblem:
    errors = _row_errors(row)
    if errors:
        return RecordProblem(number, f"line {line}: {'; '.join(errors)}")
    title = nfc(trim(row.get("title", "")))
    year_text = row.get("year", "").strip()
    copies_text = row.get("copies", "").strip()
    authors = unique(nfc(trim_name(name)) for name in _split(row.get("authors", "")))
    original_authors = unique(
        nfc(trim_name(name)) for name in _split(row.get("original_authors", ""))
    )
    original_title = nfc(trim(row.get("original_title", ""))) or None
    barcode = nfc(row.get("barcode", "")) or None
    call_number = nfc(row.get("call_number", "")) or None
    holdings: tuple[Holding, ...] = ()
    if barcode or call_number or copies_text:
        holdings = (Holding(None, barcode, call_number, int(copies_text or 1)),)
    isbns = (find_isbn13(value) for value in _split(row.get("isbn", "")))
    if original_title:
        key = work_key(original_title, (original_authors or authors or (None,))[0])
    else:
        key = work_key(title, authors[0] if authors else None)
    return BibRecord(
        record_number=number,
        control_number=None,
        title=title,
        original_title=original_title,
        authors=authors,
        original_authors=original_authors,
        subjects=unique(nfc(trim(value)) for value in _split(row.get("subjects", ""))),
        language=_csv_language(row.get("language", "")),
        year=int(year_text) if year_text else None,
        publisher=nfc(unbracket(trim(row.get("publisher", "")))) or None,
        isbns=unique(isbn for isbn in isbns if isbn),
        summary=nfc(row.get("summary", "")) or None,
        holdings=holdings,
        work_key=key,
    )


class _Lines:
    """The decoded lines of a stream, with their endings, one block in memory at a time.

    ``row_size`` counts the characters given out since the reader last reset it (at the end
    of each CSV row); a row or a line that would pass ``limit`` raises instead.
    """

    def __init__(self, stream: Readable, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.row_size = 0

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(_ENCODING)(errors="replace")
        pending: list[str] = []  # the start of a line that goes on in the next block
        pending_size = 0
        while block := self._stream.read(_BLOCK_BYTES):
            text = decoder.decode(block)
            start = 0
            while (newline := text.find("\n", start)) >= 0:
                line = text[start : newline + 1]
                start = newline + 1
                if pending:
                    line = "".join([*pending, line])
                    pending, pending_size = [], 0
                yield self._counted(line)
            if start < len(text):
                pending.append(text[start:])
                pending_size += len(text) - start
                self._check(self.row_size + pending_size)
        rest = "".join(pending) + decoder.decode(b"", final=True)
        if rest:
            yield self._counted(rest)

    def _counted(self, line: str) -> str:
        self.row_size += len(line)
        self._check(self.row_size)
        return line

    def _check(self, size: int) -> None:
        if size > self._limit:
            raise CatalogueTooLargeError("line", self._limit)


def read_csv(stream: Readable, limits: ReadLimits) -> Iterator[BibRecord | RecordProblem]:
    """The rows of a CSV catalogue after its header, as records or problems."""
    lines = _Lines(stream, limits.line)
    rows = csv.reader(lines)
    number = 0
    try:
        columns = _csv_header(next(rows, []))
        line = rows.line_num
        lines.row_size = 0
        for cells in rows:
            lines.row_size = 0
            first_line_number, line = line + 1, rows.line_num
            if not any(cell.strip() for cell in cells):
                continue
            number += 1
            extra = cells[len(columns) :]
            if any(cell.strip() for cell in extra):
                yield RecordProblem(
                    number,
                    f"line {first_line_number}: {len(cells)} values but the header has "
                    f"{len(columns)} columns",
                )
                continue
            row: dict[str, str] = {}
            for column, cell in zip(columns, cells, strict=False):
                row[column] = row.get(column, "") + cell
            yield _csv_record(number, first_line_number, row)
    except csv.Error as exc:
        yield RecordProblem(
            number + 1, f"line {rows.line_num}: the CSV cannot be parsed ({exc}); reading stopped"
        )
