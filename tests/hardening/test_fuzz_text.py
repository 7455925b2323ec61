"""Random Unicode, huge and empty input at every command, in every state and in the wizards."""

from __future__ import annotations

from aiogram.fsm.state import State
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import COMMANDS
from bot.models import Role
from tests.hardening.conftest import World, all_states, any_text, examples
from tests.harness import inline_labels

FUZZ = settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# A search logs itself (unmet demand) and /reach stores a snapshot when the period has none
# yet; nothing else may change because of typed text.
TEXT_MAY_WRITE = {"search_logs", "reach_snapshots"}
SENDERS = [Role.READER, Role.LIBRARIAN, Role.ORGANISER, Role.ADMIN]


def _changed(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {table for table in after if after[table] != before.get(table)}


@FUZZ
@given(
    role=st.sampled_from(SENDERS),
    name=st.sampled_from([spec.name for spec in COMMANDS]),
    argument=st.one_of(st.just(""), any_text),
    mention=st.booleans(),
)
async def test_every_command_survives_any_argument(
    world: World, role: Role, name: str, argument: str, mention: bool
) -> None:
    user = world.people[role]
    command = f"/{name}@{(await world.harness.bot.me()).username}" if mention else f"/{name}"
    before = await world.counts()
    await world.send(user, f"{command} {argument}" if argument.strip() else command)
    world.assert_no_errors((role, command, argument))
    assert _changed(before, await world.counts()) <= TEXT_MAY_WRITE, (command, argument)


STATES: list[State | None] = [None, *all_states()]


@FUZZ
@given(
    who=st.sampled_from([*SENDERS, None]),
    state=st.sampled_from(STATES),
    text=any_text,
)
async def test_any_text_in_any_state(
    world: World, who: Role | None, state: State | None, text: str
) -> None:
    user = world.people[who] if who is not None else world.stranger
    if who is not None:
        # Also states whose dialog data is gone (expired storage, a restart mid-wizard).
        await world.set_state(user, state)
    before = await world.counts()
    await world.send(user, text)
    world.assert_no_errors((who, state, text))
    assert _changed(before, await world.counts()) <= TEXT_MAY_WRITE, (who, state, text)


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(any_text, min_size=3, max_size=3),
    role=st.sampled_from([Role.ORGANISER, Role.ADMIN]),
)
async def test_broadcast_wizard_takes_any_text(world: World, texts: list[str], role: Role) -> None:
    user = world.people[role]
    await world.set_state(user, None)
    before = await world.counts()
    await world.send(user, "/broadcast")
    labels = inline_labels(user.last_bot_message())
    if "Everyone" in labels:
        await user.tap("Everyone")
    else:
        first = labels[0]
        await user.tap(first)
        await user.tap("Next ▶️")
    for text in texts:
        await world.send(user, text)
        world.assert_no_errors((role, texts))
    last = user.last_bot_message()
    if "✖️ Cancel" in inline_labels(last):
        await user.tap("✖️ Cancel", message_id=last.message_id)
    world.assert_no_errors((role, texts))
    assert _changed(before, await world.counts()) <= TEXT_MAY_WRITE


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(any_text, min_size=1, max_size=3))
async def test_import_and_onboarding_dialogs_take_any_text(world: World, texts: list[str]) -> None:
    admin = world.people[Role.ADMIN]
    before = await world.counts()
    await world.send(admin, "/import CITY")
    for text in texts:
        await world.send(admin, text)
        await world.send(world.stranger, text)
    world.assert_no_errors(texts)
    assert _changed(before, await world.counts()) <= TEXT_MAY_WRITE


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    who=st.sampled_from([*SENDERS, None]),
    # Telegram caps inline queries at 256 characters.
    query=st.one_of(any_text, st.just("")).map(lambda text: text[:256]),
    offset=st.one_of(st.just(""), st.text(max_size=12), st.integers(-5, 10**12).map(str)),
)
async def test_inline_queries_take_any_text(
    world: World, who: Role | None, query: str, offset: str
) -> None:
    user = world.people[who] if who is not None else world.stranger
    before = await world.counts()
    update = world.harness.sandbox.inline_query(user.user_id, query, offset=offset)
    await world.harness.feed(update)
    world.assert_no_errors((who, query, offset))
    assert _changed(before, await world.counts()) <= TEXT_MAY_WRITE, (who, query, offset)


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    who=st.sampled_from([Role.READER, Role.ADMIN]),
    name=st.one_of(
        st.sampled_from(["books.csv", "books.mrc", "books.xml", "a.zip", "x.json"]),
        st.text(
            st.characters(codec="utf-8", exclude_characters="/\\\x00"), min_size=1, max_size=40
        ),
    ),
    content=st.binary(min_size=1, max_size=2048),
    caption=st.one_of(st.none(), any_text.map(lambda text: text[:1024])),
)
async def test_documents_anywhere_take_any_bytes(
    world: World, who: Role, name: str, content: bytes, caption: str | None
) -> None:
    user = world.people[who]
    if who is Role.ADMIN:
        await world.send(user, "/import CITY")
    before = await world.counts()
    update = world.harness.sandbox.send_document(
        user.user_id, name, content, caption=caption or None
    )
    await world.harness.feed(update)
    user.new_bot_messages()
    world.assert_no_errors((who, name, content[:40], caption))
    assert _changed(before, await world.counts()) <= TEXT_MAY_WRITE, (who, name)
