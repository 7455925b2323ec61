"""/import in the chat: refusals, bad files, and a real import end to end."""

from __future__ import annotations

import gzip
import io

import pytest
from aiogram.types import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import AuditLog, Item, Work
from handlers import catalogue_admin
from handlers.catalogue_admin import ImportProgress
from tests.conftest import ADMIN_TELEGRAM_ID, HarnessFactory, shared_data
from tests.factories import make_library
from tests.harness import BotHarness, ChatUser

EXPORT_HINT = "Please export the catalogue as MARC 21 (.mrc), MARCXML (.xml) or CSV and send it."
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


async def _alliance(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> ChatUser:
    async with sessionmaker() as session:
        await make_library(session, code="EAST")
        await make_library(session, code="WEST")
        await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.onboard()
    return admin


def _text(message: Message) -> str:
    return message.text or message.caption or ""


async def test_readers_are_refused(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _alliance(harness, sessionmaker)
    reader = harness.user(301, "Reader")
    await reader.onboard()
    refusal = "Sorry, /import is only for alliance admins. Send /help to see what you can do."
    [reply] = await reader.send("/import EAST")
    assert reply.text == refusal
    [reply] = await reader.send_document("books.mrc", b"00000", caption="/import EAST")
    assert reply.text == refusal


async def test_usage_unknown_code_and_bad_files(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _alliance(harness, sessionmaker)
    [usage] = await admin.send("/import")
    assert _text(usage) == (
        "Usage: /import LIBRARY_CODE [cnmarc|unimarc|marc|marcxml|csv]\nKnown codes: EAST, WEST"
    )
    [unknown] = await admin.send("/import NORTH")
    assert _text(unknown) == "No library has the code “NORTH”. Known codes: EAST, WEST"

    [prompt] = await admin.send("/import east")
    assert _text(prompt).startswith("Send me the catalogue of EAST as a file")
    [reminder] = await admin.send_photo(PNG)
    assert _text(reminder).startswith("Please send the catalogue as a file (a document)")
    [refusal] = await admin.send_document("cover.png", PNG)  # the status message, edited
    assert _text(refusal) == "That is an image, not a catalogue file.\n" + EXPORT_HINT

    cases = {
        "blank.mrc": (b"   \n", "The file is empty."),
        "noise.bin": (bytes(range(256)) * 8, "That is not a catalogue file I can read."),
        "books.json": (
            b'[{"leader": "x"}]',
            "MARC-in-JSON and other JSON files are not supported.",
        ),
    }
    for name, (content, expected) in cases.items():
        [reply] = await admin.send_document(name, content, caption="/import EAST")
        assert _text(reply).startswith(expected), name
        assert _text(reply).endswith(EXPORT_HINT), name
    await admin.send("/import WEST")
    [cancelled] = await admin.send("/cancel")
    assert _text(cancelled) == "Import cancelled."
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Item.id))) == 0


