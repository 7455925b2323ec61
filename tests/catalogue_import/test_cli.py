"""The command line: member CSVs, import-catalogue, search and reindex (run in-process)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import shared_data

DISTRICTS = "code,name,population,lat,lon\nD1,一区,120000,37.5,121.4\n"
LIBRARIES = (
    "code,name,kind,district_code,address,lat,lon,opening_hours\n"
    "EAST,东区图书馆,public,D1,1 East Road,37.51,121.41,Mo-Su 09:00-21:00\n"
)
BAD_LIBRARIES = (
    "code,name,kind,district_code,address,lat,lon,opening_hours\n"
    "WEST,西区图书馆,castle,D1,1 West Road,37.51,121.41,\n"
    "NORTH,北区图书馆,public,D9,1 North Road,95,121.41,\n"
)


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory and BOOKBRIDGE_* settings for the test database only."""
    for name in list(os.environ):
        if name.startswith("BOOKBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOOKBRIDGE_DATABASE_URL", database_url)
    monkeypatch.setenv("BOOKBRIDGE_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("BOOKBRIDGE_LOG_LEVEL", "WARNING")
    return tmp_path


def test_member_and_catalogue_commands(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (cli_env / "districts.csv").write_text(DISTRICTS, encoding="utf-8")
    (cli_env / "libraries.csv").write_text(LIBRARIES, encoding="utf-8")
    (cli_env / "bad.csv").write_text(BAD_LIBRARIES, encoding="utf-8")

    assert main(["districts", "import", "districts.csv"]) == 0
    assert "districts: 1 created" in capsys.readouterr().out
    assert main(["libraries", "import", "bad.csv"]) == 1
    refused = capsys.readouterr().err
    assert "nothing imported" in refused
    assert "line 2:" in refused and "line 3:" in refused
    assert main(["libraries", "import", "libraries.csv"]) == 0
    assert "libraries: 1 created" in capsys.readouterr().out

    bad_records = shared_data("bad-marc", "bad_records.mrc")
    assert main(["import-catalogue", "--library", "NOPE", str(bad_records)]) == 1
    assert "known codes: EAST" in capsys.readouterr().err
    (cli_env / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(50))
    assert main(["import-catalogue", "--library", "EAST", "cover.png"]) == 1
    assert "cover.png was refused: the file is a PNG image" in capsys.readouterr().err

    args = ["import-catalogue", "--library", "east", str(bad_records), "--report", "r.txt"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "9 records read, 7 skipped" in out
    assert "record 2: base address in the leader lies beyond the end of the record" in err
    report = (cli_env / "r.txt").read_text(encoding="utf-8")
    assert "record 9: record is truncated (no end-of-record terminator)" in report

    marc = shared_data("marc", "loc-books-first1000.marcxml")
    assert main(["import-catalogue", "--library", "EAST", "--copies", "2", str(marc)]) == 0
    out = capsys.readouterr().out
    assert "1000 records read, 0 skipped" in out
    assert "copies 1999 added" in out  # one record has a holding: one copy, not --copies
    [default_report] = (cli_env / "var" / "reports").iterdir()
    assert default_report.name.startswith("import-EAST-")

    monkeypatch.setattr("sys.stdin", io.StringIO("pragmatic programmer\n\nmacbeth shakespeare\n"))
    assert main(["search", "--json", "--limit", "3", "-"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == ["pragmatic programmer", "macbeth shakespeare"]
    [pragmatic] = lines[0]["hits"]
    assert pragmatic["title"] == "The pragmatic programmer : from journeyman to master"
    assert set(pragmatic) == {
        "work_id",
        "title",
        "original_title",
        "authors",
        "isbns",
        "year",
        "score",
    }
    assert lines[1]["hits"][0]["title"].startswith("Macbeth")

    assert main(["reindex"]) == 0
    assert "indexed 999 works" in capsys.readouterr().out  # 1 + 998 (two records merged)
    assert main(["search", "macbeth"]) == 0
    assert "Macbeth" in capsys.readouterr().out


def test_search_without_an_index(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "anything"]) == 1
    assert "run `bookbridge reindex`" in capsys.readouterr().err


def test_format_option_is_used_for_the_record_count_too(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_env / "districts.csv").write_text(DISTRICTS, encoding="utf-8")
    (cli_env / "libraries.csv").write_text(LIBRARIES, encoding="utf-8")
    assert main(["districts", "import", "districts.csv"]) == 0
    assert main(["libraries", "import", "libraries.csv"]) == 0
    capsys.readouterr()
    # A licence comment longer than the bytes the format is guessed from.
    comment = "<!-- " + "This catalogue is shared under CC0. " * 4000 + "-->\n"
    records = "".join(
        '<record><datafield tag="245" ind1="0" ind2="0">'
        f'<subfield code="a">Book {n}</subfield></datafield></record>'
        for n in (1, 2)
    )
    (cli_env / "export.dat").write_text(
        f'<?xml version="1.0"?>\n{comment}'
        f'<collection xmlns="http://www.loc.gov/MARC21/slim">{records}</collection>',
        encoding="utf-8",
    )
    args = ["import-catalogue", "--library", "EAST", "--format", "marcxml", "export.dat"]
    assert main(args) == 0
    assert "2 records read, 0 skipped" in capsys.readouterr().out
    # Detected from the content, the same file is MARCXML too.
    assert main(["import-catalogue", "--library", "EAST", "export.dat"]) == 0
    assert "works 0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    # And a format that does not fit the file is refused by the reader, not the counter.
    assert main(["import-catalogue", "--library", "EAST", "--format", "csv", "export.dat"]) == 1
    assert "export.dat was refused: unknown CSV column" in capsys.readouterr().err
