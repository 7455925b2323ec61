"""/judging: the panel scores entries one at a time, 1 to 10, without the authors' names."""

from __future__ import annotations

from html import escape

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import DbInt, Reader, utcnow
from bot.services.errors import DomainError, InvalidInputError, NotFoundError
from bot.services.submissions import judging
from handlers.common import remove_buttons

PREVIEW_LIMIT = 3500


class ScoreEntry(CallbackData, prefix="jsc"):
    """A judge's score for an entry."""

    entry_id: DbInt
    score: DbInt


def _scores(entry_id: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=str(score), callback_data=ScoreEntry(entry_id=entry_id, score=score).pack()
        )
        for score in judging.SCORES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[:5], buttons[5:]])


async def _show_next(bot: Bot, session: AsyncSession, judge: Reader) -> bool:
    """The next entry of any contest the judge is on; False when none is left."""
    for contest in await judging.judged_contests(session, judge):
        queue = await judging.next_entry(session, judge, contest.id)
        entry = queue.entry
        if entry is None:
            continue
        head = _(
            "⚖️ {contest}: entry no. {number} ({left} left to score). Score it 1 to 10."
        ).format(contest=escape(contest.title), number=entry.id, left=queue.left)
        if entry.file_kind == "photo" and entry.file_id:
            await bot.send_photo(
                judge.chat_id, entry.file_id, caption=head, reply_markup=_scores(entry.id)
            )
        elif entry.file_kind == "document" and entry.file_id:
            await bot.send_document(
                judge.chat_id, entry.file_id, caption=head, reply_markup=_scores(entry.id)
            )
        else:
            text = escape((entry.text or "")[:PREVIEW_LIMIT])
            await bot.send_message(
                judge.chat_id, f"{head}\n\n{text}", reply_markup=_scores(entry.id)
            )
        return True
    return False


async def start_judging(message: Message, session: AsyncSession, reader: Reader, bot: Bot) -> None:
    """/judging: the next entry to score."""
    if not await judging.judged_contests(session, reader):
        await message.answer(_("You are not on any contest's panel."))
        return
    if not await _show_next(bot, session, reader):
        await message.answer(_("✅ You have scored every entry so far. Thank you!"))


async def score(
    query: CallbackQuery, callback_data: ScoreEntry, session: AsyncSession, reader: Reader, bot: Bot
) -> None:
    """Store the score, then show the next entry."""
    try:
        await judging.score_entry(
            session, reader, callback_data.entry_id, callback_data.score, now=utcnow()
        )
    except judging.OwnEntryError:
        await query.answer(
            _("You cannot score your own entry; nothing was stored."), show_alert=True
        )
        return
    except judging.AlreadyScoredError:
        await query.answer(_("You have already scored this entry."), show_alert=True)
        await remove_buttons(query.message)
        return
    except judging.NotAJudgeError:
        await query.answer(_("Only the contest's judges can score its entries."), show_alert=True)
        return
    except (InvalidInputError, NotFoundError, DomainError):
        await query.answer(_("That entry cannot be scored."), show_alert=True)
        return
    await query.answer(_("Scored {score}.").format(score=callback_data.score))
    await remove_buttons(query.message)
    if not await _show_next(bot, session, reader):
        await bot.send_message(
            reader.chat_id, _("✅ You have scored every entry so far. Thank you!")
        )


def build_router() -> Router:
    """A fresh router with the judges' side."""
    router = Router(name=__name__)
    router.message.register(start_judging, Command("judging"))
    router.callback_query.register(score, ScoreEntry.filter())
    return router
