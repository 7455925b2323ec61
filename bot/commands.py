"""The bot's command menu per role: what `setMyCommands` registers and what refusals name."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_
from bot.models import Role


@dataclass(frozen=True)
class CommandSpec:
    """One slash command: its name, a description to translate, and who may use it."""

    name: str
    description: str
    role: Role = Role.READER


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", N_("Start, or show the main menu")),
    CommandSpec("help", N_("What this bot can do")),
    CommandSpec("settings", N_("Language, district, location, notifications")),
    CommandSpec("follow", N_("Follow libraries to get their news")),
    CommandSpec("following", N_("Libraries you follow")),
    CommandSpec("mydata", N_("Everything stored about you, as a file")),
    CommandSpec("forgetme", N_("Delete your data")),
    CommandSpec("grant", N_("Give a reader a role"), Role.ADMIN),
    CommandSpec("revoke", N_("Take a role away"), Role.ADMIN),
    CommandSpec("roles", N_("Who holds which role"), Role.ADMIN),
    CommandSpec("broadcast", N_("Send an announcement to readers"), Role.ORGANISER),
    CommandSpec("import", N_("Import a library's catalogue file"), Role.ADMIN),
    # Holds.
    CommandSpec("holds", N_("Your holds")),
    CommandSpec("card", N_("Your alliance card")),
    CommandSpec("checkin", N_("Check in a returned copy"), Role.LIBRARIAN),
    CommandSpec("arrived", N_("A copy in transit has arrived"), Role.LIBRARIAN),
    CommandSpec("collected", N_("A reader collected their hold"), Role.LIBRARIAN),
    CommandSpec("pulllist", N_("Copies to take off the shelf for holds"), Role.LIBRARIAN),
    CommandSpec("missing", N_("A copy cannot be found"), Role.LIBRARIAN),
    # Reading events.
    CommandSpec("events", N_("Upcoming reading events")),
    CommandSpec("newevent", N_("Create a reading event"), Role.ORGANISER),
    CommandSpec("myevents", N_("Events you organise"), Role.ORGANISER),
    CommandSpec("admin", N_("Admin console"), Role.ADMIN),
    CommandSpec("audit", N_("Audit log of staff actions"), Role.ADMIN),
    CommandSpec("stats", N_("Statistics for a period, with charts and CSV"), Role.ADMIN),
    CommandSpec("reach", N_("Reach by district, and the under-reached ones"), Role.ADMIN),
    CommandSpec("newcampaign", N_("Prepare a campaign for readers"), Role.ADMIN),
    CommandSpec("campaigns", N_("Campaigns and how they did"), Role.ADMIN),
    # Partner bookstores.
    CommandSpec("choose", N_("You choose, we pay: a book from a partner bookstore")),
    CommandSpec("bookstores", N_("Partner bookstores, their staff and rules"), Role.ADMIN),
    CommandSpec("lending", N_("Who lent books to whose readers"), Role.ADMIN),
    CommandSpec("settlement", N_("A month's bookstore vouchers, to approve"), Role.ADMIN),
    CommandSpec("evaluation", N_("Evaluation report of the member libraries"), Role.ADMIN),
    # Browse by subject (Chinese Library Classification).
    CommandSpec("subjects", N_("Browse the catalogue by subject")),
    # The campus cultural programme.
    CommandSpec("humanlibrary", N_("Human library: book a conversation with a living book")),
    CommandSpec("livingbook", N_("Add a living book to your event"), Role.ORGANISER),
    CommandSpec("contests", N_("Knowledge quizzes to join, and their results")),
    CommandSpec("newquiz", N_("Build a knowledge quiz"), Role.ORGANISER),
    CommandSpec("myquizzes", N_("Quizzes you organise: cancel one"), Role.ORGANISER),
    CommandSpec("volunteer", N_("Volunteer shifts and your hours of service")),
    CommandSpec("newshift", N_("Open a volunteer shift on your event"), Role.ORGANISER),
    CommandSpec("volunteerhours", N_("Volunteer hours as CSV"), Role.ORGANISER),
    CommandSpec("newcontest", N_("Open an essay, poetry or photo contest"), Role.ORGANISER),
    CommandSpec("judge", N_("Add a judge to your contest"), Role.ORGANISER),
    CommandSpec("contestscores", N_("A contest's scores as CSV"), Role.ORGANISER),
    CommandSpec("publishresults", N_("Publish a contest's results"), Role.ORGANISER),
    CommandSpec("partners", N_("Partner organisations and their events")),
    CommandSpec("cohost", N_("A partner co-hosts your event"), Role.ORGANISER),
    CommandSpec("newpartner", N_("Add a partner organisation"), Role.ADMIN),
    CommandSpec("partnerorganiser", N_("Bind an organiser to a partner"), Role.ADMIN),
    # Reading life.
    CommandSpec("read", N_("Your reading log: mark a book read")),
    CommandSpec("popular", N_("Most reserved, searched-for and read books, new arrivals")),
    CommandSpec("foryou", N_("Books recommended for you, and why")),
    CommandSpec("lists", N_("Reading lists to follow and reserve from")),
    CommandSpec("newlist", N_("Make a reading list"), Role.ORGANISER),
    CommandSpec("listadd", N_("Add books to a reading list"), Role.ORGANISER),
    CommandSpec("listnote", N_("A note on a book of a reading list"), Role.ORGANISER),
    CommandSpec("listlink", N_("Put a reading list on an event or campaign"), Role.ORGANISER),
    CommandSpec("listunlink", N_("Take a reading list off an event or campaign"), Role.ORGANISER),
    CommandSpec("challenges", N_("Reading challenges, your progress and streak")),
    CommandSpec("newchallenge", N_("Set a reading challenge"), Role.ORGANISER),
)

ROLE_ORDER = (Role.READER, Role.LIBRARIAN, Role.ORGANISER, Role.ADMIN)


def commands_for(roles: frozenset[Role]) -> list[CommandSpec]:
    """The commands a person with these roles sees (admins see everything)."""
    if Role.ADMIN in roles:
        return list(COMMANDS)
    return [spec for spec in COMMANDS if spec.role is Role.READER or spec.role in roles]


def guarded_commands() -> dict[str, Role]:
    """Commands that need a role beyond reader, with that role."""
    return {spec.name: spec.role for spec in COMMANDS if spec.role is not Role.READER}
