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
    # Reading life.
    CommandSpec("read", N_("Your reading log: mark a book read")),
    CommandSpec("popular", N_("Most reserved and most read books, new arrivals")),
    CommandSpec("foryou", N_("Books recommended for you, and why")),
    CommandSpec("lists", N_("Reading lists to follow and reserve from")),
    CommandSpec("newlist", N_("Make a reading list"), Role.ORGANISER),
    CommandSpec("listadd", N_("Add books to a reading list"), Role.ORGANISER),
    CommandSpec("listnote", N_("A note on a book of a reading list"), Role.ORGANISER),
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
