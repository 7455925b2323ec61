"""The packaged data files of the demo alliance (``bot.demo``), read with importlib.resources."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from bot.catalogue.reading import read_records
from bot.catalogue.records import BibRecord
from bot.services.errors import DomainError

DEMO_PACKAGE = "bot.demo"
# The central library: the librarian's and the organiser's, and every work's fallback holder.
CENTRAL_LIBRARY = "HBPL"


class DemoDataError(DomainError):
    """The packaged demo data is broken (a bug in the data files, not the user's fault)."""


def data_text(name: str) -> str:
    """A data file of the demo as text."""
    return files(DEMO_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def demo_catalogue_path() -> Path:
    """The packaged demo catalogue (CSV in the ``bot.catalogue`` format) on the file system."""
    resource = files(DEMO_PACKAGE).joinpath("catalogue.csv")
    if not isinstance(resource, Path):
        raise DemoDataError("the demo catalogue is not on the file system (zipped install?)")
    return resource


def demo_records() -> list[BibRecord]:
    """The records of the demo catalogue, in file order."""
    records: list[BibRecord] = []
    for record in read_records(demo_catalogue_path(), format="csv"):
        if not isinstance(record, BibRecord):
            raise DemoDataError(f"demo catalogue record {record.record_number}: {record.reason}")
        records.append(record)
    return records


def event_specs() -> list[dict[str, Any]]:
    """The upcoming events of ``events.json``, as written there."""
    specs = json.loads(data_text("events.json"))
    if not isinstance(specs, list):
        raise DemoDataError("events.json must hold a list of events")
    return specs
