"""Holds for readers: Reserve on the card, the pickup choice, My holds and its actions, /card."""

from __future__ import annotations

import contextlib
import io
from datetime import timedelta
from html import escape

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import ACTIVE_HOLD_STATUSES, HoldStatus, Reader, SuggestionStatus, utcnow
from bot.services import holds, suggestions
from bot.services.errors import DomainError, InvalidInputError, NotFoundError
from bot.services.hold_notices import library_label, when, work_title
from bot.services.hold_rules import LOAN_DAYS_ESTIMATE
from bot.services.holds import CancelReason, HoldView, PickupOption
from handlers.common import distance_text, edit_message, replace_buttons
from handlers.filters import Onboarded
from handlers.hold_buttons import (
    CancelWithReason,
    ChangePickup,
    HoldAct,
    HoldAction,
    PickupChoice,
    ReserveWork,
    SuggestWork,
    SuspendFor,
    WatchWork,
)
from handlers.keyboards import MENU_HOLDS

PICKUP_CHOICES = 8
SUSPEND_DAYS = (7, 14, 30, 60)
MANAGE_TITLE_CHARS = 40


def _button(text: str, data: object) -> InlineKeyboardButton:
    assert hasattr(data, "pack")
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _plain_title(hold_title: str) -> str:
    text = " ".join(hold_title.split())
    return text if len(text) <= MANAGE_TITLE_CHARS else text[: MANAGE_TITLE_CHARS - 1] + "…"


def hold_status_label(status: HoldStatus) -> str:
    """A hold's status in words."""
    labels = {
        HoldStatus.QUEUED: _("waiting in the queue"),
        HoldStatus.IN_TRANSIT: _("on its way to your library"),
        HoldStatus.READY: _("ready for pickup"),
        HoldStatus.COLLECTED: _("collected"),
        HoldStatus.CANCELLED: _("cancelled"),
        HoldStatus.EXPIRED: _("expired"),
    }
    return labels[status]


def reason_label(reason: CancelReason) -> str:
    """A cancellation reason in words."""
    labels = {
        CancelReason.NOT_NEEDED: _("I don't need it any more"),
        CancelReason.FOUND_ELSEWHERE: _("I found it elsewhere"),
        CancelReason.TOO_LONG: _("The wait is too long"),
        CancelReason.OTHER: _("Another reason"),
    }
    return labels[reason]


