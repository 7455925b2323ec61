"""The CSV reader."""

from pathlib import Path

import pytest

from bot.catalogue.reading import detect_format, read_records
from bot.catalogue.records import (
    CSV_COLUMNS,
    BibRecord,
    CatalogueFileError,
    Holding,
    RecordProblem,
)

HEADER = ",".join(CSV_COLUMNS)


def _write(tmp_path: Path, text: str, *, bom: bool = False, name: str = "books.csv") -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def test_full_row_with_chinese_content_and_bom(tmp_path: Path) -> None:
    row = (
        '紅樓夢,,"(清)曹雪芹著; 高鹗",,'
        '"ISBN 978-7-02-000220-7 (平装); 702000220X; 7020002208",zh,1996,'
        '人民文学出版社,"小说; 古典文学; 小说","贾宝玉与林黛玉的故事。",C0001234,I242.4/C11,1'
    )
    path = _write(tmp_path, f"{HEADER}\r\n{row}\r\n", bom=True)
    assert detect_format(path) == "csv"
    (record,) = list(read_records(path))
    assert record == BibRecord(
        record_number=1,
        control_number=None,
        title="紅樓夢",
        original_title=None,
        authors=("(清)曹雪芹著", "高鹗"),
        original_authors=(),
        subjects=("小说", "古典文学"),
        language="chi",
        year=1996,
        publisher="人民文学出版社",
        isbns=("9787020002207",),
        summary="贾宝玉与林黛玉的故事。",
        holdings=(Holding(None, "C0001234", "I242.4/C11", 1),),
        work_key="红楼梦|曹雪芹",
    )


def test_only_title_is_required_and_columns_may_be_reordered(tmp_path: Path) -> None:
    path = _write(tmp_path, "Authors,TITLE,copies\nCao Xueqin,The Dream of the Red Chamber,3\n")
    (record,) = list(read_records(path))
    assert isinstance(record, BibRecord)
    assert record.title == "The Dream of the Red Chamber"
    assert record.authors == ("Cao Xueqin",)
    assert record.holdings == (Holding(None, None, None, 3),)
    assert record.isbns == () and record.year is None and record.language is None


def test_bad_rows_are_problems_with_line_numbers(tmp_path: Path) -> None:
    text = (
        "title,year,copies,summary,barcode\n"
        "Good one,2001,,,\n"
        ",1999,,,\n"
        "Bad year,MCMXCIX,,,\n"
        'Multi-line summary,2002,,"first line\nsecond line",\n'
        "\n"
        "Zero copies,,0,,\n"
        "Word copies,,two,,\n"
        "Two barcoded copies,,2,,B-1\n"
        "Too many values,2003,,,,surplus\n"
        "Good two,2004,,,\n"
    )
    items = list(read_records(_write(tmp_path, text)))
    assert [item.record_number for item in items] == list(range(1, 10))
    good = [item.title for item in items if isinstance(item, BibRecord)]
    assert good == ["Good one", "Multi-line summary", "Good two"]
    problems = [
        (item.record_number, item.reason) for item in items if isinstance(item, RecordProblem)
    ]
    assert problems == [
        (2, "line 3: no title"),
        (3, "line 4: year 'MCMXCIX' is not a number"),
        (5, "line 8: copies '0' is not a positive whole number"),
        (6, "line 9: copies 'two' is not a positive whole number"),
        (7, "line 10: one barcode cannot stand for several copies"),
        (8, "line 11: 6 values but the header has 5 columns"),
    ]
    multi_line = items[3]
    assert isinstance(multi_line, BibRecord)
    assert multi_line.summary == "first line\nsecond line"


def test_unknown_columns_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "title,shelf,Rating\nA book,3,5\n")
    with pytest.raises(CatalogueFileError, match=r"unknown CSV columns: shelf, Rating"):
        read_records(path)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("authors,isbn", "no 'title' column"),
        ("title,authors,Title", "repeated in the header: title"),
    ],
)
def test_bad_headers_are_refused(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(CatalogueFileError, match=message):
        read_records(_write(tmp_path, f"{header}\nx,y,z\n"))


def test_unnamed_column_is_ignored_while_it_stays_empty(tmp_path: Path) -> None:
    path = _write(tmp_path, "title,year,\nKept,2001,\nRefused,2002,stray\n")
    items = list(read_records(path))
    assert isinstance(items[0], BibRecord) and items[0].year == 2001
    assert items[1] == RecordProblem(2, "line 3: a value stands in a column without a name")


def test_stray_invalid_bytes_spoil_only_their_row(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    rows = "".join(f"红楼梦 第{number}册,{2000 + number}\n" for number in range(1, 40))
    path.write_bytes(b"title,year\n" + rows.encode() + b"Broken \xff title,1999\n")
    items = list(read_records(path))
    assert len(items) == 40
    assert items[-1] == RecordProblem(
        40, "line 41: the text cannot be decoded (save the file as UTF-8)"
    )
    assert all(isinstance(item, BibRecord) for item in items[:-1])


def test_non_utf8_csv_is_refused_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("title,authors\n红楼梦,曹雪芹\n三国演义,罗贯中\n".encode("gbk"))
    with pytest.raises(CatalogueFileError, match="UTF-8"):
        read_records(path)


@pytest.mark.shared_data
def test_goodbooks_export_has_foreign_columns(shared_data: Path) -> None:
    path = shared_data / "csv" / "goodbooks-10k-books.csv"
    assert detect_format(path) == "csv"
    with pytest.raises(CatalogueFileError, match="unknown CSV columns: book_id, goodreads_book_id"):
        read_records(path)


def test_csv_content_is_sniffed_whatever_the_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "title\nA book\n", name="export.mrc")
    assert detect_format(path) == "csv"
    assert [getattr(item, "title", None) for item in read_records(path)] == ["A book"]
