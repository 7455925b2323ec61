"""A wizard step whose stored answers are gone (Redis expiry, a restart) starts over politely."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from handlers.organiser_events.forms import NewEvent, OrganiserInput
from tests.harness import BotHarness


async def _state_without_data(harness: BotHarness, user_id: int, state: str) -> None:
    key = StorageKey(bot_id=harness.bot.id, chat_id=user_id, user_id=user_id)
    storage = harness.app.dispatcher.fsm.storage
    await storage.set_state(key, state)
    await storage.set_data(key, {})


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
        key = StorageKey(bot_id=harness.bot.id, chat_id=9001, user_id=9001)
        assert await harness.app.dispatcher.fsm.storage.get_state(key) is None
