"""Admin console: districts and libraries — lists, the add/edit wizards, CSV files.

``lists`` shows them; ``district_wizard`` and ``library_wizard`` add or edit one at a time
(their shared steps are in ``wizard``); ``csv_files`` previews and imports an uploaded CSV,
and downloads the current ones. Every handler needs the admin role (checked here once).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter

from bot.models import Role
from handlers.admin_callbacks import MemberAction, MemberChoice
from handlers.filters import HasRole
from handlers.members_admin import csv_files, district_wizard, library_wizard, lists
from handlers.members_admin.csv_files import MemberCsv
from handlers.members_admin.wizard import (
    MemberWizard,
    cancel_button,
    cancel_command,
    stale_button,
)


def _closing_router() -> Router:
    """Cancel (a button or /cancel) and the buttons of ended conversations: last."""
    router = Router(name=f"{__name__}.closing")
    router.callback_query.register(
        cancel_button, MemberChoice.filter(F.action == MemberAction.CANCEL)
    )
    router.message.register(cancel_command, StateFilter(MemberWizard, MemberCsv), Command("cancel"))
    router.callback_query.register(stale_button, MemberChoice.filter())
    return router


def build_router() -> Router:
    """A fresh router with the package's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    admin = HasRole(Role.ADMIN)
    router.message.filter(admin)
    router.callback_query.filter(admin)
    router.include_routers(
        lists.build_router(),
        csv_files.build_router(),
        district_wizard.build_router(),
        library_wizard.build_router(),
        _closing_router(),
    )
    return router
