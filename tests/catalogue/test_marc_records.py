"""The MARC 21 reader on records built byte by byte."""

import gzip
import hashlib
import lzma
from pathlib import Path

from bot.catalogue.reading import count_records, detect_format, read_records
from bot.catalogue.records import BibRecord, Holding, RecordProblem
from tests.catalogue.builders import FIXED_008, book, datafield, marc_record


def _write(tmp_path: Path, data: bytes, name: str = "records.mrc") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _only(path: Path) -> BibRecord | RecordProblem:
    (item,) = list(read_records(path))
    return item


def test_marc8_diacritics_decode_to_unicode(tmp_path: Path) -> None:
    record = book(
        b"Communaut\xe2e europ\xe2eenne",
        coding=b" ",
        extra=[
            ("100", datafield(b"1 ", ("a", b"Dvo\xe9r\xe2ak, Anton\xe2in,"), ("d", b"1841-1904.")))
        ],
    )
    item = _only(_write(tmp_path, record))
    assert isinstance(item, BibRecord)
    assert item.title == "Communauté européenne"
    assert item.authors == ("Dvořák, Antonín",)


def test_marc8_eacc_original_script(tmp_path: Path) -> None:
    linked = datafield(b"10", ("6", b"245-01/$1"), ("a", b"\x1b$1!PVK7oi$N\x1b(B"))
    record = book(b"Beikoku", coding=b" ", extra=[("880", linked)])
    item = _only(_write(tmp_path, record))
    assert isinstance(item, BibRecord)
    assert item.original_title == "米国の"


def test_cyrillic_bytes_that_only_map_to_marc8_accents_are_refused(tmp_path: Path) -> None:
    item = _only(_write(tmp_path, book("книга".encode("cp1251"), coding=b" ")))
    assert item == RecordProblem(1, "invalid MARC-8 in field 245")


def test_utf8_record_flagged_marc8_is_read_as_utf8(tmp_path: Path) -> None:
    item = _only(_write(tmp_path, book("Économie".encode(), coding=b" ")))
    assert isinstance(item, BibRecord)
    assert item.title == "Économie"


def test_invalid_utf8_in_a_used_field_is_a_problem(tmp_path: Path) -> None:
    item = _only(_write(tmp_path, book(b"Bad \xff byte")))
    assert item == RecordProblem(1, "invalid UTF-8 in field 245")


def test_invalid_utf8_in_an_unused_field_is_ignored(tmp_path: Path) -> None:
    note = ("500", datafield(b"  ", ("a", b"Bad \xff note")))
    item = _only(_write(tmp_path, book("红楼梦".encode(), extra=[note])))
    assert isinstance(item, BibRecord)
    assert item.title == "红楼梦"


def test_fields_are_read_as_documented(tmp_path: Path) -> None:
    extra = [
        ("010", datafield(b"  ", ("a", b"   2019012345 "))),
        ("020", datafield(b"  ", ("a", b"978-7-02-000220-7 (pbk.)"))),
        ("020", datafield(b"  ", ("a", b"702000220X"))),
        ("020", datafield(b"  ", ("a", b"7020002208 (invalid)"))),
        ("020", datafield(b"  ", ("z", b"9780306406157"))),
        ("100", datafield(b"1 ", ("6", b"880-01"), ("a", b"Cao, Xueqin,"), ("d", b"1715?-1763."))),
        (
            "245",
            datafield(
                b"14",
                ("a", b"The story of the stone :"),
                ("b", b"a novel."),
                ("n", b"Volume 1 /"),
                ("c", b"Cao Xueqin."),
            ),
        ),
        ("264", datafield(b" 4", ("c", b"\xc2\xa92001"))),
        (
            "264",
            datafield(
                b" 1",
                ("a", b"Beijing :"),
                ("b", b"[Ren min wen xue chu ban she],"),
                ("c", b"[2003?]"),
            ),
        ),
        ("520", datafield(b"  ", ("a", b"A family saga."))),
        ("600", datafield(b"10", ("a", b"Cao, Xueqin,"), ("d", b"1715?-1763"))),
        ("650", datafield(b" 0", ("a", b"Families"), ("z", b"China"))),
        ("650", datafield(b" 0", ("a", b"Families."))),
        (
            "700",
            datafield(b"1 ", ("6", b"880-02"), ("a", b"Hawkes, David,"), ("e", b"translator.")),
        ),
        ("880", datafield(b"1 ", ("6", b"700-02/$1"), ("a", "霍克思,".encode()))),
        (
            "880",
            datafield(b"1 ", ("6", b"100-01/$1"), ("a", "曹雪芹,".encode()), ("d", b"1715?-1763.")),
        ),
        (
            "880",
            datafield(
                b"14", ("6", b"245-03/$1"), ("a", "紅樓夢 /".encode()), ("c", "曹雪芹.".encode())
            ),
        ),
        ("008", b"200101s19uu    " + b" " * 20 + b"   " + b" d"),
        ("041", datafield(b"1 ", ("a", b"ENGchi"))),
    ]
    fields = sorted([("001", b" cn-42 "), *extra], key=lambda field: field[0])
    item = _only(_write(tmp_path, marc_record(fields)))
    assert isinstance(item, BibRecord)
    assert item.control_number == "cn-42"
    assert item.title == "The story of the stone : a novel. Volume 1"
    assert item.original_title == "紅樓夢"
    assert item.authors == ("Cao, Xueqin", "Hawkes, David")
    assert item.original_authors == ("曹雪芹", "霍克思")
    assert item.isbns == ("9787020002207",)
    assert item.subjects == ("Cao, Xueqin", "Families")
    assert item.language == "eng"
    assert item.year == 2003
    assert item.publisher == "Ren min wen xue chu ban she"
    assert item.summary == "A family saga."
    assert item.work_key == "红楼梦|曹雪芹"


