"""Sandbox core: Telegram's refusals, user actions, updates, faults and files, called directly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiogram.methods import EditMessageText, SendMessage

from sandbox.core import (
    ButtonNotFound,
    ButtonNotPressable,
    Sandbox,
    SandboxAPIError,
    UnknownUser,
    UploadedFile,
    UserBlockedBot,
    decode_params,
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def keyboard(*buttons: dict[str, str]) -> str:
    return json.dumps({"inline_keyboard": [list(buttons)]})


async def refusal(sandbox: Sandbox, method: str, params: dict[str, Any]) -> SandboxAPIError:
    with pytest.raises(SandboxAPIError) as error:
        await sandbox.call(method, params)
    return error.value


async def test_text_length_is_counted_in_utf16_after_parsing(sandbox: Sandbox) -> None:
    await sandbox.call("sendMessage", {"chat_id": "1001", "text": "📚" * 2048})
    too_long = await refusal(sandbox, "sendMessage", {"chat_id": "1001", "text": "📚" * 2049})
    assert (too_long.error_code, too_long.description) == (
        400,
        "Bad Request: message is too long",
    )
    tagged = "<b>" + "x" * 4096 + "</b>"
    sent = await sandbox.call(
        "sendMessage", {"chat_id": "1001", "text": tagged, "parse_mode": "HTML"}
    )
    assert sent["entities"] == [{"type": "bold", "offset": 0, "length": 4096}]


@pytest.mark.parametrize("text", ["", "   \n ", "<b> </b>"])
async def test_empty_text_is_refused(sandbox: Sandbox, text: str) -> None:
    params = {"chat_id": "1001", "text": text, "parse_mode": "HTML"}
    error = await refusal(sandbox, "sendMessage", params)
    assert error.description == "Bad Request: message text is empty"


async def test_callback_data_limit_is_64_bytes(sandbox: Sandbox) -> None:
    ok = keyboard({"text": "ok", "callback_data": "d" * 64})
    await sandbox.call("sendMessage", {"chat_id": "1001", "text": "x", "reply_markup": ok})
    for data in ("d" * 65, "字" * 22):
        bad = keyboard({"text": "no", "callback_data": data})
        error = await refusal(
            sandbox, "sendMessage", {"chat_id": "1001", "text": "x", "reply_markup": bad}
        )
        assert error.description == "Bad Request: BUTTON_DATA_INVALID"


async def test_inline_button_needs_an_action(sandbox: Sandbox) -> None:
    error = await refusal(
        sandbox,
        "sendMessage",
        {"chat_id": "1001", "text": "x", "reply_markup": keyboard({"text": "bare"})},
    )
    assert error.description.startswith("Bad Request: can't parse inline keyboard button")


async def test_bad_html_is_refused_with_telegram_wording(sandbox: Sandbox) -> None:
    error = await refusal(
        sandbox, "sendMessage", {"chat_id": "1001", "text": "<p>x</p>", "parse_mode": "HTML"}
    )
    assert error.description == (
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'
    )


async def test_chat_not_found_and_blocked(sandbox: Sandbox) -> None:
    for chat_id in ("777", "@someone"):
        error = await refusal(sandbox, "sendMessage", {"chat_id": chat_id, "text": "x"})
        assert error.description == "Bad Request: chat not found"
    sandbox.block(1001)
    error = await refusal(sandbox, "sendMessage", {"chat_id": "1001", "text": "x"})
    assert (error.error_code, error.description) == (403, "Forbidden: bot was blocked by the user")
    error = await refusal(sandbox, "sendChatAction", {"chat_id": "1001", "action": "typing"})
    assert error.error_code == 403
    sandbox.unblock(1001)
    assert await sandbox.call("sendChatAction", {"chat_id": "1001", "action": "typing"})


async def test_edits_not_found_not_modified_and_foreign(sandbox: Sandbox) -> None:
    markup = keyboard({"text": "A", "callback_data": "a"})
    sent = await sandbox.call(
        "sendMessage",
        {"chat_id": "1001", "text": "<b>x</b>", "parse_mode": "HTML", "reply_markup": markup},
    )
    same = {
        "chat_id": "1001",
        "message_id": str(sent["message_id"]),
        "text": "<b>x</b>",
        "parse_mode": "HTML",
        "reply_markup": markup,
    }
    assert (await refusal(sandbox, "editMessageText", same)).description == NOT_MODIFIED
    error = await refusal(
        sandbox,
        "editMessageReplyMarkup",
        {"chat_id": "1001", "message_id": "1", "reply_markup": markup},
    )
    assert error.description == NOT_MODIFIED
    edited = await sandbox.call("editMessageText", {**same, "text": "x"})
    assert "entities" not in edited
    assert edited["reply_markup"]["inline_keyboard"]
    missing = {**same, "message_id": "99"}
    error = await refusal(sandbox, "editMessageText", missing)
    assert error.description == "Bad Request: message to edit not found"
    user_message = sandbox.send_text(1001, "mine").message
    assert user_message is not None
    foreign = {**same, "message_id": str(user_message.message_id), "text": "changed"}
    error = await refusal(sandbox, "editMessageText", foreign)
    assert error.description == "Bad Request: message can't be edited"
    error = await refusal(
        sandbox, "editMessageCaption", {"chat_id": "1001", "message_id": "1", "caption": "c"}
    )
    assert error.description == "Bad Request: there is no caption in the message to edit"


async def test_delete_message(sandbox: Sandbox) -> None:
    sent = await sandbox.call("sendMessage", {"chat_id": "1001", "text": "bye"})
    params = {"chat_id": "1001", "message_id": str(sent["message_id"])}
    assert await sandbox.call("deleteMessage", params) is True
    assert sandbox.messages(1001) == []
    error = await refusal(sandbox, "deleteMessage", params)
    assert error.description == "Bad Request: message to delete not found"


async def test_callback_and_inline_answers_only_once(sandbox: Sandbox) -> None:
    await sandbox.call(
        "sendMessage",
        {
            "chat_id": "1001",
            "text": "x",
            "reply_markup": keyboard({"text": "A", "callback_data": "a"}),
        },
    )
    query = sandbox.press(1001, text="A").callback_query
    assert query is not None
    assert sandbox.callback_answer(query.id) is None
    await sandbox.call("answerCallbackQuery", {"callback_query_id": query.id})
    assert sandbox.callback_answer(query.id) == {
        "text": None,
        "show_alert": False,
        "url": None,
        "cache_time": None,
    }
    error = await refusal(sandbox, "answerCallbackQuery", {"callback_query_id": query.id})
    assert error.description == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    inline = sandbox.inline_query(1002, "q").inline_query
    assert inline is not None
    results = [
        {"type": "article", "id": "1", "title": "t", "input_message_content": {"message_text": "m"}}
    ]
    duplicate = json.dumps(results * 2)
    error = await refusal(
        sandbox, "answerInlineQuery", {"inline_query_id": inline.id, "results": duplicate}
    )
    assert error.description == "Bad Request: RESULT_ID_DUPLICATE"
    await sandbox.call(
        "answerInlineQuery", {"inline_query_id": inline.id, "results": json.dumps(results)}
    )
    assert sandbox.inline_answer(inline.id) == results
    assert sandbox.inline_answer("unknown") is None


async def test_validation_matches_aiogram_models(sandbox: Sandbox) -> None:
    for params in (
        {"text": "no chat"},
        {"chat_id": "1001", "text": "x", "reply_parameters": "[1]"},
        {"chat_id": "1001", "text": "x", "entities": json.dumps([{"offset": 0}])},
    ):
        decoded = decode_params(SendMessage, params)
        with pytest.raises(ValueError, match="validation error"):
            SendMessage.model_validate(decoded)
        error = await refusal(sandbox, "sendMessage", params)
        assert error.error_code == 400
    entities_error = await refusal(
        sandbox,
        "sendMessage",
        {"chat_id": "1001", "text": "x", "entities": json.dumps([{"offset": 0}])},
    )
    assert entities_error.description == "Bad Request: can't parse entities JSON object"
    decoded = decode_params(EditMessageText, {"chat_id": "1001", "message_id": "5", "text": "7"})
    assert decoded == {"chat_id": 1001, "message_id": 5, "text": "7"}
    assert decode_params(SendMessage, {"chat_id": "@channel", "text": "true"}) == {
        "chat_id": "@channel",
        "text": "true",
    }


async def test_unknown_method_wrong_token_and_unemulated(sandbox: Sandbox) -> None:
    error = await refusal(sandbox, "sendTelepathy", {})
    assert (error.error_code, error.description) == (404, "Not Found")
    with pytest.raises(SandboxAPIError) as wrong:
        await sandbox.call("getMe", {}, token="123456:WRONG")
    assert (wrong.value.error_code, wrong.value.description) == (401, "Unauthorized")
    assert (await sandbox.call("getme", {}))["id"] == 123456
    error = await refusal(sandbox, "sendDice", {"chat_id": "1001"})
    assert error.error_code == 501
    assert await sandbox.call("close", {}) is True


async def test_faults_are_consumed_one_per_matching_call(sandbox: Sandbox) -> None:
    sandbox.add_fault("sendMessage", 429, retry_after=5, count=2)
    sandbox.add_fault("*", 502)
    for _ in range(2):
        error = await refusal(sandbox, "sendMessage", {"chat_id": "1001", "text": "x"})
        assert (error.error_code, error.retry_after) == (429, 5)
        assert error.description == "Too Many Requests: retry after 5"
        assert error.to_response()["parameters"] == {"retry_after": 5}
    error = await refusal(sandbox, "getMe", {})
    assert (error.error_code, error.description) == (502, "Bad Gateway")
    assert await sandbox.call("sendMessage", {"chat_id": "1001", "text": "x"})
    sandbox.add_fault("sendMessage", 500, count=5)
    sandbox.clear_faults()
    assert await sandbox.call("sendMessage", {"chat_id": "1001", "text": "x"})


async def test_flood_limits_per_chat_and_overall(sandbox: Sandbox) -> None:
    sandbox.flood_limits = True
    for _ in range(3):
        await sandbox.call("sendMessage", {"chat_id": "1001", "text": "x"})
    error = await refusal(sandbox, "sendMessage", {"chat_id": "1001", "text": "x"})
    assert (error.error_code, error.retry_after) == (429, 1)
    assert error.description == "Too Many Requests: retry after 1"
    for user_id in range(3000, 3060):
        sandbox.add_user(user_id, f"Reader {user_id}")
    refusals: list[int] = []
    for user_id in range(3000, 3060):
        try:
            await sandbox.call("sendMessage", {"chat_id": str(user_id), "text": "x"})
        except SandboxAPIError as flood:
            refusals.append(flood.error_code)
    # 60 new chats at once exceed the overall 30 messages per second.
    assert len(refusals) >= 20
    assert set(refusals) == {429}
    sandbox.flood_limits = False
    await sandbox.call("sendMessage", {"chat_id": "1001", "text": "x"})


async def test_user_actions(sandbox: Sandbox) -> None:
    with pytest.raises(UnknownUser):
        sandbox.send_text(5, "hi")
    sandbox.add_user(1001, "Li Na", username="li_na")
    assert [user.first_name for user in sandbox.users()] == ["Li Na", "Ann"]
    await sandbox.call(
        "sendMessage",
        {
            "chat_id": "1001",
            "text": "x",
            "reply_markup": keyboard(
                {"text": "Reserve", "callback_data": "r"}, {"text": "Open", "url": "https://x.org"}
            ),
        },
    )
    with pytest.raises(ButtonNotFound) as missing:
        sandbox.press(1001, text="Cancel")
    assert missing.value.labels == ["Reserve", "Open"]
    assert "Reserve" in str(missing.value)
    with pytest.raises(ButtonNotPressable):
        sandbox.press(1001, text="Open")
    with pytest.raises(ButtonNotFound):
        sandbox.press(1002, text="Reserve")
    forged = sandbox.forge_callback(1001, "r:someone-else")
    assert forged.callback_query is not None
    assert forged.callback_query.data == "r:someone-else"
    assert forged.callback_query.message is not None
    assert forged.callback_query.message.message_id == 1
    with pytest.raises(LookupError):
        sandbox.forge_callback(1002, "x")
    sandbox.block(1001)
    with pytest.raises(UserBlockedBot):
        sandbox.send_text(1001, "hi")


async def test_updates_queue_offsets_and_allowed_updates(sandbox: Sandbox) -> None:
    first = sandbox.send_text(1001, "one")
    second = sandbox.send_text(1001, "two")
    fetched = await sandbox.get_updates(None, 1, 0, None)
    assert [u.update_id for u in fetched] == [first.update_id]
    fetched = await sandbox.get_updates(first.update_id + 1, 100, 0, None)
    assert [u.update_id for u in fetched] == [second.update_id]
    sandbox.inline_query(1001, "x")
    fetched = await sandbox.get_updates(second.update_id + 1, 100, 0, ["message"])
    assert fetched == []
    third = sandbox.send_text(1001, "three")
    assert [u.update_id for u in await sandbox.get_updates(None, 100, 0, None)] == [third.update_id]


async def test_queue_updates_off_only_returns_the_update() -> None:
    sandbox = Sandbox(queue_updates=False)
    sandbox.add_user(1, "A")
    update = sandbox.send_text(1, "hi")
    assert update.message is not None
    assert update.message.text == "hi"
    assert sandbox.pending_updates == []
    assert [m.text for m in sandbox.messages(1)] == ["hi"]


async def test_upload_refusals_and_get_file(sandbox: Sandbox) -> None:
    error = await refusal(sandbox, "sendDocument", {"chat_id": "1001", "document": "nope"})
    assert error.description == "Bad Request: wrong file identifier/HTTP URL specified"
    with pytest.raises(SandboxAPIError) as empty:
        await sandbox.call(
            "sendDocument", {"chat_id": "1001"}, {"document": UploadedFile("a.txt", b"")}
        )
    assert empty.value.description == "Bad Request: file must be non-empty"
    sent = await sandbox.call(
        "sendDocument", {"chat_id": "1001"}, {"document": UploadedFile("list.csv", b"a,b")}
    )
    assert sent["document"]["file_name"] == "list.csv"
    error = await refusal(sandbox, "getFile", {"file_id": "missing"})
    assert error.description == "Bad Request: invalid file_id"
    file = await sandbox.call("getFile", {"file_id": sent["document"]["file_id"]})
    stored = sandbox.file_by_path(file["file_path"])
    assert stored is not None
    assert stored.content == b"a,b"


async def test_long_poll_wakes_on_new_update(sandbox: Sandbox) -> None:
    poll = asyncio.create_task(sandbox.get_updates(None, 100, 5, None))
    await asyncio.sleep(0.05)
    assert not poll.done()
    sandbox.send_text(1002, "wake up")
    updates = await asyncio.wait_for(poll, 1)
    assert updates[0].message is not None
    assert updates[0].message.text == "wake up"


async def test_request_log_records_outcomes(sandbox: Sandbox) -> None:
    await sandbox.call("sendMessage", {"chat_id": "1001", "text": "x"})
    with pytest.raises(SandboxAPIError):
        await sandbox.call("sendMessage", {"chat_id": "1", "text": "x"})
    first, second = sandbox.requests
    assert (first.method, first.ok, first.params) == (
        "sendMessage",
        True,
        {"chat_id": 1001, "text": "x"},
    )
    assert (second.outcome, second.error_code) == ("error", 400)
    assert second.timestamp >= first.timestamp
