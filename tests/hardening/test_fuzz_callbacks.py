"""Random callback data, and every CallbackData class with random field values, from everyone."""

from __future__ import annotations

from aiogram.fsm.state import State
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Role
from tests.hardening.conftest import (
    World,
    all_states,
    callback_data_classes,
    callback_instances,
    examples,
    raw_callback_data,
)

# What a genuine button may legitimately change (the data is random, so some presses are valid).
CALLBACK_MAY_WRITE = {
    "search_logs",
    "library_follows",
    "purchase_suggestions",
    "purchase_votes",
    # A reader's own buttons: reserve (and its notice), "tell me when it arrives", register
    # for an event, rate one.
    "holds",
    "notifications",
    "work_watches",
    "registrations",
    "feedback",
    # Reading life: mark a book read (and rate it), the reading choices, follow a list,
    # join a challenge; an organiser's own list buttons take books off it.
    "reading_log",
    "reading_preferences",
    "list_follows",
    "challenge_entries",
    "reading_list_entries",
}
PRESSERS = [Role.READER, Role.LIBRARIAN, Role.ORGANISER, Role.ADMIN]
STATES: list[State | None] = [None, *all_states()]
CLASSES = callback_data_classes()


def test_callback_data_classes_are_found() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"SettingsChoice", "WorkOpen", "AudienceChoice", "StepChoice", "Unsubscribe"} <= names
    assert {state.state for state in STATES if state} >= {"BroadcastWizard:text_zh"}


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    who=st.sampled_from([*PRESSERS, None]),
    state=st.sampled_from(STATES),
    data=st.one_of(raw_callback_data(), st.sampled_from(CLASSES).flatmap(callback_instances)),
)
async def test_any_callback_from_anyone_in_any_state(
    world: World, who: Role | None, state: State | None, data: str
) -> None:
    user = world.people[who] if who is not None else world.stranger
    if who is not None:
        await world.set_state(user, state)
    before = await world.counts()
    answer, _replies = await world.forge(user, data)
    world.assert_no_errors((who, state, data))
    # Every press is answered, so the client's spinner stops.
    assert answer is not None, (who, state, data)
    changed = {table for table, count in (await world.counts()).items() if count != before[table]}
    assert changed <= CALLBACK_MAY_WRITE, (who, state, data, changed)
