"""The feature modules whose notices the outbox may hold: importing this registers them all."""

from __future__ import annotations

from bot.notices import events  # noqa: F401
