"""MARCXML, streamed with ``xml.etree.ElementTree.iterparse``: records are freed once read.

Namespaces are ignored and the leader is not checked; ``record`` elements are read wherever
they stand. Malformed XML ends reading with a RecordProblem giving the line and column.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from bot.catalogue.fields import USED_TAGS, DataField, Fields, bib_record
from bot.catalogue.records import BibRecord, Readable, RecordProblem

__all__ = ["read_marcxml"]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_record(number: int, element: ET.Element) -> BibRecord | RecordProblem:
    tags: set[str] = set()
    control: dict[str, str] = {}
    data: list[DataField] = []
    for child in element:
        kind = _local(child.tag)
        if kind not in ("controlfield", "datafield"):
            continue
        tag = child.get("tag")
        if tag is None:
            return RecordProblem(number, f"a {kind} has no tag attribute")
        tag = tag.strip().zfill(3) if tag.strip().isdigit() else tag.strip()
        tags.add(tag)
        if tag not in USED_TAGS:
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
        data.append(DataField(tag, (child.get("ind2") or " ")[:1], subfields))
    return bib_record(number, Fields(tags, control, data))


def read_marcxml(stream: Readable) -> Iterator[BibRecord | RecordProblem]:
    """The records of a MARCXML file in document order, numbered from 1."""
    number = 0
    open_elements: list[ET.Element] = []
    try:
        for event, element in ET.iterparse(stream, events=("start", "end")):  # type: ignore[call-overload]
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
