"""Reads Library of Congress MARC records into WorkDocuments for search tests."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import isbnlib
import pymarc

from search.documents import WorkDocument

SHARED_DATA = Path(
    os.environ.get("BOOKBRIDGE_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
)
MARC_DIR = SHARED_DATA / "marc"
ENGLISH_MARCXML = MARC_DIR / "loc-books-first1000.marcxml"
CHINESE_MRC = MARC_DIR / "loc-books-chinese-8030.mrc"
LIBRARIES = ("PKU", "THU", "NLC", "CPL", "HDL")

_TRAILING = " /:;,.=[]"


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(_TRAILING).strip()


def _subfields(field: pymarc.Field, codes: str) -> str:
    return _clean(" ".join(value for code, value in _pairs(field) if code in codes))


def _pairs(field: pymarc.Field) -> list[tuple[str, str]]:
    return [(sub.code, sub.value) for sub in field.subfields]


def _linked(record: pymarc.Record, tag: str) -> list[pymarc.Field]:
    """880 fields whose $6 links them to the given tag (original script)."""
    return [f for f in record.get_fields("880") if (f.get("6") or "").startswith(tag)]


def _isbn13(raw: str) -> str | None:
    candidate = isbnlib.get_canonical_isbn(raw.split(" ")[0]) if raw else None
    if not candidate:
        return None
    return str(isbnlib.to_isbn13(candidate)) or None


def _year(text: str) -> int | None:
    match = re.search(r"(1[5-9]|20)\d\d", text)
    return int(match.group(0)) if match else None


def to_document(record: pymarc.Record, work_id: int) -> WorkDocument | None:
    """Map one MARC record to a WorkDocument (None if it has no title)."""
    title_fields = record.get_fields("245")
    if not title_fields:
        return None
    title = _subfields(title_fields[0], "ab")
    if not title:
        return None
    original = [_subfields(f, "ab") for f in _linked(record, "245")]
    authors = tuple(a for f in record.get_fields("100", "700") if (a := _subfields(f, "a")))
    original_authors = tuple(
        a for tag in ("100", "700") for f in _linked(record, tag) if (a := _subfields(f, "a"))
    )
    isbns = tuple(
        dict.fromkeys(i for f in record.get_fields("020") for i in [_isbn13(f.get("a") or "")] if i)
    )
    fixed = record.get_fields("008")
    fixed_data = (fixed[0].data or "") if fixed else ""
    language = fixed_data[35:38].strip()
    imprint = record.get_fields("260", "264")
    publisher = _subfields(imprint[0], "b") if imprint else ""
    year = _year(imprint[0].get("c") or "") if imprint else None
    subjects = tuple(s for f in record.get_fields("650") if (s := _subfields(f, "a")))
    libraries = tuple(code for i, code in enumerate(LIBRARIES) if (work_id + i) % 3 == 0) or (
        LIBRARIES[work_id % len(LIBRARIES)],
    )
    return WorkDocument(
        work_id=work_id,
        title=title,
        original_title=original[0] if original and original[0] else None,
        authors=authors,
        original_authors=original_authors,
        subjects=subjects,
        publisher=publisher or None,
        isbns=isbns,
        language=language or None,
        year=year,
        library_codes=libraries,
    )


def _records(path: Path) -> Iterator[pymarc.Record | None]:
    if path.suffix == ".marcxml":
        yield from pymarc.parse_xml_to_array(str(path))  # type: ignore[no-untyped-call]
        return
    with open(path, "rb") as handle:
        yield from pymarc.MARCReader(handle, to_unicode=True, force_utf8=True)


def read_marc(path: Path, first_id: int) -> Iterator[WorkDocument]:
    """Yield WorkDocuments from a binary MARC (.mrc) or MARCXML file, numbered from first_id."""
    for offset, record in enumerate(_records(path)):
        if record is not None and (doc := to_document(record, first_id + offset)) is not None:
            yield doc
