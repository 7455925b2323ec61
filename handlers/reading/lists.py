"""/lists: reading lists (书单). Readers open, follow and reserve from published lists, with
the nearest copy on a shelf; organisers build them (/newlist, /listadd,
/listnote, and buttons to reorder, remove and publish)."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, Role, display_name, utcnow
from bot.notices.holds import ReserveWork
from bot.services.errors import DomainError, NotAllowedError, NotFoundError
from bot.services.reading import challenges, lists, log
from bot.services.roles import RoleSet
from handlers.common import distance_text, edit_message
from handlers.drafts import Draft
from handlers.events.callbacks import EventOpen
from handlers.events.labels import button_title
from handlers.reading.callbacks import ListAct, ListData, button, list_title, title_for
from handlers.reading.log import refusal as read_refusal


class NewListDraft(Draft):
    """The titles /newlist was given, until ✅ Create."""

    key = "new_reading_list"
    command = "/newlist"

    title: str
    title_en: str | None


def is_staff(roles: RoleSet) -> bool:
    """Organisers (and admins) build lists and set challenges (one role per command, as
    the command menus and refusals have it; a librarian who builds lists gets the role)."""
    return roles.has(Role.ORGANISER)


def refusal(error: DomainError) -> str:
    if isinstance(error, lists.ListTooLong):
        return _(
            "A reading list holds at most {limit} books; with these it would have {count}. "
            "Nothing was added."
        ).format(limit=lists.MAX_ENTRIES, count=error.count)
    if isinstance(error, lists.BadTitle):
        return _(
            "Give the list a title of at most {limit} characters, Chinese first and English "
            "after a bar: /newlist 春天读诗 | Poems for spring"
        ).format(limit=lists.TITLE_CHARS)
    if isinstance(error, NotAllowedError):
        return _("Only the person who made this list can change it.")
    if isinstance(error, log.UnknownIsbn | log.NotAnIsbn):
        return read_refusal(error)
    if isinstance(error, NotFoundError):
        return _("That list or book is not there (any more).")
    return read_refusal(error)


def _where(nearest: lists.Nearest | None, language: str) -> str:
    if nearest is None or nearest.place is None:
        return _("no library has it yet")
    place = nearest.place
    name = escape(display_name(place.name, place.name_en, language))
    distance = f" ({distance_text(place.distance_km)})" if place.distance_km is not None else ""
    if nearest.on_shelf:
        return _("✅ on the shelf at {library}").format(library=name) + distance
    return _("⏳ all copies out; nearest at {library}").format(library=name) + distance


def reader_text(view: lists.ListView, nearest: dict[int, lists.Nearest], language: str) -> str:
    lines = [
        f"📚 <b>{escape(list_title(view.list, language))}</b>",
        _("{books} books · {followers} following").format(
            books=view.total, followers=view.followers
        ),
        "",
    ]
    for entry in view.entries:
        title = escape(title_for(entry.title, entry.original_title, language))
        lines.append(f"{entry.position}. <b>{title}</b>")
        lines.append("   " + _where(nearest.get(entry.work_id), language))
        if entry.note:
            lines.append(f"   <i>{escape(entry.note)}</i>")
    if not view.entries:
        lines.append(_("No books on this list yet."))
    if view.events:
        lines += ["", _("<b>🗓 Coming up with this list</b>")]
        lines += [f"• {escape(event.display_title(language))}" for event in view.events]
    if view.pages > 1:
        lines.append("")
        lines.append(_("Page {page} of {pages}").format(page=view.page + 1, pages=view.pages))
    return "\n".join(lines)


def _paging(view: lists.ListView, action: ListAct) -> list[InlineKeyboardButton]:
    row = []
    if action is ListAct.OPEN and view.page > 0:
        row.append(button("◀️", ListData(action=action, list_id=view.list.id, value=view.page - 1)))
    if action is ListAct.OPEN and view.page + 1 < view.pages:
        row.append(button("▶️", ListData(action=action, list_id=view.list.id, value=view.page + 1)))
    return row


def reader_keyboard(view: lists.ListView, language: str) -> InlineKeyboardMarkup:
    list_id = view.list.id
    reserve = [
        button(f"🔖 {entry.position}", ReserveWork(work_id=entry.work_id)) for entry in view.entries
    ]
    rows = [reserve[i : i + 5] for i in range(0, len(reserve), 5)]
    follow = (
        button(_("Unfollow this list"), ListData(action=ListAct.UNFOLLOW, list_id=list_id))
        if view.following
        else button(_("⭐ Follow this list"), ListData(action=ListAct.FOLLOW, list_id=list_id))
    )
    rows.append([follow])
    rows += [
        [button("🗓 " + button_title(event, language), EventOpen(event_id=event.id))]
        for event in view.events
    ]
    paging = _paging(view, ListAct.OPEN)
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def manage_text(view: lists.ListView, language: str, running: int = 0) -> str:
    found = view.list
    state = _("published") if found.published else _("not published yet")
    lines = [
        f"🛠 <b>{escape(found.title)}</b> · {escape(found.title_en or '—')}",
        _("List {id} · {books} books · {state}").format(id=found.id, books=view.total, state=state),
        "",
    ]
    for entry in view.entries:
        title = escape(title_for(entry.title, entry.original_title, language))
        note = f" — <i>{escape(entry.note)}</i>" if entry.note else ""
        lines.append(f"{entry.position}. {title}{note}")
    lines.append("")
    lines.append(
        _(
            "Add books: /listadd {id} ISBN ISBN … · a note on book 2: /listnote {id} 2 text. "
            "⬆️ moves a book up, ✖️ takes it off."
        ).format(id=found.id)
    )
    if running:
        lines.append(running_text(running))
    lines.append(
        _(
            "Once published, put it on an event you run: /listlink {id} event EVENT_NUMBER "
            "(or campaign CAMPAIGN_NUMBER)."
        ).format(id=found.id)
    )
    return "\n".join(lines)


def running_text(running: int) -> str:
    """What an edit of a list says when challenges to finish it are running."""
    return _(
        "🏁 Running challenges to finish this list: {count}. They keep the books they "
        "were set with; adding or taking off books changes only challenges set later."
    ).format(count=running)


def manage_keyboard(view: lists.ListView) -> InlineKeyboardMarkup:
    list_id = view.list.id
    rows = []
    for entry in view.entries:
        rows.append(
            [
                button(
                    f"⬆️ {entry.position}",
                    ListData(action=ListAct.UP, list_id=list_id, value=entry.position),
                ),
                button(
                    f"✖️ {entry.position}",
                    ListData(action=ListAct.REMOVE, list_id=list_id, value=entry.position),
                ),
            ]
        )
    publish = (
        button(_("Unpublish"), ListData(action=ListAct.UNPUBLISH, list_id=list_id))
        if view.list.published
        else button(_("📢 Publish"), ListData(action=ListAct.PUBLISH, list_id=list_id))
    )
    rows.append([publish])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def show_lists(
    message: Message, session: AsyncSession, reader: Reader, roles: RoleSet, i18n: I18n
) -> None:
    """/lists: published lists; staff also see their own to manage."""
    language = i18n.current_locale
    published = await lists.published_lists(session)
    rows = [
        [
            button(
                f"📚 {list_title(found, language)} ({count})",
                ListData(action=ListAct.OPEN, list_id=found.id),
            )
        ]
        for found, count in published
    ]
    if is_staff(roles):
        rows += [
            [
                button(
                    "🛠 " + list_title(found, language),
                    ListData(action=ListAct.MANAGE, list_id=found.id),
                )
            ]
            for found in await lists.own_lists(session, reader)
        ]
    text = _("Reading lists: tap one to open it.") if rows else _("There are no reading lists yet.")
    if is_staff(roles):
        text += "\n" + _("Make one: /newlist 中文标题 | English title")
    await message.answer(text, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def reader_view(
    session: AsyncSession, reader: Reader, list_id: int, page: int, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    view = await lists.list_view(session, reader, list_id, page)
    nearest = await lists.nearest_copies(session, reader, [e.work_id for e in view.entries])
    return reader_text(view, nearest, language), reader_keyboard(view, language)


async def _manage_view(
    session: AsyncSession, reader: Reader, list_id: int, roles: RoleSet, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The list as its maker edits it (its first ten books)."""
    view = await lists.list_view(session, reader, list_id, 0, editor=roles.is_admin)
    if not roles.is_admin and view.list.created_by_id != reader.id:
        raise NotAllowedError("list")
    running = await challenges.running_for_list(session, view.list.id, utcnow())
    return manage_text(view, language, running), manage_keyboard(view)


