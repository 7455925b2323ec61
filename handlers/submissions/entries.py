"""A submission contest's card, sending an entry (text, document or photo), results, consent."""

from __future__ import annotations

import enum
from html import escape

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import ContestKind, DbInt, Reader, SubmissionContest, utcnow
from bot.notices.submissions import NameConsent
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.times import local_time
from bot.services.submissions import entries, judging
from bot.services.submissions.entries import NewEntry
from handlers.common import remove_buttons
from handlers.drafts import Draft
from handlers.wizard_exit import cancel_hint


class EntryAction(enum.StrEnum):
    """What a reader does with a submission contest."""

    OPEN = "o"
    SUBMIT = "s"
    RESULTS = "r"


class EntryData(CallbackData, prefix="sub"):
    """One action on a submission contest."""

    action: EntryAction
    contest_id: DbInt


class SubmitEntry(StatesGroup):
    """Waiting for the entry itself."""

    waiting = State()


class EntryDraft(Draft):
    """Which contest the next message is an entry to."""

    key = "entry_draft"
    command = "/contests"

    contest_id: int


def kind_label(kind: ContestKind) -> str:
    """Essay, poetry or photo contest."""
    labels = {
        ContestKind.ESSAY: _("✍️ Essay contest"),
        ContestKind.POETRY: _("📜 Poetry contest"),
        ContestKind.PHOTO: _("📷 Photo contest"),
    }
    return labels[kind]


async def contest_listing(
    session: AsyncSession, settings: Settings
) -> list[tuple[str, InlineKeyboardButton]]:
    """A line and a button per contest open for entries or with its results out."""
    found = []
    for contest in await entries.recent_contests(session, now=utcnow()):
        line = f"• {kind_label(contest.kind)}: <b>{escape(contest.title)}</b> — " + _(
            "entries until {deadline}"
        ).format(deadline=local_time(contest.deadline, settings.zone))
        button = InlineKeyboardButton(
            text=f"{kind_label(contest.kind).split()[0]} {contest.title}"[:60],
            callback_data=EntryData(action=EntryAction.OPEN, contest_id=contest.id).pack(),
        )
        found.append((line, button))
    return found


def _how_to(contest: SubmissionContest) -> str:
    if contest.kind is ContestKind.PHOTO:
        return _("Send one photo as your entry.")
    return _(
        "Send your entry as a message (up to {limit} characters) or as a document "
        "(up to {size} MB)."
    ).format(limit=entries.TEXT_LIMIT, size=entries.DOCUMENT_LIMIT_BYTES // (1024 * 1024))


async def open_contest(
    query: CallbackQuery, callback_data: EntryData, session: AsyncSession, settings: Settings
) -> None:
    """The contest's card."""
    try:
        contest = await entries.load_contest(session, callback_data.contest_id)
    except NotFoundError:
        await query.answer(_("That contest no longer exists."), show_alert=True)
        return
    lines = [
        f"{kind_label(contest.kind)}: <b>{escape(contest.title)}</b>",
        _("Entries until {deadline}; {count} per reader; judged anonymously.").format(
            deadline=local_time(contest.deadline, settings.zone), count=contest.entries_per_reader
        ),
    ]
    builder = InlineKeyboardBuilder()
    if utcnow() <= contest.deadline:
        lines.append(_how_to(contest))
        action, label = EntryAction.SUBMIT, _("✍️ Send an entry")
        builder.row(
            InlineKeyboardButton(
                text=label,
                callback_data=EntryData(action=action, contest_id=contest.id).pack(),
            )
        )
    if contest.results_published:
        builder.row(
            InlineKeyboardButton(
                text=_("🏁 Results"),
                callback_data=EntryData(action=EntryAction.RESULTS, contest_id=contest.id).pack(),
            )
        )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer("\n".join(lines), reply_markup=builder.as_markup())


async def start_entry(
    query: CallbackQuery, callback_data: EntryData, session: AsyncSession, state: FSMContext
) -> None:
    """The next message is the entry."""
    try:
        contest = await entries.load_contest(session, callback_data.contest_id)
    except NotFoundError:
        await query.answer(_("That contest no longer exists."), show_alert=True)
        return
    if utcnow() > contest.deadline:
        await query.answer(_("The deadline has passed: entries are closed."), show_alert=True)
        return
    await state.clear()
    await EntryDraft(contest_id=contest.id).save(state)
    await state.set_state(SubmitEntry.waiting)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_how_to(contest) + " " + cancel_hint())


