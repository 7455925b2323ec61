"""A record made ready to write: its work's values, its keys, and the copies it brings."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from bot.catalogue.editions import MAX_OTHER_TITLES, family_key
from bot.catalogue.records import BibRecord, Holding, HoldingStatus, RecordProblem
from bot.models import ItemStatus, Library

__all__ = [
    "LIST_FIELDS",
    "WORK_FIELDS",
    "PlannedCopy",
    "PlannedRecord",
    "copy_barcode",
    "plan_record",
    "record_fingerprint",
    "record_key",
]

_TITLE_MAX = 1000
_PUBLISHER_MAX = 300
_LANGUAGE_MAX = 8
_KEY_MAX = 255
_BARCODE_MAX = 64
_CALL_NUMBER_MAX = 100
_CLC_MAX = 40
_SERIES_MAX = 500
_SAFE_KEY = re.compile(r"[A-Za-z0-9._-]{1,24}")

WORK_FIELDS = (
    "title",
    "original_title",
    "authors",
    "original_authors",
    "subjects",
    "language",
    "year",
    "publisher",
    "summary",
    "variant_titles",
    "clc_numbers",
    "edition",
    "series",
    "other_titles",
    "family_key",
)
# The list-valued ones.
LIST_FIELDS = (
    "authors",
    "original_authors",
    "subjects",
    "variant_titles",
    "clc_numbers",
    "other_titles",
)


def _clean(text: str | None, limit: int | None = None) -> str | None:
    if text is None:
        return None
    text = text.replace("\x00", "").strip()
    if limit is not None:
        text = text[:limit].rstrip()
    return text or None


def _clean_list(values: Iterable[str]) -> list[str]:
    return [value for value in (_clean(v) for v in values) if value]


def record_fingerprint(record: BibRecord) -> str:
    """A hash of a record's bibliographic fields (not its holdings).

    The fields only UNIMARC records have count only when present, so a MARC 21 record's
    hash is what it was before they were read.
    """
    extras = [
        list(record.variant_titles),
        list(record.clc_numbers),
        record.edition,
        record.series,
    ]
    payload = json.dumps(
        [
            record.title,
            record.original_title,
            list(record.authors),
            list(record.original_authors),
            list(record.subjects),
            record.language,
            record.year,
            record.publisher,
            record.summary,
            list(record.isbns),
            record.work_key,
            *([extras] if any(extras) else []),
            record.uniform_title,
            list(record.other_titles),
            *([record.uniform_author] if record.uniform_author else []),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def record_key(record: BibRecord) -> str:
    """What names a record in a library's file: control number, else first ISBN, else a hash."""
    control = (record.control_number or "").strip()
    if control and _SAFE_KEY.fullmatch(control):
        return control
    if not control and record.isbns:
        return record.isbns[0]
    basis = control or record.work_key
    return hashlib.blake2b(basis.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def copy_barcode(library_code: str, record: BibRecord, number: int) -> str:
    """The generated barcode of a record's ``number``-th copy (1-based) at a library."""
    return f"{library_code}-{record_key(record)}-{number}"[:_BARCODE_MAX]


def _work_values(record: BibRecord) -> dict[str, Any]:
    return {
        "title": _clean(record.title, _TITLE_MAX) or "?",
        "original_title": _clean(record.original_title, _TITLE_MAX),
        "authors": _clean_list(record.authors),
        "original_authors": _clean_list(record.original_authors),
        "subjects": _clean_list(record.subjects),
        "language": _clean(record.language, _LANGUAGE_MAX),
        "year": record.year if record.year is not None and 0 <= record.year <= 2999 else None,
        "publisher": _clean(record.publisher, _PUBLISHER_MAX),
        "summary": _clean(record.summary),
        "variant_titles": [value[:_TITLE_MAX] for value in _clean_list(record.variant_titles)],
        "clc_numbers": [value[:_CLC_MAX] for value in _clean_list(record.clc_numbers)],
        "edition": _clean(record.edition, _PUBLISHER_MAX),
        "series": _clean(record.series, _SERIES_MAX),
        "other_titles": [
            title[:_TITLE_MAX] for title in _clean_list(record.other_titles[:MAX_OTHER_TITLES])
        ],
        "family_key": _clean(
            family_key(
                record.title,
                record.uniform_title,
                record.uniform_author or (record.authors[0] if record.authors else None),
            ),
            _KEY_MAX,
        ),
    }


# Exported item statuses as copies take them; HELD and IN_TRANSIT belong to the holds rules.
EXPORTED_STATUSES: dict[HoldingStatus, ItemStatus] = {
    "available": ItemStatus.AVAILABLE,
    "lost": ItemStatus.MISSING,
    "not_for_loan": ItemStatus.NOT_FOR_LOAN,
    "on_loan": ItemStatus.ON_LOAN,
}


@dataclass
class PlannedCopy:
    """A copy a record brings: its barcode, call number and the status its export gives.

    ``status`` None: the export says nothing of it (a new copy is available, a known one
    keeps its status); ``due_at`` goes with ON_LOAN.
    """

    barcode: str
    call_number: str | None
    status: ItemStatus | None = None
    due_at: datetime | None = None


def _exported(holding: Holding) -> tuple[ItemStatus | None, datetime | None]:
    if holding.status is None:
        return None, None
    status = EXPORTED_STATUSES[holding.status]
    due = holding.due if status is ItemStatus.ON_LOAN else None
    # Due at the end of the day it names.
    due_at = datetime.combine(due, time(23, 59), tzinfo=UTC) if due is not None else None
    return status, due_at


@dataclass
class PlannedRecord:
    """A good record with what the batch writer needs."""

    record: BibRecord
    values: dict[str, Any]
    key: str
    fingerprint: str
    copies: list[PlannedCopy]


def _planned_copies(
    record: BibRecord, library: Library, member_codes: dict[str, str], problems: list[RecordProblem]
) -> list[PlannedCopy]:
    """The copies of a record's holdings that belong to the importing library."""
    number = record.record_number
    planned: list[PlannedCopy] = []
    generated = 0
    own = library.code.casefold()
    for holding in record.holdings:
        code = (holding.library_code or "").strip()
        other = member_codes.get(code.casefold())
        if other is not None and code.casefold() != own:
            problems.append(
                RecordProblem(
                    number,
                    f"a holding for library {other} was skipped: import that library's "
                    f"own file with its code",
                )
            )
            continue
        call_number = _clean(holding.call_number, _CALL_NUMBER_MAX)
        barcode = _clean(holding.barcode)
        if barcode is not None:
            if len(barcode) > _BARCODE_MAX:
                problems.append(
                    RecordProblem(number, f"barcode {barcode[:20]}… is longer than 64 characters")
                )
                continue
            planned.append(PlannedCopy(barcode, call_number, *_exported(holding)))
            continue
        for _ in range(max(1, holding.copies)):
            generated += 1
            barcode = copy_barcode(library.code, record, generated)
            planned.append(PlannedCopy(barcode, call_number, *_exported(holding)))
    return planned


def plan_record(
    record: BibRecord,
    library: Library,
    member_codes: dict[str, str],
    copies: int,
    problems: list[RecordProblem],
) -> PlannedRecord:
    """What to write for a good record; what is left out of it is added to `problems`."""
    number = record.record_number
    problems.extend(RecordProblem(number, warning) for warning in record.warnings)
    planned = _planned_copies(record, library, member_codes, problems)
    if not record.holdings:
        planned = [
            PlannedCopy(copy_barcode(library.code, record, n), None) for n in range(1, copies + 1)
        ]
    values = _work_values(record)
    if record.year is not None and values["year"] is None:
        problems.append(RecordProblem(number, f"year {record.year} is out of range; left out"))
    return PlannedRecord(
        record=record,
        values=values,
        key=record.work_key[:_KEY_MAX],
        fingerprint=f"{library.id}:{record_fingerprint(record)}",
        copies=planned,
    )
