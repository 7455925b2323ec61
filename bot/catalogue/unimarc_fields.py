"""What is read from a CNMARC or UNIMARC record into a BibRecord (the field mapping).

* control number: 001;
* ISBNs: 010 $a (never $z), read with ``search.isbn.find_isbn13``; invalid ones dropped;
* language: the first three-letter code in 101 $a;
* title: 200 $a (several joined with " ; "), then " : " and each $e (other title
  information), then ". " $h and ", " $i (number and name of a part); the non-sorting
  markers of UNIMARC (NSB/NSE) removed; parallel titles (200 $d, 510 $a), variant titles
  (517 $a) and the pinyin many Chinese catalogues give (200 $A, or 200 $9) are kept as
  variant titles, which search reads too;
* authors: 700, 701, 710, 711 (primary and alternative responsibility), then 702 and 712
  (secondary), each "$a, $b" for a person (UNIMARC splits surname and forename) and "$a. $b"
  for a body; dates and relator codes ($4) are not part of the name; without any 7XX, the
  statement of responsibility 200 $f is used;
* subjects: $a of 600, 601, 605, 606 and 607, de-duplicated;
* year: the first four-digit year in 210 $d (else 214 $d), else 100 $a/09-12;
* publisher: 210 $c (else 214 $c), brackets removed; edition 205 $a; series 225 $a;
* summary: the first 330 $a;
* uniform title, other titles and the original's author (500, 454, 453, 451, 452, 532):
  see ``bot.catalogue.unimarc_editions``;
* CLC: 690 $a (the Chinese Library Classification number), and 686 $a whose $2 says clc;
* work key: ``work_key(title, first author)``, as for MARC 21 (whose title is 245 $a $b $n
  $p), so one book catalogued in both formats merges into one work;
* holdings: each 905 (the CNMARC holdings field: $a library code, $b accession number or
  barcode, $d class number and $e book number joined by "/" as the call number, $f how many
  copies when there is no barcode); each 906 read alike; and each Koha UNIMARC item, 995
  ($b home library, else $c; $f barcode; $k call number);
* item status: a Koha 995 is on loan with a due date in $n, not for loan with a $o other
  than 0, else available; a 905/906 says it in words in $s where the library's system
  exports one ("lost"/"丢失"/"遗失", "not for loan"/"不外借"/"阅览", "on loan"/"借出" with
  the due date in $n); without $s its status is not known and a copy keeps its own.

The character set of an ISO 2709 record is the reader's business (``unimarc``); this module
sees Unicode text only.
"""

from __future__ import annotations

import re
from datetime import date

from bot.catalogue.fields import DataField, Fields
from bot.catalogue.holdings_map import HoldingsMap
from bot.catalogue.keys import work_key
from bot.catalogue.records import BibRecord, Holding, HoldingStatus, RecordProblem
from bot.catalogue.text import nfc, trim, trim_name, unbracket, unique
from bot.catalogue.unimarc_editions import (
    UNIMARC_EDITION_TAGS,
    original_author,
    other_titles,
    uniform_title,
)
from search.isbn import find_isbn13

__all__ = ["UNIMARC_TAGS", "unimarc_record"]

_PERSON_TAGS = ("700", "701", "702")
_PRIMARY_NAME_TAGS = ("700", "701", "710", "711")
_SECONDARY_NAME_TAGS = ("702", "712")
_SUBJECT_TAGS = ("600", "601", "605", "606", "607")
_HOLDING_TAGS = ("905", "906", "995")
# Fields the readers decode; the others are skipped unread.
UNIMARC_TAGS = frozenset(
    {"001", "010", "100", "101", "200", "205", "210", "214", "225", "330", "510", "517"}
    | {"686", "690"}
    | set(_SUBJECT_TAGS)
    | set(_PRIMARY_NAME_TAGS)
    | set(_SECONDARY_NAME_TAGS)
    | set(_HOLDING_TAGS)
    | UNIMARC_EDITION_TAGS
)
# UNIMARC's non-sorting markers (NSB/NSE) and their ISO 6630 equivalents.
_NON_SORTING = re.compile("[\x88\x89\x98\x9c]")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_LANGUAGE = re.compile(r"[a-z]{3}")
_DUE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_LOST = frozenset({"lost", "missing", "withdrawn", "丢失", "遗失", "剔除", "注销"})
_ON_LOAN = frozenset({"on loan", "checked out", "借出", "外借", "已借出"})
_NOT_FOR_LOAN = frozenset({"not for loan", "reference", "不外借", "阅览", "馆内阅览"})


