"""How a hold relayed to a library's own system reads in the chat."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot.models import RelayStatus
from bot.notices.holds import library_html
from bot.services.holds.notices import library_of
from bot.services.ils.holds import RelayOutcome

SYSTEM_WORDS = 120


def relay_note(outcome: RelayOutcome | None, language: str) -> str:
    """A paragraph on what the library's system did with the hold ('' when not connected)."""
    if outcome is None:
        return ""
    library = library_html(library_of(outcome.library), language)
    if outcome.status is RelayStatus.PLACED:
        return "\n\n" + _(
            "📡 The hold is also in {library}'s own system, on your library card there: "
            "the desk and the self-check machines keep the copy for you."
        ).format(library=library)
    if outcome.status is RelayStatus.NO_CARD:
        return "\n\n" + _(
            "📡 {library} is connected, but you have not linked your card there, so a "
            "librarian sets the copy aside as usual. Link it with /card to have your holds "
            "placed in its own system."
        ).format(library=library)
    if outcome.status is RelayStatus.REFUSED:
        said = escape(outcome.message[:SYSTEM_WORDS]) if outcome.message else "—"
        return "\n\n" + _(
            "📡 {library}'s own system did not take the hold ({said}); a librarian sets "
            "the copy aside as usual, and nothing changes for you."
        ).format(library=library, said=said)
    return "\n\n" + _(
        "📡 {library}'s own system is not answering right now. Your hold is kept and will "
        "be passed on to it when it is back; until then a librarian sets the copy aside."
    ).format(library=library)
