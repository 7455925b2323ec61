"""Reserving a work: Reserve on its card, the pickup choice, and what a work without copies
offers (tell me when it arrives, suggest a purchase)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

# aiogram's gettext takes (singular, plural, n); the name lets `make i18n` extract plurals.
from aiogram.utils.i18n import gettext as ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import HoldStatus, Reader, SuggestionStatus, utcnow
from bot.notices.holds import ReserveWork
from bot.services import suggestions
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.holds import placing, reader_actions, refusals, watching
from bot.services.holds.rules import LOAN_DAYS_ESTIMATE
from bot.services.ils.holds import relay_hold
from bot.services.ils.live import LiveAvailability
from handlers.common import edit_message
from handlers.holds.callbacks import PickupChoice, SuggestWork, WatchWork
from handlers.holds.display import (
    PICKUP_CHOICES,
    button,
    hold_keyboard,
    hold_lines,
    library_name_html,
    my_holds_row,
    option_label,
    when,
    work_html,
)
from handlers.ils.relay import relay_note


def _gone() -> str:
    return _("Sorry, that book is not in the catalogue any more.")


def _no_copies_keyboard(work_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🔔 Tell me when it arrives"), WatchWork(work_id=work_id))],
            [button(_("🛒 Suggest a purchase"), SuggestWork(work_id=work_id))],
        ]
    )


async def _reply(
    query: CallbackQuery, reader: Reader, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    bot = query.bot
    assert bot is not None
    chat_id = query.message.chat.id if query.message is not None else reader.chat_id
    await bot.send_message(chat_id, text, reply_markup=markup)


async def reserve(
    query: CallbackQuery,
    callback_data: ReserveWork,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Reserve tapped: pickup points nearest first, each with shelf copy or transit days."""
    language = i18n.current_locale
    held = await placing.held_work(session, reader, callback_data.work_id)
    if held is not None:
        # One hold per book: show the one there is instead of a picker that would refuse.
        await query.answer()
        view = await reader_actions.reader_hold(session, reader, held)
        lines = [_("You already have a hold on this book:"), ""]
        lines += hold_lines(view, settings, language)
        await _reply(query, reader, "\n".join(lines), hold_keyboard(view, settings))
        return
    try:
        work, options = await placing.pickup_options(
            session, reader, callback_data.work_id, settings=settings
        )
    except NotFoundError:
        await query.answer(_gone(), show_alert=True)
        return
    except refusals.NoCopiesError:
        await query.answer()
        text = _(
            "No library in the alliance has a copy of this book yet. You choose, the "
            "library buys: suggest it for purchase — and I can tell you when a copy arrives."
        )
        await _reply(query, reader, text, _no_copies_keyboard(callback_data.work_id))
        return
    await query.answer()
    if not options:
        await _reply(query, reader, _("No library hands out holds at the moment."), None)
        return
    rows = [
        [
            button(
                option_label(option, language),
                PickupChoice(work_id=work.id, library_id=option.library.id),
            )
        ]
        for option in options[:PICKUP_CHOICES]
    ]
    text = _("Where would you like to pick up {title}?").format(title=work_html(work))
    if all(not o.on_shelf and o.transit_days is None for o in options):
        text += "\n" + _("All copies are out at the moment: you will join the queue.")
    await _reply(query, reader, text, InlineKeyboardMarkup(inline_keyboard=rows))


def placement_text(placement: placing.Placement, settings: Settings, language: str) -> str:
    """The confirmation: where the copy is, the queue position and an estimate."""
    hold = placement.hold
    title = work_html(hold.work)
    library = library_name_html(hold.pickup_library, language)
    if hold.status is HoldStatus.READY:
        assert hold.ready_until is not None
        days = settings.hold_shelf_days
        return ngettext(
            "✅ Reserved: {title} is on the shelf at {library} and is kept for you until "
            "{until} ({days} opening day).",
            "✅ Reserved: {title} is on the shelf at {library} and is kept for you until "
            "{until} ({days} opening days).",
            days,
        ).format(title=title, library=library, until=when(hold.ready_until, settings), days=days)
    if hold.status is HoldStatus.IN_TRANSIT:
        assert placement.source is not None and placement.estimate_days is not None
        days = placement.estimate_days
        return ngettext(
            "✅ Reserved: a copy of {title} is coming from {source} to {library} — about {days} "
            "day. I will tell you when it is ready.",
            "✅ Reserved: a copy of {title} is coming from {source} to {library} — about {days} "
            "days. I will tell you when it is ready.",
            days,
        ).format(
            title=title,
            source=library_name_html(placement.source, language),
            library=library,
            days=days,
        )
    weeks = max(1, round((placement.estimate_days or 0) / 7))
    return ngettext(
        "✅ Reserved: you are number {position} in the queue for {title}, to pick up at "
        "{library}. Estimated wait: about {weeks} week (loans last about {loan} days).",
        "✅ Reserved: you are number {position} in the queue for {title}, to pick up at "
        "{library}. Estimated wait: about {weeks} weeks (loans last about {loan} days).",
        weeks,
    ).format(
        position=placement.position,
        title=title,
        library=library,
        weeks=weeks,
        loan=LOAN_DAYS_ESTIMATE,
    )


