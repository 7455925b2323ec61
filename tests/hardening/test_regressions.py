"""What the fuzzing found, pinned down one case each."""

from __future__ import annotations

from bot.models import Role
from handlers.broadcasts.draft import BroadcastWizard, StepAction, StepChoice
from handlers.callbacks import SettingsAction, SettingsChoice
from tests.hardening.conftest import World

EXPIRED = "This form has expired. Please start again with /broadcast."


async def test_a_broadcast_wizard_whose_data_is_gone_says_so(world: World) -> None:
    organiser = world.people[Role.ORGANISER]
    before = await world.snapshot()

    # The dialog's data expired (Redis keeps state and data with separate lifetimes).
    await world.set_state(organiser, BroadcastWizard.button)
    answer, replies = await world.forge(organiser, StepChoice(action=StepAction.SKIP).pack())
    assert answer is not None and answer["text"] == EXPIRED and answer["show_alert"]
    world.assert_no_errors("skip the button with no draft")

    await world.set_state(organiser, BroadcastWizard.button)
    replies = await world.send(organiser, "https://example.org")
    assert replies is not None and EXPIRED in [reply.text for reply in replies]
    world.assert_no_errors("a link with no draft")

    await world.set_state(organiser, BroadcastWizard.confirm)
    answer, replies = await world.forge(organiser, StepChoice(action=StepAction.SEND).pack())
    assert answer is not None and answer["text"] == EXPIRED and answer["show_alert"]
    world.assert_no_errors("send with no draft")

    assert await world.snapshot() == before
    # The person can start over at once.
    replies = await world.send(organiser, "/broadcast")
    assert replies
    world.assert_no_errors("starting again")


async def test_settings_buttons_pressed_twice_are_not_errors(world: World) -> None:
    reader = world.people[Role.READER]
    for action in (SettingsAction.LANGUAGE, SettingsAction.DISTRICT, SettingsAction.CLOSE):
        await world.send(reader, "/settings")
        data = SettingsChoice(action=action).pack()
        first, _replies = await world.forge(reader, data)
        second, _replies = await world.forge(reader, data)  # a double tap on the same message
        world.assert_no_errors(action)
        assert first is not None and second is not None, action


async def test_an_id_beyond_the_database_range_is_a_stale_button(world: World) -> None:
    reader = world.people[Role.READER]
    # PostgreSQL refuses integers beyond INTEGER in a query; the button must simply be stale.
    for data in (
        "dist:pick:2147483648:o",
        "dist:page:-2147483649:s",
        "fol:f:9223372036854775807:p",
        "bca:p:l:2147483648",
    ):
        answer, _replies = await world.forge(reader, data)
        world.assert_no_errors(data)
        assert answer is not None and answer["text"] == "This button is no longer active.", data


async def test_a_member_wizard_whose_data_is_gone_says_so(world: World) -> None:
    from handlers.admin_callbacks import MemberChoice
    from handlers.members_admin import MemberWizard

    admin = world.people[Role.ADMIN]
    lost = "This form has expired. Please start again with /admin."

    await world.set_state(admin, MemberWizard.library)
    replies = await world.send(admin, "0")
    assert replies is not None and lost in [reply.text for reply in replies]
    world.assert_no_errors("a typed value with no draft")
    # The state went with the data: the next text is a search again, not the wizard.
    replies = await world.send(admin, "0")
    assert replies is not None and lost not in [reply.text for reply in replies]

    before = await world.snapshot()
    await world.set_state(admin, MemberWizard.library)
    answer, _replies = await world.forge(admin, MemberChoice(action="keep", entity="l").pack())
    assert answer is not None and answer["text"] == lost and answer["show_alert"]
    world.assert_no_errors("keep with no draft")
    assert await world.snapshot() == before


async def test_a_catalogue_file_whose_import_data_is_gone_says_so(world: World) -> None:
    from handlers.catalogue_admin import CatalogueImport

    admin = world.people[Role.ADMIN]
    before = await world.snapshot()
    await world.set_state(admin, CatalogueImport.document)
    update = world.harness.sandbox.send_document(admin.user_id, "books.csv", b"title\nA\n")
    await world.harness.feed(update)
    replies = admin.new_bot_messages()
    assert "This form has expired. Please start again with /import." in [r.text for r in replies]
    world.assert_no_errors("a catalogue file with no library")
    assert await world.snapshot() == before
