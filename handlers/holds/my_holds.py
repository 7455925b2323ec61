"""My holds: the reader's list, one hold's card, and one handler per action on a hold.

Every action re-checks that the hold is the reader's (callback data can be forged); a refused
action is answered with why (``answers_refusals``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Concatenate, ParamSpec

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import ACTIVE_HOLD_STATUSES, HoldStatus, Reader, utcnow
from bot.notices.holds import HoldAct, HoldAction, library_plain, title_plain
from bot.services.errors import DomainError
from bot.services.holds import placing, reader_actions
from bot.services.holds.notices import library_of, title_of
from bot.services.holds.reader_actions import CancelReason, HoldView
from bot.services.holds.refusals import HoldStateError
from handlers.common import edit_message, replace_buttons
from handlers.holds.callbacks import CancelWithReason, ChangePickup, SuspendFor
from handlers.holds.display import (
    PICKUP_CHOICES,
    button,
    hold_keyboard,
    hold_lines,
    my_holds_row,
    option_label,
    reason_label,
    refusal,
    when,
    work_html,
)
from handlers.keyboards import MENU_HOLDS
from handlers.reading.callbacks import collected_read_rows

SUSPEND_DAYS = (7, 14, 30, 60)
MANAGE_TITLE_CHARS = 40

P = ParamSpec("P")
Handler = Callable[Concatenate[CallbackQuery, P], Awaitable[None]]


def answers_refusals(handler: Handler[P]) -> Handler[P]:
    """A hold action that the services refuse is answered with why, in an alert."""

    @functools.wraps(handler)
    async def answering(query: CallbackQuery, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await handler(query, *args, **kwargs)
        except DomainError as exc:
            await query.answer(refusal(exc), show_alert=True)

    return answering


def _back(hold_id: int) -> list[list[InlineKeyboardButton]]:
    return [[button(_("⬅️ Back"), HoldAction(action=HoldAct.OPEN, hold_id=hold_id))]]


async def _overview(
    session: AsyncSession, reader: Reader, settings: Settings, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    views = await reader_actions.active_holds(session, reader.id)
    # Books collected lately can be marked read from here (the reading log).
    read_rows = await collected_read_rows(session, reader.id, language)
    if not views:
        return (
            _("You have no active holds. Search for a book and tap “Reserve” to place one."),
            InlineKeyboardMarkup(inline_keyboard=read_rows) if read_rows else None,
        )
    lines = [
        _("📚 Your holds ({count} of {limit}):").format(
            count=len(views), limit=settings.max_active_holds
        )
    ]
    rows = []
    for number, view in enumerate(views, start=1):
        lines.append("")
        block = hold_lines(view, settings, language)
        lines.append(f"{number}. {block[0]}")
        lines.extend(block[1:])
        # A button is plain text in the reader's language: the original-script title for
        # Chinese readers, the romanised (English) one for the others.
        title = title_plain(title_of(view.hold.work), language, MANAGE_TITLE_CHARS)
        rows.append(
            [
                button(
                    _("{number}. Manage: {title}").format(number=number, title=title),
                    HoldAction(action=HoldAct.OPEN, hold_id=view.hold.id),
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows + read_rows)


async def my_holds(
    message: Message, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """The reader's active holds, each with a Manage button."""
    text, markup = await _overview(session, reader, settings, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def _show(query: CallbackQuery, view: HoldView, settings: Settings, language: str) -> None:
    await edit_message(
        query.message,
        "\n".join(hold_lines(view, settings, language)),
        hold_keyboard(view, settings),
    )


async def show_list(
    query: CallbackQuery, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """⬅️ My holds: the list again."""
    await query.answer()
    text, markup = await _overview(session, reader, settings, i18n.current_locale)
    await edit_message(query.message, text, markup)


@answers_refusals
async def open_hold(
    query: CallbackQuery,
    callback_data: HoldAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Manage: one hold with the actions its state allows."""
    view = await reader_actions.reader_hold(session, reader, callback_data.hold_id)
    await query.answer()
    await _show(query, view, settings, i18n.current_locale)


@answers_refusals
async def on_my_way(
    query: CallbackQuery,
    callback_data: HoldAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """On my way: where and until when the book waits."""
    hold = (await reader_actions.reader_hold(session, reader, callback_data.hold_id)).hold
    if hold.status is not HoldStatus.READY or hold.ready_until is None:
        raise HoldStateError(hold.status)
    # An alert is plain text: the name as it is, not escaped.
    await query.answer(
        _("See you at {library}! It is kept for you until {until}.").format(
            library=library_plain(library_of(hold.pickup_library), i18n.current_locale),
            until=when(hold.ready_until, settings),
        ),
        show_alert=True,
    )


def _holds_on(markup: InlineKeyboardMarkup | None) -> set[int]:
    """The holds a message's buttons act on."""
    found: set[int] = set()
    for row in markup.inline_keyboard if markup is not None else []:
        for item in row:
            data = item.callback_data or ""
            if data.startswith(f"{HoldAction.__prefix__}:"):
                with contextlib.suppress(TypeError, ValueError):
                    button_action = HoldAction.unpack(data)
                    if button_action.action is not HoldAct.LIST:
                        found.add(button_action.hold_id)
    return found


async def _redraw_after_extension(
    query: CallbackQuery,
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    settings: Settings,
    language: str,
) -> None:
    """The hold's card with its new date; under a notice of several holds, only the spent
    extend button goes, so the other books stay in view."""
    message = query.message
    if not isinstance(message, Message):
        return
    if _holds_on(message.reply_markup) <= {hold_id}:
        view = await reader_actions.reader_hold(session, reader, hold_id)
        await _show(query, view, settings, language)
        return
    spent = HoldAction(action=HoldAct.EXTEND, hold_id=hold_id).pack()
    assert message.reply_markup is not None
    rows = [
        [item for item in row if item.callback_data != spent]
        for row in message.reply_markup.inline_keyboard
    ]
    await replace_buttons(message, InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r]))


@answers_refusals
async def extend(
    query: CallbackQuery,
    callback_data: HoldAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Keep a ready hold longer, once, when nobody else waits."""
    hold = await reader_actions.extend_hold(
        session, reader, callback_data.hold_id, settings=settings
    )
    assert hold.ready_until is not None
    await query.answer(
        _("Done: it is kept for you until {until}.").format(until=when(hold.ready_until, settings)),
        show_alert=True,
    )
    await _redraw_after_extension(query, session, reader, hold.id, settings, i18n.current_locale)


@answers_refusals
async def pass_on(
    query: CallbackQuery,
    callback_data: HoldAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
) -> None:
    """Let the next reader have the copy."""
    hold = (await reader_actions.reader_hold(session, reader, callback_data.hold_id)).hold
    title = work_html(hold.work)
    await reader_actions.pass_on(session, reader, hold.id, settings=settings)
    await query.answer(_("Thank you! The copy goes to the next reader."), show_alert=True)
    await edit_message(
        query.message, _("🔁 You passed {title} on to the next reader.").format(title=title)
    )


@answers_refusals
async def ask_cancel_reason(
    query: CallbackQuery, callback_data: HoldAction, session: AsyncSession, reader: Reader
) -> None:
    """Cancel: first, why."""
    hold = (await reader_actions.reader_hold(session, reader, callback_data.hold_id)).hold
    if hold.status not in ACTIVE_HOLD_STATUSES:
        raise HoldStateError(hold.status)
    await query.answer()
    rows = [
        [button(reason_label(r), CancelWithReason(hold_id=hold.id, reason=r.value))]
        for r in CancelReason
    ]
    await edit_message(
        query.message,
        _("Why do you cancel the hold on {title}?").format(title=work_html(hold.work)),
        InlineKeyboardMarkup(inline_keyboard=[*rows, *_back(hold.id)]),
    )


@answers_refusals
async def choose_new_pickup(
    query: CallbackQuery,
    callback_data: HoldAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Change pickup library: the other pickup points, nearest first."""
    hold = (await reader_actions.reader_hold(session, reader, callback_data.hold_id)).hold
    if hold.status is not HoldStatus.QUEUED:
        raise HoldStateError(hold.status)
    _work, options = await placing.pickup_options(session, reader, hold.work_id, settings=settings)
    await query.answer()
    rows = [
        [
            button(
                option_label(option, i18n.current_locale),
                ChangePickup(hold_id=hold.id, library_id=option.library.id),
            )
        ]
        for option in options[:PICKUP_CHOICES]
        if option.library.id != hold.pickup_library_id
    ]
    await edit_message(
        query.message,
        _("Where would you like to pick up {title} instead?").format(title=work_html(hold.work)),
        InlineKeyboardMarkup(inline_keyboard=[*rows, *_back(hold.id)]),
    )


@answers_refusals
async def ask_suspend_until(
    query: CallbackQuery,
    callback_data: HoldAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
) -> None:
    """Suspend: until which date."""
    hold = (await reader_actions.reader_hold(session, reader, callback_data.hold_id)).hold
    if hold.status is not HoldStatus.QUEUED:
        raise HoldStateError(hold.status)
    await query.answer()
    today = utcnow().astimezone(settings.zone).date()
    rows = [
        [
            button(
                _("Until {date}").format(date=(today + timedelta(days=days)).strftime("%Y-%m-%d")),
                SuspendFor(hold_id=hold.id, days=days),
            )
        ]
        for days in SUSPEND_DAYS
    ]
    await edit_message(
        query.message,
        _(
            "Suspend the hold on {title} until when? It keeps its place in the queue "
            "but is not filled until then."
        ).format(title=work_html(hold.work)),
        InlineKeyboardMarkup(inline_keyboard=[*rows, *_back(hold.id)]),
    )


@answers_refusals
async def resume(
    query: CallbackQuery,
    callback_data: HoldAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Resume now: the suspension ends."""
    hold = await reader_actions.resume_hold(
        session, reader, callback_data.hold_id, settings=settings
    )
    await query.answer(_("The hold is active again."))
    view = await reader_actions.reader_hold(session, reader, hold.id)
    await _show(query, view, settings, i18n.current_locale)


@answers_refusals
async def cancel_with_reason(
    query: CallbackQuery,
    callback_data: CancelWithReason,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
) -> None:
    """Cancel a hold with the chosen reason."""
    try:
        reason = CancelReason(callback_data.reason)
    except ValueError:
        await query.answer(_("That is not possible."), show_alert=True)
        return
    hold = await reader_actions.cancel_hold(
        session, reader, callback_data.hold_id, reason, settings=settings
    )
    await query.answer(_("Hold cancelled."))
    await edit_message(
        query.message,
        _("✖️ Your hold on {title} is cancelled.").format(title=work_html(hold.work)),
        InlineKeyboardMarkup(inline_keyboard=[my_holds_row()]),
    )


@answers_refusals
async def change_pickup(
    query: CallbackQuery,
    callback_data: ChangePickup,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Move a queued hold to another pickup library."""
    hold = await reader_actions.change_pickup(
        session, reader, callback_data.hold_id, callback_data.library_id
    )
    view = await reader_actions.reader_hold(session, reader, hold.id)
    await query.answer(_("Pickup library changed."))
    await _show(query, view, settings, i18n.current_locale)


@answers_refusals
async def suspend(
    query: CallbackQuery,
    callback_data: SuspendFor,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Suspend a queued hold until the chosen date."""
    if callback_data.days not in SUSPEND_DAYS:
        await query.answer(_("That is not possible."), show_alert=True)
        return
    today = utcnow().astimezone(settings.zone).date()
    hold = await reader_actions.suspend_hold(
        session,
        reader,
        callback_data.hold_id,
        today + timedelta(days=callback_data.days),
        settings=settings,
    )
    view = await reader_actions.reader_hold(session, reader, hold.id)
    await query.answer(_("Hold suspended."))
    await _show(query, view, settings, i18n.current_locale)


def build_router() -> Router:
    """My holds' handlers (the filters are on the holds router that includes it)."""
    router = Router(name=__name__)
    router.message.register(my_holds, F.text == MENU_HOLDS)
    router.message.register(my_holds, Command("holds"))
    on = HoldAction.filter
    router.callback_query.register(show_list, on(F.action == HoldAct.LIST))
    router.callback_query.register(open_hold, on(F.action == HoldAct.OPEN))
    router.callback_query.register(on_my_way, on(F.action == HoldAct.ON_MY_WAY))
    router.callback_query.register(extend, on(F.action == HoldAct.EXTEND))
    router.callback_query.register(pass_on, on(F.action == HoldAct.PASS_ON))
    router.callback_query.register(ask_cancel_reason, on(F.action == HoldAct.CANCEL))
    router.callback_query.register(choose_new_pickup, on(F.action == HoldAct.PICKUP))
    router.callback_query.register(ask_suspend_until, on(F.action == HoldAct.SUSPEND))
    router.callback_query.register(resume, on(F.action == HoldAct.RESUME))
    router.callback_query.register(cancel_with_reason, CancelWithReason.filter())
    router.callback_query.register(change_pickup, ChangePickup.filter())
    router.callback_query.register(suspend, SuspendFor.filter())
    return router
