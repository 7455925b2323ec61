"""What a library's own system says of a copy, as staff read it."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.utils.i18n import gettext as _

from bot.services.ils.availability import CopyView
from handlers.ils.age import as_of_text
from handlers.search.wording import status_label


def system_note(view: CopyView | None, zone: tzinfo, language: str) -> str:
    """For staff: what the library's own system says of a copy ('' when not connected)."""
    if view is None:
        return ""
    if view.system_status is None:
        return " · " + _("📡 no answer from the library system")
    said = status_label(view.system_status)
    if view.as_of is not None:
        said += ", " + as_of_text(view.as_of, zone, language)
    return " · " + _("📡 library system: {status}").format(status=said)