async def test_too_big(
    harness: BotHarness,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = await _alliance(harness, sessionmaker)
    monkeypatch.setattr(catalogue_admin, "MAX_DOCUMENT_MB", 0)
    [reply] = await admin.send_document("big.mrc", b"x" * 100, caption="/import EAST")
    assert _text(reply).startswith("That file is too big for me (the limit is 0 MB).")


async def test_import_end_to_end(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _alliance(harness, sessionmaker)
    content = shared_data("bad-marc", "bad_records.mrc").read_bytes()
    [prompt] = await admin.send("/import EAST")
    assert "MARC 21, CNMARC/UNIMARC, MARCXML or CSV" in _text(prompt)
    status, report = await admin.send_document("bad_records.mrc", content)
    # One status message, edited from "Downloading" through progress to the summary.
    lines = _text(status).splitlines()
    assert lines[0] == "✅ Import into EAST finished."
    assert "Records read: 9" in lines
    assert "Works created: 1, updated: 0, unchanged: 1" in lines
    assert "Copies added: 1" in lines
    assert "Records skipped (unreadable): 7" in lines
    assert "Problems: 7 — see the attached report." in lines
    assert report.document is not None
    assert report.document.file_name == "import-EAST-report.txt"
    stored = harness.sandbox.file(report.document.file_id)
    assert stored is not None
    document = stored.content.decode("utf-8")
    assert "Record 2: base address in the leader lies beyond the end of the record" in document
    assert "Record 9: record is truncated (no end-of-record terminator)" in document

    hits = (await harness.app.indexer.index.search("pragmatic programmer")).hits
    assert len(hits) == 1
    async with sessionmaker() as session:
        actions = list(await session.scalars(select(AuditLog.action)))
    assert "catalogue.import" in actions

    # The same file again, as a captioned document: nothing changes.
    status, _report = await admin.send_document("bad_records.mrc", content, caption="/import EAST")
    assert "Works created: 0, updated: 0, unchanged: 2" in _text(status).splitlines()


class _StatusMessage:
    def __init__(self) -> None:
        self.edits: list[str] = []

    async def edit_text(self, text: str) -> None:
        self.edits.append(text)


async def test_progress_edits_at_most_every_interval(harness: BotHarness) -> None:
    status = _StatusMessage()
    i18n = harness.app.i18n
    with i18n.context(), i18n.use_locale("en"):
        progress = ImportProgress(status, "Importing", 4000)  # type: ignore[arg-type]
        for read in (1000, 2000, 3000):
            progress(read)  # within the interval of the start: no edit
        await progress.settle()
        assert status.edits == []
        progress.last_edit -= catalogue_admin.PROGRESS_INTERVAL_S
        progress(3000)
        progress(4000)  # an edit is in flight, and the interval starts again
        await progress.settle()
    assert status.edits == ["Importing\n3000 of 4000 records read (75%)"]


def _csv_bomb() -> bytes:
    """A small .gz holding a CSV whose first row never ends (32 MB unpacked)."""
    packed = io.BytesIO()
    with gzip.open(packed, "wb", compresslevel=1) as bomb:
        bomb.write(b"title,summary\nBomb,")
        block = b"a" * (1024 * 1024)
        for _ in range(32):
            bomb.write(block)
    return packed.getvalue()


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        (
            "en",
            "A line or record in the file is longer than 1024 KB, so I can't read it as a "
            "catalogue.",
        ),
        ("zh", "文件中有一行或一条记录超过 1024 KB，我无法把它作为目录文件读取。"),
    ],
)
async def test_a_compressed_bomb_is_refused_in_one_line(
    harness: BotHarness,
    sessionmaker: async_sessionmaker[AsyncSession],
    language: str,
    refusal: str,
) -> None:
    async with sessionmaker() as session:
        await make_library(session, code="EAST")
        await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.onboard(language)
    [reply] = await admin.send_document("books.csv.gz", _csv_bomb(), caption="/import EAST")
    assert _text(reply) == refusal
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Item.id))) == 0
        assert await session.scalar(select(func.count(Work.id))) == 0


async def test_the_bounds_come_from_the_settings(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(
        catalogue_max_unpacked_mb=2, catalogue_max_field_kb=1, catalogue_max_line_kb=65536
    )
    admin = await _alliance(harness, harness.app.sessionmaker)
    [reply] = await admin.send_document("books.csv.gz", _csv_bomb(), caption="/import EAST")
    assert _text(reply) == (
        "The compressed file unpacks to more than 2 MB, more than I accept: "
        "split the catalogue into smaller files."
    )
    content = (
        '<collection xmlns="http://www.loc.gov/MARC21/slim"><record>'
        '<datafield tag="245" ind1="0" ind2="0"><subfield code="a">' + "长" * 2000 + "</subfield>"
        "</datafield></record></collection>"
    ).encode()
    [reply] = await admin.send_document("books.xml", content, caption="/import EAST")
    assert _text(reply) == (
        "A field in the file is longer than 1 KB, so I can't read it as a catalogue."
    )