def _option_label(option: PickupOption, language: str) -> str:
    name = library_label(option.library, language)
    parts = [name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")]
    if option.distance_km is not None:
        parts.append(distance_text(option.distance_km))
    if option.on_shelf:
        parts.append(_("on the shelf"))
    elif option.transit_days is not None:
        parts.append(_("{days} days transit").format(days=option.transit_days))
    else:
        parts.append(_("queue"))
    return " · ".join(parts)


def _weeks(days: int) -> int:
    return max(1, round(days / 7))


def hold_lines(view: HoldView, settings: Settings, language: str) -> list[str]:
    """One hold in My holds: title, status, queue position, pickup library, ready-until."""
    hold = view.hold
    lines = [work_title(hold.work)]
    status = hold_status_label(hold.status)
    if view.position is not None:
        status += " " + _("(number {position} in the queue)").format(position=view.position)
    if hold.suspended_until is not None and hold.status is HoldStatus.QUEUED:
        status += " · " + _("suspended until {date}").format(
            date=hold.suspended_until.astimezone(settings.zone).strftime("%Y-%m-%d")
        )
    lines.append("   " + status)
    lines.append(
        "   " + _("Pickup: {library}").format(library=library_label(hold.pickup_library, language))
    )
    if hold.status is HoldStatus.READY and hold.ready_until is not None:
        lines.append(
            "   " + _("Kept for you until {until}").format(until=when(hold.ready_until, settings))
        )
    return lines


def hold_keyboard(view: HoldView) -> InlineKeyboardMarkup:
    """The actions that apply to one hold in its current state."""
    hold = view.hold
    rows: list[list[InlineKeyboardButton]] = []
    if hold.status is HoldStatus.READY:
        row = [_button(_("🚶 On my way"), HoldAction(action=HoldAct.ON_MY_WAY, hold_id=hold.id))]
        if not hold.extended:
            row.append(_button(_("➕ 2 days"), HoldAction(action=HoldAct.EXTEND, hold_id=hold.id)))
        rows.append(row)
    if hold.status in (HoldStatus.READY, HoldStatus.IN_TRANSIT):
        rows.append(
            [_button(_("🔁 Pass it on"), HoldAction(action=HoldAct.PASS_ON, hold_id=hold.id))]
        )
    if hold.status is HoldStatus.QUEUED:
        rows.append(
            [
                _button(
                    _("📍 Change pickup library"),
                    HoldAction(action=HoldAct.PICKUP, hold_id=hold.id),
                )
            ]
        )
        if hold.suspended_until is None:
            rows.append(
                [_button(_("⏸ Suspend"), HoldAction(action=HoldAct.SUSPEND, hold_id=hold.id))]
            )
        else:
            rows.append(
                [_button(_("▶️ Resume now"), HoldAction(action=HoldAct.RESUME, hold_id=hold.id))]
            )
    if hold.status in ACTIVE_HOLD_STATUSES:
        rows.append(
            [_button(_("✖️ Cancel the hold"), HoldAction(action=HoldAct.CANCEL, hold_id=hold.id))]
        )
    rows.append([_button(_("⬅️ My holds"), HoldAction(action=HoldAct.LIST, hold_id=0))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# --- reserve ------------------------------------------------------------------------------


def _no_copies_keyboard(work_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(_("🔔 Tell me when it arrives"), WatchWork(work_id=work_id))],
            [_button(_("🛒 Suggest a purchase"), SuggestWork(work_id=work_id))],
        ]
    )


def _gone() -> str:
    return _("Sorry, that book is not in the catalogue any more.")


async def reserve(
    query: CallbackQuery,
    callback_data: ReserveWork,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Reserve tapped: pickup points nearest first, each with shelf copy or transit days."""
    held = await holds.held_work(session, reader, callback_data.work_id)
    if held is not None:
        # One hold per book: show the one there is instead of a picker that would refuse.
        await query.answer()
        view = await holds.reader_hold(session, reader, held)
        lines = [_("You already have a hold on this book:"), ""]
        lines += hold_lines(view, settings, i18n.current_locale)
        await _reply(query, reader, "\n".join(lines), hold_keyboard(view))
        return
    try:
        work, options = await holds.pickup_options(
            session, reader, callback_data.work_id, settings=settings
        )
    except NotFoundError:
        await query.answer(_gone(), show_alert=True)
        return
    except holds.NoCopiesError:
        await query.answer()
        await _reply(
            query,
            reader,
            _(
                "No library in the alliance has a copy of this book yet. You choose, the "
                "library buys: suggest it for purchase — and I can tell you when a copy arrives."
            ),
            _no_copies_keyboard(callback_data.work_id),
        )
        return
    await query.answer()
    if not options:
        await _reply(query, reader, _("No library hands out holds at the moment."), None)
        return
    language = i18n.current_locale
    rows = [
        [
            _button(
                _option_label(option, language),
                PickupChoice(work_id=work.id, library_id=option.library.id),
            )
        ]
        for option in options[:PICKUP_CHOICES]
    ]
    text = _("Where would you like to pick up {title}?").format(title=work_title(work))
    if all(not o.on_shelf and o.transit_days is None for o in options):
        text += "\n" + _("All copies are out at the moment: you will join the queue.")
    await _reply(query, reader, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def _reply(
    query: CallbackQuery, reader: Reader, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    bot = query.bot
    assert bot is not None
    chat_id = query.message.chat.id if query.message is not None else reader.chat_id
    await bot.send_message(chat_id, text, reply_markup=markup)


def placement_text(placement: holds.Placement, settings: Settings, language: str) -> str:
    """The confirmation: where the copy is, the queue position and an estimate."""
    hold = placement.hold
    title = work_title(hold.work)
    library = library_label(hold.pickup_library, language)
    if hold.status is HoldStatus.READY:
        assert hold.ready_until is not None
        return _(
            "✅ Reserved: {title} is on the shelf at {library} and is kept for you until "
            "{until} ({days} opening days)."
        ).format(
            title=title,
            library=library,
            until=when(hold.ready_until, settings),
            days=settings.hold_shelf_days,
        )
    if hold.status is HoldStatus.IN_TRANSIT:
        assert placement.source is not None
        return _(
            "✅ Reserved: a copy of {title} is coming from {source} to {library} — about {days} "
            "days. I will tell you when it is ready."
        ).format(
            title=title,
            source=library_label(placement.source, language),
            library=library,
            days=placement.estimate_days,
        )
    return _(
        "✅ Reserved: you are number {position} in the queue for {title}, to pick up at "
        "{library}. Estimated wait: about {weeks} weeks (loans last about {loan} days)."
    ).format(
        position=placement.position,
        title=title,
        library=library,
        weeks=_weeks(placement.estimate_days or 0),
        loan=LOAN_DAYS_ESTIMATE,
    )


async def choose_pickup(
    query: CallbackQuery,
    callback_data: PickupChoice,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A pickup library chosen: place the hold and confirm."""
    try:
        placement = await holds.place_hold(
            session,
            reader,
            callback_data.work_id,
            callback_data.library_id,
            settings=settings,
            translator=i18n,
        )
    except NotFoundError:
        await query.answer(_gone(), show_alert=True)
        return
    except holds.NotPickupPointError:
        await query.answer(_("That library does not hand out holds."), show_alert=True)
        return
    except holds.AlreadyHoldingError:
        await query.answer(
            _("You already have a hold on this book. See “My holds”."), show_alert=True
        )
        return
    except holds.HoldLimitError as exc:
        await query.answer(
            _(
                "You already have {limit} active holds, as many as a reader may have. "
                "Collect or cancel one first."
            ).format(limit=exc.limit),
            show_alert=True,
        )
        return
    except holds.NoCopiesError:
        await query.answer(
            _("No library in the alliance has a copy of this book yet."), show_alert=True
        )
        return
    await query.answer(_("Reserved."))
    await edit_message(
        query.message,
        placement_text(placement, settings, i18n.current_locale),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [_button(_("📚 My holds"), HoldAction(action=HoldAct.LIST, hold_id=0))]
            ]
        ),
    )


