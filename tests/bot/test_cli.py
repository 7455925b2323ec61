"""The command line: help, missing and bad settings, migrate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOOKBRIDGE_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in ("run", "migrate"):
        assert command in result.stdout


def test_run_without_a_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = _run("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "BOOKBRIDGE_BOT_TOKEN" in lines[0]


def test_bad_setting_exits_2_naming_it(tmp_path: Path) -> None:
    result = _run("migrate", env={"BOOKBRIDGE_TIMEZONE": "Mars/Olympus"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "bookbridge: invalid setting BOOKBRIDGE_TIMEZONE: unknown time zone 'Mars/Olympus'"
    )
    result = _run("migrate", env={"BOOKBRIDGE_ADMIN_IDS": "42,abc"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "BOOKBRIDGE_ADMIN_IDS" in result.stderr


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOOKBRIDGE_MAX_ACTIVE_HOLDS=0\n")
    result = _run("migrate", cwd=tmp_path)
    assert result.returncode == 2
    assert "BOOKBRIDGE_MAX_ACTIVE_HOLDS" in result.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    database = tmp_path / "fresh.db"
    result = _run("migrate", env={"BOOKBRIDGE_DATABASE_URL": f"sqlite:///{database}"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert database.exists()
