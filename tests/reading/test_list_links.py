"""Reading lists linked to events and campaigns: /listlink and /listunlink, the list on the
event's card, the upcoming events on the list's page, the campaign message's list button."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.i18n import create_i18n
from bot.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    Event,
    EventStatus,
    Notification,
    ReadingList,
    ReadingListEntry,
    ReadingListLink,
    Role,
    RoleGrant,
    utcnow,
)
from bot.notices.render import render
from bot.services.campaigns.sending import send_wave
from tests.factories import make_event
from tests.harness import BotHarness, ChatUser, inline_labels

from .world import World, build_world, chat_reader, reader_of


async def _staff(harness: BotHarness, user_id: int, role: Role, language: str = "en") -> ChatUser:
    user = await chat_reader(harness, user_id, language)
    reader = await reader_of(harness, user)
    async with harness.app.sessionmaker() as session:
        session.add(RoleGrant(reader_id=reader.id, role=role))
        await session.commit()
    return user


async def _list(
    harness: BotHarness, world: World, maker: ChatUser, *, published: bool = True
) -> int:
    """A list 春天读诗 | Poems for spring of the maker's, with Book 1 on it."""
    reader = await reader_of(harness, maker)
    async with harness.app.sessionmaker() as session:
        made = ReadingList(
            title="春天读诗",
            title_en="Poems for spring",
            created_by_id=reader.id,
            published=published,
        )
        session.add(made)
        await session.flush()
        session.add(ReadingListEntry(list_id=made.id, work_id=world.works[1].id, position=1))
        await session.commit()
        return made.id


async def _event(harness: BotHarness, organiser: ChatUser, **fields: object) -> Event:
    reader = await reader_of(harness, organiser)
    async with harness.app.sessionmaker() as session:
        event = await make_event(
            session,
            title="诗歌读书会",
            title_en="Poetry book club",
            organiser_id=reader.id,
            **fields,
        )
        await session.commit()
        return event


async def _links(harness: BotHarness) -> list[tuple[int, int | None, int | None]]:
    async with harness.app.sessionmaker() as session:
        rows = await session.execute(
            select(ReadingListLink.list_id, ReadingListLink.event_id, ReadingListLink.campaign_id)
        )
        return [(a, b, c) for a, b, c in rows]


