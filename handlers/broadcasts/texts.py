"""/broadcast, the message: the Chinese and English texts, then an optional link button."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Role
from bot.services import broadcasts
from bot.services.errors import InvalidInputError
from bot.services.roles import RoleSet
from handlers.broadcasts.confirm import preview
from handlers.broadcasts.draft import (
    BroadcastDraft,
    BroadcastWizard,
    StepAction,
    StepChoice,
    cancel_row,
    step_button,
)
from handlers.common import edit_message
from handlers.filters import HasRole


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


async def bad_text(message: Message) -> None:
    """A text step got something that is not one message of text, or too long."""
    await message.answer(
        _("Please send the text as one message of at most {limit} characters.").format(
            limit=broadcasts.PLAIN_TEXT_LIMIT
        )
    )


async def _ask_english(message: Message, state: FSMContext, *, optional: bool) -> None:
    await state.set_state(BroadcastWizard.text_en)
    row = [step_button(_("Skip"), StepAction.SKIP)] if optional else []
    await message.answer(
        _("Now the English version, or tap Skip to send only Chinese.")
        if optional
        else _("Then send the message in English."),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[*row, *cancel_row()]]),
    )


async def _ask_button(message: Message, state: FSMContext) -> None:
    await state.set_state(BroadcastWizard.button)
    await message.answer(
        _(
            "Add a button with a link? Send the link (https://…), or a label and the link "
            "(“Sign up https://…”). Or tap Skip."
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[step_button(_("Skip"), StepAction.SKIP), *cancel_row()]]
        ),
    )


async def text_zh(message: Message, state: FSMContext) -> None:
    """The Chinese text."""
    draft = await BroadcastDraft.load(state)
    html_text = _text_of(message)
    if html_text is None:
        await bad_text(message)
        return
    draft.text_zh = html_text
    await draft.save(state)
    await _ask_english(message, state, optional=True)


async def no_chinese(query: CallbackQuery, state: FSMContext) -> None:
    """Skip the Chinese text: the English one is then required."""
    await BroadcastDraft.load(state)
    await query.answer()
    await edit_message(query.message, _("No Chinese version."))
    if isinstance(query.message, Message):
        await _ask_english(query.message, state, optional=False)


async def text_en(message: Message, state: FSMContext) -> None:
    """The English text."""
    draft = await BroadcastDraft.load(state)
    html_text = _text_of(message)
    if html_text is None:
        await bad_text(message)
        return
    draft.text_en = html_text
    await draft.save(state)
    await _ask_button(message, state)


async def no_english(query: CallbackQuery, state: FSMContext) -> None:
    """Skip the English text (only when there is a Chinese one)."""
    draft = await BroadcastDraft.load(state)
    if not draft.text_zh:
        await query.answer(_("The message needs at least one language."), show_alert=True)
        return
    await query.answer()
    await edit_message(query.message, _("Only the Chinese version will be sent."))
    if isinstance(query.message, Message):
        await _ask_button(query.message, state)


async def button_link(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    roles: RoleSet,
    i18n: I18n,
    bot: Bot,
) -> None:
    """The optional link button."""
    draft = await BroadcastDraft.load(state)
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
    draft.button_url, draft.button_label = url, label
    await draft.save(state)
    assert message.chat is not None
    await preview(message.chat.id, state, session, roles, i18n, bot)


async def no_button(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    roles: RoleSet,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Skip the button: on to the preview."""
    await BroadcastDraft.load(state)
    await query.answer()
    await edit_message(query.message, _("No button."))
    if query.message is not None:
        await preview(query.message.chat.id, state, session, roles, i18n, bot)


async def wizard_expects_buttons(message: Message) -> None:
    """Text while the wizard waits for a button."""
    await message.answer(_("Please use the buttons above, or tap Cancel."))


def build_router() -> Router:
    """The text and button steps: typed answers, and Skip in each step."""
    router = Router(name=__name__)
    organiser = HasRole(Role.ORGANISER)
    skip = StepChoice.filter(F.action == StepAction.SKIP)
    router.message.register(text_zh, StateFilter(BroadcastWizard.text_zh), F.text, organiser)
    router.message.register(text_en, StateFilter(BroadcastWizard.text_en), F.text, organiser)
    router.message.register(button_link, StateFilter(BroadcastWizard.button), F.text, organiser)
    router.message.register(
        bad_text, StateFilter(BroadcastWizard.text_zh, BroadcastWizard.text_en), organiser
    )
    router.message.register(
        wizard_expects_buttons,
        StateFilter(BroadcastWizard.audience, BroadcastWizard.button, BroadcastWizard.confirm),
        organiser,
    )
    router.callback_query.register(
        no_chinese, skip, StateFilter(BroadcastWizard.text_zh), organiser
    )
    router.callback_query.register(
        no_english, skip, StateFilter(BroadcastWizard.text_en), organiser
    )
    router.callback_query.register(no_button, skip, StateFilter(BroadcastWizard.button), organiser)
    return router
