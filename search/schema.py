"""Whoosh schema of the catalogue index and the mapping from WorkDocument to its fields."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, Schema

from search.analysis import (
    ANALYSIS_VERSION,
    WeightedText,
    contains_han,
)
from search.documents import WorkDocument
from search.writing import TitleKeyField, Titles, WeightedTextField

# Bump when fields change; stored fingerprints include it.
SCHEMA_VERSION = 4

# Weights of the parts of a record in the "text" and "pinyin" fields. They are token
# boosts stored in the postings, so one term lookup per query word both matches and ranks:
# a title match outranks an author match, which outranks a subject or publisher match.
TITLE_WEIGHT = 3.0
AUTHOR_WEIGHT = 2.0
SUBJECT_WEIGHT = 0.8
PUBLISHER_WEIGHT = 0.4
# A work's other titles (parallel, uniform) and its other editions' and translations' titles.
OTHER_TITLE_WEIGHT = 1.5
RELATED_TITLE_WEIGHT = 1.0


def build_schema() -> Schema:
    """Return the catalogue schema."""
    return Schema(
        work_id=ID(stored=True, unique=True),
        fingerprint=STORED(),
        # Title, original-script title, authors (both scripts), subjects and publisher.
        text=WeightedTextField("text"),
        pinyin=WeightedTextField("pinyin"),
        # Whole titles, folded, for exact-title matches ("It", "The Hobbit", "红楼梦").
        title_key=TitleKeyField(),
        # Unstemmed Latin words of titles and authors: the "did you mean" vocabulary.
        spelling=WeightedTextField("spelling"),
        isbn=KEYWORD(lowercase=False, scorable=False),
        language=ID(),
        # Years are only matched exactly: one term per work, not Whoosh's eight range tiers.
        year=NUMERIC(numtype=int, bits=32, shift_step=0),
        library=KEYWORD(lowercase=False, scorable=False),
        # Top classes (A-Z) of the Chinese Library Classification numbers, a filter.
        clc=KEYWORD(lowercase=False, scorable=False),
    )


def clc_classes(numbers: tuple[str, ...] | list[str]) -> list[str]:
    """The top classes (one capital letter each) of Chinese Library Classification numbers."""
    letters = (number.strip()[:1].upper() for number in numbers)
    return list(dict.fromkeys(letter for letter in letters if "A" <= letter <= "Z"))


def library_term(code: str) -> str:
    """The indexed form of a library code (whitespace inside a code becomes "_")."""
    return "_".join(code.split())


def _unique(values: list[str | None]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def document_fields(doc: WorkDocument) -> dict[str, Any]:
    """Return the Whoosh field values for a work, fingerprint included."""
    titles = _unique([doc.title, doc.original_title, *doc.variant_titles])
    authors = _unique([*doc.authors, *doc.original_authors])
    other = [title for title in _unique(list(doc.other_titles)) if title not in titles]
    related = [
        title for title in _unique(list(doc.related_titles)) if title not in {*titles, *other}
    ]
    alike = [
        *((OTHER_TITLE_WEIGHT, title) for title in other),
        *((RELATED_TITLE_WEIGHT, title) for title in related),
    ]
    parts: list[tuple[float, str]] = [
        *((TITLE_WEIGHT, title) for title in titles),
        *((AUTHOR_WEIGHT, author) for author in authors),
        *((SUBJECT_WEIGHT, subject) for subject in _unique(list(doc.subjects))),
        *((PUBLISHER_WEIGHT, publisher) for publisher in _unique([doc.publisher])),
        *alike,
    ]
    names = parts[: len(titles) + len(authors)]
    fields: dict[str, Any] = {
        "work_id": str(doc.work_id),
        "text": WeightedText(parts),
        "pinyin": WeightedText(
            (weight, part) for weight, part in [*names, *alike] if contains_han(part)
        ),
        "title_key": Titles(tuple(titles)),
        "spelling": WeightedText((1.0, part) for _, part in names),
        "isbn": " ".join(_unique([isbn.replace("-", "").upper() for isbn in doc.isbns])),
        "language": (doc.language or "").strip().lower(),
        "library": " ".join(_unique([library_term(code) for code in doc.library_codes])),
        "clc": " ".join(clc_classes(doc.clc_numbers)),
    }
    fields = {name: value for name, value in fields.items() if value}
    if doc.year is not None and -(2**31) < doc.year < 2**31:
        fields["year"] = doc.year
    fields["fingerprint"] = fingerprint(doc)
    return fields


def fingerprint(doc: WorkDocument) -> str:
    """Hash of everything the index holds of a work, so an unchanged work is not rewritten."""
    indexed = dataclasses.replace(doc, summary=None)
    payload = repr((ANALYSIS_VERSION, SCHEMA_VERSION, indexed))
    return hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
