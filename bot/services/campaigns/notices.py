"""What campaigns tell people: the campaign message and the approval request, as intents.

They are rendered in each reader's language when sent (``bot.notices.campaigns``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from bot.notices.intents import Names, NoticeData, notice_kind

# Promotional messages of this topic respect the readers' "campaigns" opt-out.
TOPIC = "campaigns"
DEEP_LINK_PREFIX = "cmp"


def campaign_link(bot_username: str, campaign_id: int) -> str:
    """The deep link a campaign message carries."""
    return f"https://t.me/{bot_username}?start={DEEP_LINK_PREFIX}_{campaign_id}"


class EventLine(BaseModel):
    """One event of the weekly campaign's list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: int
    title: Names
    starts_at: AwareDatetime


class CampaignBody(BaseModel):
    """What a campaign says: the admin's HTML text per language, or the week's events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: dict[str, str] = {}
    events: tuple[EventLine, ...] = ()

    @classmethod
    def of(cls, message: Mapping[str, Any]) -> CampaignBody:
        """The body stored in ``Campaign.message``."""
        texts = message.get("text") or {}
        return cls(
            text={language: text for language, text in texts.items() if text},
            events=tuple(message.get("events") or ()),
        )

    def is_empty(self) -> bool:
        """Whether there is nothing to say."""
        return not self.text and not self.events


@notice_kind("campaign")
class CampaignMessage(NoticeData):
    """A campaign's message to one treated recipient, with its deep-link button."""

    campaign_id: int
    bot_username: str
    body: CampaignBody
    # The published reading list linked to the campaign: a second button opens it.
    reading_list_id: int | None = None
    reading_list: Names | None = None


def list_link(bot_username: str, list_id: int) -> str:
    """The deep link that opens a reading list (``/start rl_<id>``)."""
    return f"https://t.me/{bot_username}?start=rl_{list_id}"


@notice_kind("campaign.approval")
class CampaignApproval(NoticeData):
    """The weekly campaign waits for an admin's one-tap launch."""

    campaign_id: int
    district_codes: tuple[str, ...]
    readers: int
    events: int
    body: CampaignBody
