"""MARC 21 binary (ISO 2709): records split on the end-of-record byte, checked, parsed, decoded.

Records are split on the end-of-record byte (0x1D) and each is parsed with
``pymarc.Record``; a broken record becomes a ``RecordProblem`` and reading resumes at the
next one. (``pymarc.MARCReader`` is not used because it stops for good after a bad record
length and fixes the character set for the whole file.) A record whose terminator is
missing would swallow the record after it, so the leader's record length is checked against
where the terminator really is: where the next record starts early, the record ends where
its leader says, with a warning naming its byte position, and the next record is read on its
own. Every byte of a file ends up in a record or in a reported problem.

Character set per record: leader/09 ``a`` means UTF-8, anything else MARC-8, except that a
record flagged MARC-8 whose bytes are valid multi-byte UTF-8 without MARC-8 escapes is read
as UTF-8 (a common mislabelling). Bad bytes are never replaced silently: invalid UTF-8,
MARC-8 that pymarc cannot map (or that turns into a string of combining marks, as text in
another character set such as Windows-1251 does), a bad MARC-8 escape or a non-ASCII
subfield code in a field the reader uses make the whole record a ``RecordProblem`` naming
the field ("invalid UTF-8 in field 245"). Fields the reader does not use are not decoded,
so damage there is ignored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Literal, NamedTuple

from pymarc import Record, marc8_to_unicode
from pymarc.exceptions import (
    BaseAddressInvalid,
    BaseAddressNotFound,
    NoFieldsFound,
    PymarcException,
    RecordDirectoryInvalid,
    TruncatedRecord,
)

from bot.catalogue.editions import EDITION_TAGS
from bot.catalogue.fields import LINKED_TAGS, USED_TAGS, DataField, Fields, bib_record
from bot.catalogue.records import BibRecord, Readable, RecordProblem

__all__ = [
    "MarcChunk",
    "Parse",
    "marc21_record",
    "marc_chunks",
    "marc_record",
    "read_marc",
    "record_structure",
]

_BLOCK_BYTES = 1 << 20
MAX_RECORD_BYTES = 99999
_END_OF_RECORD = b"\x1d"
_END_OF_FIELD = b"\x1e"
_BLANK = re.compile(rb"[ \t\n\r\x0b\x0c]*")
_LEADER = re.compile(rb"\d{5}[\x20-\x7e]{7}\d{5}[\x20-\x7e]{7}")
# Where a record may start without a terminator before it: a MARC 21 leader (indicator and
# subfield code counts "22", entry map "45..") and, checked in _record_starts, a directory.
_RECORD_START = re.compile(rb"(?=\d{5}[\x20-\x7e]{5}22\d{5}[\x20-\x7e]{3}45[\x20-\x7e]{2})")
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

# How a chunk ends: at its terminator; where the next record starts (no terminator); at the
# end of the file (no terminator); or nowhere within a record's maximum length.
Ending = Literal["terminator", "next record", "end of file", "overlong"]


class MarcChunk(NamedTuple):
    """The bytes of one record (without its terminator) and where they start in the file."""

    data: bytes
    offset: int
    ending: Ending


def _record_starts(data: bytes, position: int) -> bool:
    """Whether a MARC 21 leader and a well-formed directory start at `position`."""
    leader = data[position : position + 24]
    if len(leader) < 24 or not _RECORD_START.match(leader):
        return False
    base = int(leader[12:17])
    directory = data[position + 24 : position + base]
    return (
        base >= 37
        and (base - 25) % 12 == 0
        and len(directory) == base - 24
        and directory.endswith(_END_OF_FIELD)
        and directory[3:12].isdigit()
        and _END_OF_FIELD not in directory[:-1]
    )


def _glued_record_start(region: bytes, *, terminated: bool) -> int | None:
    """Where a record that follows without an end-of-record byte starts in `region`, if one does.

    A record whose leader length matches its terminator is whole. Otherwise the next record
    is looked for where the leader says this one ends, then anywhere after the leader.
    """
    first = 1
    if _LEADER.match(region):
        declared = int(region[:5])
        if terminated and declared == len(region) + 1:
            return None
        if 24 < declared - 1 < len(region) and _record_starts(region, declared - 1):
            return declared - 1
        first = 24
    for match in _RECORD_START.finditer(region, first):
        if _record_starts(region, match.start()):
            return match.start()
    return None


class _Splitter:
    """Cuts a stream into MarcChunks, holding one block and at most one record at a time."""

    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self._data = b""
        self._start = 0  # where the next record starts in _data
        self._offset = 0  # where _data starts in the file
        self._eof = False

    def _read_more(self) -> bool:
        if self._eof:
            return False
        block = self._stream.read(_BLOCK_BYTES)
        if not block:
            self._eof = True
            return False
        self._offset += self._start
        self._data = self._data[self._start :] + block
        self._start = 0
        return True

    def _skip_blanks(self) -> bool:
        """Skip whitespace before the next record; False at the end of the file."""
        while True:
            blank = _BLANK.match(self._data, self._start)
            if blank is not None:
                self._start = blank.end()
            if self._start < len(self._data):
                return True
            if not self._read_more():
                return False

    def _find_end(self) -> int:
        """The next terminator's index, reading on until it or a record's maximum is in memory."""
        searched = self._start
        while (end := self._data.find(_END_OF_RECORD, searched)) < 0:
            held = len(self._data) - self._start
            if held > MAX_RECORD_BYTES or not self._read_more():
                return -1
            searched = self._start + held  # reading moved the held bytes to the front
        return end

    def _skip_past_terminator(self) -> None:
        while (end := self._data.find(_END_OF_RECORD, self._start)) < 0:
            self._start = len(self._data)
            if not self._read_more():
                return
        self._start = end + 1

    def next_chunk(self) -> MarcChunk | None:
        """The next record's bytes, or None at the end of the file."""
        while True:
            if not self._skip_blanks():
                return None
            end = self._find_end()
            if end != self._start:
                break
            self._start += 1  # an empty record: two terminators in a row
        stop = end if end >= 0 else len(self._data)
        region = self._data[self._start : stop]
        offset = self._offset + self._start
        cut = _glued_record_start(region, terminated=end >= 0)
        if cut is not None:
            self._start += cut
            return MarcChunk(region[:cut], offset, "next record")
        if len(region) > MAX_RECORD_BYTES:
            if end >= 0:
                self._start = end + 1
            else:
                self._skip_past_terminator()
            return MarcChunk(region, offset, "overlong")
        self._start = end + 1 if end >= 0 else stop
        return MarcChunk(region, offset, "terminator" if end >= 0 else "end of file")


