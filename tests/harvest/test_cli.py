"""`bookbridge libraries connect CODE --oai-pmh URL` and `bookbridge harvest`, in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from tests.harvest.conftest import RECORDS
from tests.harvest.repository import MARC_NS, TestRepository

DISTRICTS = "code,name,population,lat,lon\nD1,一区,120000,37.5,121.4\n"
LIBRARIES = (
    "code,name,kind,district_code,address,lat,lon,opening_hours\n"
    "EAST,东区图书馆,public,D1,1 East Road,37.51,121.41,Mo-Su 09:00-21:00\n"
)


def _title(payload: bytes) -> str:
    from lxml import etree

    path = f"{{{MARC_NS}}}datafield[@tag='245']/{{{MARC_NS}}}subfield[@code='a']"
    return str(etree.fromstring(payload).findtext(path)).strip(" /:")


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("BOOKBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOOKBRIDGE_DATABASE_URL", database_url)
    monkeypatch.setenv("BOOKBRIDGE_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("BOOKBRIDGE_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("BOOKBRIDGE_HARVEST_TIMEOUT_S", "5")
    (tmp_path / "districts.csv").write_text(DISTRICTS, encoding="utf-8")
    (tmp_path / "libraries.csv").write_text(LIBRARIES, encoding="utf-8")
    assert main(["districts", "import", "districts.csv"]) == 0
    assert main(["libraries", "import", "libraries.csv"]) == 0
    return tmp_path


def test_connect_then_harvest_then_a_failure_in_one_line(
    cli_env: Path, repository: TestRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["harvest"]) == 1
    assert "no library is connected" in capsys.readouterr().err
    assert main(["libraries", "connect", "EAST"]) == 1
    assert "--oai-pmh URL" in capsys.readouterr().err
    assert main(["libraries", "connect", "NOPE", "--oai-pmh", repository.url]) == 1
    assert "no library has the code 'NOPE'" in capsys.readouterr().err

    assert main(["libraries", "connect", "east", "--oai-pmh", repository.url]) == 0
    assert f"harvests {repository.url} (marc21)" in capsys.readouterr().out
    assert main(["harvest", "--library", "EAST"]) == 0
    out = capsys.readouterr().out
    assert f"EAST: {RECORDS} records harvested, 0 deleted, 0 skipped in 3 page(s)" in out
    first = repository.catalogue.entries[sorted(repository.catalogue.entries)[0]].payload
    assert first is not None
    assert main(["search", "--json", "--limit", "1", _title(first)]) == 0
    assert '"work_id"' in capsys.readouterr().out  # the index was updated

    repository.faults.append(lambda query: (500, b"oops") if "from" in query else None)
    assert main(["harvest"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "bookbridge" in line]
    assert err == [
        "bookbridge: harvest of EAST stopped: the repository answered HTTP 500; "
        "the next harvest resumes there"
    ]
    assert main(["harvest", "--full"]) == 0
    assert f"EAST: {RECORDS} records harvested" in capsys.readouterr().out

    assert (
        main(
            [
                "libraries",
                "connect",
                "EAST",
                "--oai-pmh",
                repository.url,
                "--metadata-prefix",
                "unimarc",
                "--set",
                "books",
            ]
        )
        == 0
    )
    capsys.readouterr()
    # The repository keeps no sets: nothing matches, which is nothing to do.
    assert main(["harvest"]) == 0
    assert "EAST: 0 records harvested" in capsys.readouterr().out
    listed = [r for r in repository.requests if r.get("verb") == "ListRecords"][-1]
    assert (listed["metadataPrefix"], listed["set"]) == ("unimarc", "books")
    # UNIMARC records, from the start again (the source changed).
    assert (
        main(
            [
                "libraries",
                "connect",
                "EAST",
                "--oai-pmh",
                repository.url,
                "--metadata-prefix",
                "unimarc",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["harvest"]) == 0
    assert f"EAST: {RECORDS} records harvested, 0 deleted, 0 skipped" in capsys.readouterr().out
