"""A campaign as it is planned: its message, audience, schedule and holdout."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.services.campaigns.notices import EventLine
from bot.services.campaigns.targeting import Audience
from bot.services.errors import DomainError


class ScheduleKind(enum.StrEnum):
    NOW = "now"
    AT = "at"
    WEEKLY = "weekly"


class StateError(DomainError):
    """The campaign is not in a state that allows this (already launched, cancelled...)."""


@dataclass(frozen=True)
class Schedule:
    """When a campaign goes out: now, at a moment, or weekly from a moment."""

    kind: ScheduleKind
    at: datetime | None = None

    def first_run(self, now: datetime) -> datetime:
        """The moment of the first wave."""
        return now if self.kind is ScheduleKind.NOW or self.at is None else self.at


@dataclass(frozen=True)
class CampaignPlan:
    """A campaign to create: the admin's text per language (or the weekly list of events)."""

    text: Mapping[str, str]
    audience: Audience
    schedule: Schedule
    holdout_share: float = 0.1
    event_id: int | None = None
    work_ids: tuple[int, ...] = ()
    name: str = ""
    events: tuple[EventLine, ...] = ()
