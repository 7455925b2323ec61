"""Admin console: districts and libraries — lists, the add/edit wizard, CSV upload with preview."""

from __future__ import annotations

import io
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Library, LibraryKind, Reader, Role
from bot.services import directory, member_admin
from bot.services.errors import NotFoundError
from bot.services.member_admin import (
    DistrictDraft,
    Entity,
    ImportPreview,
    LibraryDraft,
    MemberInputError,
)
from bot.services.members import (
    DISTRICT_COLUMNS,
    DISTRICT_OPTIONAL_COLUMNS,
    LIBRARY_COLUMNS,
    LIBRARY_OPTIONAL_COLUMNS,
    ImportProblem,
    MemberImportReport,
)
from handlers.admin import back_to_menu
from handlers.admin_callbacks import AdminMenu, MemberChoice
from handlers.common import edit_message
from handlers.filters import HasRole

PAGE_SIZE = 24
MAX_CSV_BYTES = 512 * 1024
MAX_PROBLEMS_SHOWN = 25
ENTITIES: dict[str, Entity] = {"d": "districts", "l": "libraries"}
DISTRICT_STEPS = ("code", "name", "name_en", "population", "coordinates")
LIBRARY_STEPS = (
    "code",
    "name",
    "name_en",
    "kind",
    "district",
    "address",
    "coordinates",
    "opening_hours",
    "pickup",
)
OPTIONAL_STEPS = frozenset({"name_en", "address", "opening_hours"})


class MemberWizard(StatesGroup):
    """Adding or editing one district or library, step by step."""

    step = State()


class MemberCsv(StatesGroup):
    """Waiting for a CSV file, then for the confirmation of its preview."""

    document = State()
    confirm = State()


# --- words -------------------------------------------------------------------------------


def _param(value: object) -> str:
    return escape(f"{value:g}" if isinstance(value, float) else str(value))


def opening_hours_detail(params: dict[str, str]) -> str:
    """Where opening hours went wrong, in the admin's language (escaped params in)."""
    reasons = {
        "unknown_day": _("“{rule}”: “{part}” is not a day (use Mo Tu We Th Fr Sa Su)"),
        "not_a_time": _("“{rule}”: {part} is not a time of day"),
        "not_a_span": _("“{rule}”: “{part}” is not HH:MM-HH:MM"),
        "closes_before_opens": _("“{rule}”: {part} closes before it opens"),
        "overlap": _("“{rule}”: the opening times overlap"),
        "empty_rule": _("“{rule}”: an empty rule between semicolons"),
        "no_days": _("“{rule}”: first the days, then the hours"),
        "never_open": _("“{rule}”: no day is open"),
    }
    reason = reasons.get(params.get("fault", ""))
    if reason is None:
        return params.get("detail", "")
    return reason.format(rule=params.get("rule", ""), part=params.get("part", ""))


def input_refusal(error: MemberInputError) -> str:
    """Why a wizard value was refused."""
    params = {key: _param(value) for key, value in error.params.items()}
    if error.code == "bad_opening_hours":
        params["detail"] = opening_hours_detail(params)
    reasons = {
        "code_too_long": _("A code has at most {limit} characters."),
        "bad_code": _(
            "A code uses only letters, digits, “_”, “.” and “-”, and starts with a letter "
            "or digit, e.g. HD-01."
        ),
        "duplicate_code": _("The code {value} is taken already: choose another one."),
        "empty": _("Please send some text."),
        "too_long": _("That is too long: at most {limit} characters."),
        "bad_population": _("The population is a whole number, e.g. 350000."),
        "population_too_large": _("That is more people than any district has: at most {limit}."),
        "negative_population": _("The population cannot be negative."),
        "bad_coordinates": _(
            "Send the coordinates as “latitude, longitude” in decimal degrees, "
            "e.g. 39.9042, 116.4074."
        ),
        "latitude_out_of_range": _("The latitude {value} is outside -90..90."),
        "longitude_out_of_range": _("The longitude {value} is outside -180..180."),
        "unknown_kind": _(
            "Choose the kind with the buttons: university, public, school or partner."
        ),
        "unknown_district": _("There is no district with the code {value}."),
        "bad_opening_hours": _(
            "I can't read these opening hours ({detail}). Example: Tu-Su 09:00-21:00; Mo off"
        ),
    }
    return reasons.get(error.code, _("That value is not valid.")).format(**params)


