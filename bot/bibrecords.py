"""Read bibliographic records from catalogue files into plain dataclasses.

Formats (``detect_format`` sniffs the content, not the file name; ``.xz`` and ``.gz``
files are recognised by their magic bytes and decompressed while reading):

* **MARC 21 binary** (ISO 2709). Records are split on the end-of-record byte (0x1D)
  and each one is parsed with ``pymarc.Record``; a broken record becomes a
  ``RecordProblem`` and reading resumes at the next terminator. (``pymarc.MARCReader``
  is not used because it stops for good after a bad record length and fixes the
  character set for the whole file.) Character set per record: leader/09 ``a`` means
  UTF-8, anything else MARC-8, except that a record flagged MARC-8 whose bytes are
  valid multi-byte UTF-8 without MARC-8 escapes is read as UTF-8 (a common
  mislabelling). Bad bytes are never replaced silently: invalid UTF-8, MARC-8 that
  pymarc cannot map (or that turns into a string of combining marks, as text in
  another character set such as Windows-1251 does), a bad MARC-8 escape or a
  non-ASCII subfield code in a field the reader uses make the whole record a
  ``RecordProblem`` naming the field ("invalid UTF-8 in field 245"). Fields the
  reader does not use are not decoded, so damage there is ignored.
* **MARCXML**, streamed with ``xml.etree.ElementTree.iterparse`` (records are freed
  as soon as they are read); namespaces are ignored, the leader is not checked.
  Malformed XML ends reading with a ``RecordProblem`` giving the line and column.
* **CSV** in UTF-8 (with or without BOM; other encodings such as GBK or Windows-1252
  are refused rather than guessed) with a header row naming some of these columns, in
  any order::

      title,original_title,authors,original_authors,isbn,language,year,publisher,
      subjects,summary,barcode,call_number,copies

  Only ``title`` is required; ``authors``, ``original_authors``, ``isbn`` and
  ``subjects`` hold several values separated by ``;``. Header names are matched
  case-insensitively; an unknown or repeated column raises ``CatalogueFileError``; a
  column without a name is ignored while it stays empty. A row without a title, with
  a year that is not a number, copies that are not a positive whole number (or more
  than one copy for a single barcode), more values than columns, or undecodable text
  becomes a ``RecordProblem`` whose reason starts with the line number. ``language``
  takes a MARC code; common two-letter codes (``zh``, ``en``...) are mapped to it. A
  row with a barcode, call number or copies gives one holding without a library code
  (the importer knows which library sent the file).

MARC-in-JSON is not supported (pymarc's JSON reader loads the whole file into memory)
and raises ``CatalogueFileError``, as do empty files, images, archives and other text.

What is read from MARC 21 / MARCXML:

* control number: 001, else 010 $a (spaces trimmed);
* title: 245 $a $b $n $p in field order, stopping after a subfield that ends with "/"
  (what follows is a statement of responsibility) and cut at " / "; trailing ISBD
  punctuation (" /", " :", " ;", " =", ",", ".") trimmed, a final "." kept after an
  initial or a common abbreviation; original_title: the same from the 880 whose $6
  starts with "245-";
* authors: $a of 100, 110, 111, then 700 and 710, trailing punctuation trimmed,
  dates trimmed from personal names, duplicates dropped; original_authors: the same
  from 880s linked to those tags;
* subjects: $a of 600, 650 and 651 in field order, de-duplicated;
* language: 008/35-37 when it is three letters, else the first code in 041 $a;
* year: 008/07-10 when it is a year from 1000 to 2100, else the first four-digit
  number in 264 $c (second indicator 1 first) or 260 $c;
* publisher: 264 $b (second indicator 1 first), else 260 $b, trimmed, with
  unbalanced or enclosing square brackets removed;
* ISBNs: 020 $a (never $z), read with ``search.isbn.find_isbn13``; invalid ones dropped;
* summary: the first 520 $a;
* work_key: ``work_key(original_title, first original author, else first author)``
  when the record has an original-script title (so a Chinese library's 红楼梦 meets
  the Library of Congress record whose 880 says 紅樓夢), else
  ``work_key(title, first author)``; CSV rows follow the same rule;
* holdings: each 852 ($b library code, else $a; $h and $i joined as the call number;
  $p barcode) and each 952, or 949 that has $o or $p, read as a Koha item ($a home
  branch, else $b holding branch; $o call number; $p barcode). MARC holdings always
  count one copy: 852 $t and 952 $t are copy *numbers*, not counts.

Every text value is returned in Unicode NFC with surrounding whitespace removed.
Records are yielded in file order and ``record_number`` (1-based, bad records
included) grows by one per item, so it can drive a progress bar together with
``count_records``.
"""

