"""ISBNs, read one way everywhere: typed queries, barcodes, catalogue records and CSV cells.

An ISBN is ten digits (the last may be ``X``) or thirteen digits starting 978 or 979, written
in groups separated by hyphens, dashes or spaces, and may follow "ISBN", "ISBN-10" or
"ISBN-13" and a colon. Full-width digits count as digits. Check digits are verified with
isbnlib, and every ISBN comes back as its 13 digits, the form works are stored and indexed under.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import isbnlib

__all__ = ["find_isbn13", "isbn13"]

# Hyphens and dashes people type or paste between the groups (NFKC leaves these alone).
_DASHES = "\u2010\u2012\u2013\u2014\u2212"
_PREFIX = re.compile(r"\s*ISBN(?P<version>[\s-]?1[03])?\s*:?\s*", re.IGNORECASE)
_SHORT_PREFIX = re.compile(r"\s*ISBN\s*:?\s*", re.IGNORECASE)
_NUMBER = re.compile(rf"[0-9][0-9\s{_DASHES}-]{{8,20}}[0-9Xx]")


def _without_prefix(text: str) -> Iterator[str]:
    """`text` after an "ISBN", "ISBN-13:"... prefix; both readings when "ISBN 13..." is unclear."""
    text = unicodedata.normalize("NFKC", text)
    prefix = _PREFIX.match(text)
    yield text[prefix.end() :].strip() if prefix else text.strip()
    short = _SHORT_PREFIX.match(text) if prefix and prefix.group("version") else None
    if short is not None:
        # "ISBN 1300000000" may be an ISBN-10 that happens to start with 13.
        yield text[short.end() :].strip()


def _valid_isbn13(written: str) -> str | None:
    digits = str(isbnlib.canonical(written))  # digits and a final X; "" unless 10 or 13 long
    if len(digits) == 13:
        return digits if isbnlib.is_isbn13(digits) else None
    if len(digits) == 10:
        return str(isbnlib.to_isbn13(digits)) or None  # "" when the check digit is wrong
    return None


def isbn13(text: str) -> str | None:
    """The ISBN-13 when all of `text` is one valid ISBN-10 or ISBN-13, else None."""
    for rest in _without_prefix(text):
        if _NUMBER.fullmatch(rest):
            isbn = _valid_isbn13(rest)
            if isbn is not None:
                return isbn
    return None


def find_isbn13(text: str) -> str | None:
    """The ISBN-13 of the first ISBN written in `text`, such as "7-02-000220-X (pbk.)", or None.

    A number followed by a stray word of digits ("9791090636071 1") is read without it.
    """
    for rest in _without_prefix(text):
        number = _NUMBER.search(rest)
        if number is None:
            continue
        run = number.group()
        for written in (run, run.split()[0]):
            isbn = _valid_isbn13(written)
            if isbn is not None:
                return isbn
    return None
