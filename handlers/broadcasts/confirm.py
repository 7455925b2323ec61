"""/broadcast, the end: the preview as readers get it, then send (or urgent), or cancel."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.rendering import render_parts
from bot.delivery.reports import broadcast_status_text
from bot.models import Reader, Role, utcnow
from bot.services import broadcasts
from bot.services.errors import NotAllowedError
from bot.services.outbox.outcomes import OutcomeCounts
from bot.services.roles import RoleSet
from handlers.broadcasts.audience import audience_text
from handlers.broadcasts.draft import (
    BroadcastDraft,
    BroadcastWizard,
    StepAction,
    StepChoice,
    cancel_row,
    refuse,
    step_button,
)
from handlers.common import edit_message
from handlers.filters import HasRole


async def preview(
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    roles: RoleSet,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Show the author exactly what readers get, in each language, then ask to confirm."""
    draft = (await BroadcastDraft.load(state)).to_service(i18n)
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
    lines = [
        _("Send it to {audience} ({count} readers)?").format(
            audience=await audience_text(session, draft.audience, i18n.current_locale),
            count=count,
        ),
        _(
            "It is an announcement: it waits for the end of quiet hours, and readers who get "
            "too many messages or turned announcements off do not get it."
        ),
    ]
    row = [step_button(_("✅ Send"), StepAction.SEND)]
    if broadcasts.rights_for(roles).urgent:
        lines.append(_("Urgent messages skip those rules: use them for closures and safety."))
        row.append(step_button(_("🚨 Send as urgent"), StepAction.URGENT))
    await bot.send_message(
        chat_id,
        "\n\n".join(lines),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[row, cancel_row()]),
    )


async def send(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Send: queue the broadcast as an announcement."""
    await _queue(query, session, state, roles, reader, i18n, urgent=False)


async def send_urgent(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Send as urgent (admins): queue the broadcast as a transactional message."""
    await _queue(query, session, state, roles, reader, i18n, urgent=True)


async def _queue(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    roles: RoleSet,
    reader: Reader,
    i18n: I18n,
    *,
    urgent: bool,
) -> None:
    """Queue the broadcast and show the author its status message."""
    draft = (await BroadcastDraft.load(state)).to_service(i18n, urgent=urgent)
    rights = broadcasts.rights_for(roles)
    try:
        broadcast = await broadcasts.create_broadcast(session, reader, rights, draft, now=utcnow())
    except NotAllowedError:
        await refuse(query)
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


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    """Cancel, in any step: nothing is sent."""
    await state.clear()
    await query.answer()
    await edit_message(query.message, _("Broadcast cancelled. Nothing was sent."))


def build_router() -> Router:
    """Send, send as urgent, and cancel (one handler per action)."""
    router = Router(name=__name__)
    organiser = HasRole(Role.ORGANISER)
    confirming = StateFilter(BroadcastWizard.confirm)
    router.callback_query.register(
        send, StepChoice.filter(F.action == StepAction.SEND), confirming, organiser
    )
    router.callback_query.register(
        send_urgent, StepChoice.filter(F.action == StepAction.URGENT), confirming, organiser
    )
    router.callback_query.register(
        cancel, StepChoice.filter(F.action == StepAction.CANCEL), ~StateFilter(None), organiser
    )
    return router