def _clean(text: str) -> str:
    return nfc(_NON_SORTING.sub("", text))


def _value(text: str | None) -> str | None:
    cleaned = _clean(trim(text or ""))
    return cleaned or None


def _title(title_field: DataField) -> str:
    main = " ; ".join(value for value in (_value(v) for v in title_field.values("a")) if value)
    for other in title_field.values("e"):
        if cleaned := _value(other):
            main = f"{main} : {cleaned}" if main else cleaned
    part = ", ".join(value for value in (_value(v) for v in title_field.values("hi")) if value)
    if part:
        main = f"{main}. {part}" if main else part
    return main


def _variant_titles(fields: Fields) -> tuple[str, ...]:
    values: list[str | None] = []
    for title_field in fields.all("200"):
        values.extend(_value(v) for v in title_field.values("dA9"))
    for variant in fields.all("510", "517"):
        values.extend(_value(v) for v in variant.values("a"))
    return unique(value for value in values if value)


def _name(name_field: DataField) -> str | None:
    surname = _value(name_field.first("a"))
    if surname is None:
        return None
    rest = _value(name_field.first("b"))
    if name_field.tag in _PERSON_TAGS:
        name = f"{surname}, {rest.lstrip(', ')}" if rest else surname
        return _clean(trim_name(name))
    return _clean(trim(f"{surname}. {rest}" if rest else surname))


def _authors(fields: Fields) -> tuple[str, ...]:
    names = [_name(f) for f in fields.all(*_PRIMARY_NAME_TAGS)]
    names += [_name(f) for f in fields.all(*_SECONDARY_NAME_TAGS)]
    found = unique(name for name in names if name)
    if found:
        return found
    statements = (v for title in fields.all("200") for v in title.values("f"))
    return unique(_clean(trim(value)) for value in statements)


def _language(fields: Fields) -> str | None:
    for language_field in fields.all("101"):
        for value in language_field.values("a"):
            code = value.strip()[:3].lower()
            if _LANGUAGE.fullmatch(code):
                return code
    return None


def _processing_data(fields: Fields) -> str:
    return next((f.first("a") or "" for f in fields.all("100")), "")


def _year(fields: Fields) -> int | None:
    for imprint in [*fields.all("210"), *fields.all("214")]:
        for value in imprint.values("d"):
            for match in _YEAR.finditer(value):
                if 1000 <= (year := int(match.group(1))) <= 2100:
                    return year
    coded = _processing_data(fields)[9:13]
    if coded.isdigit() and 1000 <= int(coded) <= 2100:
        return int(coded)
    return None


def _publisher(fields: Fields) -> str | None:
    for imprint in [*fields.all("210"), *fields.all("214")]:
        for value in imprint.values("c"):
            if publisher := _clean(unbracket(trim(value))):
                return publisher
    return None


def _first(fields: Fields, tag: str, code: str = "a") -> str | None:
    return next((v for f in fields.all(tag) if (v := _value(f.first(code)))), None)


def _clc_numbers(fields: Fields) -> tuple[str, ...]:
    numbers = [_value(v) for f in fields.all("690") for v in f.values("a")]
    numbers += [
        _value(v)
        for f in fields.all("686")
        if (f.first("2") or "").strip().lower().startswith("clc")
        for v in f.values("a")
    ]
    return unique(number.upper() for number in numbers if number)


def _due(text: str | None) -> date | None:
    match = _DUE.search(text or "")
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _status(item: DataField) -> tuple[HoldingStatus | None, date | None]:
    """An item's status: Koha's 995 ($o not for loan, $n due date), a 905/906 $s word."""
    if item.tag == "995":
        due = _due(item.first("n"))
        if due is not None:
            return "on_loan", due
        flag = (item.first("o") or "").strip()
        return ("not_for_loan" if flag not in ("", "0") else "available"), None
    word = (item.first("s") or "").strip().lower()
    if word in _LOST:
        return "lost", None
    if word in _NOT_FOR_LOAN:
        return "not_for_loan", None
    if word in _ON_LOAN:
        return "on_loan", _due(item.first("n"))
    return None, None


