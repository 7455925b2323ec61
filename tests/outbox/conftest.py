"""Fixtures for the outbox tests: fake time, a sandbox with a bot, readers, workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery.pacing import Pacer, Timekeeper
from bot.delivery.reports import DrainReport
from bot.delivery.worker import DeliveryWorker
from bot.i18n import create_i18n
from bot.models import Notification, NotificationClass, NotificationStatus, Reader
from bot.services.outbox import queueing
from bot.services.outbox.messages import OutboxMessage
from bot.services.outbox.queueing import Outgoing
from sandbox.core import Sandbox
from sandbox.session import SandboxSession
from tests.factories import make_reader

ZONE = ZoneInfo("Asia/Shanghai")


def next_local(at: time, *, days: int = 1) -> datetime:
    """A local wall-clock time ``days`` ahead: in the future, so rows queued now are due."""
    today = datetime.now(ZONE).date()
    return datetime.combine(today + timedelta(days=days), at, tzinfo=ZONE).astimezone(UTC)


class FakeTime(Timekeeper):
    """A clock that sleeps instantly: ``sleep`` advances both the wall and the monotonic clock."""

    def __init__(self, start: datetime) -> None:
        self.wall = start
        self.mono = 1000.0
        self.sleeps: list[float] = []
        super().__init__(now=self._now, monotonic=self._monotonic, sleep=self._sleep)

    def _now(self) -> datetime:
        return self.wall

    def _monotonic(self) -> float:
        return self.mono

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.advance(seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    """Ten in the morning tomorrow, alliance time: no quiet hours."""
    return FakeTime(next_local(time(10, 0)))


@pytest.fixture
async def sandbox(settings: Settings) -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(token=settings.require_token(), queue_updates=False)
    yield sandbox
    await sandbox.close()


@pytest.fixture
async def bot(settings: Settings, sandbox: Sandbox) -> AsyncIterator[Bot]:
    bot = Bot(
        settings.require_token(),
        session=SandboxSession(sandbox),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    yield bot
    await bot.session.close()


WorkerFactory = Callable[..., DeliveryWorker]


@pytest.fixture
def make_worker(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    bot: Bot,
    fake_time: FakeTime,
) -> WorkerFactory:
    """Workers on the fake clock, unpaced unless a rate is given."""
    i18n = create_i18n(settings.default_language)

    def build(
        *,
        rate: float | None = None,
        timekeeper: Timekeeper | None = None,
        maker: async_sessionmaker[AsyncSession] | None = None,
        bot_: Bot | None = None,
        **overrides: Any,
    ) -> DeliveryWorker:
        clock = timekeeper or fake_time
        return DeliveryWorker(
            maker or sessionmaker,
            bot_ or bot,
            i18n,
            settings.model_copy(update=overrides),
            pacer=Pacer(rate, timekeeper=clock),
            timekeeper=clock,
        )

    return build


async def add_readers(
    session: AsyncSession, sandbox: Sandbox | None, count: int, **fields: Any
) -> list[Reader]:
    """Readers in the database, and as users in the sandbox when one is given."""
    readers = [await make_reader(session, **fields) for _ in range(count)]
    await session.commit()
    if sandbox is not None:
        for reader in readers:
            sandbox.add_user(reader.telegram_id, reader.first_name, language_code=reader.language)
    return readers


async def drain_until_settled(
    worker: DeliveryWorker,
    clock: FakeTime,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    rounds: int = 50,
) -> DrainReport:
    """Drain, then jump to the next not_before, until nothing is pending."""
    total = DrainReport()
    for _ in range(rounds):
        total.add(await worker.drain())
        async with sessionmaker() as session:
            upcoming = await session.scalar(
                select(Notification.not_before)
                .join(Reader, Reader.id == Notification.reader_id)
                .where(
                    Notification.status == NotificationStatus.PENDING,
                    Reader.is_blocked.is_(False),
                )
                .order_by(Notification.not_before)
                .limit(1)
            )
        if upcoming is None:
            return total
        if upcoming > clock.wall:
            clock.advance((upcoming - clock.wall).total_seconds() + 0.001)
    raise AssertionError("the outbox did not settle")


def bot_messages(sandbox: Sandbox, user_id: int) -> list[Message]:
    """What the bot has sent to the user."""
    return [m for m in sandbox.messages(user_id) if sandbox.is_from_bot(m)]


async def rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Notification]:
    """Every outbox row, by id."""
    async with sessionmaker() as session:
        return list(await session.scalars(select(Notification).order_by(Notification.id)))


async def queue_for(
    session: AsyncSession,
    readers: list[Reader],
    *,
    text: str = "News",
    message_class: NotificationClass = NotificationClass.TRANSACTIONAL,
    prefix: str = "m",
    **fields: Any,
) -> None:
    """One message (transactional unless said) per reader, committed."""
    await queueing.enqueue_many(
        session,
        [
            Outgoing(
                reader_id=reader.id,
                kind="test",
                message=OutboxMessage(text={"en": f"{text} {reader.id}"}),
                dedup_key=f"{prefix}:{reader.id}",
                message_class=message_class,
                topic="announcements" if message_class is NotificationClass.PROMOTIONAL else None,
                **fields,
            )
            for reader in readers
        ],
    )
    await session.commit()


def received(sandbox: Sandbox, readers: list[Reader]) -> Counter[int]:
    """How many bot messages each reader has."""
    return Counter({r.id: len(bot_messages(sandbox, r.telegram_id)) for r in readers})