async def new_list(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
    i18n: I18n,
) -> None:
    """/newlist 中文标题 | English title: asks to confirm (nothing is stored before ✅)."""
    try:
        title, title_en = lists.parse_titles(command.args or "")
    except DomainError as exc:
        await message.answer(refusal(exc))
        return
    await NewListDraft(title=title, title_en=title_en).save(state)
    shown = escape(title) + (f" · {escape(title_en)}" if title_en else "")
    await message.answer(
        _("Make the reading list {title}?").format(title=shown),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[button(_("✅ Create"), ListData(action=ListAct.CREATE, list_id=0))]]
        ),
    )


async def create_list(
    query: CallbackQuery,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
    i18n: I18n,
) -> None:
    """✅ Create: the list from the draft, then its edit view."""
    draft = await NewListDraft.load(state)
    try:
        made = await lists.create_list(session, reader, draft.title, draft.title_en)
        text, markup = await _manage_view(session, reader, made.id, roles, i18n.current_locale)
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await NewListDraft.discard(state)
    await query.answer()
    await edit_message(query.message, text, markup)


def _list_argument(args: str | None) -> tuple[int, list[str]]:
    parts = (args or "").split()
    if not parts or not parts[0].isdigit():
        return 0, []
    return int(parts[0][:10]), parts[1:]


