"""The reader on the small, partly broken MARC files in ../shared/data/bad-marc."""

from pathlib import Path

import pytest

from bot.catalogue.reading import count_records, detect_format, read_records
from bot.catalogue.records import BibRecord, CatalogueFileError, RecordProblem
from tests.catalogue.conftest import SHARED_DATA

pytestmark = pytest.mark.shared_data

BAD_MARC_FILES = sorted(
    path.name for path in (SHARED_DATA / "bad-marc").glob("*") if path.is_file()
)


def _read(path: Path) -> list[BibRecord | RecordProblem]:
    return list(read_records(path))


def _records(path: Path) -> list[BibRecord]:
    return [item for item in _read(path) if isinstance(item, BibRecord)]


def _problems(path: Path) -> list[tuple[int, str]]:
    return [
        (item.record_number, item.reason) for item in _read(path) if isinstance(item, RecordProblem)
    ]


@pytest.mark.parametrize("name", BAD_MARC_FILES or ["(no files)"])
def test_every_file_is_read_or_refused_with_a_reason(bad_marc: Path, name: str) -> None:
    path = bad_marc / name
    try:
        items = _read(path)
    except CatalogueFileError as exc:
        reason = str(exc)
        items = []
    else:
        reason = ""
    if not items:
        assert reason, "a file that yields nothing must be refused with a reason"
        return
    assert items, "a catalogue file should give at least one record or problem"
    assert [item.record_number for item in items] == list(range(1, len(items) + 1))
    for item in items:
        if isinstance(item, RecordProblem):
            assert item.reason and "Traceback" not in item.reason
        else:
            assert item.title
    if detect_format(path) == "marc":
        assert count_records(path) == len(items)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("batch.json", "JSON"),
        ("one.json", "JSON"),
        ("test.json", "JSON"),
        ("test_marc8.txt", "not a catalogue CSV"),
        ("test_utf8.txt", "not a catalogue CSV"),
        ("LICENSE", "not a catalogue CSV"),
    ],
)
def test_unsupported_files_are_refused_at_once(bad_marc: Path, name: str, reason: str) -> None:
    with pytest.raises(CatalogueFileError, match=reason):
        read_records(bad_marc / name)
    with pytest.raises(CatalogueFileError, match=reason):
        detect_format(bad_marc / name)


def test_bad_records_keeps_the_good_ones_and_explains_the_rest(bad_marc: Path) -> None:
    items = _read(bad_marc / "bad_records.mrc")
    assert len(items) == 9
    good = [item for item in items if isinstance(item, BibRecord)]
    assert [record.record_number for record in good] == [1, 8]
    assert {record.title for record in good} == {
        "The pragmatic programmer : from journeyman to master"
    }
    assert _problems(bad_marc / "bad_records.mrc") == [
        (2, "base address in the leader lies beyond the end of the record"),
        (3, "leader has no base address of data"),
        (4, "record directory is invalid"),
        (5, "record directory is invalid"),
        (6, "leader is not a valid MARC leader"),
        (7, "record has no fields"),
        (9, "record is truncated (no end-of-record terminator)"),
    ]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("utf8_invalid.mrc", "invalid subfield code in field 260"),
        ("bad_subfield_code.dat", "invalid subfield code in field 245"),
        ("bad_marc8_escape.dat", "invalid MARC-8 in field 245"),
        ("bad_eacc_encoding.dat", "invalid MARC-8 in field 880"),
    ],
)
def test_single_broken_record_is_reported(bad_marc: Path, name: str, problem: str) -> None:
    assert _problems(bad_marc / name) == [(1, problem)]


def test_a_unimarc_record_is_read_as_unimarc(bad_marc: Path) -> None:
    (record,) = _records(bad_marc / "testunimarc.dat")
    # 200 $a with its non-sorting markers (NSB/NSE) removed; 700/702 $a and $b joined.
    assert record.title == "L'altra faccia della spirale"
    assert record.authors[0] == "Asimov, Isaac"
    assert (record.language, record.year, record.publisher) == ("ita", 1996, "A. Mondadori")
    assert record.isbns == ("9788804406822",)


