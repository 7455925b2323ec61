"""What a reader typed, made safe to search, and the filters they can turn on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.models import LibraryKind
from bot.services.errors import InvalidInputError
from search.analysis import WEAK_WORDS
from search.isbn import isbn13

MAX_QUERY_CHARS = 200
# Ids in callback data and links are re-checked; anything outside a database integer is bogus.
MAX_ID = 2**31 - 1

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


class SearchSource(StrEnum):
    """Where a search was typed."""

    CHAT = "chat"
    INLINE = "inline"


class LanguageFilter(StrEnum):
    """Works in one language only."""

    ANY = "x"
    CHINESE = "zh"
    ENGLISH = "en"


class KindFilter(StrEnum):
    """Holdings of one kind of library only."""

    ANY = "x"
    UNIVERSITY = "u"
    PUBLIC = "p"


# The index's language codes and the kinds of library behind each filter.
LANGUAGE_CODES = {LanguageFilter.CHINESE: "chi", LanguageFilter.ENGLISH: "eng"}
LIBRARY_KINDS = {
    KindFilter.UNIVERSITY: LibraryKind.UNIVERSITY,
    KindFilter.PUBLIC: LibraryKind.PUBLIC,
}


class EmptyQueryError(InvalidInputError):
    """The query has no letters or digits to search for."""


@dataclass(frozen=True)
class SearchFilters:
    """The reader's filters: available now, one language, one kind of library, one subject.

    ``subject`` is a top class (a letter) of the Chinese Library Classification, "" for any.
    """

    available: bool = False
    language: LanguageFilter = LanguageFilter.ANY
    kind: KindFilter = KindFilter.ANY
    subject: str = ""

    @property
    def active(self) -> bool:
        return (
            self.available
            or self.language is not LanguageFilter.ANY
            or (self.kind is not KindFilter.ANY)
            or bool(self.subject)
        )


@dataclass(frozen=True)
class CleanQuery:
    """A typed query made safe to search: bounded, one line, an ISBN recognised."""

    text: str
    truncated: bool
    isbn: str | None
    typed_length: int = 0

    @property
    def searchable(self) -> bool:
        return any(char.isalnum() for char in self.text)


def only_common_words(text: str) -> bool:
    """Whether the text is made only of words the index does not keep ("the", "of", "de")."""
    words = _WORD.findall(text.lower())
    return bool(words) and all(word in WEAK_WORDS for word in words)


def clean_query(raw: str) -> CleanQuery:
    """One line of at most MAX_QUERY_CHARS characters (cut at a space if one is near)."""
    text = _SPACES.sub(" ", _CONTROLS.sub(" ", raw)).strip()
    typed_length = len(text)
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        cut = text[:MAX_QUERY_CHARS]
        space = cut.rfind(" ")
        if text[MAX_QUERY_CHARS] != " " and space > MAX_QUERY_CHARS // 2:
            cut = cut[:space]
        text = cut.rstrip()
    isbn = isbn13(text)
    return CleanQuery(text=isbn or text, truncated=truncated, isbn=isbn, typed_length=typed_length)


def valid_id(value: int) -> bool:
    """Whether an id from a button or a link can name a row at all."""
    return 0 < value <= MAX_ID
