"""The reader on real Library of Congress records in ../shared/data/marc."""

import itertools
import re
import tracemalloc
from pathlib import Path

import pytest

from bot.catalogue.files import Unpacked
from bot.catalogue.reading import count_records, detect_format, read_records
from bot.catalogue.records import BibRecord

pytestmark = pytest.mark.shared_data

CJK = re.compile("[\u4e00-\u9fff]")


def _by_number(path: Path, numbers: set[int]) -> dict[int, BibRecord]:
    found: dict[int, BibRecord] = {}
    for item in itertools.islice(read_records(path), max(numbers)):
        if item.record_number in numbers:
            assert isinstance(item, BibRecord), item
            found[item.record_number] = item
    return found


def test_first_thousand_marcxml_records_all_have_titles(shared_data: Path) -> None:
    path = shared_data / "marc" / "loc-books-first1000.marcxml"
    assert detect_format(path) == "marcxml"
    assert count_records(path) is None
    items = list(read_records(path))
    assert len(items) == 1000
    assert all(isinstance(item, BibRecord) and item.title for item in items)
    first = items[0]
    assert isinstance(first, BibRecord)
    assert first.control_number == "00000002"
    assert first.title.startswith("Botanical materia medica and pharmacology; drugs considered")
    assert first.authors == ("Aurand, Samuel Herbert",)
    assert (first.year, first.publisher, first.language) == (1899, "P. H. Mallen Company", "eng")
    assert first.subjects == ("Botany, Medical", "Homeopathy")


def test_chinese_records_carry_original_script(shared_data: Path) -> None:
    path = shared_data / "marc" / "loc-books-chinese-8030.mrc"
    assert count_records(path) == 8030
    records = [item for item in read_records(path) if isinstance(item, BibRecord)]
    assert len(records) == 8030
    with_cjk = [record for record in records if CJK.search(record.original_title or "")]
    assert len(with_cjk) >= 0.99 * len(records)
    assert {record.language for record in records} == {"chi"}


def test_chinese_spot_checks(shared_data: Path) -> None:
    path = shared_data / "marc" / "loc-books-chinese-8030.mrc"
    records = _by_number(path, {1, 3, 4, 5})

    helmet = records[1]
    assert helmet.control_number == "00049912"
    assert helmet.title == "Tou dai zhi ying kui"
    assert helmet.original_title == "頭戴之硬盔"
    assert helmet.authors == ("Wu, Zhengde",)
    assert helmet.original_authors == ("吳正德",)
    assert helmet.isbns == ("9789579823104",)
    assert helmet.year == 1998
    assert helmet.work_key == "头戴之硬盔|吴正德"

    environment = records[3]
    assert environment.original_title == "全球變遷與變遷全球 : 環境社會學的視野"
    assert environment.authors == ("Wang, Junxiu",)
    assert environment.original_authors == ("王俊秀",)
    assert environment.isbns == ("9789577320988",)
    assert environment.publisher == "Ju liu tu shu gong si"

    # 245 $b holds the statement of responsibility after "$a ... /": it is not a subtitle.
    ming = records[4]
    assert ming.title == "Ming dai zheng zhi zhi du"
    assert ming.original_title == "明代政治制度"

    finance = records[5]
    assert finance.title == "Guo ji gong si li cai = International finance"
    assert finance.original_title == "國際公司理財 = International finance"
    assert finance.authors == ()
    assert finance.work_key == "国际公司理财|"


def test_compressed_file_streams_without_decompressing_everything(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared_data / "marc" / "loc-books-2016-part01.mrc.xz"
    assert detect_format(path) == "marc"
    assert count_records(path) is None
    unpacked: list[int] = []
    read = Unpacked.read

    def counted(stream: Unpacked, size: int) -> bytes:
        data = read(stream, size)
        unpacked.append(len(data))
        return data

    monkeypatch.setattr(Unpacked, "read", counted)
    tracemalloc.start()
    try:
        records = list(itertools.islice(read_records(path), 2000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [record.record_number for record in records] == list(range(1, 2001))
    assert all(isinstance(record, BibRecord) for record in records)
    # The whole file is 230 MB uncompressed; reading 2,000 records holds a few blocks.
    assert peak < 32 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB"
    # (Counted instead of timed: a time limit fails on a busy machine.)
    assert sum(unpacked) < 16 * 1024 * 1024, f"{sum(unpacked) / 1e6:.1f} MB unpacked"
