"""/redeem CODE PRICE [TITLE]: bookstore staff confirm a reader's voucher at the till."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, display_name, utcnow
from bot.services.bookstores import confirming
from bot.services.bookstores.confirming import Confirmation
from bot.services.bookstores.money import BadPriceError
from bot.services.bookstores.refusals import (
    NotStaffError,
    OtherStoreError,
    OverBudgetError,
    OverPriceCapError,
    TooManyGuessesError,
    UnknownVoucherError,
    VoucherExpiredError,
    VoucherUsedError,
)
from bot.services.errors import DomainError
from handlers.bookstores.wording import money
from handlers.filters import Onboarded
from handlers.holds.display import library_name_html, when, work_html


def usage() -> str:
    """How /redeem is written."""
    return _(
        "Usage: /redeem CODE PRICE [TITLE], e.g. /redeem K7QM2XPA 45.80 — the price in yuan; "
        "the title only if the book is new to the alliance."
    )


def price_refusal(error: BadPriceError) -> str:
    """Why a price was refused."""
    reasons = {
        "format": _("“{text}” is not a price. Write it in yuan with digits, like 45 or 45.80."),
        "negative": _("A price cannot be negative: “{text}”."),
        "zero": _("A price must be more than zero."),
        "large": _("“{text}” is more than any book costs. Check the price."),
    }
    return reasons.get(error.reason, reasons["format"]).format(text=escape(error.text))


def refusal_text(error: DomainError, settings: Settings, language: str) -> str:
    """Why a voucher was not confirmed; nothing was paid or lent."""
    if isinstance(error, BadPriceError):
        return price_refusal(error)
    if isinstance(error, NotStaffError):
        return _("Only a partner bookstore's staff can confirm vouchers.")
    if isinstance(error, TooManyGuessesError):
        return _(
            "Too many codes that match no voucher. Wait {minutes} minutes, then check the code "
            "on the reader's screen and try again."
        ).format(minutes=error.minutes)
    if isinstance(error, UnknownVoucherError):
        return _("No voucher has that code. Check it on the reader's screen.")
    if isinstance(error, OtherStoreError):
        return _("That voucher is for {store}, not your bookstore: it cannot be used here.").format(
            store=escape(display_name(error.store_name, error.store_name_en, language))
        )
    if isinstance(error, VoucherUsedError):
        return _("That voucher was already used: each voucher pays for one book once.")
    if isinstance(error, VoucherExpiredError):
        return _("That voucher expired at {until}: the reader can ask for a new one.").format(
            until=when(error.valid_until, settings)
        )
    if isinstance(error, OverPriceCapError):
        return _("The price is above the library's cap of {cap} a book: it cannot pay.").format(
            cap=money(error.cap, language)
        )
    if isinstance(error, OverBudgetError):
        return _(
            "The library's budget for this month has only {left} left: it cannot pay this price."
        ).format(left=money(error.left, language))
    return _("That is not possible.")


def confirmed_text(done: Confirmation, settings: Settings, language: str) -> str:
    """What the staff member is told once the voucher is confirmed."""
    voucher = done.voucher
    assert voucher.price is not None and voucher.due_at is not None
    return "\n".join(
        [
            _("✅ Voucher {code} confirmed: {book} for {price}, paid by {library}.").format(
                code=f"<code>{voucher.code}</code>",
                book=work_html(done.work),
                price=money(voucher.price, language),
                library=library_name_html(done.voucher.library, language),
            ),
            _("Hand the book to the reader (card {card}): it is lent until {due}.").format(
                card=f"<code>{escape(done.reader.card_number)}</code>",
                due=when(voucher.due_at, settings)[:10],
            ),
            _(
                "Copy {barcode} is in the library's catalogue. Budget left this month: {left}."
            ).format(
                barcode=f"<code>{escape(done.item.barcode)}</code>",
                left=money(done.budget_left, language),
            ),
        ]
    )


async def redeem(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/redeem CODE PRICE [TITLE]."""
    parts = (command.args or "").split(maxsplit=2)
    if len(parts) < 2:
        await message.answer(usage())
        return
    code, price = parts[0], parts[1]
    title = parts[2].strip() if len(parts) > 2 else None
    language = i18n.current_locale
    try:
        done = await confirming.confirm(session, reader, code, price, title=title, now=utcnow())
    except DomainError as exc:
        await message.answer(refusal_text(exc, settings, language))
        return
    await message.answer(confirmed_text(done, settings, language))


def build_router() -> Router:
    """/redeem for bookstore staff (the service checks the role: it is bound to a store)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.message.register(redeem, Command("redeem"))
    return router
