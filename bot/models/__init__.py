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
from bot.models.bookstores import (
    Bookstore,
    BookstoreStaff,
    ChooseBudget,
    ChooseRules,
    Settlement,
    Voucher,
    VoucherStatus,
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
from bot.models.harvest import HarvestRecord, HarvestSource
from bot.models.holds import Hold
from bot.models.humanlibrary import (
    LivingBook,
    LivingBookFeedback,
    LivingBookSlot,
    LivingBookWait,
)
from bot.models.ils import (
    IlsConnection,
    IlsHoldRelay,
    IlsKind,
    IlsPatronLink,
    RelayStatus,
)
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
from bot.models.partners import EventHost, Partner, PartnerKind, PartnerOrganiser
from bot.models.quizzes import Quiz, QuizAnswer, QuizEntry, QuizMode, QuizQuestion
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
from bot.models.submissions import (
    ContestEntry,
    ContestJudge,
    ContestKind,
    EntryScore,
    SubmissionContest,
)
from bot.models.volunteers import VolunteerShift, VolunteerSignup

__all__ = [
    "ACTIVE_HOLD_STATUSES",
    "NAMING_CONVENTION",
    "AgeGroup",
    "AlsoReservedPair",
    "AuditLog",
    "Base",
    "Bookstore",
    "BookstoreStaff",
    "Broadcast",
    "BroadcastAudience",
    "BroadcastStatus",
    "Campaign",
    "CampaignRecipient",
    "CampaignStatus",
    "CatalogueChange",
    "Challenge",
    "ChallengeEntry",
    "ChooseBudget",
    "ChooseRules",
    "ContestEntry",
    "ContestJudge",
    "ContestKind",
    "DbInt",
    "District",
    "EntryScore",
    "Event",
    "EventAudience",
    "EventCategory",
    "EventHost",
    "EventRecurrence",
    "EventSeries",
    "EventStatus",
    "Feedback",
    "HarvestRecord",
    "HarvestSource",
    "Hold",
    "HoldStatus",
    "IlsConnection",
    "IlsHoldRelay",
    "IlsKind",
    "IlsPatronLink",
    "Item",
    "ItemStatus",
    "Library",
    "LibraryFollow",
    "LibraryKind",
    "ListFollow",
    # The campus cultural programme.
    "LivingBook",
    "LivingBookFeedback",
    "LivingBookSlot",
    "LivingBookWait",
    "Notification",
    "NotificationClass",
    "NotificationStatus",
    "Partner",
    "PartnerKind",
    "PartnerOrganiser",
    "PurchaseSuggestion",
    "PurchaseVote",
    "Quiz",
    "QuizAnswer",
    "QuizEntry",
    "QuizMode",
    "QuizQuestion",
    "ReachSnapshot",
    "Reader",
    "ReadingList",
    "ReadingListEntry",
    "ReadingLog",
    "ReadingPreference",
    "Registration",
    "RegistrationStatus",
    "RelayStatus",
    "Role",
    "RoleGrant",
    "SearchLog",
    "Settlement",
    "SubmissionContest",
    "SuggestionStatus",
    "Timestamps",
    "UTCDateTime",
    "VolunteerShift",
    "VolunteerSignup",
    "Voucher",
    "VoucherStatus",
    "Work",
    "WorkIsbn",
    "WorkWatch",
    "display_name",
    "utcnow",
]
