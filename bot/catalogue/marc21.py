"""MARC 21 binary (ISO 2709): records split on the end-of-record byte, checked, parsed, decoded.

Records are split on the end-of-record byte (0x1D) and each is parsed with
``pymarc.Record``; a broken record becomes a ``RecordProblem`` and reading resumes at the
next terminator. (``pymarc.MARCReader`` is not used because it stops for good after a bad
record length and fixes the character set for the whole file.)

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
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import NamedTuple

from pymarc import Record, marc8_to_unicode
from pymarc.exceptions import (
    BaseAddressInvalid,
    BaseAddressNotFound,
    NoFieldsFound,
    PymarcException,
    RecordDirectoryInvalid,
    TruncatedRecord,
)

from bot.catalogue.fields import LINKED_TAGS, USED_TAGS, DataField, Fields, bib_record
from bot.catalogue.records import BibRecord, Readable, RecordProblem

__all__ = ["marc_chunks", "read_marc"]

_BLOCK_BYTES = 1 << 20
MAX_RECORD_BYTES = 99999
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


def marc_chunks(stream: Readable) -> Iterator[_Chunk]:
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
        elif len(pending) > MAX_RECORD_BYTES:
            yield _Chunk(pending.lstrip(), terminated=False)
            pending = b""
            discarding = True
    if pending.strip() and not discarding:
        yield _Chunk(pending.lstrip(), terminated=False)


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
        try:
            if marc_field.control_field:
                raw = _as_bytes(marc_field.data)
                text = raw.decode("ascii", "replace") if tag == "008" else decode(raw)
                control.setdefault(tag, text)
                continue
            subfields = [(sub.code, _as_bytes(sub.value)) for sub in marc_field.subfields]
            if tag == "880":
                link = next((value for code, value in subfields if code == "6"), b"")
                if link[:3].decode("ascii", "replace") not in LINKED_TAGS:
                    continue
            decoded = [(code, decode(value)) for code, value in subfields]
        except (UnicodeDecodeError, ValueError) as exc:
            raise _FieldError(f"invalid {charset} in field {tag}") from exc
        indicators = marc_field.indicators
        data.append(DataField(tag, indicators.second if indicators else " ", decoded))
    return Fields(tags, control, data)


def _marc_record(number: int, chunk: _Chunk) -> BibRecord | RecordProblem:
    """Parse one MARC 21 record (without its terminator)."""
    data = chunk.data
    if not chunk.terminated:
        if len(data) > MAX_RECORD_BYTES:
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
    return bib_record(number, fields)


def read_marc(stream: Readable) -> Iterator[BibRecord | RecordProblem]:
    """The records of a MARC 21 file in order, numbered from 1."""
    for number, chunk in enumerate(marc_chunks(stream), start=1):
        yield _marc_record(number, chunk)
