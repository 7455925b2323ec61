"""How the "you choose, we pay" notice reads."""

from __future__ import annotations

from html import escape

from bot.notices.registry import Context, renders
from bot.services.bookstores.notices import VoucherLoan
from bot.services.outbox import OutboxMessage


@renders(VoucherLoan)
def voucher_loan(notice: VoucherLoan, ctx: Context) -> OutboxMessage:
    """The chosen book is paid for and lent to the reader."""
    text = ctx._(
        "📚 {title} from {store} is paid for by {library} and lent to you until {due}. "
        "Enjoy it, then return it to any member library."
    ).format(
        title=f"<b>{escape(ctx.name(notice.title))}</b>",
        store=escape(ctx.name(notice.store)),
        library=escape(ctx.name(notice.library)),
        due=ctx.day(notice.due),
    )
    return OutboxMessage(text={ctx.language: text})
