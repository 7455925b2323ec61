"""Fixtures for the catalogue reader tests."""

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared test data directory; skipped when absent, except on CI where it must exist."""
    if not SHARED_DATA.is_dir():
        message = f"shared test data not found at {SHARED_DATA}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="session")
def bad_marc(shared_data: Path) -> Path:
    """The directory of small, partly broken MARC files."""
    return shared_data / "bad-marc"
