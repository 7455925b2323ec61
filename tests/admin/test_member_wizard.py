"""Adding and editing districts and libraries with the wizard: every bad value is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import create_i18n
from bot.models import AuditLog, District, Library, LibraryKind
from bot.services import member_admin
from bot.services.member_admin import MemberInputError
from handlers.members_admin.words import input_refusal
from tests.admin.conftest import Staff, table_counts
from tests.harness import inline_labels, texts

# Every question of the wizard ends by saying how to leave it.
LEAVE = "\n/cancel leaves this form."


async def _audit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> list[tuple[str, dict[str, object]]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(AuditLog.action, AuditLog.details).order_by(AuditLog.id)
        )
        return [(action, dict(details)) for action, details in rows.all()]


async def test_add_a_district_refusing_bad_values(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = staff.admin
    await admin.send("/admin")
    await admin.tap("🗺 Districts")
    [prompt] = await admin.tap("➕ Add")
    assert prompt.text is not None and prompt.text.startswith("Send the code of the new district")
    answers = {
        "bad code!": "A code uses only letters, digits, “_”, “.” and “-”, and starts with a "
        "letter or digit, e.g. HD-01.",
        "X" * 33: "A code has at most 32 characters.",
        "core": "The code CORE is taken already: choose another one.",
        "NORTH": "Send the name (in Chinese, as readers know it)." + LEAVE,
        "北区": "Send the English name, or tap Skip." + LEAVE,
    }
    for text, expected in answers.items():
        [reply] = await admin.send(text)
        assert reply.text == expected, text
    [reply] = await admin.tap("Skip")
    assert reply.text == "Send the number of inhabitants, e.g. 350000." + LEAVE
    for text, expected in {
        "many": "The population is a whole number, e.g. 350000.",
        "-10": "The population cannot be negative.",
        "1.5": "The population is a whole number, e.g. 350000.",
        "99999999999999999999": "That is more people than any district has: at most 2,000,000,000.",
    }.items():
        [reply] = await admin.send(text)
        assert reply.text == expected, text
    [reply] = await admin.send("250,000")
    assert (reply.text or "").startswith("Send the coordinates")
    for text, expected in {
        "north": "Send the coordinates as “latitude, longitude” in decimal degrees, "
        "e.g. 39.9042, 116.4074.",
        "91, 116": "The latitude 91 is outside -90..90.",
        "39.9, 181": "The longitude 181 is outside -180..180.",
    }.items():
        [reply] = await admin.send(text)
        assert reply.text == expected, text
    async with sessionmaker() as session:
        assert await session.scalar(select(District).where(District.code == "NORTH")) is None
    [summary] = await admin.send("39.95, 116.38")
    assert summary.text == (
        "Add this?\nCode: NORTH\nName: 北区\nEnglish name: —\nPopulation: 250000\n"
        "Coordinates: 39.95, 116.38"
    )
    await admin.tap("✅ Save")
    assert admin.chat()[-2].text == "✅ Added NORTH."
    assert "NORTH 北区 — population 250,000" in (admin.last_bot_message().text or "")
    async with sessionmaker() as session:
        district = await session.scalar(select(District).where(District.code == "NORTH"))
    assert district is not None
    assert (district.name, district.name_en, district.population) == ("北区", None, 250_000)
    assert (district.latitude, district.longitude) == (39.95, 116.38)
    assert await _audit(sessionmaker) == [("district.create", {"code": "NORTH"})]


async def test_cancel_stores_nothing(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    before = await table_counts(sessionmaker)
    admin = staff.admin
    await admin.send("/admin")
    await admin.tap("🗺 Districts")
    await admin.tap("➕ Add")
    await admin.send("WEST")
    await admin.send("西区")
    await admin.tap("✖️ Cancel")
    assert admin.last_bot_message().text == "Cancelled. Nothing was changed."
    # Text after the cancel is an ordinary search again, not a wizard answer.
    await admin.send("12000")
    # Buttons of the ended wizard, or of something that does not exist, change nothing.
    await admin.forge("amb:save:d::0")
    assert admin.last_answer is not None and admin.last_answer["text"] == "That question is over."
    await admin.forge("amb:edit:l:NOPE:0")
    assert admin.last_answer is not None and admin.last_answer["text"] == "It no longer exists."
    assert await table_counts(sessionmaker) == before


async def test_add_and_edit_a_library(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = staff.admin
    await admin.send("/admin")
    await admin.tap("🏛 Libraries")
    await admin.tap("➕ Add")
    await admin.send("HOME")
    assert admin.last_bot_message().text == "The code HOME is taken already: choose another one."
    await admin.send("UNI-1")
    await admin.send("大学图书馆")
    await admin.send("University Library")
    [kind_prompt] = await admin.send("museum")
    assert kind_prompt.text == (
        "Choose the kind with the buttons: university, public, school or partner."
    )
    [district_prompt] = await admin.tap("university")
    assert "CORE" in inline_labels(district_prompt)
    [reply] = await admin.send("NOWHERE")
    assert reply.text == "There is no district with the code NOWHERE."
    [address_prompt] = await admin.send("core")
    assert address_prompt.text == "Send the street address, or tap Skip." + LEAVE
    [english_prompt] = await admin.send("学院路1号")
    assert english_prompt.text == "Send the street address in English, or tap Skip." + LEAVE
    await admin.send("1 College Road")
    await admin.send("39.99, 116.31")
    [reply] = await admin.send("Mo-Fr 9-17")
    assert (reply.text or "").startswith("I can't read these opening hours (")
    [reply] = await admin.send("Mo-Fr 18:00-09:00")
    assert "closes before it opens" in (reply.text or "")
    [pickup] = await admin.send("Mo-Fr 08:00-22:00; Sa 09:00-17:00")
    assert pickup.text == "Can readers pick up reserved books there?" + LEAVE
    [summary] = await admin.tap("No")
    assert "Kind: university" in (summary.text or "")
    assert "Pickup point: no" in (summary.text or "")
    await admin.tap("✅ Save")
    async with sessionmaker() as session:
        library = await session.scalar(select(Library).where(Library.code == "UNI-1"))
        assert library is not None
        core_id = await session.scalar(select(District.id).where(District.code == "CORE"))
    assert library.kind is LibraryKind.UNIVERSITY
    assert library.district_id == core_id
    assert library.opening_hours == "Mo-Fr 08:00-22:00; Sa 09:00-17:00"
    assert library.is_pickup_point is False
    assert (library.address, library.address_en, library.name_en) == (
        "学院路1号",
        "1 College Road",
        "University Library",
    )

    # Edit: keep everything but the name and the pickup flag.
    [intro, first] = await admin.tap("✏️ UNI-1")
    assert intro.text == "Editing UNI-1. Send a new value for each step, or tap Keep."
    assert first.text == "Send the name (in Chinese, as readers know it).\nNow: 大学图书馆" + LEAVE
    await admin.send("大学总馆")
    for _step in (
        "name_en",
        "kind",
        "district",
        "address",
        "address_en",
        "coordinates",
        "opening_hours",
    ):
        await admin.tap("Keep")
    [summary] = await admin.tap("Yes")
    assert summary.text is not None and summary.text.startswith("Save these changes?")
    await admin.tap("✅ Save")
    assert admin.chat()[-2].text == "✅ Saved UNI-1."
    async with sessionmaker() as session:
        library = await session.scalar(select(Library).where(Library.code == "UNI-1"))
    assert library is not None
    assert (library.name, library.is_pickup_point, library.kind) == (
        "大学总馆",
        True,
        LibraryKind.UNIVERSITY,
    )
    assert library.opening_hours == "Mo-Fr 08:00-22:00; Sa 09:00-17:00"

    # Edit again: the optional English name and opening hours can be cleared.
    await admin.tap("✏️ UNI-1")
    [name_en] = await admin.tap("Keep")
    assert (name_en.text or "").startswith("Send the English name, or tap Clear to remove it.")
    assert "Skip" not in (name_en.text or "")
    assert inline_labels(name_en) == ["Keep", "🗑 Clear", "✖️ Cancel"]
    await admin.tap("🗑 Clear")
    for _step in ("kind", "district", "address", "address_en", "coordinates"):
        await admin.tap("Keep")
    [hours] = admin.chat()[-1:]
    assert "tap Clear if they are no longer published" in (hours.text or "")
    await admin.tap("🗑 Clear")
    await admin.tap("Yes")
    await admin.tap("✅ Save")
    async with sessionmaker() as session:
        library = await session.scalar(select(Library).where(Library.code == "UNI-1"))
    assert library is not None
    assert (library.name_en, library.opening_hours, library.address_en) == (
        None,
        "",
        "1 College Road",
    )
    audit = await _audit(sessionmaker)
    assert audit == [
        ("library.create", {"code": "UNI-1"}),
        ("library.update", {"code": "UNI-1", "fields": ["is_pickup_point", "name"]}),
        ("library.update", {"code": "UNI-1", "fields": ["name_en", "opening_hours"]}),
    ]


async def test_edit_a_district_by_its_button(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = staff.admin
    await admin.send("/admin")
    await admin.tap("🗺 Districts")
    await admin.tap("✏️ CORE")
    await admin.tap("Keep")
    await admin.send("-")
    [reply] = await admin.send("-3")
    assert reply.text == "The population cannot be negative."
    await admin.send("123456")
    [summary] = await admin.tap("Keep")
    assert "Population: 123456" in (summary.text or "")
    assert "English name: —" in (summary.text or "")
    await admin.tap("✅ Save")
    async with sessionmaker() as session:
        district = await session.scalar(select(District).where(District.code == "CORE"))
    assert district is not None
    assert (district.name, district.name_en, district.population) == ("中心区", None, 123456)
    assert texts([admin.chat()[-2]]) == ["✅ Saved CORE."]


@pytest.mark.parametrize(
    ("hours", "english", "chinese"),
    [
        ("周一至周五 9:00-17:00", "first the days, then the hours", "应先写星期，再写时间"),
        ("Mo-Fr 18:00-09:00", "18:00-09:00 closes before it opens", "关门时间早于开门时间"),
        ("Mo-Xx 09:00-17:00", "“Mo-Xx” is not a day", "“Mo-Xx”不是星期几"),
        ("Mo-Fr 25:00-26:00", "25:00 is not a time of day", "25:00 不是有效的时刻"),
    ],
)
def test_opening_hours_refusals_speak_the_admins_language(
    hours: str, english: str, chinese: str
) -> None:
    i18n = create_i18n("en")
    with pytest.raises(MemberInputError) as refused:
        member_admin.check_opening_hours(hours)
    with i18n.context(), i18n.use_locale("en"):
        assert english in input_refusal(refused.value)
    with i18n.context(), i18n.use_locale("zh"):
        text = input_refusal(refused.value)
    assert chinese in text
    assert "expected" not in text and "closes before" not in text


@pytest.mark.parametrize(
    ("hours", "chinese", "english"),
    [
        (
            "Tu-Su 09:00-21:00; Mo 14:00-21:00",
            "周二至周日 09:00-21:00；周一 14:00-21:00",
            "Tue–Sun 09:00–21:00; Mon 14:00–21:00",
        ),
        (
            "Mo-Fr 08:00-21:30; Sa 09:00-17:00; Su off",
            "周一至周五 08:00-21:30；周六 09:00-17:00；周日 休息",
            "Mon–Fri 08:00–21:30; Sat 09:00–17:00; Sun closed",
        ),
        (
            "Mo,We 09:00-12:00,14:00-18:00",
            "周一、周三 09:00-12:00、14:00-18:00",
            "Mon, Wed 09:00–12:00, 14:00–18:00",
        ),
        ("24/7", "每天 24 小时", "open 24 hours"),
        (
            "not published in the format",
            "not published in the format",
            "not published in the format",
        ),
    ],
)
def test_opening_hours_read_in_the_readers_day_names(
    hours: str, chinese: str, english: str
) -> None:
    from bot.services.members import describe_opening_hours

    assert describe_opening_hours(hours, "zh") == chinese
    assert describe_opening_hours(hours, "en") == english
