"""How submission contest notices read: a winner is asked to be named."""

from __future__ import annotations

from html import escape

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt
from bot.notices.registry import Context, renders
from bot.services.outbox import Button, OutboxMessage
from bot.services.submissions.judging import ConsentWanted


class NameConsent(CallbackData, prefix="cns"):
    """The winner's answer: publish their name (1) or stay anonymous (0)."""

    entry_id: DbInt
    publish: bool


@renders(ConsentWanted)
def _consent(notice: ConsentWanted, ctx: Context) -> OutboxMessage:
    text = ctx._(
        "🏆 Congratulations: your entry to “{contest}” placed {place}! May we publish your "
        "name with the results? Otherwise it is listed as anonymous."
    ).format(contest=escape(notice.contest_title, quote=False), place=notice.place)
    return OutboxMessage(
        text={ctx.language: text},
        buttons=[
            [
                Button(
                    label=ctx._("✅ Publish my name"),
                    callback_data=NameConsent(entry_id=notice.entry_id, publish=True).pack(),
                ),
                Button(
                    label=ctx._("🙈 Stay anonymous"),
                    callback_data=NameConsent(entry_id=notice.entry_id, publish=False).pack(),
                ),
            ]
        ],
    )
