"""Librarian commands: /checkin /arrived /collected /pulllist /missing for a library's staff."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

# aiogram's gettext takes (singular, plural, n); the name lets `make i18n` extract plurals.
from aiogram.utils.i18n import gettext as ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Item, Reader, Role
from bot.services.errors import DomainError
from bot.services.holds import desk, refusals
from bot.services.holds.desk import DeskAction, StaffOutcome
from bot.services.ils.availability import staff_views
from bot.services.ils.live import LiveAvailability
from bot.services.roles import RoleSet
from handlers.filters import HasRole, Onboarded
from handlers.holds.display import library_name_html, when, work_html
from handlers.ils.wording import system_note
from handlers.search import status_label

PULL_LIST_LINES = 60
# The desk commands that take one copy's barcode.
STAFF_ACTIONS = {"checkin": desk.check_in, "arrived": desk.arrived, "missing": desk.mark_missing}


def _scope(roles: RoleSet) -> frozenset[int] | None:
    """The libraries this person acts for; None for an admin (every library)."""
    return None if roles.is_admin else roles.librarian_of


def _copy(item: Item) -> str:
    return _("copy {barcode} of {title}").format(
        barcode=f"<code>{escape(item.barcode)}</code>", title=work_html(item.work)
    )


def _outcome_text(outcome: StaffOutcome, settings: Settings, language: str) -> str:
    item, hold = outcome.item, outcome.hold
    copy = _copy(item)
    if outcome.action is DeskAction.AVAILABLE:
        return _("✅ Checked in {copy}: nobody is waiting, it goes back on the shelf.").format(
            copy=copy
        )
    if outcome.action is DeskAction.FOUND:
        return _("✅ Found again: {copy} is back on the shelf.").format(copy=copy)
    if outcome.action is DeskAction.MISSING:
        return _("❓ {copy} is marked missing. No hold was waiting for it.").format(copy=copy)
    if outcome.action is DeskAction.CANCELLED:
        return _(
            "❓ {copy} is marked missing. It was the last copy: the library cancelled the holds "
            "on it and the readers have been told."
        ).format(copy=copy)
    if outcome.action is DeskAction.SEND_HOME:
        assert outcome.destination is not None
        return _(
            "📦 Checked in {copy}, returned here: nobody is waiting, send it home to {library}."
        ).format(copy=copy, library=library_name_html(outcome.destination, language))
    assert hold is not None
    if outcome.action is DeskAction.SET_ASIDE:
        assert hold.ready_until is not None
        return _(
            "📥 {copy}: put it on the hold shelf for card {card} until {until}. "
            "The reader will be notified."
        ).format(
            copy=copy,
            card=f"<code>{escape(hold.reader.card_number)}</code>",
            until=when(hold.ready_until, settings),
        )
    if outcome.action is DeskAction.SEND:
        assert outcome.destination is not None
        return _("🚚 {copy}: send it to {library} for hold #{hold}.").format(
            copy=copy, library=library_name_html(outcome.destination, language), hold=hold.id
        )
    if outcome.action is DeskAction.READY:
        assert hold.ready_until is not None
        return _(
            "📥 {copy} arrived: hold #{hold} is ready for card {card} until {until}. "
            "The reader will be notified."
        ).format(
            copy=copy,
            hold=hold.id,
            card=f"<code>{escape(hold.reader.card_number)}</code>",
            until=when(hold.ready_until, settings),
        )
    if outcome.action is DeskAction.COLLECTED:
        return _("🤝 {copy} handed to card {card}: hold #{hold} is collected.").format(
            copy=copy, card=f"<code>{escape(hold.reader.card_number)}</code>", hold=hold.id
        )
    if outcome.action is DeskAction.RETARGETED:
        return _(
            "❓ {copy} is marked missing. Hold #{hold} now waits for another copy, already "
            "assigned to it."
        ).format(copy=copy, hold=hold.id)
    return _(
        "❓ {copy} is marked missing. Hold #{hold} went back to the queue in its old place."
    ).format(copy=copy, hold=hold.id)


async def _refusal(message: Message, exc: DomainError, language: str) -> None:
    if isinstance(exc, refusals.UnknownBarcodeError):
        await message.answer(
            _(
                "No copy or alliance card has the barcode “{barcode}”. Check it and try again."
            ).format(barcode=escape(exc.barcode[:64]))
        )
    elif isinstance(exc, refusals.WrongLibraryError):
        await message.answer(
            _("That belongs to {library}: only its librarians can do this.").format(
                library=escape(exc.library_name(language))
            )
        )
    elif isinstance(exc, refusals.NothingToDoError):
        await message.answer(
            _("Nothing to do: that copy is not waiting for this ({status}).").format(
                status=status_label(exc.status)
            )
        )
    else:
        await message.answer(_("That is not possible."))


def _argument(command: CommandObject) -> str | None:
    text = (command.args or "").strip()
    return text if text and len(text) <= 64 and " " not in text else None


async def _staff_action(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
    ils: LiveAvailability,
) -> None:
    """/checkin, /arrived, /missing BARCODE: what happened to the copy and its hold."""
    name = command.command.lower()
    barcode = _argument(command)
    if barcode is None:
        await message.answer(_("Usage: /{command} BARCODE").format(command=name))
        return
    scope = _scope(roles)
    if scope is not None and not scope:
        await message.answer(_("You are not a librarian of any library yet."))
        return
    language = i18n.current_locale
    try:
        action = STAFF_ACTIONS[name]
        outcome = await action(session, reader, scope, barcode, settings=settings)
    except DomainError as exc:
        await _refusal(message, exc, language)
        return
    views = await staff_views(session, ils, [outcome.item])
    note = system_note(views.get(outcome.item.id), settings.zone, language)
    await message.answer(_outcome_text(outcome, settings, language) + note)


async def collected(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/collected CARD_OR_BARCODE: the reader took their ready holds (or that copy)."""
    reference = _argument(command)
    if reference is None:
        await message.answer(_("Usage: /collected CARD_NUMBER or BARCODE"))
        return
    scope = _scope(roles)
    if scope is not None and not scope:
        await message.answer(_("You are not a librarian of any library yet."))
        return
    try:
        outcomes = await desk.collected(session, reader, scope, reference, settings=settings)
    except DomainError as exc:
        if isinstance(exc, refusals.NothingWaitingError):
            await message.answer(_("Nothing is waiting for that card here."))
            return
        await _refusal(message, exc, i18n.current_locale)
        return
    await message.answer(
        "\n".join(_outcome_text(o, settings, i18n.current_locale) for o in outcomes)
    )


