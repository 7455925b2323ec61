"""What a CNMARC/UNIMARC record says about the work it is an edition or translation of.

The UNIMARC counterparts of MARC 21's 240, 765, 767 and 775 (``bot.catalogue.editions``):

* uniform title: 500 $a, with the number and name of a part ($h, $i), without the language
  ($m), form ($l), version ($q) or date ($k), so "Harry Potter and the philosopher's stone.
  Chinese" and the English original meet; else the title of a 454 (translation of);
* other titles: the uniform title, the titles of 454 (translation of), 453 (translated as),
  451 and 452 (other edition, same or other medium), and 532 (expanded title), without
  duplicates and without the record's own titles (510 parallel and 517 variant titles are
  variant titles already);
* the author of that work, for the family key: the author a 454 names (an embedded 700,
  701, 710 or 711, or $a), else a name in Latin script among the record's own 7XX, written
  as an entry ($a, $b) or as a parenthesised original form in $g ("罗琳 $g (Rowling, J. K.)"),
  so the Chinese translation of a book by Rowling keys under "rowling" as the original does.

A linking field comes in either of UNIMARC's two forms: embedded fields (each begins with
$1 and the tag and indicators of the embedded field, then its subfields, so a title is the
$a after "$1200") or standard subfields ($t title, $a author).
"""

from __future__ import annotations

import re

from bot.catalogue.fields import DataField, Fields
from bot.catalogue.keys import work_key
from bot.catalogue.text import nfc, trim, trim_name, unique

__all__ = ["UNIMARC_EDITION_TAGS", "original_author", "other_titles", "uniform_title"]

_TRANSLATION_OF = "454"
_LINKS = ("454", "453", "451", "452")
UNIMARC_EDITION_TAGS = frozenset({"500", "532", *_LINKS})
_NAME_TAGS = ("700", "701", "702", "710", "711", "712")
_NON_SORTING = re.compile("[\x88\x89\x98\x9c]")
_LATIN_NAME = re.compile(r"^[(\[]?\s*(?P<name>[A-Za-z\u00c0-\u024f][^()\[\]]*?)\s*[)\]]?$")
_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff]")
MAX_OTHER_TITLES = 12


def _clean(text: str | None) -> str:
    return nfc(trim(_NON_SORTING.sub("", text or "")))


def _embedded(link: DataField) -> list[tuple[str, list[tuple[str, str]]]]:
    """The fields embedded in a linking field: (tag, subfields), in order."""
    found: list[tuple[str, list[tuple[str, str]]]] = []
    for code, value in link.subfields:
        if code == "1":
            found.append((value[:3], []))
        elif found:
            found[-1][1].append((code, value))
    return found


def _first(subfields: list[tuple[str, str]], code: str) -> str:
    return next((_clean(value) for c, value in subfields if c == code and _clean(value)), "")


def _link_title(link: DataField) -> str:
    """The title a linking field names: its embedded 200 $a (with $e), else its $t."""
    for tag, subfields in _embedded(link):
        if tag == "200":
            title = " ; ".join(_clean(v) for c, v in subfields if c == "a" and _clean(v))
            other = _first(subfields, "e")
            return f"{title} : {other}" if title and other else title
    return _clean(link.first("t"))


def _person(subfields: list[tuple[str, str]]) -> str:
    surname, rest = _first(subfields, "a"), _first(subfields, "b")
    if not surname:
        return ""
    return nfc(trim_name(f"{surname}, {rest.lstrip(', ')}" if rest else surname))


def _link_author(link: DataField) -> str:
    for tag, subfields in _embedded(link):
        if tag in _NAME_TAGS:
            return _person(subfields)
    return "" if link.first("1") is not None else _clean(link.first("a"))


def uniform_title(fields: Fields) -> str | None:
    """The title of the work this record is an edition or translation of, if it says."""
    for heading in fields.all("500"):
        title = _clean(" ".join(_clean(v) for v in heading.values("a")))
        part = ", ".join(_clean(v) for v in heading.values("hi") if _clean(v))
        if title:
            return f"{title}. {part}" if part else title
    for link in fields.all(_TRANSLATION_OF):
        if title := _link_title(link):
            return title
    return None


def other_titles(fields: Fields, own: tuple[str, ...]) -> tuple[str, ...]:
    """Titles the record gives besides its own (see the module docstring)."""
    found = [uniform_title(fields) or ""]
    found += [_link_title(link) for link in fields.all(*_LINKS)]
    found += [_clean(value) for expanded in fields.all("532") for value in expanded.values("a")]
    seen = {work_key(title, None) for title in own}
    titles = []
    for title in unique(title for title in found if title):
        folded = work_key(title, None)
        if folded not in seen:
            seen.add(folded)
            titles.append(title)
    return tuple(titles[:MAX_OTHER_TITLES])


def _latin(name: str) -> str | None:
    match = _LATIN_NAME.match(name.strip())
    if match is None or _CJK.search(name):
        return None
    return nfc(trim_name(match.group("name"))) or None


def original_author(fields: Fields) -> str | None:
    """The author of the work a translation is of, when the record names one (see above).

    Only for a record with a uniform title or a 454: others key under their own author.
    """
    links = fields.all(_TRANSLATION_OF)
    for link in links:
        if author := _link_author(link):
            return author
    if not links and not fields.all("500"):
        return None
    for name_field in fields.all(*_NAME_TAGS):
        entry = _person(name_field.subfields)
        for candidate in (entry, *(_clean(v) for v in name_field.values("g"))):
            if candidate and (latin := _latin(candidate)):
                return latin
    return None