def marc_chunks(stream: Readable) -> Iterator[MarcChunk]:
    """Split a MARC 21 stream into records (see the module docstring)."""
    splitter = _Splitter(stream)
    while (chunk := splitter.next_chunk()) is not None:
        yield chunk


# --- decoding ------------------------------------------------------------------------


class _FieldError(Exception):
    """A field the reader uses cannot be decoded."""


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


def _decoded_fields(record: Record, decode: Callable[[bytes], str], charset: str) -> Fields:
    tags: set[str] = set()
    control: dict[str, str] = {}
    data: list[DataField] = []
    for marc_field in record.fields:
        tag = marc_field.tag
        tags.add(tag)
        if tag not in USED_TAGS:
            continue
        linked_to = ""
        try:
            if marc_field.control_field:
                raw = _as_bytes(marc_field.data)
                text = raw.decode("ascii", "replace") if tag == "008" else decode(raw)
                control.setdefault(tag, text)
                continue
            subfields = [(sub.code, _as_bytes(sub.value)) for sub in marc_field.subfields]
            if tag == "880":
                link = next((value for code, value in subfields if code == "6"), b"")
                linked_to = link[:3].decode("ascii", "replace")
                if linked_to not in LINKED_TAGS:
                    continue
            decoded = [(code, decode(value)) for code, value in subfields]
        except (UnicodeDecodeError, ValueError) as exc:
            # Edition and translation fields only add titles: a bad one is left out.
            if tag in EDITION_TAGS or linked_to in EDITION_TAGS:
                continue
            raise _FieldError(f"invalid {charset} in field {tag}") from exc
        indicators = marc_field.indicators
        data.append(DataField(tag, indicators.second if indicators else " ", decoded))
    return Fields(tags, control, data)


