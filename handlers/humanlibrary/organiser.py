"""/livingbook: an organiser adds a living book, with back-to-back slots, to their event."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, Role, utcnow
from bot.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.humanlibrary.shelves import BLURB_LIMIT, NewLivingBook, add_living_book
from bot.services.roles import AmbiguousReaderError, RoleSet, find_reader
from handlers.filters import HasRole


def usage() -> str:
    """How to write the command."""
    return _(
        "To add a living book to your event, send, on separate lines:\n"
        "<code>/livingbook EVENT_ID MINUTES [@username]</code>\n"
        "the person's name\n"
        "the topic\n"
        "a short blurb (optional, up to {limit} characters)\n\n"
        "MINUTES is the length of one conversation, 20 to 40; slots run back to back "
        "through the event. @username (optional) is the living book's own account: "
        "they see their schedule in /humanlibrary."
    ).format(limit=BLURB_LIMIT)


def _field_text(field: str) -> str:
    texts = {
        "minutes": _("A conversation lasts 20 to 40 minutes."),
        "name": _("The name must be 1 to 100 characters."),
        "topic": _("The topic must be 1 to 200 characters."),
        "blurb": _("The blurb can be up to {limit} characters.").format(limit=BLURB_LIMIT),
        "event over": _("That event is over or cancelled."),
        "no slot fits": _("No slot of that length fits in what is left of the event."),
    }
    return texts.get(field, usage())


async def add_book(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """Parse the command's lines and add the living book; every problem is named."""
    lines = (command.args or "").splitlines()
    words = lines[0].split() if lines else []
    if len(words) not in (2, 3) or not all(w.isdigit() and len(w) < 7 for w in words[:2]):
        await message.answer(usage())
        return
    if len(lines) < 3:
        await message.answer(usage())
        return
    person = None
    if len(words) == 3:
        try:
            person = await find_reader(session, words[2])
        except (NotFoundError, InvalidInputError, AmbiguousReaderError):
            await message.answer(
                _("I do not know {who}: the living book must have started this bot first.").format(
                    who=escape(words[2])
                )
            )
            return
    book = NewLivingBook(
        name=lines[1].strip(),
        topic=lines[2].strip(),
        blurb="\n".join(lines[3:]).strip(),
        minutes=int(words[1]),
    )
    try:
        living, slots = await add_living_book(
            session, reader, roles, int(words[0]), book, person=person, now=utcnow()
        )
    except NotFoundError:
        await message.answer(_("There is no event {id}.").format(id=words[0]))
        return
    except NotAllowedError:
        await message.answer(_("You can add living books only to events you organise."))
        return
    except InvalidInputError as error:
        await message.answer(_field_text(str(error)))
        return
    await message.answer(
        _("📖 {name} is on the shelf with {slots} slots. Readers find it in /humanlibrary.").format(
            name=escape(living.name), slots=slots
        )
    )


def build_router() -> Router:
    """A fresh router with the organisers' command."""
    router = Router(name=__name__)
    router.message.register(add_book, Command("livingbook"), HasRole(Role.ORGANISER))
    return router
