"""Deep links (`/start PAYLOAD`): one dispatcher that feature routers register targets with."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import Message

DeepLinkTarget = Callable[[Message, str, dict[str, Any]], Awaitable[None]]

# Telegram allows A-Z, a-z, 0-9, _ and - in start parameters, up to 64 characters.
_PAYLOAD = re.compile(r"^(?P<prefix>[a-z]{1,8})_(?P<argument>[A-Za-z0-9_-]{1,55})$")


class DeepLinks:
    """Maps a payload prefix (``ev`` in ``ev_42``) to the coroutine that opens it."""

    def __init__(self) -> None:
        self._targets: dict[str, DeepLinkTarget] = {}

    def register(self, prefix: str, target: DeepLinkTarget) -> None:
        """Route payloads ``{prefix}_{argument}`` to ``target(message, argument, data)``."""
        if prefix in self._targets:
            raise ValueError(f"deep link prefix {prefix!r} is registered twice")
        self._targets[prefix] = target

    @staticmethod
    def is_well_formed(payload: str) -> bool:
        """Whether the payload has the shape of one of our links."""
        return _PAYLOAD.match(payload) is not None

    async def dispatch(self, message: Message, payload: str, data: dict[str, Any]) -> bool:
        """Open the link; False when nothing knows it (the caller says so to the reader)."""
        match = _PAYLOAD.match(payload)
        if match is None:
            return False
        target = self._targets.get(match["prefix"])
        if target is None:
            return False
        await target(message, match["argument"], data)
        return True
