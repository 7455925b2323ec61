"""Adding or editing a district: code, name, English name, population, coordinates."""

from __future__ import annotations

from html import escape
from typing import ClassVar

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Reader
from bot.services import member_admin
from bot.services.errors import NotFoundError
from bot.services.member_admin import DistrictValues
from bot.services.members import Entity
from handlers.admin_callbacks import MemberAction, MemberChoice, MemberEntity
from handlers.members_admin.wizard import MemberForm, MemberWizard, Step, begin, form_router


class DistrictForm(MemberForm):
    """A district being added or edited."""

    key: ClassVar[str] = "district_form"
    entity: ClassVar[MemberEntity] = MemberEntity.DISTRICTS
    service_entity: ClassVar[Entity] = "districts"
    all_steps: ClassVar[tuple[Step, ...]] = (
        Step.CODE,
        Step.NAME,
        Step.NAME_EN,
        Step.POPULATION,
        Step.COORDINATES,
    )
    name_limit: ClassVar[int] = member_admin.DISTRICT_NAME_LIMIT

    population: int = 0

    @classmethod
    def wizard_state(cls) -> State:
        """The FSM state of this wizard."""
        return MemberWizard.district

    @classmethod
    def of(cls, district: District) -> DistrictForm:
        """The form over an existing district, to edit it."""
        return cls(
            editing=True,
            code=district.code,
            name=district.name,
            name_en=district.name_en,
            population=district.population,
            latitude=district.latitude,
            longitude=district.longitude,
        )

    async def take_own_text(
        self, session: AsyncSession, step: Step, text: str, *, empty: bool
    ) -> None:
        """The population."""
        self.population = member_admin.check_population(text)

    async def store(self, session: AsyncSession, actor: Reader) -> District:
        """Create or update the district."""
        values = DistrictValues(
            code=self.code,
            name=self.name,
            name_en=self.name_en,
            population=self.population,
            latitude=self.latitude,
            longitude=self.longitude,
        )
        return await member_admin.save_district(session, actor, values, editing=self.editing)


async def start_add(callback: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
    """➕ Add: the wizard from the code on."""
    await callback.answer()
    if isinstance(callback.message, Message):
        await begin(callback.message, session, state, DistrictForm())


async def start_edit(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession, state: FSMContext
) -> None:
    """✏️ CODE: the wizard over an existing district, each step with Keep."""
    if not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        district = await member_admin.find_district(session, callback_data.value)
    except NotFoundError:
        await callback.answer(_("It no longer exists."), show_alert=True)
        return
    await callback.answer()
    await callback.message.answer(
        _("Editing {code}. Send a new value for each step, or tap Keep.").format(
            code=escape(district.code)
        )
    )
    await begin(callback.message, session, state, DistrictForm.of(district))


def build_router() -> Router:
    """A fresh router with this module's handlers (the package's router filters the role)."""
    router = Router(name=__name__)
    districts = F.entity == MemberEntity.DISTRICTS
    router.callback_query.register(
        start_add, MemberChoice.filter((F.action == MemberAction.ADD) & districts)
    )
    router.callback_query.register(
        start_edit, MemberChoice.filter((F.action == MemberAction.EDIT) & districts)
    )
    router.include_router(form_router(DistrictForm))
    return router
