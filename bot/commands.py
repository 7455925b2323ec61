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
