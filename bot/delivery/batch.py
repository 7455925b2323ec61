"""The rows one worker holds: its claims, what it learnt about readers, and chat slots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.pacing import Timekeeper
from bot.services.outbox import claiming, outcomes
from bot.services.outbox.claiming import Delivery


@dataclass
class Batch:
    """One claimed batch: rows still held, readers found blocked, promotions sent, chat slots."""

    worker_id: str
    time: Timekeeper
    claim_timeout: timedelta
    claimed: set[int] = field(default_factory=set)
    claimed_at: float = 0.0
    blocked_readers: set[int] = field(default_factory=set)
    promotional_sent: dict[int, int] = field(default_factory=dict)
    chat_booked: dict[int, float] = field(default_factory=dict)
    chat_backlog: float = 0.0

    def settled(self, delivery: Delivery) -> None:
        """The row's outcome is recorded: it is no longer held."""
        self.claimed.discard(delivery.id)

    async def skip(self, session: AsyncSession, delivery: Delivery, reason: str) -> None:
        """The row must not be sent (opted out, capped, expired, blocked), with the reason."""
        await outcomes.skip(session, [delivery.id], worker_id=self.worker_id, reason=reason)
        self.settled(delivery)

    async def release(self, session: AsyncSession, delivery: Delivery, after: float | None) -> None:
        """The row goes back to the queue unsent, due now or ``after`` seconds from now."""
        not_before = self.time.now() + timedelta(seconds=after) if after is not None else None
        await claiming.release(
            session, [delivery.id], worker_id=self.worker_id, not_before=not_before
        )
        self.settled(delivery)

    async def keep_claims(self, session: AsyncSession) -> None:
        """Refresh the claims now and then, so a long batch does not look abandoned."""
        if self.time.monotonic() - self.claimed_at < self.claim_timeout.total_seconds() / 3:
            return
        await claiming.refresh_claims(
            session, sorted(self.claimed), worker_id=self.worker_id, now=self.time.now()
        )
        self.claimed_at = self.time.monotonic()