def problem_text(problem: ImportProblem) -> str:
    """One refused line of a CSV file, translated."""
    params = {key: _param(value) for key, value in problem.params.items()}
    if problem.code == "bad_opening_hours":
        params["detail"] = opening_hours_detail(params)
    reasons = {
        "empty_file": _("the file is empty (no header row)"),
        "unknown_columns": _("unknown column(s) {columns}; known columns: {known}"),
        "duplicate_columns": _("column(s) {columns} appear more than once in the header"),
        "missing_columns": _("missing column(s) {columns}; required: {required}"),
        "extra_values": _("{found} values but the header names {expected} columns"),
        "csv_error": _("the CSV cannot be read ({detail}); reading stopped"),
        "missing_value": _("no value in column {column}"),
        "too_long": _("{column} is longer than {limit} characters"),
        "code_too_long": _("{column} “{value}” is longer than {limit} characters"),
        "bad_code": _("{column} “{value}” may only use letters, digits, “_”, “.” and “-”"),
        "bad_number": _("{column} “{value}” is not a number"),
        "latitude_out_of_range": _("{column} {value} is outside -90..90"),
        "longitude_out_of_range": _("{column} {value} is outside -180..180"),
        "negative_population": _("population {value} is negative"),
        "bad_boolean": _("{column} “{value}” is not yes or no"),
        "duplicate_code": _("code “{value}” already appears on line {first_line}"),
        "unknown_kind": _("kind “{value}” is not one of {known}"),
        "unknown_district": _("district_code “{value}” is not a known district; known: {known}"),
        "bad_opening_hours": _("opening_hours “{value}” cannot be read ({detail})"),
        "conflict": _("another change to the same codes happened at the same time; import again"),
    }
    try:
        reason = reasons[problem.code].format(**params)
    except KeyError:
        reason = escape(problem.reason)
    if problem.line <= 0:
        return reason
    return _("Line {line}: {reason}").format(line=problem.line, reason=reason)


def kind_name(kind: LibraryKind) -> str:
    """A library kind in words."""
    names = {
        LibraryKind.UNIVERSITY: _("university"),
        LibraryKind.PUBLIC: _("public"),
        LibraryKind.SCHOOL: _("school"),
        LibraryKind.PARTNER: _("partner"),
    }
    return names[kind]


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


# --- lists ---------------------------------------------------------------------------------