async def watch(
    query: CallbackQuery, callback_data: WatchWork, session: AsyncSession, reader: Reader
) -> None:
    """Tell me when it arrives."""
    try:
        added = await holds.watch_work(session, reader, callback_data.work_id)
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
        work = await holds.work_without_copies(session, callback_data.work_id)
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
            _(
                "You have made {limit} purchase suggestions this month, as many as we take. "
                "Thank you! You can suggest more next month."
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


# --- my holds -----------------------------------------------------------------------------


async def _holds_overview(
    session: AsyncSession, reader: Reader, settings: Settings, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    views = await holds.active_holds(session, reader.id)
    if not views:
        return (
            _("You have no active holds. Search for a book and tap “Reserve” to place one."),
            None,
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
        rows.append(
            [
                _button(
                    _("{number}. Manage: {title}").format(
                        number=number, title=_plain_title(view.hold.work.title)
                    ),
                    HoldAction(action=HoldAct.OPEN, hold_id=view.hold.id),
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def my_holds(
    message: Message, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """The reader's active holds, each with a Manage button."""
    text, markup = await _holds_overview(session, reader, settings, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


def _refused(error: Exception) -> str:
    if isinstance(error, holds.NotYourHoldError):
        return _("That hold is not one of yours.")
    if isinstance(error, holds.HoldStateError):
        return _("That hold is {status} now, so this is not possible.").format(
            status=hold_status_label(error.status)
        )
    if isinstance(error, holds.AlreadyExtendedError):
        return _("This hold has already been extended once.")
    if isinstance(error, holds.OthersWaitingError):
        return _("Other readers are waiting for this book, so it cannot be extended.")
    if isinstance(error, holds.NotPickupPointError):
        return _("That library does not hand out holds.")
    return _("That is not possible.")


def _holds_on(markup: InlineKeyboardMarkup | None) -> set[int]:
    """The holds a message's buttons act on."""
    found: set[int] = set()
    for row in markup.inline_keyboard if markup is not None else []:
        for button in row:
            data = button.callback_data or ""
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
    "+2 days" button goes, so the other books stay in view."""
    message = query.message
    if not isinstance(message, Message):
        return
    if _holds_on(message.reply_markup) <= {hold_id}:
        view = await holds.reader_hold(session, reader, hold_id)
        await edit_message(
            message, "\n".join(hold_lines(view, settings, language)), hold_keyboard(view)
        )
        return
    spent = HoldAction(action=HoldAct.EXTEND, hold_id=hold_id).pack()
    assert message.reply_markup is not None
    rows = [
        [button for button in row if button.callback_data != spent]
        for row in message.reply_markup.inline_keyboard
    ]
    await replace_buttons(message, InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r]))


async def hold_action(
    query: CallbackQuery,
    callback_data: HoldAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A button on a hold (in My holds or under a notice); the hold must be the reader's."""
    language = i18n.current_locale
    action = callback_data.action
    if action is HoldAct.LIST:
        await query.answer()
        text, markup = await _holds_overview(session, reader, settings, language)
        await edit_message(query.message, text, markup)
        return
    try:
        view = await holds.reader_hold(session, reader, callback_data.hold_id)
        if action is HoldAct.OPEN:
            await query.answer()
            await edit_message(
                query.message, "\n".join(hold_lines(view, settings, language)), hold_keyboard(view)
            )
            return
        hold = view.hold
        if action is HoldAct.ON_MY_WAY:
            if hold.status is not HoldStatus.READY or hold.ready_until is None:
                raise holds.HoldStateError(hold.status)
            await query.answer(
                _("See you at {library}! It is kept for you until {until}.").format(
                    library=library_label(hold.pickup_library, language),
                    until=when(hold.ready_until, settings),
                ),
                show_alert=True,
            )
            return
        if action is HoldAct.EXTEND:
            hold = await holds.extend_hold(
                session, reader, hold.id, settings=settings, translator=i18n
            )
            assert hold.ready_until is not None
            await query.answer(
                _("Done: it is kept for you until {until}.").format(
                    until=when(hold.ready_until, settings)
                ),
                show_alert=True,
            )
            await _redraw_after_extension(query, session, reader, hold.id, settings, language)
            return
        if action is HoldAct.PASS_ON:
            await holds.pass_on(session, reader, hold.id, settings=settings, translator=i18n)
            await query.answer(_("Thank you! The copy goes to the next reader."), show_alert=True)
            await edit_message(
                query.message,
                _("🔁 You passed {title} on to the next reader.").format(
                    title=work_title(hold.work)
                ),
            )
            return
        if action is HoldAct.CANCEL:
            if hold.status not in ACTIVE_HOLD_STATUSES:
                raise holds.HoldStateError(hold.status)
            await query.answer()
            rows = [
                [_button(reason_label(r), CancelWithReason(hold_id=hold.id, reason=r.value))]
                for r in CancelReason
            ]
            rows.append([_button(_("⬅️ Back"), HoldAction(action=HoldAct.OPEN, hold_id=hold.id))])
            await edit_message(
                query.message,
                _("Why do you cancel the hold on {title}?").format(title=work_title(hold.work)),
                InlineKeyboardMarkup(inline_keyboard=rows),
            )
            return
        if action is HoldAct.PICKUP:
            if hold.status is not HoldStatus.QUEUED:
                raise holds.HoldStateError(hold.status)
            _work, options = await holds.pickup_options(
                session, reader, hold.work_id, settings=settings
            )
            await query.answer()
            rows = [
                [
                    _button(
                        _option_label(option, language),
                        ChangePickup(hold_id=hold.id, library_id=option.library.id),
                    )
                ]
                for option in options[:PICKUP_CHOICES]
                if option.library.id != hold.pickup_library_id
            ]
            rows.append([_button(_("⬅️ Back"), HoldAction(action=HoldAct.OPEN, hold_id=hold.id))])
            await edit_message(
                query.message,
                _("Where would you like to pick up {title} instead?").format(
                    title=work_title(hold.work)
                ),
                InlineKeyboardMarkup(inline_keyboard=rows),
            )
            return
        if action is HoldAct.SUSPEND:
            if hold.status is not HoldStatus.QUEUED:
                raise holds.HoldStateError(hold.status)
            await query.answer()
            today = utcnow().astimezone(settings.zone).date()
            rows = [
                [
                    _button(
                        _("Until {date}").format(
                            date=(today + timedelta(days=days)).strftime("%Y-%m-%d")
                        ),
                        SuspendFor(hold_id=hold.id, days=days),
                    )
                ]
                for days in SUSPEND_DAYS
            ]
            rows.append([_button(_("⬅️ Back"), HoldAction(action=HoldAct.OPEN, hold_id=hold.id))])
            await edit_message(
                query.message,
                _(
                    "Suspend the hold on {title} until when? It keeps its place in the queue "
                    "but is not filled until then."
                ).format(title=work_title(hold.work)),
                InlineKeyboardMarkup(inline_keyboard=rows),
            )
            return
        if action is HoldAct.RESUME:
            await holds.resume_hold(session, reader, hold.id, settings=settings, translator=i18n)
            await query.answer(_("The hold is active again."))
            view = await holds.reader_hold(session, reader, hold.id)
            await edit_message(
                query.message, "\n".join(hold_lines(view, settings, language)), hold_keyboard(view)
            )
            return
    except DomainError as exc:
        await query.answer(_refused(exc), show_alert=True)


async def cancel_with_reason(
    query: CallbackQuery,
    callback_data: CancelWithReason,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Cancel a hold with the chosen reason."""
    try:
        reason = CancelReason(callback_data.reason)
    except ValueError:
        await query.answer(_("That is not possible."), show_alert=True)
        return
    try:
        hold = await holds.cancel_hold(
            session, reader, callback_data.hold_id, reason, settings=settings, translator=i18n
        )
    except DomainError as exc:
        await query.answer(_refused(exc), show_alert=True)
        return
    await query.answer(_("Hold cancelled."))
    await edit_message(
        query.message,
        _("✖️ Your hold on {title} is cancelled.").format(title=work_title(hold.work)),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [_button(_("📚 My holds"), HoldAction(action=HoldAct.LIST, hold_id=0))]
            ]
        ),
    )


async def change_pickup(
    query: CallbackQuery,
    callback_data: ChangePickup,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Move a queued hold to another pickup library."""
    try:
        hold = await holds.change_pickup(
            session,
            reader,
            callback_data.hold_id,
            callback_data.library_id,
            settings=settings,
            translator=i18n,
        )
        view = await holds.reader_hold(session, reader, hold.id)
    except DomainError as exc:
        await query.answer(_refused(exc), show_alert=True)
        return
    await query.answer(_("Pickup library changed."))
    await edit_message(
        query.message,
        "\n".join(hold_lines(view, settings, i18n.current_locale)),
        hold_keyboard(view),
    )


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
    try:
        hold = await holds.suspend_hold(
            session,
            reader,
            callback_data.hold_id,
            today + timedelta(days=callback_data.days),
            settings=settings,
        )
        view = await holds.reader_hold(session, reader, hold.id)
    except DomainError as exc:
        await query.answer(_refused(exc), show_alert=True)
        return
    await query.answer(_("Hold suspended."))
    await edit_message(
        query.message,
        "\n".join(hold_lines(view, settings, i18n.current_locale)),
        hold_keyboard(view),
    )


# --- alliance card ------------------------------------------------------------------------


def card_image(card_number: str) -> bytes:
    """The card number as a Code 128 barcode (PNG), as scanners at member libraries read it."""
    from barcode import Code128
    from barcode.writer import ImageWriter

    output = io.BytesIO()
    Code128(card_number, writer=ImageWriter()).write(
        output, options={"module_height": 12.0, "font_size": 8, "text_distance": 4.0}
    )
    return output.getvalue()


async def alliance_card(message: Message, reader: Reader) -> None:
    """/card: the alliance card number as text and as a barcode image."""
    caption = _(
        "🪪 Your alliance card: <code>{number}</code>\n"
        "Show this barcode at the desk of any member library."
    ).format(number=escape(reader.card_number))
    await message.answer_photo(
        BufferedInputFile(card_image(reader.card_number), filename="card.png"), caption=caption
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.message.register(my_holds, F.text == MENU_HOLDS)
    router.message.register(my_holds, Command("holds"))
    router.message.register(alliance_card, Command("card"))
    router.callback_query.register(reserve, ReserveWork.filter())
    router.callback_query.register(choose_pickup, PickupChoice.filter())
    router.callback_query.register(hold_action, HoldAction.filter())
    router.callback_query.register(cancel_with_reason, CancelWithReason.filter())
    router.callback_query.register(change_pickup, ChangePickup.filter())
    router.callback_query.register(suspend, SuspendFor.filter())
    router.callback_query.register(watch, WatchWork.filter())
    router.callback_query.register(suggest, SuggestWork.filter())
    return router
