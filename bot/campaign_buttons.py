"""The callback data of campaign controls, shared by the /campaigns router and the jobs."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from aiogram.filters.callback_data import CallbackData

from bot.models import Role


class ControlAction(StrEnum):
    PAUSE = "p"
    RESUME = "r"
    CANCEL = "c"
    APPROVE = "a"
    REFRESH = "f"


class CampaignControl(CallbackData, prefix="cpc"):
    """Pause, resume, cancel, approve or refresh one campaign (admins only)."""

    required_role: ClassVar[Role] = Role.ADMIN

    action: ControlAction
    campaign_id: int


def approve_data(campaign_id: int) -> str:
    """The packed callback data of a prepared campaign's Launch button."""
    return CampaignControl(action=ControlAction.APPROVE, campaign_id=campaign_id).pack()
