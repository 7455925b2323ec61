"""The lending balance agrees with figures counted by hand on a seeded alliance."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Hold, HoldStatus, Item, ItemStatus, Library, Reader, Role, RoleGrant, utcnow
from bot.services.bookstores.lending import lending_balance, lending_csv
from bot.services.statistics import Period
from tests.factories import make_district, make_library, make_reader, make_work
from tests.harness import BotHarness

from .conftest import chat_user


async def _seed(session: AsyncSession) -> tuple[Library, Library, Library]:
    """A lends 3 (2 to B, 1 to C), B lends 1 to A; what must not count is there too."""
    district = await make_district(session)
    a = await make_library(session, district, code="A")
    b = await make_library(session, district, code="B")
    c = await make_library(session, district, code="C")
    reader = await make_reader(session)
    now = utcnow()
    day = timedelta(days=1)

    async def hold(
        owner: Library,
        pickup: Library,
        status: HoldStatus,
        *,
        sent_days_ago: int = 3,
        keep_item: bool = True,
    ) -> None:
        work = await make_work(session)
        item = Item(
            work_id=work.id, library_id=owner.id, barcode=f"X{work.id}", status=ItemStatus.ON_LOAN
        )
        session.add(item)
        await session.flush()
        sent = now - sent_days_ago * day
        session.add(
            Hold(
                reader_id=reader.id,
                work_id=work.id,
                pickup_library_id=pickup.id,
                item_id=item.id if keep_item else None,
                status=status,
                queued_at=sent - day,
                in_transit_at=sent if owner.id != pickup.id else None,
                ready_at=sent + day if status is not HoldStatus.IN_TRANSIT else None,
            )
        )

    await hold(a, b, HoldStatus.COLLECTED)
    await hold(a, b, HoldStatus.IN_TRANSIT, sent_days_ago=1)  # transit included
    await hold(a, c, HoldStatus.READY)
    await hold(b, a, HoldStatus.COLLECTED)
    await hold(c, c, HoldStatus.READY)  # its own copy: no loan between members
    await hold(b, c, HoldStatus.CANCELLED, keep_item=False)  # gave the copy back
    await hold(c, a, HoldStatus.COLLECTED, sent_days_ago=40)  # before the period
    await session.commit()
    return a, b, c


async def test_balance_agrees_with_hand_counts(session: AsyncSession) -> None:
    await _seed(session)
    period = Period(start=utcnow() - timedelta(days=30), end=utcnow(), label="30d")
    balance = await lending_balance(session, period, rate=250)
    assert [(p.lender.code, p.borrower.code, p.loans) for p in balance.pairs] == [
        ("A", "B", 2),
        ("A", "C", 1),
        ("B", "A", 1),
    ]
    assert balance.loans == 4
    assert [
        (m.library.code, m.lent, m.borrowed, m.net, m.amount(250)) for m in balance.members
    ] == [
        ("A", 3, 1, 2, 500),
        ("B", 1, 2, -1, -250),
        ("C", 0, 1, -1, -250),
    ]
    assert lending_csv(balance).splitlines() == [
        "row,library,other_library,loans,lent,borrowed,net,amount",
        "pair,A,B,2,,,,5.00",
        "pair,A,C,1,,,,2.50",
        "pair,B,A,1,,,,2.50",
        "member,A,,,3,1,2,5.00",
        "member,B,,,1,2,-1,-2.50",
        "member,C,,,0,1,-1,-2.50",
    ]
    # The last 40 days also take in C's loan to A.
    longer = Period(start=utcnow() - timedelta(days=45), end=utcnow(), label="45d")
    assert (await lending_balance(session, longer)).loans == 5


async def test_lending_in_chat(harness: BotHarness) -> None:
    async with harness.app.sessionmaker() as session:
        await _seed(session)
    admin = await chat_user(harness, 9001)
    summary, chart, table = await admin.send("/lending 30d rate=2.5")
    text = summary.text or ""
    assert text.startswith("🔁 Interlibrary lending, 30d: 4 loans between members")
    assert "A → B: 2\nA → C: 1\nB → A: 1" in text
    assert "A             3    1    +2  +¥5.00" in text
    assert "B             1    2    -1  −¥2.50" in text
    assert chart.photo and table.document is not None
    assert table.document.file_name == "lending-30d.csv"

    [reply] = await admin.send("/lending last week")
    assert reply.text == (
        "I don't understand the period “last week”.\n"
        "Try /lending 30d, a month like /lending 2026-11, or 2026-09..2026-11."
    )
    [reply] = await admin.send("/lending 30d rate=abc")
    assert reply.text == "“abc” is not a rate. Write the amount per loan in yuan, like rate=2.50."

    reader = await chat_user(harness, 9002)
    [reply] = await reader.send("/lending")
    assert reply.text == (
        "Sorry, /lending is only for alliance admins. Send /help to see what you can do."
    )

    chinese = await chat_user(harness, 9003, "zh")
    async with harness.app.sessionmaker() as session:
        person = await session.scalar(select(Reader).where(Reader.telegram_id == 9003))
        assert person is not None
        session.add(RoleGrant(reader_id=person.id, role=Role.ADMIN))
        await session.commit()
    summary, _chart, _table = await chinese.send("/lending 30d")
    assert (summary.text or "").startswith("🔁 馆际借阅，30d：成员馆之间共 4 册次")
    assert "馆 借出 借入 净额" in (summary.text or "")