def test_control_number_falls_back_to_lccn(tmp_path: Path) -> None:
    fields = [
        ("008", FIXED_008),
        ("010", datafield(b"  ", ("a", b"   2019012345 "))),
        ("245", datafield(b"00", ("a", b"Untitled papers."))),
    ]
    item = _only(_write(tmp_path, marc_record(fields)))
    assert isinstance(item, BibRecord)
    assert (item.control_number, item.title, item.language, item.year) == (
        "2019012345",
        "Untitled papers",
        "chi",
        2019,
    )
    assert item.authors == () and item.work_key == "untitledpapers|"


def test_holdings_from_852_952_and_koha_style_949(tmp_path: Path) -> None:
    extra = [
        (
            "852",
            datafield(
                b"01",
                ("a", b"Alliance"),
                ("b", b"CITYLIB"),
                ("h", b"I242.4"),
                ("i", b"C11"),
                ("p", b"3100001"),
                ("t", b"2"),
            ),
        ),
        ("852", datafield(b"  ", ("a", b"UNILIB"))),
        ("852", datafield(b"  ", ("z", b"note only"))),
        ("949", datafield(b"  ", ("a", b"542"), ("b", b"M917"))),
        ("949", datafield(b"  ", ("a", b"EAST"), ("o", b"I242 C11"))),
        ("952", datafield(b"  ", ("b", b"WEST"), ("o", b"I242/C11"), ("p", b"WEST-0001"))),
    ]
    item = _only(_write(tmp_path, book(b"Hong lou meng", extra=extra)))
    assert isinstance(item, BibRecord)
    assert item.holdings == (
        Holding("CITYLIB", "3100001", "I242.4 C11"),
        Holding("UNILIB", None, None),
        Holding("EAST", None, "I242 C11"),
        # A Koha 952 without $1, $7 or $q: on the shelf.
        Holding("WEST", "WEST-0001", "I242/C11", status="available"),
    )


def test_reading_resumes_after_garbage_between_records(tmp_path: Path) -> None:
    good = book(b"First")
    data = good + b"this is not a record\x1d\r\n" + book(b"Second") + b"\n"
    items = list(read_records(_write(tmp_path, data)))
    assert [type(item).__name__ for item in items] == ["BibRecord", "RecordProblem", "BibRecord"]
    assert items[1] == RecordProblem(2, "leader is not a valid MARC leader")
    assert isinstance(items[2], BibRecord) and items[2].title == "Second"
    assert count_records(tmp_path / "records.mrc") == 3


def test_short_record_is_reported(tmp_path: Path) -> None:
    record = book(b"Short")
    broken = b"%05d" % (len(record) + 40) + record[5:]
    item = _only(_write(tmp_path, broken))
    assert isinstance(item, RecordProblem)
    assert item.reason.startswith("record is shorter than its leader says")


def test_megabytes_without_a_terminator_are_skipped(tmp_path: Path) -> None:
    junk = b"00099" + b"x" * 1_500_000
    data = book(b"Before") + junk + b"\x1d" + book(b"After")
    items = list(read_records(_write(tmp_path, data)))
    assert [getattr(item, "title", None) for item in items] == ["Before", None, "After"]
    assert isinstance(items[1], RecordProblem)
    assert items[1].reason.startswith("no end-of-record terminator within 99,999 bytes")


def test_compressed_files_are_read_transparently(tmp_path: Path) -> None:
    data = book(b"One") + book(b"Two")
    for name, packed in [("a.mrc.xz", lzma.compress(data)), ("b.gz", gzip.compress(data))]:
        path = _write(tmp_path, packed, name)
        assert detect_format(path) == "marc"
        assert [getattr(item, "title", None) for item in read_records(path)] == ["One", "Two"]
        assert count_records(path) is None


def test_truncated_compressed_file_ends_with_a_problem(tmp_path: Path) -> None:
    # Titles that do not compress well, the same on every run.
    titles = (hashlib.sha256(b"%d" % n).hexdigest().encode() * 2 for n in range(3000))
    data = b"".join(book(title) for title in titles)
    packed = lzma.compress(data)
    path = _write(tmp_path, packed[: len(packed) // 2], "cut.mrc.xz")
    items = list(read_records(path))
    assert all(isinstance(item, BibRecord) for item in items[:-1])
    last = items[-1]
    assert isinstance(last, RecordProblem)
    assert "reading stopped" in last.reason
    assert [item.record_number for item in items] == list(range(1, len(items) + 1))


def test_explicit_format_skips_sniffing(tmp_path: Path) -> None:
    path = _write(tmp_path, book(b"Named oddly"), "export.txt")
    assert [getattr(item, "title", None) for item in read_records(path, format="marc")] == [
        "Named oddly"
    ]
    assert count_records(path, format="marc") == 1
