"""The feature modules whose notices the outbox may hold: importing this registers them all."""

from __future__ import annotations

from bot.notices import (  # noqa: F401
    bookstores,
    campaigns,
    events,
    holds,
    humanlibrary,
    quizzes,
    reading,
    submissions,
    suggestions,
    volunteers,
)
