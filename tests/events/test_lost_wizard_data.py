"""A wizard step whose stored answers are gone (Redis expiry, a restart) starts over politely."""

from __future__ import annotations

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StorageKey

from handlers.events.feedback import FeedbackComment
from handlers.organiser_events.forms import NewEvent, OrganiserInput
from tests.harness import BotHarness

# Every step that reads what was typed, and the command that starts its form again.
TYPED_STEPS: tuple[tuple[State, str], ...] = (
    (NewEvent.title, "/newevent"),
    (NewEvent.title_en, "/newevent"),
    (NewEvent.description, "/newevent"),
    (NewEvent.starts, "/newevent"),
    (NewEvent.ends, "/newevent"),
    (NewEvent.place_name, "/newevent"),
    (NewEvent.capacity, "/newevent"),
    (NewEvent.partners, "/newevent"),
    (NewEvent.sessions, "/newevent"),
    (OrganiserInput.value, "/myevents"),
    (OrganiserInput.reschedule_end, "/myevents"),
    (FeedbackComment.comment, "/events"),
)


def _key(harness: BotHarness, user_id: int) -> StorageKey:
    return StorageKey(bot_id=harness.bot.id, chat_id=user_id, user_id=user_id)


async def _state_without_data(harness: BotHarness, user_id: int, state: str) -> None:
    storage = harness.app.dispatcher.fsm.storage
    await storage.set_state(_key(harness, user_id), state)
    await storage.set_data(_key(harness, user_id), {})


async def test_end_steps_without_their_start_ask_to_start_again(harness: BotHarness) -> None:
    organiser = harness.user(9001, "Admin")  # a bootstrap admin manages every event
    await organiser.onboard()
    for state, command in (
        (NewEvent.ends.state, "/newevent"),
        (OrganiserInput.reschedule_end.state, "/myevents"),
    ):
        assert state is not None
        await _state_without_data(harness, 9001, state)
        [reply] = await organiser.send("2030-01-01 20:00")
        assert reply.text == f"This form has expired. Please start again with {command}."
        # The state is cleared: plain text is a catalogue search again, not a wizard answer.
        assert await harness.app.dispatcher.fsm.storage.get_state(_key(harness, 9001)) is None


async def test_every_typed_step_without_its_draft_says_the_form_expired(
    harness: BotHarness,
) -> None:
    organiser = harness.user(9001, "Admin")
    await organiser.onboard()
    for state, command in TYPED_STEPS:
        assert state.state is not None
        await _state_without_data(harness, 9001, state.state)
        [reply] = await organiser.send("12")
        assert reply.text == f"This form has expired. Please start again with {command}.", state
        assert await harness.app.dispatcher.fsm.storage.get_state(_key(harness, 9001)) is None


async def test_publish_without_the_draft_says_the_form_expired(harness: BotHarness) -> None:
    organiser = harness.user(9001, "Admin")
    await organiser.onboard()
    assert NewEvent.preview.state is not None
    await _state_without_data(harness, 9001, NewEvent.preview.state)
    await organiser.forge("nev:publish:")
    assert organiser.last_answer is not None
    assert organiser.last_answer["text"] == (
        "This form has expired. Please start again with /newevent."
    )
    assert await harness.app.dispatcher.fsm.storage.get_state(_key(harness, 9001)) is None
