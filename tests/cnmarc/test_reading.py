"""Reading CNMARC/UNIMARC: the fixture files, character sets, broken records, entry points."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.catalogue.marcxml import read_record_element, read_unimarc_element, read_unimarc_xml
from bot.catalogue.reading import count_records, detect_format, read_records
from bot.catalogue.records import BibRecord, CatalogueFileError, Holding, RecordProblem
from bot.catalogue.unimarc import mojibake, read_unimarc
from tests.catalogue.builders import book
from tests.cnmarc import records
from tests.cnmarc.records import FIXTURES, fixture_files, iso2709


def _read(name: str, **options: str) -> list[BibRecord | RecordProblem]:
    return list(read_records(FIXTURES / name, **options))  # type: ignore[arg-type]


def _problems(items: list[BibRecord | RecordProblem]) -> list[tuple[int, str]]:
    return [(p.record_number, p.reason) for p in items if isinstance(p, RecordProblem)]


def test_the_fixture_files_are_what_the_builder_writes() -> None:
    for name, content in fixture_files().items():
        assert (FIXTURES / name).read_bytes() == content, "run python -m tests.cnmarc.records"


def test_a_utf8_cnmarc_record_is_read_field_by_field() -> None:
    dream, three_body = _read("cnmarc-utf8.mrc")
    assert isinstance(dream, BibRecord) and isinstance(three_body, BibRecord)
    assert dream.control_number == "CN0000001"
    assert dream.title == "红楼梦"
    assert dream.authors == ("曹雪芹", "高鹗")  # 701 before 702, relator codes left out
    assert dream.isbns == ("9787020002207",)
    assert (dream.language, dream.year, dream.publisher) == ("chi", 1996, "人民文学出版社")
    assert dream.variant_titles == ("Hong lou meng", "A dream of red mansions", "石头记")
    assert dream.clc_numbers == ("I242.4",)
    assert (dream.edition, dream.series) == ("第3版", "中国古典文学读本丛书")
    assert dream.summary == "以贾、史、王、薛四大家族为背景的长篇小说。"
    assert dream.subjects == ("章回小说",)
    assert dream.holdings == (
        Holding("CNLIB", "C0001001", "I242.4/12"),
        Holding("CNLIB", "C0001002", "I242.4/12"),
    )
    assert dream.work_key == "红楼梦|曹雪芹"
    # The pinyin in 200 $9 is a variant title like 200 $A.
    assert three_body.variant_titles == ("san ti", "The three-body problem")


def test_gbk_records_decode_by_the_declared_set_or_by_what_decodes_cleanly() -> None:
    to_live, zhu, undeclared = _read("cnmarc-gbk.mrc")
    assert isinstance(to_live, BibRecord) and to_live.title == "活着"
    assert to_live.variant_titles == ("To live",) and to_live.publisher == "作家出版社"
    # 镕 is GBK, not GB 2312: read all the same.
    assert isinstance(zhu, BibRecord) and zhu.title == "朱镕基答记者问"
    assert zhu.authors == ("朱镕基",) and zhu.clc_numbers == ("D61",)
    # 100 $a declares no character set: the bytes are clean GBK.
    assert isinstance(undeclared, BibRecord) and undeclared.title == "活着(插图本)"


def test_broken_records_are_reported_one_by_one_with_the_field() -> None:
    items = _read("cnmarc-broken.mrc")
    assert [item.title for item in items if isinstance(item, BibRecord)] == ["围城"]
    assert _problems(items) == [
        (2, "record directory is invalid"),
        (3, "field 200: the text is not valid UTF-8 (as 100 $a declares)"),
        (4, "field 200: the text is UTF-8, but 100 $a declares GB 2312"),
        (5, "field 200: the text is garbled (mojibake)"),
        (6, "record is truncated (no end-of-record terminator)"),
    ]


def test_unimarc_xml_is_detected_and_read() -> None:
    assert detect_format(FIXTURES / "unimarc.xml") == "marcxml"
    fortress, untitled = _read("unimarc.xml")
    assert isinstance(fortress, BibRecord)
    assert fortress.title == "围城"
    assert fortress.variant_titles == ("Wei cheng", "Fortress besieged")
    assert fortress.clc_numbers == ("I246.57",)
    assert untitled == RecordProblem(2, "no title (200 $a)")


def test_gbk_xml_is_read_through_utf8() -> None:
    assert detect_format(FIXTURES / "unimarc-gbk.xml") == "marcxml"
    titles = [item.title for item in _read("unimarc-gbk.xml") if isinstance(item, BibRecord)]
    assert titles == ["活着", "朱镕基答记者问"]


def test_gbk_xml_with_bytes_outside_gbk_is_refused_with_the_field(tmp_path: Path) -> None:
    content = (FIXTURES / "unimarc-gbk.xml").read_bytes().replace("活着".encode("gbk"), b"\xff\xff")
    path = tmp_path / "broken.xml"
    path.write_bytes(content)
    first, second = read_records(path)
    assert first == RecordProblem(1, "field 200: the text is garbled (mojibake)")
    assert isinstance(second, BibRecord) and second.title == "朱镕基答记者问"


def test_the_format_can_be_forced_and_files_are_counted() -> None:
    assert detect_format(FIXTURES / "cnmarc-gbk.mrc") == "marc"
    for name in ("cnmarc", "unimarc"):
        forced = _read("cnmarc-gbk.mrc", format=name)
        assert next(item.title for item in forced if isinstance(item, BibRecord)) == "活着"
        assert len(_read("unimarc.xml", format=name)) == 2
    assert count_records(FIXTURES / "cnmarc-utf8.mrc", format="cnmarc") == 2
    assert count_records(FIXTURES / "unimarc.xml", format="unimarc") is None


def test_a_csv_file_cannot_be_forced_to_unimarc(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_text("title,isbn\n红楼梦,9787020002207\n", encoding="utf-8")
    with pytest.raises(CatalogueFileError, match="not CSV"):
        read_records(path, format="cnmarc")


def test_marc21_and_cnmarc_records_in_one_file_are_each_read_as_what_they_are(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mixed.mrc"
    path.write_bytes(book(b"The hobbit") + iso2709(records.dream(), "utf-8"))
    hobbit, dream = read_records(path)
    assert isinstance(hobbit, BibRecord) and hobbit.title == "The hobbit"
    assert isinstance(dream, BibRecord) and dream.clc_numbers == ("I242.4",)


def test_read_unimarc_takes_the_bytes_of_one_or_more_records() -> None:
    data = (FIXTURES / "cnmarc-gbk.mrc").read_bytes()
    titles = [item.title for item in read_unimarc(data) if isinstance(item, BibRecord)]
    assert titles == ["活着", "朱镕基答记者问", "活着(插图本)"]
    # Forced: a record without 200 is a problem, not a MARC 21 record.
    [problem] = read_unimarc(book(b"The hobbit"))
    assert problem == RecordProblem(1, "no title (200 $a)")


def test_read_unimarc_element_takes_one_xml_record_in_any_namespace() -> None:
    root = ET.fromstring((FIXTURES / "unimarc.xml").read_bytes())
    first = next(iter(root))
    record = read_unimarc_element(first)
    assert isinstance(record, BibRecord) and record.title == "围城"
    plain = ET.fromstring(
        '<record><controlfield tag="001">X1</controlfield>'
        '<datafield tag="200" ind1="1" ind2=" "><subfield code="a">çº¢æ¥¼æ¢¦</subfield>'
        "</datafield></record>"
    )
    assert read_unimarc_element(plain, 7) == RecordProblem(
        7, "field 200: the text is garbled (mojibake)"
    )
    # Either kind, told by its fields, as in a file.
    marc21 = ET.fromstring(
        '<record xmlns="http://www.loc.gov/MARC21/slim">'
        '<datafield tag="245" ind1="1" ind2="0"><subfield code="a">The hobbit</subfield>'
        "</datafield></record>"
    )
    hobbit = read_record_element(marc21)
    assert isinstance(hobbit, BibRecord) and hobbit.title == "The hobbit"
    fortress = read_record_element(first)
    assert isinstance(fortress, BibRecord) and fortress.clc_numbers == ("I246.57",)
    broken = ET.fromstring('<record><datafield ind1=" "/></record>')
    assert read_record_element(broken) == RecordProblem(1, "a datafield has no tag attribute")


@pytest.mark.parametrize(
    ("text", "garbled"),
    [
        ("红楼梦", False),
        ("L'altra faccia della spirale", False),
        ("Été à Paris", False),
        ("çº¢æ¥¼æ¢¦", True),  # UTF-8 read as Windows-1252
        ("caf\u00c3\u00a9", True),  # "café" read as Latin-1
        ("红\ufffd梦", True),
        ("红\ue000梦", True),
        ("\x88L'\x89altra", False),  # UNIMARC's non-sorting markers
    ],
)
def test_mojibake(text: str, garbled: bool) -> None:
    assert mojibake(text) is garbled


def test_read_unimarc_xml_takes_one_serialised_record() -> None:
    xml = (FIXTURES / "unimarc.xml").read_bytes()
    root = ET.fromstring(xml)
    payload = ET.tostring(next(iter(root)))
    record = read_unimarc_xml(payload, 42)
    assert isinstance(record, BibRecord)
    assert (record.record_number, record.title) == (42, "围城")
    assert read_unimarc_xml(xml, 3) == read_unimarc_xml(payload, 3)  # the first record
    assert read_unimarc_xml(b"<metadata/>", 5) == RecordProblem(
        5, "the record's metadata holds no UNIMARC record"
    )
    problem = read_unimarc_xml(b"<record>", 6)
    assert isinstance(problem, RecordProblem) and "not well-formed" in problem.reason
