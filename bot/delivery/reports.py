"""Reports: what one drain did, and the organiser's status message for a broadcast."""

from __future__ import annotations

from dataclasses import dataclass, fields

from aiogram.utils.i18n import gettext as _

from bot.services.outbox.outcomes import OutcomeCounts


@dataclass
class DrainReport:
    """What one drain did."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    retried: int = 0
    rate_limited: int = 0
    blocked: int = 0
    reclaimed: int = 0
    # Sends that may have arrived (timeouts...) of rows that are never sent twice.
    unknown: int = 0
    halted: bool = False

    def add(self, other: DrainReport) -> None:
        """Accumulate another report into this one."""
        for counter in fields(self):
            if counter.name != "halted":
                setattr(
                    self, counter.name, getattr(self, counter.name) + getattr(other, counter.name)
                )
        self.halted = self.halted or other.halted


def broadcast_status_text(
    number: int, recipients: int, counts: OutcomeCounts, *, finished: bool
) -> str:
    """The author's status message for a broadcast (call inside an i18n locale context)."""
    if finished:
        head = _("✅ Broadcast #{number} is finished.").format(number=number)
    else:
        head = _("📣 Broadcast #{number} is on its way to {recipients} readers.").format(
            number=number, recipients=recipients
        )
    lines = [
        head,
        "",
        _("Queued: {count}").format(count=counts.queued),
        _("Sent: {count}").format(count=counts.sent),
        _("Failed: {count}").format(count=counts.failed),
        _("Blocked the bot: {count}").format(count=counts.blocked),
        _("Skipped (opted out or frequency cap): {count}").format(count=counts.skipped),
    ]
    if counts.unknown:
        lines.append(
            _("Unknown (no answer from Telegram, not sent again): {count}").format(
                count=counts.unknown
            )
        )
    if finished:
        lines += [
            "",
            _("Delivered to {sent} of {recipients} readers.").format(
                sent=counts.sent, recipients=recipients
            ),
        ]
    return "\n".join(lines)