import codecs
import contextlib
import csv
import gzip
import io
import lzma
import re
import unicodedata
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

from opencc import OpenCC
from pymarc import Record, marc8_to_unicode
from pymarc.exceptions import (
    BaseAddressInvalid,
    BaseAddressNotFound,
    NoFieldsFound,
    PymarcException,
    RecordDirectoryInvalid,
    TruncatedRecord,
)

from search.isbn import find_isbn13

__all__ = [
    "BibRecord",
    "CatalogueFileError",
    "CatalogueFormat",
    "Holding",
    "RecordProblem",
    "count_records",
    "detect_format",
    "read_records",
    "work_key",
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


# --- shared text helpers -------------------------------------------------------------

_ABBREVIATION_END = re.compile(
    r"(?:^|[\s.(\[-])(?:\w|jr|sr|inc|ltd|co|corp|bros|dr|st|mr|mrs|ms|esq|etc)\.$",
    re.IGNORECASE,
)
_NAME_DATES = re.compile(
    r"(?:,\s*|\s+)"
    r"(?P<open>\()?"
    r"(?:(?:b|d|ca|fl)\.\s*)?\d{3,4}\??"
    r"(?:\s*-\s*(?:(?:ca\.\s*)?\d{3,4}\??)?)?"
    r"(?(open)\))\.?$"
)
_SUBSTITUTE = "\ufffd"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _trim(text: str) -> str:
    """Strip whitespace and trailing ISBD punctuation, keeping '...' and initials."""
    text = text.strip()
    while text and (text[-1] in "/:;,=" or _droppable_full_stop(text)):
        text = text[:-1].rstrip()
    return text


def _droppable_full_stop(text: str) -> bool:
    return text.endswith(".") and not text.endswith("...") and not _ABBREVIATION_END.search(text)


def _trim_name(name: str, *, personal: bool = True) -> str:
    """Trim a name heading; personal names also lose trailing dates."""
    name = _trim(name)
    if personal:
        name = _trim(_NAME_DATES.sub("", name))
    return name


def _unbracket(text: str) -> str:
    """Remove square brackets that enclose the whole text or are left unbalanced."""
    if text.startswith("[") and text.endswith("]") and text.count("[") == 1:
        return text[1:-1].strip()
    if text.startswith("[") and "]" not in text:
        return text[1:].strip()
    if text.endswith("]") and "[" not in text:
        return text[:-1].strip()
    return text


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


# --- work key ---------------------------------------------------------------------

_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_DIACRITICS = re.compile("[\u0300-\u036f\u02b0-\u02ff\ufe20-\ufe2f]")
_TITLE_END = re.compile(r"\s[/=](?:\s|$)")
_ARTICLE = re.compile(r"^(?:the|an|a)\s+(?=\S)")
_NAME_PREFIX = re.compile(r"^[(\[][^)\]]{1,8}[)\]]\s*")
_CJK_ROLE = re.compile("(?:等)?(?:主编|编著|原著|编|著|撰|译)$")


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> OpenCC:
    return OpenCC("t2s")


def _fold(text: str) -> str:
    """NFKC, traditional to simplified Chinese, casefold, Latin diacritics removed."""
    text = unicodedata.normalize("NFKC", text)
    if _CJK.search(text):
        text = str(_traditional_to_simplified().convert(text))
    text = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", _DIACRITICS.sub("", text))


_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def _squeeze(text: str) -> str:
    return _NOT_ALPHANUMERIC.sub("", text)


def work_key(title: str, first_author: str | None) -> str:
    """Return the key "title|author" under which editions of one work merge.

    Both parts are folded: Unicode NFKC, traditional Chinese to simplified (OpenCC t2s),
    casefold, Latin diacritics and modifier letters dropped, then every character that
    is not a letter or digit (punctuation, whitespace) removed. The title is cut at a
    statement of responsibility (" / ") or parallel title (" = ") and loses one leading
    English article ("The", "A", "An"); subtitles are kept, so "Perl : the complete
    reference" and "Perl : programmer's reference" stay apart. The author is reduced to
    the part before the first comma ("Cao, Xueqin, 1715?-1763" -> "cao") or, without a
    comma, to the first word ("Cao Xueqin" -> "cao"), after dropping a bracketed prefix
    such as "(清)" and a Chinese role word such as "著" or "主编".
    """
    folded = _TITLE_END.split(_fold(_trim(title)), maxsplit=1)[0]
    title_part = _squeeze(_ARTICLE.sub("", folded.strip()))
    if not title_part:
        title_part = _fold(title).strip()
    author_part = ""
    if first_author:
        name = _NAME_PREFIX.sub("", _fold(first_author).strip())
        words = name.split(",", 1)[0].split() if "," in name else name.split()[:1]
        name = "".join(words)
        without_role = _CJK_ROLE.sub("", name)
        if len(without_role) >= 2:
            name = without_role
        author_part = _squeeze(name)
    return f"{title_part}|{author_part}"


# --- opening and sniffing ------------------------------------------------------------

_SNIFF_BYTES = 65536
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_CSV_ENCODING = "utf-8-sig"
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
_EXPORT_HINT = "export the catalogue as MARC 21, MARCXML or CSV"
_READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[io.BufferedIOBase]:
    """Open `path` for binary reading, decompressing xz and gzip transparently."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise CatalogueFileError(f"cannot open {path.name}: {exc.strerror or exc}") from exc
    with raw:
        magic = raw.read(len(_XZ_MAGIC))
        raw.seek(0)
        if magic.startswith(_XZ_MAGIC):
            with lzma.open(raw) as unpacked:
                yield unpacked
        elif magic.startswith(_GZIP_MAGIC):
            with gzip.open(raw) as unpacked:
                yield unpacked
        else:
            yield raw


def _compressed(path: Path) -> bool:
    try:
        with path.open("rb") as raw:
            magic = raw.read(len(_XZ_MAGIC))
    except OSError as exc:
        raise CatalogueFileError(f"cannot open {path.name}: {exc.strerror or exc}") from exc
    return magic.startswith((_XZ_MAGIC, _GZIP_MAGIC))


def _head(stream: io.BufferedIOBase) -> bytes:
    try:
        head = stream.read(_SNIFF_BYTES)
        stream.seek(0)
    except _READ_ERRORS as exc:
        raise CatalogueFileError(f"the compressed file is damaged: {exc}") from exc
    return head


def _is_utf8_text(head: bytes) -> bool:
    """Whether a file starting with `head` is UTF-8 text, allowing a few stray bad bytes."""
    if b"\x00" in head:
        return False
    decoded = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(head)
    bad = decoded.count(_SUBSTITUTE)
    return bad == 0 or bad * 100 <= len(_NON_ASCII.findall(head))


def _first_line(head: bytes) -> str:
    text = codecs.getincrementaldecoder(_CSV_ENCODING)(errors="replace").decode(head)
    return text.splitlines()[0] if text else ""


def _sniff(head: bytes) -> CatalogueFormat:
    if not head.strip():
        raise CatalogueFileError("the file is empty")
    for magic, kind in _NOT_CATALOGUES:
        if head.startswith(magic):
            raise CatalogueFileError(f"the file is {kind}, not a catalogue; {_EXPORT_HINT}")
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body[:5].isdigit() and b"\x1e" in head:
        return "marc"
    if body.startswith(b"<"):
        if b"loc.gov/MARC21/slim" in head or re.search(rb"<(?:[\w.-]+:)?record[\s>]", head):
            return "marcxml"
        raise CatalogueFileError("the XML file is not MARCXML (no MARC 21 record found)")
    if body[:1] in (b"{", b"["):
        raise CatalogueFileError(
            "MARC-in-JSON and other JSON files are not supported; export the catalogue "
            "as MARC 21 or MARCXML"
        )
    if _is_utf8_text(head):
        header = next(csv.reader([_first_line(head)]), [])
        if any(name.strip().lower() in CSV_COLUMNS for name in header):
            return "csv"
        raise CatalogueFileError(
            "the text file is not a catalogue CSV: its first line must be a header "
            f"naming columns such as {', '.join(CSV_COLUMNS[:3])}"
        )
    raise CatalogueFileError(
        f"the file is not a catalogue file (a CSV must be UTF-8 text); {_EXPORT_HINT}"
    )


def detect_format(path: Path) -> CatalogueFormat:
    """Tell by content whether `path` is MARC 21, MARCXML or CSV, else raise CatalogueFileError."""
    with _opened(path) as stream:
        return _sniff(_head(stream))


# --- the format-neutral record view ----------------------------------------------------


class _DataField(NamedTuple):
    tag: str
    ind2: str
    subfields: list[tuple[str, str]]

    def values(self, codes: str) -> list[str]:
        return [value for code, value in self.subfields if code in codes]

    def first(self, codes: str) -> str | None:
        return next((value for code, value in self.subfields if code in codes), None)


@dataclass
class _Fields:
    tags: set[str]
    control: dict[str, str]
    data: list[_DataField]

    def __post_init__(self) -> None:
        self._by_tag: dict[str, list[_DataField]] = {}
        for field in self.data:
            self._by_tag.setdefault(field.tag, []).append(field)

    def all(self, *tags: str) -> list[_DataField]:
        """The fields with one of `tags`, in record order."""
        if len(tags) == 1:
            return self._by_tag.get(tags[0], [])
        if sum(tag in self._by_tag for tag in tags) <= 1:
            return next((self._by_tag[tag] for tag in tags if tag in self._by_tag), [])
        return [field for field in self.data if field.tag in tags]

    def linked(self, *tags: str) -> list[_DataField]:
        """880 fields whose $6 links them to one of `tags`, in the order of `tags`."""
        found = [
            (tags.index(link[:3]), field)
            for field in self.all("880")
            if (link := field.first("6") or "")[:3] in tags and link[3:4] == "-"
        ]
        return [field for _, field in sorted(found, key=lambda pair: pair[0])]


_AUTHOR_TAGS = ("100", "110", "111", "700", "710")
_PERSONAL_TAGS = frozenset({"100", "700"})
_LINKED_TAGS = ("245", *_AUTHOR_TAGS)
_USED_TAGS = frozenset(
    {"001", "008", "010", "020", "041", "245", "260", "264", "520", "600", "650", "651"}
    | {"852", "880", "949", "952"}
    | set(_AUTHOR_TAGS)
)
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_LANGUAGE = re.compile(r"[a-z]{3}")


def _title(field: _DataField) -> str:
    parts: list[str] = []
    for code, value in field.subfields:
        if code == "c":
            break
        if code in "abnp" and value.strip():
            parts.append(value.strip())
            if value.rstrip().endswith("/"):
                break
    return _trim(re.split(r"\s/\s", " ".join(parts), maxsplit=1)[0])


def _names(fields: list[_DataField]) -> tuple[str, ...]:
    names: list[str] = []
    for field in fields:
        tag = (field.first("6") or "")[:3] if field.tag == "880" else field.tag
        names.extend(
            _nfc(_trim_name(value, personal=tag in _PERSONAL_TAGS)) for value in field.values("a")
        )
    return _unique(names)


def _language(fields: _Fields) -> str | None:
    code = fields.control.get("008", "")[35:38].lower()
    if _LANGUAGE.fullmatch(code):
        return code
    for field in fields.all("041"):
        for value in field.values("a"):
            code = value.strip()[:3].lower()
            if _LANGUAGE.fullmatch(code):
                return code
    return None


def _plausible_year(text: str) -> int | None:
    year = int(text) if text.isdigit() and len(text) == 4 else 0
    return year if 1000 <= year <= 2100 else None


def _imprints(fields: _Fields) -> list[_DataField]:
    published = [field for field in fields.all("264") if field.ind2 == "1"]
    others = [field for field in fields.all("264") if field.ind2 != "1"]
    return published + fields.all("260") + others


def _year(fields: _Fields) -> int | None:
    year = _plausible_year(fields.control.get("008", "")[7:11])
    if year is not None:
        return year
    for field in _imprints(fields):
        for value in field.values("c"):
            for match in _YEAR.finditer(value):
                year = _plausible_year(match.group(1))
                if year is not None:
                    return year
    return None


def _publisher(fields: _Fields) -> str | None:
    for field in _imprints(fields):
        for value in field.values("b"):
            publisher = _nfc(_unbracket(_trim(value)))
            if publisher:
                return publisher
    return None


def _holding(library: str | None, barcode: str | None, call_number: str | None) -> Holding | None:
    values = [_nfc(value) if value else None for value in (library, barcode, call_number)]
    cleaned = [value or None for value in values]
    if not any(cleaned):
        return None
    return Holding(library_code=cleaned[0], barcode=cleaned[1], call_number=cleaned[2])


def _holdings(fields: _Fields) -> tuple[Holding, ...]:
    holdings: list[Holding | None] = []
    for field in fields.all("852", "949", "952"):
        if field.tag == "852":
            call_number = " ".join(value.strip() for value in field.values("hi"))
            library = field.first("b") or field.first("a")
            holdings.append(_holding(library, field.first("p"), call_number))
        elif field.tag == "952" or field.first("op") is not None:
            library = field.first("a") or field.first("b")
            holdings.append(_holding(library, field.first("p"), field.first("o")))
    return tuple(holding for holding in holdings if holding is not None)


def _bib_record(number: int, fields: _Fields) -> BibRecord | RecordProblem:
    """Build a BibRecord from a parsed record, or say why it is not usable."""
    title_fields = fields.all("245")
    title = _nfc(_title(title_fields[0])) if title_fields else ""
    if not title:
        reason = "no title (245)"
        if "200" in fields.tags and not title_fields:
            reason += "; the record looks like UNIMARC, which is not supported"
        return RecordProblem(number, reason)
    original_titles = [_nfc(_title(field)) for field in fields.linked("245")]
    original_title = next((value for value in original_titles if value), None)
    authors = _names(fields.all(*_AUTHOR_TAGS))
    original_authors = _names(fields.linked(*_AUTHOR_TAGS))
    control_number = fields.control.get("001", "").strip() or None
    if control_number is None:
        lccn = next((field.first("a") for field in fields.all("010")), None)
        control_number = lccn.strip() if lccn and lccn.strip() else None
    isbns = (find_isbn13(value) for field in fields.all("020") for value in field.values("a"))
    summary = next((value for field in fields.all("520") for value in field.values("a")), None)
    if original_title:
        key_author = (original_authors or authors or (None,))[0]
        key = work_key(original_title, key_author)
    else:
        key = work_key(title, authors[0] if authors else None)
    return BibRecord(
        record_number=number,
        control_number=_nfc(control_number) if control_number else None,
        title=title,
        original_title=original_title,
        authors=authors,
        original_authors=original_authors,
        subjects=_unique(
            _nfc(_trim(value))
            for field in fields.all("600", "650", "651")
            for value in field.values("a")
        ),
        language=_language(fields),
        year=_year(fields),
        publisher=_publisher(fields),
        isbns=_unique(isbn for isbn in isbns if isbn),
        summary=_nfc(summary or "") or None,
        holdings=_holdings(fields),
        work_key=key,
    )


# --- MARC 21 binary --------------------------------------------------------------------

_BLOCK_BYTES = 1 << 20
_MAX_RECORD_BYTES = 99999
_END_OF_RECORD = b"\x1d"
_LEADER = re.compile(rb"\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7}")
_BAD_SUBFIELD_CODE = re.compile(rb"\x1f[\x80-\xff]")
_BAD_MARC8_ESCAPE = re.compile(rb"\x1b(?![()$,\-gbps])")
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")
_PYMARC_REASONS: dict[type[Exception], str] = {
    BaseAddressInvalid: "base address in the leader lies beyond the end of the record",
    BaseAddressNotFound: "leader has no base address of data",
    RecordDirectoryInvalid: "record directory is invalid",
    NoFieldsFound: "record has no fields",
    TruncatedRecord: "record is shorter than the length in its leader",
}


class _Chunk(NamedTuple):
    data: bytes
    terminated: bool


class _FieldError(Exception):
    """A field the reader uses cannot be decoded."""


def _marc_chunks(stream: io.BufferedIOBase) -> Iterator[_Chunk]:
    """Split a MARC 21 stream on record terminators, one block in memory at a time."""
    pending = b""
    discarding = False
    while block := stream.read(_BLOCK_BYTES):
        pieces = (pending + block).split(_END_OF_RECORD)
        pending = pieces.pop()
        for index, piece in enumerate(pieces):
            if discarding and index == 0:
                discarding = False
                continue
            if piece.strip():
                yield _Chunk(piece.lstrip(), terminated=True)
        if discarding:
            pending = b""
        elif len(pending) > _MAX_RECORD_BYTES:
            yield _Chunk(pending.lstrip(), terminated=False)
            pending = b""
            discarding = True
    if pending.strip() and not discarding:
        yield _Chunk(pending.lstrip(), terminated=False)


def _tag_at(chunk: bytes, position: int) -> str | None:
    """The tag of the field whose data contains byte `position`, from the directory."""
    base = int(chunk[12:17])
    directory = chunk[24 : base - 1]
    for start in range(0, len(directory) - 11, 12):
        entry = directory[start : start + 12]
        if not entry[3:].isdigit():
            return None
        offset = base + int(entry[7:12])
        if offset <= position < offset + int(entry[3:7]):
            return entry[:3].decode("ascii", "replace")
    return None


def _as_bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value or "").encode()


def _utf8(raw: bytes) -> str:
    return raw.decode("utf-8")


def _marc8(raw: bytes) -> str:
    """Decode MARC-8 strictly: unmappable characters and bad escapes raise ValueError."""
    if b"\x1b" not in raw and raw.isascii():
        return raw.decode("ascii")
    if _BAD_MARC8_ESCAPE.search(raw):
        raise ValueError("bad MARC-8 escape sequence")
    complaints = io.StringIO()
    # pymarc reports unmappable characters only on stderr; the redirect is brief and
    # only happens for non-ASCII MARC-8 subfields.
    with contextlib.redirect_stderr(complaints):
        text = marc8_to_unicode(raw, hide_utf8_warnings=False)
    if complaints.getvalue() or _CONTROL_CHARACTER.search(text):
        raise ValueError("unmappable MARC-8 character")
    if (b"\x1b" not in raw and raw[-1] >= 0xE0) or not text.strip():
        raise ValueError("MARC-8 diacritic without a base character")
    marks = sum(1 for char in text if unicodedata.combining(char))
    if marks > sum(1 for char in text if char.isalpha()):
        raise ValueError("mostly combining marks")
    return text


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decoded_fields(record: Record, decode: Callable[[bytes], str], charset: str) -> _Fields:
    tags: set[str] = set()
    control: dict[str, str] = {}
    data: list[_DataField] = []
    for field in record.fields:
        tag = field.tag
        tags.add(tag)
        if tag not in _USED_TAGS:
            continue
        try:
            if field.control_field:
                raw = _as_bytes(field.data)
                text = raw.decode("ascii", "replace") if tag == "008" else decode(raw)
                control.setdefault(tag, text)
                continue
            subfields = [(sub.code, _as_bytes(sub.value)) for sub in field.subfields]
            if tag == "880":
                link = next((value for code, value in subfields if code == "6"), b"")
                if link[:3].decode("ascii", "replace") not in _LINKED_TAGS:
                    continue
            decoded = [(code, decode(value)) for code, value in subfields]
        except (UnicodeDecodeError, ValueError) as exc:
            raise _FieldError(f"invalid {charset} in field {tag}") from exc
        indicators = field.indicators
        data.append(_DataField(tag, indicators.second if indicators else " ", decoded))
    return _Fields(tags, control, data)


def _marc_record(number: int, chunk: _Chunk) -> BibRecord | RecordProblem:
    """Parse one MARC 21 record (without its terminator)."""
    data = chunk.data
    if not chunk.terminated:
        if len(data) > _MAX_RECORD_BYTES:
            return RecordProblem(
                number, "no end-of-record terminator within 99,999 bytes; skipped to the next one"
            )
        return RecordProblem(number, "record is truncated (no end-of-record terminator)")
    if not _LEADER.match(data):
        return RecordProblem(number, "leader is not a valid MARC leader")
    declared, actual = int(data[:5]), len(data) + 1
    if declared > actual:
        return RecordProblem(
            number, f"record is shorter than its leader says ({actual} of {declared} bytes)"
        )
    bad_code = _BAD_SUBFIELD_CODE.search(data)
    if bad_code:
        tag = _tag_at(data, bad_code.start())
        return RecordProblem(number, f"invalid subfield code in field {tag or '(unknown)'}")
    if not data[24 : int(data[12:17]) - 1].isascii():
        return RecordProblem(number, "record directory is invalid")
    try:
        record = Record(data + _END_OF_RECORD, to_unicode=False)
    except UnicodeDecodeError:
        return RecordProblem(number, "a field has non-ASCII indicators")
    except ValueError:
        return RecordProblem(number, "record directory is invalid")
    except PymarcException as exc:
        return RecordProblem(number, _PYMARC_REASONS.get(type(exc), str(exc)))
    utf8 = data[9:10] == b"a" or (b"\x1b" not in data and not data.isascii() and _is_utf8(data))
    try:
        fields = (
            _decoded_fields(record, _utf8, "UTF-8")
            if utf8
            else _decoded_fields(record, _marc8, "MARC-8")
        )
    except _FieldError as exc:
        return RecordProblem(number, str(exc))
    return _bib_record(number, fields)


def _read_marc(stream: io.BufferedIOBase) -> Iterator[BibRecord | RecordProblem]:
    for number, chunk in enumerate(_marc_chunks(stream), start=1):
        yield _marc_record(number, chunk)


# --- MARCXML -----------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_record(number: int, element: ET.Element) -> BibRecord | RecordProblem:
    tags: set[str] = set()
    control: dict[str, str] = {}
    data: list[_DataField] = []
    for child in element:
        kind = _local(child.tag)
        if kind not in ("controlfield", "datafield"):
            continue
        tag = child.get("tag")
        if tag is None:
            return RecordProblem(number, f"a {kind} has no tag attribute")
        tag = tag.strip().zfill(3) if tag.strip().isdigit() else tag.strip()
        tags.add(tag)
        if tag not in _USED_TAGS:
            continue
        if kind == "controlfield":
            control.setdefault(tag, child.text or "")
            continue
        subfields: list[tuple[str, str]] = []
        for sub in child:
            if _local(sub.tag) != "subfield":
                continue
            code = sub.get("code")
            if code is None:
                return RecordProblem(number, f"a subfield in field {tag} has no code")
            subfields.append((code, sub.text or ""))
        data.append(_DataField(tag, (child.get("ind2") or " ")[:1], subfields))
    return _bib_record(number, _Fields(tags, control, data))


def _read_marcxml(stream: io.BufferedIOBase) -> Iterator[BibRecord | RecordProblem]:
    number = 0
    open_elements: list[ET.Element] = []
    try:
        for event, element in ET.iterparse(stream, events=("start", "end")):
            if event == "start":
                open_elements.append(element)
                continue
            open_elements.pop()
            if _local(element.tag) != "record":
                continue
            number += 1
            yield _xml_record(number, element)
            element.clear()
            if open_elements:
                open_elements[-1].remove(element)
    except ET.ParseError as exc:
        yield RecordProblem(number + 1, f"the XML is not well-formed ({exc}); reading stopped")


# --- CSV -----------------------------------------------------------------------------------

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


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _csv_language(value: str) -> str | None:
    code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return _LANGUAGE_CODES.get(code, code) or None


def _csv_record(number: int, line: int, row: dict[str, str]) -> BibRecord | RecordProblem:
    errors: list[str] = []
    if any(_SUBSTITUTE in value for value in row.values()):
        errors.append("the text cannot be decoded (save the file as UTF-8)")
    if row.pop("", ""):
        errors.append("a value stands in a column without a name")
    title = _nfc(_trim(row.get("title", "")))
    if not title:
        errors.append("no title")
    year_text = row.get("year", "").strip()
    if year_text and not re.fullmatch(r"\d{1,4}", year_text):
        errors.append(f"year {year_text!r} is not a number")
    copies_text = row.get("copies", "").strip()
    if copies_text and not (copies_text.isdigit() and int(copies_text) > 0):
        errors.append(f"copies {copies_text!r} is not a positive whole number")
    copies = int(copies_text) if copies_text.isdigit() and int(copies_text) > 0 else 1
    barcode = _nfc(row.get("barcode", "")) or None
    if barcode and copies > 1:
        errors.append("one barcode cannot stand for several copies")
    if errors:
        return RecordProblem(number, f"line {line}: {'; '.join(errors)}")
    authors = _unique(_nfc(_trim_name(name)) for name in _split(row.get("authors", "")))
    original_authors = _unique(
        _nfc(_trim_name(name)) for name in _split(row.get("original_authors", ""))
    )
    original_title = _nfc(_trim(row.get("original_title", ""))) or None
    call_number = _nfc(row.get("call_number", "")) or None
    holdings: tuple[Holding, ...] = ()
    if barcode or call_number or copies_text:
        holdings = (Holding(None, barcode, call_number, copies),)
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
        subjects=_unique(_nfc(_trim(value)) for value in _split(row.get("subjects", ""))),
        language=_csv_language(row.get("language", "")),
        year=int(year_text) if year_text else None,
        publisher=_nfc(_unbracket(_trim(row.get("publisher", "")))) or None,
        isbns=_unique(isbn for isbn in isbns if isbn),
        summary=_nfc(row.get("summary", "")) or None,
        holdings=holdings,
        work_key=key,
    )


def _text_lines(stream: io.BufferedIOBase) -> Iterator[str]:
    """Decode `stream` block by block into lines that keep their line endings."""
    decoder = codecs.getincrementaldecoder(_CSV_ENCODING)(errors="replace")
    pending = ""
    while block := stream.read(_BLOCK_BYTES):
        *lines, pending = (pending + decoder.decode(block)).split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _read_csv(stream: io.BufferedIOBase) -> Iterator[BibRecord | RecordProblem]:
    rows = csv.reader(_text_lines(stream))
    number = 0
    try:
        columns = _csv_header(next(rows, []))
        line = rows.line_num
        for cells in rows:
            first_line, line = line + 1, rows.line_num
            if not any(cell.strip() for cell in cells):
                continue
            number += 1
            extra = cells[len(columns) :]
            if any(cell.strip() for cell in extra):
                yield RecordProblem(
                    number,
                    f"line {first_line}: {len(cells)} values but the header has "
                    f"{len(columns)} columns",
                )
                continue
            row: dict[str, str] = {}
            for column, cell in zip(columns, cells, strict=False):
                row[column] = row.get(column, "") + cell
            yield _csv_record(number, first_line, row)
    except csv.Error as exc:
        yield RecordProblem(
            number + 1, f"line {rows.line_num}: the CSV cannot be parsed ({exc}); reading stopped"
        )


# --- public reading API ------------------------------------------------------------------


def _check_csv(head: bytes) -> None:
    """Check the encoding and header at the start of a CSV file."""
    if not _is_utf8_text(head):
        raise CatalogueFileError("the CSV file is not UTF-8 text; save it as 'CSV UTF-8'")
    _csv_header(next(csv.reader([_first_line(head)]), []))


def _reader(
    stream: io.BufferedIOBase, chosen: CatalogueFormat, head: bytes
) -> Iterator[BibRecord | RecordProblem]:
    if chosen == "marc":
        return _read_marc(stream)
    if chosen == "marcxml":
        return _read_marcxml(stream)
    _check_csv(head)
    return _read_csv(stream)


def _records(path: Path, chosen: CatalogueFormat) -> Iterator[BibRecord | RecordProblem]:
    with _opened(path) as stream:
        head = _head(stream)
        number = 0
        try:
            for item in _reader(stream, chosen, head):
                number = item.record_number
                yield item
        except _READ_ERRORS as exc:
            yield RecordProblem(
                number + 1,
                f"the file cannot be read after record {number} ({exc}); reading stopped",
            )


def read_records(
    path: Path, *, format: Literal["auto", "marc", "marcxml", "csv"] = "auto"
) -> Iterator[BibRecord | RecordProblem]:
    """Stream the records of a catalogue file in order; raises CatalogueFileError at once."""
    with _opened(path) as stream:
        head = _head(stream)
        chosen = _sniff(head) if format == "auto" else format
        if not head.strip():
            raise CatalogueFileError("the file is empty")
        if chosen == "csv":
            _check_csv(head)
    return _records(path, chosen)


def count_records(path: Path) -> int | None:
    """Count the records of an uncompressed MARC 21 file; None where that would be slow."""
    if _compressed(path) or detect_format(path) != "marc":
        return None
    with _opened(path) as stream:
        return sum(1 for _ in _marc_chunks(stream))
