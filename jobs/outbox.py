"""The outbox tick: make sure a drain of due notifications is running."""

from __future__ import annotations

from bot.delivery.worker import DeliveryWorker


async def deliver_outbox(worker: DeliveryWorker) -> None:
    """Start draining the outbox unless a drain is already running (it returns at once)."""
    worker.kick()