def test_windows_1251_text_flagged_as_marc8_is_refused(bad_marc: Path) -> None:
    assert _problems(bad_marc / "1251.dat") == [
        (number, "invalid MARC-8 in field 100") for number in range(1, 7)
    ]


def test_multi_isbn_yields_every_isbn_normalised(bad_marc: Path) -> None:
    (record,) = _records(bad_marc / "multi_isbn.dat")
    assert record.isbns == ("9780914378280", "9780914378297", "9780914378266")
    assert record.title == "The town scold"
    assert record.authors == ("Johnson, Judith Emlyn",)
    assert record.year == 1977


def test_marc_dat_reads_twenty_books(bad_marc: Path) -> None:
    records = _records(bad_marc / "marc.dat")
    assert len(records) == 20
    first = records[0]
    assert first.control_number == "11778504"
    assert first.title == "The pragmatic programmer : from journeyman to master"
    assert first.authors == ("Hunt, Andrew", "Thomas, David")
    assert first.isbns == ("9780201616224",)
    assert first.publisher == "Addison-Wesley"
    assert first.year == 2000
    assert first.language == "eng"
    assert first.subjects == ("Computer programming",)


def test_same_title_and_author_with_different_subtitles_stay_apart(bad_marc: Path) -> None:
    records = {record.title: record for record in _records(bad_marc / "test.dat")}
    first = records["Perl : programmer's reference"]
    second = records["Perl : the complete reference"]
    assert first.authors == second.authors == ("Brown, Martin C.",)
    assert first.work_key != second.work_key


def test_marc8_and_utf8_copies_of_one_record_read_the_same(bad_marc: Path) -> None:
    names = [
        "marc8.dat",
        "marc8-to-unicode.dat",
        "utf8_with_leader_flag.dat",
        "utf8_without_leader_flag.dat",
    ]
    records = [_records(bad_marc / name)[0] for name in names]
    assert records[0].title == "Escape from loneliness"
    assert records[0].authors == ("Tournier, Paul",)
    assert records[0].publisher == "Westminster Press"
    assert all(record == records[0] for record in records)


def test_utf8_diacritics_are_composed(bad_marc: Path) -> None:
    (record,) = _records(bad_marc / "utf8_errors.dat")
    assert record.title == "[Imperial military middle school, \u1e62an\u02bb\u0101\u02be]"
    assert record.holdings[0].library_code == "Prints and Photographs Division"


def test_regression45_reads_romanised_russian(bad_marc: Path) -> None:
    records = _records(bad_marc / "regression45.dat")
    assert len(records) == 12
    assert records[3].title == "Vpadenīe r. Kostromy v Volgu"
    assert records[0].authors == ("Prokudin-Gorskiĭ, Sergeĭ Mikhaĭlovich",)
    assert {record.language for record in records} == {"rus"}


def test_bad_indicator_record_keeps_its_isbn(bad_marc: Path) -> None:
    (record,) = _records(bad_marc / "bad_indicator.dat")
    assert record.isbns == ("9780253325525",)
    assert record.title == "Aristocrats of color : the Black elite, 1880-1920"
    assert record.control_number == "426705"


def test_alphatag_949_without_koha_subfields_is_not_a_holding(bad_marc: Path) -> None:
    (record,) = _records(bad_marc / "alphatag.dat")
    assert record.title == "Chemistry experiments for children"
    assert record.authors == ("Mullin, Virginia L.", "Case, Bernard")
    assert record.holdings == ()
    assert record.isbns == ()
    assert (record.year, record.publisher) == (1968, "Dover Publications")


def test_marcxml_single_record_with_odd_tags(bad_marc: Path) -> None:
    (record,) = _records(bad_marc / "bad_tag.xml")
    assert record.title == "The Untamed"
    assert record.authors == ("Brand, Max",)
    assert (record.year, record.publisher) == (2004, "Project Gutenberg")


def test_marcxml_collections(bad_marc: Path) -> None:
    titles = [record.title for record in _records(bad_marc / "batch.xml")]
    assert titles == ["The Great Ray Charles", "The White House"]
    (zen,) = _records(bad_marc / "utf8.xml")
    assert zen.year == 2008, "008 says 9999, so the year comes from 260 $c"
    assert zen.publisher == "Virgin Classics"
