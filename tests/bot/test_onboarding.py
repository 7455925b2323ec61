"""A new reader's first conversation, through the real dispatcher, in English and Chinese."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import District, Reader
from bot.services.readers import is_valid_card_number
from tests.conftest import HarnessFactory
from tests.factories import make_district
from tests.harness import BotHarness, inline_labels, texts

APOLOGY_EN = "Sorry, something went wrong"
APOLOGY_ZH = "抱歉，我们这边出了点问题"


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return buffer.getvalue()


async def _districts(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> list[District]:
    async with sessionmaker() as session:
        made = [
            await make_district(session, code=f"Z{n:02d}", name=f"测试{n}区", name_en=f"Test {n}")
            for n in range(count)
        ]
        await session.commit()
        return made


async def _reader(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int) -> Reader:
    async with sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
        assert reader is not None
        return reader


async def test_english_onboarding_with_location(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    districts = await _districts(sessionmaker, 10)
    user = harness.user(101, "Alice", language_code="en-GB")

    [welcome] = await user.send("/start")
    assert "Welcome to Bookbridge, Alice!" in (welcome.text or "")
    assert inline_labels(welcome) == ["中文", "English"]

    assert await user.tap("English") == []
    question = user.last_bot_message()
    assert question.message_id == welcome.message_id  # edited in place
    assert "Which district do you live in?" in (question.text or "")
    labels = inline_labels(question)
    assert labels[:2] == ["Test 0", "Test 1"]
    assert "1/2" in labels and "▶️" in labels and "Skip" in labels

    await user.tap("▶️")
    page_two = inline_labels(user.last_bot_message())
    assert page_two[:2] == ["Test 8", "Test 9"] and "◀️" in page_two

    [location_question] = await user.tap("Test 9")
    edited = harness.sandbox.message(101, welcome.message_id)
    assert edited.text == "Home district: Test 9" and edited.reply_markup is None
    assert "share your location" in (location_question.text or "")
    assert user.reply_keyboard() == ["📍 Share my location", "Skip"]

    replies = await user.share_location(37.512345, 121.456789)
    assert texts(replies) == [
        "Thanks! I saved your location, rounded to about 100 m.",
        texts(replies)[1],
    ]
    assert texts(replies)[1].startswith("You're all set!")
    assert user.reply_keyboard() == ["🔍 Search", "📚 My holds", "🎉 Events", "⚙️ Settings"]

    reader = await _reader(sessionmaker, 101)
    assert reader.language == "en"
    assert reader.district_id == districts[9].id
    assert (reader.latitude, reader.longitude) == (37.512, 121.457)
    assert reader.onboarded_at is not None
    assert reader.first_name == "Alice"
    assert is_valid_card_number(reader.card_number)


async def test_chinese_onboarding_skipping_location(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    districts = await _districts(sessionmaker, 3)
    user = harness.user(102, "李", language_code="zh-hans")

    [welcome] = await user.send("/start")
    assert "欢迎使用书桥，李！" in (welcome.text or "")
    await user.tap("中文")
    assert user.last_answer is not None and user.last_answer["text"] == "语言：中文"
    assert "您住在哪个区？" in (user.last_bot_message().text or "")
    assert "跳过" in inline_labels(user.last_bot_message())

    [location_question] = await user.tap("测试1区")
    assert "要分享您的位置吗？" in (location_question.text or "")
    assert user.reply_keyboard() == ["📍 分享我的位置", "跳过"]

    # /help mid-way: the help, then the open question with its keyboard again.
    help_text, prompt = await user.send("/help")
    assert "/mydata" in (help_text.text or "")
    assert "📍 分享我的位置" in (prompt.text or "")
    assert user.reply_keyboard() == ["📍 分享我的位置", "跳过"]
    assert (await _reader(sessionmaker, 102)).onboarded_at is None

    [done] = await user.send("跳过")
    assert (done.text or "").startswith("设置完成！")
    assert user.reply_keyboard() == ["🔍 检索", "📚 我的预约", "🎉 活动", "⚙️ 设置"]

    reader = await _reader(sessionmaker, 102)
    assert reader.language == "zh"
    assert reader.district_id == districts[1].id
    assert reader.latitude is None and reader.longitude is None
    assert reader.onboarded_at is not None


async def test_telegram_language_picks_the_greeting(harness: BotHarness) -> None:
    for user_id, code, expected in [
        (111, "zh-CN", "欢迎使用书桥"),
        (112, "zh-TW", "欢迎使用书桥"),
        (113, "en", "Welcome to Bookbridge"),
        (114, "fr", "欢迎使用书桥"),  # unknown language: the alliance default (zh)
        (115, None, "欢迎使用书桥"),
    ]:
        [welcome] = await harness.user(user_id, "U", language_code=code).send("/start")
        assert expected in (welcome.text or ""), (code, welcome.text)


async def test_no_districts_goes_straight_to_location(harness: BotHarness) -> None:
    user = harness.user(120, "Solo")
    await user.send("/start")
    [question] = await user.tap("English")
    assert "share your location" in (question.text or "")


async def test_bad_input_before_and_after_onboarding(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _districts(sessionmaker, 2)
    user = harness.user(130, "Bo", language_code="en")

    # Random text before /start: we start onboarding instead.
    [old_greeting] = await user.send("hello???")
    assert "Let's get you set up first" in (old_greeting.text or "")
    assert inline_labels(old_greeting) == ["中文", "English"]

    # Text while a button choice is pending: the question comes back with its buttons.
    [reply] = await user.send("I live downtown")
    assert "Please choose a language with the buttons below." in (reply.text or "")

    await user.tap("English")
    [reply] = await user.send("Test 0")
    assert "Please choose your district" in (reply.text or "")

    # Forged callbacks: unknown language, district that does not exist, garbage.
    await user.forge("lang:xx:o")
    assert user.last_answer is not None
    assert user.last_answer["text"] == "This button is no longer active."
    await user.forge("dist:pick:999999:o")
    assert user.last_answer is not None
    assert user.last_answer["text"] == "That district is not in our list any more."
    await user.forge("dist:explode:1:o")
    assert user.last_answer is not None and "no longer active" in user.last_answer["text"]
    await user.forge("\u0000garbage")
    assert user.last_answer is not None and "no longer active" in user.last_answer["text"]

    await user.tap("Test 1")
    [reply] = await user.send("what now?")
    assert "Please tap “📍 Share my location”" in (reply.text or "")
    await user.send("Skip")

    # After onboarding: unknown commands, long text, a sticker-like message, old buttons.
    [reply] = await user.send("/frobnicate now")
    assert (reply.text or "") == (
        "I don't know the command /frobnicate. Send /help to see what I can do."
    )
    # Plain text is a catalogue search; a 5,000-character message reaches the bot as
    # Telegram clients send it: 4,096 + 904 characters, each cut to a sane query.
    await harness.app.indexer.rebuild()
    for length in (4096, 904):
        replies = await user.send("x" * length)
        assert any(f"too long ({length} characters)" in (r.text or "") for r in replies)
    [reply] = await user.send_photo(_png())
    assert "couldn't find a barcode" in (reply.text or "")
    [reply] = await user.share_location(37.5, 121.4)
    assert "saved your location" in (reply.text or "")

    # A button on the first greeting, long after onboarding: it only changes the language.
    await user.tap("中文", message_id=old_greeting.message_id)
    assert harness.sandbox.message(130, old_greeting.message_id).text == "语言已保存。"

    everything = " ".join(texts(user.chat()))
    assert APOLOGY_EN not in everything and APOLOGY_ZH not in everything
    reader = await _reader(sessionmaker, 130)
    assert reader.onboarded_at is not None
    assert reader.district_id is not None
    assert reader.language == "zh"


async def test_deep_link_waits_for_onboarding(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    opened: list[str] = []

    async def open_target(message: object, argument: str, data: dict[str, object]) -> None:
        opened.append(argument)

    # A prefix no feature uses, so the test owns what the link opens.
    harness.app.deep_links.register("tst", open_target)
    user = harness.user(140, "Eve")
    await user.send("/start tst_42")
    assert opened == []
    await user.tap("English")
    await user.send("Skip")
    assert opened == ["42"]

    [reply] = await user.send("/start nonsense_link_!")
    assert "That link is not valid or has expired" in (reply.text or "")
    await user.send("/start tst_7")
    assert opened == ["42", "7"]


async def test_throttling_sends_one_polite_notice(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(throttle_burst=8, throttle_rate=0.5)
    user = harness.user(150, "Fast")
    other = harness.user(151, "Patient")
    await user.send("/start")
    replies = []
    for n in range(20):
        replies += await user.send(f"message {n}")
    notices = [t for t in texts(replies) if "sending messages very fast" in t]
    assert len(notices) == 1
    assert len(replies) < 20
    # Somebody else is still served while the first user floods.
    [welcome] = await other.send("/start")
    assert "Welcome to Bookbridge" in (welcome.text or "")


async def test_handler_error_becomes_a_translated_apology(
    harness: BotHarness, monkeypatch: object, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    import pytest

    from bot.services import readers

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database on fire")

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(readers, "district_page", broken)
    user = harness.user(160, "Zhang", language_code="zh")
    await user.send("/start")
    [apology] = await user.tap("中文")
    assert (apology.text or "").startswith(APOLOGY_ZH)
    assert "Traceback" not in " ".join(texts(user.chat()))


async def test_a_location_far_from_every_library_gets_a_word(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.factories import make_library

    async with sessionmaker() as session:
        await make_library(session, latitude=36.07, longitude=120.38)
        await session.commit()
    user = harness.user(141, "Fei")
    await user.onboard()
    [far] = await user.share_location(31.23, 121.47)  # about 560 km away
    assert (far.text or "").startswith("Thanks! I saved your location, rounded to about 100 m.")
    assert "The nearest library of the alliance is 5" in (far.text or "")
    assert "km away. If you are travelling" in (far.text or "")
    [near] = await user.share_location(36.08, 120.39)
    assert near.text == "Thanks! I saved your location, rounded to about 100 m."
    reader = await _reader(sessionmaker, 141)
    assert (reader.latitude, reader.longitude) == (36.08, 120.39)