async def _list_view(
    session: AsyncSession, entity: str, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    if entity == "d":
        districts = await directory.districts(session)
        lines = [_("🗺 Districts ({count}):").format(count=len(districts))]
        lines += [
            f"• <b>{escape(d.code)}</b> {escape(d.name)}"
            + (f" / {escape(d.name_en)}" if d.name_en else "")
            + " — "
            + _("population {population}").format(population=f"{d.population:,}")
            for d in districts
        ]
        codes = [d.code for d in districts]
    else:
        libraries = await directory.libraries_with_districts(session)
        lines = [_("🏛 Libraries ({count}):").format(count=len(libraries))]
        lines += [
            f"• <b>{escape(lib.code)}</b> {escape(lib.name)} — {escape(district_code)}, "
            + kind_name(lib.kind)
            + ("" if lib.is_pickup_point else " " + _("(no pickup)"))
            for lib, district_code in libraries
        ]
        codes = [lib.code for lib, _code in libraries]
    if len(codes) == 0:
        lines.append(_("None yet."))
    pages = max(1, -(-len(codes) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = lines[:1] + lines[1:][page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    for code in codes[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        builder.button(
            text=f"✏️ {code}", callback_data=MemberChoice(action="edit", entity=entity, value=code)
        )
    builder.adjust(3)
    paging = []
    if page > 0:
        paging.append(
            InlineKeyboardButton(
                text="◀️",
                callback_data=MemberChoice(action="list", entity=entity, page=page - 1).pack(),
            )
        )
    if page + 1 < pages:
        paging.append(
            InlineKeyboardButton(
                text="▶️",
                callback_data=MemberChoice(action="list", entity=entity, page=page + 1).pack(),
            )
        )
    if paging:
        builder.row(*paging)
    builder.row(
        InlineKeyboardButton(
            text=_("➕ Add"), callback_data=MemberChoice(action="add", entity=entity).pack()
        ),
        InlineKeyboardButton(
            text=_("📄 Upload CSV"), callback_data=MemberChoice(action="csv", entity=entity).pack()
        ),
    )
    builder.row(back_to_menu())
    return "\n".join(shown), builder.as_markup()


async def districts_section(callback: CallbackQuery, session: AsyncSession) -> None:
    """The districts, with add, edit and upload."""
    await _show_list(callback, session, "d", page=0, new=True)


async def libraries_section(callback: CallbackQuery, session: AsyncSession) -> None:
    """The libraries, with add, edit and upload."""
    await _show_list(callback, session, "l", page=0, new=True)


async def _show_list(
    callback: CallbackQuery, session: AsyncSession, entity: str, *, page: int, new: bool
) -> None:
    await callback.answer()
    text, markup = await _list_view(session, entity, page)
    if new and isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=markup)
    else:
        await edit_message(callback.message, text, markup)


async def list_page(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession
) -> None:
    """Another page of the list."""
    await _show_list(callback, session, callback_data.entity, page=callback_data.page, new=False)


# --- the wizard ---------------------------------------------------------------------------


def _steps(entity: str, editing: bool) -> tuple[str, ...]:
    steps = DISTRICT_STEPS if entity == "d" else LIBRARY_STEPS
    return steps[1:] if editing else steps


def _button(text: str, entity: str, action: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=MemberChoice(action=action, entity=entity, value=value).pack()
    )


def _current(draft: dict[str, Any], step: str) -> str:
    if step == "coordinates":
        return f"{draft['latitude']}, {draft['longitude']}"
    if step == "district":
        return str(draft.get("district_code") or "—")
    if step == "pickup":
        return _yes_no(bool(draft["is_pickup_point"]))
    if step == "kind":
        return kind_name(LibraryKind(draft["kind"]))
    value = draft.get(step)
    return str(value) if value not in (None, "") else "—"


async def _prompt(
    session: AsyncSession, entity: str, step: str, draft: dict[str, Any], editing: bool
) -> tuple[str, InlineKeyboardMarkup]:
    what = _("district") if entity == "d" else _("library")
    prompts = {
        "code": _(
            "Send the code of the new {what} (letters, digits, “_”, “.” or “-”, at most 32), "
            "e.g. HD-01."
        ),
        "name": _("Send the name (in Chinese, as readers know it)."),
        "name_en": _("Send the English name, or tap Skip."),
        "population": _("Send the number of inhabitants, e.g. 350000."),
        "coordinates": _(
            "Send the coordinates as “latitude, longitude”, e.g. 39.9042, 116.4074 "
            "(or share a location)."
        ),
        "kind": _("What kind of library is it?"),
        "district": _("Which district is it in? Tap one or send its code."),
        "address": _("Send the street address, or tap Skip."),
        "opening_hours": _(
            "Send the opening hours, e.g. “Tu-Su 09:00-21:00; Mo off”, or tap Skip "
            "if they are not published."
        ),
        "pickup": _("Can readers pick up reserved books there?"),
    }
    if editing:
        # An optional value being edited can be kept or cleared; there is nothing to skip.
        prompts |= {
            "name_en": _("Send the English name, or tap Clear to remove it."),
            "address": _("Send the street address, or tap Clear to remove it."),
            "opening_hours": _(
                "Send the opening hours, e.g. “Tu-Su 09:00-21:00; Mo off”, or tap Clear "
                "if they are no longer published."
            ),
        }
    text = prompts[step].format(what=what)
    if editing:
        text += "\n" + _("Now: {value}").format(value=escape(_current(draft, step)))
    rows: list[list[InlineKeyboardButton]] = []
    if step == "kind":
        rows.append([_button(kind_name(kind), entity, "kind", kind.value) for kind in LibraryKind])
    elif step == "district":
        codes = await directory.district_codes(session)
        for start in range(0, min(len(codes), 30), 3):
            rows.append([_button(code, entity, "dist", code) for code in codes[start : start + 3]])
    elif step == "pickup":
        rows.append(
            [_button(_("Yes"), entity, "pickup", "1"), _button(_("No"), entity, "pickup", "0")]
        )
    extra = []
    if editing:
        extra.append(_button(_("Keep"), entity, "keep"))
        if step in OPTIONAL_STEPS:
            extra.append(_button(_("🗑 Clear"), entity, "skip"))
    elif step in OPTIONAL_STEPS:
        extra.append(_button(_("Skip"), entity, "skip"))
    extra.append(_button(_("✖️ Cancel"), entity, "cancel"))
    rows.append(extra)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _summary(entity: str, draft: dict[str, Any], editing: bool) -> tuple[str, InlineKeyboardMarkup]:
    steps = DISTRICT_STEPS if entity == "d" else LIBRARY_STEPS
    labels = {
        "code": _("Code"),
        "name": _("Name"),
        "name_en": _("English name"),
        "population": _("Population"),
        "coordinates": _("Coordinates"),
        "kind": _("Kind"),
        "district": _("District"),
        "address": _("Address"),
        "opening_hours": _("Opening hours"),
        "pickup": _("Pickup point"),
    }
    heading = _("Save these changes?") if editing else _("Add this?")
    lines = [heading] + [f"{labels[step]}: {escape(_current(draft, step))}" for step in steps]
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(_("✅ Save"), entity, "save"), _button(_("✖️ Cancel"), entity, "cancel")]
        ]
    )
    return "\n".join(lines), markup


def _new_draft(entity: str) -> dict[str, Any]:
    if entity == "d":
        return vars(DistrictDraft(code=""))
    draft = vars(LibraryDraft(code=""))
    draft["kind"] = LibraryKind.PUBLIC.value
    return draft


async def _ask(message: Message, session: AsyncSession, state: FSMContext) -> None:
    """Ask for the current step, or show the summary after the last one."""
    data = await state.get_data()
    entity, editing, draft = data["entity"], bool(data["editing"]), data["draft"]
    steps = _steps(entity, editing)
    index = int(data["index"])
    if index >= len(steps):
        text, markup = _summary(entity, draft, editing)
    else:
        text, markup = await _prompt(session, entity, steps[index], draft, editing)
    await message.answer(text, reply_markup=markup)


async def _advance(
    message: Message, session: AsyncSession, state: FSMContext, draft: dict[str, Any]
) -> None:
    data = await state.get_data()
    await state.update_data(draft=draft, index=int(data["index"]) + 1)
    await _ask(message, session, state)


async def start_add(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession, state: FSMContext
) -> None:
    """➕ Add: start the wizard at the code."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    await state.set_state(MemberWizard.step)
    await state.set_data(
        {
            "entity": callback_data.entity,
            "editing": False,
            "index": 0,
            "draft": _new_draft(callback_data.entity),
        }
    )
    await _ask(callback.message, session, state)


async def start_edit(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession, state: FSMContext
) -> None:
    """✏️ CODE: the wizard over an existing district or library, each step with Keep."""
    if not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        if callback_data.entity == "d":
            district = await member_admin.find_district(session, callback_data.value)
            draft: dict[str, Any] = vars(
                DistrictDraft(
                    code=district.code,
                    name=district.name,
                    name_en=district.name_en,
                    population=district.population,
                    latitude=district.latitude,
                    longitude=district.longitude,
                )
            )
        else:
            library = await member_admin.find_library(session, callback_data.value)
            district = await session.get_one(District, library.district_id)
            draft = vars(
                LibraryDraft(
                    code=library.code,
                    name=library.name,
                    name_en=library.name_en,
                    kind=library.kind,
                    district_code=district.code,
                    address=library.address,
                    latitude=library.latitude,
                    longitude=library.longitude,
                    opening_hours=library.opening_hours,
                    is_pickup_point=library.is_pickup_point,
                )
            )
            draft["kind"] = library.kind.value
    except NotFoundError:
        await callback.answer(_("It no longer exists."), show_alert=True)
        return
    await callback.answer()
    await state.set_state(MemberWizard.step)
    await state.set_data(
        {"entity": callback_data.entity, "editing": True, "index": 0, "draft": draft}
    )
    await callback.message.answer(
        _("Editing {code}. Send a new value for each step, or tap Keep.").format(
            code=escape(draft["code"])
        )
    )
    await _ask(callback.message, session, state)


class _FormLost(Exception):
    """The wizard's stored answers are gone (expired in Redis, or never there)."""


async def _current_step(state: FSMContext) -> tuple[str, bool, dict[str, Any], str | None]:
    data = await state.get_data()
    try:
        entity, editing = str(data["entity"]), bool(data["editing"])
        steps = _steps(entity, editing)
        index = int(data["index"])
        draft = dict(data["draft"])
    except (KeyError, TypeError, ValueError):
        await state.clear()
        raise _FormLost from None
    return entity, editing, draft, steps[index] if 0 <= index < len(steps) else None


def _form_lost_text() -> str:
    return _("This form has expired. Please start again with {command}.").format(command="/admin")


async def _apply_text(
    session: AsyncSession, entity: str, step: str, draft: dict[str, Any], text: str
) -> None:
    """Check one typed value and put it in the draft (raises MemberInputError)."""
    optional_empty = step in OPTIONAL_STEPS and text.strip() == "-"
    if step == "code":
        code = member_admin.check_code(text)
        await member_admin.ensure_new_code(session, ENTITIES[entity], code)
        draft["code"] = code
    elif step == "name":
        limit = (
            member_admin.DISTRICT_NAME_LIMIT if entity == "d" else member_admin.LIBRARY_NAME_LIMIT
        )
        draft["name"] = member_admin.check_name(text, limit)
    elif step == "name_en":
        limit = (
            member_admin.DISTRICT_NAME_LIMIT if entity == "d" else member_admin.LIBRARY_NAME_LIMIT
        )
        draft["name_en"] = None if optional_empty else member_admin.check_name(text, limit)
    elif step == "population":
        draft["population"] = member_admin.check_population(text)
    elif step == "coordinates":
        draft["latitude"], draft["longitude"] = member_admin.check_coordinates(text)
    elif step == "kind":
        draft["kind"] = member_admin.check_kind(text).value
    elif step == "district":
        try:
            district = await member_admin.find_district(session, text)
        except NotFoundError:
            raise MemberInputError("unknown_district", value=text.strip()[:40]) from None
        draft["district_code"] = district.code
    elif step == "address":
        draft["address"] = (
            "" if optional_empty else member_admin.check_name(text, member_admin.ADDRESS_LIMIT)
        )
    elif step == "opening_hours":
        draft["opening_hours"] = member_admin.check_opening_hours(text)
    elif step == "pickup":
        answer = text.strip().lower()
        if answer not in ("yes", "no", "y", "n", "是", "否"):
            raise MemberInputError("empty")
        draft["is_pickup_point"] = answer in ("yes", "y", "是")


async def wizard_text(message: Message, session: AsyncSession, state: FSMContext) -> None:
    """A typed value for the current step: checked, then the next step (or why not)."""
    try:
        entity, _editing, draft, step = await _current_step(state)
    except _FormLost:
        await message.answer(_form_lost_text())
        return
    if step is None:
        await message.answer(_("Tap Save or Cancel."))
        return
    try:
        await _apply_text(session, entity, step, draft, message.text or "")
    except MemberInputError as exc:
        await message.answer(input_refusal(exc))
        return
    await _advance(message, session, state, draft)


async def wizard_location(message: Message, session: AsyncSession, state: FSMContext) -> None:
    """A shared location answers the coordinates step."""
    try:
        _entity, _editing, draft, step = await _current_step(state)
    except _FormLost:
        await message.answer(_form_lost_text())
        return
    if step != "coordinates" or message.location is None:
        await message.answer(_("Please answer the question above, or tap Cancel."))
        return
    draft["latitude"] = round(message.location.latitude, 6)
    draft["longitude"] = round(message.location.longitude, 6)
    await _advance(message, session, state, draft)


async def wizard_button(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession, state: FSMContext
) -> None:
    """Keep, Skip, a kind, a district, pickup yes/no."""
    if not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        entity, editing, draft, step = await _current_step(state)
    except _FormLost:
        await callback.answer(_form_lost_text(), show_alert=True)
        return
    action = callback_data.action
    expected = {"kind": "kind", "dist": "district", "pickup": "pickup"}
    if step is None or entity != callback_data.entity:
        await callback.answer(_("That question is over."))
        return
    if action == "keep" and editing:
        pass
    elif action == "skip" and step in OPTIONAL_STEPS:
        draft[step] = None if step == "name_en" else ""
    elif expected.get(action) == step:
        try:
            if action == "kind":
                draft["kind"] = member_admin.check_kind(callback_data.value).value
            elif action == "dist":
                draft["district_code"] = (
                    await member_admin.find_district(session, callback_data.value)
                ).code
            else:
                draft["is_pickup_point"] = callback_data.value == "1"
        except (MemberInputError, NotFoundError):
            await callback.answer(_("That choice is not valid any more."), show_alert=True)
            return
    else:
        await callback.answer(_("That question is over."))
        return
    await callback.answer()
    await _advance(callback.message, session, state, draft)


async def wizard_save(
    callback: CallbackQuery,
    callback_data: MemberChoice,
    session: AsyncSession,
    state: FSMContext,
    reader: Reader,
) -> None:
    """✅ Save: create or update, with an audit entry."""
    if not isinstance(callback.message, Message):
        await callback.answer()
        return
    try:
        entity, editing, draft, step = await _current_step(state)
    except _FormLost:
        await callback.answer(_form_lost_text(), show_alert=True)
        return
    if step is not None or entity != callback_data.entity:
        await callback.answer(_("That question is over."))
        return
    try:
        if entity == "d":
            saved: District | Library = await member_admin.save_district(
                session, reader, DistrictDraft(**draft), editing=editing
            )
        else:
            values = dict(draft)
            values["kind"] = LibraryKind(values["kind"])
            saved = await member_admin.save_library(
                session, reader, LibraryDraft(**values), editing=editing
            )
    except MemberInputError as exc:
        await callback.answer()
        await callback.message.answer(input_refusal(exc) + "\n" + _("Nothing was saved."))
        await state.clear()
        return
    except NotFoundError:
        await callback.answer(_("It no longer exists."), show_alert=True)
        await state.clear()
        return
    await state.clear()
    await callback.answer()
    await edit_message(
        callback.message,
        (_("✅ Saved {code}.") if editing else _("✅ Added {code}.")).format(
            code=escape(saved.code)
        ),
    )
    text, markup = await _list_view(session, entity, 0)
    await callback.message.answer(text, reply_markup=markup)


async def wizard_cancel(callback: CallbackQuery, state: FSMContext) -> None:
    """✖️ Cancel: nothing is stored."""
    await state.clear()
    await callback.answer()
    await edit_message(callback.message, _("Cancelled. Nothing was changed."))


async def stale_button(callback: CallbackQuery) -> None:
    """A wizard or upload button from a conversation that has ended."""
    await callback.answer(_("That question is over."))


async def cancel_command(message: Message, state: FSMContext) -> None:
    """/cancel during the wizard or an upload."""
    await state.clear()
    await message.answer(_("Cancelled. Nothing was changed."))


# --- CSV upload ----------------------------------------------------------------------------


def _columns_hint(entity: str) -> str:
    required: tuple[str, ...] = DISTRICT_COLUMNS if entity == "d" else LIBRARY_COLUMNS
    optional: tuple[str, ...] = (
        DISTRICT_OPTIONAL_COLUMNS if entity == "d" else LIBRARY_OPTIONAL_COLUMNS
    )
    return _("Columns: {required}; optional: {optional}.").format(
        required=", ".join(required), optional=", ".join(optional)
    )


async def start_csv(
    callback: CallbackQuery, callback_data: MemberChoice, state: FSMContext
) -> None:
    """📄 Upload CSV: wait for the file."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    await state.set_state(MemberCsv.document)
    await state.set_data({"entity": callback_data.entity})
    what = _("districts") if callback_data.entity == "d" else _("libraries")
    await callback.message.answer(
        _(
            "Send the {what} as a CSV file (UTF-8, a header row first). I will show what "
            "would change before anything is stored. /cancel to stop."
        ).format(what=what)
        + "\n"
        + _columns_hint(callback_data.entity),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[_button(_("✖️ Cancel"), callback_data.entity, "cancel")]]
        ),
    )


def _preview_text(entity: str, preview: ImportPreview) -> str:
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


async def csv_received(
    message: Message, session: AsyncSession, state: FSMContext, bot: Bot
) -> None:
    """The CSV file: checked and previewed inside a rolled-back transaction."""
    data = await state.get_data()
    entity = str(data.get("entity", ""))
    if entity not in ENTITIES:
        await state.clear()
        await message.answer(_form_lost_text())
        return
    document = message.document
    assert document is not None
    if document.file_size and document.file_size > MAX_CSV_BYTES:
        await message.answer(
            _("That file is too big: a member CSV may be at most {limit} KB.").format(
                limit=MAX_CSV_BYTES // 1024
            )
        )
        return
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    content = buffer.getvalue()
    if len(content) > MAX_CSV_BYTES:
        await message.answer(
            _("That file is too big: a member CSV may be at most {limit} KB.").format(
                limit=MAX_CSV_BYTES // 1024
            )
        )
        return
    try:
        csv_text = content.decode("utf-8")
    except UnicodeDecodeError:
        await message.answer(
            _("The file is not UTF-8 text: save it as “CSV UTF-8” and send it again.")
        )
        return
    if "\x00" in csv_text:
        await message.answer(_("That is not a CSV text file."))
        return
    preview = await member_admin.preview_import(session, ENTITIES[entity], csv_text)
    if not preview.report.ok:
        await message.answer(_problems_text(preview.report))
        return
    await state.set_state(MemberCsv.confirm)
    await state.update_data(csv=csv_text)
    await message.answer(
        _preview_text(entity, preview),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(_("✅ Import"), entity, "import"),
                    _button(_("✖️ Cancel"), entity, "cancel"),
                ]
            ]
        ),
    )


async def csv_not_a_document(message: Message) -> None:
    """Text or a photo while the CSV file is expected."""
    await message.answer(_("Please send the CSV as a file (a document), or /cancel."))


async def csv_confirm(
    callback: CallbackQuery,
    callback_data: MemberChoice,
    session: AsyncSession,
    state: FSMContext,
    reader: Reader,
) -> None:
    """✅ Import: the previewed file, for real, all or nothing."""
    data = await state.get_data()
    if data.get("entity") != callback_data.entity or "csv" not in data:
        await callback.answer(_("That question is over."))
        return
    await state.clear()
    await callback.answer()
    report = await member_admin.apply_import(
        session, reader, ENTITIES[callback_data.entity], str(data["csv"])
    )
    if not report.ok:
        await edit_message(callback.message, _problems_text(report))
        return
    await edit_message(
        callback.message,
        _("✅ Imported: {created} created, {updated} updated, {unchanged} unchanged.").format(
            created=report.created, updated=report.updated, unchanged=report.unchanged
        ),
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    admin = HasRole(Role.ADMIN)
    router.message.filter(admin)
    router.callback_query.filter(admin)
    router.callback_query.register(districts_section, AdminMenu.filter(F.section == "districts"))
    router.callback_query.register(libraries_section, AdminMenu.filter(F.section == "libraries"))
    router.callback_query.register(list_page, MemberChoice.filter(F.action == "list"))
    router.callback_query.register(start_add, MemberChoice.filter(F.action == "add"))
    router.callback_query.register(start_edit, MemberChoice.filter(F.action == "edit"))
    router.callback_query.register(start_csv, MemberChoice.filter(F.action == "csv"))
    router.callback_query.register(wizard_cancel, MemberChoice.filter(F.action == "cancel"))
    router.callback_query.register(
        csv_confirm, StateFilter(MemberCsv.confirm), MemberChoice.filter(F.action == "import")
    )
    in_wizard = StateFilter(MemberWizard.step)
    router.callback_query.register(wizard_save, in_wizard, MemberChoice.filter(F.action == "save"))
    router.callback_query.register(
        wizard_button,
        in_wizard,
        MemberChoice.filter(F.action.in_({"keep", "skip", "kind", "dist", "pickup"})),
    )
    router.message.register(
        cancel_command, StateFilter(MemberWizard.step, MemberCsv), Command("cancel")
    )
    router.message.register(wizard_location, in_wizard, F.location)
    router.message.register(wizard_text, in_wizard, F.text, ~F.text.startswith("/"))
    router.message.register(csv_received, StateFilter(MemberCsv.document), F.document)
    router.message.register(
        csv_not_a_document, StateFilter(MemberCsv.document), ~F.text.startswith("/")
    )
    router.callback_query.register(stale_button, MemberChoice.filter())
    return router
