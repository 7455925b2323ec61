"""The notice a confirmed voucher raises: the reader's new loan, queued in the same unit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Bookstore, Reader, Voucher, Work
from bot.notices.intents import Names, Notice, NoticeData, notice_kind
from bot.services import outbox
from bot.services.holds.notices import title_of


@notice_kind("voucher.loan")
class VoucherLoan(NoticeData):
    """The book chosen at a bookstore is paid for and lent to the reader until ``due``."""

    voucher_id: int
    title: Names
    store: Names
    library: Names
    due: datetime


async def loan_started(
    session: AsyncSession,
    reader: Reader,
    voucher: Voucher,
    work: Work,
    store: Bookstore,
    due_at: datetime,
    *,
    now: datetime,
) -> None:
    """Tell the reader the book is theirs to read until the due date."""
    library = voucher.library
    data = VoucherLoan(
        voucher_id=voucher.id,
        title=title_of(work),
        store=Names(name=store.name, name_en=store.name_en),
        library=Names(name=library.name, name_en=library.name_en),
        due=due_at,
    )
    notice = Notice(
        reader_id=reader.id,
        data=data,
        dedup_key=f"{VoucherLoan.kind}:{voucher.id}",
        priority=outbox.Priority.HIGH,
    )
    await outbox.enqueue_notices(session, [notice], now=now)
