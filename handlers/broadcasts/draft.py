"""The /broadcast wizard's steps, its buttons and its typed draft."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.delivery.rendering import localized
from bot.i18n import N_
from bot.models import BroadcastAudience, DbInt, Role
from bot.services import broadcasts
from handlers.drafts import Draft, FormExpired

OPEN_LINK = N_("🔗 Open link")
# The audience kinds offered in the picker, by the code their buttons carry ("a": everyone).
KIND_CODES = {"l": BroadcastAudience.FOLLOWERS, "d": BroadcastAudience.DISTRICTS}


class BroadcastWizard(StatesGroup):
    """The steps of writing a broadcast."""

    audience = State()
    text_zh = State()
    text_en = State()
    button = State()
    confirm = State()


class AudienceAction(StrEnum):
    KIND = "k"
    PICK = "p"
    PAGE = "g"
    NEXT = "n"


class AudienceChoice(CallbackData, prefix="bca"):
    """A choice while picking the audience: a kind, an item to toggle, a page, or Next."""

    required_role: ClassVar[Role] = Role.ORGANISER
    action: AudienceAction
    kind: str
    value: DbInt = 0


class StepAction(StrEnum):
    SKIP = "skip"
    SEND = "send"
    URGENT = "urgent"
    CANCEL = "cancel"


class StepChoice(CallbackData, prefix="bcs"):
    """Skip a step, send, send as urgent, or cancel."""

    required_role: ClassVar[Role] = Role.ORGANISER
    action: StepAction


class BroadcastDraft(Draft):
    """The answers of /broadcast so far; ``draft_key`` makes confirming it idempotent."""

    key = "broadcast"
    command = "/broadcast"

    draft_key: str
    # The picker shown ("l" libraries, "d" districts), then the audience chosen.
    picking: str | None = None
    ids: list[int] = []
    audience: BroadcastAudience | None = None
    text_zh: str | None = None
    text_en: str | None = None
    button_url: str | None = None
    button_label: str | None = None

    def chosen_audience(self) -> broadcasts.Audience:
        """The audience answered (an expired form when it was not)."""
        if self.audience is None:
            raise FormExpired(self.command)
        return broadcasts.Audience(self.audience, tuple(self.ids))

    def texts(self) -> dict[str, str]:
        """The texts written, by language."""
        return {
            language: text
            for language, text in (("zh", self.text_zh), ("en", self.text_en))
            if text
        }

    def to_service(self, i18n: I18n, *, urgent: bool = False) -> broadcasts.Draft:
        """The broadcast as the service queues it."""
        return broadcasts.Draft(
            audience=self.chosen_audience(),
            text=self.texts(),
            button_url=self.button_url,
            button_label=self.button_label or localized(i18n, OPEN_LINK),
            urgent=urgent,
            draft_key=self.draft_key,
        )


def step_button(text: str, action: StepAction) -> InlineKeyboardButton:
    """A button of the wizard's steps."""
    return InlineKeyboardButton(text=text, callback_data=StepChoice(action=action).pack())


def cancel_row() -> list[InlineKeyboardButton]:
    """The Cancel button, on a row of its own (or at the end of one)."""
    return [step_button(_("✖️ Cancel"), StepAction.CANCEL)]


async def stale(query: CallbackQuery) -> None:
    """A button of a step that is over."""
    await query.answer(_("This button is no longer active."), show_alert=True)


async def refuse(query: CallbackQuery) -> None:
    """An audience this person may not address (a forged or outdated button)."""
    await query.answer(_("You may not send broadcasts to that audience."), show_alert=True)
