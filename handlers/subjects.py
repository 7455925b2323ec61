"""Browse by subject: the 22 top classes of the Chinese Library Classification (中图法).

``/subjects`` (and the button under the Search prompt) lists the classes; a class lists its
works, a page at a time, each opening its card. The class names are translated here; the
services know the letters only.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services.search.query import KindFilter, LanguageFilter, SearchFilters
from bot.services.search.results import SearchPage
from bot.services.subjects import CLC_CLASSES, SUBJECT_PAGE_SIZE, SubjectPage, subject_page
from handlers.common import edit_message
from handlers.filters import Onboarded
from handlers.search.callbacks import ResultsPage, WorkOpen, button
from handlers.search.wording import byline, title_html, title_plain

__all__ = [
    "SubjectFilter",
    "SubjectList",
    "browse_button",
    "build_router",
    "clc_line",
    "subject_filter_button",
    "subject_label",
    "subjects_keyboard",
]

BUTTON_TITLE_CHARS = 48

# The top classes in the reader's language (the letters are CLC_CLASSES).
_LABELS: dict[str, str] = {
    "A": N_("Marxism, Leninism, Mao Zedong Thought, Deng Xiaoping Theory"),
    "B": N_("Philosophy and religion"),
    "C": N_("Social sciences in general"),
    "D": N_("Politics and law"),
    "E": N_("Military science"),
    "F": N_("Economics"),
    "G": N_("Culture, science, education and sport"),
    "H": N_("Languages and writing"),
    "I": N_("Literature"),
    "J": N_("Art"),
    "K": N_("History and geography"),
    "N": N_("Natural sciences in general"),
    "O": N_("Mathematics, physics and chemistry"),
    "P": N_("Astronomy and earth sciences"),
    "Q": N_("Biology"),
    "R": N_("Medicine and health"),
    "S": N_("Agriculture"),
    "T": N_("Industry and technology"),
    "U": N_("Transport"),
    "V": N_("Aviation and spaceflight"),
    "X": N_("Environment and safety"),
    "Z": N_("General works"),
}
assert tuple(_LABELS) == CLC_CLASSES


def subject_label(letter: str) -> str:
    """A top class as the reader reads it: "I · Literature"."""
    return f"{letter} · {_(_LABELS[letter])}"


def clc_line(numbers: tuple[str, ...]) -> str:
    """The card's line with a work's classification numbers and the top class of the first."""
    letter = numbers[0][:1].upper()
    listed = ", ".join(numbers[:3])
    if letter not in _LABELS:
        return _("Chinese Library Classification: {numbers}").format(numbers=listed)
    return _("Chinese Library Classification: {numbers} ({subject})").format(
        numbers=listed, subject=_(_LABELS[letter])
    )


class SubjectList(CallbackData, prefix="sj"):
    """Browse by subject: the list of classes (no letter) or a page of one class's works."""

    letter: str = ""
    page: int = 0


class SubjectFilter(CallbackData, prefix="sf"):
    """Choose the subject filter of one of the reader's searches (the rest: its filters)."""

    search_id: int
    available: bool = False
    language: LanguageFilter = LanguageFilter.ANY
    kind: KindFilter = KindFilter.ANY
    author: bool = False
    subject: str = ""

    def results(self, subject: str) -> ResultsPage:
        """Page one of the search with `subject` ("" for any) and the other filters kept."""
        return ResultsPage(
            search_id=self.search_id,
            page=0,
            available=self.available,
            language=self.language,
            kind=self.kind,
            author=self.author,
            subject=subject,
        )


def subject_filter_button(results: SearchPage) -> InlineKeyboardButton:
    """The results' subject filter: "📚 Subject…", or the chosen class ticked."""
    filters: SearchFilters = results.filters
    label = (
        f"✓ {subject_label(filters.subject)}" if filters.subject in _LABELS else _("📚 Subject…")
    )
    target = SubjectFilter(
        search_id=results.search_id,
        available=filters.available,
        language=filters.language,
        kind=filters.kind,
        author=results.author,
        subject=filters.subject,
    )
    return button(label, target)


async def pick_subject(query: CallbackQuery, callback_data: SubjectFilter) -> None:
    """The classes to filter a search by, in place of the results' buttons."""
    buttons = [
        button(subject_label(letter), callback_data.results(letter)) for letter in CLC_CLASSES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([button(_("Any subject"), callback_data.results(""))])
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
        )


def browse_button() -> InlineKeyboardMarkup:
    """The "browse by subject" entry under the Search prompt."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("📚 Browse by subject"), SubjectList())]]
    )


def subjects_keyboard() -> InlineKeyboardMarkup:
    """The 22 classes, two to a row."""
    buttons = [button(subject_label(letter), SubjectList(letter=letter)) for letter in CLC_CLASSES]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 2] for i in range(0, 22, 2)])


def _subjects_text() -> str:
    return _("📚 <b>Browse by subject</b>\nThe classes of the Chinese Library Classification:")


def _page_text(page: SubjectPage) -> str:
    lines = [f"📚 <b>{escape(subject_label(page.letter))}</b>"]
    if not page.works:
        lines.append(_("No work in the catalogue is in this class yet."))
        return "\n".join(lines)
    lines.append(_("{count} works").format(count=page.total))
    first = page.page * SUBJECT_PAGE_SIZE
    for number, work in enumerate(page.works, start=first + 1):
        lines.append(f"{number}. {title_html(work)}")
        if byline(work):
            lines.append(f"    {escape(byline(work))}")
    return "\n".join(lines)


def _page_keyboard(page: SubjectPage) -> InlineKeyboardMarkup:
    first = page.page * SUBJECT_PAGE_SIZE
    rows = [
        [
            button(
                f"{number}. {title_plain(work, BUTTON_TITLE_CHARS)}", WorkOpen(work_id=work.work_id)
            )
        ]
        for number, work in enumerate(page.works, start=first + 1)
    ]
    paging: list[InlineKeyboardButton] = []
    if page.page > 0:
        paging.append(button("◀️", SubjectList(letter=page.letter, page=page.page - 1)))
    if (page.page + 1) * SUBJECT_PAGE_SIZE < page.total:
        paging.append(button("▶️", SubjectList(letter=page.letter, page=page.page + 1)))
    if paging:
        rows.append(paging)
    rows.append([button(_("⬅️ All subjects"), SubjectList())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def show_subjects(message: Message) -> None:
    """/subjects: the classes to browse."""
    await message.answer(_subjects_text(), reply_markup=subjects_keyboard())


async def open_subject(
    query: CallbackQuery, callback_data: SubjectList, session: AsyncSession
) -> None:
    """A class's works a page at a time, or (no letter) the classes again."""
    letter = callback_data.letter.upper()
    if not letter:
        await query.answer()
        await edit_message(query.message, _subjects_text(), subjects_keyboard())
        return
    if letter not in _LABELS or callback_data.page < 0:
        await query.answer(_("That subject does not exist."), show_alert=True)
        return
    page = await subject_page(session, letter, callback_data.page)
    await query.answer()
    await edit_message(query.message, _page_text(page), _page_keyboard(page))


def build_router() -> Router:
    """/subjects and its buttons, for onboarded readers."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == "private")
    router.callback_query.filter(Onboarded())
    router.message.register(show_subjects, Command("subjects"))
    router.callback_query.register(open_subject, SubjectList.filter())
    router.callback_query.register(pick_subject, SubjectFilter.filter())
    return router
