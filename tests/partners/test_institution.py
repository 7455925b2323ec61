"""A college or department belongs to a school or university: /newpartner KIND@LIBRARY."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import LibraryKind, Partner, PartnerInstitution
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_library
from tests.harness import BotHarness


async def test_a_college_belongs_to_a_university(
    harness: BotHarness, session: AsyncSession
) -> None:
    university = await make_library(session, code="HBU", kind=LibraryKind.UNIVERSITY)
    await make_library(session, code="TOWN")
    await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada")
    await admin.onboard()
    [help_text] = await admin.send("/newpartner")
    assert "KIND@LIBRARY_CODE" in (help_text.text or "")
    await admin.send("/newpartner LIT college@hbu 文学院 / School of Literature")
    assert "Partner LIT added" in (admin.last_bot_message().text or "")
    await admin.send("/newpartner SHOP bookstore@HBU 书店")
    assert "Only a college or department" in (admin.last_bot_message().text or "")
    await admin.send("/newpartner PUB department@TOWN 公共部")
    assert "Only a college or department" in (admin.last_bot_message().text or "")
    await admin.send("/newpartner NOPE college@NOWHERE 无")
    assert "No library has that code." in (admin.last_bot_message().text or "")
    rows = list(
        await session.execute(
            select(Partner.code, PartnerInstitution.library_id).outerjoin(
                PartnerInstitution, PartnerInstitution.partner_id == Partner.id
            )
        )
    )
    assert rows == [("LIT", university.id)]


async def test_chinese_refusal_for_a_bookstore_of_a_university(
    harness: BotHarness, session: AsyncSession
) -> None:
    await make_library(session, code="HBU", kind=LibraryKind.UNIVERSITY)
    await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada")
    await admin.onboard("zh")
    await admin.send("/newpartner SHOP bookstore@HBU 书店")
    assert "只有学院或院系可以隶属于学校或大学图书馆。" in (admin.last_bot_message().text or "")
    await admin.send("/newpartner LIT college@NOWHERE 文学院")
    assert "没有这个代码的图书馆。" in (admin.last_bot_message().text or "")
    assert list(await session.scalars(select(Partner.id))) == []
