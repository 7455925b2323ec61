"""/broadcast: organisers and admins write to readers — audience, texts, link, preview, confirm."""

from __future__ import annotations

from enum import StrEnum
from html import escape
from typing import Any, ClassVar

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter, or_f
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import broadcast_status_text, localized, render_parts
from bot.i18n import N_
from bot.models import BroadcastAudience, Reader, Role, utcnow
from bot.services import broadcasts, directory, follows
from bot.services.broadcasts import Audience, Draft, Rights
from bot.services.errors import InvalidInputError, NotAllowedError
from bot.services.outbox import OutcomeCounts
from bot.services.roles import RoleSet
from handlers.callbacks import DbInt
from handlers.common import edit_message
from handlers.filters import HasRole, Onboarded
from handlers.follow import library_name
from handlers.keyboards import district_label

PAGE_SIZE = 8
OPEN_LINK = N_("🔗 Open link")
KIND_CODES = {"l": BroadcastAudience.FOLLOWERS, "d": BroadcastAudience.DISTRICTS}


class BroadcastWizard(StatesGroup):
    """The steps of writing a broadcast."""

    audience = State()
    text_zh = State()
    text_en = State()
    button = State()
    confirm = State()


class AudienceAction(StrEnum):
    KIND = "k"
    PICK = "p"
    PAGE = "g"
    NEXT = "n"


class AudienceChoice(CallbackData, prefix="bca"):
    """A choice while picking the audience: a kind, an item to toggle, a page, or Next."""

    required_role: ClassVar[Role] = Role.ORGANISER
    action: AudienceAction
    kind: str
    value: DbInt = 0


class StepAction(StrEnum):
    SKIP = "skip"
    SEND = "send"
    URGENT = "urgent"
    CANCEL = "cancel"


class StepChoice(CallbackData, prefix="bcs"):
    """Skip a step, send, send as urgent, or cancel."""

    required_role: ClassVar[Role] = Role.ORGANISER
    action: StepAction


def _step(text: str, action: StepAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=StepChoice(action=action).pack())


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_step(_("✖️ Cancel"), StepAction.CANCEL)]


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
        paging.append(
            InlineKeyboardButton(
                text="◀️",
                callback_data=AudienceChoice(
                    action=AudienceAction.PAGE, kind=kind, value=page - 1
                ).pack(),
            )
        )
    if page + 1 < pages:
        paging.append(
            InlineKeyboardButton(
                text="▶️",
                callback_data=AudienceChoice(
                    action=AudienceAction.PAGE, kind=kind, value=page + 1
                ).pack(),
            )
        )
    if paging:
        builder.row(*paging)
    builder.row(
        InlineKeyboardButton(
            text=_("Next ▶️"),
            callback_data=AudienceChoice(action=AudienceAction.NEXT, kind=kind).pack(),
        ),
        *_cancel_row(),
    )
    return builder.as_markup()


def _picker_text(kind: str) -> str:
    if kind == "l":
        return _("Whose followers should get the message? Tap libraries to choose, then Next.")
    return _("Readers of which districts should get the message? Tap to choose, then Next.")