def refusal_text(error: DomainError) -> str:
    """Why an entry was refused."""
    if isinstance(error, entries.DeadlinePassedError):
        return _("The deadline has passed: entries are closed, and nothing was stored.")
    if isinstance(error, entries.EntryLimitError):
        return _("You have sent as many entries as this contest allows.")
    if isinstance(error, entries.EntryTooLargeError):
        return _(
            "That entry is too large: text up to {limit} characters, documents up to {size} MB. "
            "Nothing was stored."
        ).format(limit=entries.TEXT_LIMIT, size=entries.DOCUMENT_LIMIT_BYTES // (1024 * 1024))
    if isinstance(error, entries.WrongEntryKindError):
        return (
            _("This contest takes photos only.")
            if str(error) == "photo"
            else _("This contest takes text or a document, not a photo.")
        )
    return _("That is not an entry this contest takes. Nothing was stored.")


async def receive_entry(
    message: Message, session: AsyncSession, reader: Reader, state: FSMContext
) -> None:
    """Store the entry (text, document or photo) if the contest takes it."""
    draft = await EntryDraft.load(state)
    if message.photo:
        entry = NewEntry(file_id=message.photo[-1].file_id, file_kind="photo")
    elif message.document:
        entry = NewEntry(
            file_id=message.document.file_id,
            file_kind="document",
            file_size=message.document.file_size or 0,
        )
    elif message.text:
        entry = NewEntry(text=message.text)
    else:
        await message.answer(refusal_text(InvalidInputError("empty")))
        return
    try:
        await entries.submit(session, reader, draft.contest_id, entry, now=utcnow())
    except (DomainError, InvalidInputError) as error:
        await message.answer(refusal_text(error))
        if not isinstance(error, entries.EntryTooLargeError | entries.WrongEntryKindError):
            await state.clear()
        return
    await state.clear()
    await message.answer(_("📨 Your entry is in. Good luck! The judges will not see your name."))


async def show_results(
    query: CallbackQuery, callback_data: EntryData, session: AsyncSession
) -> None:
    """The winners, named only with their consent."""
    try:
        contest = await entries.load_contest(session, callback_data.contest_id)
    except NotFoundError:
        await query.answer(_("That contest no longer exists."), show_alert=True)
        return
    if not contest.results_published:
        await query.answer(_("The results are not out yet."), show_alert=True)
        return
    placed = (await judging.standings(session, contest.id))[: judging.WINNERS]
    lines = [_("🏁 <b>{contest}</b>: the winners").format(contest=escape(contest.title))]
    for item in placed:
        lines.append(
            _("{place}. {name} — {average} points").format(
                place=item.place,
                name=escape(item.name) if item.name else _("Anonymous"),
                average=f"{item.average:.2f}",
            )
        )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer("\n".join(lines))


async def consent(
    query: CallbackQuery, callback_data: NameConsent, session: AsyncSession, reader: Reader
) -> None:
    """The winner's answer about their name."""
    try:
        await judging.set_consent(session, reader, callback_data.entry_id, callback_data.publish)
    except NotAllowedError:
        await query.answer(_("Only the author of the entry can answer this."), show_alert=True)
        return
    await query.answer(
        _("Your name will be published.") if callback_data.publish else _("You stay anonymous.")
    )
    await remove_buttons(query.message)


def build_router() -> Router:
    """A fresh router with the readers' side of submission contests."""
    router = Router(name=__name__)
    on = EntryData.filter
    router.callback_query.register(open_contest, on(F.action == EntryAction.OPEN))
    router.callback_query.register(start_entry, on(F.action == EntryAction.SUBMIT))
    router.callback_query.register(show_results, on(F.action == EntryAction.RESULTS))
    router.callback_query.register(consent, NameConsent.filter())
    router.message.register(receive_entry, StateFilter(SubmitEntry.waiting))
    return router
