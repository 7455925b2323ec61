"""UNIMARC records for the test repository, made from the shared Library of Congress records.

The Chinese LoC records (MARC 21, with the original script in 880 fields) are served as
MARCXML under ``marc21`` and, converted here record by record, as UNIMARC XML (marcxchange)
under ``unimarc`` and ``cnmarc``, the fields written from the UNIMARC/CNMARC definitions:

* 001 the control number; 010 $a each ISBN (020 $a);
* 100 $a the general processing data, its character set positions 26-29 "50" (ISO 10646,
  read as UTF-8); 101 $a the language (008/35-37);
* 200 $a the title in the original script (the 880 linked to 245, else 245 $a), $A the
  romanised title when there is an original one, $e other title information and $d the
  parallel title (245 $b, as the punctuation ending 245 $a says), $f the statement of
  responsibility;
* 210 $a place, $c publisher, $d date (the 880 linked to 260, else 260);
* 510 $a the parallel title (a 246 whose second indicator is 1: the English title);
* 690 $a the Chinese Library Classification class that matches the record's LC class
  (050), where there is one (the top classes only; see ``_CLC_OF_LCC``);
* 701 $a the first author (in the original script when there is one), $4 relator 070;
* 905 the holdings of ``LIBRARY``: $a the library, $b a barcode made from the 001, $d the
  class number.

A payload that is already UNIMARC (in the marcxchange namespace) is served as it is, which
is how the tests put a broken UNIMARC record in a page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymarc
from lxml import etree

from tests.cnmarc.records import UTF8_SETS, processing_data

MARC_NS = "http://www.loc.gov/MARC21/slim"
UNIMARC_NS = "info:lc/xmlns/marcxchange-v1"
UNIMARC_SCHEMA = "http://www.loc.gov/standards/iso25577/marcxchange-1-1.xsd"
LIBRARY = "CNLIB"
_TRIM = " /:;,.=[]"

# LC class letters -> the CLC top class of the same subject (the longest prefix wins).
_CLC_OF_LCC = {
    "A": "Z",
    "B": "B",
    "D": "K",
    "E": "K",
    "F": "K",
    "G": "K",
    "GE": "X",
    "GR": "K",
    "H": "C",
    "HB": "F",
    "HC": "F",
    "HD": "F",
    "HF": "F",
    "HG": "F",
    "HJ": "F",
    "HX": "A",
    "J": "D",
    "K": "D",
    "L": "G",
    "M": "J",
    "N": "J",
    "P": "H",
    "PN": "I",
    "PL": "H",
    "Q": "N",
    "QA": "O",
    "QC": "O",
    "QD": "O",
    "QE": "P",
    "R": "R",
    "S": "S",
    "T": "T",
    "U": "E",
    "V": "E",
    "Z": "G",
}


def _q(tag: str) -> str:
    return f"{{{MARC_NS}}}{tag}"


def _clean(text: str | None) -> str:
    return " ".join((text or "").split()).strip(_TRIM).strip()


def _fields(root: Any, tag: str) -> list[Any]:
    return list(root.iterfind(f"{_q('datafield')}[@tag='{tag}']"))


def _sub(data_field: Any | None, code: str) -> str:
    if data_field is None:
        return ""
    return _clean(data_field.findtext(f"{_q('subfield')}[@code='{code}']"))


def _original(root: Any, tag: str) -> Any | None:
    """The 880 in the original script linked to the first field ``tag``, else that field."""
    for linked in _fields(root, "880"):
        if _sub(linked, "6").startswith(tag):
            return linked
    found = _fields(root, tag)
    return found[0] if found else None


def clc_class(lc_class: str) -> str | None:
    """The CLC top class for an LC class number, where the table has its letters."""
    letters = "".join(ch for ch in lc_class[:2] if ch.isalpha())
    return _CLC_OF_LCC.get(letters) or _CLC_OF_LCC.get(letters[:1])


def _after_title(title: Any | None) -> list[tuple[str, str]]:
    """200 $e, $d and $f from 245 $b and $c, as the punctuation ending 245 $a says $b is."""
    if title is None:
        return []
    raw_title = (title.findtext(f"{_q('subfield')}[@code='a']") or "").strip()
    remainder, _slash, responsibility = (
        title.findtext(f"{_q('subfield')}[@code='b']") or ""
    ).partition(" / ")
    if raw_title.endswith("/"):
        remainder, responsibility = "", remainder
    code = "d" if raw_title.endswith("=") else "e"
    parts = [(code, _clean(remainder)), ("f", _clean(responsibility) or _sub(title, "c"))]
    return [(code, value) for code, value in parts if value]


def to_unimarc(payload: bytes, library: str = LIBRARY) -> bytes:
    """A MARC 21 MARCXML record as a UNIMARC marcxchange record (see the module docstring)."""
    root = etree.fromstring(payload)
    control = (root.findtext(f"{_q('controlfield')}[@tag='001']") or "").strip()
    fixed = root.findtext(f"{_q('controlfield')}[@tag='008']") or ""
    year = fixed[7:11] if fixed[7:11].isdigit() else "    "
    title = _original(root, "245")
    romanised = _fields(root, "245")
    imprint = _original(root, "260")
    lc_class = _sub(next(iter(_fields(root, "050")), None), "a")
    clc = clc_class(lc_class)
    fields: list[tuple[str, list[tuple[str, str]]]] = [
        *[
            ("010", [("a", isbn.split()[0])])
            for f in _fields(root, "020")
            if (isbn := _sub(f, "a"))
        ],
        ("100", [("a", processing_data(year, UTF8_SETS))]),
        ("101", [("a", fixed[35:38] or "chi")]),
    ]
    heading = [("a", _sub(title, "a")), *_after_title(title)]
    if romanised and title is not None and title.get("tag") == "880":
        heading.append(("A", _sub(romanised[0], "a")))
    fields.append(("200", heading))
    if imprint is not None:
        parts = [("a", _sub(imprint, "a")), ("c", _sub(imprint, "b")), ("d", _sub(imprint, "c"))]
        fields.append(("210", [(code, value) for code, value in parts if value]))
    for variant in _fields(root, "246"):
        if (variant.get("ind2") or "") == "1" and (parallel := _sub(variant, "a")):
            fields.append(("510", [("a", parallel), ("z", "eng")]))
    if clc is not None:
        fields.append(("690", [("a", clc), ("v", "5")]))
    if (author := _sub(_original(root, "100"), "a")) and _fields(root, "100"):
        fields.append(("701", [("a", author), ("4", "070")]))
    holding = [("a", library), ("b", f"{library}-{control}")]
    fields.append(("905", holding + ([("d", clc)] if clc else [])))
    return unimarc_record(control, fields)


def unimarc_record(control: str, fields: list[tuple[str, list[tuple[str, str]]]]) -> bytes:
    """A marcxchange UNIMARC record: a leader, the 001, then each (tag, subfields)."""
    record = etree.Element(f"{{{UNIMARC_NS}}}record", nsmap={None: UNIMARC_NS})
    record.set("format", "UNIMARC")
    etree.SubElement(record, f"{{{UNIMARC_NS}}}leader").text = "00000nam0 2200000   450 "
    etree.SubElement(record, f"{{{UNIMARC_NS}}}controlfield", tag="001").text = control
    for tag, subfields in fields:
        data_field = etree.SubElement(
            record, f"{{{UNIMARC_NS}}}datafield", tag=tag, ind1=" ", ind2=" "
        )
        for code, value in subfields:
            etree.SubElement(data_field, f"{{{UNIMARC_NS}}}subfield", code=code).text = value
    return bytes(etree.tostring(record, encoding="utf-8"))


def write_unimarc(element: Any, payload: bytes) -> None:
    """pyoai's metadata writer for ``unimarc``/``cnmarc``: MARC 21 converted, UNIMARC as is."""
    root = etree.fromstring(payload)
    if etree.QName(root).namespace != UNIMARC_NS:
        root = etree.fromstring(to_unimarc(payload))
    element.append(root)


def chinese_records(path: Path, limit: int) -> list[bytes]:
    """The first ``limit`` Chinese LoC records with an ISBN and an original-script title, each
    as a lone MARCXML record."""
    records: list[bytes] = []
    with path.open("rb") as stream:
        for record in pymarc.MARCReader(stream, to_unicode=True, force_utf8=True):
            if record is None or not record.get_fields("020"):
                continue
            if not any((f.get("6") or "").startswith("245") for f in record.get_fields("880")):
                continue
            records.append(pymarc.record_to_xml(record, namespace=True))  # type: ignore[no-untyped-call]
            if len(records) >= limit:
                break
    return records


def original_retitled(payload: bytes, title: str) -> bytes:
    """The MARC 21 record with the original-script title (880 linked to 245) $a replaced (the
    punctuation ending it kept)."""
    root = etree.fromstring(payload)
    for linked in _fields(root, "880"):
        if _sub(linked, "6").startswith("245"):
            subfield = linked.find(f"{_q('subfield')}[@code='a']")
            assert subfield is not None
            ending = (subfield.text or "").rstrip()[-1:]
            subfield.text = f"{title} {ending}" if ending in _TRIM else title
    return bytes(etree.tostring(root))
