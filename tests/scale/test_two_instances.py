"""Two webhook instances behind a round-robin proxy, sharing PostgreSQL and Redis, one worker."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    Broadcast,
    BroadcastStatus,
    LibraryFollow,
    Notification,
    NotificationStatus,
    Reader,
    Role,
    RoleGrant,
    utcnow,
)
from bot.services.catalogue_import.run import import_catalogue
from tests.catalogue_import.test_service import marc_book
from tests.conftest import POSTGRES_URL
from tests.factories import make_district, make_event, make_library
from tests.scale.conftest import REDIS_URL, ChatDriver, Cluster, request_count, text_of

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="several instances need a shared PostgreSQL: set BOOKBRIDGE_TEST_DATABASE_URL",
)

ORGANISER = 7100
FOLLOWERS = (7101, 7102, 7103)


async def _reader_id(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int) -> int:
    async with sessionmaker() as session:
        reader_id = await session.scalar(select(Reader.id).where(Reader.telegram_id == telegram_id))
    assert reader_id is not None
    return reader_id


def _alternates(route: list[int]) -> bool:
    return all(first != second for first, second in itertools.pairwise(route))


async def _organiser_broadcasts(organiser: ChatDriver, library_label: str) -> None:
    """The /broadcast wizard, one step per update, each landing on the other instance."""
    [start] = await organiser.send("/broadcast")
    assert text_of(start).startswith("📣 New broadcast.")
    await organiser.tap(library_label)
    await organiser.tap("Next ▶️")
    summary = text_of(organiser.sandbox.messages(organiser.user_id)[-2])
    assert summary == "Audience: followers of Central Library — 3 readers now."
    [english_prompt] = await organiser.send("周六闭馆")
    assert "English version" in text_of(english_prompt)
    await organiser.send("Closed on Saturday")
    preview = await organiser.send("Details https://example.org/closure", replies=4)
    assert text_of(preview[0]) == "Preview — this is what readers will see:"
    assert text_of(preview[-1]).startswith("Send it to followers of Central Library (3 readers)?")
    await organiser.tap("✅ Send")
    assert "Broadcast queued." in [
        text_of(m) for m in organiser.sandbox.messages(organiser.user_id)[-3:]
    ]


async def test_a_wizard_alternates_instances_and_a_broadcast_is_sent_once(
    cluster: Cluster, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await cluster.add_instance()
    second = await cluster.add_instance()
    worker = await cluster.add_worker()
    async with sessionmaker() as session:
        district = await make_district(session)
        central = await make_library(session, district, code="CENTRAL", name_en="Central Library")
        await session.commit()

    organiser = cluster.reader(ORGANISER, "Olga")
    followers = [cluster.reader(user_id, f"Reader {user_id}") for user_id in FOLLOWERS]
    for person in (organiser, *followers):
        await person.onboard()
    async with sessionmaker() as session:
        session.add(
            RoleGrant(
                reader_id=await _reader_id(sessionmaker, ORGANISER),
                role=Role.ORGANISER,
                library_id=central.id,
            )
        )
        for user_id in FOLLOWERS:
            reader_id = await _reader_id(sessionmaker, user_id)
            session.add(LibraryFollow(reader_id=reader_id, library_id=central.id))
        await session.commit()

    routed_before = len(cluster.proxy.instances_for(ORGANISER))
    sends_before = {uid: request_count(cluster.sandbox, "sendMessage", uid) for uid in FOLLOWERS}
    for follower in followers:
        follower.new_bot_messages()
    await _organiser_broadcasts(organiser, "▫️ Central Library (3 followers)")
    wizard_route = cluster.proxy.instances_for(ORGANISER)[routed_before:]
    # Every step went to the instance the previous step did not: the FSM state is in Redis.
    assert len(wizard_route) == 7  # /broadcast, 2 taps, 3 texts, Send
    assert set(wizard_route) == {0, 1}
    assert _alternates(wizard_route)
    assert all(status == 200 for _, _, status in cluster.proxy.routed)
    redis = Redis.from_url(REDIS_URL)
    try:
        assert [key async for key in redis.scan_iter(match=f"{cluster.settings.redis_prefix}:*")]
    finally:
        await redis.aclose()

    # The worker leads (the instances run no scheduler) and delivers the broadcast.
    await asyncio.wait_for(worker.scheduler.leading.wait(), 10)

    def sends(user_id: int) -> int:
        return request_count(cluster.sandbox, "sendMessage", user_id) - sends_before[user_id]

    def delivered() -> bool:
        return all(sends(uid) >= 1 for uid in FOLLOWERS)

    assert await cluster.sandbox.wait_until(delivered, 20)
    # Give a duplicate every chance to show up: a few more delivery ticks and progress edits.
    await asyncio.sleep(2)
    for follower in followers:
        received = [text_of(m) for m in follower.new_bot_messages()]
        assert received == ["Closed on Saturday"]
        assert sends(follower.user_id) == 1
    async with sessionmaker() as session:
        statuses = list(await session.scalars(select(Notification.status)))
        assert statuses == [NotificationStatus.SENT] * len(FOLLOWERS)
        unsent = await session.scalar(
            select(func.count()).where(Notification.telegram_message_id.is_(None))
        )
        assert unsent == 0
    assert await cluster.sandbox.wait_until(lambda: _finished(organiser), 10)
    async with sessionmaker() as session:
        broadcast = await session.scalar(select(Broadcast))
        assert broadcast is not None
        assert broadcast.status is BroadcastStatus.DONE

    # Both instances handled updates; only the worker runs the scheduler, and they know it.
    async with aiohttp.ClientSession() as http:
        for instance in (first, second):
            assert b"bookbridge_updates_total" in instance.app.metrics.render()
            assert instance.server.scheduler is None
            async with http.get(instance.server.local_url + "/healthz") as response:
                assert response.status == 200
                checks = (await response.json())["checks"]
            assert checks["redis"] == {"ok": True, "configured": True}
            assert checks["scheduler"] == {
                "ok": True,
                "runs_here": False,
                "leader_here": False,
                "leader_present": True,
            }
    assert worker.scheduler.is_leader


def _finished(organiser: ChatDriver) -> bool:
    return any(
        text_of(message).startswith("✅ Broadcast #1 is finished.")
        for message in organiser.sandbox.messages(organiser.user_id)
    )


async def test_an_event_reminder_is_sent_once_with_two_workers_and_two_instances(
    cluster: Cluster, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        district = await make_district(session)
        venue = await make_library(session, district, code="HALL", name_en="Reading Hall")
        # Within the hour: the 1 h reminder is due as soon as the reader is registered.
        event = await make_event(
            session,
            title="Poetry evening",
            starts_at=utcnow() + timedelta(minutes=50),
            venue_library_id=venue.id,
            district_id=district.id,
        )
        await session.commit()
    cluster.settings = cluster.settings.model_copy(update={"events_tick_s": 0.3})
    await cluster.add_instance()
    await cluster.add_instance()
    workers = [await cluster.add_worker(), await cluster.add_worker()]

    reader = cluster.reader(7200, "Rita")
    await reader.onboard()
    await reader.send(f"/start ev_{event.id}")
    await reader.tap("✅ Register")
    assert set(cluster.proxy.instances_for(7200)) == {0, 1}

    def reminders() -> list[str]:
        return [
            text_of(m)
            for m in reader.sandbox.messages(reader.user_id)
            if text_of(m).startswith("⏰ Reminder")
        ]

    assert await cluster.sandbox.wait_until(lambda: bool(reminders()), 20)
    # Both workers keep ticking: the one standing by must not send it again.
    await asyncio.sleep(2)
    assert len(reminders()) == 1
    assert sum(worker.scheduler.is_leader for worker in workers) == 1
    async with sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(Notification.status).where(Notification.kind == "event-reminder")
            )
        )
    assert rows == [NotificationStatus.SENT]


async def test_an_import_made_elsewhere_is_found_through_either_instance(
    cluster: Cluster, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    cluster.settings = cluster.settings.model_copy(update={"index_catch_up_seconds": 0.2})
    first = await cluster.add_instance()
    second = await cluster.add_instance()
    for instance in (first, second):
        await instance.app.indexer.wait_ready()
    async with sessionmaker() as session:
        await make_library(session, code="EAST", name_en="East Library")
        await session.commit()
    reader = cluster.reader(7300, "Ming")
    await reader.onboard()

    # As `bookbridge import-catalogue` on another host would: neither instance imports it.
    catalogue = tmp_path / "east.mrc"
    catalogue.write_bytes(marc_book("e1", "Pragmatic Programmer"))
    report = await import_catalogue(sessionmaker, "EAST", catalogue)
    assert report.works_created == 1

    async def found_everywhere() -> bool:
        for instance in (first, second):
            hits = (await instance.app.indexer.index.search("pragmatic")).hits
            if [hit.work_id for hit in hits] != report.changed_work_ids:
                return False
        return True

    async with asyncio.timeout(20):
        while not await found_everywhere():  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    routed_before = len(cluster.proxy.instances_for(7300))
    for _ in range(2):
        [answer] = await reader.send("pragmatic programmer")
        assert "Pragmatic Programmer" in text_of(answer)
    assert set(cluster.proxy.instances_for(7300)[routed_before:]) == {0, 1}
