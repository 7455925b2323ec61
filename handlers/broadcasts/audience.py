"""/broadcast, first step: who gets the message (followers of libraries, districts, everyone)."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import BroadcastAudience, Role
from bot.notices.campaigns import listing
from bot.services import broadcasts, directory, follows
from bot.services.broadcasts import Audience, Rights
from bot.services.errors import NotAllowedError
from bot.services.roles import RoleSet
from handlers.broadcasts.draft import (
    KIND_CODES,
    AudienceAction,
    AudienceChoice,
    BroadcastDraft,
    BroadcastWizard,
    StepAction,
    cancel_row,
    refuse,
    stale,
    step_button,
)
from handlers.common import edit_message
from handlers.filters import HasRole
from handlers.follow import library_name
from handlers.keyboards import district_label

PAGE_SIZE = 8


async def _picker_items(
    session: AsyncSession, rights: Rights, kind: str, language: str
) -> list[tuple[int, str]]:
    if kind == "l":
        libraries = await broadcasts.addressable_libraries(session, rights)
        counts = await follows.follower_counts(session, [library.id for library in libraries])
        return [
            (
                library.id,
                _("{library} ({count} followers)").format(
                    library=library_name(library, language), count=counts.get(library.id, 0)
                ),
            )
            for library in libraries
        ]
    districts = await broadcasts.all_districts(session)
    return [(district.id, district_label(district, language)) for district in districts]


def _page_button(text: str, kind: str, page: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text,
        callback_data=AudienceChoice(action=AudienceAction.PAGE, kind=kind, value=page).pack(),
    )


def _picker_keyboard(
    items: list[tuple[int, str]], chosen: set[int], kind: str, page: int
) -> InlineKeyboardMarkup:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    builder = InlineKeyboardBuilder()
    for item_id, label in items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        builder.button(
            text=("✅ " if item_id in chosen else "▫️ ") + label,
            callback_data=AudienceChoice(action=AudienceAction.PICK, kind=kind, value=item_id),
        )
    builder.adjust(1)
    paging = []
    if page > 0:
        paging.append(_page_button("◀️", kind, page - 1))
    if page + 1 < pages:
        paging.append(_page_button("▶️", kind, page + 1))
    if paging:
        builder.row(*paging)
    builder.row(
        InlineKeyboardButton(
            text=_("Next ▶️"),
            callback_data=AudienceChoice(action=AudienceAction.NEXT, kind=kind).pack(),
        ),
        *cancel_row(),
    )
    return builder.as_markup()


def _picker_text(kind: str) -> str:
    if kind == "l":
        return _("Whose followers should get the message? Tap libraries to choose, then Next.")
    return _("Readers of which districts should get the message? Tap to choose, then Next.")


def _kind_button(text: str, kind: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            text=text, callback_data=AudienceChoice(action=AudienceAction.KIND, kind=kind).pack()
        )
    ]


def _kind_keyboard(rights: Rights) -> InlineKeyboardMarkup:
    rows = [_kind_button(_("Followers of libraries"), "l")]
    if rights.districts:
        rows.append(_kind_button(_("Readers in districts"), "d"))
    if rights.everyone:
        rows.append(_kind_button(_("Everyone"), "a"))
    rows.append(cancel_row())
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def start_broadcast(
    message: Message, session: AsyncSession, state: FSMContext, roles: RoleSet, i18n: I18n
) -> None:
    """/broadcast: choose who gets the message."""
    rights = broadcasts.rights_for(roles)
    await state.clear()
    if not rights.can_broadcast:
        await message.answer(
            _(
                "Your organiser role is not tied to a library, so there are no followers you "
                "may write to. An admin can tie it to one: /grant @you organiser LIBRARY_CODE"
            )
        )
        return
    await state.set_state(BroadcastWizard.audience)
    draft = BroadcastDraft(draft_key=broadcasts.new_draft_key())
    if rights.districts or rights.everyone:
        await draft.save(state)
        await message.answer(
            _("📣 New broadcast. Who should get it?"), reply_markup=_kind_keyboard(rights)
        )
        return
    draft.picking = "l"
    await draft.save(state)
    items = await _picker_items(session, rights, "l", i18n.current_locale)
    await message.answer(
        _("📣 New broadcast.") + "\n\n" + _picker_text("l"),
        reply_markup=_picker_keyboard(items, set(), "l", 0),
    )


async def choose_kind(
    query: CallbackQuery,
    callback_data: AudienceChoice,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Libraries' followers, districts, or everyone."""
    rights = broadcasts.rights_for(roles)
    kind = callback_data.kind
    if (kind == "d" and not rights.districts) or (kind == "a" and not rights.everyone):
        await refuse(query)
        return
    if kind not in ("l", "d", "a"):
        await stale(query)
        return
    draft = await BroadcastDraft.load(state)
    draft.picking, draft.ids = kind, []
    await draft.save(state)
    await query.answer()
    if kind == "a":
        await _ask_text(query, session, state, Audience(BroadcastAudience.EVERYONE), i18n)
        return
    items = await _picker_items(session, rights, kind, i18n.current_locale)
    await edit_message(query.message, _picker_text(kind), _picker_keyboard(items, set(), kind, 0))