def _holding(item: DataField) -> Holding | None:
    if item.tag == "995":
        library = _value(item.first("b") or item.first("c"))
        barcode, call_number = _value(item.first("f")), _value(item.first("k"))
        copies = 1
    else:
        library, barcode = _value(item.first("a")), _value(item.first("b"))
        parts = [_value(item.first("d")), _value(item.first("e"))]
        call_number = "/".join(part for part in parts if part) or None
        count = (item.first("f") or "").strip()
        copies = int(count) if count.isdigit() and barcode is None else 1
    if not any((library, barcode, call_number)):
        return None
    status, due = _status(item)
    return Holding(library, barcode, call_number, max(1, min(copies, 100)), status, due)


def _mapped_holding(item: DataField, mapping: HoldingsMap) -> Holding | None:
    """A holding read as the library's own mapping says (see ``holdings_map``)."""
    library = _value(item.first(mapping.library)) if mapping.library else None
    barcode = _value(item.first(mapping.barcode)) if mapping.barcode else None
    parts = (_value(item.first(code)) for code in mapping.call)
    call_number = "/".join(part for part in parts if part) or None
    if not any((library, barcode, call_number)):
        return None
    count = (item.first(mapping.copies) or "").strip() if mapping.copies else ""
    copies = int(count) if count.isdigit() and barcode is None else 1
    word = (item.first(mapping.status) or "").strip().lower() if mapping.status else ""
    due = _due(item.first(mapping.due)) if mapping.due else None
    status: HoldingStatus | None = None
    if word in _LOST:
        status = "lost"
    elif word in _NOT_FOR_LOAN:
        status = "not_for_loan"
    elif word in _ON_LOAN or due is not None:
        status = "on_loan"
    return Holding(library, barcode, call_number, max(1, min(copies, 100)), status, due)


def _holdings(fields: Fields, mapping: HoldingsMap | None) -> tuple[Holding, ...]:
    tags = _HOLDING_TAGS if mapping is None else (*_HOLDING_TAGS, mapping.tag)
    holdings = (
        _mapped_holding(item, mapping)
        if mapping is not None and item.tag == mapping.tag
        else _holding(item)
        for item in fields.all(*dict.fromkeys(tags))
    )
    return tuple(holding for holding in holdings if holding is not None)


def unimarc_record(
    number: int, fields: Fields, holdings_map: HoldingsMap | None = None
) -> BibRecord | RecordProblem:
    """Build a BibRecord from a CNMARC/UNIMARC record, or say why it is not usable.

    ``holdings_map``: the library's own holdings field, read instead of the standard one.
    """
    title_fields = fields.all("200")
    title = _title(title_fields[0]) if title_fields else ""
    if not title:
        return RecordProblem(number, "no title (200 $a)")
    authors = _authors(fields)
    isbns = (find_isbn13(value) for f in fields.all("010") for value in f.values("a"))
    summary = next((v for note in fields.all("330") if (v := _value(note.first("a")))), None)
    control = (fields.control.get("001") or "").strip()
    variant_titles = _variant_titles(fields)
    return BibRecord(
        record_number=number,
        control_number=nfc(control) or None,
        title=title,
        original_title=None,
        authors=authors,
        original_authors=(),
        subjects=unique(
            _clean(trim(value)) for f in fields.all(*_SUBJECT_TAGS) for value in f.values("a")
        ),
        language=_language(fields),
        year=_year(fields),
        publisher=_publisher(fields),
        isbns=unique(isbn for isbn in isbns if isbn),
        summary=summary,
        holdings=_holdings(fields, holdings_map),
        work_key=work_key(title, authors[0] if authors else None),
        variant_titles=variant_titles,
        clc_numbers=_clc_numbers(fields),
        edition=_first(fields, "205"),
        series=_first(fields, "225"),
        uniform_title=uniform_title(fields),
        other_titles=other_titles(fields, (title, *variant_titles)),
        uniform_author=original_author(fields),
    )
