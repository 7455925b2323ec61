"""The data model: typed SQLAlchemy 2 models for every entity in the design.

One module per area; every model and enumeration is importable from ``bot.models``, and
importing it maps them all.
"""

from __future__ import annotations

from bot.models.base import (
    NAMING_CONVENTION,
    Base,
    DbInt,
    Timestamps,
    UTCDateTime,
    display_name,
    utcnow,
)
from bot.models.catalogue import (
    CatalogueChange,
    Item,
    PurchaseSuggestion,
    PurchaseVote,
    SearchLog,
    Work,
    WorkIsbn,
    WorkWatch,
)
from bot.models.enums import (
    ACTIVE_HOLD_STATUSES,
    AgeGroup,
    CampaignStatus,
    EventAudience,
    EventCategory,
    EventRecurrence,
    EventStatus,
    HoldStatus,
    ItemStatus,
    LibraryKind,
    NotificationClass,
    NotificationStatus,
    RegistrationStatus,
    Role,
    SuggestionStatus,
)
from bot.models.events import Event, EventSeries, Feedback, Registration
from bot.models.holds import Hold
from bot.models.members import District, Library
from bot.models.messages import (
    Broadcast,
    BroadcastAudience,
    BroadcastStatus,
    Campaign,
    CampaignRecipient,
    Notification,
    ReachSnapshot,
)
from bot.models.readers import AuditLog, LibraryFollow, Reader, RoleGrant
from bot.models.reading import (
    AlsoReservedPair,
    Challenge,
    ChallengeEntry,
    ListFollow,
    ReadingList,
    ReadingListEntry,
    ReadingLog,
    ReadingPreference,
)

__all__ = [
    "ACTIVE_HOLD_STATUSES",
    "NAMING_CONVENTION",
    "AgeGroup",
    "AlsoReservedPair",
    "AuditLog",
    "Base",
    "Broadcast",
    "BroadcastAudience",
    "BroadcastStatus",
    "Campaign",
    "CampaignRecipient",
    "CampaignStatus",
    "CatalogueChange",
    "Challenge",
    "ChallengeEntry",
    "DbInt",
    "District",
    "Event",
    "EventAudience",
    "EventCategory",
    "EventRecurrence",
    "EventSeries",
    "EventStatus",
    "Feedback",
    "Hold",
    "HoldStatus",
    "Item",
    "ItemStatus",
    "Library",
    "LibraryFollow",
    "LibraryKind",
    "ListFollow",
    "Notification",
    "NotificationClass",
    "NotificationStatus",
    "PurchaseSuggestion",
    "PurchaseVote",
    "ReachSnapshot",
    "Reader",
    "ReadingList",
    "ReadingListEntry",
    "ReadingLog",
    "ReadingPreference",
    "Registration",
    "RegistrationStatus",
    "Role",
    "RoleGrant",
    "SearchLog",
    "SuggestionStatus",
    "Timestamps",
    "UTCDateTime",
    "Work",
    "WorkIsbn",
    "WorkWatch",
    "display_name",
    "utcnow",
]
