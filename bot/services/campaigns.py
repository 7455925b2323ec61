"""Campaigns: a message pushed to a targeted audience, with a random holdout that measures it.

Life cycle: a campaign is created ``scheduled`` (or ``draft`` when the weekly automation
prepared it for an admin's approval). At launch its recipients are fixed: every reader of
the audience who has not turned campaigns off, and a random ``holdout_share`` of them is
held out — stored with ``holdout = true`` and never messaged. The others get the message
through the outbox as a promotional message (topic ``campaigns``: quiet hours, frequency
cap and opt-outs apply) with a deep-link button ``cmp_<id>``. A weekly campaign sends a
new wave to the same treated recipients every seven days until it is cancelled.

Pausing skips the campaign's pending outbox rows (reason ``paused:``); resuming puts them
back in the queue; cancelling skips them for good (reason ``cancelled:``).

Measurement: *opened* counts treated recipients who opened the deep link. A recipient
*converted* when they placed a hold or registered for an event within
``conversion_days`` (14) of the campaign reaching them: from their first message's
``sent_at``, or, for the holdout and for treated readers whose message was never sent,
from the launch. Every treated recipient counts (intent to treat), so::

    uplift = converted_treated / treated - converted_holdout / held_out

in percentage points; it is unknown while either group is empty.
"""

from __future__ import annotations

import enum
import random
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from html import escape
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.geo import haversine_km
from bot.i18n import Gettext, Translator, in_every_language
from bot.models import (
    AgeGroup,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    District,
    Event,
    EventStatus,
    Hold,
    Notification,
    NotificationClass,
    NotificationStatus,
    Reader,
    Registration,
    Role,
    RoleGrant,
    Work,
    WorkIsbn,
)
from bot.services import audit, outbox
from bot.services.errors import DomainError, InvalidInputError, NotFoundError
from bot.services.outbox import Button, OutboxMessage, Outgoing, Priority
from bot.services.reach import ReachRule, under_reached_district_ids
from search.isbn import find_isbn13

TOPIC = "campaigns"
KIND = "campaign"
APPROVAL_KIND = "campaign_approval"
DEEP_LINK_PREFIX = "cmp"
PLAIN_TEXT_LIMIT = 3500
TEXT_LIMIT = 4096
NAME_LIMIT = 80
READING_LIST_LIMIT = 10
INTEREST_LIMIT = 10
INTEREST_LENGTH = 40
HOLDOUT_MAX = 0.5
SCHEDULE_HORIZON = timedelta(days=90)
WEEK = timedelta(days=7)
PAUSED = "paused"
CANCELLED = "cancelled"


class AudienceKind(enum.StrEnum):
    UNDER_REACHED = "under"
    DISTRICTS = "districts"
    INTERESTS = "interests"
    AGE_GROUP = "age"


class ScheduleKind(enum.StrEnum):
    NOW = "now"
    AT = "at"
    WEEKLY = "weekly"


class StateError(DomainError):
    """The campaign is not in a state that allows this (already launched, cancelled...)."""


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
class Schedule:
    """When a campaign goes out: now, at a moment, or weekly from a moment."""

    kind: ScheduleKind
    at: datetime | None = None

    def first_run(self, now: datetime) -> datetime:
        """The moment of the first wave."""
        return now if self.kind is ScheduleKind.NOW or self.at is None else self.at


