"""The outbox sender: sends due notifications through aiogram within Telegram's limits.

Pacing (``pacing``): one global limiter below Telegram's ~30 messages/s and at most one
message per second per chat. On 429 every send pauses for ``retry_after`` and the same row
is tried again; 403 marks the reader unreachable; 400 fails the row with Telegram's reason;
server errors and connections that could not be made are retried with exponential backoff.

Ambiguous failures (``failures``): a timeout, or a connection lost after the request was
written, may have delivered the message. Promotional messages and broadcasts go at most
once: the row ends ``failed`` with an ``unknown:`` reason, is not sent again, and counts as
unknown in the broadcast report. Transactional notices go at least once: they are retried,
so a reader may rarely get one twice.

Crash safety: rows are claimed (committed) before sending and marked sent (committed)
right after each send, one message in flight at a time. A worker cancelled mid-run gives
its unsent claims back at once; a worker that dies leaves them for ``claim_timeout_s``.
Then the row that was in flight is sent again if it is transactional, and ends as unknown
if it goes at most once (the worker records ``attempted_at`` before sending such a row, so
rows it never tried are sent normally).

Modules: ``pacing``, ``rendering`` (the Bot API calls of one message), ``failures``,
``batch`` (the claims one worker holds), ``sending`` (one message), ``worker`` (the loop),
``reports`` (a drain's counts, a broadcast's status message).
"""

from __future__ import annotations

from bot.delivery.pacing import LIMITER_BURST, Pacer, Timekeeper
from bot.delivery.rendering import Unsubscribe, localized, render_parts
from bot.delivery.reports import DrainReport, broadcast_status_text
from bot.delivery.worker import DeliveryWorker, deliver_all, new_worker_id

__all__ = [
    "LIMITER_BURST",
    "DeliveryWorker",
    "DrainReport",
    "Pacer",
    "Timekeeper",
    "Unsubscribe",
    "broadcast_status_text",
    "deliver_all",
    "localized",
    "new_worker_id",
    "render_parts",
]
