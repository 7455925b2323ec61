"""Organisers run events: the /newevent wizard, /myevents, edits, attendees, check-in, feedback.

Modules: ``wizard`` (its typed steps) and ``wizard_buttons`` (its buttons, the preview,
Publish), ``manage`` (/myevents and the organiser's card), ``edits`` (changes by typing or
buttons); ``callbacks``, ``forms`` and ``keyboards`` are shared by them. Every callback
re-checks the role (this router's filter) and the event's ownership (the services).
"""

from __future__ import annotations

from aiogram import Router

from bot.models import Role
from handlers.filters import HasRole, Onboarded
from handlers.organiser_events import edits, manage, wizard, wizard_buttons


def build_router() -> Router:
    """A fresh router for organisers (one per dispatcher): onboarded organisers only."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), HasRole(Role.ORGANISER))
    router.callback_query.filter(Onboarded(), HasRole(Role.ORGANISER))
    router.include_routers(
        wizard.build_router(),
        wizard_buttons.build_router(),
        manage.build_router(),
        edits.build_router(),
    )
    return router
