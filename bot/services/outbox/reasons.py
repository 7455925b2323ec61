"""The reason codes at the start of ``Notification.last_error``: why a row ended as it did."""

from __future__ import annotations

REASON_LIMIT = 500

BLOCKED = "blocked"
OPTED_OUT = "opted out"
CAPPED = "frequency cap"
EXPIRED = "expired"
# A send that may or may not have arrived (a timeout, a connection lost after the request
# was written, a worker that died mid-send), of a row that is never sent twice.
UNKNOWN = "unknown"


def stored_reason(text: str) -> str:
    """The reason as stored: at most ``REASON_LIMIT`` characters."""
    return text[:REASON_LIMIT]
