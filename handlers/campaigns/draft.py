"""The /newcampaign wizard's steps, its buttons and its typed draft."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import AwareDatetime

from bot.models import AgeGroup, Role
from bot.services.campaigns.plans import CampaignPlan, Schedule, ScheduleKind
from bot.services.campaigns.targeting import Audience, AudienceKind
from handlers.drafts import Draft, FormExpired


class CampaignWizard(StatesGroup):
    """The steps of preparing a campaign."""

    text_zh = State()
    text_en = State()
    link = State()
    reading_list = State()
    event = State()
    audience = State()
    districts = State()
    interests = State()
    age = State()
    schedule = State()
    moment = State()
    holdout = State()
    confirm = State()


class Step(StrEnum):
    LINK = "lk"
    EVENT = "ev"
    EVENT_PAGE = "ep"
    AUDIENCE = "au"
    DISTRICT = "dt"
    DISTRICT_PAGE = "dp"
    DISTRICTS_DONE = "dn"
    AGE = "ag"
    SCHEDULE = "sc"
    HOLDOUT = "ho"
    LAUNCH = "go"
    CANCEL = "x"


class CampaignStep(CallbackData, prefix="cps"):
    """A choice in the /newcampaign wizard (admins only)."""

    required_role: ClassVar[Role] = Role.ADMIN

    step: Step
    value: str = ""


class CampaignDraft(Draft):
    """The answers of /newcampaign so far."""

    key = "campaign"
    command = "/newcampaign"

    text_zh: str | None = None
    text_en: str | None = None
    event_id: int | None = None
    work_ids: list[int] = []
    audience: AudienceKind | None = None
    district_ids: list[int] = []
    district_page: int = 0
    interests: list[str] = []
    age_group: AgeGroup | None = None
    schedule: ScheduleKind = ScheduleKind.NOW
    at: AwareDatetime | None = None
    holdout: float | None = None

    def chosen_audience(self) -> Audience:
        """The audience answered (an expired form when it was not)."""
        if self.audience is None:
            raise FormExpired(self.command)
        return Audience(
            self.audience,
            district_ids=tuple(self.district_ids)
            if self.audience is AudienceKind.DISTRICTS
            else (),
            interests=tuple(self.interests) if self.audience is AudienceKind.INTERESTS else (),
            age_group=self.age_group if self.audience is AudienceKind.AGE_GROUP else None,
        )

    def texts(self) -> dict[str, str]:
        """The message per language."""
        return {lang: text for lang, text in (("zh", self.text_zh), ("en", self.text_en)) if text}

    def plan(self) -> CampaignPlan:
        """The campaign to create (an expired form when an answer is missing)."""
        if not self.texts() or self.holdout is None:
            raise FormExpired(self.command)
        at: datetime | None = self.at if self.schedule is not ScheduleKind.NOW else None
        return CampaignPlan(
            text=self.texts(),
            audience=self.chosen_audience(),
            schedule=Schedule(self.schedule, at),
            holdout_share=self.holdout,
            event_id=self.event_id,
            work_ids=tuple(self.work_ids),
        )


def step_button(text: str, step: Step, value: str = "") -> InlineKeyboardButton:
    """A wizard button (its label is plain text)."""
    return InlineKeyboardButton(
        text=text, callback_data=CampaignStep(step=step, value=value).pack()
    )


def cancel_row() -> list[InlineKeyboardButton]:
    """The wizard's Cancel button."""
    return [step_button(_("✖️ Cancel"), Step.CANCEL)]


def markup(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """Rows of buttons, then Cancel."""
    return InlineKeyboardMarkup(inline_keyboard=[*rows, cancel_row()])


def page_row(step: Step, page: int, pages: int) -> list[InlineKeyboardButton]:
    """◀️ n/m ▶️ (empty on a single page)."""
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(step_button("◀️", step, str(page - 1)))
    if pages > 1:
        row.append(step_button(f"{page + 1}/{pages}", step, str(page)))
    if page + 1 < pages:
        row.append(step_button("▶️", step, str(page + 1)))
    return row


def whole_number(value: str) -> int | None:
    """A page or an id from callback data (None when forged: not digits, or past INTEGER)."""
    return int(value) if value.isdigit() and len(value) < 10 else None


async def stale(query: CallbackQuery) -> None:
    """A wizard button that belongs to another step or an ended form."""
    await query.answer(_("This button is no longer active."), show_alert=True)


def message_of(query: CallbackQuery) -> Message | None:
    """The message a button sits under, when the bot can still edit it."""
    return query.message if isinstance(query.message, Message) else None


def age_label(age: AgeGroup) -> str:
    """An age group in words."""
    return {
        AgeGroup.CHILDREN: _("children"),
        AgeGroup.STUDENTS: _("students"),
        AgeGroup.ADULTS: _("adults"),
        AgeGroup.SENIORS: _("seniors"),
    }[age]
