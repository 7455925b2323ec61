"""Words the bookstore handlers share: money, store names, rules."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal

from bot.models import Bookstore, ChooseRules
from bot.notices.registry import BABEL_LOCALES


def money(fen: int, language: str) -> str:
    """Fen as the reader's locale writes yuan: ¥1,234.50."""
    amount = format_decimal(
        Decimal(fen) / 100, format="#,##0.00", locale=BABEL_LOCALES.get(language, "en_GB")
    )
    return f"¥{amount}"


def store_html(store: Bookstore, language: str) -> str:
    """The store's name in bold."""
    return f"<b>{escape(store.display_name(language))}</b>"


def rules_text(rules: ChooseRules, language: str) -> str:
    """The paying library's rules in one line."""
    return _(
        "up to {cap} a book, {quota} books per reader a month, a budget of {budget} a month, "
        "only books the alliance holds fewer than {copies} copies of, lent for {days} days"
    ).format(
        cap=money(rules.price_cap, language),
        quota=rules.reader_quota,
        budget=money(rules.monthly_budget, language),
        copies=rules.max_copies,
        days=rules.loan_days,
    )
