"""Leaving a wizard: a main-menu button or a command while a form waits ends the form first.

While a reader fills in a form (an FSM state), the main-menu keyboard stays on screen and
commands can still be typed; neither is ever an answer to the form ("🎉 Events" is no
event title, a search is no district code). This router comes before every feature router:
it ends the form, says which one was left, and hands the message on to the rest of the
bot with no state, so the button or the command does what it always does.

``/cancel`` is not handled here: the wizards answer it themselves, and the fallback router
ends any form that does not. Onboarding is not a form: it keeps its own answers.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import N_
from bot.menus import main_menu_labels

# What the reader is told, by FSM state or by its state group ("Group:state" / "Group").
LEFT_FORM: dict[str, str] = {
    "NewEvent": N_("You left the new event form."),
    "OrganiserInput": N_("You left the event change you were making."),
    "MemberWizard:district": N_("You left the district form."),
    "MemberWizard:library": N_("You left the library form."),
    "MemberCsv": N_("You left the CSV upload."),
    "CatalogueImport": N_("You left the catalogue import."),
    "CampaignWizard": N_("You left the new campaign form."),
    "BroadcastWizard": N_("You left the broadcast form."),
    "FeedbackComment": N_("You left the event feedback form."),
    "SettingsStates": N_("You left the location sharing."),
    "ChooseStates": N_("You left “you choose, we pay”."),
    "CardLinkForm": N_("You left the library card link."),
    "QuizWizard": N_("You left the new quiz form."),
    "SubmitEntry": N_("You left the contest entry."),
    "ReadingNote": N_("You left the note on your reading."),
}
# State groups that are not forms a reader can leave this way.
NOT_FORMS = frozenset({"Onboarding"})
CANCEL = "cancel"


def cancel_hint() -> str:
    """The line a form's question ends with, so /cancel is found."""
    return _("/cancel leaves this form.")


def left_form_text(raw_state: str) -> str:
    """ "You left the … form." for the form behind an FSM state."""
    group = raw_state.split(":", 1)[0]
    message = LEFT_FORM.get(raw_state) or LEFT_FORM.get(group)
    return _(message) if message else _("You left the form you were filling in.")


def _command(text: str) -> str | None:
    """The command a text starts with ("/Cancel@bot x" -> "cancel"), or None."""
    if not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""


class LeavesForm(Filter):
    """A main-menu button or a command (but /cancel) from a reader who is in a form."""

    async def __call__(
        self, message: Message, i18n: I18n, raw_state: str | None = None, **kwargs: Any
    ) -> bool:
        if raw_state is None or raw_state.split(":", 1)[0] in NOT_FORMS:
            return False
        text = message.text or ""
        command = _command(text)
        if command is not None:
            return command != CANCEL
        return text in main_menu_labels(i18n)


async def leave_form(
    message: Message, state: FSMContext, raw_state: str, event_router: Router, **data: Any
) -> Any:
    """End the form, say so, then let the bot handle the message as if no form were open."""
    await state.clear()
    await message.answer(left_form_text(raw_state))
    root = event_router
    while root.parent_router is not None:
        root = root.parent_router
    return await root.propagate_event(
        update_type="message", event=message, **data, state=state, raw_state=None
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(leave_form, LeavesForm())
    return router
