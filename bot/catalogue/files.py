"""Opening catalogue files: xz and gzip unpacked while reading (within a bound), format by content.

The format is told by the content, not the file name: ISO 2709 (MARC 21 or UNIMARC) by its
leader, MARCXML (or UNIMARC XML, marcxchange) by a
record (or a ``collection``/``record`` root element, however long the comments before it),
CSV by a header row naming known columns. Images, archives, PDF and office documents,
JSON (MARC-in-JSON is not supported: pymarc's reader loads the whole file) and other files
raise CatalogueFileError saying what they are.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import lzma
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from bot.catalogue.csv_rows import first_line, is_utf8_text
from bot.catalogue.marcxml import root_element
from bot.catalogue.records import (
    CSV_COLUMNS,
    CatalogueFileError,
    CatalogueFormat,
    CatalogueTooLargeError,
    ReadLimits,
)

__all__ = ["READ_ERRORS", "Unpacked", "compressed", "detect", "opened", "read_head"]

_SNIFF_BYTES = 65536
_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_NOT_CATALOGUES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Excel/Word file)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
    (b"BZh", "a bzip2 archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
_EXPORT_HINT = "export the catalogue as MARC 21, CNMARC/UNIMARC, MARCXML or CSV"
_XML_RECORD = re.compile(rb"<(?:[\w.-]+:)?record[\s>]")
_MARCXML_ROOTS = ("collection", "record")
_NOT_MARCXML = "the XML file is not MARCXML (no MARC 21 record found)"
# What reading a damaged or truncated compressed file raises.
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)


class Unpacked:
    """A file's bytes, unpacked when it is xz or gzip; unpacking past the limit raises."""

    def __init__(self, stream: io.BufferedIOBase, *, packed: bool, limit: int) -> None:
        self._stream = stream
        self.packed = packed
        self._limit = limit
        self._read = 0

    def read(self, size: int, /) -> bytes:
        """Up to `size` bytes; CatalogueTooLargeError once a packed file passes its bound."""
        data = self._stream.read(size)
        self._read += len(data)
        if self.packed and self._read > self._limit:
            raise CatalogueTooLargeError("unpacked", self._limit)
        return data

    def rewind(self) -> None:
        """Back to the first byte."""
        self._stream.seek(0)
        self._read = 0


def _cannot_open(path: Path, exc: OSError) -> CatalogueFileError:
    return CatalogueFileError(f"cannot open {path.name}: {exc.strerror or exc}")


@contextlib.contextmanager
def opened(path: Path, limits: ReadLimits) -> Iterator[Unpacked]:
    """Open `path` for binary reading, unpacking xz and gzip as it is read."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise _cannot_open(path, exc) from exc
    with raw:
        magic = raw.read(len(_XZ_MAGIC))
        raw.seek(0)
        if magic.startswith(_XZ_MAGIC):
            with lzma.open(raw) as unpacked:
                yield Unpacked(unpacked, packed=True, limit=limits.unpacked)
        elif magic.startswith(_GZIP_MAGIC):
            with gzip.open(raw) as unpacked:
                yield Unpacked(unpacked, packed=True, limit=limits.unpacked)
        else:
            yield Unpacked(raw, packed=False, limit=limits.unpacked)


def compressed(path: Path) -> bool:
    """Whether `path` is an xz or gzip file."""
    try:
        with path.open("rb") as raw:
            magic = raw.read(len(_XZ_MAGIC))
    except OSError as exc:
        raise _cannot_open(path, exc) from exc
    return magic.startswith((_XZ_MAGIC, _GZIP_MAGIC))


def read_head(stream: Unpacked) -> bytes:
    """The first bytes of the file, for telling its format; the stream is rewound."""
    try:
        head = stream.read(_SNIFF_BYTES)
        stream.rewind()
    except READ_ERRORS as exc:
        raise CatalogueFileError(f"the compressed file is damaged: {exc}") from exc
    return head


def _sniff(head: bytes) -> CatalogueFormat | None:
    """The format `head` shows; None for XML whose first bytes show no record yet."""
    if not head.strip():
        raise CatalogueFileError("the file is empty")
    for magic, kind in _NOT_CATALOGUES:
        if head.startswith(magic):
            raise CatalogueFileError(f"the file is {kind}, not a catalogue; {_EXPORT_HINT}")
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body[:5].isdigit() and b"\x1e" in head:
        return "marc"
    if body.startswith(b"<"):
        if b"loc.gov/MARC21/slim" in head or b"marcxchange" in head or _XML_RECORD.search(head):
            return "marcxml"
        return None
    if body[:1] in (b"{", b"["):
        raise CatalogueFileError(
            "MARC-in-JSON and other JSON files are not supported; export the catalogue "
            "as MARC 21 or MARCXML"
        )
    if is_utf8_text(head):
        header = next(csv.reader([first_line(head)]), [])
        if any(name.strip().lower() in CSV_COLUMNS for name in header):
            return "csv"
        raise CatalogueFileError(
            "the text file is not a catalogue CSV: its first line must be a header "
            f"naming columns such as {', '.join(CSV_COLUMNS[:3])}"
        )
    raise CatalogueFileError(
        f"the file is not a catalogue file (a CSV must be UTF-8 text); {_EXPORT_HINT}"
    )


def detect(stream: Unpacked, head: bytes, limits: ReadLimits) -> CatalogueFormat:
    """The format of the file `head` starts; CatalogueFileError if it is not a catalogue."""
    found = _sniff(head)
    if found is not None:
        return found
    # XML with long comments or a doctype first: the root element decides.
    try:
        root = root_element(stream, limits)
        stream.rewind()
    except READ_ERRORS as exc:
        raise CatalogueFileError(f"the compressed file is damaged: {exc}") from exc
    if root is None:
        raise CatalogueFileError(
            f"the file is not a catalogue file: it starts like XML but is not XML; {_EXPORT_HINT}"
        )
    namespace, _, name = root.rpartition("}")
    known = ("loc.gov/MARC21/slim", "marcxchange")
    if name in _MARCXML_ROOTS and (not namespace or any(ns in namespace for ns in known)):
        return "marcxml"
    raise CatalogueFileError(_NOT_MARCXML)
