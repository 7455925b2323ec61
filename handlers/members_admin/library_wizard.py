"""Adding or editing a library: code, names, kind, district, addresses, place, hours, pickup."""

from __future__ import annotations

from html import escape
from typing import ClassVar

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Library, LibraryKind, Reader
from bot.services import directory, member_admin
from bot.services.errors import NotFoundError
from bot.services.member_admin import LibraryValues, MemberInputError
from bot.services.members import Entity
from handlers.admin_callbacks import MemberAction, MemberChoice, MemberEntity
from handlers.members_admin.lists import member_button
from handlers.members_admin.wizard import (
    MemberForm,
    MemberWizard,
    Step,
    advance,
    begin,
    form_router,
    open_question,
)
from handlers.members_admin.words import kind_name, yes_no

DISTRICT_BUTTONS = 30
YES = frozenset({"yes", "y", "是"})
NO = frozenset({"no", "n", "否"})


class LibraryForm(MemberForm):
    """A library being added or edited."""

    key: ClassVar[str] = "library_form"
    entity: ClassVar[MemberEntity] = MemberEntity.LIBRARIES
    service_entity: ClassVar[Entity] = "libraries"
    all_steps: ClassVar[tuple[Step, ...]] = (
        Step.CODE,
        Step.NAME,
        Step.NAME_EN,
        Step.KIND,
        Step.DISTRICT,
        Step.ADDRESS,
        Step.ADDRESS_EN,
        Step.COORDINATES,
        Step.OPENING_HOURS,
        Step.PICKUP,
    )
    name_limit: ClassVar[int] = member_admin.LIBRARY_NAME_LIMIT

    kind: LibraryKind = LibraryKind.PUBLIC
    district_code: str = ""
    address: str = ""
    address_en: str | None = None
    opening_hours: str = ""
    is_pickup_point: bool = True

    @classmethod
    def wizard_state(cls) -> State:
        """The FSM state of this wizard."""
        return MemberWizard.library

    @classmethod
    def of(cls, library: Library, district_code: str) -> LibraryForm:
        """The form over an existing library, to edit it."""
        return cls(
            editing=True,
            code=library.code,
            name=library.name,
            name_en=library.name_en,
            kind=library.kind,
            district_code=district_code,
            address=library.address,
            address_en=library.address_en,
            latitude=library.latitude,
            longitude=library.longitude,
            opening_hours=library.opening_hours,
            is_pickup_point=library.is_pickup_point,
        )

    def shown(self, step: Step) -> str:
        """The answer to a step as the admin reads it."""
        if step is Step.KIND:
            return kind_name(self.kind)
        if step is Step.DISTRICT:
            return self.district_code or "—"
        if step is Step.PICKUP:
            return yes_no(self.is_pickup_point)
        return super().shown(step)

    async def take_own_text(
        self, session: AsyncSession, step: Step, text: str, *, empty: bool
    ) -> None:
        """Kind, district, addresses, opening hours, pickup."""
        if step is Step.KIND:
            self.kind = member_admin.check_kind(text)
        elif step is Step.DISTRICT:
            try:
                district = await member_admin.find_district(session, text)
            except NotFoundError:
                raise MemberInputError("unknown_district", value=text.strip()[:40]) from None
            self.district_code = district.code
        elif step is Step.ADDRESS:
            self.address = (
                "" if empty else member_admin.check_name(text, member_admin.ADDRESS_LIMIT)
            )
        elif step is Step.ADDRESS_EN:
            self.address_en = (
                None if empty else member_admin.check_name(text, member_admin.ADDRESS_LIMIT)
            )
        elif step is Step.OPENING_HOURS:
            self.opening_hours = member_admin.check_opening_hours(text)
        elif step is Step.PICKUP:
            answer = text.strip().lower()
            if answer not in YES | NO:
                raise MemberInputError("empty")
            self.is_pickup_point = answer in YES

    async def choice_buttons(
        self, session: AsyncSession, step: Step
    ) -> list[list[InlineKeyboardButton]]:
        """The kinds, the districts (by code), or yes and no."""
        entity = self.entity
        if step is Step.KIND:
            return [
                [
                    member_button(kind_name(kind), entity, MemberAction.KIND, kind.value)
                    for kind in LibraryKind
                ]
            ]
        if step is Step.DISTRICT:
            codes = (await directory.district_codes(session))[:DISTRICT_BUTTONS]
            return [
                [member_button(code, entity, MemberAction.DISTRICT, code) for code in row]
                for row in (codes[start : start + 3] for start in range(0, len(codes), 3))
            ]
        if step is Step.PICKUP:
            return [
                [
                    member_button(_("Yes"), entity, MemberAction.PICKUP, "1"),
                    member_button(_("No"), entity, MemberAction.PICKUP, "0"),
                ]
            ]
        return []

    async def store(self, session: AsyncSession, actor: Reader) -> Library:
        """Create or update the library."""
        values = LibraryValues(
            code=self.code,
            name=self.name,
            name_en=self.name_en,
            kind=self.kind,
            district_code=self.district_code,
            address=self.address,
            address_en=self.address_en,
            latitude=self.latitude,
            longitude=self.longitude,
            opening_hours=self.opening_hours,
            is_pickup_point=self.is_pickup_point,
        )
        return await member_admin.save_library(session, actor, values, editing=self.editing)