@dataclass(frozen=True)
class Draft:
    """A campaign as the wizard collected it."""

    text: Mapping[str, str]
    audience: Audience
    schedule: Schedule
    holdout_share: float = 0.1
    event_id: int | None = None
    work_ids: tuple[int, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Reach:
    """How to find under-reached districts: the period and the rule (see bot.services.reach)."""

    days: int
    rule_name: str
    share: float


# --- input checks -------------------------------------------------------------------------


def check_text(html_text: str, plain_length: int) -> None:
    """A campaign text must fit one Telegram message."""
    if not html_text.strip() or plain_length > PLAIN_TEXT_LIMIT or len(html_text) > TEXT_LIMIT:
        raise InvalidInputError("text")


def parse_holdout(text: str) -> float:
    """``10``, ``10%`` or ``0.1``: a share between 0 and 50 %."""
    cleaned = text.strip().removesuffix("%").strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise InvalidInputError("holdout") from None
    if value >= 1 or "%" in text:
        value /= 100
    if not 0 <= value <= HOLDOUT_MAX or value != value:
        raise InvalidInputError("holdout")
    return round(value, 4)


_MOMENT = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")


def parse_moment(text: str, *, zone: tzinfo, now: datetime) -> datetime:
    """``YYYY-MM-DD HH:MM`` in the alliance time zone, in the future and within 90 days."""
    match = _MOMENT.match(text)
    if match is None:
        raise InvalidInputError("format")
    year, month, day, hour, minute = (int(part) for part in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError:
        raise InvalidInputError("format") from None
    if moment <= now:
        raise InvalidInputError("past")
    if moment - now > SCHEDULE_HORIZON:
        raise InvalidInputError("far")
    return moment


def parse_interests(text: str) -> tuple[str, ...]:
    """Comma-separated interests (at most 10, each at most 40 characters), lower-cased."""
    parts = [part.strip().lower() for part in re.split(r"[,，、;；\n]", text)]
    interests = tuple(dict.fromkeys(part for part in parts if part))
    if not interests or len(interests) > INTEREST_LIMIT:
        raise InvalidInputError("interests")
    if any(len(part) > INTEREST_LENGTH for part in interests):
        raise InvalidInputError("interests")
    return interests


@dataclass(frozen=True)
class ReadingList:
    """The works an ISBN list names, and the ISBNs that name nothing in the catalogue."""

    works: Sequence[Work]
    unknown: Sequence[str]


async def reading_list(session: AsyncSession, text: str) -> ReadingList:
    """Works for a list of ISBNs (space or comma separated, at most 10)."""
    tokens = [token for token in re.split(r"[\s,，;；]+", text.strip()) if token]
    if not tokens or len(tokens) > READING_LIST_LIMIT:
        raise InvalidInputError("count")
    works: list[Work] = []
    unknown: list[str] = []
    for token in tokens:
        isbn = find_isbn13(token)
        work = None
        if isbn is not None:
            work = await session.scalar(
                select(Work)
                .join(WorkIsbn, WorkIsbn.work_id == Work.id)
                .where(WorkIsbn.isbn == isbn)
            )
        if work is None:
            unknown.append(token[:20])
        elif work not in works:
            works.append(work)
    return ReadingList(works=works, unknown=unknown)


async def upcoming_events(session: AsyncSession, now: datetime, limit: int = 8) -> list[Event]:
    """Published events that have not started, soonest first (to link to a campaign)."""
    rows = await session.scalars(
        select(Event)
        .where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now)
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return list(rows)


async def all_districts(session: AsyncSession) -> list[District]:
    """Every district, by code."""
    return list(await session.scalars(select(District).order_by(District.code)))


# --- audience -----------------------------------------------------------------------------


def _rule(reach: Reach) -> ReachRule:
    return ReachRule(reach.rule_name, reach.share)


async def resolve_districts(
    session: AsyncSession, audience: Audience, *, now: datetime, reach: Reach
) -> tuple[int, ...]:
    """The districts an audience means now (under-reached ones are measured)."""
    if audience.kind is AudienceKind.UNDER_REACHED:
        ids = await under_reached_district_ids(session, now=now, days=reach.days, rule=_rule(reach))
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


# --- creating and launching ---------------------------------------------------------------


def campaign_link(bot_username: str, campaign_id: int) -> str:
    """The deep link a campaign message carries."""
    return f"https://t.me/{bot_username}?start={DEEP_LINK_PREFIX}_{campaign_id}"


def _open_label(translator: Translator) -> dict[str, str]:
    def render(_: Gettext, language: str) -> str:
        return _("📖 Find out more")

    return in_every_language(translator, render)


def campaign_message(
    campaign: Campaign, *, bot_username: str, translator: Translator
) -> OutboxMessage:
    """What every treated recipient gets: the text and the deep-link button."""
    texts = {k: v for k, v in (campaign.message.get("text") or {}).items() if v}
    return OutboxMessage(
        text=texts,
        buttons=(
            (Button(label=_open_label(translator), url=campaign_link(bot_username, campaign.id)),),
        ),
    )


def _name_from(text: Mapping[str, str]) -> str:
    body = next((v for k in ("zh", "en") if (v := text.get(k))), "")
    plain = re.sub(r"<[^>]+>", "", body).strip().splitlines()
    return (plain[0] if plain else "")[:NAME_LIMIT] or "—"


async def create_campaign(
    session: AsyncSession,
    author: Reader | None,
    draft: Draft,
    *,
    now: datetime,
    reach: Reach,
    bot_username: str,
    translator: Translator,
    status: CampaignStatus = CampaignStatus.SCHEDULED,
    rng: random.Random | None = None,
    commit: bool = True,
) -> Campaign:
    """Store the campaign; one scheduled for now launches at once. Commits (or nothing is kept)."""
    draft.audience.check()
    if not draft.text or not any(draft.text.values()):
        raise InvalidInputError("text")
    if not 0 <= draft.holdout_share <= HOLDOUT_MAX:
        raise InvalidInputError("holdout")
    if draft.schedule.kind is not ScheduleKind.NOW and (
        draft.schedule.at is None or draft.schedule.at <= now
    ):
        raise InvalidInputError("schedule")
    if draft.event_id is not None and await session.get(Event, draft.event_id) is None:
        raise NotFoundError("event")
    try:
        campaign = Campaign(
            name=draft.name or _name_from(draft.text),
            message={"text": dict(draft.text), "work_ids": list(draft.work_ids)},
            targeting=draft.audience.to_json(),
            schedule={
                "kind": draft.schedule.kind.value,
                "at": draft.schedule.at.isoformat() if draft.schedule.at else None,
            },
            holdout_share=draft.holdout_share,
            status=status,
            created_by_id=author.id if author else None,
            event_id=draft.event_id,
            next_run_at=draft.schedule.first_run(now)
            if status is CampaignStatus.SCHEDULED
            else None,
            metrics={},
        )
        session.add(campaign)
        await session.flush()
        audit.record(
            session,
            author,
            "campaign.create",
            target_type="campaign",
            target_id=campaign.id,
            audience=draft.audience.to_json(),
            schedule=campaign.schedule,
            holdout_share=draft.holdout_share,
        )
        due = campaign.next_run_at is not None and campaign.next_run_at <= now
        if status is CampaignStatus.SCHEDULED and due:
            await _launch(
                session,
                campaign,
                now=now,
                reach=reach,
                bot_username=bot_username,
                translator=translator,
                rng=rng,
            )
        if commit:
            await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return campaign


async def _launch(
    session: AsyncSession,
    campaign: Campaign,
    *,
    now: datetime,
    reach: Reach,
    bot_username: str,
    translator: Translator,
    rng: random.Random | None = None,
) -> None:
    """Fix the recipients with the holdout, and queue the first wave (no commit)."""
    audience = Audience.from_json(campaign.targeting)
    districts = await resolve_districts(session, audience, now=now, reach=reach)
    readers = await audience_readers(session, audience, districts)
    rng = rng or random.Random(secrets.randbits(64))
    held = set(
        rng.sample([r for r, _d in readers], holdout_size(len(readers), campaign.holdout_share))
    )
    rows = [
        {
            "campaign_id": campaign.id,
            "reader_id": reader_id,
            "district_id": district_id,
            "holdout": reader_id in held,
            "assigned_at": now,
        }
        for reader_id, district_id in readers
    ]
    for start in range(0, len(rows), outbox.INSERT_CHUNK):
        await session.execute(insert(CampaignRecipient), rows[start : start + outbox.INSERT_CHUNK])
    campaign.targeting = {**campaign.targeting, "resolved_district_ids": list(districts)}
    campaign.status = CampaignStatus.RUNNING
    campaign.launched_at = now
    await session.flush()
    await _send_wave(session, campaign, now=now, bot_username=bot_username, translator=translator)


async def _send_wave(
    session: AsyncSession,
    campaign: Campaign,
    *,
    now: datetime,
    bot_username: str,
    translator: Translator,
) -> int:
    """Queue the next wave for the treated recipients; set when the one after is due."""
    wave = campaign.waves + 1
    treated = list(
        await session.scalars(
            select(CampaignRecipient.reader_id)
            .where(
                CampaignRecipient.campaign_id == campaign.id,
                CampaignRecipient.holdout.is_(False),
            )
            .order_by(CampaignRecipient.reader_id)
        )
    )
    message = campaign_message(campaign, bot_username=bot_username, translator=translator)
    queued = await outbox.enqueue_many(
        session,
        (
            Outgoing(
                reader_id=reader_id,
                kind=KIND,
                message=message,
                dedup_key=f"campaign:{campaign.id}:{wave}:{reader_id}",
                message_class=NotificationClass.PROMOTIONAL,
                topic=TOPIC,
                priority=Priority.BULK,
                campaign_id=campaign.id,
            )
            for reader_id in treated
        ),
        now=now,
    )
    campaign.waves = wave
    weekly = campaign.schedule.get("kind") == ScheduleKind.WEEKLY.value
    base = campaign.next_run_at or now
    campaign.next_run_at = base + WEEK if weekly else None
    while weekly and campaign.next_run_at is not None and campaign.next_run_at <= now:
        campaign.next_run_at += WEEK
    return queued


async def run_due(
    session: AsyncSession,
    *,
    now: datetime,
    reach: Reach,
    bot_username: str,
    translator: Translator,
) -> list[int]:
    """Launch scheduled campaigns that are due and send due weekly waves; their ids."""
    due = list(
        await session.scalars(
            select(Campaign.id)
            .where(
                Campaign.status.in_([CampaignStatus.SCHEDULED, CampaignStatus.RUNNING]),
                Campaign.next_run_at.is_not(None),
                Campaign.next_run_at <= now,
            )
            .order_by(Campaign.next_run_at, Campaign.id)
        )
    )
    done: list[int] = []
    for campaign_id in due:
        try:
            campaign = await session.get(Campaign, campaign_id, with_for_update=True)
            if (
                campaign is None
                or campaign.next_run_at is None
                or campaign.next_run_at > now
                or campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
            ):
                await session.rollback()
                continue
            if campaign.status is CampaignStatus.SCHEDULED:
                await _launch(
                    session,
                    campaign,
                    now=now,
                    reach=reach,
                    bot_username=bot_username,
                    translator=translator,
                )
            else:
                await _send_wave(
                    session, campaign, now=now, bot_username=bot_username, translator=translator
                )
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        done.append(campaign_id)
    return done


async def approve(
    session: AsyncSession,
    actor: Reader,
    campaign_id: int,
    *,
    now: datetime,
    reach: Reach,
    bot_username: str,
    translator: Translator,
) -> Campaign:
    """An admin approves a prepared campaign: it launches now (once: a second tap is refused)."""
    try:
        campaign = await session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise NotFoundError("campaign")
        if campaign.status is not CampaignStatus.DRAFT:
            raise StateError(campaign.status.value)
        campaign.next_run_at = now
        await _launch(
            session,
            campaign,
            now=now,
            reach=reach,
            bot_username=bot_username,
            translator=translator,
        )
        audit.record(
            session, actor, "campaign.approve", target_type="campaign", target_id=campaign.id
        )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return campaign


# --- pause, resume, cancel ----------------------------------------------------------------


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
    try:
        campaign = await session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise NotFoundError("campaign")
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
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return campaign


async def resume(
    session: AsyncSession, actor: Reader, campaign_id: int, *, now: datetime
) -> Campaign:
    """Carry on: paused messages go back to the queue; a missed weekly wave goes out next tick."""
    try:
        campaign = await session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise NotFoundError("campaign")
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
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return campaign


async def cancel(session: AsyncSession, actor: Reader, campaign_id: int) -> Campaign:
    """End a campaign: nothing more is sent (pending and paused messages are skipped)."""
    try:
        campaign = await session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise NotFoundError("campaign")
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
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return campaign


# --- opening the deep link ----------------------------------------------------------------


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
    """Record a treated recipient's first open; return the campaign's event and reading list."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.status is CampaignStatus.DRAFT:
        raise NotFoundError("campaign")
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
    event = await session.get(Event, campaign.event_id) if campaign.event_id else None
    work_ids = [int(i) for i in campaign.message.get("work_ids") or ()]
    works_by_id = {
        work.id: work for work in await session.scalars(select(Work).where(Work.id.in_(work_ids)))
    }
    await session.commit()
    return OpenedCampaign(
        campaign=campaign,
        event=event,
        works=[works_by_id[i] for i in work_ids if i in works_by_id],
        counted=counted,
    )


# --- metrics ------------------------------------------------------------------------------


@dataclass
class Metrics:
    """A campaign's delivery, opens, conversions and uplift (see the module docstring)."""

    targeted: int = 0
    held_out: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
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
            "blocked": self.blocked,
            "skipped": self.skipped,
            "opened": self.opened,
            "converted": self.converted,
            "converted_holdout": self.converted_holdout,
            "uplift": self.uplift,
        }


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

    blocked_row = Notification.last_error.like(f"{outbox.BLOCKED}:%").label("blocked")
    rows = await session.execute(
        select(Notification.status, blocked_row, func.count())
        .where(Notification.campaign_id == campaign.id)
        .group_by(Notification.status, blocked_row)
    )
    for status, blocked, number in rows.all():
        if status in (NotificationStatus.PENDING, NotificationStatus.SENDING):
            metrics.queued += number
        elif status is NotificationStatus.SENT:
            metrics.sent += number
        elif status is NotificationStatus.FAILED:
            metrics.failed += number
        elif blocked:
            metrics.blocked += number
        else:
            metrics.skipped += number

    if campaign.launched_at is None or not recipients:
        return metrics
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
    window = timedelta(days=conversion_days)
    starts = {
        reader_id: (first_sent.get(reader_id) if not holdout else None) or campaign.launched_at
        for reader_id, holdout, _o in recipients
    }
    ids = list(starts)
    earliest = campaign.launched_at
    actions: list[tuple[int, datetime]] = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        actions += list(
            (
                await session.execute(
                    select(Hold.reader_id, Hold.queued_at).where(
                        Hold.reader_id.in_(part), Hold.queued_at >= earliest
                    )
                )
            ).all()
        )
        actions += list(
            (
                await session.execute(
                    select(Registration.reader_id, Registration.created_at).where(
                        Registration.reader_id.in_(part), Registration.created_at >= earliest
                    )
                )
            ).all()
        )
    converted: set[int] = set()
    for reader_id, moment in actions:
        start = starts[reader_id]
        if start <= moment < start + window:
            converted.add(reader_id)
    for reader_id, holdout, _o in recipients:
        if reader_id in converted:
            if holdout:
                metrics.converted_holdout += 1
            else:
                metrics.converted += 1
    return metrics


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
    for campaign in campaigns:
        metrics = await compute_metrics(session, campaign, conversion_days=conversion_days)
        extra = {k: v for k, v in campaign.metrics.items() if k == "paused_from"}
        campaign.metrics = {**metrics.to_json(), **extra, "refreshed_at": now.isoformat()}
        over = (
            campaign.status is CampaignStatus.RUNNING
            and campaign.next_run_at is None
            and metrics.queued == 0
            and campaign.launched_at is not None
            and now >= campaign.launched_at + timedelta(days=conversion_days)
        )
        if over:
            campaign.status = CampaignStatus.COMPLETED
    await session.commit()
    return len(campaigns)


async def recent_campaigns(session: AsyncSession, limit: int = 5) -> list[Campaign]:
    """The newest campaigns first."""
    return list(await session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    """One campaign, or NotFoundError."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError("campaign")
    return campaign


# --- the weekly automatic campaign --------------------------------------------------------


async def admin_reader_ids(session: AsyncSession, admin_telegram_ids: Sequence[int]) -> list[int]:
    """Readers who are admins: granted the role, or named in the settings."""
    granted = set(
        await session.scalars(select(RoleGrant.reader_id).where(RoleGrant.role == Role.ADMIN))
    )
    if admin_telegram_ids:
        granted |= set(
            await session.scalars(
                select(Reader.id).where(Reader.telegram_id.in_(list(admin_telegram_ids)))
            )
        )
    return sorted(granted)


async def events_near(
    session: AsyncSession,
    district_ids: Sequence[int],
    *,
    now: datetime,
    days: int,
    radius_km: float,
) -> list[Event]:
    """Published events starting within ``days`` in or near the districts, soonest first."""
    if not district_ids:
        return []
    districts = list(await session.scalars(select(District).where(District.id.in_(district_ids))))
    events = list(
        await session.scalars(
            select(Event)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + timedelta(days=days),
            )
            .order_by(Event.starts_at, Event.id)
        )
    )
    chosen = []
    for event in events:
        if event.district_id in district_ids:
            chosen.append(event)
            continue
        if event.latitude is None or event.longitude is None:
            continue
        if any(
            haversine_km(event.latitude, event.longitude, d.latitude, d.longitude) <= radius_km
            for d in districts
        ):
            chosen.append(event)
    return chosen


EVENTS_IN_MESSAGE = 5


async def prepare_automatic(
    session: AsyncSession,
    *,
    now: datetime,
    reach: Reach,
    zone: tzinfo,
    translator: Translator,
    admin_telegram_ids: Sequence[int],
    event_days: int,
    radius_km: float,
    launch: bool,
    bot_username: str,
    approve_callback: Callable[[int], str],
    holdout_share: float = 0.1,
) -> Campaign | None:
    """This week's campaign for the under-reached districts, from events near them.

    It is sent to every admin for one-tap approval, or launched at once when ``launch``.
    None when no district is under-reached, no event is near one, or this week's exists.
    """
    week = now.astimezone(zone).strftime("%G-W%V")
    existing = await session.scalar(
        select(Campaign.id).where(Campaign.name == f"auto {week}").limit(1)
    )
    if existing is not None:
        return None
    districts = await resolve_districts(
        session, Audience(AudienceKind.UNDER_REACHED), now=now, reach=reach
    )
    events = await events_near(session, districts, now=now, days=event_days, radius_km=radius_km)
    if not districts or not events:
        await session.commit()
        return None
    shown = events[:EVENTS_IN_MESSAGE]

    def render(_: Gettext, language: str) -> str:
        lines = [_("<b>Reading events near you this fortnight</b>")]
        for event in shown:
            lines.append(
                "• "
                + _("{title} — {when}").format(
                    title=_escape(event.title),
                    when=event.starts_at.astimezone(zone).strftime("%m-%d %H:%M"),
                )
            )
        lines.append(_("Tap the button to see the first one and sign up."))
        return "\n".join(lines)

    draft = Draft(
        text=in_every_language(translator, render),
        audience=Audience(AudienceKind.UNDER_REACHED),
        schedule=Schedule(ScheduleKind.NOW),
        holdout_share=holdout_share,
        event_id=shown[0].id,
        name=f"auto {week}",
    )
    campaign = await create_campaign(
        session,
        None,
        draft,
        now=now,
        reach=reach,
        bot_username=bot_username,
        translator=translator,
        status=CampaignStatus.SCHEDULED if launch else CampaignStatus.DRAFT,
        commit=launch,
    )
    if launch:
        return campaign
    count, resolved = await count_audience(session, draft.audience, now=now, reach=reach)
    names = [
        d.code for d in await session.scalars(select(District).where(District.id.in_(resolved)))
    ]

    def render_approval(_: Gettext, language: str) -> str:
        body = campaign.message["text"].get(language) or ""
        return "\n\n".join(
            [
                _(
                    "A campaign for the under-reached districts ({districts}) is ready: "
                    "{count} readers, {events} events. Launch it?"
                ).format(districts=", ".join(sorted(names)), count=count, events=len(shown)),
                body,
            ]
        )

    def render_button(_: Gettext, language: str) -> str:
        return _("🚀 Launch")

    approval = OutboxMessage(
        text=in_every_language(translator, render_approval),
        buttons=(
            (
                Button(
                    label=in_every_language(translator, render_button),
                    callback_data=approve_callback(campaign.id),
                ),
            ),
        ),
    )
    try:
        for admin_id in await admin_reader_ids(session, admin_telegram_ids):
            await outbox.enqueue(
                session,
                reader_id=admin_id,
                kind=APPROVAL_KIND,
                message=approval,
                dedup_key=f"campaign-approval:{campaign.id}:{admin_id}",
                priority=Priority.NORMAL,
                now=now,
            )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return campaign


def _escape(text: str) -> str:
    return escape(text)
