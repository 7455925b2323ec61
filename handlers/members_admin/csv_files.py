"""Districts and libraries as CSV files: an upload is previewed before it is imported, and
the current ones can be downloaded in the same columns (to edit and upload again)."""

from __future__ import annotations

import io
from html import escape
from typing import ClassVar

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader
from bot.services import member_admin, members
from bot.services.member_admin import ImportPreview
from bot.services.members import Entity, MemberImportReport
from handlers.admin_callbacks import MemberAction, MemberChoice, MemberEntity
from handlers.common import edit_message
from handlers.drafts import Draft
from handlers.members_admin.lists import member_button
from handlers.members_admin.words import problem_text

MAX_CSV_BYTES = 512 * 1024
MAX_PROBLEMS_SHOWN = 25
ENTITIES: dict[MemberEntity, Entity] = {
    MemberEntity.DISTRICTS: "districts",
    MemberEntity.LIBRARIES: "libraries",
}


class MemberCsv(StatesGroup):
    """Waiting for a CSV file, then for the confirmation of its preview."""

    document = State()
    confirm = State()


class UploadForm(Draft):
    """An upload: what it is for, and the previewed file once it was accepted."""

    key: ClassVar[str] = "member_csv"
    command: ClassVar[str] = "/admin"

    entity: MemberEntity
    csv: str | None = None


def _columns_hint(entity: MemberEntity) -> str:
    districts = entity is MemberEntity.DISTRICTS
    required = members.DISTRICT_COLUMNS if districts else members.LIBRARY_COLUMNS
    optional = members.DISTRICT_OPTIONAL_COLUMNS if districts else members.LIBRARY_OPTIONAL_COLUMNS
    return _("Columns: {required}; optional: {optional}.").format(
        required=", ".join(required), optional=", ".join(optional)
    )


