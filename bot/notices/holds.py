"""How hold notices read, and the callback data of the buttons they carry.

Handlers import ``HoldAction`` and ``ReserveWork`` from here: a notice's buttons and the
handlers that answer them share one definition.
"""

from __future__ import annotations

import enum
from html import escape

from aiogram.filters.callback_data import CallbackData

from bot.notices.intents import Names
from bot.notices.registry import Context, renders
from bot.services.holds.notices import (
    CopyArrived,
    HoldCancelledByLibrary,
    HoldExpiredOnShelf,
    HoldExpiredUnfilled,
    HoldExpiresSoon,
    HoldInTransit,
    HoldReminder,
    HoldsReady,
    ReadyHold,
)
from bot.services.members import describe_opening_hours
from bot.services.outbox import Button, OutboxMessage

TITLE_CHARS = 100
LIBRARY_CHARS = 60


class HoldAct(enum.StrEnum):
    """What a hold button does (notices carry the first three)."""

    ON_MY_WAY = "way"
    EXTEND = "ext"
    PASS_ON = "pass"
    OPEN = "open"
    CANCEL = "cancel"
    PICKUP = "pickup"
    SUSPEND = "susp"
    RESUME = "resume"
    LIST = "list"


class HoldAction(CallbackData, prefix="hd"):
    """An action on one of the reader's holds (re-checked against the reader who taps)."""

    action: HoldAct
    hold_id: int


class ReserveWork(CallbackData, prefix="rsv"):
    """Reserve a work: choose the pickup library next."""

    work_id: int


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters on one line, with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def title_html(title: Names) -> str:
    """A work's title as HTML: the original-script one in bold with the romanised one beside."""
    head = f"<b>{escape(clip(title.name, TITLE_CHARS))}</b>"
    if title.name_en and title.name_en.strip() != title.name.strip():
        return f"{head} · {escape(clip(title.name_en, TITLE_CHARS))}"
    return head


def title_plain(title: Names, language: str, limit: int = TITLE_CHARS) -> str:
    """A work's title in the reader's language, as plain text (for buttons)."""
    return clip(title.in_language(language), limit)


def library_plain(library: Names, language: str) -> str:
    """A library's name in the reader's language, as plain text (for buttons)."""
    return clip(library.in_language(language), LIBRARY_CHARS)


def library_html(library: Names, language: str) -> str:
    """A library's name in the reader's language, escaped for a message."""
    return escape(library_plain(library, language))


def extend_label(ctx: Context) -> str:
    """The label of the button that keeps a ready hold longer."""
    days = ctx.settings.hold_extension_days
    return ctx.ngettext("➕ {days} day", "➕ {days} days", days).format(days=days)


def _shelf_line(ctx: Context, hold: ReadyHold, shelf_days: int) -> str:
    return ctx.ngettext(
        "Kept for you until {until} ({days} opening day).",
        "Kept for you until {until} ({days} opening days).",
        shelf_days,
    ).format(until=ctx.when(hold.until), days=shelf_days)


def _ready_block(ctx: Context, hold: ReadyHold, number: int | None, shelf_days: int) -> list[str]:
    head = f"{number}. " if number is not None else ""
    lines = [head + title_html(hold.title)]
    lines.append(ctx._("🏛 {library}").format(library=library_html(hold.library, ctx.language)))
    if hold.address:
        lines.append(ctx._("📍 {address}").format(address=escape(clip(hold.address, TITLE_CHARS))))
    if hold.opening_hours:
        hours = describe_opening_hours(hold.opening_hours, ctx.language)
        lines.append(ctx._("🕘 {hours}").format(hours=escape(clip(hours, TITLE_CHARS))))
    lines.append(_shelf_line(ctx, hold, shelf_days))
    return lines


def _ready_buttons(ctx: Context, holds: tuple[ReadyHold, ...]) -> list[list[Button]]:
    rows = []
    for number, hold in enumerate(holds, start=1):
        prefix = f"{number} · " if len(holds) > 1 else ""
        rows.append(
            [
                Button(
                    prefix + ctx._("🚶 On my way"),
                    callback_data=HoldAction(action=HoldAct.ON_MY_WAY, hold_id=hold.hold_id).pack(),
                ),
                Button(
                    prefix + extend_label(ctx),
                    callback_data=HoldAction(action=HoldAct.EXTEND, hold_id=hold.hold_id).pack(),
                ),
                Button(
                    prefix + ctx._("🔁 Pass it on"),
                    callback_data=HoldAction(action=HoldAct.PASS_ON, hold_id=hold.hold_id).pack(),
                ),
            ]
        )
    return rows


