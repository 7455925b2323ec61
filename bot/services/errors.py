"""Domain errors: what a service refuses, in words a handler can translate."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal a service can give."""


class NotFoundError(DomainError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class NotAllowedError(DomainError):
    """The asker may not do this."""


class InvalidInputError(DomainError):
    """The input is malformed or out of range."""
