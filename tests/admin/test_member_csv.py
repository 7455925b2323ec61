"""District and library CSV uploads: a preview first, line-numbered refusals, all or nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import AuditLog, District, Library
from tests.admin.conftest import Staff, table_counts
from tests.harness import BotHarness, ChatUser, inline_labels

GOOD_DISTRICTS = (
    "code,name,population,lat,lon,name_en\n"
    "CORE,中心区,150000,37.5,121.4,Core\n"
    "EAST,东区,80000,37.6,121.6,East\n"
    "WEST,西区,60000,37.4,121.2,West\n"
)


async def _open_upload(admin: ChatUser, section: str) -> None:
    await admin.send("/admin")
    await admin.tap(section)
    [prompt] = await admin.tap("📄 Upload CSV")
    assert "I will show what would change before anything is stored." in (prompt.text or "")


async def test_preview_then_import_districts(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = staff.admin
    await _open_upload(admin, "🗺 Districts")
    [preview] = await admin.send_document("districts.csv", GOOD_DISTRICTS.encode())
    assert preview.text == (
        "This file would create 2, update 1 and leave 0 unchanged.\n"
        "New: EAST, WEST\n"
        "CORE: changes population\n"
        "Import it?"
    )
    assert inline_labels(preview) == ["✅ Import", "✖️ Cancel"]
    async with sessionmaker() as session:
        codes = list(await session.scalars(select(District.code).order_by(District.code)))
        population = await session.scalar(
            select(District.population).where(District.code == "CORE")
        )
    assert codes == ["CORE"] and population == 100_000  # the preview stored nothing
    await admin.tap("✅ Import")
    assert admin.last_bot_message().text == "✅ Imported: 2 created, 1 updated, 0 unchanged."
    async with sessionmaker() as session:
        rows = await session.execute(
            select(District.code, District.population).order_by(District.code)
        )
        audit = list(await session.execute(select(AuditLog.action, AuditLog.details)))
    assert rows.all() == [("CORE", 150_000), ("EAST", 80_000), ("WEST", 60_000)]
    assert [(action, details) for action, details in audit] == [
        ("district.import", {"created": 2, "updated": 1, "unchanged": 0})
    ]


async def test_bad_district_file_names_every_line_and_stores_nothing(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = staff.admin
    await _open_upload(admin, "🗺 Districts")
    before = await table_counts(sessionmaker)
    bad = (
        "code,name,population,lat,lon\n"
        "NEW1,新一区,1000,37.1,121.1\n"
        "bad code,坏区,1000,37,121\n"
        "NEW2,新二区,-5,37,121\n"
        "NEW3,新三区,100,95,121\n"
        "NEW1,重复,1,1,1\n"
        "NEW4,,abc,1,1\n"
    )
    [reply] = await admin.send_document("districts.csv", bad.encode())
    assert reply.text == "\n".join(
        [
            "I can't import this file: 6 problem(s). Nothing was stored.",
            "Line 3: code “bad code” may only use letters, digits, “_”, “.” and “-”",
            "Line 4: population -5 is negative",
            "Line 5: lat 95 is outside -90..90",
            "Line 6: code “NEW1” already appears on line 2",
            "Line 7: no value in column name",
            "Line 7: population “abc” is not a number",
            "Fix the file and send it again, or /cancel.",
        ]
    )
    assert await table_counts(sessionmaker) == before
    [reply] = await admin.send_document(
        "districts.csv", "名字,人口\n".encode("gb18030") + b"\xb1\xb1"
    )
    assert reply.text == "The file is not UTF-8 text: save it as “CSV UTF-8” and send it again."
    [reply] = await admin.send_document("districts.csv", b"code,name\nA,B\n")
    assert reply.text == "\n".join(
        [
            "I can't import this file: 1 problem(s). Nothing was stored.",
            "Line 1: missing column(s) population, lat, lon; required: code, name, population, "
            "lat, lon",
            "Fix the file and send it again, or /cancel.",
        ]
    )
    [reply] = await admin.send("just text")
    assert reply.text == "Please send the CSV as a file (a document), or /cancel."
    assert await table_counts(sessionmaker) == before
    # After the refusals the right file still goes through.
    await admin.send_document("districts.csv", GOOD_DISTRICTS.encode())
    await admin.tap("✅ Import")
    assert (await table_counts(sessionmaker))["districts"] == 3


async def test_library_file_with_unknown_district_and_bad_hours(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = staff.admin
    await _open_upload(admin, "🏛 Libraries")
    before = await table_counts(sessionmaker)
    bad = (
        "code,name,kind,district_code,address,lat,lon,opening_hours,is_pickup_point\n"
        "NEWLIB,新馆,public,CORE,1 Road,37.5,121.4,Mo-Su 09:00-21:00,yes\n"
        "NOPE,无区馆,public,MARS,2 Road,37.5,121.4,,yes\n"
        "ODD,怪馆,museum,CORE,3 Road,37.5,121.4,Mo 25:00-26:00,maybe\n"
    )
    [reply] = await admin.send_document("libraries.csv", bad.encode())
    lines = (reply.text or "").split("\n")
    assert lines[0] == "I can't import this file: 4 problem(s). Nothing was stored."
    assert lines[1] == "Line 3: district_code “MARS” is not a known district; known: CORE"
    assert lines[2] == "Line 4: kind “museum” is not one of university, public, school, partner"
    assert lines[3].startswith("Line 4: opening_hours “Mo 25:00-26:00” cannot be read (")
    assert lines[4] == "Line 4: is_pickup_point “maybe” is not yes or no"
    assert await table_counts(sessionmaker) == before
    good = (
        "code,name,kind,district_code,address,lat,lon,opening_hours,is_pickup_point\n"
        "NEWLIB,新馆,school,CORE,1 Road,37.5,121.4,Mo-Su 09:00-21:00,no\n"
    )
    [preview] = await admin.send_document("libraries.csv", good.encode())
    assert preview.text == (
        "This file would create 1, update 0 and leave 0 unchanged.\nNew: NEWLIB\nImport it?"
    )
    await admin.tap("✖️ Cancel")
    assert await table_counts(sessionmaker) == before
    await _open_upload(admin, "🏛 Libraries")
    await admin.send_document("libraries.csv", good.encode())
    await admin.tap("✅ Import")
    async with sessionmaker() as session:
        library = await session.scalar(select(Library).where(Library.code == "NEWLIB"))
    assert library is not None and library.is_pickup_point is False


ENGLISH_ADDRESSES = (
    "code,name,name_en,kind,district_code,address,address_en,lat,lon,opening_hours\n"
    "HOME,中心图书馆,Home Library,public,CORE,港口区海滨路88号,88 Haibin Road,37.5,121.4,"
    '"Tu-Su 09:00-21:00; Mo off"\n'
)


async def test_english_addresses_reach_english_readers(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession], harness: BotHarness
) -> None:
    """Issue 16, defect 8: an address only in Chinese in the English interface."""
    admin = staff.admin
    await _open_upload(admin, "🏛 Libraries")
    [preview] = await admin.send_document("libraries.csv", ENGLISH_ADDRESSES.encode())
    assert "HOME: changes address, address_en, opening_hours" in (preview.text or "")
    await admin.tap("✅ Import")
    async with sessionmaker() as session:
        library = await session.scalar(select(Library).where(Library.code == "HOME"))
    assert library is not None
    assert (library.address, library.address_en) == ("港口区海滨路88号", "88 Haibin Road")

    [card] = await staff.reader.send("/start lib_HOME")
    assert "88 Haibin Road" in (card.text or "")
    assert "海滨路" not in (card.text or "")
    chinese = harness.user(404, "陈", language_code="zh")
    await chinese.onboard("zh")
    [card] = await chinese.send("/start lib_HOME")
    assert "港口区海滨路88号" in (card.text or "")
    assert "周二至周日 09:00-21:00；周一 休息" in (card.text or "")


async def test_a_downloaded_file_uploads_back_unchanged(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession], harness: BotHarness
) -> None:
    admin = staff.admin
    await _open_upload(admin, "🏛 Libraries")
    await admin.send_document("libraries.csv", ENGLISH_ADDRESSES.encode())
    await admin.tap("✅ Import")
    for section, name in (("🏛 Libraries", "libraries.csv"), ("🗺 Districts", "districts.csv")):
        await admin.send("/admin")
        await admin.tap(section)
        [document] = await admin.tap("📤 Download CSV")
        assert document.document is not None and document.document.file_name == name
        stored = harness.sandbox.file(document.document.file_id)
        assert stored is not None
        content = stored.content
        if name == "libraries.csv":
            assert "88 Haibin Road" in content.decode()
        await _open_upload(admin, section)
        [preview] = await admin.send_document(name, content)
        assert (preview.text or "").startswith(
            "This file would create 0, update 0 and leave 1 unchanged."
        ), name
        await admin.tap("✖️ Cancel")


async def test_an_upload_whose_answers_are_gone_says_the_form_expired(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession], harness: BotHarness
) -> None:
    from handlers.members_admin.csv_files import MemberCsv

    admin = staff.admin
    before = await table_counts(sessionmaker)
    context = harness.app.dispatcher.fsm.get_context(
        harness.bot, chat_id=admin.user_id, user_id=admin.user_id
    )
    expired = "This form has expired. Please start again with /admin."
    await context.set_state(MemberCsv.document)
    [reply] = await admin.send_document("districts.csv", GOOD_DISTRICTS.encode())
    assert reply.text == expired
    assert await context.get_state() is None
    await context.set_state(MemberCsv.confirm)
    await admin.forge("amb:import:d::0")
    assert admin.last_answer is not None and admin.last_answer["text"] == expired
    assert await table_counts(sessionmaker) == before
