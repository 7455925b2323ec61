"""CNMARC and UNIMARC in ISO 2709: the record's character set, its fields decoded, mapped.

The structure (leader, directory, terminators) is MARC 21's, so records are split and checked
by ``marc21`` and parsed with pymarc; what differs is where the character set is declared
and how fields map (``unimarc_fields``). A file is told apart record by record: a record
with a 200 (title) and no 245 is UNIMARC, so ``read_iso2709`` reads a file of either kind,
or a mix; ``unimarc=True`` (``--format unimarc``/``cnmarc``) reads every record as UNIMARC.

Character set per record: 100 $a positions 26-29 name the character sets. "50" (ISO 10646)
is read as UTF-8; "20" (GB 2312, as CNMARC codes it) as GB 18030, which contains GB 2312
and GBK. Without such a declaration (blank, or Latin sets such as "01" and "03"), a record
whose bytes are all valid UTF-8 is UTF-8, else one that decodes cleanly as GB 18030 is
Chinese, else it is refused. Nothing is replaced silently: a field the reader uses that does
not decode in the record's set, that holds UTF-8 in a record declared GB 2312, or whose text
is mojibake (see ``mojibake``) makes the record a ``RecordProblem`` naming the field.

Public entry points (also for harvesting): ``read_unimarc(data)`` for the bytes of one or
more ISO 2709 records, and ``bot.catalogue.marcxml.read_unimarc_element`` for one XML
``record`` element.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator

from pymarc import Record

from bot.catalogue.fields import DataField, Fields
from bot.catalogue.holdings_map import HoldingsMap
from bot.catalogue.marc21 import (
    MarcChunk,
    Parse,
    marc21_record,
    marc_chunks,
    marc_record,
    read_marc,
    record_structure,
)
from bot.catalogue.records import BibRecord, Readable, RecordProblem
from bot.catalogue.unimarc_fields import UNIMARC_TAGS, unimarc_record

__all__ = [
    "looks_unimarc",
    "mojibake",
    "read_iso2709",
    "read_unimarc",
    "unimarc_chunk",
    "unimarc_fields_record",
]

_UTF8 = "UTF-8"
_GB = "GB 2312/GBK"
# ISO 2709 control bytes that may not appear in decoded text; C1 controls other than
# UNIMARC's non-sorting markers, private-use characters and U+FFFD are mojibake.
_BAD_CHARACTER = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x87\x8a-\x97\x99-\x9b\x9d-\x9f\ue000-\uf8ff\ufffd]"
)
_LATIN_RUN = re.compile(
    "[\u00c0-\u00ff][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]"
)


class _FieldError(Exception):
    """A field the reader uses cannot be decoded."""


def mojibake(text: str) -> bool:
    """Whether decoded text is garbled rather than what the cataloguer typed.

    Control characters (but UNIMARC's non-sorting markers), private-use characters and the
    replacement character; and UTF-8 that was decoded as Latin-1 or Windows-1252 on the way
    ("çº¢æ¥¼æ¢¦" for 红楼梦), which encodes back to valid UTF-8.
    """
    if _BAD_CHARACTER.search(text):
        return True
    if not _LATIN_RUN.search(text):
        return False
    for codec in ("cp1252", "latin-1"):
        try:
            text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        return True
    return False


def _as_bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value or "").encode()


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _declared(record: Record) -> str | None:
    """The character set 100 $a/26-29 declares, if it is one this reader knows."""
    for processing in record.get_fields("100"):
        coded = _as_bytes(processing.get("a"))[26:30]
        sets = {coded[:2], coded[2:]}
        if b"50" in sets:
            return _UTF8
        if b"20" in sets:
            return _GB
    return None


def _charset(record: Record, data: bytes) -> str | None:
    """The set the record is read in: declared, else the one its bytes decode in cleanly."""
    declared = _declared(record)
    if declared is not None or data.isascii():
        return declared or _UTF8
    if _is_utf8(data):
        return _UTF8
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return _GB


def _decoder(charset: str | None, *, declared: bool) -> Callable[[bytes], str]:
    said = " (as 100 $a declares)" if declared else ""

    def decode(raw: bytes) -> str:
        if raw.isascii():
            return raw.decode("ascii")
        if charset is None:
            raise ValueError("the text is neither UTF-8 nor GB 2312/GBK")
        if charset == _GB and _is_utf8(raw):
            raise ValueError("the text is UTF-8, but 100 $a declares GB 2312")
        try:
            text = raw.decode("utf-8" if charset == _UTF8 else "gb18030")
        except UnicodeDecodeError as exc:
            raise ValueError(f"the text is not valid {charset}{said}") from exc
        if mojibake(text):
            raise ValueError("the text is garbled (mojibake)")
        return unicodedata.normalize("NFC", text)

    return decode


def _decoded_fields(
    record: Record, decode: Callable[[bytes], str], used: Collection[str]
) -> Fields:
    tags: set[str] = set()
    control: dict[str, str] = {}
    data: list[DataField] = []
    for marc_field in record.fields:
        tag = marc_field.tag
        tags.add(tag)
        if tag not in used:
            continue
        try:
            if marc_field.control_field:
                control.setdefault(tag, decode(_as_bytes(marc_field.data)))
                continue
            subfields = [(sub.code, decode(_as_bytes(sub.value))) for sub in marc_field.subfields]
        except ValueError as exc:
            raise _FieldError(f"field {tag}: {exc}") from exc
        indicators = marc_field.indicators
        data.append(DataField(tag, indicators.second if indicators else " ", subfields))
    return Fields(tags, control, data)


def unimarc_fields_record(
    number: int, data: bytes, record: Record, holdings_map: HoldingsMap | None = None
) -> BibRecord | RecordProblem:
    """The BibRecord of a parsed UNIMARC record, decoded in its character set."""
    declared = _declared(record) is not None
    decode = _decoder(_charset(record, data), declared=declared)
    used = UNIMARC_TAGS if holdings_map is None else UNIMARC_TAGS | {holdings_map.tag}
    try:
        fields = _decoded_fields(record, decode, used)
    except _FieldError as exc:
        return RecordProblem(number, str(exc))
    return unimarc_record(number, fields, holdings_map)


def looks_unimarc(record: Record) -> bool:
    """Whether a parsed ISO 2709 record is UNIMARC: a title in 200 and none in 245."""
    return bool(record.get_fields("200")) and not record.get_fields("245")


def _parse_unimarc(
    number: int, data: bytes, *, holdings_map: HoldingsMap | None = None
) -> BibRecord | RecordProblem:
    record = record_structure(number, data)
    if isinstance(record, RecordProblem):
        return record
    return unimarc_fields_record(number, data, record, holdings_map)


def _parse_either(
    number: int, data: bytes, *, holdings_map: HoldingsMap | None = None
) -> BibRecord | RecordProblem:
    record = record_structure(number, data)
    if isinstance(record, RecordProblem):
        return record
    if looks_unimarc(record):
        return unimarc_fields_record(number, data, record, holdings_map)
    return marc21_record(number, data, record)


def read_iso2709(
    stream: Readable, *, unimarc: bool = False, holdings_map: HoldingsMap | None = None
) -> Iterator[BibRecord | RecordProblem]:
    """The records of an ISO 2709 file, each read as MARC 21 or UNIMARC as its fields show
    (every one as UNIMARC with `unimarc`), in order, numbered from 1. ``holdings_map``: the
    library's own holdings field in its UNIMARC records."""
    parse: Parse = functools.partial(
        _parse_unimarc if unimarc else _parse_either, holdings_map=holdings_map
    )
    return read_marc(stream, parse)


def unimarc_chunk(
    number: int, chunk: MarcChunk, holdings_map: HoldingsMap | None = None
) -> BibRecord | RecordProblem:
    """The record (or the problem) in one chunk of a UNIMARC file."""
    return marc_record(number, chunk, functools.partial(_parse_unimarc, holdings_map=holdings_map))


def read_unimarc(
    data: bytes, holdings_map: HoldingsMap | None = None
) -> Iterator[BibRecord | RecordProblem]:
    """The CNMARC/UNIMARC records in `data` (ISO 2709 bytes: one record or several), in order.

    Yields what the MARC 21 reader yields: a ``BibRecord`` per good record, a
    ``RecordProblem`` (its number and the field at fault) per bad one. ``holdings_map``:
    the library's own holdings field, if it has one (``HoldingsMap.parse``).
    """
    for number, chunk in enumerate(marc_chunks(io.BytesIO(data)), start=1):
        yield unimarc_chunk(number, chunk, holdings_map)