async def start_add(callback: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
    """➕ Add: the wizard from the code on."""
    await callback.answer()
    if isinstance(callback.message, Message):
        await begin(callback.message, session, state, LibraryForm())


async def start_edit(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession, state: FSMContext
) -> None:
    """✏️ CODE: the wizard over an existing library, each step with Keep."""
    if not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        library = await member_admin.find_library(session, callback_data.value)
        district = await member_admin.district_of(session, library)
    except NotFoundError:
        await callback.answer(_("It no longer exists."), show_alert=True)
        return
    await callback.answer()
    await callback.message.answer(
        _("Editing {code}. Send a new value for each step, or tap Keep.").format(
            code=escape(library.code)
        )
    )
    await begin(callback.message, session, state, LibraryForm.of(library, district.code))


async def _answer_with_button(
    callback: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    step: Step,
    value: str,
) -> None:
    """A kind, a district or yes/no tapped: the answer to ``step`` if that is still open."""
    question = await open_question(callback, LibraryForm, state)
    if question is None:
        return
    form, open_step, message = question
    if open_step is not step:
        await callback.answer(_("That question is over."))
        return
    try:
        if step is Step.PICKUP:
            form.is_pickup_point = value == "1"
        else:
            await form.take_own_text(session, step, value, empty=False)
    except MemberInputError:
        await callback.answer(_("That choice is not valid any more."), show_alert=True)
        return
    await callback.answer()
    await advance(message, session, state, form)


async def kind_chosen(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession, state: FSMContext
) -> None:
    """A kind tapped."""
    await _answer_with_button(callback, session, state, Step.KIND, callback_data.value)


async def district_chosen(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession, state: FSMContext
) -> None:
    """A district tapped."""
    await _answer_with_button(callback, session, state, Step.DISTRICT, callback_data.value)


async def pickup_chosen(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession, state: FSMContext
) -> None:
    """Yes or No tapped: whether readers can pick up holds there."""
    await _answer_with_button(callback, session, state, Step.PICKUP, callback_data.value)


def build_router() -> Router:
    """A fresh router with this module's handlers (the package's router filters the role)."""
    router = Router(name=__name__)
    libraries = F.entity == MemberEntity.LIBRARIES
    router.callback_query.register(
        start_add, MemberChoice.filter((F.action == MemberAction.ADD) & libraries)
    )
    router.callback_query.register(
        start_edit, MemberChoice.filter((F.action == MemberAction.EDIT) & libraries)
    )
    in_form = StateFilter(MemberWizard.library)
    for action, handler in (
        (MemberAction.KIND, kind_chosen),
        (MemberAction.DISTRICT, district_chosen),
        (MemberAction.PICKUP, pickup_chosen),
    ):
        router.callback_query.register(
            handler, in_form, MemberChoice.filter((F.action == action) & libraries)
        )
    router.include_router(form_router(LibraryForm))
    return router
