"""How the notice about a decided purchase suggestion reads."""

from __future__ import annotations

from html import escape

from bot.notices.registry import Context, renders
from bot.services.outbox import OutboxMessage
from bot.services.purchasing import SuggestionDecided


@renders(SuggestionDecided)
def suggestion_decided(notice: SuggestionDecided, ctx: Context) -> OutboxMessage:
    """Approved (with the library that buys it) or declined."""
    title = escape(notice.title)
    if notice.library is None:
        text = ctx._(
            "Thank you for suggesting “{title}”. The alliance will not buy it this time."
        ).format(title=title)
    else:
        text = ctx._(
            "📚 Good news: the alliance approved your suggestion “{title}”. "
            "{library} will buy it; search for it again in a few weeks."
        ).format(title=title, library=escape(ctx.name(notice.library)))
    return OutboxMessage(text={ctx.language: text})
