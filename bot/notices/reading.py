"""How reading-life notices read: the weekly digest, a badge earned; the badges' names."""

from __future__ import annotations

from html import escape

from bot.i18n import N_
from bot.notices.intents import BadgeEarned, WeeklyDigest
from bot.notices.registry import Context, renders
from bot.services.outbox import OutboxMessage

# Each badge's name, as the reader reads it (translate with ``_`` or ``ctx._``).
BADGE_NAMES = {
    "first_book": N_("📗 First book logged"),
    "books_10": N_("📚 10 books read"),
    "books_25": N_("📚 25 books read"),
    "books_50": N_("🏛 50 books read"),
    "books_100": N_("👑 100 books read"),
    "streak_4": N_("🔥 A 4-week reading streak"),
    "streak_12": N_("🌟 A 12-week reading streak"),
    "challenge": N_("🏁 A reading challenge completed"),
    "list": N_("📜 A reading list finished"),
}


@renders(BadgeEarned)
def badge_earned(notice: BadgeEarned, ctx: Context) -> OutboxMessage:
    """The badge's name, and where the reader sees all of theirs."""
    name = ctx._(BADGE_NAMES.get(notice.badge, notice.badge))
    lines = [
        ctx._("🎖 <b>New badge: {name}</b>").format(name=escape(name)),
        ctx._("See all your badges in /challenges."),
    ]
    return OutboxMessage(text={ctx.language: "\n".join(lines)})


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
