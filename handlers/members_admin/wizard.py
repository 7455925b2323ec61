"""The add/edit wizard shared by districts and libraries: one step at a time, then a summary.

Each form (``DistrictForm``, ``LibraryForm``) is a typed ``Draft`` in the FSM data; every
handler loads it, so a form whose answers are gone says it expired (``handlers.errors``).
``form_router`` registers the handlers every form has — a typed value, a shared location,
Keep, Skip, Save — bound to one form class and its FSM state.
"""

from __future__ import annotations

from enum import StrEnum
from html import escape
from typing import ClassVar, TypeVar

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Library, Reader
from bot.services import member_admin
from bot.services.errors import NotFoundError
from bot.services.member_admin import MemberInputError
from bot.services.members import Entity
from handlers.admin_callbacks import MemberAction, MemberChoice, MemberEntity
from handlers.common import edit_message
from handlers.drafts import Draft
from handlers.members_admin.lists import list_view, member_button
from handlers.members_admin.words import input_refusal
from handlers.wizard_exit import cancel_hint


class MemberWizard(StatesGroup):
    """Adding or editing one district, or one library, step by step."""

    district = State()
    library = State()


class Step(StrEnum):
    """A question of the wizard (the value is the field it fills)."""

    CODE = "code"
    NAME = "name"
    NAME_EN = "name_en"
    POPULATION = "population"
    COORDINATES = "coordinates"
    KIND = "kind"
    DISTRICT = "district"
    ADDRESS = "address"
    ADDRESS_EN = "address_en"
    OPENING_HOURS = "opening_hours"
    PICKUP = "pickup"


# Steps that may stay empty: Skip (adding) or Clear (editing), or "-" typed.
OPTIONAL_STEPS = frozenset({Step.NAME_EN, Step.ADDRESS, Step.ADDRESS_EN, Step.OPENING_HOURS})


class MemberForm(Draft):
    """What both forms share: adding or editing, the step reached, code, names and place."""

    command: ClassVar[str] = "/admin"
    entity: ClassVar[MemberEntity]
    service_entity: ClassVar[Entity]
    all_steps: ClassVar[tuple[Step, ...]]
    name_limit: ClassVar[int]

    editing: bool = False
    index: int = 0
    code: str = ""
    name: str = ""
    name_en: str | None = None
    latitude: float = 0.0
    longitude: float = 0.0

    @classmethod
    def wizard_state(cls) -> State:
        """The FSM state the wizard of this form is in."""
        raise NotImplementedError

    def steps(self) -> tuple[Step, ...]:
        """The questions of this form (an existing code is not asked again)."""
        return self.all_steps[1:] if self.editing else self.all_steps

    def step(self) -> Step | None:
        """The open question, or None once every answer is in (the summary)."""
        steps = self.steps()
        return steps[self.index] if 0 <= self.index < len(steps) else None

    def shown(self, step: Step) -> str:
        """The answer to a step as the admin reads it (— when empty)."""
        if step is Step.COORDINATES:
            return f"{self.latitude}, {self.longitude}"
        value = getattr(self, step.value)
        return str(value) if value not in (None, "") else "—"

    def clear(self, step: Step) -> None:
        """Empty an optional answer (Skip or Clear)."""
        setattr(self, step.value, "" if step in (Step.ADDRESS, Step.OPENING_HOURS) else None)

    async def take_text(self, session: AsyncSession, step: Step, text: str) -> None:
        """Check a typed answer and keep it (raises ``MemberInputError``)."""
        empty = step in OPTIONAL_STEPS and text.strip() == "-"
        if step is Step.CODE:
            code = member_admin.check_code(text)
            await member_admin.ensure_new_code(session, self.service_entity, code)
            self.code = code
        elif step is Step.NAME:
            self.name = member_admin.check_name(text, self.name_limit)
        elif step is Step.NAME_EN:
            self.name_en = None if empty else member_admin.check_name(text, self.name_limit)
        elif step is Step.COORDINATES:
            self.latitude, self.longitude = member_admin.check_coordinates(text)
        else:
            await self.take_own_text(session, step, text, empty=empty)

    async def take_own_text(
        self, session: AsyncSession, step: Step, text: str, *, empty: bool
    ) -> None:
        """The answers only this form asks for."""
        raise NotImplementedError

    async def choice_buttons(
        self, session: AsyncSession, step: Step
    ) -> list[list[InlineKeyboardButton]]:
        """Buttons that answer a step (kinds, districts, yes/no); none by default."""
        return []

    async def store(self, session: AsyncSession, actor: Reader) -> District | Library:
        """Create or update the district or library (raises ``MemberInputError``)."""
        raise NotImplementedError


