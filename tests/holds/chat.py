"""Helpers for holds tests through the sandbox: readers, librarians, the outbox worker, time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from bot.delivery import DeliveryWorker, Pacer, Timekeeper
from bot.models import Hold, Notification, Reader, Role, RoleGrant
from bot.notices.render import render
from jobs.holds import HoldsJob, HoldsTickReport
from tests.harness import BotHarness, ChatUser, inline_labels

from .conftest import Alliance, build_alliance


async def alliance_in(harness: BotHarness) -> Alliance:
    async with harness.app.sessionmaker() as session:
        return await build_alliance(session)


async def chat_reader(
    harness: BotHarness,
    user_id: int,
    *,
    location: tuple[float, float] | None = None,
    language: str = "en",
) -> ChatUser:
    user = harness.user(user_id, f"Reader{user_id}")
    await user.onboard(language)
    if location is not None:
        await user.share_location(*location)
        user.new_bot_messages()
    return user


async def reader_row(harness: BotHarness, user: ChatUser) -> Reader:
    async with harness.app.sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == user.user_id))
        assert reader is not None
        return reader


async def make_librarian(harness: BotHarness, user: ChatUser, library_id: int) -> None:
    reader = await reader_row(harness, user)
    async with harness.app.sessionmaker() as session:
        session.add(RoleGrant(reader_id=reader.id, role=Role.LIBRARIAN, library_id=library_id))
        await session.commit()


async def deliver(harness: BotHarness, at: datetime | None = None) -> int:
    """Run the outbox worker (at a moment, if given) until nothing is due; messages sent."""
    clock = Timekeeper(now=lambda: at) if at is not None else Timekeeper()
    worker = DeliveryWorker(
        harness.app.sessionmaker,
        harness.bot,
        harness.app.i18n,
        harness.app.settings,
        pacer=Pacer(None, timekeeper=clock),
        timekeeper=clock,
    )
    report = await worker.drain()
    return report.sent


def rendered(harness: BotHarness, row: Notification, language: str) -> str:
    """A queued notice's text as a reader of the language will get it."""
    app = harness.app
    message = render(row.payload, language, translator=app.i18n, settings=app.settings)
    return message.text[language]


async def tick(harness: BotHarness, at: datetime) -> HoldsTickReport:
    """One run of the holds job at a given moment."""
    job = HoldsJob(harness.app.settings, harness.app.sessionmaker, clock=lambda: at)
    return await job.tick()


async def holds_of(harness: BotHarness, work_id: int) -> list[Hold]:
    async with harness.app.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Hold).where(Hold.work_id == work_id).order_by(Hold.queued_at, Hold.id)
            )
        )


async def open_card(user: ChatUser, work_id: int) -> None:
    await user.send(f"/start wk_{work_id}")
    assert "🔖 Reserve" in inline_labels(user.last_bot_message())


async def reserve_at(user: ChatUser, work_id: int, library_label: str) -> str:
    """Open the card, tap Reserve, pick the library whose button starts with the label."""
    await open_card(user, work_id)
    await user.tap("🔖 Reserve")
    choices = user.last_bot_message()
    label = next(text for text in inline_labels(choices) if text.startswith(library_label))
    await user.tap(label)
    return user.last_bot_message().text or ""


async def set_ready_until(harness: BotHarness, hold_id: int, at: datetime) -> None:
    async with harness.app.sessionmaker() as session:
        await session.execute(update(Hold).where(Hold.id == hold_id).values(ready_until=at))
        await session.commit()
