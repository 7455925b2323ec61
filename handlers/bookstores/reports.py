"""Admin reports on the alliance's books: /lending PERIOD [rate=YUAN]."""

from __future__ import annotations

import asyncio
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import N_
from bot.models import Role, utcnow
from bot.services import charts, statistics
from bot.services.bookstores import lending
from bot.services.bookstores.lending import LendingBalance
from bot.services.bookstores.money import BadPriceError, parse_price
from bot.services.statistics import BadPeriodError
from handlers.admin import fit_lines
from handlers.bookstores.wording import money
from handlers.filters import HasRole

PAIRS_SHOWN = 30


def period_refusal(error: BadPeriodError, command: str) -> str:
    """Why a period was refused, with the forms that work."""
    reasons = {
        "format": _("I don't understand the period “{text}”."),
        "bad_date": _("“{text}” is not a real date."),
        "order": _("The period “{text}” ends before it starts."),
        "too_long": _("The period “{text}” is too long (at most 10 years)."),
        "empty": _("The period “{text}” is empty."),
        "future": _("The period “{text}” has not started yet."),
    }
    return (
        reasons.get(error.reason, reasons["format"]).format(text=escape(error.text))
        + "\n"
        + _("Try /{command} 30d, a month like /{command} 2026-11, or 2026-09..2026-11.").format(
            command=command
        )
    )


def _signed(fen: int, language: str) -> str:
    return ("+" if fen > 0 else "−" if fen < 0 else "") + money(abs(fen), language)


def lending_text(balance: LendingBalance, language: str) -> str:
    """The balance as a message: the pairs, then each member's net."""
    lines = [
        _("🔁 <b>Interlibrary lending</b>, {period}: {loans} loans between members").format(
            period=escape(balance.period.label), loans=balance.loans
        )
    ]
    if not balance.pairs:
        lines.append(_("No member lent a copy to another member's readers in this period."))
        return "\n".join(lines)
    lines += ["", _("<b>Who lent to whom</b> (lender → borrower: loans)")]
    rows = [
        f"{pair.lender.code} → {pair.borrower.code}: {pair.loans}"
        for pair in balance.pairs[:PAIRS_SHOWN]
    ]
    lines.append("<pre>" + escape("\n".join(rows)) + "</pre>")
    if len(balance.pairs) > PAIRS_SHOWN:
        lines.append(
            _("… and {count} more pairs: every one is in the CSV file.").format(
                count=len(balance.pairs) - PAIRS_SHOWN
            )
        )
    lines += ["", _("<b>Net per member</b> (lent − borrowed)")]
    table = []
    for member in balance.members:
        amount = member.amount(balance.rate)
        row = f"{member.library.code:<10} {member.lent:>4} {member.borrowed:>4} {member.net:>+5}"
        table.append(row + ("" if amount is None else f"  {_signed(amount, language)}"))
    header = _("library lent borrowed net")
    lines.append("<pre>" + escape(header + "\n" + "\n".join(table)) + "</pre>")
    if balance.rate is not None:
        lines.append(
            _(
                "At {rate} a loan: positive amounts are owed to the member, negative ones by it."
            ).format(rate=money(balance.rate, language))
        )
    return fit_lines(lines)


def render_chart(balance: LendingBalance, title: str, lent: str, borrowed: str) -> bytes:
    """Lent and borrowed per member (blocking: run in a thread)."""
    members = balance.members
    return charts.grouped_bar_chart(
        f"{title} · {balance.period.label}",
        [member.library.code for member in members],
        {lent: [m.lent for m in members], borrowed: [m.borrowed for m in members]},
    )


def _parse_rate(words: list[str]) -> tuple[list[str], int | None]:
    rest, rate = [], None
    for word in words:
        if word.lower().startswith("rate="):
            rate = parse_price(word.split("=", 1)[1])
        else:
            rest.append(word)
    return rest, rate


async def lending_command(
    message: Message, command: CommandObject, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """/lending [PERIOD] [rate=YUAN]."""
    try:
        words, rate = _parse_rate((command.args or "").split())
    except BadPriceError as exc:
        await message.answer(
            _("“{text}” is not a rate. Write the amount per loan in yuan, like rate=2.50.").format(
                text=escape(exc.text)
            )
        )
        return
    try:
        period = statistics.parse_period(" ".join(words), now=utcnow(), zone=settings.zone)
    except BadPeriodError as exc:
        await message.answer(period_refusal(exc, "lending"))
        return
    balance = await lending.lending_balance(session, period, rate=rate)
    language = i18n.current_locale
    await message.answer(lending_text(balance, language))
    if not balance.pairs:
        return
    chart_language = await asyncio.to_thread(charts.label_language, language)
    words_for_chart = [
        i18n.gettext(text, locale=chart_language)
        for text in (N_("Interlibrary lending"), N_("Lent"), N_("Borrowed"))
    ]
    png = await asyncio.to_thread(render_chart, balance, *words_for_chart)
    label = balance.period.label.replace("..", "_")
    await message.answer_photo(
        BufferedInputFile(png, filename=f"lending-{label}.png"),
        caption=_("Copies each member lent to others' readers, and borrowed for its own"),
    )
    await message.answer_document(
        BufferedInputFile(
            lending.lending_csv(balance).encode("utf-8"), filename=f"lending-{label}.csv"
        ),
        caption=_("Interlibrary lending for {period} as CSV").format(
            period=escape(balance.period.label)
        ),
    )


def build_router() -> Router:
    """The report commands for admins."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.message.register(lending_command, Command("lending"))
    return router
