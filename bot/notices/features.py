"""The feature modules whose notices the outbox may hold: importing this registers them all."""

from __future__ import annotations

from bot.notices import (  # noqa: F401
    campaigns,
    events,
    holds,
    reading,
    suggestions,
)
