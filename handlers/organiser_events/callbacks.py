"""The callback data of organisers' buttons: the wizard, /myevents, the card, edits."""

from __future__ import annotations

import enum
from typing import ClassVar

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt, Role


class WizardStep(enum.StrEnum):
    """The wizard's buttons: each belongs to one step (``CANCEL`` to every step)."""

    TITLE_EN = "title_en"
    CATEGORY = "cat"
    AUDIENCE = "aud"
    VENUE = "venue"
    VENUES = "venues"
    PARTNERS = "partners"
    REPEAT = "repeat"
    PUBLISH = "publish"
    CANCEL = "cancel"


class WizardPick(CallbackData, prefix="nev"):
    """A button in the wizard: the step it answers and the value chosen."""

    required_role: ClassVar[Role] = Role.ORGANISER

    step: WizardStep
    value: str = ""


class OrganiserList(CallbackData, prefix="oel"):
    """A page of /myevents."""

    required_role: ClassVar[Role] = Role.ORGANISER

    page: DbInt = 0


class OrganiserAction(enum.StrEnum):
    """What an organiser does from an event's card."""

    OPEN = "o"
    ATTENDEES = "a"
    CSV = "c"
    QR = "q"
    FEEDBACK = "f"
    EDIT = "e"
    CAPACITY = "k"
    RESCHEDULE = "t"
    MESSAGE = "m"
    CANCEL = "x"
    CONFIRM_CANCEL = "X"


class OrganiserEvent(CallbackData, prefix="oev"):
    """An action on one event from the organiser's card."""

    required_role: ClassVar[Role] = Role.ORGANISER

    action: OrganiserAction
    event_id: DbInt


class AttendeePage(CallbackData, prefix="oap"):
    """A page of an event's attendee list."""

    required_role: ClassVar[Role] = Role.ORGANISER

    event_id: DbInt
    page: DbInt = 0


class OrganiserEdit(CallbackData, prefix="oed"):
    """Edit one field of an event (an ``EditField`` value, or category / audience)."""

    required_role: ClassVar[Role] = Role.ORGANISER

    event_id: DbInt
    field: str


class ChoiceField(enum.StrEnum):
    """The fields set with buttons rather than typed."""

    CATEGORY = "c"
    AUDIENCE = "a"


class OrganiserSet(CallbackData, prefix="oes"):
    """Set the category or audience of an event."""

    required_role: ClassVar[Role] = Role.ORGANISER

    event_id: DbInt
    field: ChoiceField
    value: str


class MarkAttended(CallbackData, prefix="oat"):
    """Toggle a registration between confirmed and attended."""

    required_role: ClassVar[Role] = Role.ORGANISER

    registration_id: DbInt