async def _picking(
    query: CallbackQuery, callback_data: AudienceChoice, state: FSMContext
) -> BroadcastDraft | None:
    """The draft, if the button belongs to the picker on show (else it is stale)."""
    draft = await BroadcastDraft.load(state)
    if callback_data.kind != draft.picking or callback_data.kind not in KIND_CODES:
        await stale(query)
        return None
    return draft


async def toggle_item(
    query: CallbackQuery,
    callback_data: AudienceChoice,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """A library or district chosen, or chosen no more."""
    draft = await _picking(query, callback_data, state)
    if draft is None:
        return
    kind = callback_data.kind
    items = await _picker_items(session, broadcasts.rights_for(roles), kind, i18n.current_locale)
    offered = [item_id for item_id, _label in items]
    if callback_data.value not in offered:
        # Not offered to this person: a forged or outdated button.
        await refuse(query)
        return
    chosen = set(draft.ids) ^ {callback_data.value}
    draft.ids = sorted(chosen)
    await draft.save(state)
    await query.answer()
    page = offered.index(callback_data.value) // PAGE_SIZE
    await edit_message(
        query.message, _picker_text(kind), _picker_keyboard(items, chosen, kind, page)
    )


async def turn_page(
    query: CallbackQuery,
    callback_data: AudienceChoice,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Another page of the picker."""
    draft = await _picking(query, callback_data, state)
    if draft is None:
        return
    kind = callback_data.kind
    items = await _picker_items(session, broadcasts.rights_for(roles), kind, i18n.current_locale)
    await query.answer()
    await edit_message(
        query.message,
        _picker_text(kind),
        _picker_keyboard(items, set(draft.ids), kind, callback_data.value),
    )


async def audience_chosen(
    query: CallbackQuery,
    callback_data: AudienceChoice,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Next: the audience is complete, on to the texts."""
    draft = await _picking(query, callback_data, state)
    if draft is None:
        return
    kind = callback_data.kind
    rights = broadcasts.rights_for(roles)
    items = await _picker_items(session, rights, kind, i18n.current_locale)
    if not draft.ids:
        await query.answer(_("Choose at least one first."), show_alert=True)
        return
    known = {item_id for item_id, _label in items}
    audience = Audience(KIND_CODES[kind], tuple(sorted(set(draft.ids) & known)))
    try:
        broadcasts.check_audience(rights, audience)
    except NotAllowedError:
        await refuse(query)
        return
    await query.answer()
    await _ask_text(query, session, state, audience, i18n)


async def audience_text(session: AsyncSession, audience: Audience, language: str) -> str:
    """Who the audience is, in words (HTML)."""
    if audience.kind is BroadcastAudience.EVERYONE:
        return _("everyone")
    if audience.kind is BroadcastAudience.FOLLOWERS:
        names = [
            escape(library_name(library, language))
            for library in await directory.libraries_by_id(session, audience.ids)
        ]
        return _("followers of {libraries}").format(libraries=listing(names, language))
    names = [
        escape(district_label(district, language))
        for district in await directory.districts_by_id(session, audience.ids)
    ]
    return _("readers in {districts}").format(districts=listing(names, language))


async def _ask_text(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    audience: Audience,
    i18n: I18n,
) -> None:
    draft = await BroadcastDraft.load(state)
    draft.audience, draft.ids = audience.kind, list(audience.ids)
    await draft.save(state)
    await state.set_state(BroadcastWizard.text_zh)
    count = await broadcasts.count_recipients(session, audience)
    await edit_message(
        query.message,
        _("Audience: {audience} — {count} readers now.").format(
            audience=await audience_text(session, audience, i18n.current_locale), count=count
        ),
    )
    if query.message is not None and query.bot is not None:
        await query.bot.send_message(
            query.message.chat.id,
            _(
                "Send the message in Chinese. Formatting (bold, italic, links) is kept. "
                "No Chinese version? Tap Skip."
            ),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[step_button(_("Skip"), StepAction.SKIP), *cancel_row()]]
            ),
        )


def build_router() -> Router:
    """The command and the audience picker (one handler per action)."""
    router = Router(name=__name__)
    organiser = HasRole(Role.ORGANISER)
    picking = StateFilter(BroadcastWizard.audience)
    router.message.register(start_broadcast, Command("broadcast"), organiser)
    for handler, action in (
        (choose_kind, AudienceAction.KIND),
        (toggle_item, AudienceAction.PICK),
        (turn_page, AudienceAction.PAGE),
        (audience_chosen, AudienceAction.NEXT),
    ):
        router.callback_query.register(
            handler, AudienceChoice.filter(F.action == action), picking, organiser
        )
    router.callback_query.register(stale, AudienceChoice.filter(), organiser)
    return router
