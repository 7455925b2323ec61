"""/newquiz: title, live or window, times, then questions typed one per message or a CSV file.

The answers live in a ``QuizDraft`` until Publish: an abandoned form stores nothing.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import QuizMode, Reader, Role, utcnow
from bot.services.errors import InvalidInputError, NotAllowedError
from bot.services.events.drafts import split_bilingual
from bot.services.events.times import parse_local
from bot.services.quizzes.building import (
    CSV_LIMIT_BYTES,
    MAX_QUESTIONS,
    NewQuiz,
    Problem,
    QuestionDraft,
    create_quiz,
    parse_quiz_csv,
    parse_typed_question,
)
from bot.services.roles import RoleSet
from handlers.drafts import Draft
from handlers.filters import HasRole
from handlers.quizzes.callbacks import BuildAction, QuizBuild
from handlers.wizard_exit import cancel_hint


class QuizWizard(StatesGroup):
    """The steps of /newquiz."""

    title = State()
    mode = State()
    starts = State()
    closes = State()
    questions = State()


class QuizDraft(Draft):
    """The new quiz so far."""

    key = "quiz_draft"
    command = "/newquiz"

    title: str = ""
    title_en: str | None = None
    mode: QuizMode = QuizMode.LIVE
    starts_at: datetime | None = None
    closes_at: datetime | None = None
    questions: list[QuestionDraft] = []


def _pick(*choices: tuple[str, BuildAction]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=QuizBuild(action=action).pack())]
            for text, action in choices
        ]
    )


def question_help() -> str:
    """How to type a question, and the CSV alternative."""
    return (
        _(
            "Send each question as one message: the question on the first line, then 2 to 4 "
            "options, one per line, the right one starting with *, and optionally the seconds "
            "to answer (5–300, 20 if not given) on the last line. For example:\n"
            "<code>Who wrote Dream of the Red Chamber?\n*Cao Xueqin\nLu Xun\nBa Jin\n30</code>\n\n"
            "Or send a CSV file with the header <code>question,option_1,option_2,option_3,"
            "option_4,correct,seconds,question_en,option_1_en,option_2_en,option_3_en,option_4_en"
            "</code> (correct is 1 to 4; the English columns are optional)."
        )
        + "\n\n"
        + _(
            "To show a picture with a question, send it as a photo with the question as its "
            "caption."
        )
    )


def problem_text(problem: Problem) -> str:
    """One problem with a question, in the reader's language."""
    texts = {
        "text": _("the question must be 1 to 500 characters"),
        "options": _("give 2 to 4 options"),
        "option": _("each option must be 1 to 100 characters"),
        "correct": _("mark exactly one right option"),
        "seconds": _("the time must be 5 to 300 seconds"),
        "english": _("give as many English options as options, or none"),
        "header": _("the header must name question, option_1, option_2 and correct"),
        "encoding": _("the file must be UTF-8 text"),
        "size": _("the file is larger than {limit} KB").format(limit=CSV_LIMIT_BYTES // 1024),
        "empty": _("the file holds no questions"),
        "too many": _("a quiz has at most {limit} questions").format(limit=MAX_QUESTIONS),
    }
    what = texts.get(problem.what, problem.what)
    if problem.where:
        return _("Line {line}: {problem}").format(line=problem.where, problem=what)
    return what


async def start(message: Message, state: FSMContext) -> None:
    """/newquiz: the title first."""
    await state.clear()
    await QuizDraft().save(state)
    await state.set_state(QuizWizard.title)
    await message.answer(
        _("🏆 New quiz. What is its title? (中文 / English gives both)") + " " + cancel_hint()
    )


async def title(message: Message, state: FSMContext) -> None:
    """The title, then live or window."""
    draft = await QuizDraft.load(state)
    text = (message.text or "").strip()
    if not 0 < len(text) <= 200:
        await message.answer(_("A title must be 1 to 200 characters. Please send it again."))
        return
    draft.title, draft.title_en = split_bilingual(text)
    await draft.save(state)
    await state.set_state(QuizWizard.mode)
    await message.answer(
        _("How is it played?"),
        reply_markup=_pick(
            (_("🔴 Live round at a start time"), BuildAction.LIVE),
            (_("🕒 Within a window, at one's own pace"), BuildAction.WINDOW),
        ),
    )


async def mode(query: CallbackQuery, callback_data: QuizBuild, state: FSMContext) -> None:
    """Live or window, then the start."""
    draft = await QuizDraft.load(state)
    draft.mode = QuizMode.LIVE if callback_data.action is BuildAction.LIVE else QuizMode.WINDOW
    await draft.save(state)
    await state.set_state(QuizWizard.starts)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("When does it start? YYYY-MM-DD HH:MM")
            if draft.mode is QuizMode.LIVE
            else _("When does the window open? YYYY-MM-DD HH:MM")
        )


def _time_problem(error: InvalidInputError) -> str:
    if str(error) == "past":
        return _("That time has passed. Please send a time to come.")
    if str(error) == "too far":
        return _("That is too far ahead. Please send a nearer time.")
    return _("I could not read that time. Use YYYY-MM-DD HH:MM.")


async def starts(message: Message, state: FSMContext, settings: Settings) -> None:
    """The start; a window then asks for its close."""
    draft = await QuizDraft.load(state)
    try:
        draft.starts_at = parse_local(message.text or "", settings.zone, now=utcnow())
    except InvalidInputError as error:
        await message.answer(_time_problem(error))
        return
    await draft.save(state)
    if draft.mode is QuizMode.WINDOW:
        await state.set_state(QuizWizard.closes)
        await message.answer(_("Until when can readers start it? YYYY-MM-DD HH:MM"))
        return
    await state.set_state(QuizWizard.questions)
    await message.answer(question_help())


