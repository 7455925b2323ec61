"""Prices in fen (hundredths of a yuan), voucher codes and the months budgets count in."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta, tzinfo

from bot.services.errors import InvalidInputError

# Without 0/O, 1/I/L: a code read aloud or typed from a phone is not misread.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MAX_PRICE = 10_000_000  # 100,000 yuan: no single book costs more
_PRICE = re.compile(
    r"(?P<sign>[-−])?\s*(?:¥|￥|rmb|cny)?\s*(?P<yuan>\d{1,9})(?:[.,](?P<fen>\d{1,2}))?"
)
_CURRENCY_AFTER = re.compile(r"\s*(?:元|yuan|rmb|cny)$", re.IGNORECASE)


class BadPriceError(InvalidInputError):
    """A price that is not a positive amount of yuan; ``reason``: format, negative, zero, large."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.reason = reason
        self.text = text


def parse_price(text: str) -> int:
    """Fen from "45", "45.8", "45,80", "¥45.80" or "45元"; refuses letters, signs and zero."""
    cleaned = unicodedata.normalize("NFKC", text).strip().lower()
    cleaned = _CURRENCY_AFTER.sub("", cleaned)
    match = _PRICE.fullmatch(cleaned)
    if match is None:
        raise BadPriceError("format", text[:40])
    fen = int(match["yuan"]) * 100 + int((match["fen"] or "0").ljust(2, "0"))
    if match["sign"]:
        raise BadPriceError("negative", text[:40])
    if fen == 0:
        raise BadPriceError("zero", text[:40])
    if fen > MAX_PRICE:
        raise BadPriceError("large", text[:40])
    return fen


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, "45.80" (the CSV form; chat uses Babel)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def new_code() -> str:
    """A random voucher code: 8 characters, about 10¹² possibilities."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(text: str) -> str | None:
    """The code as stored (upper case, no spaces or dashes), or None if it cannot be one."""
    code = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text)).upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    return code


def month_of(moment: datetime, zone: tzinfo) -> str:
    """The alliance-local month of a moment, "2026-12"."""
    local = moment.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"


def end_of_day(moment: datetime, zone: tzinfo) -> datetime:
    """The next local midnight after a moment: a voucher is valid for the day."""
    local = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime(local.year, local.month, local.day, tzinfo=zone)
