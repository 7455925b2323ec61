"""Issue 16 in reach and campaigns: what admins saw wrong, each pinned by a test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import Campaign, ReachSnapshot, Registration, RegistrationStatus, utcnow
from jobs.reach import measure_reach
from tests.campaigns.city import City, seed_city
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_district, make_event, make_reader
from tests.harness import BotHarness, ChatUser, inline_labels, texts


@pytest.fixture
async def city(session: AsyncSession) -> City:
    return await seed_city(session, utcnow())


@pytest.fixture
async def admin(harness: BotHarness) -> ChatUser:
    user = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    await user.onboard("en")
    return user


async def _write_texts(admin: ChatUser, zh: str, en: str) -> None:
    await admin.send("/newcampaign")
    await admin.send(zh)
    await admin.send(en)


# --- 4: entities escaped twice on /campaigns ----------------------------------------------


async def test_campaigns_console_shows_names_as_typed_not_html_entities(
    admin: ChatUser, city: City, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _write_texts(admin, "Books & events <b>", "Books & events")
    await admin.tap("Nothing")
    await admin.tap("⚠️ The under-reached districts")
    await admin.tap("Now")
    await admin.tap("10% ✅")
    await admin.tap("🚀 Launch")
    async with sessionmaker() as session:
        campaign = await session.scalar(select(Campaign))
    assert campaign is not None and campaign.name == "Books & events <b>"
    cards = [m for m in await admin.send("/campaigns") if (m.text or "").startswith("#")]
    assert (cards[0].text or "").startswith(f"#{campaign.id} Books & events <b> — running")
    assert "&amp;" not in (cards[0].text or "") and "&lt;" not in (cards[0].text or "")


# --- 5: /reach showed a week-old snapshot as if it were live ------------------------------


async def test_reach_shows_live_figures_after_a_registration_in_an_under_reached_district(
    harness: BotHarness,
    admin: ChatUser,
    city: City,
    session: AsyncSession,
    settings: Settings,
) -> None:
    # The weekly job stored a measurement (it used to run at every start, too).
    await measure_reach(harness.app.sessionmaker, settings)
    reader = city.readers["D"][5]  # one of D's idle readers
    session.add(
        Registration(
            event_id=city.event.id,
            reader_id=reader.id,
            status=RegistrationStatus.CONFIRMED,
            created_at=utcnow() - timedelta(minutes=5),
        )
    )
    await session.commit()
    ranking = (await admin.send("/reach"))[0].text or ""
    lines = ranking.splitlines()
    d_line = next(n for n, line in enumerate(lines) if "⚠️ D:" in line or " D:" in line)
    # D now has two active readers and one registration per 10,000 inhabitants.
    assert "2.0 active readers" in lines[d_line + 1]
    assert "1.0 registrations" in lines[d_line + 1]
    assert "live" in lines[1].lower()


async def test_the_reach_job_stores_a_measurement_once_a_week_not_at_every_start(
    harness: BotHarness, city: City, settings: Settings, session: AsyncSession
) -> None:
    async def stored() -> int:
        count = await session.scalar(select(func.count()).select_from(ReachSnapshot))
        await session.commit()
        return int(count or 0)

    await measure_reach(harness.app.sessionmaker, settings)
    assert await stored() == 4
    await measure_reach(harness.app.sessionmaker, settings)  # the bot restarted
    assert await stored() == 4
    # A week later the job measures again.
    await session.execute(
        ReachSnapshot.__table__.update().values(computed_at=utcnow() - timedelta(days=7))
    )
    await session.commit()
    await measure_reach(harness.app.sessionmaker, settings)
    assert await stored() == 8


# --- 6: the event picker showed 8 events, and /campaigns the 5 newest ---------------------


async def test_the_event_picker_pages_to_an_event_in_an_under_reached_district(
    admin: ChatUser,
    city: City,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    for day in range(1, 10):
        await make_event(session, title=f"Central talk {day}", starts_at=now + timedelta(days=day))
    target = await make_event(
        session,
        title="Harbour stories & songs",
        starts_at=now + timedelta(days=12),
        district_id=city.districts["D"].id,
    )
    await session.commit()
    await _write_texts(admin, "来听故事", "Come and listen")
    await admin.tap("📅 An event")
    first = inline_labels(admin.last_bot_message())
    assert not any("Harbour" in label for label in first)
    await admin.tap("▶️")
    second = inline_labels(admin.last_bot_message())
    assert "◀️" in second and "2/2" in second
    label = next(label for label in second if "Harbour" in label)
    assert "Harbour stories & songs" in label  # a label is plain text: never escaped
    await admin.tap(label)
    assert "Linked event: Harbour stories &amp; songs." not in (admin.last_bot_message().text or "")
    await admin.tap("⚠️ The under-reached districts")
    await admin.tap("Now")
    await admin.tap("10% ✅")
    await admin.tap("🚀 Launch")
    async with sessionmaker() as other:
        campaign = await other.scalar(select(Campaign))
    assert campaign is not None and campaign.event_id == target.id


async def test_campaigns_console_pages_to_older_campaigns(admin: ChatUser, city: City) -> None:
    for number in range(6):
        await _write_texts(admin, f"第{number}次", f"Campaign number {number}")
        await admin.tap("Nothing")
        await admin.tap("⚠️ The under-reached districts")
        await admin.tap("Now")
        await admin.tap("None")
        await admin.tap("🚀 Launch")
    shown = texts(await admin.send("/campaigns"))
    assert not any(text.startswith("#1 ") for text in shown)
    older = texts(await admin.tap("Older ▶️"))
    assert any(text.startswith("#1 第0次") for text in older)


# --- 8: plurals and Chinese lists ---------------------------------------------------------


async def test_chinese_lists_use_the_enumeration_comma(
    harness: BotHarness, session: AsyncSession
) -> None:
    for code, name in (("N1", "北区"), ("N2", "南区"), ("N3", "西区")):
        await make_district(session, code=code, name=name, name_en=code)
    await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "管理员", language_code="zh")
    await admin.onboard("zh")
    await _write_texts(admin, "来读书", "Come and read")
    await admin.tap("都不关联")
    await admin.tap("🏘 我选择的区")
    for district in ("▫️ 北区", "▫️ 南区", "▫️ 西区"):
        await admin.tap(district)
    await admin.tap("下一步 ▶️")
    assert "北区、南区和西区" in (admin.chat()[-2].text or "")


async def test_one_reader_is_not_one_readers(admin: ChatUser, session: AsyncSession) -> None:
    district = await make_district(session, code="SOLO", name="独区", name_en="Solo")
    await make_reader(session, district_id=district.id)
    await session.commit()
    await _write_texts(admin, "来读书", "Come and read")
    await admin.tap("Nothing")
    await admin.tap("🏘 Districts I choose")
    await admin.tap("▫️ Solo")
    await admin.tap("Next ▶️")
    await admin.tap("Now")
    summary = texts(await admin.tap("None"))[-1]
    assert "readers in Solo — 1 reader now." in summary
    assert "1 readers" not in summary


# --- a wizard whose answers are gone -------------------------------------------------------


async def test_a_campaign_wizard_whose_answers_are_gone_says_the_form_expired(
    harness: BotHarness, admin: ChatUser, city: City, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from handlers.campaigns.draft import CampaignStep, CampaignWizard, Step

    expired = "This form has expired. Please start again with /newcampaign."
    context = harness.app.dispatcher.fsm.get_context(
        harness.bot, chat_id=admin.user_id, user_id=admin.user_id
    )
    for state, act in (
        (CampaignWizard.text_en, lambda: admin.send("Come and read")),
        (CampaignWizard.holdout, lambda: admin.send("10")),
        (
            CampaignWizard.audience,
            lambda: admin.forge(CampaignStep(step=Step.AUDIENCE, value="under").pack()),
        ),
        (CampaignWizard.confirm, lambda: admin.forge(CampaignStep(step=Step.LAUNCH).pack())),
    ):
        await context.clear()
        await context.set_state(state)
        replies = await act()
        said = [m.text for m in replies] + [(admin.last_answer or {}).get("text")]
        assert expired in said, state
        assert await context.get_state() is None
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == 0
