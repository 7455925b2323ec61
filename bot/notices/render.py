"""How every notice reads: a stored outbox payload rendered in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import Settings
from bot.i18n import Translator
from bot.notices import features  # noqa: F401  (importing it registers every kind)
from bot.notices.intents import read_notice
from bot.notices.registry import Context, render_notice
from bot.services.outbox import OutboxMessage


def render(
    payload: Mapping[str, Any], language: str, *, translator: Translator, settings: Settings
) -> OutboxMessage:
    """A stored outbox payload as the reader of ``language`` gets it.

    Intents are rendered now; payloads stored as messages (the older shape) are read back.
    """
    data = read_notice(payload)
    if data is None:
        return OutboxMessage.from_payload(payload)
    return render_notice(data, Context(language=language, translator=translator, settings=settings))
