"""The campaign's deep link: a treated recipient's first open counts; the page it opens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Campaign, CampaignRecipient, CampaignStatus, Event, Reader, Work
from bot.services.errors import NotFoundError


@dataclass(frozen=True)
class OpenedCampaign:
    """What a reader sees when they open a campaign's link."""

    campaign: Campaign
    event: Event | None
    works: Sequence[Work]
    counted: bool


async def open_link(
    session: AsyncSession, reader: Reader, campaign_id: int, *, now: datetime
) -> OpenedCampaign:
    """Record a treated recipient's first open; the campaign's event (with its venue) and list."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.status is CampaignStatus.DRAFT:
        raise NotFoundError("campaign")
    async with write(session):
        result = await session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.reader_id == reader.id,
                CampaignRecipient.holdout.is_(False),
                CampaignRecipient.opened_at.is_(None),
            )
            .values(opened_at=now)
            .execution_options(synchronize_session=False)
        )
    counted = int(getattr(result, "rowcount", 0) or 0) == 1
    event = None
    if campaign.event_id is not None:
        event = await session.scalar(
            select(Event)
            .where(Event.id == campaign.event_id)
            .options(selectinload(Event.venue_library))
        )
    work_ids = [int(i) for i in campaign.message.get("work_ids") or ()]
    works_by_id = {
        work.id: work for work in await session.scalars(select(Work).where(Work.id.in_(work_ids)))
    }
    return OpenedCampaign(
        campaign=campaign,
        event=event,
        works=[works_by_id[i] for i in work_ids if i in works_by_id],
        counted=counted,
    )
