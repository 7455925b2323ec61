"""/import for admins: a library's catalogue file sent as a document, imported with progress."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import tempfile
import time
from html import escape
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, Document, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalogue.reading import FileFormat, count_records
from bot.catalogue.records import CatalogueFileError, CatalogueTooLargeError, ReadLimits
from bot.config import Settings
from bot.models import Reader, Role
from bot.services import directory
from bot.services.catalogue_import.libraries import UnknownLibraryError, find_library
from bot.services.catalogue_import.report import ImportReport, file_error_kind
from bot.services.catalogue_import.run import import_catalogue
from bot.services.indexing import CatalogueIndexer
from handlers.drafts import Draft
from handlers.filters import HasRole

logger = logging.getLogger(__name__)

USAGE = "/import LIBRARY_CODE [cnmarc|unimarc|marc|marcxml|csv]"
# Formats an admin may force after the code; without one the file's content decides.
FORMATS: tuple[FileFormat, ...] = ("cnmarc", "unimarc", "marc", "marcxml", "csv")
MAX_DOCUMENT_MB = 50
PROGRESS_INTERVAL_S = 2.0
DOWNLOAD_TIMEOUT_S = 600
_UNSAFE_NAME = re.compile(r"[^\w.-]+")


class CatalogueImport(StatesGroup):
    """Waiting for the catalogue file after /import CODE."""

    document = State()


class ImportDraft(Draft):
    """The library whose catalogue the next file is."""

    key = "catalogue_import"
    command = "/import"

    library: str = Field(min_length=1)
    file_format: FileFormat = "auto"


def _too_large(error: CatalogueTooLargeError) -> str:
    if error.bound == "unpacked":
        return _(
            "The compressed file unpacks to more than {limit} MB, more than I accept: "
            "split the catalogue into smaller files."
        ).format(limit=error.limit // (1024 * 1024))
    if error.bound == "field":
        return _(
            "A field in the file is longer than {limit} KB, so I can't read it as a catalogue."
        ).format(limit=error.limit // 1024)
    return _(
        "A line or record in the file is longer than {limit} KB, so I can't read it as a catalogue."
    ).format(limit=error.limit // 1024)


def file_refusal(error: CatalogueFileError) -> str:
    """Why a file was refused, in the reader's language."""
    if isinstance(error, CatalogueTooLargeError):
        return _too_large(error)
    kind = file_error_kind(error)
    reasons = {
        "empty": _("The file is empty."),
        "image": _("That is an image, not a catalogue file."),
        "archive": _("That is a ZIP, RAR or 7-Zip archive: send the catalogue file itself."),
        "document": _("That is a PDF or office document, not a catalogue file."),
        "json": _("MARC-in-JSON and other JSON files are not supported."),
        "encoding": _("The CSV file is not UTF-8 text: save it as “CSV UTF-8” and send it again."),
        "unknown": _("That is not a catalogue file I can read."),
    }
    reason = reasons.get(kind) or _("I can't read this file as a catalogue ({detail}).").format(
        detail=escape(str(error))
    )
    return (
        reason
        + "\n"
        + _("Please export the catalogue as MARC 21 (.mrc), MARCXML (.xml) or CSV and send it.")
    )


def unknown_library(error: UnknownLibraryError) -> str:
    """No library has the code: name the codes that exist."""
    return _("No library has the code “{code}”. Known codes: {codes}").format(
        code=escape(error.code[:40]), codes=escape(", ".join(error.known)) or "—"
    )


def summary_text(report: ImportReport, library: str) -> str:
    """The end-of-import summary."""
    lines = [
        _("✅ Import into {library} finished.").format(library=escape(library)),
        _("Records read: {count}").format(count=report.records_read),
        _("Works created: {created}, updated: {updated}, unchanged: {unchanged}").format(
            created=report.works_created,
            updated=report.works_updated,
            unchanged=report.works_unchanged,
        ),
        _("Copies added: {count}").format(count=report.items_created),
    ]
    if report.records_skipped:
        lines.append(
            _("Records skipped (unreadable): {count}").format(count=report.records_skipped)
        )
    if report.problems:
        lines.append(
            _("Problems: {count} — see the attached report.").format(count=len(report.problems))
        )
    else:
        lines.append(_("No problems."))
    return "\n".join(lines)


