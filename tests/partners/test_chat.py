"""Partners in chat: an admin adds two, binds an organiser; co-hosted events list every host."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    AuditLog,
    Event,
    EventHost,
    Partner,
    PartnerOrganiser,
    Role,
    RoleGrant,
    utcnow,
)
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_event
from tests.harness import BotHarness, texts
from tests.humanlibrary.helpers import reader_of


async def test_partners_hosts_pages_and_stats(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada")
    await admin.onboard()
    organiser = harness.user(85001, "Olga", username="olga_cs")
    await organiser.onboard()
    await admin.send("/newpartner CS college 计算机学院 / School of Computing")
    assert "Partner CS added" in (admin.last_bot_message().text or "")
    await admin.send("/newpartner cs museum Again")
    assert "code is taken" in (admin.last_bot_message().text or "")
    await admin.send("/newpartner BOOKS bookstore 海滨书店 / Seaside Books")
    await admin.send("/partnerorganiser CS @olga_cs")
    assert "now organises events for 计算机学院" in (admin.last_bot_message().text or "")
    olga = await reader_of(sessionmaker, 85001)
    async with sessionmaker() as check:
        assert await check.scalar(
            select(RoleGrant.id).where(
                RoleGrant.reader_id == olga.id, RoleGrant.role == Role.ORGANISER
            )
        )
        assert await check.scalar(select(PartnerOrganiser.id))
    event = await make_event(session, title="Code and poetry night", organiser_id=olga.id)
    other = await make_event(session, title="Someone else's event")
    await session.commit()

    # The bound organiser co-hosts in their partner's name; not someone else's event.
    await organiser.send(f"/cohost {other.id}")
    assert "only to events you organise" in (organiser.last_bot_message().text or "")
    await organiser.send(f"/cohost {event.id}")
    assert "计算机学院 now co-host" in (organiser.last_bot_message().text or "")
    await organiser.send(f"/cohost {event.id} BOOKS")
    await organiser.send(f"/cohost {event.id} BOOKS")
    assert "co-hosts the event already" in (organiser.last_bot_message().text or "")
    async with sessionmaker() as check:
        assert len(list(await check.scalars(select(EventHost)))) == 2
        stored = await check.get(Event, event.id)
        assert stored is not None and stored.partners == ["计算机学院", "海滨书店"]
        assert await check.scalar(select(AuditLog.id).where(AuditLog.action == "partner.host"))

    reader = harness.user(85002, "Ren")
    await reader.onboard()
    await reader.send("/partners")
    assert "School of Computing" in (reader.last_bot_message().text or "")
    await reader.tap("School of Computing")
    page = reader.last_bot_message().text or ""
    assert "Code and poetry night" in page and "hosts: School of Computing, Seaside Books" in page
    await reader.tap("Code and poetry night")
    card = reader.last_bot_message().text or ""
    assert "计算机学院" in card and "海滨书店" in card

    today = utcnow().astimezone(harness.app.settings.zone).date()
    replies = await admin.send(f"/stats {today - timedelta(days=1)}..{today + timedelta(days=10)}")
    per_partner = next(t for t in texts(replies) if "Per partner" in t)
    assert "School of Computing: 1 · 0 · 0" in per_partner


async def test_partners_in_chinese(harness: BotHarness, session: AsyncSession) -> None:
    session.add(Partner(code="MUS", name="海滨博物馆", name_en="Haibin Museum", kind="museum"))
    await session.commit()
    mei = harness.user(85010, "梅", language_code="zh")
    await mei.onboard("zh")
    await mei.send("/partners")
    assert "我们的合作方" in (mei.last_bot_message().text or "")
    await mei.tap("海滨博物馆")
    page = mei.last_bot_message().text or ""
    assert "博物馆" in page and "近期没有活动" in page


async def test_the_demo_has_two_partners_co_hosting(session: AsyncSession) -> None:
    from datetime import datetime

    from bot.config import Settings
    from bot.services import partners
    from bot.services.demo import seed_demo

    zone = Settings(_env_file=None).zone  # type: ignore[call-arg]
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    found = await partners.all_partners(session)
    assert len(found) == 2
    page = await partners.partner_page(session, found[0].id, now=utcnow())
    assert len(page.events) == 2 and all(len(hosts) == 2 for _event, hosts in page.events)
