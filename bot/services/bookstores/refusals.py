"""What the bookstore services refuse, with what a handler needs to say why."""

from __future__ import annotations

import enum
from datetime import datetime

from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError


class Refusal(enum.StrEnum):
    """Why a reader's choice is not paid for (each has its own answer)."""

    NO_SCHEME = "no_scheme"  # the store's paying library has set no rules
    CARD = "card"  # the reader's card is not in good standing
    ENOUGH_COPIES = "enough_copies"  # the alliance already holds enough copies
    QUOTA = "quota"  # the reader used this month's vouchers
    BUDGET = "budget"  # the library spent this month's budget


class NotABookError(InvalidInputError):
    """The text or barcode is not a valid ISBN of a book."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class UnknownStoreError(NotFoundError):
    """No active partner bookstore has that code."""


class NotStaffError(NotAllowedError):
    """Only a bookstore's staff confirm its vouchers."""


class TooManyGuessesError(NotAllowedError):
    """Too many unknown codes lately: the staff member waits before trying again."""

    def __init__(self, minutes: int) -> None:
        super().__init__(f"wait {minutes} minutes")
        self.minutes = minutes


class UnknownVoucherError(NotFoundError):
    """No voucher has that code."""


class OtherStoreError(NotAllowedError):
    """The voucher was issued for another bookstore."""

    def __init__(self, store_name: str, store_name_en: str | None) -> None:
        super().__init__(store_name)
        self.store_name = store_name
        self.store_name_en = store_name_en


class VoucherUsedError(DomainError):
    """The voucher was confirmed already (it is one-time)."""

    def __init__(self, confirmed_at: datetime | None) -> None:
        super().__init__("used")
        self.confirmed_at = confirmed_at


class VoucherExpiredError(DomainError):
    """The voucher was valid for its day only."""

    def __init__(self, valid_until: datetime) -> None:
        super().__init__("expired")
        self.valid_until = valid_until


class OverPriceCapError(DomainError):
    """The price is above the paying library's cap."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"cap {cap}")
        self.cap = cap


class OverBudgetError(DomainError):
    """Paying this price would overspend the library's monthly budget."""

    def __init__(self, left: int) -> None:
        super().__init__(f"left {left}")
        self.left = left