@renders(HoldsReady)
def ready(notice: HoldsReady, ctx: Context) -> OutboxMessage:
    """Ready for pickup: one book, or several that became ready while the notice waited."""
    holds = notice.holds
    if len(holds) == 1:
        lines = [ctx._("📗 Your book is ready for pickup:")]
        lines += _ready_block(ctx, holds[0], None, notice.shelf_days)
    else:
        lines = [ctx._("📗 {count} of your books are ready for pickup:").format(count=len(holds))]
        for number, hold in enumerate(holds, start=1):
            lines.append("")
            lines += _ready_block(ctx, hold, number, notice.shelf_days)
    lines += ["", ctx._("Show your alliance card (/card) at the desk.")]
    one_library = len({hold.library_id for hold in holds}) == 1
    return OutboxMessage(
        text={ctx.language: "\n".join(lines)},
        buttons=_ready_buttons(ctx, holds),
        location=(holds[0].latitude, holds[0].longitude) if one_library else None,
    )


@renders(HoldInTransit)
def in_transit(notice: HoldInTransit, ctx: Context) -> OutboxMessage:
    """A copy is on its way to the pickup library."""
    text = ctx.ngettext(
        "🚚 {title} is on its way to {library}. It should arrive in about {days} day; "
        "I will tell you when it is ready for pickup.",
        "🚚 {title} is on its way to {library}. It should arrive in about {days} days; "
        "I will tell you when it is ready for pickup.",
        notice.days,
    ).format(
        title=title_html(notice.title),
        library=library_html(notice.library, ctx.language),
        days=notice.days,
    )
    return OutboxMessage(text={ctx.language: text})


@renders(HoldReminder)
def reminder(notice: HoldReminder, ctx: Context) -> OutboxMessage:
    """The pickup date is close."""
    text = ctx._(
        "⏰ Reminder: {title} is waiting for you at {library} until {until}. "
        "After that it goes to the next reader."
    ).format(
        title=title_html(notice.title),
        library=library_html(notice.library, ctx.language),
        until=ctx.when(notice.until),
    )
    buttons = [
        [
            Button(
                ctx._("🚶 On my way"),
                callback_data=HoldAction(action=HoldAct.ON_MY_WAY, hold_id=notice.hold_id).pack(),
            ),
            Button(
                ctx._("🔁 Pass it on"),
                callback_data=HoldAction(action=HoldAct.PASS_ON, hold_id=notice.hold_id).pack(),
            ),
        ]
    ]
    return OutboxMessage(text={ctx.language: text}, buttons=buttons)


@renders(HoldExpiredOnShelf)
def expired_on_shelf(notice: HoldExpiredOnShelf, ctx: Context) -> OutboxMessage:
    """A ready hold was not collected in time."""
    text = ctx._(
        "⌛ Your hold on {title} has expired: it waited for you at {library} until {until}, "
        "and the copy has gone on to the next reader. You can reserve it again from its card."
    ).format(
        title=title_html(notice.title),
        library=library_html(notice.library, ctx.language),
        until=ctx.when(notice.until),
    )
    return OutboxMessage(text={ctx.language: text})


@renders(HoldExpiredUnfilled)
def expired_unfilled(notice: HoldExpiredUnfilled, ctx: Context) -> OutboxMessage:
    """No copy came free in time."""
    text = ctx.ngettext(
        "⌛ Your hold on {title} has expired: no copy came free within {days} day. "
        "You can reserve it again from its card.",
        "⌛ Your hold on {title} has expired: no copy came free within {days} days. "
        "You can reserve it again from its card.",
        notice.days,
    ).format(title=title_html(notice.title), days=notice.days)
    return OutboxMessage(text={ctx.language: text})


@renders(HoldExpiresSoon)
def expires_soon(notice: HoldExpiresSoon, ctx: Context) -> OutboxMessage:
    """A queued hold will expire unfilled soon."""
    text = ctx.ngettext(
        "⏳ Your hold on {title} will expire on {date}: holds wait at most {days} day for a "
        "copy. Nothing to do if you still want it — it keeps its place until then.",
        "⏳ Your hold on {title} will expire on {date}: holds wait at most {days} days for a "
        "copy. Nothing to do if you still want it — it keeps its place until then.",
        notice.days,
    ).format(title=title_html(notice.title), date=ctx.when(notice.expires_at), days=notice.days)
    return OutboxMessage(text={ctx.language: text})


@renders(HoldCancelledByLibrary)
def cancelled_by_library(notice: HoldCancelledByLibrary, ctx: Context) -> OutboxMessage:
    """The library cancelled the hold: no copy is left."""
    text = ctx._(
        "❌ The library had to cancel your hold on {title}: no copy is left in the alliance. "
        "Open its card to be told when a copy arrives."
    ).format(title=title_html(notice.title))
    return OutboxMessage(text={ctx.language: text})


@renders(CopyArrived)
def copy_arrived(notice: CopyArrived, ctx: Context) -> OutboxMessage:
    """A watched work has a copy now: reserve it from here."""
    text = ctx._("📚 Good news: {title} has arrived in the alliance's libraries.").format(
        title=title_html(notice.title)
    )
    reserve = Button(ctx._("🔖 Reserve"), callback_data=ReserveWork(work_id=notice.work_id).pack())
    return OutboxMessage(text={ctx.language: text}, buttons=[[reserve]])
