"""/broadcast: organisers and admins write to readers — audience, texts, link, preview, confirm.

The wizard keeps its answers in a typed ``BroadcastDraft`` (``draft``); each flow is a module
with one handler per button action: the audience picker (``audience``), the texts and the
link (``texts``), the preview and sending (``confirm``).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import or_f
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.models import Role
from handlers.broadcasts import audience, confirm, texts
from handlers.broadcasts.draft import AudienceChoice, StepChoice, stale
from handlers.filters import HasRole, Onboarded


async def refuse_button(query: CallbackQuery) -> None:
    """A broadcast button pressed by someone who may not broadcast (forged or outdated)."""
    await query.answer(_("Sorry, only organisers and admins can send broadcasts."), show_alert=True)


def _leftovers() -> Router:
    """Buttons no step took: an organiser's from a step that is over, or anyone else's."""
    router = Router(name=f"{__name__}.leftovers")
    router.callback_query.register(stale, StepChoice.filter(), HasRole(Role.ORGANISER))
    router.callback_query.register(
        refuse_button, or_f(AudienceChoice.filter(), StepChoice.filter())
    )
    return router


def build_router() -> Router:
    """A fresh router with the broadcast flows (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.callback_query.filter(Onboarded())
    router.include_routers(
        audience.build_router(),
        texts.build_router(),
        confirm.build_router(),
        _leftovers(),
    )
    return router
