"""The notification outbox: enqueue messages for readers, claim due ones, record what happened.

Everything Bookbridge sends on its own is one ``Notification`` row per message and reader.
Feature code enqueues inside its own transaction (``enqueue`` does not commit), so a hold
that becomes ready and its notice are committed together or not at all. The delivery
worker (``bot.delivery``) claims due rows, sends them and records the outcome with the
functions of ``claiming`` and ``outcomes``; each of those is its own short transaction.

Row life cycle: ``pending`` -> ``sending`` (claimed by one worker) -> ``sent``, or back to
``pending`` with a later ``not_before`` (transient error, quiet hours, chat pacing), or
``failed`` (permanent error, too many attempts, unknown outcome) or ``skipped`` (opted
out, frequency cap, reader blocked the bot, expired). ``last_error`` always says why,
starting with a reason code (``blocked:``, ``opted out:``, ``frequency cap:``,
``expired:``, ``unknown:``...).

Ambiguous failures: a request that timed out, or whose connection broke after it was
written, may have been delivered, and so may the row of a worker that died mid-send.
Promotional messages and broadcasts go at most once: such a row ends ``failed`` with
``unknown:`` and is never sent again (a reader gets no duplicate; the broadcast report
counts it as unknown). Transactional notices (a hold is ready, an event changed) go at
least once: they are sent again, and a reader may rarely get one twice. So that a dead
worker's never-tried rows are not taken for unknown ones, the worker records
``attempted_at`` before it sends an at-most-once row.

The modules: ``messages`` (the message model and its payload), ``queueing``, ``claiming``,
``outcomes``, ``promotion`` (quiet hours, frequency cap, opt-outs), ``reasons``.
"""

from __future__ import annotations

from bot.services.outbox.claiming import Delivery, claim_due, reclaim_stale, refresh_claims, release
from bot.services.outbox.messages import CAPTION_LIMIT, Attachment, Button, OutboxMessage
from bot.services.outbox.outcomes import (
    OutcomeCounts,
    backoff_delay,
    mark_attempted,
    mark_failed,
    mark_reader_blocked,
    mark_sent,
    mark_unknown,
    outcome_counts,
    record_parts_sent,
    retry_later,
    skip,
    skip_broadcast_rows_of_blocked_readers,
)
from bot.services.outbox.promotion import (
    Judgement,
    PromotionRules,
    QuietHours,
    Verdict,
    judge_promotion,
    sent_promotional_counts,
)
from bot.services.outbox.queueing import (
    INSERT_CHUNK,
    Outgoing,
    Priority,
    enqueue,
    enqueue_many,
    enqueue_notices,
    skip_pending,
)
from bot.services.outbox.reasons import BLOCKED, CAPPED, EXPIRED, OPTED_OUT, UNKNOWN

__all__ = [
    "BLOCKED",
    "CAPPED",
    "CAPTION_LIMIT",
    "EXPIRED",
    "INSERT_CHUNK",
    "OPTED_OUT",
    "UNKNOWN",
    "Attachment",
    "Button",
    "Delivery",
    "Judgement",
    "OutboxMessage",
    "OutcomeCounts",
    "Outgoing",
    "Priority",
    "PromotionRules",
    "QuietHours",
    "Verdict",
    "backoff_delay",
    "claim_due",
    "enqueue",
    "enqueue_many",
    "enqueue_notices",
    "judge_promotion",
    "mark_attempted",
    "mark_failed",
    "mark_reader_blocked",
    "mark_sent",
    "mark_unknown",
    "outcome_counts",
    "reclaim_stale",
    "record_parts_sent",
    "refresh_claims",
    "release",
    "retry_later",
    "sent_promotional_counts",
    "skip",
    "skip_broadcast_rows_of_blocked_readers",
    "skip_pending",
]
