"""Member data import (districts, libraries) and opening hours."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Library, LibraryKind
from bot.services.members import (
    OpeningHoursError,
    export_districts,
    export_libraries,
    import_districts,
    import_libraries,
    is_open_on,
    parse_opening_hours,
)
from tests.factories import make_district

DISTRICTS = """code,name,name_en,population,lat,lon
GANGKOU,港口区,Gangkou District,612000,37.556,121.392
TAOYUAN,桃源县,Taoyuan County,187000,37.462,121.238
"""

LIBRARIES = (
    "code,name,name_en,kind,district_code,address,lat,lon,opening_hours,is_pickup_point\n"
    "HBPL,海滨市图书馆,Haibin Public Library,public,GANGKOU,港口区海滨路88号,"
    '37.5545,121.3938,"Tu-Su 09:00-21:00; Mo 14:00-21:00",yes\n'
    "HBU,海滨大学图书馆,Haibin University Library,university,GANGKOU,学府路1号,"
    "37.503,121.421,Mo-Su 07:30-22:00,yes\n"
    "HBNO1,第一中学图书馆,No. 1 Middle School Library,school,TAOYUAN,育才路15号,"
    "37.46,121.24,Mo-Fr 07:30-17:30,no\n"
    "SEABREEZE,海风书店,Sea Breeze Bookstore,partner,GANGKOU,老街46号,37.5575,121.39,,yes\n"
)

DISTRICT_HEADER = "code,name,population,lat,lon\n"
LIBRARY_HEADER = "code,name,kind,district_code,address,lat,lon,opening_hours\n"


async def districts_by_code(session: AsyncSession) -> dict[str, District]:
    query = select(District).execution_options(populate_existing=True)
    return {district.code: district for district in await session.scalars(query)}


async def libraries_by_code(session: AsyncSession) -> dict[str, Library]:
    query = select(Library).execution_options(populate_existing=True)
    return {library.code: library for library in await session.scalars(query)}


# --- districts ---------------------------------------------------------------------------


async def test_good_district_file_creates_every_row(session: AsyncSession) -> None:
    report = await import_districts(session, DISTRICTS)

    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert report.describe() == "districts: 2 created, 0 updated, 0 unchanged"
    districts = await districts_by_code(session)
    gangkou = districts["GANGKOU"]
    assert (gangkou.name, gangkou.name_en, gangkou.population) == (
        "港口区",
        "Gangkou District",
        612000,
    )
    assert (gangkou.latitude, gangkou.longitude) == (37.556, 121.392)


async def test_reimporting_the_same_file_changes_nothing(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)

    report = await import_districts(session, DISTRICTS)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert len(await districts_by_code(session)) == 2


async def test_reimport_updates_changed_rows_and_adds_new_ones(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)
    changed = DISTRICTS.replace("612000", "615500") + "YUWAN,渔湾区,Yuwan,86000,37.588,121.532\n"

    report = await import_districts(session, changed)

    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    districts = await districts_by_code(session)
    assert districts["GANGKOU"].population == 615500
    assert districts["YUWAN"].name_en == "Yuwan"


async def test_an_absent_optional_column_leaves_the_field_alone(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)
    without_english = DISTRICT_HEADER + "GANGKOU,港口区,612000,37.556,121.392\n"

    report = await import_districts(session, without_english)

    assert (report.updated, report.unchanged) == (0, 1)
    assert (await districts_by_code(session))["GANGKOU"].name_en == "Gangkou District"


async def test_bom_crlf_blank_lines_and_spaces_are_tolerated(session: AsyncSession) -> None:
    text = "\ufeffCode , Name,Population,LAT,lon\r\n\r\n A1 , 一区 , 1000 , 37.5 , 121.4 \r\n"

    report = await import_districts(session, text)

    assert report.ok, report.errors
    district = (await districts_by_code(session))["A1"]
    assert (district.name, district.population, district.latitude) == ("一区", 1000, 37.5)


async def test_line_numbers_count_crlf_blank_and_multiline_rows(session: AsyncSession) -> None:
    text = (
        "code,name,population,lat,lon\r\n"
        "\r\n"
        'A1,"两行\r\n的名字",1000,37.5,121.4\r\n'
        "A2,二区,-5,37.5,121.4\r\n"
    )

    report = await import_districts(session, text)

    assert report.errors == [(5, "population -5 is negative")]


BAD_DISTRICT_ROWS = [
    ("A1,,1000,37.5,121.4", "missing_value", "no value in column name"),
    ("A1,一区,1000,37.5", "missing_value", "no value in column lon"),
    ("A1,一区,1000,37.5,121.4,extra", "extra_values", "6 values but the header names 5 columns"),
    ("A1,一区,lots,37.5,121.4", "bad_number", "population 'lots' is not a whole number"),
    ("A1,一区,12.5,37.5,121.4", "bad_number", "population '12.5' is not a whole number"),
    ("A1,一区,1000,north,121.4", "bad_number", "lat 'north' is not a number"),
    ("A1,一区,1000,nan,121.4", "bad_number", "lat 'nan' is not a number"),
    ("A1,一区,-1,37.5,121.4", "negative_population", "population -1 is negative"),
    ("A1,一区,1000,95,121.4", "latitude_out_of_range", "lat 95 is outside -90..90"),
    ("A1,一区,1000,37.5,-181", "longitude_out_of_range", "lon -181 is outside -180..180"),
    ("A 1,一区,1000,37.5,121.4", "bad_code", "code 'A 1' may only use letters, digits"),
    ("X" * 33 + ",一区,1000,37.5,121.4", "code_too_long", "is longer than 32 characters"),
    ("A1," + "名" * 101 + ",1000,37.5,121.4", "too_long", "name is longer than 100"),
]


@pytest.mark.parametrize(("row", "code", "reason"), BAD_DISTRICT_ROWS)
async def test_every_bad_district_row_is_reported_with_its_line(
    session: AsyncSession, row: str, code: str, reason: str
) -> None:
    text = DISTRICT_HEADER + "OK1,好区,1000,37.5,121.4\n" + row + "\n"

    report = await import_districts(session, text)

    assert not report.ok
    assert [(problem.line, problem.code) for problem in report.problems] == [(3, code)]
    assert reason in report.problems[0].reason
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    assert await districts_by_code(session) == {}


async def test_a_duplicate_code_names_the_first_line(session: AsyncSession) -> None:
    text = DISTRICT_HEADER + "A1,一区,1,37.5,121.4\nA2,二区,2,37.5,121.4\nA1,三区,3,37.5,121.4\n"

    report = await import_districts(session, text)

    [problem] = report.problems
    assert (problem.line, problem.code, problem.params) == (
        4,
        "duplicate_code",
        {"value": "A1", "first_line": 2},
    )
    assert problem.reason == "code 'A1' already appears on line 2"


async def test_all_problems_of_a_file_are_listed_in_order(session: AsyncSession) -> None:
    text = DISTRICT_HEADER + "A1,一区,-1,99,121.4\nA2,,5,37.5,121.4\nA3,三区,7,37.5,121.4\n"

    report = await import_districts(session, text)

    assert [(problem.line, problem.code) for problem in report.problems] == [
        (2, "negative_population"),
        (2, "latitude_out_of_range"),
        (3, "missing_value"),
    ]
    assert report.describe().splitlines()[0] == "districts: 3 problem(s), nothing imported"


async def test_one_bad_row_writes_nothing_and_keeps_earlier_data(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)
    mixed = (
        DISTRICTS.replace("612000", "999999")
        + "NEW1,新区,New,5000,37.5,121.4\n"
        + "BAD1,坏区,Bad,5000,37.5,200\n"
    )

    report = await import_districts(session, mixed)

    assert report.errors == [(5, "lon 200 is outside -180..180")]
    districts = await districts_by_code(session)
    assert sorted(districts) == ["GANGKOU", "TAOYUAN"]
    assert districts["GANGKOU"].population == 612000


@pytest.mark.parametrize(
    ("text", "code", "reason"),
    [
        ("", "empty_file", "the file is empty"),
        ("\ufeff\r\n\r\n", "empty_file", "the file is empty"),
        (
            "code,name,lat,lon\nA1,一区,37.5,121.4\n",
            "missing_columns",
            "missing column(s) population",
        ),
        (
            "code,name,population,lat,lon,popluation\n",
            "unknown_columns",
            "unknown column(s) popluation; known columns: code, name, population, lat, lon, "
            "name_en",
        ),
        ("code,name,name,population,lat,lon\n", "duplicate_columns", "column(s) name appear"),
    ],
)
async def test_header_problems_are_reported_clearly(
    session: AsyncSession, text: str, code: str, reason: str
) -> None:
    report = await import_districts(session, text)

    assert [problem.code for problem in report.problems] == [code]
    assert report.problems[0].line == 1
    assert reason in report.problems[0].reason


async def test_rows_are_still_checked_when_a_column_is_unknown(session: AsyncSession) -> None:
    text = "code,name,population,lat,lon,note\nA1,一区,-3,37.5,121.4,x\n"

    report = await import_districts(session, text)

    assert [(problem.line, problem.code) for problem in report.problems] == [
        (1, "unknown_columns"),
        (2, "negative_population"),
    ]


# --- libraries ---------------------------------------------------------------------------


async def test_good_library_file_creates_every_kind(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)

    report = await import_libraries(session, LIBRARIES)

    assert report.ok, report.errors
    assert report.created == 4
    libraries = await libraries_by_code(session)
    districts = await districts_by_code(session)
    assert {library.kind for library in libraries.values()} == set(LibraryKind)
    central = libraries["HBPL"]
    assert central.district_id == districts["GANGKOU"].id
    assert central.opening_hours == "Tu-Su 09:00-21:00; Mo 14:00-21:00"
    assert (central.name_en, central.address, central.is_pickup_point) == (
        "Haibin Public Library",
        "港口区海滨路88号",
        True,
    )
    assert libraries["HBNO1"].is_pickup_point is False
    assert libraries["HBNO1"].district_id == districts["TAOYUAN"].id
    assert libraries["SEABREEZE"].opening_hours == ""


async def test_library_reimport_is_idempotent_and_updates(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)
    await import_libraries(session, LIBRARIES)

    again = await import_libraries(session, LIBRARIES)
    moved = await import_libraries(
        session, LIBRARIES.replace("school,TAOYUAN", "school,GANGKOU").replace(",no\n", ",yes\n")
    )

    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert (moved.created, moved.updated, moved.unchanged) == (0, 1, 3)
    school = (await libraries_by_code(session))["HBNO1"]
    assert school.district_id == (await districts_by_code(session))["GANGKOU"].id
    assert school.is_pickup_point is True


async def test_minimal_library_columns_default_to_a_pickup_point(session: AsyncSession) -> None:
    district = await make_district(session, code="D1")
    await session.commit()
    text = LIBRARY_HEADER + "L1,一馆,PUBLIC,D1,,37.5,121.4,\n"

    report = await import_libraries(session, text)

    assert report.ok, report.errors
    library = (await libraries_by_code(session))["L1"]
    assert (library.kind, library.district_id) == (LibraryKind.PUBLIC, district.id)
    assert (library.is_pickup_point, library.name_en, library.address) == (True, None, "")


BAD_LIBRARY_ROWS = [
    ("L1,一馆,museum,GANGKOU,,37.5,121.4,", "unknown_kind", "kind 'museum' is not one of"),
    ("L1,一馆,,GANGKOU,,37.5,121.4,", "missing_value", "no value in column kind"),
    (
        "L1,一馆,public,NOWHERE,,37.5,121.4,",
        "unknown_district",
        "district_code 'NOWHERE' is not a known district; known: GANGKOU, TAOYUAN",
    ),
    ("L1,一馆,public,GANGKOU,,37.5,121.4,Mo-Fr 9-17", "bad_opening_hours", "opening_hours:"),
    ("L1,一馆,public,GANGKOU,,137.5,121.4,", "latitude_out_of_range", "lat 137.5"),
    ("L1,一馆,public,GANGKOU,,37.5,east,", "bad_number", "lon 'east' is not a number"),
    ("L1,一馆,public,GANGKOU," + "路" * 301 + ",37.5,121.4,", "too_long", "address is longer"),
]


@pytest.mark.parametrize(("row", "code", "reason"), BAD_LIBRARY_ROWS)
async def test_every_bad_library_row_is_reported_with_its_line(
    session: AsyncSession, row: str, code: str, reason: str
) -> None:
    await import_districts(session, DISTRICTS)
    text = LIBRARY_HEADER + "\n" + "OK,好馆,school,TAOYUAN,,37.5,121.4,\n" + row + "\n"

    report = await import_libraries(session, text)

    assert [(problem.line, problem.code) for problem in report.problems] == [(4, code)]
    assert reason in report.problems[0].reason
    assert await libraries_by_code(session) == {}


async def test_unknown_kind_and_district_carry_parameters_to_translate(
    session: AsyncSession,
) -> None:
    await import_districts(session, DISTRICTS)
    text = LIBRARY_HEADER + "L1,一馆,Museum,NOWHERE,,37.5,121.4,\n"

    report = await import_libraries(session, text)

    kind, district = report.problems
    assert (kind.code, kind.params) == (
        "unknown_kind",
        {"value": "Museum", "known": "university, public, school, partner"},
    )
    assert (district.code, district.params) == (
        "unknown_district",
        {"value": "NOWHERE", "known": "GANGKOU, TAOYUAN"},
    )


async def test_bad_pickup_flag_and_duplicate_library_codes(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)
    text = (
        "code,name,kind,district_code,address,lat,lon,opening_hours,is_pickup_point\n"
        "L1,一馆,public,GANGKOU,,37.5,121.4,,maybe\n"
        "L1,二馆,public,GANGKOU,,37.5,121.4,,no\n"
    )

    report = await import_libraries(session, text)

    assert [(problem.line, problem.code) for problem in report.problems] == [
        (2, "bad_boolean"),
        (3, "duplicate_code"),
    ]


async def test_libraries_need_districts_first(session: AsyncSession) -> None:
    report = await import_libraries(session, LIBRARIES)

    assert {problem.code for problem in report.problems} == {"unknown_district"}
    assert "import districts first" in report.problems[0].reason
    assert [problem.line for problem in report.problems] == [2, 3, 4, 5]


async def test_bad_library_file_leaves_libraries_untouched(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)
    await import_libraries(session, LIBRARIES)
    broken = LIBRARIES.replace("Haibin University Library", "Renamed").replace(
        "Mo-Fr 07:30-17:30", "Mo-Fr 17:30-07:30"
    )

    report = await import_libraries(session, broken)

    assert report.errors == [
        (4, "opening_hours: 'Mo-Fr 17:30-07:30': 17:30-07:30 closes before it opens")
    ]
    libraries = await libraries_by_code(session)
    assert libraries["HBU"].name_en == "Haibin University Library"
    assert libraries["HBNO1"].opening_hours == "Mo-Fr 07:30-17:30"


# --- opening hours -----------------------------------------------------------------------


def test_opening_hours_parse_days_ranges_and_spans() -> None:
    hours = parse_opening_hours("Mo-Fr 08:00-12:00,13:30-17:00; Sa 09:00-12:00")

    assert hours[0] == [(time(8), time(12)), (time(13, 30), time(17))]
    assert hours[4] == hours[0]
    assert hours[5] == [(time(9), time(12))]
    assert hours[6] == []
    assert sorted(hours) == list(range(7))


def test_later_rules_override_and_ranges_wrap() -> None:
    hours = parse_opening_hours("mo-su 9:00-21:00 ; Mo off; Sa-Mo 10:00 - 16:00")

    assert hours[0] == [(time(10), time(16))]
    assert hours[1] == [(time(9), time(21))]
    assert hours[5] == hours[6] == [(time(10), time(16))]


def test_unpublished_hours_parse_to_nothing_and_count_as_open() -> None:
    assert parse_opening_hours("  ") == {}
    assert is_open_on("", date(2026, 3, 2))


def test_is_open_on_skips_closed_days() -> None:
    hours = "Tu-Sa 09:00-17:00"
    monday, tuesday, sunday = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 8)

    assert not is_open_on(hours, monday)
    assert is_open_on(hours, tuesday)
    assert not is_open_on(hours, sunday)
    assert not is_open_on("Mo-Su 09:00-17:00; Mo off", monday)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mo-Fr", "expected days then hours"),
        ("Monday 09:00-17:00", "expected days then hours"),
        ("Mx 09:00-17:00", "unknown day 'Mx'"),
        ("Mo-Fr 9-17", "'9-17' is not HH:MM-HH:MM"),
        ("Mo 25:00-26:00", "25:00 is not a time of day"),
        ("Mo 09:60-10:00", "09:60 is not a time of day"),
        ("Mo 17:00-09:00", "closes before it opens"),
        ("Mo 09:00-09:00", "closes before it opens"),
        ("Mo 09:00-13:00,12:00-17:00", "the opening times overlap"),
        ("Mo 09:00-17:00;;Tu 09:00-17:00", "an empty rule"),
        ("Mo-Su off", "no day is open"),
    ],
)
def test_bad_opening_hours_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(OpeningHoursError) as raised:
        parse_opening_hours(text)

    assert message in str(raised.value)


async def test_english_addresses_are_optional_and_clearable(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)
    with_english = (
        "code,name,kind,district_code,address,address_en,lat,lon,opening_hours\n"
        "HBPL,海滨市图书馆,public,GANGKOU,海滨路88号,88 Haibin Road,37.55,121.39,\n"
    )
    assert (await import_libraries(session, with_english)).created == 1
    # Left out of the file, the English address stays; present but empty, it is cleared.
    without = "HBPL,海滨市图书馆,public,GANGKOU,海滨路88号,37.55,121.39,\n"
    assert (await import_libraries(session, LIBRARY_HEADER + without)).unchanged == 1
    library = await session.scalar(select(Library).where(Library.code == "HBPL"))
    assert library is not None
    assert library.display_address("en") == "88 Haibin Road"
    assert library.display_address("zh") == "海滨路88号"
    cleared = with_english.replace("88 Haibin Road", "")
    assert (await import_libraries(session, cleared)).updated == 1
    await session.refresh(library)
    assert library.address_en is None
    assert library.display_address("en") == "海滨路88号"


async def test_an_export_imports_back_unchanged(session: AsyncSession) -> None:
    await import_districts(session, DISTRICTS)
    await import_libraries(session, LIBRARIES)
    districts, libraries = await export_districts(session), await export_libraries(session)
    assert libraries.splitlines()[0] == (
        "code,name,kind,district_code,address,lat,lon,opening_hours,"
        "name_en,address_en,is_pickup_point"
    )
    assert "Tu-Su 09:00-21:00; Mo 14:00-21:00" in libraries
    district_report = await import_districts(session, districts)
    library_report = await import_libraries(session, libraries)
    assert (district_report.unchanged, district_report.updated) == (2, 0)
    assert (library_report.unchanged, library_report.updated) == (4, 0)


def test_one_grammar_reads_closed_days_round_the_clock_and_midnight() -> None:
    assert is_open_on("24/7", date(2026, 3, 2))
    assert not is_open_on("24/7; Mo closed", date(2026, 3, 2))
    assert parse_opening_hours("Fr-Sa 18:00-24:00")[4] == [(time(18), time(23, 59))]
    with pytest.raises(OpeningHoursError):
        parse_opening_hours("Mo 24:00-24:30")
