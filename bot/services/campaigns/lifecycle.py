"""A campaign's life: created (or drafted for approval), approved, paused, resumed, cancelled."""

from __future__ import annotations

import html
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Campaign, CampaignStatus, Event, Notification, NotificationStatus, Reader
from bot.services import audit
from bot.services.campaigns.inputs import HOLDOUT_MAX
from bot.services.campaigns.plans import CampaignPlan, ScheduleKind, StateError
from bot.services.campaigns.sending import launch
from bot.services.campaigns.targeting import Reach
from bot.services.errors import InvalidInputError, NotFoundError

NAME_LIMIT = 80
CAMPAIGNS_PER_PAGE = 5
PAUSED = "paused"
CANCELLED = "cancelled"


def name_from(text: Mapping[str, str]) -> str:
    """A campaign's name from its HTML text: the first line as plain text (not escaped)."""
    body = next((v for k in ("zh", "en") if (v := text.get(k))), "")
    plain = html.unescape(re.sub(r"<[^>]+>", "", body)).strip().splitlines()
    return (plain[0].strip() if plain else "")[:NAME_LIMIT] or "—"


def _check(plan: CampaignPlan, now: datetime) -> None:
    plan.audience.check()
    if not any(plan.text.values()) and not plan.events:
        raise InvalidInputError("text")
    if not 0 <= plan.holdout_share <= HOLDOUT_MAX:
        raise InvalidInputError("holdout")
    if plan.schedule.kind is not ScheduleKind.NOW and (
        plan.schedule.at is None or plan.schedule.at <= now
    ):
        raise InvalidInputError("schedule")


def _stored(plan: CampaignPlan) -> dict[str, Any]:
    return {
        "message": {
            "text": {language: text for language, text in plan.text.items() if text},
            "work_ids": list(plan.work_ids),
            "events": [line.model_dump(mode="json") for line in plan.events],
        },
        "targeting": plan.audience.to_json(),
        "schedule": {
            "kind": plan.schedule.kind.value,
            "at": plan.schedule.at.isoformat() if plan.schedule.at else None,
        },
    }


async def create_campaign(
    session: AsyncSession,
    author: Reader | None,
    plan: CampaignPlan,
    *,
    now: datetime,
    reach: Reach,
    bot_username: str,
    status: CampaignStatus = CampaignStatus.SCHEDULED,
    rng: random.Random | None = None,
) -> Campaign:
    """Store the campaign; one scheduled for now launches at once (nothing is kept on error)."""
    _check(plan, now)
    if plan.event_id is not None and await session.get(Event, plan.event_id) is None:
        raise NotFoundError("event")
    scheduled = status is CampaignStatus.SCHEDULED
    async with write(session):
        campaign = Campaign(
            name=plan.name or name_from(plan.text),
            holdout_share=plan.holdout_share,
            status=status,
            created_by_id=author.id if author else None,
            event_id=plan.event_id,
            next_run_at=plan.schedule.first_run(now) if scheduled else None,
            metrics={},
            **_stored(plan),
        )
        session.add(campaign)
        await session.flush()
        audit.record(
            session,
            author,
            "campaign.create",
            target_type="campaign",
            target_id=campaign.id,
            audience=plan.audience.to_json(),
            schedule=campaign.schedule,
            holdout_share=plan.holdout_share,
        )
        if scheduled and campaign.next_run_at is not None and campaign.next_run_at <= now:
            await launch(
                session, campaign, now=now, reach=reach, bot_username=bot_username, rng=rng
            )
    return campaign


