"""How reading-life notices read: the weekly digest."""

from __future__ import annotations

from html import escape

from bot.notices.intents import WeeklyDigest
from bot.notices.registry import Context, renders
from bot.services.outbox import OutboxMessage


@renders(WeeklyDigest)
def weekly_digest(notice: WeeklyDigest, ctx: Context) -> OutboxMessage:
    """New arrivals near the reader, a pick with its reason, challenge progress, streak."""
    lines = [ctx._("📬 <b>Your reading week</b>")]
    if notice.arrivals:
        lines += ["", ctx._("🆕 New near you:")]
        lines += [f"• {escape(ctx.name(title))}" for title in notice.arrivals]
    if notice.pick is not None:
        lines += ["", ctx._("✨ For you: {title}").format(title=escape(ctx.name(notice.pick)))]
        if notice.because is not None:
            lines.append(
                "   <i>"
                + ctx._("because you reserved or read {title}").format(
                    title=escape(ctx.name(notice.because))
                )
                + "</i>"
            )
    if notice.challenges:
        lines += ["", ctx._("🏁 Your challenges:")]
        lines += [
            "• "
            + ctx._("{title}: {done} of {goal}").format(
                title=escape(ctx.name(item.title)), done=item.done, goal=item.goal
            )
            for item in notice.challenges
        ]
    if notice.streak_weeks:
        lines += [
            "",
            ctx._("🔥 {weeks} weeks in a row with a read.").format(weeks=notice.streak_weeks),
        ]
    lines += ["", ctx._("More: /popular · /foryou · /challenges")]
    return OutboxMessage(text={ctx.language: "\n".join(lines)})