async def pull_list(
    message: Message,
    session: AsyncSession,
    roles: RoleSet,
    i18n: I18n,
    settings: Settings,
    ils: LiveAvailability,
) -> None:
    """/pulllist: copies to take off the shelf for holds, by call number."""
    scope = _scope(roles)
    if scope is None:
        scope = frozenset(roles.librarian_of) or None
    if not scope:
        await message.answer(_("You are not a librarian of any library yet."))
        return
    entries = await desk.pull_list(session, scope)
    if not entries:
        await message.answer(_("The pull list is empty: no copy waits to be taken off the shelf."))
        return
    language = i18n.current_locale
    shown = entries[:PULL_LIST_LINES]
    # Where the library's system is connected, each copy's status there (it may be out).
    views = await staff_views(session, ils, [entry.item for entry in shown])
    lines = [
        ngettext(
            "📋 Pull list ({count} copy):", "📋 Pull list ({count} copies):", len(entries)
        ).format(count=len(entries))
    ]
    for entry in shown:
        item, hold = entry.item, entry.hold
        call_number = escape(item.call_number or "—")
        where = (
            _("hold shelf here")
            if hold.pickup_library_id == item.library_id
            else _("send to {library}").format(
                library=library_name_html(hold.pickup_library, language)
            )
        )
        lines.append(
            f"• {call_number} · <code>{escape(item.barcode)}</code> · {work_html(item.work)}"
            f" → {where}" + system_note(views.get(item.id), settings.zone, language)
        )
    if len(entries) > PULL_LIST_LINES:
        lines.append(_("…and {count} more.").format(count=len(entries) - PULL_LIST_LINES))
    lines.append(_("Scan each copy with /checkin BARCODE when you take it."))
    await message.answer("\n".join(lines))


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE, HasRole(Role.LIBRARIAN))
    router.message.register(_staff_action, Command("checkin", "arrived", "missing"))
    router.message.register(collected, Command("collected"))
    router.message.register(pull_list, Command("pulllist"))
    return router