def _kind_keyboard(rights: Rights) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=_("Followers of libraries"),
                callback_data=AudienceChoice(action=AudienceAction.KIND, kind="l").pack(),
            )
        ]
    ]
    if rights.districts:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("Readers in districts"),
                    callback_data=AudienceChoice(action=AudienceAction.KIND, kind="d").pack(),
                )
            ]
        )
    if rights.everyone:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("Everyone"),
                    callback_data=AudienceChoice(action=AudienceAction.KIND, kind="a").pack(),
                )
            ]
        )
    rows.append(_cancel_row())
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def start_broadcast(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    i18n: I18n,
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
    await state.update_data(draft_key=broadcasts.new_draft_key(), kind=None, ids=[])
    if rights.districts or rights.everyone:
        await message.answer(
            _("📣 New broadcast. Who should get it?"), reply_markup=_kind_keyboard(rights)
        )
        return
    await state.update_data(kind="l")
    items = await _picker_items(session, rights, "l", i18n.current_locale)
    await message.answer(
        _("📣 New broadcast.") + "\n\n" + _picker_text("l"),
        reply_markup=_picker_keyboard(items, set(), "l", 0),
    )


async def audience_choice(
    query: CallbackQuery,
    callback_data: AudienceChoice,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Kind chosen, item toggled, page turned, or Next."""
    rights = broadcasts.rights_for(roles)
    data = await state.get_data()
    kind = callback_data.kind
    language = i18n.current_locale
    if callback_data.action is AudienceAction.KIND:
        if (kind == "d" and not rights.districts) or (kind == "a" and not rights.everyone):
            await _refuse(query)
            return
        if kind not in ("l", "d", "a"):
            await _stale(query)
            return
        await state.update_data(kind=kind, ids=[])
        await query.answer()
        if kind == "a":
            await _ask_text(query, session, state, Audience(BroadcastAudience.EVERYONE), language)
            return
        items = await _picker_items(session, rights, kind, language)
        await edit_message(
            query.message, _picker_text(kind), _picker_keyboard(items, set(), kind, 0)
        )
        return
    if kind != data.get("kind") or kind not in KIND_CODES:
        await _stale(query)
        return
    chosen = set(data.get("ids") or [])
    items = await _picker_items(session, rights, kind, language)
    known = {item_id for item_id, _label in items}
    if callback_data.action is AudienceAction.PICK:
        if callback_data.value not in known:
            # Not offered to this person: a forged or outdated button.
            await _refuse(query)
            return
        chosen ^= {callback_data.value}
        await state.update_data(ids=sorted(chosen))
        await query.answer()
        page = [item_id for item_id, _label in items].index(callback_data.value) // PAGE_SIZE
        await edit_message(
            query.message, _picker_text(kind), _picker_keyboard(items, chosen, kind, page)
        )
    elif callback_data.action is AudienceAction.PAGE:
        await query.answer()
        await edit_message(
            query.message,
            _picker_text(kind),
            _picker_keyboard(items, chosen, kind, callback_data.value),
        )
    else:
        if not chosen:
            await query.answer(_("Choose at least one first."), show_alert=True)
            return
        audience = Audience(KIND_CODES[kind], tuple(sorted(chosen & known)))
        try:
            broadcasts.check_audience(rights, audience)
        except NotAllowedError:
            await _refuse(query)
            return
        await query.answer()
        await _ask_text(query, session, state, audience, language)


async def _audience_text(session: AsyncSession, audience: Audience, language: str) -> str:
    if audience.kind is BroadcastAudience.EVERYONE:
        return _("everyone")
    if audience.kind is BroadcastAudience.FOLLOWERS:
        names = [
            library_name(library, language)
            for library in await directory.libraries_by_id(session, audience.ids)
        ]
        return _("followers of {libraries}").format(libraries=escape(", ".join(names)))
    names = [
        district_label(district, language)
        for district in await directory.districts_by_id(session, audience.ids)
    ]
    return _("readers in {districts}").format(districts=escape(", ".join(names)))


async def _ask_text(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    audience: Audience,
    language: str,
) -> None:
    await state.update_data(kind=audience.kind.value, ids=list(audience.ids))
    await state.set_state(BroadcastWizard.text_zh)
    count = await broadcasts.count_recipients(session, audience)
    await edit_message(
        query.message,
        _("Audience: {audience} — {count} readers now.").format(
            audience=await _audience_text(session, audience, language), count=count
        ),
    )
    await _send(
        query,
        _(
            "Send the message in Chinese. Formatting (bold, italic, links) is kept. "
            "No Chinese version? Tap Skip."
        ),
        InlineKeyboardMarkup(inline_keyboard=[[_step(_("Skip"), StepAction.SKIP), *_cancel_row()]]),
    )


async def _send(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if query.message is not None and query.bot is not None:
        await query.bot.send_message(query.message.chat.id, text, reply_markup=markup)


def _text_of(message: Message) -> str | None:
    """The message's text as HTML (entities kept, everything else escaped), if it fits."""
    if not message.text:
        return None
    html_text = message.html_text
    try:
        broadcasts.check_text(html_text, len(message.text))
    except InvalidInputError:
        return None
    return html_text


async def text_zh(message: Message, state: FSMContext) -> None:
    """The Chinese text."""
    html_text = _text_of(message)
    if html_text is None:
        await _bad_text(message)
        return
    await state.update_data(text_zh=html_text)
    await _ask_english(message, state, optional=True)


async def _ask_english(message: Message, state: FSMContext, *, optional: bool) -> None:
    await state.set_state(BroadcastWizard.text_en)
    row = [_step(_("Skip"), StepAction.SKIP)] if optional else []
    await message.answer(
        _("Now the English version, or tap Skip to send only Chinese.")
        if optional
        else _("Then send the message in English."),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[*row, *_cancel_row()]]),
    )


