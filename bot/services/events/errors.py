"""Why an event service refused: each a DomainError raised before anything changed."""

from __future__ import annotations

from datetime import datetime

from bot.models import Event, Registration
from bot.services.errors import DomainError, NotFoundError


class RegistrationClosedError(DomainError):
    """Registration has not opened yet, or has closed (``cancelled``: the event was)."""

    def __init__(self, opens_at: datetime | None = None, *, cancelled: bool = False) -> None:
        super().__init__("not open" if opens_at else "cancelled" if cancelled else "closed")
        self.opens_at = opens_at
        self.cancelled = cancelled


class NotRegisteredError(NotFoundError):
    """The reader holds no active registration for the event (a stale Cancel button)."""


class AlreadyRegisteredError(DomainError):
    """The reader already holds a registration for this event."""

    def __init__(self, registration: Registration) -> None:
        super().__init__("already registered")
        self.registration = registration


class OfferGoneError(DomainError):
    """The offer expired, was answered, or never existed."""


class CheckInError(DomainError):
    """Check-in refused: ``reason`` is not_registered, too_early, over or already."""

    def __init__(self, reason: str, event: Event) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event = event
