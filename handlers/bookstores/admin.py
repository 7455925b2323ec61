"""/bookstores (admins): partner bookstores, their staff and each paying library's rules.

/bookstores                                    the stores, their libraries and rules
/bookstores add CODE LIBRARY LAT,LON NAME      add a store (or change the one with CODE)
/bookstores staff @username|ID CODE            give someone the bookstore role for a store
/bookstores rules LIBRARY cap=80 quota=2 budget=5000 copies=3 [days=30]
"""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, Role
from bot.services.bookstores import choosing, setup
from bot.services.bookstores.refusals import UnknownStoreError
from bot.services.errors import DomainError, InvalidInputError, NotFoundError
from bot.services.roles import AmbiguousReaderError, find_library, find_reader
from handlers.bookstores.wording import rules_text
from handlers.filters import HasRole
from handlers.holds.display import library_name_html
from handlers.roles import reader_label


def usage() -> str:
    """The /bookstores forms."""
    return "\n".join(
        [
            _("Usage:"),
            "/bookstores",
            "/bookstores add CODE LIBRARY LAT,LON NAME",
            "/bookstores staff @username|ID CODE",
            "/bookstores rules LIBRARY cap=80 quota=2 budget=5000 copies=3 days=30",
        ]
    )


async def _list(message: Message, session: AsyncSession, language: str) -> None:
    views = await setup.store_views(session)
    if not views:
        await message.answer(_("No partner bookstore yet.") + "\n" + usage())
        return
    lines = [_("🏪 <b>Partner bookstores</b>")]
    for view in views:
        store = view.store
        rules = (
            rules_text(view.rules, language)
            if view.rules is not None
            else _("no rules set: readers are refused")
        )
        lines.append(
            _("• {code} {name}: paid by {library}, {staff} staff; {rules}").format(
                code=f"<code>{escape(store.code)}</code>",
                name=escape(store.display_name(language)),
                library=library_name_html(store.library, language),
                staff=view.staff,
                rules=rules,
            )
        )
    await message.answer("\n".join(lines))


async def _add(message: Message, session: AsyncSession, actor: Reader, words: list[str]) -> None:
    if len(words) < 4:
        await message.answer(usage())
        return
    code, library_code, place = words[0], words[1], words[2]
    try:
        latitude, longitude = (float(part) for part in place.split(",", 1))
        library = await find_library(session, library_code)
        store = setup.StoreInput(code, " ".join(words[3:]), latitude, longitude)
        await setup.add_store(session, actor, store, library)
    except NotFoundError:
        await message.answer(
            _("No library has the code “{code}”.").format(code=escape(library_code))
        )
        return
    except (ValueError, InvalidInputError):
        await message.answer(
            _("Check the code (letters, digits, - and _), the place (LAT,LON) and the name.")
            + "\n"
            + usage()
        )
        return
    await message.answer(_("✅ Bookstore {code} saved.").format(code=escape(code)))


async def _staff(message: Message, session: AsyncSession, actor: Reader, words: list[str]) -> None:
    if len(words) != 2:
        await message.answer(usage())
        return
    try:
        person = await find_reader(session, words[0])
        store = await choosing.store_by_code(session, words[1])
        await setup.add_staff(session, actor, person, store)
    except AmbiguousReaderError:
        await message.answer(_("Several people have that username: use their Telegram id."))
        return
    except UnknownStoreError:
        await message.answer(
            _("No bookstore has the code “{code}”.").format(code=escape(words[1][:32]))
        )
        return
    except setup.AlreadyStaffError:
        await message.answer(_("They already work for that bookstore."))
        return
    except DomainError:
        await message.answer(
            _("I don't know {who}: they must have talked to the bot first.").format(
                who=escape(words[0][:64])
            )
        )
        return
    await message.answer(
        _("✅ {who} now confirms vouchers for {store} with /redeem.").format(
            who=reader_label(person), store=escape(store.code)
        )
    )


async def _rules(
    message: Message, session: AsyncSession, actor: Reader, words: list[str], language: str
) -> None:
    if len(words) < 2:
        await message.answer(usage())
        return
    try:
        library = await find_library(session, words[0])
    except NotFoundError:
        await message.answer(
            _("No library has the code “{code}”.").format(code=escape(words[0][:32]))
        )
        return
    try:
        rules = setup.parse_rules(" ".join(words[1:]))
    except setup.BadRulesError as exc:
        await message.answer(
            _(
                "Check “{field}”: cap and budget in yuan, quota, copies and days as whole numbers."
            ).format(field=escape(exc.field))
            + "\n"
            + usage()
        )
        return
    row = await setup.set_rules(session, actor, library, rules)
    await message.answer(
        _("✅ Rules of {library}: {rules}.").format(
            library=library_name_html(library, language), rules=rules_text(row, language)
        )
    )


async def bookstores_command(
    message: Message, command: CommandObject, session: AsyncSession, reader: Reader, i18n: I18n
) -> None:
    """/bookstores [add|staff|rules ...]."""
    words = (command.args or "").split()
    language = i18n.current_locale
    if not words:
        await _list(message, session, language)
    elif words[0].lower() == "add":
        await _add(message, session, reader, words[1:])
    elif words[0].lower() == "staff":
        await _staff(message, session, reader, words[1:])
    elif words[0].lower() == "rules":
        await _rules(message, session, reader, words[1:], language)
    else:
        await message.answer(usage())


def build_router() -> Router:
    """/bookstores for admins."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.message.register(bookstores_command, Command("bookstores"))
    return router
