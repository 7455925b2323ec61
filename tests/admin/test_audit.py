"""/audit: every staff action, newest first, paged, filtered by actor or action."""

from __future__ import annotations

from datetime import timedelta

from aiogram.types import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import AuditLog, Reader, utcnow
from tests.admin.conftest import Staff
from tests.harness import ChatUser, inline_labels


async def _seed(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> None:
    """``count`` entries, alternating between the librarian and the organiser, a minute apart."""
    start = utcnow() - timedelta(days=1)
    async with sessionmaker() as session:
        lin = await session.scalar(select(Reader).where(Reader.telegram_id == 302))
        oren = await session.scalar(select(Reader).where(Reader.telegram_id == 303))
        assert lin is not None and oren is not None
        for n in range(count):
            actor, action = (lin, "hold.checkout") if n % 2 == 0 else (oren, "event.create")
            session.add(
                AuditLog(
                    actor_id=actor.id,
                    action=action,
                    target_type="event" if actor is oren else "hold",
                    target_id=n + 1,
                    details={"n": n},
                    created_at=start + timedelta(minutes=n),
                )
            )
        await session.commit()


def _actions(message: Message) -> list[str]:
    return [line.split(" · ")[1] for line in (message.text or "").split("\n") if " · " in line]


def _numbers(message: Message) -> list[int]:
    return [
        int(line.strip().removeprefix("n: "))
        for line in (message.text or "").split("\n")
        if line.strip().startswith("n: ")
    ]


async def _page(user: ChatUser, label: str) -> Message:
    await user.tap(label)
    return user.last_bot_message()


async def test_audit_pages_newest_first(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(sessionmaker, 23)
    [first] = await staff.admin.send("/audit")
    assert (first.text or "").startswith("📜 Audit log, newest first: 23 entries (page 1 of 3).")
    assert _numbers(first) == list(range(22, 12, -1))
    assert "hold.checkout · Lin (@lin) → hold #23" in (first.text or "")
    assert inline_labels(first) == ["Older ▶️"]
    second = await _page(staff.admin, "Older ▶️")
    assert _numbers(second) == list(range(12, 2, -1))
    assert inline_labels(second) == ["◀️ Newer", "Older ▶️"]
    third = await _page(staff.admin, "Older ▶️")
    assert _numbers(third) == [2, 1, 0]
    back = await _page(staff.admin, "◀️ Newer")
    assert _numbers(back) == list(range(12, 2, -1))


async def test_audit_filters(staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await _seed(sessionmaker, 6)
    [by_actor] = await staff.admin.send("/audit @oren")
    assert (by_actor.text or "").startswith("📜 Audit log, newest first: 3 entries")
    assert set(_actions(by_actor)) == {"event.create"}
    [by_id] = await staff.admin.send("/audit 302")
    assert _numbers(by_id) == [4, 2, 0]
    [by_area] = await staff.admin.send("/audit event")
    assert _numbers(by_area) == [5, 3, 1]
    [by_action] = await staff.admin.send("/audit @lin event.create")
    assert "Nothing recorded." in (by_action.text or "")
    [exact] = await staff.admin.send("/audit hold.checkout")
    assert _numbers(exact) == [4, 2, 0]
    [bad] = await staff.admin.send("/audit DROP;TABLE")
    assert (bad.text or "").startswith("“DROP;TABLE” is not an action.")
    [unknown] = await staff.admin.send("/audit @nobody")
    assert unknown.text == "I don't know @nobody."
    [usage] = await staff.admin.send("/audit a b c")
    assert usage.text == "Usage: /audit [@username|ID] [ACTION]"


async def test_admin_actions_are_audited(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await staff.admin.send("/grant @rui organiser")
    await staff.admin.send("/admin")
    await staff.admin.tap("🗺 Districts")
    await staff.admin.tap("➕ Add")
    for answer in ("SOUTH", "南区", "South", "1000", "37.1, 121.1"):
        await staff.admin.send(answer)
    await staff.admin.tap("✅ Save")
    [log] = await staff.admin.send("/audit @ada")
    assert _actions(log) == ["district.create", "role.grant"]


def test_details_read_as_words_not_json() -> None:
    from handlers.audit import _detail

    assert _detail(["is_pickup_point", "name"]) == "is_pickup_point, name"
    assert _detail("UNI-1") == "UNI-1"
    assert _detail(3) == "3"
    assert _detail({"from": "A", "to": "B"}) == '{"from": "A", "to": "B"}'