Form = TypeVar("Form", bound=MemberForm)


def _prompts(editing: bool) -> dict[Step, str]:
    prompts = {
        Step.CODE: _(
            "Send the code of the new {what} (letters, digits, “_”, “.” or “-”, at most 32), "
            "e.g. HD-01."
        ),
        Step.NAME: _("Send the name (in Chinese, as readers know it)."),
        Step.NAME_EN: _("Send the English name, or tap Skip."),
        Step.POPULATION: _("Send the number of inhabitants, e.g. 350000."),
        Step.COORDINATES: _(
            "Send the coordinates as “latitude, longitude”, e.g. 39.9042, 116.4074 "
            "(or share a location)."
        ),
        Step.KIND: _("What kind of library is it?"),
        Step.DISTRICT: _("Which district is it in? Tap one or send its code."),
        Step.ADDRESS: _("Send the street address, or tap Skip."),
        Step.ADDRESS_EN: _("Send the street address in English, or tap Skip."),
        Step.OPENING_HOURS: _(
            "Send the opening hours, e.g. “Tu-Su 09:00-21:00; Mo off”, or tap Skip "
            "if they are not published."
        ),
        Step.PICKUP: _("Can readers pick up reserved books there?"),
    }
    if editing:
        # An optional value being edited can be kept or cleared; there is nothing to skip.
        prompts |= {
            Step.NAME_EN: _("Send the English name, or tap Clear to remove it."),
            Step.ADDRESS: _("Send the street address, or tap Clear to remove it."),
            Step.ADDRESS_EN: _("Send the street address in English, or tap Clear to remove it."),
            Step.OPENING_HOURS: _(
                "Send the opening hours, e.g. “Tu-Su 09:00-21:00; Mo off”, or tap Clear "
                "if they are no longer published."
            ),
        }
    return prompts


async def _prompt(
    session: AsyncSession, form: MemberForm, step: Step
) -> tuple[str, InlineKeyboardMarkup]:
    what = _("district") if form.entity is MemberEntity.DISTRICTS else _("library")
    lines = [_prompts(form.editing)[step].format(what=what)]
    if form.editing:
        lines.append(_("Now: {value}").format(value=escape(form.shown(step))))
    lines.append(cancel_hint())
    rows = await form.choice_buttons(session, step)
    extra = []
    if form.editing:
        extra.append(member_button(_("Keep"), form.entity, MemberAction.KEEP))
        if step in OPTIONAL_STEPS:
            extra.append(member_button(_("🗑 Clear"), form.entity, MemberAction.SKIP))
    elif step in OPTIONAL_STEPS:
        extra.append(member_button(_("Skip"), form.entity, MemberAction.SKIP))
    extra.append(member_button(_("✖️ Cancel"), form.entity, MemberAction.CANCEL))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[*rows, extra])


def _summary(form: MemberForm) -> tuple[str, InlineKeyboardMarkup]:
    labels = {
        Step.CODE: _("Code"),
        Step.NAME: _("Name"),
        Step.NAME_EN: _("English name"),
        Step.POPULATION: _("Population"),
        Step.COORDINATES: _("Coordinates"),
        Step.KIND: _("Kind"),
        Step.DISTRICT: _("District"),
        Step.ADDRESS: _("Address"),
        Step.ADDRESS_EN: _("English address"),
        Step.OPENING_HOURS: _("Opening hours"),
        Step.PICKUP: _("Pickup point"),
    }
    heading = _("Save these changes?") if form.editing else _("Add this?")
    lines = [heading]
    lines += [f"{labels[step]}: {escape(form.shown(step))}" for step in form.all_steps]
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                member_button(_("✅ Save"), form.entity, MemberAction.SAVE),
                member_button(_("✖️ Cancel"), form.entity, MemberAction.CANCEL),
            ]
        ]
    )
    return "\n".join(lines), markup


async def ask(message: Message, session: AsyncSession, form: MemberForm) -> None:
    """Ask the open question, or show the summary after the last one."""
    step = form.step()
    if step is None:
        text, markup = _summary(form)
    else:
        text, markup = await _prompt(session, form, step)
    await message.answer(text, reply_markup=markup)


async def begin(
    message: Message, session: AsyncSession, state: FSMContext, form: MemberForm
) -> None:
    """Start the wizard with this form (a new one, or one filled from the database)."""
    await state.set_state(form.wizard_state())
    await state.set_data({})
    await form.save(state)
    await ask(message, session, form)


async def advance(
    message: Message, session: AsyncSession, state: FSMContext, form: MemberForm
) -> None:
    """The step is answered: keep the form and ask the next question."""
    form.index += 1
    await form.save(state)
    await ask(message, session, form)


