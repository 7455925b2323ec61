"""What an import did, as counts and problems, and the plain-text report of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.catalogue.records import CatalogueFileError, CatalogueTooLargeError, RecordProblem
from bot.models import utcnow

__all__ = ["ImportReport", "file_error_kind", "report_text"]


@dataclass
class ImportReport:
    """What an import did. Each good record counts once: created, updated or unchanged."""

    library_code: str
    source: str
    records_read: int = 0
    records_skipped: int = 0
    works_created: int = 0
    works_updated: int = 0
    works_unchanged: int = 0
    items_created: int = 0
    items_updated: int = 0
    problems: list[RecordProblem] = field(default_factory=list)
    changed_work_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        """Import speed, records read per second of wall time."""
        return self.records_read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One English line for the command line."""
        return (
            f"{self.source} -> {self.library_code}: {self.records_read} records read, "
            f"{self.records_skipped} skipped; works {self.works_created} created, "
            f"{self.works_updated} updated, {self.works_unchanged} unchanged; "
            f"copies {self.items_created} added, {self.items_updated} updated; "
            f"{len(self.problems)} problem(s); {self.seconds:.1f} s"
        )


def report_text(report: ImportReport, *, started_at: datetime | None = None) -> str:
    """The plain-text report of an import: summary, then one line per problem."""
    lines = [f"Catalogue import report ({(started_at or utcnow()).isoformat(timespec='seconds')})"]
    lines.append(report.summary())
    lines.append("")
    if report.problems:
        lines.append(f"Problems ({len(report.problems)}):")
        lines += [f"record {p.record_number}: {p.reason}" for p in report.problems]
    else:
        lines.append("No problems.")
    return "\n".join(lines) + "\n"


def file_error_kind(error: CatalogueFileError) -> str:
    """Classify a refused file for translation.

    One of: empty, image, archive, document (PDF, Office), json, encoding (a CSV not in
    UTF-8), unknown (not a catalogue at all, such as random bytes), too_large (past one of
    the read limits: see ``CatalogueTooLargeError.bound``) and other (say why).
    """
    if isinstance(error, CatalogueTooLargeError):
        return "too_large"
    message = str(error)
    kinds = (
        ("the file is empty", "empty"),
        ("image", "image"),
        ("archive", "archive"),
        ("PDF", "document"),
        ("Office", "document"),
        ("JSON", "json"),
        ("the CSV file is not UTF-8", "encoding"),
        ("the file is not a catalogue file", "unknown"),
    )
    return next((kind for clue, kind in kinds if clue in message), "other")
