"""Reading lists linked to events and campaigns: a book club's list on its event's card, a
campaign's message with a button to its list.

An organiser links one of their own published lists to an event they run (an admin: any list,
any event), and an admin (or the campaign's maker) to a campaign that is not over. Each event
and campaign carries one list; linking another replaces it. Unpublishing a list takes its
links away (``lists.set_published``); deleting the list, event or campaign deletes them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import (
    Campaign,
    CampaignStatus,
    Event,
    EventStatus,
    Reader,
    ReadingList,
    ReadingListLink,
)
from bot.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.records import managed_event
from bot.services.roles import RoleSet
from bot.services.search.query import valid_id

UPCOMING_EVENTS = 5


class LinkTarget(enum.StrEnum):
    EVENT = "event"
    CAMPAIGN = "campaign"


class What(enum.StrEnum):
    """What a refusal is about."""

    LIST = "list"
    EVENT = "event"
    CAMPAIGN = "campaign"
    LINK = "link"


class Missing(NotFoundError):
    """No such list, event or campaign (or no list linked to it)."""

    def __init__(self, what: What) -> None:
        super().__init__(what.value)
        self.what = what


class NotYours(NotAllowedError):
    """The list, event or campaign is somebody else's."""

    def __init__(self, what: What) -> None:
        super().__init__(what.value)
        self.what = what


class ListNotPublished(InvalidInputError):
    """Only a published list can be linked: readers must be able to open it."""


class TargetOver(InvalidInputError):
    """The event is cancelled or over, or the campaign is cancelled or completed."""

    def __init__(self, target: LinkTarget) -> None:
        super().__init__(target.value)
        self.target = target


@dataclass(frozen=True)
class Linked:
    """What was linked (or unlinked): the list and the event's or campaign's number."""

    list: ReadingList | None
    target: LinkTarget
    target_id: int


async def _linkable_list(
    session: AsyncSession, actor: Reader, roles: RoleSet, list_id: int
) -> ReadingList:
    found = await session.get(ReadingList, list_id) if valid_id(list_id) else None
    if found is None:
        raise Missing(What.LIST)
    if not roles.is_admin and found.created_by_id != actor.id:
        raise NotYours(What.LIST)
    if not found.published:
        raise ListNotPublished(str(list_id))
    return found


async def _own_event(session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int) -> Event:
    if not valid_id(event_id):
        raise Missing(What.EVENT)
    try:
        return await managed_event(session, actor, roles, event_id)
    except NotFoundError as exc:
        raise Missing(What.EVENT) from exc
    except NotAllowedError as exc:
        raise NotYours(What.EVENT) from exc


async def _own_campaign(
    session: AsyncSession, actor: Reader, roles: RoleSet, campaign_id: int
) -> Campaign:
    campaign = await session.get(Campaign, campaign_id) if valid_id(campaign_id) else None
    if campaign is None:
        raise Missing(What.CAMPAIGN)
    if not roles.is_admin and campaign.created_by_id != actor.id:
        raise NotYours(What.CAMPAIGN)
    return campaign


async def _open_event(
    session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int, now: datetime
) -> Event:
    event = await _own_event(session, actor, roles, event_id)
    if event.status is not EventStatus.PUBLISHED or event.ends_at <= now:
        raise TargetOver(LinkTarget.EVENT)
    return event


async def _open_campaign(
    session: AsyncSession, actor: Reader, roles: RoleSet, campaign_id: int
) -> Campaign:
    campaign = await _own_campaign(session, actor, roles, campaign_id)
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        raise TargetOver(LinkTarget.CAMPAIGN)
    return campaign


def _of(target: LinkTarget, target_id: int) -> ColumnElement[bool]:
    if target is LinkTarget.EVENT:
        return ReadingListLink.event_id == target_id
    return ReadingListLink.campaign_id == target_id


async def link_list(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    list_id: int,
    target: LinkTarget,
    target_id: int,
    now: datetime,
) -> Linked:
    """Link the actor's published list to their event or campaign (replacing its list)."""
    async with write(session):
        found = await _linkable_list(session, actor, roles, list_id)
        if target is LinkTarget.EVENT:
            await _open_event(session, actor, roles, target_id, now)
        else:
            await _open_campaign(session, actor, roles, target_id)
        await session.execute(delete(ReadingListLink).where(_of(target, target_id)))
        session.add(
            ReadingListLink(
                list_id=found.id,
                event_id=target_id if target is LinkTarget.EVENT else None,
                campaign_id=target_id if target is LinkTarget.CAMPAIGN else None,
                created_at=now,
            )
        )
        return Linked(found, target, target_id)


async def unlink_list(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    target: LinkTarget,
    target_id: int,
) -> Linked:
    """Take the list off the actor's event or campaign (Missing(LINK): it had none)."""
    async with write(session):
        if target is LinkTarget.EVENT:
            await _own_event(session, actor, roles, target_id)
        else:
            await _own_campaign(session, actor, roles, target_id)
        link = await session.scalar(select(ReadingListLink).where(_of(target, target_id)))
        if link is None:
            raise Missing(What.LINK)
        found = await session.get(ReadingList, link.list_id)
        await session.delete(link)
        return Linked(found, target, target_id)


async def linked_list(
    session: AsyncSession, target: LinkTarget, target_id: int
) -> ReadingList | None:
    """The published list linked to the event or campaign, if any."""
    return await session.scalar(
        select(ReadingList)
        .join(ReadingListLink, ReadingListLink.list_id == ReadingList.id)
        .where(_of(target, target_id), ReadingList.published.is_(True))
    )


async def upcoming_events(
    session: AsyncSession, list_id: int, now: datetime, *, limit: int = UPCOMING_EVENTS
) -> list[Event]:
    """The published events still to come that carry the list, soonest first."""
    return list(
        await session.scalars(
            select(Event)
            .join(ReadingListLink, ReadingListLink.event_id == Event.id)
            .where(
                ReadingListLink.list_id == list_id,
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at > now,
            )
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )


async def unlink_all(session: AsyncSession, list_id: int) -> None:
    """Take the list off every event and campaign (inside the caller's write unit)."""
    await session.execute(delete(ReadingListLink).where(ReadingListLink.list_id == list_id))
