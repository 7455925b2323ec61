"""Who a campaign reaches: its audience, the readers in it now, and the size of the holdout."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import AgeGroup, Reader
from bot.services.errors import InvalidInputError
from bot.services.reach import ReachRule, under_reached_district_ids


class AudienceKind(enum.StrEnum):
    UNDER_REACHED = "under"
    DISTRICTS = "districts"
    INTERESTS = "interests"
    AGE_GROUP = "age"


@dataclass(frozen=True)
class Audience:
    """Who a campaign is for: under-reached districts, chosen districts, interests, an age group."""

    kind: AudienceKind
    district_ids: tuple[int, ...] = ()
    interests: tuple[str, ...] = ()
    age_group: AgeGroup | None = None

    def check(self) -> None:
        """Refuse an audience without its choice."""
        if self.kind is AudienceKind.DISTRICTS and not self.district_ids:
            raise InvalidInputError("districts")
        if self.kind is AudienceKind.INTERESTS and not self.interests:
            raise InvalidInputError("interests")
        if self.kind is AudienceKind.AGE_GROUP and self.age_group is None:
            raise InvalidInputError("age_group")

    def to_json(self) -> dict[str, Any]:
        """As stored in ``Campaign.targeting``."""
        return {
            "kind": self.kind.value,
            "district_ids": list(self.district_ids),
            "interests": list(self.interests),
            "age_group": self.age_group.value if self.age_group else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Audience:
        """Read ``Campaign.targeting`` back."""
        age = data.get("age_group")
        return cls(
            kind=AudienceKind(data.get("kind", AudienceKind.UNDER_REACHED.value)),
            district_ids=tuple(int(i) for i in data.get("district_ids") or ()),
            interests=tuple(str(i) for i in data.get("interests") or ()),
            age_group=AgeGroup(age) if age else None,
        )


@dataclass(frozen=True)
class Reach:
    """How to find under-reached districts: the period and the rule (see bot.services.reach)."""

    days: int
    rule_name: str
    share: float

    @classmethod
    def of(cls, settings: Settings) -> Reach:
        """How the alliance's settings find under-reached districts."""
        return cls(settings.reach_period_days, settings.reach_rule, settings.reach_threshold_share)

    @property
    def rule(self) -> ReachRule:
        """The rule as the reach service takes it."""
        return ReachRule(self.rule_name, self.share)


async def resolve_districts(
    session: AsyncSession, audience: Audience, *, now: datetime, reach: Reach
) -> tuple[int, ...]:
    """The districts an audience means now (under-reached ones are measured now, as /reach)."""
    if audience.kind is AudienceKind.UNDER_REACHED:
        ids = await under_reached_district_ids(session, now=now, days=reach.days, rule=reach.rule)
        return tuple(sorted(ids))
    return audience.district_ids


async def audience_readers(
    session: AsyncSession, audience: Audience, district_ids: Sequence[int]
) -> list[tuple[int, int | None]]:
    """(reader id, district id) of every onboarded reader in the audience who allows campaigns."""
    query = select(Reader.id, Reader.district_id, Reader.interests).where(
        Reader.onboarded_at.is_not(None), Reader.notify_campaigns.is_(True)
    )
    if audience.kind in (AudienceKind.UNDER_REACHED, AudienceKind.DISTRICTS):
        if not district_ids:
            return []
        query = query.where(Reader.district_id.in_(list(district_ids)))
    elif audience.kind is AudienceKind.AGE_GROUP:
        query = query.where(Reader.age_group == audience.age_group)
    rows = (await session.execute(query.order_by(Reader.id))).all()
    if audience.kind is AudienceKind.INTERESTS:
        wanted = set(audience.interests)
        return [
            (reader_id, district)
            for reader_id, district, interests in rows
            if wanted & {str(i).strip().lower() for i in interests or ()}
        ]
    return [(reader_id, district) for reader_id, district, _interests in rows]


async def count_audience(
    session: AsyncSession, audience: Audience, *, now: datetime, reach: Reach
) -> tuple[int, tuple[int, ...]]:
    """How many readers the audience has now, and the districts it resolved to."""
    districts = await resolve_districts(session, audience, now=now, reach=reach)
    return len(await audience_readers(session, audience, districts)), districts


def holdout_size(count: int, share: float) -> int:
    """How many of ``count`` recipients are held out: the share, rounded half up."""
    return int(count * share + 0.5)
