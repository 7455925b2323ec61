"""Following libraries and broadcasting, end to end through the real dispatcher."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.rendering import Unsubscribe
from bot.models import (
    Broadcast,
    BroadcastStatus,
    Library,
    LibraryFollow,
    Notification,
    NotificationClass,
    NotificationStatus,
    Reader,
    Role,
    RoleGrant,
)
from bot.services import outbox
from bot.services.outbox import OutboxMessage
from handlers.broadcasts.draft import (
    AudienceAction,
    AudienceChoice,
    BroadcastWizard,
    StepAction,
    StepChoice,
)
from handlers.follow import FollowAction, FollowChoice, FollowView
from jobs.broadcasts import BroadcastReporter
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_district, make_library
from tests.harness import BotHarness, ChatUser, inline_labels
from tests.outbox.conftest import FakeTime, WorkerFactory, next_local, rows


async def _reader(sessionmaker: async_sessionmaker[AsyncSession], user: ChatUser) -> Reader:
    async with sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == user.user_id))
        assert reader is not None
        return reader


async def _grant(
    sessionmaker: async_sessionmaker[AsyncSession], user: ChatUser, library: Library | None
) -> None:
    reader = await _reader(sessionmaker, user)
    async with sessionmaker() as session:
        session.add(
            RoleGrant(
                reader_id=reader.id,
                role=Role.ORGANISER,
                library_id=library.id if library else None,
            )
        )
        await session.commit()


async def _follow(
    sessionmaker: async_sessionmaker[AsyncSession], user: ChatUser, *libraries: Library
) -> None:
    reader = await _reader(sessionmaker, user)
    async with sessionmaker() as session:
        for library in libraries:
            session.add(LibraryFollow(reader_id=reader.id, library_id=library.id))
        await session.commit()


async def _libraries(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[Library, Library]:
    async with sessionmaker() as session:
        district = await make_district(session)
        central = await make_library(session, district, code="CENTRAL", name_en="Central Library")
        campus = await make_library(session, district, code="CAMPUS", name_en="Campus Library")
        await session.commit()
    return central, campus


def _text(message: object) -> str:
    return getattr(message, "text", None) or getattr(message, "caption", None) or ""


async def test_readers_follow_libraries_from_the_picker_list_and_card(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    _central, campus = await _libraries(sessionmaker)
    reader = harness.user(301, "Ann")
    await reader.onboard()

    [picker] = await reader.send("/follow")
    assert "Which libraries would you like to follow?" in _text(picker)
    assert inline_labels(picker) == ["Campus Library", "Central Library"]
    await reader.tap("Central Library")
    assert reader.last_answer is not None
    assert reader.last_answer["text"] == "You now follow Central Library."
    assert inline_labels(reader.last_bot_message()) == ["Campus Library", "✅ Central Library"]

    [listing] = await reader.send("/following")
    assert _text(listing) == "You follow these libraries:\n• Central Library"
    await reader.tap("Unfollow Central Library")
    assert _text(reader.last_bot_message()) == (
        "You don't follow any library yet. Send /follow to choose some."
    )

    [card] = await reader.send("/start lib_campus")
    assert _text(card).startswith("🏛 Campus Library")
    assert "Opening hours: Mon–Sun 09:00–21:00" in _text(card)
    await reader.tap("Follow this library")
    assert inline_labels(reader.last_bot_message()) == ["Unfollow"]
    [unknown] = await reader.send("/start lib_NOWHERE")
    assert _text(unknown) == "That library is not in our list any more."

    await reader.forge(
        FollowChoice(action=FollowAction.FOLLOW, value=9999, view=FollowView.PICKER).pack()
    )
    assert reader.last_answer == {
        "text": "That library is not in our list any more.",
        "show_alert": True,
        "url": None,
        "cache_time": None,
    }
    async with sessionmaker() as session:
        follows = list(await session.scalars(select(LibraryFollow.library_id)))
    assert follows == [campus.id]


async def test_an_organiser_broadcasts_to_the_followers_of_their_library(
    harness: BotHarness,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    central, campus = await _libraries(sessionmaker)
    organiser = harness.user(300, "Olga")
    follower = harness.user(301, "Ann")
    chinese = harness.user(302, "Li", language_code="zh")
    blocker = harness.user(303, "Bo")
    opted_out = harness.user(304, "Cy")
    elsewhere = harness.user(305, "Di")
    for user in (organiser, follower, blocker, opted_out, elsewhere):
        await user.onboard()
    await chinese.onboard("zh")
    await _grant(sessionmaker, organiser, central)
    for user in (follower, chinese, blocker, opted_out):
        await _follow(sessionmaker, user, central)
    await _follow(sessionmaker, elsewhere, campus)
    async with sessionmaker() as session:
        await session.execute(
            update(Reader).where(Reader.telegram_id == 304).values(notify_announcements=False)
        )
        await session.commit()

    [start] = await organiser.send("/broadcast")
    assert _text(start).startswith("📣 New broadcast.")
    # Only the organiser's own library is offered.
    assert inline_labels(start) == ["▫️ Central Library (4 followers)", "Next ▶️", "✖️ Cancel"]
    await organiser.tap("Next ▶️")
    assert organiser.last_answer is not None
    assert organiser.last_answer["text"] == "Choose at least one first."
    await organiser.tap("▫️ Central Library (4 followers)")
    await organiser.tap("Next ▶️")
    summary, prompt = organiser.chat()[-2:]
    assert _text(summary) == "Audience: followers of Central Library — 4 readers now."
    assert _text(prompt).startswith("Send the message in Chinese.")
    [english_prompt] = await organiser.send("周六闭馆 <维修>")
    assert "English version" in _text(english_prompt)
    await organiser.send("Closed on Saturday <repairs>")
    await organiser.send("ftp://nope")
    assert "not a web link" in _text(organiser.last_bot_message())
    preview = await organiser.send("Details https://example.org/closure")
    assert [_text(m) for m in preview] == [
        "Preview — this is what readers will see:",
        "周六闭馆 <维修>",
        "Closed on Saturday <repairs>",
        _text(preview[-1]),
    ]
    assert inline_labels(preview[1]) == ["Details", "退订此类消息"]
    assert inline_labels(preview[2]) == ["Details", "Unsubscribe from these"]
    assert _text(preview[-1]).startswith("Send it to followers of Central Library (4 readers)?")
    assert inline_labels(preview[-1]) == ["✅ Send", "✖️ Cancel"]  # no urgent for organisers

    [status] = await organiser.tap("✅ Send")
    assert _text(organiser.chat()[-2]) == "Broadcast queued."
    assert _text(status).startswith("📣 Broadcast #1 is on its way to 4 readers.")
    assert "Queued: 4" in _text(status)

    harness.sandbox.block(303)
    worker = make_worker(bot_=harness.bot)
    report = await worker.drain()
    assert (report.sent, report.blocked, report.skipped) == (2, 1, 1)

    [received] = follower.new_bot_messages()
    assert _text(received) == "Closed on Saturday <repairs>"
    assert inline_labels(received) == ["Details", "Unsubscribe from these"]
    assert [_text(m) for m in chinese.new_bot_messages()] == ["周六闭馆 <维修>"]
    assert opted_out.new_bot_messages() == []
    assert elsewhere.new_bot_messages() == []

    reporter = BroadcastReporter(sessionmaker, harness.bot, harness.app.i18n, worker.pacer)
    assert await reporter.report() == 1
    final = harness.sandbox.message(300, status.message_id)
    assert _text(final) == (
        "✅ Broadcast #1 is finished.\n\n"
        "Queued: 0\nSent: 2\nFailed: 0\nBlocked the bot: 1\n"
        "Skipped (opted out or frequency cap): 1\n\n"
        "Delivered to 2 of 4 readers."
    )
    assert await reporter.report() == 0
    async with sessionmaker() as session:
        broadcast = await session.scalar(select(Broadcast))
        assert broadcast is not None
        assert broadcast.status is BroadcastStatus.DONE
        assert broadcast.urgent is False
        classes = set(await session.scalars(select(Notification.message_class)))
        assert classes == {NotificationClass.PROMOTIONAL}

    # One tap on the button turns announcements off for the reader.
    await follower.tap("Unsubscribe from these")
    assert follower.last_answer is not None
    assert follower.last_answer["show_alert"] is True
    assert "no more “Library announcements” messages" in (follower.last_answer["text"] or "")
    assert (await _reader(sessionmaker, follower)).notify_announcements is False


async def test_an_admin_sends_an_urgent_broadcast_to_a_district_at_night(
    harness: BotHarness,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_worker: WorkerFactory,
) -> None:
    async with sessionmaker() as session:
        north = await make_district(session, code="N", name="北区", name_en="North")
        await make_district(session, code="S", name="南区", name_en="South")
        await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    northerners = [harness.user(310 + n, f"N{n}") for n in range(2)]
    southerner = harness.user(320, "S")
    for user in (admin, *northerners, southerner):
        await user.onboard()
    async with sessionmaker() as session:
        await session.execute(
            update(Reader).where(Reader.telegram_id.in_([310, 311])).values(district_id=north.id)
        )
        await session.commit()

    [start] = await admin.send("/broadcast")
    assert inline_labels(start) == [
        "Followers of libraries",
        "Readers in districts",
        "Everyone",
        "✖️ Cancel",
    ]
    await admin.tap("Readers in districts")
    await admin.tap("▫️ North")
    await admin.tap("Next ▶️")
    assert _text(admin.chat()[-2]) == "Audience: readers in North — 2 readers now."
    await admin.tap("Skip")
    await admin.send("The central library is closed today: burst pipe.")
    preview = await admin.tap("Skip")
    assert inline_labels(admin.last_bot_message()) == [
        "✅ Send",
        "🚨 Send as urgent",
        "✖️ Cancel",
    ]
    assert len([m for m in preview if "burst pipe" in _text(m)]) == 1  # English only
    await admin.tap("🚨 Send as urgent")
    assert _text(admin.chat()[-2]) == "🚨 Urgent broadcast queued."

    night = FakeTime(next_local(time(23, 30)))
    report = await make_worker(bot_=harness.bot, timekeeper=night).drain()
    assert report.sent == 2
    for user in northerners:
        [message] = user.new_bot_messages()
        assert _text(message) == "The central library is closed today: burst pipe."
        assert message.reply_markup is None  # transactional: no unsubscribe button
    assert southerner.new_bot_messages() == []
    assert {row.message_class for row in await rows(sessionmaker)} == {
        NotificationClass.TRANSACTIONAL
    }


async def test_only_organisers_and_admins_broadcast_and_only_to_their_audience(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    central, campus = await _libraries(sessionmaker)
    reader = harness.user(330, "Reader")
    unbound = harness.user(331, "Unbound")
    organiser = harness.user(332, "Olga")
    for user in (reader, unbound, organiser):
        await user.onboard()
    await _grant(sessionmaker, unbound, None)
    await _grant(sessionmaker, organiser, central)
    await _follow(sessionmaker, reader, central, campus)

    [refusal] = await reader.send("/broadcast")
    assert _text(refusal) == (
        "Sorry, /broadcast is only for event organisers. Send /help to see what you can do."
    )
    await reader.forge(AudienceChoice(action=AudienceAction.KIND, kind="a").pack())
    assert reader.last_answer is not None
    assert reader.last_answer["text"] == "Sorry, only organisers and admins can send broadcasts."
    await reader.forge(StepChoice(action=StepAction.SEND).pack())
    assert reader.last_answer["text"] == "Sorry, only organisers and admins can send broadcasts."

    [unbound_reply] = await unbound.send("/broadcast")
    assert "not tied to a library" in _text(unbound_reply)

    await organiser.send("/broadcast")
    for forged in (
        AudienceChoice(action=AudienceAction.PICK, kind="l", value=campus.id),
        AudienceChoice(action=AudienceAction.KIND, kind="d"),
        AudienceChoice(action=AudienceAction.KIND, kind="a"),
    ):
        await organiser.forge(forged.pack())
        assert organiser.last_answer is not None
        assert organiser.last_answer["text"] == "You may not send broadcasts to that audience."
    await organiser.tap("▫️ Central Library (1 followers)")
    await organiser.tap("Next ▶️")
    await organiser.send("中文")
    await organiser.send("English")
    await organiser.tap("Skip")
    await organiser.forge(StepChoice(action=StepAction.URGENT).pack())
    assert organiser.last_answer is not None
    assert organiser.last_answer["text"] == "You may not send broadcasts to that audience."
    await organiser.tap("✅ Send")
    # A second tap (or a replayed callback) sends nothing more.
    await organiser.forge(StepChoice(action=StepAction.SEND).pack())
    assert organiser.last_answer is not None
    assert organiser.last_answer["text"] == "This button is no longer active."
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Broadcast.id))) == 1
        assert await session.scalar(select(func.count(Notification.id))) == 1
        broadcast = await session.scalar(select(Broadcast))
        assert broadcast is not None
        assert broadcast.target_ids == [central.id]
        assert broadcast.urgent is False


async def test_a_blocked_reader_gets_their_notices_after_writing_again(
    harness: BotHarness,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_worker: WorkerFactory,
) -> None:
    user = harness.user(340, "Eve")
    await user.onboard()
    reader = await _reader(sessionmaker, user)
    async with sessionmaker() as session:
        for key, message_class, topic in (
            ("hold-ready", NotificationClass.TRANSACTIONAL, None),
            ("campaign", NotificationClass.PROMOTIONAL, "campaigns"),
        ):
            await outbox.enqueue(
                session,
                reader_id=reader.id,
                kind=key,
                message=OutboxMessage(text={"en": key}),
                dedup_key=key,
                message_class=message_class,
                topic=topic,
            )
        await session.commit()
    # Blocking also tells the bot (my_chat_member); the sandbox only queues that update
    # when updates are queued, so queue it for this one call and feed it.
    harness.sandbox.queue_updates = True
    harness.sandbox.block(340)
    harness.sandbox.queue_updates = False
    [kicked] = [u for u in harness.sandbox.pending_updates if u.my_chat_member is not None]
    await harness.feed(kicked)
    assert (await _reader(sessionmaker, user)).is_blocked

    worker = make_worker(bot_=harness.bot)
    assert (await worker.drain()).sent == 0
    statuses = {row.kind: (row.status, row.last_error) for row in await rows(sessionmaker)}
    assert statuses == {
        "hold-ready": (NotificationStatus.PENDING, None),
        "campaign": (NotificationStatus.SKIPPED, "blocked: the reader blocked the bot"),
    }

    harness.sandbox.unblock(340)
    await user.send("/start")
    assert not (await _reader(sessionmaker, user)).is_blocked
    user.new_bot_messages()
    assert (await worker.drain()).sent == 1
    assert [_text(m) for m in user.new_bot_messages()] == ["hold-ready"]


def test_unsubscribe_callback_data_fits_telegram() -> None:
    for topic in ("events", "announcements", "campaigns"):
        assert len(Unsubscribe(topic=topic).pack().encode()) <= 64


async def test_a_broadcast_draft_that_is_gone_says_the_form_expired_at_every_step(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.onboard()
    expired = "This form has expired. Please start again with /broadcast."
    context = harness.app.dispatcher.fsm.get_context(
        harness.bot, chat_id=admin.user_id, user_id=admin.user_id
    )
    for state, act in (
        (
            BroadcastWizard.audience,
            lambda: admin.forge(AudienceChoice(action=AudienceAction.KIND, kind="d").pack()),
        ),
        (
            BroadcastWizard.audience,
            lambda: admin.forge(AudienceChoice(action=AudienceAction.NEXT, kind="l").pack()),
        ),
        (BroadcastWizard.text_zh, lambda: admin.send("周六闭馆")),
        (BroadcastWizard.text_zh, lambda: admin.forge(StepChoice(action=StepAction.SKIP).pack())),
        (BroadcastWizard.text_en, lambda: admin.send("Closed on Saturday")),
        (BroadcastWizard.text_en, lambda: admin.forge(StepChoice(action=StepAction.SKIP).pack())),
        (BroadcastWizard.button, lambda: admin.send("https://example.org")),
        (BroadcastWizard.confirm, lambda: admin.forge(StepChoice(action=StepAction.URGENT).pack())),
    ):
        await context.clear()
        await context.set_state(state)
        replies = await act()
        if replies:  # a typed answer gets a reply, a button press an alert
            assert [_text(m) for m in replies] == [expired], state
        else:
            assert admin.last_answer is not None
            assert (admin.last_answer["text"], admin.last_answer["show_alert"]) == (expired, True)
        assert await context.get_state() is None, state
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Broadcast.id))) == 0
    # The form starts again at once.
    [start] = await admin.send("/broadcast")
    assert _text(start) == "📣 New broadcast. Who should get it?"


DISTRICTS = (("N", "北区", "North"), ("S", "南区", "South"), ("E", "东区", "East"))


@pytest.mark.parametrize(
    ("language", "labels", "listed"),
    [
        ("en", ("Readers in districts", "Next ▶️"), "Audience: readers in North, South, and East"),
        # Issue 16 (8): Chinese lists are joined with 、 and 和, not with ", ".
        ("zh", ("各区的读者", "下一步 ▶️"), "发送对象：北区、南区和东区的读者"),
    ],
)
async def test_an_audience_of_several_districts_is_listed_as_the_language_lists(
    harness: BotHarness,
    sessionmaker: async_sessionmaker[AsyncSession],
    language: str,
    labels: tuple[str, str],
    listed: str,
) -> None:
    async with sessionmaker() as session:
        for code, name, name_en in (
            ("N", "北区", "North"),
            ("S", "南区", "South"),
            ("E", "东区", "East"),
        ):
            await make_district(session, code=code, name=name, name_en=name_en)
        await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.onboard(language)
    kind, next_step = labels
    await admin.send("/broadcast")
    await admin.tap(kind)
    names = ("North", "South", "East") if language == "en" else ("北区", "南区", "东区")
    for name in names:
        await admin.tap(f"▫️ {name}")
    await admin.tap(next_step)
    assert _text(admin.chat()[-2]).startswith(listed)
