"""/mydata and /forgetme through the real dispatcher; coverage of every table that names readers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    AuditLog,
    Base,
    Feedback,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    LibraryFollow,
    Notification,
    NotificationStatus,
    PurchaseSuggestion,
    PurchaseVote,
    Reader,
    Registration,
    RegistrationStatus,
    Role,
    RoleGrant,
    SearchLog,
    utcnow,
)
from bot.services import privacy
from handlers import privacy as privacy_handlers
from tests.factories import make_district, make_event, make_library, make_work
from tests.harness import BotHarness, ChatUser, inline_labels

USER_ID = 4242
OTHER_ID = 4343


async def _reader(session: AsyncSession, telegram_id: int) -> Reader:
    reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
    assert reader is not None
    return reader


async def _seed_history(
    sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int, other_id: int
) -> dict[str, int]:
    """A reader with something in every table that points at readers, and a second reader."""
    async with sessionmaker() as session:
        district = await make_district(session)
        library = await make_library(session, district)
        work = await make_work(session, libraries=(library,))
        queued_work = await make_work(session)
        event = await make_event(session)
        past_event = await make_event(session, starts_at=utcnow() - timedelta(days=3))
        reader = await _reader(session, telegram_id)
        other = await _reader(session, other_id)
        reader.district_id = district.id
        reader.latitude, reader.longitude = 37.501, 121.402
        item = await session.scalar(select(Item).where(Item.work_id == work.id))
        assert item is not None
        item.status = ItemStatus.HELD
        now = utcnow()
        session.add_all(
            [
                RoleGrant(reader_id=reader.id, role=Role.ORGANISER),
                LibraryFollow(reader_id=reader.id, library_id=library.id),
                Hold(
                    reader_id=reader.id,
                    work_id=work.id,
                    pickup_library_id=library.id,
                    item_id=item.id,
                    status=HoldStatus.READY,
                    ready_at=now,
                    ready_until=now + timedelta(days=7),
                ),
                Hold(
                    reader_id=reader.id,
                    work_id=queued_work.id,
                    pickup_library_id=library.id,
                    status=HoldStatus.QUEUED,
                ),
                Registration(
                    event_id=event.id, reader_id=reader.id, status=RegistrationStatus.CONFIRMED
                ),
                Registration(
                    event_id=past_event.id,
                    reader_id=reader.id,
                    status=RegistrationStatus.ATTENDED,
                    attended_at=now,
                ),
                Feedback(
                    event_id=past_event.id, reader_id=reader.id, rating=4, comment="Loved it, Mei"
                ),
                SearchLog(
                    reader_id=reader.id, district_id=district.id, query="red chamber", hit_count=3
                ),
                SearchLog(
                    reader_id=other.id, district_id=district.id, query="other query", hit_count=1
                ),
                Notification(
                    reader_id=reader.id,
                    kind="hold.ready",
                    dedup_key="hold-ready-1",
                    payload={"text": {"en": "Your book is ready, Mei"}},
                    status=NotificationStatus.SENT,
                    sent_at=now,
                ),
                Notification(
                    reader_id=reader.id,
                    kind="event.reminder",
                    dedup_key="event-reminder-1",
                    payload={"text": {"en": "See you tomorrow, Mei"}},
                ),
                Notification(
                    reader_id=other.id,
                    kind="hold.ready",
                    dedup_key="other-1",
                    payload={"text": {"en": "Secret of the other reader"}},
                ),
                AuditLog(actor_id=reader.id, action="broadcast.send", target_type="broadcast"),
            ]
        )
        suggestion = PurchaseSuggestion(match_key="some book", query="Some book", votes=2)
        session.add(suggestion)
        await session.flush()
        session.add_all(
            [
                PurchaseVote(suggestion_id=suggestion.id, reader_id=reader.id),
                PurchaseVote(suggestion_id=suggestion.id, reader_id=other.id),
            ]
        )
        await session.commit()
        return {
            "reader": reader.id,
            "item": item.id,
            "district": district.id,
            "suggestion": suggestion.id,
        }


async def _onboarded(harness: BotHarness, user_id: int, name: str) -> ChatUser:
    user = harness.user(user_id, name, username=f"u{user_id}")
    await user.onboard()
    return user


def _document_json(harness: BotHarness, user: ChatUser) -> dict[str, Any]:
    message = user.last_bot_message()
    assert message.document is not None, message.text
    stored = harness.sandbox.file(message.document.file_id)
    assert stored is not None
    parsed: dict[str, Any] = json.loads(stored.content)
    return parsed


async def test_mydata_sends_everything_stored_about_the_reader(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mei = await _onboarded(harness, USER_ID, "Mei")
    await _onboarded(harness, OTHER_ID, "Other")
    ids = await _seed_history(sessionmaker, USER_ID, OTHER_ID)

    [reply] = await mei.send("/mydata")
    assert reply.document is not None
    assert reply.document.file_name is not None
    assert reply.document.file_name.endswith(".json")
    assert "/forgetme" in (reply.caption or "")
    data = _document_json(harness, mei)

    assert data["reader"]["telegram_id"] == USER_ID
    assert data["reader"]["first_name"] == "Mei"
    assert data["reader"]["latitude"] == 37.501
    assert [grant["role"] for grant in data["roles"]] == ["organiser"]
    assert len(data["follows"]) == 1
    assert sorted(hold["status"] for hold in data["holds"]) == ["queued", "ready"]
    assert sorted(r["status"] for r in data["registrations"]) == ["attended", "confirmed"]
    assert data["feedback"] == [
        {
            "event_id": data["feedback"][0]["event_id"],
            "rating": 4,
            "comment": "Loved it, Mei",
            "created_at": data["feedback"][0]["created_at"],
        }
    ]
    assert data["purchase_votes"][0]["suggestion_id"] == ids["suggestion"]
    assert [search["query"] for search in data["searches"]] == ["red chamber"]
    assert sorted(n["kind"] for n in data["notifications"]) == ["event.reminder", "hold.ready"]
    assert [entry["action"] for entry in data["actions"]] == ["broadcast.send"]
    # Other readers' data and message contents stay out.
    text = json.dumps(data, ensure_ascii=False)
    assert "other query" not in text
    assert "Secret of the other reader" not in text
    assert "payload" not in text


async def test_forgetme_deletes_personal_data_and_keeps_statistics(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mei = await _onboarded(harness, USER_ID, "Mei")
    await _onboarded(harness, OTHER_ID, "Other")
    ids = await _seed_history(sessionmaker, USER_ID, OTHER_ID)
    async with sessionmaker() as session:
        counts_before = {
            table: await session.scalar(select(func.count()).select_from(model))
            for table, model in {
                "holds": Hold,
                "registrations": Registration,
                "search_logs": SearchLog,
                "purchase_votes": PurchaseVote,
                "feedback": Feedback,
                "notifications": Notification,
            }.items()
        }

    [question] = await mei.send("/forgetme")
    assert inline_labels(question) == ["🗑 Yes, delete my data", "Keep my data"]
    async with sessionmaker() as session:
        assert (await _reader(session, USER_ID)).first_name == "Mei"  # nothing yet

    replies = await mei.tap("🗑 Yes, delete my data")
    assert "Goodbye!" in [m.text for m in replies]
    edited = harness.sandbox.message(USER_ID, question.message_id)
    assert edited.text == (
        "Done: your data is deleted. If you write to me again, you start as a new reader."
    )

    async with sessionmaker() as session:
        tombstone = await session.get(Reader, ids["reader"])
        assert tombstone is not None
        assert tombstone.forgotten_at is not None
        assert tombstone.telegram_id < 0
        assert tombstone.first_name == ""
        assert tombstone.username is None
        assert tombstone.latitude is None and tombstone.longitude is None
        assert tombstone.card_number == f"FORGOTTEN{tombstone.id}"
        assert tombstone.is_blocked
        assert tombstone.district_id == ids["district"]  # reach per district stays right
        assert await session.scalar(select(Reader).where(Reader.telegram_id == USER_ID)) is None

        # Rows that only served the reader are gone.
        assert not list(
            await session.scalars(select(RoleGrant).where(RoleGrant.reader_id == tombstone.id))
        )
        assert not list(await session.scalars(select(LibraryFollow)))
        # Active holds are cancelled, the copy is free again; nothing is left assigned.
        holds = list(await session.scalars(select(Hold).where(Hold.reader_id == tombstone.id)))
        assert {hold.status for hold in holds} == {HoldStatus.CANCELLED}
        assert all(hold.item_id is None for hold in holds)
        item = await session.get(Item, ids["item"])
        assert item is not None and item.status is ItemStatus.AVAILABLE
        # Event places are given up; attendance stays for the statistics.
        statuses = sorted(
            r.status.value
            for r in await session.scalars(
                select(Registration).where(Registration.reader_id == tombstone.id)
            )
        )
        assert statuses == ["attended", "cancelled"]
        # Searches keep their district and counts but lose the reader.
        logs = list(await session.scalars(select(SearchLog).order_by(SearchLog.id)))
        assert [(log.reader_id, log.district_id, log.hit_count) for log in logs] == [
            (None, ids["district"], 3),
            (logs[1].reader_id, ids["district"], 1),
        ]
        assert logs[1].reader_id is not None  # the other reader keeps theirs
        feedback = await session.scalar(select(Feedback))
        assert feedback is not None
        assert (feedback.reader_id, feedback.rating, feedback.comment) == (None, 4, None)
        suggestion = await session.get(PurchaseSuggestion, ids["suggestion"])
        assert suggestion is not None and suggestion.votes == 2
        mine = list(
            await session.scalars(
                select(Notification).where(Notification.reader_id == tombstone.id)
            )
        )
        assert {n.status for n in mine} == {NotificationStatus.SENT, NotificationStatus.SKIPPED}
        assert all(n.payload == {} for n in mine)
        other_note = await session.scalar(
            select(Notification).where(Notification.dedup_key == "other-1")
        )
        assert other_note is not None and other_note.payload != {}
        counts_after = {
            table: await session.scalar(select(func.count()).select_from(model))
            for table, model in {
                "holds": Hold,
                "registrations": Registration,
                "search_logs": SearchLog,
                "purchase_votes": PurchaseVote,
                "feedback": Feedback,
                "notifications": Notification,
            }.items()
        }
        assert counts_after == counts_before
        forgotten = await session.scalar(
            select(AuditLog).where(AuditLog.action == "privacy.forget")
        )
        assert forgotten is not None and forgotten.target_id == tombstone.id

    # Writing again starts afresh: a new reader with nothing from before.
    await mei.send("/start")
    await mei.send("/mydata")
    data = _document_json(harness, mei)
    assert data["reader"]["id"] != ids["reader"]
    assert data["holds"] == [] and data["searches"] == [] and data["roles"] == []


async def test_forged_stale_and_cancelled_confirmations_change_nothing(
    harness: BotHarness,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mei = await _onboarded(harness, USER_ID, "Mei")
    other = await _onboarded(harness, OTHER_ID, "Other")
    refusal = "This confirmation is no longer valid. Send /forgetme again."

    async def still_there() -> None:
        async with sessionmaker() as session:
            assert (await _reader(session, USER_ID)).forgotten_at is None
            assert (await _reader(session, OTHER_ID)).forgotten_at is None

    # Forged without ever asking.
    await mei.forge(
        privacy_handlers.ForgetMe(
            action=privacy_handlers.ForgetAction.CONFIRM, token="guess"
        ).pack()
    )
    assert mei.last_answer is not None and mei.last_answer["text"] == refusal
    await still_there()

    # Somebody else's button (same token, other chat) does not work for them.
    [question] = await mei.send("/forgetme")
    markup = question.reply_markup
    assert markup is not None
    confirm_data = markup.inline_keyboard[0][0].callback_data
    assert confirm_data is not None
    await other.forge(confirm_data)
    assert other.last_answer is not None and other.last_answer["text"] == refusal
    await still_there()

    # An older question's button stops working once a new one is asked.
    [newer] = await mei.send("/forgetme")
    await mei.forge(confirm_data, message_id=question.message_id)
    assert mei.last_answer is not None and mei.last_answer["text"] == refusal
    await still_there()

    # Cancel; then the same confirm button is stale.
    await mei.tap("Keep my data", message_id=newer.message_id)
    assert harness.sandbox.message(USER_ID, newer.message_id).text == "Nothing was deleted."
    await mei.forge(confirm_data)
    assert mei.last_answer is not None and mei.last_answer["text"] == refusal
    await still_there()

    # Too late: the window has passed.
    [latest] = await mei.send("/forgetme")
    start = privacy_handlers.time.time()
    monkeypatch.setattr(
        privacy_handlers.time,
        "time",
        lambda: start + privacy_handlers.CONFIRM_WINDOW_S + 1,
    )
    await mei.tap("🗑 Yes, delete my data", message_id=latest.message_id)
    assert mei.last_answer is not None and mei.last_answer["text"] == refusal
    await still_there()


def test_every_table_that_names_a_reader_has_an_export_and_a_forget_rule() -> None:
    covered = {(link.table, link.column) for link in privacy.READER_LINKS}
    in_schema = privacy.reader_links_in_schema()
    missing = in_schema - covered
    assert not missing, (
        f"add a ReaderLink to bot.services.privacy.READER_LINKS for {sorted(missing)}"
    )
    assert covered <= in_schema, f"stale ReaderLinks: {sorted(covered - in_schema)}"
    for link in privacy.READER_LINKS:
        table = Base.metadata.tables[link.table]
        assert link.export, link
        assert set(link.export) <= set(table.c.keys()), link
        if link.forget is privacy.Forget.DETACH:
            assert table.c[link.column].nullable, f"{link} cannot be detached: NOT NULL"
    reader_columns = set(Base.metadata.tables["readers"].c.keys())
    decided = privacy.READER_COLUMNS_KEPT | set(privacy.READER_COLUMNS_CLEARED)
    assert reader_columns == decided, (
        f"decide what forgetting does to readers.{sorted(reader_columns - decided)}"
    )


async def test_locations_are_stored_coarse(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mei = harness.user(USER_ID, "Mei")
    await mei.send("/start")
    await mei.tap("English")
    if "Skip" in inline_labels(mei.last_bot_message()):
        await mei.tap("Skip")
    await mei.share_location(37.123456, 121.987654)
    async with sessionmaker() as session:
        reader = await _reader(session, USER_ID)
        assert (reader.latitude, reader.longitude) == (37.123, 121.988)
    await mei.share_location(-33.86789, 151.20999)
    async with sessionmaker() as session:
        reader = await _reader(session, USER_ID)
        assert reader.onboarded_at is not None
        assert (reader.latitude, reader.longitude) == (-33.868, 151.21)


async def test_forgetting_passes_the_copy_and_the_event_place_to_the_next_reader(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mei = await _onboarded(harness, USER_ID, "Mei")
    await _onboarded(harness, OTHER_ID, "Other")
    async with sessionmaker() as session:
        library = await make_library(session)
        work = await make_work(session, libraries=(library,))
        event = await make_event(session, capacity=1)
        item = await session.scalar(select(Item).where(Item.work_id == work.id))
        assert item is not None
        item.status = ItemStatus.HELD
        reader, other = await _reader(session, USER_ID), await _reader(session, OTHER_ID)
        now = utcnow()
        session.add_all(
            [
                Hold(
                    reader_id=reader.id,
                    work_id=work.id,
                    pickup_library_id=library.id,
                    item_id=item.id,
                    status=HoldStatus.READY,
                    queued_at=now - timedelta(days=2),
                    ready_at=now,
                    ready_until=now + timedelta(days=7),
                ),
                Hold(
                    reader_id=other.id,
                    work_id=work.id,
                    pickup_library_id=library.id,
                    status=HoldStatus.QUEUED,
                    queued_at=now - timedelta(days=1),
                ),
                Registration(
                    event_id=event.id,
                    reader_id=reader.id,
                    status=RegistrationStatus.CONFIRMED,
                    position=1,
                ),
                Registration(
                    event_id=event.id,
                    reader_id=other.id,
                    status=RegistrationStatus.WAITLISTED,
                    position=2,
                ),
            ]
        )
        await session.commit()
        other_id = other.id

    await mei.send("/forgetme")
    await mei.tap("🗑 Yes, delete my data")

    async with sessionmaker() as session:
        next_hold = await session.scalar(select(Hold).where(Hold.reader_id == other_id))
        assert next_hold is not None
        assert next_hold.status is HoldStatus.READY
        assert next_hold.item_id == item.id
        place = await session.scalar(select(Registration).where(Registration.reader_id == other_id))
        assert place is not None and place.status is RegistrationStatus.CONFIRMED
        told = set(
            await session.scalars(
                select(Notification.kind).where(Notification.reader_id == other_id)
            )
        )
    assert len(told) >= 2, told  # the hold-ready and the promotion notices are queued


def _database_files(database_url: str) -> bytes:
    """The raw bytes of the SQLite database file and its WAL."""
    path = Path(make_url(database_url).database or "")
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_a_forgotten_name_is_gone_from_the_database_files(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's own files")
    name, username = "Quenbyxulith", "zorvexquen_41"
    reader = harness.user(USER_ID, name, username=username)
    await reader.onboard()
    async with sessionmaker() as session:
        stored = await _reader(session, USER_ID)
        session.add(
            Notification(
                reader_id=stored.id,
                kind="hold.ready",
                dedup_key="hold-ready-wal",
                payload={"text": {"en": f"Your book is ready, {name}"}},
            )
        )
        await session.commit()
    on_disk = _database_files(database_url)
    assert name.encode() in on_disk and username.encode() in on_disk

    await reader.send("/forgetme")
    replies = await reader.tap("🗑 Yes, delete my data")
    assert "Goodbye!" in [m.text for m in replies]

    on_disk = _database_files(database_url)
    assert name.encode() not in on_disk
    assert username.encode() not in on_disk
