"""Why a hold or desk action is refused: the domain errors handlers turn into replies.

They carry plain values, not database rows: a refused write is rolled back, and rows it
loaded are expired by then.
"""

from __future__ import annotations

from bot.models import HoldStatus, Item, ItemStatus, Library, display_name
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError


class HoldLimitError(DomainError):
    """The reader already has as many active holds as allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} active holds")
        self.limit = limit


class AlreadyHoldingError(DomainError):
    """The reader already has an active hold on this work."""

    def __init__(self, hold_id: int) -> None:
        super().__init__("already holding this work")
        self.hold_id = hold_id


class NoCopiesError(DomainError):
    """No library in the alliance has a copy of the work (that is not missing)."""


class NotPickupPointError(InvalidInputError):
    """That library does not hand out holds."""


class NotYourHoldError(NotFoundError):
    """No such hold among the reader's (another reader's id, or a made-up one)."""


class HoldStateError(DomainError):
    """The hold is not in a state that allows this (already cancelled, not ready...)."""

    def __init__(self, status: HoldStatus) -> None:
        super().__init__(f"hold is {status.value}")
        self.status = status


class AlreadyExtendedError(DomainError):
    """A ready hold is extended once at most."""


class OthersWaitingError(DomainError):
    """Somebody else waits for the work, so the hold cannot be extended."""


class UnknownBarcodeError(NotFoundError):
    """No copy (or no reader's card) has that barcode."""

    def __init__(self, barcode: str) -> None:
        super().__init__(barcode)
        self.barcode = barcode


class WrongLibraryError(NotAllowedError):
    """The librarian is not a librarian of the library this copy or hold belongs to."""

    def __init__(self, library: Library) -> None:
        super().__init__(library.code)
        self.code = library.code
        self.name = library.name
        self.name_en = library.name_en

    def library_name(self, language: str) -> str:
        """The library's name in the language (plain text)."""
        return display_name(self.name, self.name_en, language)


class NothingToDoError(DomainError):
    """The copy is in no state that this staff action applies to."""

    def __init__(self, item: Item) -> None:
        super().__init__(item.status.value)
        self.status: ItemStatus = item.status


class NothingWaitingError(DomainError):
    """No ready hold of that reader waits at the librarian's library."""
