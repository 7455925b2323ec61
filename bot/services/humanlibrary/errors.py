"""Why a human library service refused: each raised before anything changed."""

from __future__ import annotations

from bot.services.errors import DomainError, NotAllowedError


class SlotTakenError(DomainError):
    """Someone else booked the slot first."""


class SlotOverError(DomainError):
    """The slot has started or is over: it can no longer be booked, cancelled or rated."""


class AlreadyBookedError(DomainError):
    """The reader already holds a slot with this living book."""


class AlreadyWaitingError(DomainError):
    """The reader is already on this living book's waitlist."""


class SlotsFreeError(DomainError):
    """The living book still has free slots: book one instead of waiting."""


class NotYourSlotError(NotAllowedError):
    """The slot belongs to someone else (forged or stale callback data)."""


class AlreadyRatedError(DomainError):
    """The conversation has already been rated by this person."""


class NotOverError(DomainError):
    """The conversation has not ended yet: feedback comes after it."""
