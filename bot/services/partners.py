"""Partners: organisations that co-host events, their organisers, pages and activity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import (
    Event,
    EventHost,
    EventStatus,
    Partner,
    PartnerInstitution,
    PartnerKind,
    PartnerOrganiser,
    Reader,
    Registration,
    RegistrationStatus,
    Role,
    RoleGrant,
)
from bot.services import audit
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.records import HOLDING, managed_event
from bot.services.follows import library_by_code
from bot.services.reading.teams import DEPARTMENT_KINDS, INSTITUTION_KINDS
from bot.services.roles import RoleSet

CODE = re.compile(r"^[A-Z0-9_]{2,16}$")


class AlreadyHostingError(DomainError):
    """The partner co-hosts the event already."""


async def create_partner(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    *,
    code: str,
    kind: PartnerKind,
    name: str,
    name_en: str | None = None,
    description: str = "",
    library_code: str | None = None,
) -> Partner:
    """A new partner (admins); a college or department may belong to the school or
    university whose library has ``library_code`` (its readers then pick it in /settings)."""
    if not roles.is_admin:
        raise NotAllowedError("admins only")
    code = code.upper()
    if not CODE.match(code):
        raise InvalidInputError("code")
    if not 0 < len(name) <= 200 or (name_en is not None and not 0 < len(name_en) <= 200):
        raise InvalidInputError("name")
    if await session.scalar(select(Partner.id).where(Partner.code == code)) is not None:
        raise InvalidInputError("taken")
    library = None
    if library_code is not None:
        library = await library_by_code(session, library_code)
        if library.kind not in INSTITUTION_KINDS or kind not in DEPARTMENT_KINDS:
            raise InvalidInputError("institution")
    async with write(session):
        partner = Partner(
            code=code,
            kind=kind,
            name=name,
            name_en=name_en,
            description=description[:2000],
        )
        session.add(partner)
        await session.flush()
        if library is not None:
            session.add(PartnerInstitution(partner_id=partner.id, library_id=library.id))
        audit.record(session, actor, "partner.create", target_type="partner", target_id=partner.id)
    return partner


async def partner_by_code(session: AsyncSession, code: str) -> Partner:
    """A partner by its code (case-insensitive)."""
    partner = await session.scalar(select(Partner).where(Partner.code == code.upper()))
    if partner is None:
        raise NotFoundError("partner")
    return partner


async def bind_organiser(
    session: AsyncSession, actor: Reader, roles: RoleSet, code: str, person: Reader
) -> Partner:
    """Make the person an organiser for the partner (and an organiser, if not yet)."""
    if not roles.is_admin:
        raise NotAllowedError("admins only")
    partner = await partner_by_code(session, code)
    bound = await session.scalar(
        select(PartnerOrganiser.id).where(
            PartnerOrganiser.partner_id == partner.id, PartnerOrganiser.reader_id == person.id
        )
    )
    if bound is not None:
        return partner
    organiser = await session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.reader_id == person.id, RoleGrant.role == Role.ORGANISER
        )
    )
    async with write(session):
        if organiser is None:
            session.add(RoleGrant(reader_id=person.id, role=Role.ORGANISER, granted_by_id=actor.id))
        session.add(PartnerOrganiser(partner_id=partner.id, reader_id=person.id))
        audit.record(
            session,
            actor,
            "partner.organiser",
            target_type="partner",
            target_id=partner.id,
            reader_id=person.id,
        )
    return partner


async def partners_of(session: AsyncSession, organiser: Reader) -> list[Partner]:
    """The partners the organiser is bound to."""
    return list(
        await session.scalars(
            select(Partner)
            .join(PartnerOrganiser, PartnerOrganiser.partner_id == Partner.id)
            .where(PartnerOrganiser.reader_id == organiser.id)
            .order_by(Partner.code)
        )
    )


async def add_host(
    session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int, code: str | None
) -> tuple[Event, list[Partner]]:
    """Co-host the event with a partner (the organiser's own when no code is given).

    The event's organiser (or an admin) may add any partner; the event then lists every
    host among its partners, in the partners' names.
    """
    event = await managed_event(session, actor, roles, event_id)
    if code:
        chosen = [await partner_by_code(session, code)]
    else:
        chosen = await partners_of(session, actor)
        if not chosen:
            raise NotFoundError("no partner")
    hosting = set(
        await session.scalars(select(EventHost.partner_id).where(EventHost.event_id == event.id))
    )
    added = [partner for partner in chosen if partner.id not in hosting]
    if not added:
        raise AlreadyHostingError("hosting")
    names = list(event.partners or [])
    names += [partner.name for partner in added if partner.name not in names]
    async with write(session):
        session.add_all(EventHost(event_id=event.id, partner_id=p.id) for p in added)
        await session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(partners=names)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            session,
            actor,
            "partner.host",
            target_type="event",
            target_id=event.id,
            partners=[partner.code for partner in added],
        )
    return event, added


async def all_partners(session: AsyncSession) -> list[Partner]:
    """Every partner, by kind and code."""
    return list(await session.scalars(select(Partner).order_by(Partner.kind, Partner.code)))


@dataclass(frozen=True)
class PartnerPage:
    """A partner with its upcoming co-hosted events and who else hosts them."""

    partner: Partner
    events: list[tuple[Event, list[Partner]]]


async def partner_page(session: AsyncSession, partner_id: int, *, now: datetime) -> PartnerPage:
    """The partner's page: upcoming events it co-hosts, each with every host."""
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise NotFoundError("partner")
    events = list(
        await session.scalars(
            select(Event)
            .join(EventHost, EventHost.event_id == Event.id)
            .where(
                EventHost.partner_id == partner.id,
                Event.ends_at > now,
                Event.status == EventStatus.PUBLISHED,
            )
            .order_by(Event.starts_at)
            .limit(20)
        )
    )
    hosts = (
        list(
            await session.scalars(
                select(EventHost)
                .where(EventHost.event_id.in_([event.id for event in events]))
                .options(selectinload(EventHost.partner))
            )
        )
        if events
        else []
    )
    by_event: dict[int, list[Partner]] = {}
    for host in hosts:
        by_event.setdefault(host.event_id, []).append(host.partner)
    return PartnerPage(
        partner=partner, events=[(event, by_event.get(event.id, [])) for event in events]
    )


@dataclass(frozen=True)
class PartnerActivity:
    """One partner's activity in a period: events co-hosted, registrations, attendance."""

    partner: Partner
    events: int
    registrations: int
    attended: int


async def partner_activity(
    session: AsyncSession, start: datetime, end: datetime
) -> list[PartnerActivity]:
    """Per partner, over events starting in [start, end): most events first."""
    partners = await all_partners(session)
    events = dict(
        (
            await session.execute(
                select(EventHost.partner_id, func.count(EventHost.id))
                .join(Event, Event.id == EventHost.event_id)
                .where(Event.starts_at >= start, Event.starts_at < end)
                .group_by(EventHost.partner_id)
            )
        ).all()
    )
    counts: dict[tuple[int, bool], int] = {}
    rows = await session.execute(
        select(EventHost.partner_id, Registration.status, func.count(Registration.id))
        .join(Event, Event.id == EventHost.event_id)
        .join(Registration, Registration.event_id == Event.id)
        .where(
            Event.starts_at >= start,
            Event.starts_at < end,
            Registration.status.in_(HOLDING),
        )
        .group_by(EventHost.partner_id, Registration.status)
    )
    for partner_id, status, number in rows.all():
        counts[(partner_id, False)] = counts.get((partner_id, False), 0) + number
        if status is RegistrationStatus.ATTENDED:
            counts[(partner_id, True)] = counts.get((partner_id, True), 0) + number
    found = [
        PartnerActivity(
            partner=partner,
            events=int(events.get(partner.id, 0)),
            registrations=counts.get((partner.id, False), 0),
            attended=counts.get((partner.id, True), 0),
        )
        for partner in partners
    ]
    return sorted(found, key=lambda item: (-item.events, item.partner.code))