async def test_an_organiser_puts_a_list_on_their_event_and_readers_open_it(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    organiser = await _staff(harness, 2301, Role.ORGANISER)
    list_id = await _list(harness, world, organiser)
    event = await _event(harness, organiser)
    await organiser.send("/myevents")
    await organiser.tap(
        next(b for b in inline_labels(organiser.last_bot_message()) if "Poetry" in b)
    )
    assert f"/listlink LIST_NUMBER event {event.id}" in (organiser.last_bot_message().caption or "")
    [reply] = await organiser.send(f"/listlink {list_id} event {event.id}")
    assert reply.text == f"📚 Poems for spring is now linked to event {event.id}."
    assert await _links(harness) == [(list_id, event.id, None)]

    reader = await chat_reader(harness, 2302)
    [card] = await reader.send(f"/start ev_{event.id}")
    assert "📚 Reading list for this event: Poems for spring" in (card.text or "")
    [page] = await reader.tap("📚 Open the reading list")
    text = page.text or ""
    assert "Poems for spring" in text and "1. Book 1" in text
    assert "Coming up with this list" in text and "• Poetry book club" in text
    assert "🗓 Poetry book club" in inline_labels(page)
    # The event card stays as it was: the list came as a new message.
    assert "Reading list for this event" in (reader.chat()[-2].text or "")

    [reply] = await organiser.send(f"/listunlink event {event.id}")
    assert reply.text == f"📚 Poems for spring is no longer linked to event {event.id}."
    [card] = await reader.send(f"/start ev_{event.id}")
    assert "Reading list" not in (card.text or "")
    [reply] = await organiser.send(f"/listunlink event {event.id}")
    assert reply.text == "No reading list is linked to it."


async def test_bad_links_are_refused_and_nothing_is_stored(harness: BotHarness) -> None:
    world = await build_world(harness)
    organiser = await _staff(harness, 2311, Role.ORGANISER)
    other = await _staff(harness, 2312, Role.ORGANISER)
    mine = await _list(harness, world, organiser)
    theirs = await _list(harness, world, other)
    draft = await _list(harness, world, organiser, published=False)
    event = await _event(harness, organiser)
    their_event = await _event(harness, other)
    cancelled = await _event(harness, organiser, status=EventStatus.CANCELLED)
    refusals = {
        f"/listlink {theirs} event {event.id}": "You can only link a reading list you made.",
        f"/listlink {draft} event {event.id}": "Publish the list first: readers could not "
        "open an unpublished list.",
        f"/listlink {mine} event {their_event.id}": "You can only manage your own events.",
        f"/listlink {mine} event {cancelled.id}": "That event is cancelled or over: a list can "
        "only go on an event to come.",
        f"/listlink {mine} event 99999": "There is no event with that number.",
        "/listlink 99999 event 1": "There is no reading list with that number.",
        f"/listlink {mine} party {event.id}": "Send /listlink LIST_NUMBER event EVENT_NUMBER",
        f"/listlink {mine} event 99999999999999999999": "Send /listlink LIST_NUMBER event",
        f"/listunlink event {their_event.id}": "You can only manage your own events.",
    }
    for command, expected in refusals.items():
        [reply] = await organiser.send(command)
        assert (reply.text or "").startswith(expected), (command, reply.text)
    # A reader without the organiser role cannot link at all.
    reader = await chat_reader(harness, 2313)
    await reader.send(f"/listlink {mine} event {event.id}")
    assert await _links(harness) == []


async def test_unpublishing_or_deleting_a_list_takes_it_off_in_chinese(
    harness: BotHarness,
) -> None:
    world = await build_world(harness)
    organiser = await _staff(harness, 2321, Role.ORGANISER, language="zh")
    list_id = await _list(harness, world, organiser)
    event = await _event(harness, organiser)
    [reply] = await organiser.send(f"/listlink {list_id} 活动 {event.id}")
    assert reply.text == f"📚 春天读诗 已关联到活动 {event.id}。"
    reader = await chat_reader(harness, 2322, language="zh")
    [card] = await reader.send(f"/start ev_{event.id}")
    assert "📚 本活动的书单：春天读诗" in (card.text or "")
    [page] = await reader.tap("📚 打开书单")
    assert "即将举行的相关活动" in (page.text or "") and "• 诗歌读书会" in (page.text or "")
    # Unpublished from the list's edit view: the link goes with it.
    await organiser.send("/lists")
    await organiser.tap("🛠 春天读诗")
    await organiser.tap("取消发布")
    assert await _links(harness) == []
    [card] = await reader.send(f"/start ev_{event.id}")
    assert "书单" not in (card.text or "")
    # Published again and relinked, then deleted: the link is deleted with it.
    await organiser.tap("📢 发布")
    await organiser.send(f"/listlink {list_id} event {event.id}")
    assert len(await _links(harness)) == 1
    async with harness.app.sessionmaker() as session:
        await session.execute(delete(ReadingList).where(ReadingList.id == list_id))
        await session.commit()
    assert await _links(harness) == []
    [card] = await reader.send(f"/start ev_{event.id}")
    assert "书单" not in (card.text or "")


async def test_a_campaign_message_carries_a_button_to_its_list(harness: BotHarness) -> None:
    world = await build_world(harness)
    admin = await _staff(harness, 2331, Role.ADMIN)
    list_id = await _list(harness, world, admin)
    reader = await chat_reader(harness, 2332, language="zh")
    member = await reader_of(harness, reader)
    async with harness.app.sessionmaker() as session:
        campaign = Campaign(
            name="Spring",
            message={"text": {"en": "Read poems", "zh": "读诗"}},
            status=CampaignStatus.RUNNING,
        )
        over = Campaign(name="Winter", message={}, status=CampaignStatus.COMPLETED)
        session.add_all([campaign, over])
        await session.flush()
        session.add(CampaignRecipient(campaign_id=campaign.id, reader_id=member.id))
        await session.commit()
        campaign_id, over_id = campaign.id, over.id
    [reply] = await admin.send(f"/listlink {list_id} campaign {over_id}")
    assert reply.text == (
        "That campaign is cancelled or completed: a list cannot go on it any more."
    )
    # An organiser who did not make the campaign cannot link to it.
    organiser = await _staff(harness, 2333, Role.ORGANISER)
    their_list = await _list(harness, world, organiser)
    [reply] = await organiser.send(f"/listlink {their_list} campaign {campaign_id}")
    assert reply.text == "Only an admin or the campaign's maker can link a list to it."
    [reply] = await admin.send(f"/listlink {list_id} campaign {campaign_id}")
    assert reply.text == f"📚 Poems for spring is now linked to campaign {campaign_id}."
    async with harness.app.sessionmaker() as session:
        found = await session.get(Campaign, campaign_id)
        assert found is not None
        await send_wave(session, found, now=utcnow(), bot_username="bookbridge_bot")
        await session.commit()
        payload = await session.scalar(
            select(Notification.payload).where(Notification.campaign_id == campaign_id)
        )
    assert payload is not None
    settings = harness.app.settings
    rendered = render(payload, "zh", translator=create_i18n("zh"), settings=settings)
    [more], [to_list] = rendered.buttons
    assert to_list.url == f"https://t.me/bookbridge_bot?start=rl_{list_id}"
    assert to_list.label == "📚 书单：春天读诗"
    english = render(payload, "en", translator=create_i18n("en"), settings=settings)
    assert english.buttons[1][0].label == "📚 Reading list: Poems for spring"
    # The button's deep link opens the list for the reader.
    [page] = await reader.send(f"/start rl_{list_id}")
    assert "春天读诗" in (page.text or "") and "1. Book 1" in (page.text or "")
    [gone] = await reader.send("/start rl_99999")
    assert gone.text == "该书单或图书不存在（或已删除）。"
    assert more.url == f"https://t.me/bookbridge_bot?start=cmp_{campaign_id}"