async def start_upload(
    callback: CallbackQuery, callback_data: MemberChoice, state: FSMContext
) -> None:
    """📄 Upload CSV: wait for the file."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    entity = callback_data.entity
    await state.set_state(MemberCsv.document)
    await state.set_data({})
    await UploadForm(entity=entity).save(state)
    what = _("districts") if entity is MemberEntity.DISTRICTS else _("libraries")
    await callback.message.answer(
        _(
            "Send the {what} as a CSV file (UTF-8, a header row first). I will show what "
            "would change before anything is stored. /cancel to stop."
        ).format(what=what)
        + "\n"
        + _columns_hint(entity),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[member_button(_("✖️ Cancel"), entity, MemberAction.CANCEL)]]
        ),
    )


def _preview_text(preview: ImportPreview) -> str:
    report = preview.report
    lines = [
        _(
            "This file would create {created}, update {updated} and leave {unchanged} unchanged."
        ).format(created=report.created, updated=report.updated, unchanged=report.unchanged)
    ]
    if preview.created:
        lines.append(_("New: {codes}").format(codes=escape(", ".join(preview.created[:40]))))
    for code, changed in list(preview.updated.items())[:20]:
        lines.append(
            _("{code}: changes {fields}").format(
                code=escape(code),
                fields=escape(", ".join(changed).replace("district_id", "district")),
            )
        )
    lines.append(_("Import it?"))
    return "\n".join(lines)


def _problems_text(report: MemberImportReport) -> str:
    lines = [
        _("I can't import this file: {count} problem(s). Nothing was stored.").format(
            count=len(report.problems)
        )
    ]
    lines += [problem_text(problem) for problem in report.problems[:MAX_PROBLEMS_SHOWN]]
    if len(report.problems) > MAX_PROBLEMS_SHOWN:
        lines.append(
            _("…and {count} more.").format(count=len(report.problems) - MAX_PROBLEMS_SHOWN)
        )
    lines.append(_("Fix the file and send it again, or /cancel."))
    return "\n".join(lines)


async def _csv_text(message: Message, bot: Bot) -> str | None:
    """The document as UTF-8 CSV text, or None after saying why it is not."""
    document = message.document
    assert document is not None
    too_big = _("That file is too big: a member CSV may be at most {limit} KB.").format(
        limit=MAX_CSV_BYTES // 1024
    )
    if document.file_size and document.file_size > MAX_CSV_BYTES:
        await message.answer(too_big)
        return None
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    content = buffer.getvalue()
    if len(content) > MAX_CSV_BYTES:
        await message.answer(too_big)
        return None
    try:
        csv_text = content.decode("utf-8")
    except UnicodeDecodeError:
        await message.answer(
            _("The file is not UTF-8 text: save it as “CSV UTF-8” and send it again.")
        )
        return None
    if "\x00" in csv_text:
        await message.answer(_("That is not a CSV text file."))
        return None
    return csv_text


async def file_received(
    message: Message, session: AsyncSession, state: FSMContext, bot: Bot
) -> None:
    """The CSV file: checked and previewed inside a rolled-back transaction."""
    upload = await UploadForm.load(state)
    csv_text = await _csv_text(message, bot)
    if csv_text is None:
        return
    preview = await member_admin.preview_import(session, ENTITIES[upload.entity], csv_text)
    if not preview.report.ok:
        await message.answer(_problems_text(preview.report))
        return
    upload.csv = csv_text
    await upload.save(state)
    await state.set_state(MemberCsv.confirm)
    await message.answer(
        _preview_text(preview),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    member_button(_("✅ Import"), upload.entity, MemberAction.IMPORT),
                    member_button(_("✖️ Cancel"), upload.entity, MemberAction.CANCEL),
                ]
            ]
        ),
    )


async def not_a_document(message: Message) -> None:
    """Text or a photo while the CSV file is expected."""
    await message.answer(_("Please send the CSV as a file (a document), or /cancel."))


async def import_confirmed(
    callback: CallbackQuery,
    callback_data: MemberChoice,
    session: AsyncSession,
    state: FSMContext,
    reader: Reader,
) -> None:
    """✅ Import: the previewed file, for real, all or nothing."""
    upload = await UploadForm.load(state)
    if upload.entity is not callback_data.entity or upload.csv is None:
        await callback.answer(_("That question is over."))
        return
    await state.clear()
    await callback.answer()
    report = await member_admin.apply_import(session, reader, ENTITIES[upload.entity], upload.csv)
    if not report.ok:
        await edit_message(callback.message, _problems_text(report))
        return
    await edit_message(
        callback.message,
        _("✅ Imported: {created} created, {updated} updated, {unchanged} unchanged.").format(
            created=report.created, updated=report.updated, unchanged=report.unchanged
        ),
    )


async def download(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession
) -> None:
    """📤 Download CSV: the districts (or libraries) as a file that imports back unchanged."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    if callback_data.entity is MemberEntity.DISTRICTS:
        csv_text, name = await members.export_districts(session), "districts.csv"
    else:
        csv_text, name = await members.export_libraries(session), "libraries.csv"
    await callback.message.answer_document(
        BufferedInputFile(csv_text.encode("utf-8"), filename=name),
        caption=_("Edit it and upload it again with 📄 Upload CSV."),
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (the package's router filters the role)."""
    router = Router(name=__name__)
    router.callback_query.register(
        start_upload, MemberChoice.filter(F.action == MemberAction.UPLOAD)
    )
    router.callback_query.register(download, MemberChoice.filter(F.action == MemberAction.DOWNLOAD))
    router.callback_query.register(
        import_confirmed,
        StateFilter(MemberCsv.confirm),
        MemberChoice.filter(F.action == MemberAction.IMPORT),
    )
    waiting = StateFilter(MemberCsv.document)
    router.message.register(file_received, waiting, F.document)
    router.message.register(not_a_document, waiting, ~F.text.startswith("/"))
    return router
