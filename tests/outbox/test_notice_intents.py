"""Typed notice intents: stored as data, rendered in each reader's language when sent."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import create_i18n
from bot.models import NotificationStatus
from bot.notices.intents import Names, Notice, NoticeData, notice_kind, payload_of, read_notice
from bot.notices.registry import Context, renders
from bot.notices.render import render
from bot.services import outbox
from bot.services.errors import InvalidInputError
from bot.services.outbox import Button, OutboxMessage
from sandbox.core import Sandbox
from tests.outbox.conftest import WorkerFactory, add_readers, bot_messages, rows


@notice_kind("test.library-closed")
class LibraryClosed(NoticeData):
    """A test kind: a library closes on a day."""

    library: Names
    on: datetime
    readers: int


@renders(LibraryClosed)
def _library_closed(notice: LibraryClosed, ctx: Context) -> OutboxMessage:
    text = ctx._("Saved.") + " " + escape(ctx.name(notice.library)) + " " + ctx.day(notice.on)
    text += " " + ctx.ngettext("{count} reader", "{count} readers", notice.readers).format(
        count=notice.readers
    )
    return OutboxMessage(
        text={ctx.language: text},
        buttons=[[Button(label=ctx.name(notice.library), url="https://example.org/")]],
    )


CLOSED = LibraryClosed(
    library=Names(name="海滨少儿图书馆", name_en="Haibin Children's Library"),
    on=datetime(2026, 12, 24, 20, 0, tzinfo=UTC),
    readers=1,
)


def test_an_intent_round_trips_through_its_stored_payload() -> None:
    payload = payload_of(CLOSED)
    assert payload["notice"] == "test.library-closed"
    assert read_notice(payload) == CLOSED
    assert read_notice({"text": {"en": "old shape"}}) is None


def test_a_stored_payload_of_an_unknown_kind_or_shape_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown notice kind"):
        read_notice({"notice": "no.such-kind", "data": {}})
    with pytest.raises(InvalidInputError, match="malformed"):
        read_notice({"notice": "test.library-closed", "data": {"readers": "many"}})


def test_a_kind_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        notice_kind("test.library-closed")(type("Other", (NoticeData,), {}))


def test_rendering_picks_the_language_the_zone_and_the_names(settings: Settings) -> None:
    i18n = create_i18n("zh")
    zh = render(payload_of(CLOSED), "zh", translator=i18n, settings=settings)
    en = render(payload_of(CLOSED), "en", translator=i18n, settings=settings)
    # 20:00 UTC on the 24th is the 25th in the alliance's zone (Asia/Shanghai in tests).
    assert zh.text == {"zh": "已保存。 海滨少儿图书馆 2026-12-25 1 reader"}
    assert en.text == {"en": "Saved. Haibin Children&#x27;s Library 2026-12-25 1 reader"}
    # Button labels are plain text: escaped only in the message body.
    assert en.buttons[0][0].label == "Haibin Children's Library"
    old = render({"text": {"en": "Kept"}}, "en", translator=i18n, settings=settings)
    assert old.text == {"en": "Kept"}


async def test_intents_are_queued_once_and_delivered_in_each_readers_language(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    [zh_reader] = await add_readers(session, sandbox, 1, language="zh")
    [en_reader] = await add_readers(session, sandbox, 1, language="en")
    notices = [
        Notice(reader_id=reader.id, data=CLOSED, dedup_key=f"closed:{reader.id}")
        for reader in (zh_reader, en_reader)
    ]
    assert await outbox.enqueue_notices(session, notices) == 2
    assert await outbox.enqueue_notices(session, notices[:1]) == 0
    await session.commit()

    report = await make_worker().drain()

    assert report.sent == 2
    [zh_message] = bot_messages(sandbox, zh_reader.telegram_id)
    [en_message] = bot_messages(sandbox, en_reader.telegram_id)
    assert zh_message.text is not None and zh_message.text.startswith("已保存。 海滨少儿图书馆")
    assert en_message.text is not None
    assert en_message.text.startswith("Saved. Haibin Children's Library")
    stored = await rows(sessionmaker)
    assert {row.kind for row in stored} == {"test.library-closed"}
    assert all(row.status is NotificationStatus.SENT for row in stored)
