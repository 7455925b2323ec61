"""How old a last known status is, as readers and staff read it."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime


def as_of_text(moment: datetime, zone: tzinfo, language: str) -> str:
    """When a last known status was given: the time today, else the day and time."""
    local = moment.astimezone(zone)
    today = datetime.now(UTC).astimezone(zone).date() == local.date()
    pattern = "HH:mm" if today else "yyyy-MM-dd HH:mm"
    when = format_datetime(local, pattern, locale="zh_CN" if language == "zh" else "en_GB")
    return _("as of {time}").format(time=when)