async def text_en(message: Message, state: FSMContext) -> None:
    """The English text."""
    html_text = _text_of(message)
    if html_text is None:
        await _bad_text(message)
        return
    await state.update_data(text_en=html_text)
    await _ask_button(message, state)


async def _bad_text(message: Message) -> None:
    await message.answer(
        _("Please send the text as one message of at most {limit} characters.").format(
            limit=broadcasts.PLAIN_TEXT_LIMIT
        )
    )


async def _ask_button(message: Message, state: FSMContext) -> None:
    await state.set_state(BroadcastWizard.button)
    await message.answer(
        _(
            "Add a button with a link? Send the link (https://…), or a label and the link "
            "(“Sign up https://…”). Or tap Skip."
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[_step(_("Skip"), StepAction.SKIP), *_cancel_row()]]
        ),
    )


async def button_link(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    roles: RoleSet,
    i18n: I18n,
    bot: Bot,
) -> None:
    """The optional link button."""
    try:
        label, url = broadcasts.parse_button(message.text or "")
    except InvalidInputError:
        await message.answer(
            _(
                "That is not a web link I can put on a button. Send https://… "
                "(at most {limit} characters before the link for a label), or tap Skip."
            ).format(limit=broadcasts.LABEL_LIMIT)
        )
        return
    await state.update_data(button_url=url, button_label=label)
    assert message.chat is not None
    await _preview(message.chat.id, state, session, roles, i18n, bot)


def _draft(data: dict[str, Any], i18n: I18n, *, urgent: bool = False) -> Draft | None:
    """The draft the wizard collected, or None when its data is gone (expired or lost)."""
    if not data.get("draft_key") or data.get("kind") not in {a.value for a in BroadcastAudience}:
        return None
    label = data.get("button_label")
    return Draft(
        audience=Audience(BroadcastAudience(data["kind"]), tuple(data.get("ids") or ())),
        text={
            language: data[f"text_{language}"]
            for language in ("zh", "en")
            if data.get(f"text_{language}")
        },
        button_url=data.get("button_url"),
        button_label=label if label else localized(i18n, OPEN_LINK),
        urgent=urgent,
        draft_key=data["draft_key"],
    )