def _placement_refusal(error: Exception) -> str:
    if isinstance(error, NotFoundError):
        return _gone()
    if isinstance(error, refusals.NotPickupPointError):
        return _("That library does not hand out holds.")
    if isinstance(error, refusals.AlreadyHoldingError):
        return _("You already have a hold on this book. See “My holds”.")
    if isinstance(error, refusals.HoldLimitError):
        return ngettext(
            "You already have {limit} active hold, as many as a reader may have. "
            "Collect or cancel it first.",
            "You already have {limit} active holds, as many as a reader may have. "
            "Collect or cancel one first.",
            error.limit,
        ).format(limit=error.limit)
    return _("No library in the alliance has a copy of this book yet.")


async def choose_pickup(
    query: CallbackQuery,
    callback_data: PickupChoice,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
    ils: LiveAvailability,
) -> None:
    """A pickup library chosen: place the hold and confirm."""
    try:
        placement = await placing.place_hold(
            session, reader, callback_data.work_id, callback_data.library_id, settings=settings
        )
    except (
        NotFoundError,
        refusals.NotPickupPointError,
        refusals.AlreadyHoldingError,
        refusals.HoldLimitError,
        refusals.NoCopiesError,
    ) as exc:
        await query.answer(_placement_refusal(exc), show_alert=True)
        return
    await query.answer(_("Reserved."))
    # A copy of a library connected by SIP2 is placed in its own system too.
    relayed = await relay_hold(session, ils, placement.hold.id, within_s=settings.ils_deadline_s)
    await edit_message(
        query.message,
        placement_text(placement, settings, i18n.current_locale)
        + relay_note(relayed, i18n.current_locale),
        InlineKeyboardMarkup(inline_keyboard=[my_holds_row()]),
    )


async def watch(
    query: CallbackQuery, callback_data: WatchWork, session: AsyncSession, reader: Reader
) -> None:
    """Tell me when it arrives."""
    try:
        added = await watching.watch_work(session, reader, callback_data.work_id)
    except NotFoundError:
        await query.answer(_gone(), show_alert=True)
        return
    if added:
        await query.answer(
            _("I will tell you as soon as a library of the alliance has a copy."), show_alert=True
        )
    else:
        await query.answer(_("You are already on the list for this book."), show_alert=True)


async def suggest(
    query: CallbackQuery,
    callback_data: SuggestWork,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
) -> None:
    """Suggest a work without copies for purchase (one vote per reader)."""
    try:
        work = await watching.work_without_copies(session, callback_data.work_id)
    except NotFoundError:
        await query.answer(_gone(), show_alert=True)
        return
    if work is None:
        await query.answer(
            _("A library has this book now: tap Reserve on its card."), show_alert=True
        )
        return
    isbn = work.isbns[0].isbn if work.isbns else None
    try:
        outcome = await suggestions.suggest_purchase(
            session,
            reader,
            work.title,
            isbn=isbn,
            now=utcnow(),
            zone=settings.zone,
            monthly_limit=settings.suggestions_per_month,
        )
    except suggestions.SuggestionLimitError as exc:
        await query.answer(
            ngettext(
                "You have made {limit} purchase suggestion this month, as many as we take. "
                "Thank you! You can suggest more next month.",
                "You have made {limit} purchase suggestions this month, as many as we take. "
                "Thank you! You can suggest more next month.",
                exc.limit,
            ).format(limit=exc.limit),
            show_alert=True,
        )
        return
    except InvalidInputError:
        await query.answer(_gone(), show_alert=True)
        return
    if not outcome.counted:
        await query.answer(
            _("You have already suggested this. Readers asking for it: {votes}.").format(
                votes=outcome.votes
            ),
            show_alert=True,
        )
        return
    text = _("Thank you! Your purchase suggestion is saved. Readers asking for it: {votes}.")
    if outcome.status is SuggestionStatus.APPROVED:
        text += " " + _("Good news: the library has already decided to buy it.")
    await query.answer(text.format(votes=outcome.votes), show_alert=True)


def build_router() -> Router:
    """The reserve flow's handlers (the filters are on the holds router that includes it)."""
    router = Router(name=__name__)
    router.callback_query.register(reserve, ReserveWork.filter())
    router.callback_query.register(choose_pickup, PickupChoice.filter())
    router.callback_query.register(watch, WatchWork.filter())
    router.callback_query.register(suggest, SuggestWork.filter())
    return router