async def _locked(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise NotFoundError("campaign")
    return campaign


async def approve(
    session: AsyncSession,
    actor: Reader,
    campaign_id: int,
    *,
    now: datetime,
    reach: Reach,
    bot_username: str,
) -> Campaign:
    """An admin approves a prepared campaign: it launches now (once: a second tap is refused)."""
    async with write(session):
        campaign = await _locked(session, campaign_id)
        if campaign.status is not CampaignStatus.DRAFT:
            raise StateError(campaign.status.value)
        campaign.next_run_at = now
        await launch(session, campaign, now=now, reach=reach, bot_username=bot_username)
        audit.record(
            session, actor, "campaign.approve", target_type="campaign", target_id=campaign.id
        )
    return campaign


async def _set_rows(
    session: AsyncSession,
    campaign_id: int,
    *,
    status: NotificationStatus,
    reason_like: str | None,
    values: dict[str, Any],
) -> int:
    condition = [Notification.campaign_id == campaign_id, Notification.status == status]
    if reason_like is not None:
        condition.append(Notification.last_error.like(reason_like))
    result = await session.execute(
        update(Notification)
        .where(*condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def pause(session: AsyncSession, actor: Reader, campaign_id: int) -> Campaign:
    """Stop a campaign for now: its pending messages wait (skipped, to be restored)."""
    async with write(session):
        campaign = await _locked(session, campaign_id)
        if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING):
            raise StateError(campaign.status.value)
        held = await _set_rows(
            session,
            campaign_id,
            status=NotificationStatus.PENDING,
            reason_like=None,
            values={
                "status": NotificationStatus.SKIPPED,
                "last_error": f"{PAUSED}: the campaign was paused",
            },
        )
        campaign.metrics = {**campaign.metrics, "paused_from": campaign.status.value}
        campaign.status = CampaignStatus.PAUSED
        audit.record(
            session,
            actor,
            "campaign.pause",
            target_type="campaign",
            target_id=campaign_id,
            rows=held,
        )
    return campaign


async def resume(
    session: AsyncSession, actor: Reader, campaign_id: int, *, now: datetime
) -> Campaign:
    """Carry on: paused messages go back to the queue; a missed weekly wave goes out next tick."""
    async with write(session):
        campaign = await _locked(session, campaign_id)
        if campaign.status is not CampaignStatus.PAUSED:
            raise StateError(campaign.status.value)
        restored = await _set_rows(
            session,
            campaign_id,
            status=NotificationStatus.SKIPPED,
            reason_like=f"{PAUSED}:%",
            values={"status": NotificationStatus.PENDING, "last_error": None, "not_before": now},
        )
        before = campaign.metrics.get("paused_from")
        campaign.status = (
            CampaignStatus.SCHEDULED
            if before == CampaignStatus.SCHEDULED.value or campaign.launched_at is None
            else CampaignStatus.RUNNING
        )
        campaign.metrics = {k: v for k, v in campaign.metrics.items() if k != "paused_from"}
        audit.record(
            session,
            actor,
            "campaign.resume",
            target_type="campaign",
            target_id=campaign_id,
            rows=restored,
        )
    return campaign


async def cancel(session: AsyncSession, actor: Reader, campaign_id: int) -> Campaign:
    """End a campaign: nothing more is sent (pending and paused messages are skipped)."""
    async with write(session):
        campaign = await _locked(session, campaign_id)
        if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
            raise StateError(campaign.status.value)
        reason = f"{CANCELLED}: the campaign was cancelled"
        rows = await _set_rows(
            session,
            campaign_id,
            status=NotificationStatus.PENDING,
            reason_like=None,
            values={"status": NotificationStatus.SKIPPED, "last_error": reason},
        )
        rows += await _set_rows(
            session,
            campaign_id,
            status=NotificationStatus.SKIPPED,
            reason_like=f"{PAUSED}:%",
            values={"last_error": reason},
        )
        campaign.status = CampaignStatus.CANCELLED
        campaign.next_run_at = None
        audit.record(
            session,
            actor,
            "campaign.cancel",
            target_type="campaign",
            target_id=campaign_id,
            rows=rows,
        )
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    """One campaign, or NotFoundError."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError("campaign")
    return campaign


@dataclass(frozen=True)
class CampaignPage:
    """One page of the campaigns, newest first."""

    campaigns: list[Campaign]
    page: int
    pages: int


async def recent_campaigns(
    session: AsyncSession, page: int = 0, per_page: int = CAMPAIGNS_PER_PAGE
) -> CampaignPage:
    """The campaigns newest first, a page at a time (out-of-range pages clamp)."""
    total = await session.scalar(select(func.count(Campaign.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    rows = await session.scalars(
        select(Campaign).order_by(Campaign.id.desc()).offset(page * per_page).limit(per_page)
    )
    return CampaignPage(campaigns=list(rows), page=page, pages=pages)
