"""Compressed bombs and oversized fields or lines: refused in a bounded amount of memory."""

import gzip
import itertools
import lzma
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.catalogue.reading import read_records
from bot.catalogue.records import (
    BibRecord,
    CatalogueTooLargeError,
    ReadLimits,
    RecordProblem,
)
from tests.catalogue.builders import book

MB = 1024 * 1024
# Each bomb unpacks to this much; reading it whole would take at least as much memory.
BOMB_MB = 64
# What reading a bomb may hold at its peak: a few blocks and the largest allowed field or line.
PEAK_BYTES = 12 * MB
SLIM = 'xmlns="http://www.loc.gov/MARC21/slim"'


def _gzip_bomb(path: Path, head: bytes, fill: bytes, tail: bytes = b"") -> Path:
    """A small .gz that unpacks to `head`, BOMB_MB of `fill`, then `tail`."""
    block = fill * (MB // len(fill))
    with gzip.open(path, "wb", compresslevel=1) as packed:
        packed.write(head)
        for _ in range(BOMB_MB):
            packed.write(block)
        packed.write(tail)
    assert path.stat().st_size < MB
    return path


def _peak(read: Callable[[], object]) -> int:
    """The peak of memory traced while `read` runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        read()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _refusal(path: Path, limits: ReadLimits | None = None) -> CatalogueTooLargeError:
    refusals: list[CatalogueTooLargeError] = []

    def read() -> None:
        with pytest.raises(CatalogueTooLargeError) as refused:
            list(read_records(path, limits=limits))
        refusals.append(refused.value)

    peak = _peak(read)
    assert peak < PEAK_BYTES, f"peak traced memory {peak / MB:.1f} MB"
    return refusals[0]


XML_HEAD = f'<?xml version="1.0"?>\n<collection {SLIM}>\n<record>'.encode()
FIELD_245 = b'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">'


def test_a_csv_line_that_never_ends_is_refused(tmp_path: Path) -> None:
    path = _gzip_bomb(tmp_path / "books.csv.gz", b"title,summary\nBomb,", b"a")
    refused = _refusal(path)
    assert (refused.bound, refused.limit) == ("line", ReadLimits().line)
    assert str(refused) == "a CSV line or XML record is longer than 1,048,576 bytes"


def test_a_csv_row_of_many_quoted_lines_is_refused(tmp_path: Path) -> None:
    # Each value is short (under the csv module's own limit); the row never ends.
    path = _gzip_bomb(tmp_path / "books.csv.gz", b"title,summary\nBomb,", b'"a\nb",')
    # The csv module holds each value as an object: a smaller bound keeps the peak low.
    refused = _refusal(path, ReadLimits(line=256 * 1024))
    assert (refused.bound, refused.limit) == ("line", 256 * 1024)


def test_a_marcxml_field_that_never_ends_is_refused(tmp_path: Path) -> None:
    path = _gzip_bomb(tmp_path / "books.xml.gz", XML_HEAD + FIELD_245, b"a")
    refused = _refusal(path)
    assert (refused.bound, refused.limit) == ("field", ReadLimits().field)
    assert str(refused) == "a field or XML tag is longer than 262,144 bytes"


@pytest.mark.parametrize(
    ("head", "fill"),
    [
        (f"<collection {SLIM}><!--".encode(), b"a"),  # a comment
        (XML_HEAD + b'<datafield tag="245" ind1="', b"a"),  # an attribute value
        (f"<collection {SLIM}><record><".encode(), b"a"),  # a tag name
    ],
    ids=["comment", "attribute", "tag name"],
)
def test_an_xml_token_that_never_ends_is_refused(tmp_path: Path, head: bytes, fill: bytes) -> None:
    path = _gzip_bomb(tmp_path / "books.xml.gz", head, fill)
    assert _refusal(path).bound == "field"


def test_a_marcxml_record_of_endless_small_fields_is_refused(tmp_path: Path) -> None:
    note = (
        b'<datafield tag="650" ind1=" " ind2="0"><subfield code="a">Subject</subfield></datafield>'
    )
    path = _gzip_bomb(tmp_path / "books.xml.gz", XML_HEAD + FIELD_245 + b"T</subfield>", note)
    assert _refusal(path).bound == "line"


def test_unused_text_outside_records_is_not_held(tmp_path: Path) -> None:
    record = FIELD_245 + b"Kept</subfield></datafield></record>"
    head = f"<collection {SLIM}><record>".encode() + record + b"<note>"
    path = _gzip_bomb(tmp_path / "books.xml.gz", head, b"a", b"</note></collection>")
    titles: list[str] = []

    def read() -> None:
        titles.extend(item.title for item in read_records(path) if isinstance(item, BibRecord))

    assert _peak(read) < PEAK_BYTES
    assert titles == ["Kept"]


def test_a_file_that_unpacks_past_the_bound_is_refused(tmp_path: Path) -> None:
    # Text the reader does not keep, before any record: only unpacking is left to bound.
    head = f"<collection {SLIM}><note>".encode()
    path = _gzip_bomb(tmp_path / "books.xml.gz", head, b"a", b"</note></collection>")
    refused = _refusal(path, ReadLimits(unpacked=16 * MB))
    assert (refused.bound, refused.limit) == ("unpacked", 16 * MB)
    assert str(refused) == "the compressed file unpacks to more than 16,777,216 bytes"


def test_reading_stops_with_a_problem_when_a_bound_is_passed_after_good_records(
    tmp_path: Path,
) -> None:
    records = b"".join(book(b"Title %d" % n) for n in range(1, 20001))
    path = tmp_path / "books.mrc.xz"
    path.write_bytes(lzma.compress(records))
    items = list(read_records(path, limits=ReadLimits(unpacked=len(records) // 2)))
    good = list(itertools.takewhile(lambda item: isinstance(item, BibRecord), items))
    assert len(good) > 1000
    assert items[len(good) :] == [
        RecordProblem(
            len(good) + 1,
            f"the compressed file unpacks to more than {len(records) // 2:,} bytes; "
            "reading stopped",
        )
    ]


def test_files_within_the_bounds_read_as_before(tmp_path: Path) -> None:
    summary = "长" * 200_000  # a long field, under the 256 KB default
    xml = (
        f'<collection {SLIM}><record><datafield tag="245" ind1="0" ind2="0">'
        f'<subfield code="a">Long</subfield></datafield><datafield tag="520" ind1=" " ind2=" ">'
        f'<subfield code="a">{summary}</subfield></datafield></record></collection>'
    )
    path = tmp_path / "long.xml.gz"
    path.write_bytes(gzip.compress(xml.encode()))
    (record,) = list(read_records(path))
    assert isinstance(record, BibRecord) and record.summary == summary
