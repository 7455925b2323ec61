"""How volunteer notices read: the reminder before a shift, a shift called off."""

from __future__ import annotations

from html import escape

from bot.notices.registry import Context, renders
from bot.services.events.times import span_text
from bot.services.outbox import OutboxMessage
from bot.services.volunteers.shifts import ShiftCancelled, ShiftReminder, ShiftShown


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
            _shift_lines(shift, ctx),
        ]
    )
    return OutboxMessage(text={ctx.language: text})


def _shift_lines(shift: ShiftShown, ctx: Context) -> str:
    return "\n".join(
        [
            f"🙋 <b>{escape(shift.role, quote=False)}</b>",
            f"🎪 {escape(ctx.name(shift.event), quote=False)}",
            f"🕒 {span_text(shift.starts_at, shift.ends_at, ctx.settings.zone)}",
        ]
    )


@renders(ShiftCancelled)
def _cancelled(notice: ShiftCancelled, ctx: Context) -> OutboxMessage:
    what = ctx._(
        "❌ The event was cancelled, so your volunteer shift is off. Thank you for offering "
        "your time."
    )
    return OutboxMessage(text={ctx.language: what + "\n\n" + _shift_lines(notice.shift, ctx)})
