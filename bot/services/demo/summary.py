"""What seeding the demo created."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.members import MemberImportReport


@dataclass
class DemoSummary:
    """What seeding created; zero counts on a second run show it was already seeded."""

    districts: MemberImportReport
    libraries: MemberImportReport
    readers_created: int = 0
    roles_granted: int = 0
    works_created: int = 0
    isbns_added: int = 0
    items_created: int = 0
    events_created: int = 0
    activity_readers: int = 0
    searches_logged: int = 0
    follows_created: int = 0
    # The campus programme: living books, quizzes.
    campus_created: int = 0
    totals: dict[str, int] = field(default_factory=dict)
