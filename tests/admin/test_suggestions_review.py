"""Purchase suggestions review: most voted first, approve at a library or decline, voters told."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from aiogram.types import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    AuditLog,
    District,
    Library,
    Notification,
    NotificationClass,
    PurchaseSuggestion,
    PurchaseVote,
    SuggestionStatus,
    utcnow,
)
from bot.notices.render import render
from tests.admin.conftest import Staff
from tests.factories import make_library, make_reader
from tests.harness import BotHarness, ChatUser, inline_labels


async def _tap(user: ChatUser, label: str) -> Message:
    """Tap a button whose answer edits the message in place; the message as it is now."""
    await user.tap(label)
    return user.last_bot_message()


def _text(harness: BotHarness, notice: Notification, language: str) -> str:
    """A queued notice as a reader of the language will read it."""
    app = harness.app
    return render(notice.payload, language, translator=app.i18n, settings=app.settings).text[
        language
    ]


async def _seed(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Three open suggestions with 1, 3 and 2 votes, and a second library."""
    now = utcnow()
    async with sessionmaker() as session:
        home = await session.scalar(select(Library).where(Library.code == "HOME"))
        assert home is not None
        district = await session.get_one(District, home.district_id)
        await make_library(session, district, code="EAST", name="东馆", name_en="East Branch")
        voters = [await make_reader(session, language=lang) for lang in ("en", "zh", "en")]
        ids: dict[str, int] = {}
        for offset, (title, votes) in enumerate((("Dune", 1), ("三体", 3), ("Beloved", 2))):
            suggestion = PurchaseSuggestion(
                match_key=f"q:{title.lower()}",
                query=title,
                votes=votes,
                created_at=now - timedelta(days=10 - offset),
            )
            session.add(suggestion)
            await session.flush()
            for voter in voters[:votes]:
                session.add(PurchaseVote(suggestion_id=suggestion.id, reader_id=voter.id))
            ids[title] = suggestion.id
        await session.commit()
    return ids


async def test_review_approve_and_decline(
    harness: BotHarness, staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    ids = await _seed(sessionmaker)
    admin = staff.admin
    await admin.send("/admin")
    [listing] = await admin.tap("💡 Purchase suggestions")
    assert (listing.text or "").split("\n") == [
        "💡 Open purchase suggestions: 3, most votes first.",
        f"#{ids['三体']} “三体” — 3 vote(s)",
        f"#{ids['Beloved']} “Beloved” — 2 vote(s)",
        f"#{ids['Dune']} “Dune” — 1 vote(s)",
    ]
    card = await _tap(admin, f"#{ids['三体']} 三体")
    assert card.text == f"#{ids['三体']} “三体”\nVotes: 3\nStatus: open"
    picker = await _tap(admin, "✅ Approve…")
    assert picker.text == "Which library buys “三体”?"
    assert inline_labels(picker)[:2] == ["EAST — East Branch", "HOME — Home Library"]
    done = await _tap(admin, "EAST — East Branch")
    assert done.text == "✅ Approved “三体”: EAST buys it.\n3 reader(s) will be told."

    async with sessionmaker() as session:
        suggestion = await session.get_one(PurchaseSuggestion, ids["三体"])
        east = await session.scalar(select(Library.id).where(Library.code == "EAST"))
        notices = list(
            await session.scalars(
                select(Notification).where(Notification.kind == "suggestion_decided")
            )
        )
    assert suggestion.status is SuggestionStatus.APPROVED
    assert suggestion.library_id == east
    assert len(notices) == 3
    assert {n.message_class for n in notices} == {NotificationClass.TRANSACTIONAL}
    assert _text(harness, notices[0], "en") == (
        "📚 Good news: the alliance approved your suggestion “三体”. East Branch will buy it; "
        "search for it again in a few weeks."
    )
    assert _text(harness, notices[0], "zh").startswith("📚 好消息")

    # A forged second decision on the same suggestion changes nothing.
    await admin.forge(f"asg:decline:{ids['三体']}:0:0")
    assert admin.last_answer is not None
    assert admin.last_answer["text"] == "It was decided already."

    await admin.tap("⬅️ Back")
    card = await _tap(admin, f"#{ids['Dune']} Dune")
    declined = await _tap(admin, "✖️ Decline")
    assert declined.text == "✖️ Declined “Dune”.\n1 reader(s) will be told."
    async with sessionmaker() as session:
        dune = await session.get_one(PurchaseSuggestion, ids["Dune"])
        texts = [
            _text(harness, n, "en")
            for n in await session.scalars(
                select(Notification).where(
                    Notification.dedup_key.like(f"suggestion:{ids['Dune']}:%")
                )
            )
        ]
        actions = list(await session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert dune.status is SuggestionStatus.DECLINED and dune.library_id is None
    assert texts == ["Thank you for suggesting “Dune”. The alliance will not buy it this time."]
    assert actions == ["suggestion.approve", "suggestion.decline"]

    # Only Beloved is still open; the buying list names 三体 at EAST, also as CSV.
    await admin.tap("⬅️ Back")
    listing = admin.last_bot_message()
    assert "1, most votes first" in (listing.text or "")
    [buying] = await admin.tap("🛒 Buying lists")
    assert buying.text == (
        "🛒 Approved suggestions, per library:\n\nEAST 东馆\n• “三体” — 3 vote(s)"
    )
    [document] = await admin.tap("📄 CSV")
    assert document.document is not None
    stored = harness.sandbox.file(document.document.file_id)
    assert stored is not None
    rows = list(csv.DictReader(io.StringIO(stored.content.decode("utf-8"))))
    assert [(r["library"], r["title"], r["votes"]) for r in rows] == [("EAST", "三体", "3")]
