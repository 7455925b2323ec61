"""The renderer registry: one function per intent kind, and what each is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from babel.dates import format_date, format_datetime

from bot.config import Settings
from bot.i18n import Translator
from bot.notices.intents import Names, NoticeData
from bot.services.errors import InvalidInputError
from bot.services.outbox import OutboxMessage

BABEL_LOCALES = {"zh": "zh_Hans_CN", "en": "en_GB"}


@dataclass(frozen=True)
class Context:
    """What a renderer needs: the reader's language, its catalogue and the alliance's settings.

    Call ``ctx._("...")`` and ``ctx.ngettext(...)`` with literal messages so that
    ``make i18n`` extracts them.
    """

    language: str
    translator: Translator
    settings: Settings

    def _(self, message: str) -> str:
        """The message in the reader's language."""
        return self.translator.gettext(message, locale=self.language)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural message for ``n``, in the reader's language."""
        return self.translator.gettext(singular, plural, n, locale=self.language)

    def name(self, names: Names) -> str:
        """A bilingual name in the reader's language (not escaped)."""
        return names.in_language(self.language)

    def when(self, moment: datetime) -> str:
        """A moment in the alliance's time zone, as the reader's locale writes it."""
        return format_datetime(
            moment.astimezone(self.settings.zone),
            "yyyy-MM-dd HH:mm",
            locale=BABEL_LOCALES.get(self.language, "en_GB"),
        )

    def day(self, moment: datetime) -> str:
        """The date of a moment in the alliance's time zone."""
        return format_date(
            moment.astimezone(self.settings.zone).date(),
            "yyyy-MM-dd",
            locale=BABEL_LOCALES.get(self.language, "en_GB"),
        )


_Data = TypeVar("_Data", bound=NoticeData)
Renderer = Callable[[Any, Context], OutboxMessage]
_RENDERERS: dict[str, Renderer] = {}


def renders(cls: type[_Data]) -> Callable[[Callable[[_Data, Context], OutboxMessage]], Renderer]:
    """Register the renderer of one intent class."""

    def register(function: Callable[[_Data, Context], OutboxMessage]) -> Renderer:
        if _RENDERERS.setdefault(cls.kind, function) is not function:
            raise ValueError(f"notice kind {cls.kind!r} has two renderers")
        return function

    return register


def render_notice(data: NoticeData, ctx: Context) -> OutboxMessage:
    """One intent as the reader reads it."""
    renderer = _RENDERERS.get(data.kind)
    if renderer is None:
        raise InvalidInputError(f"notice kind {data.kind!r} has no renderer")
    return renderer(data, ctx)
