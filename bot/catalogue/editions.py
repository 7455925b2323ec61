"""What a record says about the work it is an edition or translation of.

* uniform title: 240 (or 130, for a work entered under its title) $a $n $p, without the
  language ($l), version, date or form subfields, so "Rape of Nanking. Chinese" and the
  English original meet; else the $t of a 765 (original language entry); else the title a
  500 note names ("Translation of: An introduction to the WTO Agreements / ...");
* other titles: the uniform title, 246 varying forms (parallel titles, cover titles), the $t
  of 765, 767 (translation entry) and 775 (other edition entry) and the 500 title, each
  also in original script where an 880 gives it, without duplicates and without the
  record's own titles.

The family key (``family_key``) groups the works that name one uniform title and first
author: a translation's ``240 Rape of Nanking. Chinese`` and the English original's own
``Rape of Nanking : the forgotten holocaust`` meet as ``rapeofnanking|chang``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.catalogue.keys import work_key
from bot.catalogue.text import nfc, trim, unique

if TYPE_CHECKING:
    from bot.catalogue.fields import DataField, Fields

__all__ = ["EDITION_TAGS", "family_key", "other_titles", "uniform_title"]

EDITION_TAGS = frozenset({"130", "240", "246", "500", "765", "767", "775"})
_TRANSLATION_OF = re.compile(r"^\s*(?:an?\s+)?translation\s+of\b\s*:?\s*(?P<title>.+)$", re.I)
_MAIN_TITLE_END = re.compile(r"\s[:;=/]\s|\s[:;=/]$|\.\s*$")
MAX_OTHER_TITLES = 12


def _joined(data_field: DataField, codes: str) -> str:
    parts = [value.strip() for code, value in data_field.subfields if code in codes]
    return nfc(trim(" ".join(part for part in parts if part)))


def _translated_from(note: DataField) -> str | None:
    """The title a "Translation of ..." note names, up to its statement of responsibility."""
    match = _TRANSLATION_OF.match(note.first("a") or "")
    if match is None:
        return None
    title = re.split(r"\s/\s", match.group("title"), maxsplit=1)[0]
    return nfc(trim(title)) or None


def uniform_title(fields: Fields) -> str | None:
    """The title of the work this record is an edition or translation of, if it says."""
    for heading in fields.all("240", "130"):
        title = _joined(heading, "anp")
        if title:
            return title
    for entry in fields.all("765"):
        title = _joined(entry, "t")
        if title:
            return title
    for note in fields.all("500"):
        translated = _translated_from(note)
        if translated:
            return translated
    return None


def other_titles(fields: Fields, own: tuple[str, ...]) -> tuple[str, ...]:
    """Titles the record gives besides its own (see the module docstring)."""
    found: list[str] = []
    uniform = uniform_title(fields)
    if uniform:
        found.append(uniform)
    for tag_field in (*fields.all("240", "130", "246"), *fields.linked("240", "130", "246")):
        tag = (tag_field.first("6") or "")[:3] if tag_field.tag == "880" else tag_field.tag
        found.append(_joined(tag_field, "anp" if tag != "246" else "abnp"))
    for entry in fields.all("765", "767", "775"):
        found.append(_joined(entry, "t"))
    for note in fields.all("500"):
        found.append(_translated_from(note) or "")
    seen = {_fold_title(title) for title in own}
    titles = []
    for title in unique(found):
        folded = _fold_title(title)
        if folded and folded not in seen:
            seen.add(folded)
            titles.append(title)
    return tuple(titles[:MAX_OTHER_TITLES])


def _fold_title(title: str) -> str:
    return work_key(title, None)


def family_key(title: str, uniform: str | None, first_author: str | None) -> str | None:
    """The key of the work a record belongs to: its uniform title's, else its own main title's.

    Only the main title counts (up to " : ", " ; ", " = " or " / "), with the first author
    folded as in ``work_key``. A record with neither an author nor a uniform title has none:
    "Annual report" by nobody in particular is not one work.
    """
    if not first_author and not uniform:
        return None
    main = _MAIN_TITLE_END.split(uniform or title, maxsplit=1)[0].strip() or (uniform or title)
    return work_key(main, first_author)