def report_document(report: ImportReport, library: str) -> str:
    """The .txt report: the summary, then one line per problem."""
    lines = [summary_text(report, library), ""]
    lines += [
        _("Record {number}: {reason}").format(number=p.record_number, reason=p.reason)
        for p in report.problems
    ]
    return "\n".join(lines) + "\n"


class ImportProgress:
    """Edits one status message with the records read, at most every PROGRESS_INTERVAL_S."""

    def __init__(self, status: Message, heading: str, total: int | None) -> None:
        self.status = status
        self.heading = heading
        self.total = total
        self.last_edit = time.monotonic()
        self.task: asyncio.Task[None] | None = None

    def text(self, read: int) -> str:
        if self.total:
            counted = _("{read} of {total} records read ({percent}%)").format(
                read=read, total=self.total, percent=min(100, read * 100 // self.total)
            )
        else:
            counted = _("{read} records read").format(read=read)
        return f"{self.heading}\n{counted}"

    def __call__(self, read: int) -> None:
        now = time.monotonic()
        if now - self.last_edit < PROGRESS_INTERVAL_S or (self.task and not self.task.done()):
            return
        self.last_edit = now
        self.task = asyncio.create_task(self.show(self.text(read)))

    async def show(self, text: str) -> None:
        """Edit the status message; a failed progress edit is only logged."""
        try:
            await self.status.edit_text(text)
        except TelegramAPIError as exc:
            logger.info("progress edit failed: %s", exc)

    async def settle(self) -> None:
        """Wait for an edit in flight, so later edits are not overtaken."""
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        self.last_edit = time.monotonic()


def read_limits(settings: Settings) -> ReadLimits:
    """How much of a catalogue file the bot reads: see the CATALOGUE_MAX_* settings."""
    return ReadLimits.of(
        unpacked_mb=settings.catalogue_max_unpacked_mb,
        field_kb=settings.catalogue_max_field_kb,
        line_kb=settings.catalogue_max_line_kb,
    )


def _file_name(document: Document) -> str:
    name = _UNSAFE_NAME.sub("_", Path(document.file_name or "catalogue").name).strip("._")
    return name[:100] or "catalogue"


async def _run_import(
    message: Message,
    document: Document,
    library_code: str,
    bot: Bot,
    reader: Reader,
    sessionmaker: async_sessionmaker[AsyncSession],
    indexer: CatalogueIndexer,
    settings: Settings,
    file_format: FileFormat = "auto",
) -> None:
    if document.file_size and document.file_size > MAX_DOCUMENT_MB * 1024 * 1024:
        await message.answer(_too_big())
        return
    name = _file_name(document)
    status = await message.answer(_("Downloading {file}…").format(file=escape(name)))
    with tempfile.TemporaryDirectory(prefix="bookbridge-import-") as folder:
        path = Path(folder) / name
        try:
            await bot.download(document, destination=path, timeout=DOWNLOAD_TIMEOUT_S)
        except TelegramBadRequest as exc:
            if "too big" not in exc.message:
                raise
            await status.edit_text(_too_big())
            return
        heading = _("Importing {file} into {library}…").format(
            file=escape(name), library=escape(library_code)
        )
        try:
            total = await asyncio.to_thread(count_records, path, format=file_format)
        except CatalogueFileError as exc:
            await status.edit_text(file_refusal(exc))
            return
        progress = ImportProgress(status, heading, total)
        await progress.show(progress.text(0))
        try:
            report = await import_catalogue(
                sessionmaker,
                library_code,
                path,
                file_format=file_format,
                progress=progress,
                actor=reader,
                read_limits=read_limits(settings),
                settings=settings,
            )
        except CatalogueFileError as exc:
            await progress.settle()
            await status.edit_text(file_refusal(exc))
            return
        except UnknownLibraryError as exc:
            await progress.settle()
            await status.edit_text(unknown_library(exc))
            return
    await progress.settle()
    await progress.show(
        heading
        + "\n"
        + _("Updating the search index ({count} works)…").format(count=len(report.changed_work_ids))
    )
    # This instance's index now; the others catch up from the recorded changes.
    await indexer.catch_up()
    await status.edit_text(summary_text(report, report.library_code))
    await message.answer_document(
        BufferedInputFile(
            report_document(report, report.library_code).encode("utf-8"),
            filename=f"import-{report.library_code}-report.txt",
        ),
        caption=_("Import report for {file}").format(file=escape(name)),
    )


def _too_big() -> str:
    return _(
        "That file is too big for me (the limit is {limit} MB). "
        "Split it, or import it on the server with “bookbridge import-catalogue”."
    ).format(limit=MAX_DOCUMENT_MB)


def _chosen_format(words: list[str]) -> FileFormat | None:
    """The format named after the library code ("auto" without one; None if unknown)."""
    if not words:
        return "auto"
    word = words[0].lower()
    return next((known for known in FORMATS if known == word), None)


async def import_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    bot: Bot,
    reader: Reader,
    sessionmaker: async_sessionmaker[AsyncSession],
    indexer: CatalogueIndexer,
    settings: Settings,
) -> None:
    """/import CODE: wait for the file, or import the document this command captions."""
    parts = (command.args or "").split()
    chosen = _chosen_format(parts[1:])
    if not 1 <= len(parts) <= 2 or len(parts[0]) > 40 or chosen is None:
        codes = await directory.library_codes(session)
        await message.answer(
            _("Usage: {usage}").format(usage=USAGE)
            + "\n"
            + _("Known codes: {codes}").format(codes=escape(", ".join(codes)) or "—")
        )
        return
    try:
        library = await find_library(session, parts[0])
    except UnknownLibraryError as exc:
        await message.answer(unknown_library(exc))
        return
    # End the update's transaction: the import writes in its own, batch by batch.
    await session.commit()
    if message.document is not None:
        await state.clear()
        await _run_import(
            message,
            message.document,
            library.code,
            bot,
            reader,
            sessionmaker,
            indexer,
            settings,
            chosen,
        )
        return
    await state.set_state(CatalogueImport.document)
    await ImportDraft(library=library.code, file_format=chosen).save(state)
    await message.answer(
        _(
            "Send me the catalogue of {library} as a file (MARC 21, CNMARC/UNIMARC, MARCXML "
            "or CSV, up to {limit} MB). /cancel to stop."
        ).format(library=escape(library.code), limit=MAX_DOCUMENT_MB)
    )


async def document_received(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    bot: Bot,
    reader: Reader,
    sessionmaker: async_sessionmaker[AsyncSession],
    indexer: CatalogueIndexer,
    settings: Settings,
) -> None:
    """The file after /import CODE."""
    draft = await ImportDraft.load(state)
    await state.clear()
    await session.commit()
    assert message.document is not None
    library = draft.library
    await _run_import(
        message,
        message.document,
        library,
        bot,
        reader,
        sessionmaker,
        indexer,
        settings,
        draft.file_format,
    )


async def not_a_document(message: Message) -> None:
    """A photo or something else while the file is expected."""
    await message.answer(
        _(
            "Please send the catalogue as a file (a document), not as a photo or text. "
            "/cancel to stop."
        )
    )


async def cancel(message: Message, state: FSMContext) -> None:
    """/cancel while the file is expected."""
    await state.clear()
    await message.answer(_("Import cancelled."))


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.message.register(import_command, Command("import"))
    waiting = StateFilter(CatalogueImport.document)
    router.message.register(cancel, waiting, Command("cancel"))
    router.message.register(document_received, waiting, F.document)
    router.message.register(
        not_a_document, waiting, F.photo | F.video | F.audio | F.voice | ~F.text.startswith("/")
    )
    return router