async def add_to_list(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """/listadd LIST ISBN [ISBN …]: all the books, or none."""
    list_id, isbns = _list_argument(command.args)
    if not list_id or not isbns:
        await message.answer(_("Send /listadd LIST_NUMBER ISBN [ISBN …]."))
        return
    try:
        added = await lists.add_books(session, reader, list_id, isbns, admin=roles.is_admin)
        text, markup = await _manage_view(session, reader, list_id, roles, i18n.current_locale)
    except DomainError as exc:
        await message.answer(refusal(exc))
        return
    await message.answer(_("Added: {count}").format(count=added))
    await message.answer(text, reply_markup=markup)


async def note_on_list(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """/listnote LIST PLACE text: the short note on one book (no text: no note)."""
    list_id, rest = _list_argument(command.args)
    if not list_id or not rest or not rest[0].isdigit():
        await message.answer(_("Send /listnote LIST_NUMBER PLACE note."))
        return
    try:
        await lists.set_note(
            session, reader, list_id, int(rest[0][:6]), " ".join(rest[1:]), admin=roles.is_admin
        )
        text, markup = await _manage_view(session, reader, list_id, roles, i18n.current_locale)
    except DomainError as exc:
        await message.answer(refusal(exc))
        return
    await message.answer(text, reply_markup=markup)


async def open_list(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """A list tapped (or paged): its books with the nearest copy, Follow and Reserve."""
    try:
        text, markup = await reader_view(
            session, reader, callback_data.list_id, callback_data.value, i18n.current_locale
        )
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await edit_message(query.message, text, markup)


async def _follow(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
    on: bool,
) -> None:
    try:
        await lists.follow(session, reader, callback_data.list_id, on)
        text, markup = await reader_view(
            session, reader, callback_data.list_id, 0, i18n.current_locale
        )
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer(_("You follow this list.") if on else _("You no longer follow this list."))
    await edit_message(query.message, text, markup)


async def follow_list(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """⭐ Follow this list."""
    await _follow(query, callback_data, session, reader, i18n, True)


async def unfollow_list(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Unfollow this list."""
    await _follow(query, callback_data, session, reader, i18n, False)


async def _edit_and_redraw(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    list_id, value, admin = callback_data.list_id, callback_data.value, roles.is_admin
    try:
        if callback_data.action is ListAct.UP:
            await lists.move_up(session, reader, list_id, value, admin=admin)
        elif callback_data.action is ListAct.REMOVE:
            await lists.remove_entry(session, reader, list_id, value, admin=admin)
        elif callback_data.action in (ListAct.PUBLISH, ListAct.UNPUBLISH):
            published = callback_data.action is ListAct.PUBLISH
            await lists.set_published(session, reader, list_id, published, admin=admin)
        text, markup = await _manage_view(session, reader, list_id, roles, i18n.current_locale)
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    await edit_message(query.message, text, markup)


async def manage(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """🛠 a list of one's own: the edit view."""
    await _edit_and_redraw(query, callback_data, session, reader, roles, i18n)


async def move_up(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """⬆️ n: book n one place up."""
    await _edit_and_redraw(query, callback_data, session, reader, roles, i18n)


async def remove(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """✖️ n: book n off the list."""
    await _edit_and_redraw(query, callback_data, session, reader, roles, i18n)


async def publish(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """📢 Publish / Unpublish."""
    await _edit_and_redraw(query, callback_data, session, reader, roles, i18n)


class Staff(Filter):
    """Organisers and admins."""

    async def __call__(self, event: TelegramObject, roles: RoleSet | None = None, **_: Any) -> bool:
        return roles is not None and is_staff(roles)


def build_router() -> Router:
    """/lists for everybody; building lists for organisers."""
    router = Router(name=__name__)
    router.message.register(show_lists, Command("lists"))
    router.message.register(new_list, Command("newlist"), Staff())
    router.message.register(add_to_list, Command("listadd"), Staff())
    router.message.register(note_on_list, Command("listnote"), Staff())
    router.callback_query.register(open_list, ListData.filter(F.action == ListAct.OPEN))
    router.callback_query.register(follow_list, ListData.filter(F.action == ListAct.FOLLOW))
    router.callback_query.register(unfollow_list, ListData.filter(F.action == ListAct.UNFOLLOW))
    staff = Staff()
    router.callback_query.register(create_list, ListData.filter(F.action == ListAct.CREATE), staff)
    router.callback_query.register(manage, ListData.filter(F.action == ListAct.MANAGE), staff)
    router.callback_query.register(move_up, ListData.filter(F.action == ListAct.UP), staff)
    router.callback_query.register(remove, ListData.filter(F.action == ListAct.REMOVE), staff)
    router.callback_query.register(
        publish, ListData.filter(F.action.in_({ListAct.PUBLISH, ListAct.UNPUBLISH})), staff
    )
    return router
