"""Every guarded command and callback, tried by every lesser role: refused, nothing changes."""

from __future__ import annotations

import enum
import itertools
import sys
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State

from bot.commands import guarded_commands
from bot.models import Role
from tests.hardening.conftest import (
    World,
    all_states,
    guarded_callback_classes,
    lesser_roles,
)

ARGUMENTS = ("", " @reader_7101 admin", " @organiser_7103 organiser CITY")
SAMPLE_VALUES: dict[Any, list[Any]] = {
    int: [0, 1, 2, 3],
    str: ["", "l", "d", "a", "events"],
    bool: [False, True],
}
MAX_INSTANCES = 20


def _candidates(annotation: Any) -> list[Any]:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return list(annotation)
    return SAMPLE_VALUES.get(annotation, [None])


def sample_instances(cls: type[CallbackData]) -> list[str]:
    """Packed data of the class over a spread of plausible values (ids of real rows too)."""
    fields = list(cls.model_fields.items())
    packed = []
    for values in itertools.product(*(_candidates(info.annotation) for _, info in fields)):
        try:
            packed.append(
                cls(**dict(zip((name for name, _ in fields), values, strict=True))).pack()
            )
        except ValueError:
            continue
    return packed[:MAX_INSTANCES]


def _states_of(cls: type) -> list[State | None]:
    """No state, and every state of the module that defines the callback (its own dialog)."""
    module = sys.modules[cls.__module__]
    own = [state for state in all_states() if state.group.__module__ == module.__name__]
    return [None, *own]


def test_the_matrix_is_not_empty() -> None:
    commands = guarded_commands()
    assert {"grant", "revoke", "roles", "broadcast", "import"} <= set(commands)
    callbacks = {cls.__name__: role for cls, role in guarded_callback_classes().items()}
    assert callbacks["AudienceChoice"] is Role.ORGANISER
    assert callbacks["StepChoice"] is Role.ORGANISER
    for cls in guarded_callback_classes():
        assert sample_instances(cls), cls


async def test_guarded_commands_are_refused_to_lesser_roles(world: World) -> None:
    for name, needed in sorted(guarded_commands().items()):
        for role in lesser_roles(needed):
            user = world.people[role]
            for argument in ARGUMENTS:
                await world.set_state(user, None)
                before = await world.snapshot()
                replies = await world.send(user, f"/{name}{argument}")
                world.assert_no_errors((role, name, argument))
                assert replies is not None
                assert [reply.text for reply in replies] == [_refusal(name, needed)], (
                    role,
                    name,
                    argument,
                )
                assert await world.snapshot() == before, (role, name, argument)
            # Inside every dialog too (a stale state must not open a door).
            before = await world.snapshot()
            for state in all_states():
                await world.set_state(user, state)
                await world.send(user, f"/{name} CITY")
                world.assert_no_errors((role, name, state))
            assert await world.snapshot() == before, (role, name)


def _refusal(name: str, needed: Role) -> str:
    who = {
        Role.ADMIN: "alliance admins",
        Role.ORGANISER: "event organisers",
        Role.LIBRARIAN: "librarians",
    }[needed]
    return f"Sorry, /{name} is only for {who}. Send /help to see what you can do."


async def test_guarded_callbacks_are_refused_to_lesser_roles(world: World) -> None:
    for cls, needed in guarded_callback_classes().items():
        instances = sample_instances(cls)
        for role in lesser_roles(needed):
            user = world.people[role]
            for state in _states_of(cls):
                before = await world.snapshot()
                for data in instances:
                    await world.set_state(user, state)
                    answer, replies = await world.forge(user, data)
                    world.assert_no_errors((role, state, data))
                    assert answer is not None and answer["text"], (role, state, data)
                    assert replies == [], (role, state, data, [r.text for r in replies])
                assert await world.snapshot() == before, (cls.__name__, role, state)
