"""How volunteer notices read: the reminder before a shift."""

from __future__ import annotations

from html import escape

from bot.notices.registry import Context, renders
from bot.services.events.times import span_text
from bot.services.outbox import OutboxMessage
from bot.services.volunteers.shifts import ShiftReminder


@renders(ShiftReminder)
def _reminder(notice: ShiftReminder, ctx: Context) -> OutboxMessage:
    shift = notice.shift
    text = "\n".join(
        [
            ctx._(
                "⏰ Your volunteer shift starts soon. Scan the check-in QR code at the venue "
                "when you arrive, and the check-out one when you leave."
            ),
            "",
            f"🙋 <b>{escape(shift.role, quote=False)}</b>",
            f"🎪 {escape(ctx.name(shift.event), quote=False)}",
            f"🕒 {span_text(shift.starts_at, shift.ends_at, ctx.settings.zone)}",
        ]
    )
    return OutboxMessage(text={ctx.language: text})