def record_structure(number: int, data: bytes) -> Record | RecordProblem:
    """Check and parse one ISO 2709 record (without its terminator), its data left undecoded.

    The structure of MARC 21 and UNIMARC records is the same (ISO 2709); what a problem names
    is the leader, the directory or the field.
    """
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
        return Record(data + _END_OF_RECORD, to_unicode=False)
    except UnicodeDecodeError:
        return RecordProblem(number, "a field has non-ASCII indicators")
    except ValueError:
        return RecordProblem(number, "record directory is invalid")
    except PymarcException as exc:
        return RecordProblem(number, _PYMARC_REASONS.get(type(exc), str(exc)))


def marc21_record(number: int, data: bytes, record: Record) -> BibRecord | RecordProblem:
    """The BibRecord of a parsed MARC 21 record, decoded as its leader (or its bytes) say."""
    utf8 = data[9:10] == b"a" or (b"\x1b" not in data and not data.isascii() and _is_utf8(data))
    try:
        fields = (
            _decoded_fields(record, _utf8, "UTF-8")
            if utf8
            else _decoded_fields(record, _marc8, "MARC-8")
        )
    except _FieldError as exc:
        return RecordProblem(number, str(exc))
    return bib_record(number, fields)


def _parsed(number: int, data: bytes) -> BibRecord | RecordProblem:
    """Parse one MARC 21 record (without its terminator)."""
    record = record_structure(number, data)
    if isinstance(record, RecordProblem):
        return record
    return marc21_record(number, data, record)


# How one record's bytes (without the terminator) become a record or a problem.
Parse = Callable[[int, bytes], BibRecord | RecordProblem]


def _unread_bytes(data: bytes, *, terminator_missing: bool) -> int:
    """How many bytes (blanks aside) follow the end of the last field the directory names.

    Where the terminator is missing, a byte in its place is not counted.
    """
    base = int(data[12:17])
    directory = data[24 : base - 1]
    end = base
    for start in range(0, len(directory) - 11, 12):
        entry = directory[start : start + 12]
        if entry[3:].isdigit():
            end = max(end, base + int(entry[7:12]) + int(entry[3:7]))
    return len(data[end + (1 if terminator_missing else 0) :].strip())


def _with_warning(record: BibRecord, warning: str) -> BibRecord:
    return dataclasses.replace(record, warnings=(*record.warnings, warning))


def marc_record(number: int, chunk: MarcChunk, parse: Parse = _parsed) -> BibRecord | RecordProblem:
    """The record (or the problem) in one chunk of a MARC 21 (or, with `parse`, UNIMARC) file."""
    if chunk.ending == "overlong" or len(chunk.data) > MAX_RECORD_BYTES:
        return RecordProblem(
            number, "no end-of-record terminator within 99,999 bytes; skipped to the next one"
        )
    if chunk.ending == "end of file":
        return RecordProblem(number, "record is truncated (no end-of-record terminator)")
    item = parse(number, chunk.data)
    where = f"at byte {chunk.offset:,} of the file"
    if isinstance(item, BibRecord) and int(chunk.data[:5]) <= len(chunk.data):
        # Longer than its leader says: bytes the directory does not name are not read.
        unread = _unread_bytes(chunk.data, terminator_missing=chunk.ending == "next record")
        if unread:
            warning = f"{unread:,} bytes after the last field of the record {where} were not read"
            item = _with_warning(item, warning)
    if chunk.ending != "next record":
        return item
    if isinstance(item, RecordProblem):
        reason = f"{item.reason} (the bytes {where} have no end-of-record terminator; the next "
        return RecordProblem(number, reason + "record was read on its own)")
    return _with_warning(
        item,
        f"the record {where} has no end-of-record terminator; it was read up to the length "
        "in its leader, and the next record on its own",
    )


def read_marc(stream: Readable, parse: Parse = _parsed) -> Iterator[BibRecord | RecordProblem]:
    """The records of a MARC 21 file in order, numbered from 1 (`parse` reads each one)."""
    for number, chunk in enumerate(marc_chunks(stream), start=1):
        yield marc_record(number, chunk, parse)