async def _preview(
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    roles: RoleSet,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Show the author exactly what readers get, in each language, then ask to confirm."""
    data = await state.get_data()
    draft = _draft(data, i18n)
    if draft is None:
        await state.clear()
        await bot.send_message(chat_id, _expired())
        return
    await state.set_state(BroadcastWizard.confirm)
    await bot.send_message(chat_id, _("Preview — this is what readers will see:"))
    message = draft.message()
    for language in draft.text:
        for method in render_parts(
            message,
            chat_id=chat_id,
            language=language,
            default_language=i18n.default_locale,
            i18n=i18n,
            unsubscribe_topic=broadcasts.TOPIC,
        ):
            await bot(method)
    count = await broadcasts.count_recipients(session, draft.audience)
    rights = broadcasts.rights_for(roles)
    lines = [
        _("Send it to {audience} ({count} readers)?").format(
            audience=await _audience_text(session, draft.audience, i18n.current_locale),
            count=count,
        ),
        _(
            "It is an announcement: it waits for the end of quiet hours, and readers who get "
            "too many messages or turned announcements off do not get it."
        ),
    ]
    row = [_step(_("✅ Send"), StepAction.SEND)]
    if rights.urgent:
        lines.append(_("Urgent messages skip those rules: use them for closures and safety."))
        row.append(_step(_("🚨 Send as urgent"), StepAction.URGENT))
    await bot.send_message(
        chat_id,
        "\n\n".join(lines),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[row, _cancel_row()]),
    )


async def step_choice(
    query: CallbackQuery,
    callback_data: StepChoice,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    reader: Reader,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Skip, send, send as urgent, or cancel — each only where it belongs."""
    action = callback_data.action
    current = await state.get_state()
    if action is StepAction.CANCEL and current is not None:
        await state.clear()
        await query.answer()
        await edit_message(query.message, _("Broadcast cancelled. Nothing was sent."))
        return
    if action is StepAction.SKIP and current == BroadcastWizard.text_zh.state:
        await query.answer()
        await edit_message(query.message, _("No Chinese version."))
        if isinstance(query.message, Message):
            await _ask_english(query.message, state, optional=False)
        return
    if action is StepAction.SKIP and current == BroadcastWizard.text_en.state:
        if not (await state.get_data()).get("text_zh"):
            await query.answer(_("The message needs at least one language."), show_alert=True)
            return
        await query.answer()
        await edit_message(query.message, _("Only the Chinese version will be sent."))
        if isinstance(query.message, Message):
            await _ask_button(query.message, state)
        return
    if action is StepAction.SKIP and current == BroadcastWizard.button.state:
        await query.answer()
        await edit_message(query.message, _("No button."))
        if query.message is not None:
            await _preview(query.message.chat.id, state, session, roles, i18n, bot)
        return
    if action in (StepAction.SEND, StepAction.URGENT) and current == BroadcastWizard.confirm.state:
        await _confirm(
            query, session, state, roles, reader, i18n, urgent=action is StepAction.URGENT
        )
        return
    await _stale(query)


async def _confirm(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    reader: Reader,
    i18n: I18n,
    *,
    urgent: bool,
) -> None:
    data = await state.get_data()
    draft = _draft(data, i18n, urgent=urgent)
    if draft is None:
        await state.clear()
        await query.answer(_expired(), show_alert=True)
        return
    rights = broadcasts.rights_for(roles)
    try:
        broadcast = await broadcasts.create_broadcast(session, reader, rights, draft, now=utcnow())
    except NotAllowedError:
        await _refuse(query)
        return
    except broadcasts.AlreadySentError:
        await state.clear()
        await query.answer(_("This broadcast was already sent."), show_alert=True)
        return
    await state.clear()
    await query.answer(_("Queued."))
    await edit_message(
        query.message,
        _("🚨 Urgent broadcast queued.") if urgent else _("Broadcast queued."),
    )
    if query.message is None or query.bot is None:
        return
    status = await query.bot.send_message(
        query.message.chat.id,
        broadcast_status_text(
            broadcast.id,
            broadcast.recipients,
            OutcomeCounts(queued=broadcast.recipients),
            finished=False,
        ),
    )
    await broadcasts.attach_status_message(
        session,
        broadcast,
        chat_id=status.chat.id,
        message_id=status.message_id,
        language=i18n.current_locale,
    )


def _expired() -> str:
    return _("This broadcast draft has expired. Start again with /broadcast.")


async def wizard_expects_buttons(message: Message) -> None:
    """Text while the wizard waits for a button."""
    await message.answer(_("Please use the buttons above, or tap Cancel."))


async def _stale(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer active."), show_alert=True)


async def _refuse(query: CallbackQuery) -> None:
    await query.answer(_("You may not send broadcasts to that audience."), show_alert=True)


async def refuse_button(query: CallbackQuery) -> None:
    """A broadcast button pressed by someone who may not broadcast (forged or outdated)."""
    await query.answer(_("Sorry, only organisers and admins can send broadcasts."), show_alert=True)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.callback_query.filter(Onboarded())
    organiser = HasRole(Role.ORGANISER)
    router.message.register(start_broadcast, Command("broadcast"), organiser)
    router.message.register(text_zh, StateFilter(BroadcastWizard.text_zh), F.text, organiser)
    router.message.register(text_en, StateFilter(BroadcastWizard.text_en), F.text, organiser)
    router.message.register(button_link, StateFilter(BroadcastWizard.button), F.text, organiser)
    router.message.register(
        _bad_text,
        StateFilter(BroadcastWizard.text_zh, BroadcastWizard.text_en),
        organiser,
    )
    router.message.register(
        wizard_expects_buttons,
        StateFilter(BroadcastWizard.audience, BroadcastWizard.button, BroadcastWizard.confirm),
        organiser,
    )
    router.callback_query.register(
        audience_choice, AudienceChoice.filter(), StateFilter(BroadcastWizard.audience), organiser
    )
    router.callback_query.register(step_choice, StepChoice.filter(), organiser)
    router.callback_query.register(_stale, AudienceChoice.filter(), organiser)
    router.callback_query.register(
        refuse_button, or_f(AudienceChoice.filter(), StepChoice.filter())
    )
    return router
