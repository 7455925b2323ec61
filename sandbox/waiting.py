"""Waiting for the bot: until something holds, until it has gone idle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sandbox.state import SandboxState


class Waiting(SandboxState):
    """Waits that tests and the control API use instead of sleeping."""

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
    ) -> bool:
        """Wait (without polling) until the predicate holds after some change; False on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                return False
            await self._wait_for_change(remaining)
        return True

    def is_idle(self, quiet: float = 0.3) -> bool:
        """No update waits for the bot and no bot request arrived in the last `quiet` seconds."""
        if self.webhook is not None:
            waiting = bool(self._updates) or self._delivering
        else:
            # Unconfirmed, not merely fetched: a bot handling updates one by one confirms an
            # update (with the next getUpdates offset) only once it has finished with it.
            waiting = bool(self._updates)
        calm = time.monotonic() - self._last_bot_request >= quiet
        return not waiting and not self._calls_in_flight and calm

    async def wait_idle(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109
        quiet: float = 0.3,
    ) -> bool:
        """Wait until the bot has taken every update and gone quiet; False on timeout."""
        deadline = time.monotonic() + timeout
        while not self.is_idle(quiet):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True
