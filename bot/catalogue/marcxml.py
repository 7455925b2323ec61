"""MARCXML, streamed: each record is built field by field while the XML is parsed, then freed.

Namespaces are ignored and the leader is not checked; ``record`` elements are read wherever
they stand (a ``collection``, a lone record, an OAI-PMH response). Malformed XML ends reading
with a RecordProblem giving the line and column. Memory stays bounded by ``ReadLimits``: the
text of a field the reader uses, and any one tag or comment, at most ``field`` bytes; a
record at most ``line`` bytes (give or take a block of input); past either,
CatalogueTooLargeError. Text the reader does not use is never kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal
from xml.parsers import expat

from bot.catalogue.fields import USED_TAGS, DataField, Fields, bib_record
from bot.catalogue.holdings_map import HoldingsMap
from bot.catalogue.records import (
    BibRecord,
    CatalogueTooLargeError,
    Readable,
    ReadLimits,
    RecordProblem,
)
from bot.catalogue.unimarc import mojibake
from bot.catalogue.unimarc_fields import UNIMARC_TAGS, unimarc_record

__all__ = [
    "declared_dtd",
    "read_marcxml",
    "read_record_element",
    "read_unimarc_element",
    "read_unimarc_xml",
    "root_element",
]

_BLOCK_BYTES = 64 * 1024
# A record is read as MARC 21 or UNIMARC as its fields show, so both formats' fields are kept.
_KEPT_TAGS = USED_TAGS | UNIMARC_TAGS


def _local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


@dataclass(slots=True)
class _Draft:
    """A record being read: what ``bib_record`` needs, or the first reason it is unusable."""

    tags: set[str] = field(default_factory=set)
    control: dict[str, str] = field(default_factory=dict)
    data: list[DataField] = field(default_factory=list)
    problem: str | None = None


Kind = Literal["record", "control", "data", "subfield", "other"]


@dataclass(slots=True)
class _Open:
    """An element whose end tag has not come yet."""

    kind: Kind
    draft: _Draft | None
    name: str = ""  # the field's tag or the subfield's code
    data_field: DataField | None = None
    text: list[str] | None = None  # collected text, for fields the reader uses
    text_size: int = 0
    has_children: bool = False


class _RecordBuilder:
    """An XMLParser target that keeps only what the reader uses of each record."""

    def __init__(self, limits: ReadLimits, kept: frozenset[str] = _KEPT_TAGS) -> None:
        self._limits = limits
        self._kept = kept
        self._open: list[_Open] = []
        self.finished: list[_Draft] = []
        # Bytes fed since the parser last reported anything: it is holding one token.
        self.quiet = 0
        # Bytes fed in all, and the count when the outermost open record started.
        self.fed = 0
        self.record_started: int | None = None
        self._records_open = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.quiet = 0
        parent = self._open[-1] if self._open else None
        if parent is not None:
            parent.has_children = True
        self._open.append(self._opened(_local(tag), attrib, parent))

    def _opened(self, name: str, attrib: dict[str, str], parent: _Open | None) -> _Open:
        if name == "record":
            if not self._records_open:
                self.record_started = self.fed
            self._records_open += 1
            return _Open("record", _Draft())
        draft = parent.draft if parent is not None else None
        if draft is None or draft.problem is not None or parent is None:
            return _Open("other", draft)
        if parent.kind == "record" and name in ("controlfield", "datafield"):
            return self._field(name, attrib, draft)
        if parent.kind == "data" and name == "subfield":
            code = attrib.get("code")
            if code is None:
                draft.problem = f"a subfield in field {parent.name} has no code"
                return _Open("other", draft)
            return _Open("subfield", draft, code, parent.data_field, text=[])
        return _Open("other", draft)

    def _field(self, name: str, attrib: dict[str, str], draft: _Draft) -> _Open:
        tag = attrib.get("tag")
        if tag is None:
            draft.problem = f"a {name} has no tag attribute"
            return _Open("other", draft)
        tag = tag.strip().zfill(3) if tag.strip().isdigit() else tag.strip()
        draft.tags.add(tag)
        if tag not in self._kept:
            return _Open("other", draft)
        if name == "controlfield":
            return _Open("control", draft, tag, text=[])
        data_field = DataField(tag, (attrib.get("ind2") or " ")[:1], [])
        draft.data.append(data_field)
        return _Open("data", draft, tag, data_field)

    def data(self, text: str) -> None:
        self.quiet = 0
        if not self._open:
            return
        element = self._open[-1]
        if element.text is None or element.has_children:
            return  # like ElementTree's .text: only what comes before the first child
        element.text_size += len(text)
        if element.text_size > self._limits.field:
            raise CatalogueTooLargeError("field", self._limits.field)
        element.text.append(text)

    def end(self, tag: str) -> None:
        self.quiet = 0
        element = self._open.pop()
        draft = element.draft
        if draft is None or element.kind == "other":
            return
        if element.kind == "control":
            draft.control.setdefault(element.name, "".join(element.text or ()))
        elif element.kind == "subfield" and element.data_field is not None:
            element.data_field.subfields.append((element.name, "".join(element.text or ())))
        elif element.kind == "record":
            self.finished.append(draft)
            self._records_open -= 1
            if not self._records_open:
                self.record_started = None

    def record_size(self) -> int:
        """About how many bytes of the open record have been fed (0 outside records)."""
        return 0 if self.record_started is None else self.fed - self.record_started

    def comment(self, _text: str) -> None:
        self.quiet = 0

    def pi(self, _target: str, _text: str | None = None) -> None:
        self.quiet = 0

    def doctype(self, _name: str, _pubid: str | None, _system: str | None) -> None:
        self.quiet = 0

    def close(self) -> None:
        return None

    def take(self) -> list[_Draft]:
        """The records finished since the last call, in document order."""
        finished, self.finished = self.finished, []
        return finished


def _unimarc(
    number: int, fields: Fields, holdings_map: HoldingsMap | None
) -> BibRecord | RecordProblem:
    for data_field in fields.data:
        for _code, value in data_field.subfields:
            if mojibake(value):
                return RecordProblem(
                    number, f"field {data_field.tag}: the text is garbled (mojibake)"
                )
    return unimarc_record(number, fields, holdings_map)


def _record(
    number: int,
    draft: _Draft,
    *,
    unimarc: bool = False,
    holdings_map: HoldingsMap | None = None,
) -> BibRecord | RecordProblem:
    if draft.problem is not None:
        return RecordProblem(number, draft.problem)
    fields = Fields(draft.tags, draft.control, draft.data)
    if unimarc or ("200" in draft.tags and "245" not in draft.tags):
        return _unimarc(number, fields, holdings_map)
    return bib_record(number, fields)


def _element_draft(element: ET.Element, kept: frozenset[str]) -> _Draft:
    draft = _Draft()
    for child in element:
        kind = _local(child.tag)
        if kind not in ("controlfield", "datafield"):
            continue
        tag = (child.get("tag") or "").strip()
        tag = tag.zfill(3) if tag.isdigit() else tag
        if not tag:
            draft.problem = f"a {kind} has no tag attribute"
            return draft
        draft.tags.add(tag)
        if tag not in kept:
            continue
        if kind == "controlfield":
            draft.control.setdefault(tag, child.text or "")
            continue
        data_field = DataField(tag, (child.get("ind2") or " ")[:1], [])
        for sub in child:
            if _local(sub.tag) != "subfield":
                continue
            code = sub.get("code")
            if code is None:
                draft.problem = f"a subfield in field {tag} has no code"
                return draft
            data_field.subfields.append((code, sub.text or ""))
        draft.data.append(data_field)
    return draft


def read_record_element(
    element: ET.Element,
    number: int = 1,
    *,
    unimarc: bool = False,
    holdings_map: HoldingsMap | None = None,
) -> BibRecord | RecordProblem:
    """One ``record`` element (MARCXML or marcxchange style, any namespace), on its own.

    For records that arrive one at a time (OAI-PMH): read as MARC 21 or, with a 200 and no
    245, as UNIMARC, exactly as in a file; every record as UNIMARC with `unimarc`.
    """
    kept = _KEPT_TAGS if holdings_map is None else _KEPT_TAGS | {holdings_map.tag}
    draft = _element_draft(element, kept)
    return _record(number, draft, unimarc=unimarc, holdings_map=holdings_map)


def read_unimarc_element(
    element: ET.Element, number: int = 1, holdings_map: HoldingsMap | None = None
) -> BibRecord | RecordProblem:
    """One UNIMARC/CNMARC ``record`` element (MARCXML or marcxchange style, any namespace)."""
    return read_record_element(element, number, unimarc=True, holdings_map=holdings_map)


_DTD_REFUSED = "the record declares a DTD or entities, which a MARC record never needs: refused"


class _PrologEnd(Exception):
    """The root element started: the prolog, where a DTD would be, is over."""


def _prolog_ends(_name: str, _attributes: object) -> None:
    raise _PrologEnd


class _DtdFound(Exception):
    """The XML declares a document type (and so, possibly, entities)."""


def _dtd_found(*_args: object) -> None:
    raise _DtdFound


def declared_dtd(payload: bytes) -> bool:
    """Whether serialised XML declares a DTD, read up to its root element's start only.

    Entities (an expansion bomb, an external file) can only be declared there; expat is
    stopped at the declaration, before anything in it is expanded or fetched. XML that breaks
    before its root element is left to the caller's own parse to report.
    """
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _dtd_found
    parser.EntityDeclHandler = _dtd_found
    parser.StartElementHandler = _prolog_ends
    try:
        parser.Parse(payload, True)
    except _DtdFound:
        return True
    except (_PrologEnd, expat.ExpatError):
        return False
    return False


def read_unimarc_xml(
    payload: bytes, number: int = 1, holdings_map: HoldingsMap | None = None
) -> BibRecord | RecordProblem:
    """The first UNIMARC/CNMARC record in serialised XML (an OAI-PMH record's metadata).

    Numbered `number`; a payload without a record, not well-formed, or declaring a DTD (see
    ``declared_dtd``: entities are never expanded) is a problem.
    """
    if declared_dtd(payload):
        return RecordProblem(number, _DTD_REFUSED)
    try:
        root = ET.fromstring(payload)
    except ET.ParseError as exc:
        return RecordProblem(number, f"the XML is not well-formed ({exc})")
    record = root if _local(root.tag) == "record" else None
    if record is None:
        record = next((e for e in root.iter() if _local(e.tag) == "record"), None)
    if record is None:
        return RecordProblem(number, "the record's metadata holds no UNIMARC record")
    return read_unimarc_element(record, number, holdings_map)


def read_marcxml(
    stream: Readable,
    limits: ReadLimits,
    *,
    unimarc: bool = False,
    holdings_map: HoldingsMap | None = None,
) -> Iterator[BibRecord | RecordProblem]:
    """The records of a MARCXML file in document order, numbered from 1.

    Each record is read as MARC 21 or, when it has a 200 and no 245, as UNIMARC; every one
    as UNIMARC with `unimarc`.
    """
    kept = _KEPT_TAGS if holdings_map is None else _KEPT_TAGS | {holdings_map.tag}
    builder = _RecordBuilder(limits, kept)
    parser = ET.XMLParser(target=builder)
    number = 0
    try:
        while block := stream.read(_BLOCK_BYTES):
            builder.quiet += len(block)
            builder.fed += len(block)
            parser.feed(block)
            if builder.quiet > limits.field + _BLOCK_BYTES:
                raise CatalogueTooLargeError("field", limits.field)
            if builder.record_size() > limits.line + _BLOCK_BYTES:
                raise CatalogueTooLargeError("line", limits.line)
            for draft in builder.take():
                number += 1
                yield _record(number, draft, unimarc=unimarc, holdings_map=holdings_map)
        parser.close()
    except ET.ParseError as exc:
        for draft in builder.take():
            number += 1
            yield _record(number, draft, unimarc=unimarc, holdings_map=holdings_map)
        yield RecordProblem(number + 1, f"the XML is not well-formed ({exc}); reading stopped")
        return
    for draft in builder.take():
        number += 1
        yield _record(number, draft, unimarc=unimarc, holdings_map=holdings_map)


class _RootFound(Exception):
    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


class _RootFinder:
    """An XMLParser target that stops at the first start tag."""

    def start(self, tag: str, _attrib: dict[str, str]) -> None:
        raise _RootFound(tag)


def root_element(stream: Readable, limits: ReadLimits) -> str | None:
    """The root element's ``{namespace}name``; None if the XML breaks (or ends) before it.

    Comments, a doctype and processing instructions before it are read past, up to
    ``limits.field`` bytes (CatalogueTooLargeError beyond).
    """
    parser = ET.XMLParser(target=_RootFinder())
    fed = 0
    try:
        while block := stream.read(_BLOCK_BYTES):
            fed += len(block)
            parser.feed(block)
            if fed > limits.field + _BLOCK_BYTES:
                raise CatalogueTooLargeError("field", limits.field)
    except _RootFound as found:
        return found.tag
    except ET.ParseError:
        return None
    return None