async def open_question(
    callback: CallbackQuery, form_type: type[Form], state: FSMContext
) -> tuple[Form, Step, Message] | None:
    """The form a button answers, its open question and the chat message; None (answered)
    when the question is over."""
    form = await form_type.load(state)
    step = form.step()
    if step is None or not isinstance(callback.message, Message):
        await callback.answer(_("That question is over."))
        return None
    return form, step, callback.message


def form_router(form_type: type[MemberForm]) -> Router:
    """The handlers every form has, bound to ``form_type`` and its FSM state."""
    router = Router(name=f"{__name__}.{form_type.__name__}")
    in_form = StateFilter(form_type.wizard_state())

    def pressed(action: MemberAction) -> CallbackQueryFilter:
        return MemberChoice.filter((F.action == action) & (F.entity == form_type.entity))

    async def typed_value(message: Message, session: AsyncSession, state: FSMContext) -> None:
        """A typed answer: checked, then the next question (or why not)."""
        form = await form_type.load(state)
        step = form.step()
        if step is None:
            await message.answer(_("Tap Save or Cancel."))
            return
        try:
            await form.take_text(session, step, message.text or "")
        except MemberInputError as exc:
            await message.answer(input_refusal(exc))
            return
        await advance(message, session, state, form)

    async def shared_location(message: Message, session: AsyncSession, state: FSMContext) -> None:
        """A shared location answers the coordinates step."""
        form = await form_type.load(state)
        if form.step() is not Step.COORDINATES or message.location is None:
            await message.answer(_("Please answer the question above, or tap Cancel."))
            return
        form.latitude = round(message.location.latitude, 6)
        form.longitude = round(message.location.longitude, 6)
        await advance(message, session, state, form)

    async def keep(callback: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
        """Keep: the value being edited stays as it is."""
        question = await open_question(callback, form_type, state)
        if question is None:
            return
        form, _step, message = question
        if not form.editing:
            await callback.answer(_("That question is over."))
            return
        await callback.answer()
        await advance(message, session, state, form)

    async def skip(callback: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
        """Skip (adding) or Clear (editing) an optional value."""
        question = await open_question(callback, form_type, state)
        if question is None:
            return
        form, step, message = question
        if step not in OPTIONAL_STEPS:
            await callback.answer(_("That question is over."))
            return
        form.clear(step)
        await callback.answer()
        await advance(message, session, state, form)

    async def save(
        callback: CallbackQuery, session: AsyncSession, state: FSMContext, reader: Reader
    ) -> None:
        """✅ Save: create or update, with an audit entry."""
        form = await form_type.load(state)
        if form.step() is not None or not isinstance(callback.message, Message):
            await callback.answer(_("That question is over."))
            return
        await store(callback, callback.message, session, state, reader, form)

    router.message.register(typed_value, in_form, F.text, ~F.text.startswith("/"))
    router.message.register(shared_location, in_form, F.location)
    router.callback_query.register(keep, in_form, pressed(MemberAction.KEEP))
    router.callback_query.register(skip, in_form, pressed(MemberAction.SKIP))
    router.callback_query.register(save, in_form, pressed(MemberAction.SAVE))
    return router


async def store(
    callback: CallbackQuery,
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    reader: Reader,
    form: MemberForm,
) -> None:
    """Store the summarised form and show the list it belongs to (or why not)."""
    try:
        saved = await form.store(session, reader)
    except MemberInputError as exc:
        await callback.answer()
        await message.answer(input_refusal(exc) + "\n" + _("Nothing was saved."))
        await state.clear()
        return
    except NotFoundError:
        await callback.answer(_("It no longer exists."), show_alert=True)
        await state.clear()
        return
    await state.clear()
    await callback.answer()
    done = _("✅ Saved {code}.") if form.editing else _("✅ Added {code}.")
    await edit_message(message, done.format(code=escape(saved.code)))
    text, markup = await list_view(session, form.entity, 0)
    await message.answer(text, reply_markup=markup)


async def cancel_button(callback: CallbackQuery, state: FSMContext) -> None:
    """✖️ Cancel (the wizard or an upload): nothing is stored."""
    await state.clear()
    await callback.answer()
    await edit_message(callback.message, _("Cancelled. Nothing was changed."))


async def cancel_command(message: Message, state: FSMContext) -> None:
    """/cancel during the wizard or an upload."""
    await state.clear()
    await message.answer(_("Cancelled. Nothing was changed."))


async def stale_button(callback: CallbackQuery) -> None:
    """A wizard or upload button from a conversation that has ended."""
    await callback.answer(_("That question is over."))
