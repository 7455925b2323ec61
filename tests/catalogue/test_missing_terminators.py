"""MARC records whose end-of-record byte (0x1D) is missing: nothing is swallowed or lost."""

import io
import itertools
from pathlib import Path

import pytest

from bot.catalogue.marc21 import marc_chunks
from bot.catalogue.reading import count_records, read_records
from bot.catalogue.records import BibRecord, RecordProblem
from tests.catalogue.builders import book

BETWEEN_RECORDS = b" \t\r\n\x0b\x0c\x1d"


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "records.mrc"
    path.write_bytes(data)
    return path


def _titles(path: Path) -> list[str | None]:
    return [getattr(item, "title", None) for item in read_records(path)]


def _assert_every_byte_is_in_a_chunk(data: bytes) -> None:
    """Between the chunks there are only blanks and terminators; the chunks are the file's bytes."""
    position = 0
    for chunk in marc_chunks(io.BytesIO(data)):
        assert data[position : chunk.offset].strip(BETWEEN_RECORDS) == b""
        assert data[chunk.offset : chunk.offset + len(chunk.data)] == chunk.data
        position = chunk.offset + len(chunk.data)
    assert data[position:].strip(BETWEEN_RECORDS) == b""


@pytest.mark.parametrize("instead", [b"", b"\n", b"x"], ids=["removed", "newline", "other byte"])
def test_a_record_without_its_terminator_does_not_swallow_the_next(
    tmp_path: Path, instead: bytes
) -> None:
    first, second, third = book(b"First"), book(b"Second"), book(b"Third")
    data = first[:-1] + instead + second + third
    path = _write(tmp_path, data)
    items = list(read_records(path))
    assert [getattr(item, "title", None) for item in items] == ["First", "Second", "Third"]
    assert isinstance(items[0], BibRecord)
    assert items[0].warnings == (
        "the record at byte 0 of the file has no end-of-record terminator; it was read up to "
        "the length in its leader, and the next record on its own",
    )
    assert all(isinstance(item, BibRecord) and not item.warnings for item in items[1:])
    assert count_records(path) == 3
    _assert_every_byte_is_in_a_chunk(data)


def test_ten_missing_terminators_in_500_records_lose_nothing(tmp_path: Path) -> None:
    records = [book(b"Title %d" % number) for number in range(1, 501)]
    broken = set(range(7, 500, 50))  # ten records lose their terminator
    data = b"".join(record[:-1] if n in broken else record for n, record in enumerate(records))
    path = _write(tmp_path, data)
    items = list(read_records(path))
    assert [getattr(item, "title", None) for item in items] == [
        f"Title {number}" for number in range(1, 501)
    ]
    offsets = list(itertools.accumulate((len(r) - (n in broken) for n, r in enumerate(records))))
    warned = {item.record_number: item.warnings for item in items if isinstance(item, BibRecord)}
    assert sorted(number for number, warnings in warned.items() if warnings) == [
        n + 1 for n in sorted(broken)
    ]
    for n in broken:
        (warning,) = warned[n + 1]
        start = offsets[n - 1] if n else 0
        assert warning.startswith(f"the record at byte {start:,} of the file has no end-of-record")
    assert count_records(path) == 500
    _assert_every_byte_is_in_a_chunk(data)


def test_consecutive_records_without_terminators(tmp_path: Path) -> None:
    records = [book(b"Title %d" % number) for number in range(1, 6)]
    data = b"".join(record[:-1] for record in records)
    path = _write(tmp_path, data)
    items = list(read_records(path))
    assert [getattr(item, "title", None) for item in items[:4]] == [
        "Title 1",
        "Title 2",
        "Title 3",
        "Title 4",
    ]
    # The last one ends with the file, so it cannot be told from a truncated record.
    assert items[4] == RecordProblem(5, "record is truncated (no end-of-record terminator)")
    assert count_records(path) == 5


def test_a_truncated_record_glued_to_the_next_is_reported_where_it_is(tmp_path: Path) -> None:
    first, second = book(b"First"), book(b"Second")
    data = first + first[:-30] + second
    path = _write(tmp_path, data)
    items = list(read_records(path))
    assert isinstance(items[0], BibRecord) and items[0].title == "First"
    assert items[1] == RecordProblem(
        2,
        f"record is shorter than its leader says ({len(first) - 29} of {len(first)} bytes) "
        f"(the bytes at byte {len(first):,} of the file have no end-of-record terminator; "
        "the next record was read on its own)",
    )
    assert getattr(items[2], "title", None) == "Second"
    _assert_every_byte_is_in_a_chunk(data)


def test_garbage_before_a_record_without_terminator_is_a_problem_of_its_own(
    tmp_path: Path,
) -> None:
    data = book(b"First") + b"not a record" + book(b"Second")
    path = _write(tmp_path, data)
    items = list(read_records(path))
    assert [type(item).__name__ for item in items] == ["BibRecord", "RecordProblem", "BibRecord"]
    assert isinstance(items[1], RecordProblem)
    assert items[1].reason.startswith("leader is not a valid MARC leader (the bytes at byte")
    assert getattr(items[2], "title", None) == "Second"
    assert count_records(path) == 3


def test_a_leader_length_that_is_merely_wrong_still_reads_one_record(tmp_path: Path) -> None:
    record = book(b"Only")
    stale = b"%05d" % (len(record) - 10) + record[5:]  # as after a careless re-encoding
    path = _write(tmp_path, stale + book(b"Next"))
    items = list(read_records(path))
    assert [getattr(item, "title", None) for item in items] == ["Only", "Next"]
    assert all(isinstance(item, BibRecord) and not item.warnings for item in items)


@pytest.mark.shared_data
def test_real_records_with_missing_terminators(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "marc" / "loc-books-chinese-8030.mrc"
    with source.open("rb") as stream:
        chunks = list(itertools.islice(marc_chunks(stream), 500))
    records = [chunk.data + b"\x1d" for chunk in chunks]
    whole = _write(tmp_path, b"".join(records))
    expected = list(read_records(whole))
    broken = b"".join(record[:-1] if n % 50 == 7 else record for n, record in enumerate(records))
    path = tmp_path / "broken.mrc"
    path.write_bytes(broken)
    items = list(read_records(path))
    assert len(items) == 500
    assert [getattr(item, "title", None) for item in items] == [
        getattr(item, "title", None) for item in expected
    ]
    assert sum(1 for item in items if isinstance(item, BibRecord) and item.warnings) == 10
    assert count_records(path) == 500
    _assert_every_byte_is_in_a_chunk(broken)


@pytest.mark.shared_data
def test_every_byte_of_the_bad_files_is_in_a_record_or_a_problem(bad_marc: Path) -> None:
    files = [path for path in bad_marc.iterdir() if path.suffix in (".dat", ".mrc")]
    assert files
    for path in files:
        _assert_every_byte_is_in_a_chunk(path.read_bytes())


def test_bytes_the_directory_does_not_name_are_reported(tmp_path: Path) -> None:
    first, second, third = book(b"First"), book(b"Second"), book(b"Third")
    unreadable = b"XXXXX" + second[5:-1]  # a record whose leader is broken, glued to the first
    path = _write(tmp_path, first[:-1] + unreadable + b"\x1d" + third)
    items = list(read_records(path))
    assert [getattr(item, "title", None) for item in items] == ["First", "Third"]
    assert isinstance(items[0], BibRecord)
    assert items[0].warnings == (
        f"{len(unreadable):,} bytes after the last field of the record at byte 0 of the file "
        "were not read",
    )