async def closes(message: Message, state: FSMContext, settings: Settings) -> None:
    """The window's close, then the questions."""
    draft = await QuizDraft.load(state)
    try:
        moment = parse_local(message.text or "", settings.zone, now=utcnow())
    except InvalidInputError as error:
        await message.answer(_time_problem(error))
        return
    if draft.starts_at is None or moment <= draft.starts_at:
        await message.answer(_("The window must close after it opens. Please send it again."))
        return
    draft.closes_at = moment
    await draft.save(state)
    await state.set_state(QuizWizard.questions)
    await message.answer(question_help())


async def _added(message: Message, draft: QuizDraft, added: int) -> None:
    await message.answer(
        _("➕ {added} question(s) added; the quiz has {count}. Send more, or publish it.").format(
            added=added, count=len(draft.questions)
        ),
        reply_markup=_pick((_("✅ Publish"), BuildAction.PUBLISH)),
    )


async def typed_question(message: Message, state: FSMContext) -> None:
    """One question typed in chat."""
    draft = await QuizDraft.load(state)
    try:
        question = parse_typed_question(message.text or "")
    except InvalidInputError as error:
        await message.answer(
            problem_text(Problem(0, str(error))).capitalize() + ".\n\n" + question_help()
        )
        return
    if len(draft.questions) >= MAX_QUESTIONS:
        await message.answer(problem_text(Problem(0, "too many")))
        return
    draft.questions = [*draft.questions, question]
    await draft.save(state)
    await _added(message, draft, 1)


async def photo_question(message: Message, state: FSMContext) -> None:
    """A question with a picture: the photo, with the question typed as its caption."""
    draft = await QuizDraft.load(state)
    assert message.photo
    if not (message.caption or "").strip():
        await message.answer(
            _("Send the question as the photo's caption, typed as for a question without a photo.")
            + "\n\n"
            + question_help()
        )
        return
    try:
        question = parse_typed_question(message.caption or "")
    except InvalidInputError as error:
        await message.answer(
            problem_text(Problem(0, str(error))).capitalize() + ".\n\n" + question_help()
        )
        return
    if len(draft.questions) >= MAX_QUESTIONS:
        await message.answer(problem_text(Problem(0, "too many")))
        return
    # The largest size Telegram made of the photo.
    question = question.model_copy(update={"image_file_id": message.photo[-1].file_id})
    draft.questions = [*draft.questions, question]
    await draft.save(state)
    await _added(message, draft, 1)


async def csv_questions(message: Message, state: FSMContext, bot: Bot) -> None:
    """Questions from a CSV file: all of them, or none and every problem named."""
    draft = await QuizDraft.load(state)
    document = message.document
    assert document is not None
    if (document.file_size or 0) > CSV_LIMIT_BYTES:
        await message.answer(problem_text(Problem(0, "size")))
        return
    buffer = await bot.download(document.file_id)
    parsed = parse_quiz_csv(buffer.read() if buffer else b"")
    total = len(draft.questions) + len(parsed.questions)
    if not parsed.problems and total > MAX_QUESTIONS:
        parsed.problems.append(Problem(0, "too many"))
    if parsed.problems:
        lines = [_("Nothing was added; the file has problems:")]
        lines += [escape(problem_text(problem)) for problem in parsed.problems[:20]]
        await message.answer("\n".join(lines))
        return
    draft.questions = [*draft.questions, *parsed.questions]
    await draft.save(state)
    await _added(message, draft, len(parsed.questions))


async def publish(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """Store the quiz; readers find it in /contests."""
    draft = await QuizDraft.load(state)
    if draft.starts_at is None:
        await query.answer(_("The quiz has no start time yet."), show_alert=True)
        return
    new = NewQuiz(
        title=draft.title,
        title_en=draft.title_en,
        mode=draft.mode,
        starts_at=draft.starts_at,
        closes_at=draft.closes_at,
        questions=draft.questions,
    )
    try:
        quiz = await create_quiz(session, reader, roles, new, now=utcnow())
    except NotAllowedError:
        await query.answer(_("Only organisers can publish quizzes."), show_alert=True)
        return
    except InvalidInputError:
        await query.answer(
            _("The quiz cannot be published: check its start time and questions."),
            show_alert=True,
        )
        return
    await QuizDraft.discard(state)
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _(
                "🏆 “{title}” is published with {count} questions. Readers join it in /contests."
            ).format(title=escape(quiz.title), count=len(draft.questions))
        )


def build_router() -> Router:
    """A fresh router with the /newquiz form (organisers and admins)."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ORGANISER))
    router.callback_query.filter(HasRole(Role.ORGANISER))
    router.message.register(start, Command("newquiz"))
    router.message.register(title, StateFilter(QuizWizard.title), F.text)
    on = QuizBuild.filter
    router.callback_query.register(
        mode, StateFilter(QuizWizard.mode), on(F.action.in_({BuildAction.LIVE, BuildAction.WINDOW}))
    )
    router.message.register(starts, StateFilter(QuizWizard.starts), F.text)
    router.message.register(closes, StateFilter(QuizWizard.closes), F.text)
    router.message.register(csv_questions, StateFilter(QuizWizard.questions), F.document)
    router.message.register(typed_question, StateFilter(QuizWizard.questions), F.text)
    router.message.register(photo_question, StateFilter(QuizWizard.questions), F.photo)
    router.callback_query.register(
        publish, StateFilter(QuizWizard.questions), on(F.action == BuildAction.PUBLISH)
    )
    return router
