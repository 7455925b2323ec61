"""The record view MARC 21 and MARCXML share, and what is read from it into a BibRecord.

* control number: 001, else 010 $a (spaces trimmed);
* title: 245 $a $b $n $p in field order, stopping after a subfield that ends with "/"
  (what follows is a statement of responsibility) and cut at " / "; trailing ISBD
  punctuation (" /", " :", " ;", " =", ",", ".") trimmed, a final "." kept after an
  initial or a common abbreviation; original_title: the same from the 880 whose $6
  starts with "245-";
* authors: $a of 100, 110, 111, then 700 and 710, trailing punctuation trimmed,
  dates trimmed from personal names, duplicates dropped; original_authors: the same
  from 880s linked to those tags;
* subjects: $a of 600, 650 and 651 in field order, de-duplicated;
* language: 008/35-37 when it is three letters, else the first code in 041 $a;
* year: 008/07-10 when it is a year from 1000 to 2100, else the first four-digit
  number in 264 $c (second indicator 1 first) or 260 $c;
* publisher: 264 $b (second indicator 1 first), else 260 $b, trimmed, with
  unbalanced or enclosing square brackets removed;
* ISBNs: 020 $a (never $z), read with ``search.isbn.find_isbn13``; invalid ones dropped;
* summary: the first 520 $a;
* work_key: ``work_key(original_title, first original author, else first author)``
  when the record has an original-script title (so a Chinese library's 红楼梦 meets
  the Library of Congress record whose 880 says 紅樓夢), else
  ``work_key(title, first author)``;
* uniform_title and other_titles: see ``bot.catalogue.editions`` (240/130, 246, 500,
  765/767/775);
* holdings: each 852 ($b library code, else $a; $h and $i joined as the call number;
  $p barcode) and each 952, or 949 that has $o or $p, read as a Koha item ($a home
  branch, else $b holding branch; $o call number; $p barcode). MARC holdings always
  count one copy: 852 $t and 952 $t are copy *numbers*, not counts. A Koha 952 also
  says the copy's status: $1 (lost) other than 0: lost; else $7 (not for loan) other
  than 0: not for loan; else a due date in $q: on loan until then; else available.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from bot.catalogue.editions import EDITION_TAGS, other_titles, uniform_title
from bot.catalogue.keys import work_key
from bot.catalogue.records import BibRecord, Holding, HoldingStatus, RecordProblem
from bot.catalogue.text import nfc, trim, trim_name, unbracket, unique
from search.isbn import find_isbn13

__all__ = ["LINKED_TAGS", "USED_TAGS", "DataField", "Fields", "bib_record", "koha_status"]

AUTHOR_TAGS = ("100", "110", "111", "700", "710")
_PERSONAL_TAGS = frozenset({"100", "700"})
LINKED_TAGS = ("245", *AUTHOR_TAGS, "240", "130", "246")
# Fields the readers decode; the others are skipped unread.
USED_TAGS = frozenset(
    {"001", "008", "010", "020", "041", "245", "260", "264", "520", "600", "650", "651"}
    | {"852", "880", "949", "952"}
    | set(AUTHOR_TAGS)
    | EDITION_TAGS
)
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_LANGUAGE = re.compile(r"[a-z]{3}")


class DataField(NamedTuple):
    """A data field: its tag, second indicator and (code, value) subfields in order."""

    tag: str
    ind2: str
    subfields: list[tuple[str, str]]

    def values(self, codes: str) -> list[str]:
        """The values of the subfields whose code is one of `codes`."""
        return [value for code, value in self.subfields if code in codes]

    def first(self, codes: str) -> str | None:
        """The first value of a subfield whose code is one of `codes`."""
        return next((value for code, value in self.subfields if code in codes), None)


@dataclass
class Fields:
    """A record's tags, control fields (first of each tag) and used data fields, in order."""

    tags: set[str]
    control: dict[str, str]
    data: list[DataField]
    _by_tag: dict[str, list[DataField]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_tag = {}
        for data_field in self.data:
            self._by_tag.setdefault(data_field.tag, []).append(data_field)

    def all(self, *tags: str) -> list[DataField]:
        """The fields with one of `tags`, in record order."""
        if len(tags) == 1:
            return self._by_tag.get(tags[0], [])
        if sum(tag in self._by_tag for tag in tags) <= 1:
            return next((self._by_tag[tag] for tag in tags if tag in self._by_tag), [])
        return [data_field for data_field in self.data if data_field.tag in tags]

    def linked(self, *tags: str) -> list[DataField]:
        """880 fields whose $6 links them to one of `tags`, in the order of `tags`."""
        found = [
            (tags.index(link[:3]), data_field)
            for data_field in self.all("880")
            if (link := data_field.first("6") or "")[:3] in tags and link[3:4] == "-"
        ]
        return [data_field for _, data_field in sorted(found, key=lambda pair: pair[0])]


def _title(title_field: DataField) -> str:
    parts: list[str] = []
    for code, value in title_field.subfields:
        if code == "c":
            break
        if code in "abnp" and value.strip():
            parts.append(value.strip())
            if value.rstrip().endswith("/"):
                break
    return trim(re.split(r"\s/\s", " ".join(parts), maxsplit=1)[0])


def _names(fields: list[DataField]) -> tuple[str, ...]:
    names: list[str] = []
    for name_field in fields:
        tag = (name_field.first("6") or "")[:3] if name_field.tag == "880" else name_field.tag
        names.extend(
            nfc(trim_name(value, personal=tag in _PERSONAL_TAGS))
            for value in name_field.values("a")
        )
    return unique(names)


def _language(fields: Fields) -> str | None:
    code = fields.control.get("008", "")[35:38].lower()
    if _LANGUAGE.fullmatch(code):
        return code
    for language_field in fields.all("041"):
        for value in language_field.values("a"):
            code = value.strip()[:3].lower()
            if _LANGUAGE.fullmatch(code):
                return code
    return None


def _plausible_year(text: str) -> int | None:
    year = int(text) if text.isdigit() and len(text) == 4 else 0
    return year if 1000 <= year <= 2100 else None


def _imprints(fields: Fields) -> list[DataField]:
    published = [imprint for imprint in fields.all("264") if imprint.ind2 == "1"]
    others = [imprint for imprint in fields.all("264") if imprint.ind2 != "1"]
    return published + fields.all("260") + others


def _year(fields: Fields) -> int | None:
    year = _plausible_year(fields.control.get("008", "")[7:11])
    if year is not None:
        return year
    for imprint in _imprints(fields):
        for value in imprint.values("c"):
            for match in _YEAR.finditer(value):
                year = _plausible_year(match.group(1))
                if year is not None:
                    return year
    return None


def _publisher(fields: Fields) -> str | None:
    for imprint in _imprints(fields):
        for value in imprint.values("b"):
            publisher = nfc(unbracket(trim(value)))
            if publisher:
                return publisher
    return None


def _holding(library: str | None, barcode: str | None, call_number: str | None) -> Holding | None:
    values = [nfc(value) if value else None for value in (library, barcode, call_number)]
    cleaned = [value or None for value in values]
    if not any(cleaned):
        return None
    return Holding(library_code=cleaned[0], barcode=cleaned[1], call_number=cleaned[2])


def _flag(value: str | None) -> bool:
    return (value or "").strip() not in ("", "0")


def koha_status(item: DataField) -> tuple[HoldingStatus, date | None]:
    """A Koha 952's status: $1 lost, $7 not for loan, $q due date (on loan)."""
    if _flag(item.first("1")):
        return "lost", None
    if _flag(item.first("7")):
        return "not_for_loan", None
    match = _DATE.search(item.first("q") or "")
    if match is not None:
        with contextlib.suppress(ValueError):
            return "on_loan", date(*(int(part) for part in match.groups()))
    return "available", None


def _holdings(fields: Fields) -> tuple[Holding, ...]:
    holdings: list[Holding | None] = []
    for item in fields.all("852", "949", "952"):
        if item.tag == "852":
            call_number = " ".join(value.strip() for value in item.values("hi"))
            library = item.first("b") or item.first("a")
            holdings.append(_holding(library, item.first("p"), call_number))
        elif item.tag == "952":
            library = item.first("a") or item.first("b")
            holding = _holding(library, item.first("p"), item.first("o"))
            if holding is not None:
                status, due = koha_status(item)
                holding = dataclasses.replace(holding, status=status, due=due)
            holdings.append(holding)
        elif item.first("op") is not None:
            library = item.first("a") or item.first("b")
            holdings.append(_holding(library, item.first("p"), item.first("o")))
    return tuple(holding for holding in holdings if holding is not None)


def _control_number(fields: Fields) -> str | None:
    control_number = fields.control.get("001", "").strip() or None
    if control_number is None:
        lccn = next((lccn_field.first("a") for lccn_field in fields.all("010")), None)
        control_number = lccn.strip() if lccn and lccn.strip() else None
    return nfc(control_number) if control_number else None


def bib_record(number: int, fields: Fields) -> BibRecord | RecordProblem:
    """Build a BibRecord from a parsed record, or say why it is not usable."""
    title_fields = fields.all("245")
    title = nfc(_title(title_fields[0])) if title_fields else ""
    if not title:
        reason = "no title (245)"
        if "200" in fields.tags and not title_fields:
            reason += "; the record looks like UNIMARC, which is not supported"
        return RecordProblem(number, reason)
    original_titles = [nfc(_title(linked)) for linked in fields.linked("245")]
    original_title = next((value for value in original_titles if value), None)
    authors = _names(fields.all(*AUTHOR_TAGS))
    original_authors = _names(fields.linked(*AUTHOR_TAGS))
    isbns = (find_isbn13(value) for isbn in fields.all("020") for value in isbn.values("a"))
    summary = next((value for note in fields.all("520") for value in note.values("a")), None)
    if original_title:
        key = work_key(original_title, (original_authors or authors or (None,))[0])
    else:
        key = work_key(title, authors[0] if authors else None)
    return BibRecord(
        record_number=number,
        control_number=_control_number(fields),
        title=title,
        original_title=original_title,
        authors=authors,
        original_authors=original_authors,
        subjects=unique(
            nfc(trim(value))
            for subject in fields.all("600", "650", "651")
            for value in subject.values("a")
        ),
        language=_language(fields),
        year=_year(fields),
        publisher=_publisher(fields),
        isbns=unique(isbn for isbn in isbns if isbn),
        summary=nfc(summary or "") or None,
        holdings=_holdings(fields),
        work_key=key,
        uniform_title=uniform_title(fields),
        other_titles=other_titles(fields, (title, original_title or "")),
    )
