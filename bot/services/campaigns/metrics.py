"""How a campaign did: delivery, opens, conversions and the uplift against its holdout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    Hold,
    Notification,
    NotificationStatus,
    Registration,
)
from bot.services import outbox

CHUNK = 500


@dataclass
class Metrics:
    """A campaign's delivery, opens, conversions and uplift (see the package docstring)."""

    targeted: int = 0
    held_out: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    # Sends that began but whose outcome never came back (the worker stopped): not retried,
    # and not counted as failed, since the reader may well have the message.
    unknown: int = 0
    blocked: int = 0
    skipped: int = 0
    opened: int = 0
    converted: int = 0
    converted_holdout: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def treated(self) -> int:
        """Recipients who were to be messaged."""
        return self.targeted - self.held_out

    @property
    def treated_rate(self) -> float | None:
        """Share of treated recipients who converted."""
        return self.converted / self.treated if self.treated else None

    @property
    def holdout_rate(self) -> float | None:
        """Share of held-out recipients who converted."""
        return self.converted_holdout / self.held_out if self.held_out else None

    @property
    def uplift(self) -> float | None:
        """Treated conversion rate minus holdout conversion rate (None if a group is empty)."""
        if self.treated_rate is None or self.holdout_rate is None:
            return None
        return self.treated_rate - self.holdout_rate

    def to_json(self) -> dict[str, Any]:
        """As stored in ``Campaign.metrics``."""
        return {
            "targeted": self.targeted,
            "held_out": self.held_out,
            "queued": self.queued,
            "sent": self.sent,
            "failed": self.failed,
            "unknown": self.unknown,
            "blocked": self.blocked,
            "skipped": self.skipped,
            "opened": self.opened,
            "converted": self.converted,
            "converted_holdout": self.converted_holdout,
            "uplift": self.uplift,
        }


Recipient = Row[int, bool, datetime | None]


async def _count_outcomes(session: AsyncSession, campaign: Campaign, metrics: Metrics) -> None:
    """The outbox rows of the campaign, by what became of them."""
    blocked_row = Notification.last_error.like(f"{outbox.BLOCKED}:%").label("blocked")
    unknown_row = Notification.last_error.like(f"{outbox.UNKNOWN}:%").label("unknown")
    rows = await session.execute(
        select(Notification.status, blocked_row, unknown_row, func.count())
        .where(Notification.campaign_id == campaign.id)
        .group_by(Notification.status, blocked_row, unknown_row)
    )
    for status, blocked, unknown, number in rows.all():
        if status in (NotificationStatus.PENDING, NotificationStatus.SENDING):
            metrics.queued += number
        elif status is NotificationStatus.SENT:
            metrics.sent += number
        elif status is NotificationStatus.FAILED and unknown:
            metrics.unknown += number
        elif status is NotificationStatus.FAILED:
            metrics.failed += number
        elif blocked:
            metrics.blocked += number
        else:
            metrics.skipped += number


async def _actions_since(
    session: AsyncSession, reader_ids: list[int], earliest: datetime
) -> list[tuple[int, datetime]]:
    """(reader, moment) of every hold placed and registration made since ``earliest``."""
    actions: list[tuple[int, datetime]] = []
    for chunk in range(0, len(reader_ids), CHUNK):
        part = reader_ids[chunk : chunk + CHUNK]
        holds = await session.execute(
            select(Hold.reader_id, Hold.queued_at).where(
                Hold.reader_id.in_(part), Hold.queued_at >= earliest
            )
        )
        registrations = await session.execute(
            select(Registration.reader_id, Registration.created_at).where(
                Registration.reader_id.in_(part), Registration.created_at >= earliest
            )
        )
        actions += [(reader, moment) for reader, moment in holds.all()]
        actions += [(reader, moment) for reader, moment in registrations.all()]
    return actions


async def _count_conversions(
    session: AsyncSession,
    campaign: Campaign,
    recipients: Sequence[Recipient],
    metrics: Metrics,
    conversion_days: int,
) -> None:
    """Recipients who placed a hold or registered within the window after they were reached."""
    launched = campaign.launched_at
    if launched is None or not recipients:
        return
    first_sent = dict(
        (
            await session.execute(
                select(Notification.reader_id, func.min(Notification.sent_at))
                .where(
                    Notification.campaign_id == campaign.id,
                    Notification.status == NotificationStatus.SENT,
                )
                .group_by(Notification.reader_id)
            )
        ).all()
    )
    starts = {
        reader_id: (first_sent.get(reader_id) if not holdout else None) or launched
        for reader_id, holdout, _opened in recipients
    }
    window = timedelta(days=conversion_days)
    converted = {
        reader_id
        for reader_id, moment in await _actions_since(session, list(starts), launched)
        if starts[reader_id] <= moment < starts[reader_id] + window
    }
    for reader_id, holdout, _opened in recipients:
        if reader_id in converted:
            if holdout:
                metrics.converted_holdout += 1
            else:
                metrics.converted += 1


async def compute_metrics(
    session: AsyncSession, campaign: Campaign, *, conversion_days: int
) -> Metrics:
    """Count the campaign's recipients, outbox outcomes, opens and conversions now."""
    metrics = Metrics()
    recipients = (
        await session.execute(
            select(
                CampaignRecipient.reader_id,
                CampaignRecipient.holdout,
                CampaignRecipient.opened_at,
            ).where(CampaignRecipient.campaign_id == campaign.id)
        )
    ).all()
    metrics.targeted = len(recipients)
    metrics.held_out = sum(1 for _r, holdout, _o in recipients if holdout)
    metrics.opened = sum(1 for _r, holdout, opened in recipients if not holdout and opened)
    await _count_outcomes(session, campaign, metrics)
    await _count_conversions(session, campaign, recipients, metrics, conversion_days)
    return metrics


def _is_over(campaign: Campaign, metrics: Metrics, *, now: datetime, conversion_days: int) -> bool:
    return (
        campaign.status is CampaignStatus.RUNNING
        and campaign.next_run_at is None
        and metrics.queued == 0
        and campaign.launched_at is not None
        and now >= campaign.launched_at + timedelta(days=conversion_days)
    )


async def refresh_metrics(session: AsyncSession, *, now: datetime, conversion_days: int) -> int:
    """Store fresh metrics on every launched, unfinished campaign; finish the ones that are over.

    A campaign that is not weekly is completed once nothing of it is queued and its
    conversion window has closed.
    """
    campaigns = list(
        await session.scalars(
            select(Campaign).where(
                Campaign.launched_at.is_not(None),
                Campaign.status.in_([CampaignStatus.RUNNING, CampaignStatus.PAUSED]),
            )
        )
    )
    measured = {
        campaign.id: await compute_metrics(session, campaign, conversion_days=conversion_days)
        for campaign in campaigns
    }
    async with write(session):
        for campaign_id, metrics in measured.items():
            campaign = await session.get(
                Campaign, campaign_id, with_for_update=True, populate_existing=True
            )
            if campaign is None:
                continue
            extra = {k: v for k, v in campaign.metrics.items() if k == "paused_from"}
            campaign.metrics = {**metrics.to_json(), **extra, "refreshed_at": now.isoformat()}
            if _is_over(campaign, metrics, now=now, conversion_days=conversion_days):
                campaign.status = CampaignStatus.COMPLETED
    return len(campaigns)
