"""Text clean-up shared by the readers: Unicode NFC, ISBD punctuation, name dates, brackets."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["SUBSTITUTE", "nfc", "trim", "trim_name", "unbracket", "unique"]

# What a decoder that replaces bad bytes puts in their place.
SUBSTITUTE = "\ufffd"

_ABBREVIATION_END = re.compile(
    r"(?:^|[\s.(\[-])(?:\w|jr|sr|inc|ltd|co|corp|bros|dr|st|mr|mrs|ms|esq|etc)\.$",
    re.IGNORECASE,
)
_NAME_DATES = re.compile(
    r"(?:,\s*|\s+)"
    r"(?P<open>\()?"
    r"(?:(?:b|d|ca|fl)\.\s*)?\d{3,4}\??"
    r"(?:\s*-\s*(?:(?:ca\.\s*)?\d{3,4}\??)?)?"
    r"(?(open)\))\.?$"
)


def nfc(text: str) -> str:
    """`text` in Unicode NFC without surrounding whitespace."""
    return unicodedata.normalize("NFC", text).strip()


def trim(text: str) -> str:
    """Strip whitespace and trailing ISBD punctuation, keeping '...' and initials."""
    text = text.strip()
    while text and (text[-1] in "/:;,=" or _droppable_full_stop(text)):
        text = text[:-1].rstrip()
    return text


def _droppable_full_stop(text: str) -> bool:
    return text.endswith(".") and not text.endswith("...") and not _ABBREVIATION_END.search(text)


def trim_name(name: str, *, personal: bool = True) -> str:
    """Trim a name heading; personal names also lose trailing dates."""
    name = trim(name)
    if personal:
        name = trim(_NAME_DATES.sub("", name))
    return name


def unbracket(text: str) -> str:
    """Remove square brackets that enclose the whole text or are left unbalanced."""
    if text.startswith("[") and text.endswith("]") and text.count("[") == 1:
        return text[1:-1].strip()
    if text.startswith("[") and "]" not in text:
        return text[1:].strip()
    if text.endswith("]") and "[" not in text:
        return text[:-1].strip()
    return text


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """The non-empty values, first occurrence kept, in order."""
    return tuple(dict.fromkeys(value for value in values if value))
