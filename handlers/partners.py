"""/partners and a partner's page; admins add partners and their organisers; /cohost."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import DbInt, PartnerKind, Reader, Role, utcnow
from bot.services import partners
from bot.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.drafts import split_bilingual
from bot.services.events.times import local_time
from bot.services.roles import AmbiguousReaderError, RoleSet, find_reader
from bot.services.statistics import Period
from handlers.common import edit_message
from handlers.events.callbacks import EventOpen
from handlers.filters import HasRole, Onboarded


class PartnerOpen(CallbackData, prefix="ptn"):
    """A partner's page (0: the list)."""

    partner_id: DbInt = 0


def kind_label(kind: PartnerKind) -> str:
    """The kind of organisation, for readers."""
    labels = {
        PartnerKind.COLLEGE: _("🎓 College"),
        PartnerKind.DEPARTMENT: _("🏫 Department"),
        PartnerKind.STUDENT_UNION: _("🧑‍🤝‍🧑 Student union"),
        PartnerKind.BOOKSTORE: _("📚 Bookstore"),
        PartnerKind.MUSEUM: _("🏛 Museum"),
        PartnerKind.PUBLISHER: _("🖨 Publisher"),
        PartnerKind.OTHER: _("🤝 Partner"),
    }
    return labels[kind]


async def show_partners(message: Message, session: AsyncSession, i18n: I18n) -> None:
    """/partners: every partner, a button each."""
    found = await partners.all_partners(session)
    language = i18n.current_locale
    builder = InlineKeyboardBuilder()
    lines = [_("🤝 <b>Our partners</b>")]
    if not found:
        lines.append(_("No partners yet."))
    for partner in found:
        lines.append(f"• {kind_label(partner.kind)}: {escape(partner.display(language))}")
        builder.row(
            InlineKeyboardButton(
                text=partner.display(language)[:60],
                callback_data=PartnerOpen(partner_id=partner.id).pack(),
            )
        )
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


async def open_partner(
    query: CallbackQuery,
    callback_data: PartnerOpen,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A partner's page: who they are and the events they co-host, with every host."""
    try:
        page = await partners.partner_page(session, callback_data.partner_id, now=utcnow())
    except NotFoundError:
        await query.answer(_("That partner no longer exists."), show_alert=True)
        return
    language = i18n.current_locale
    partner = page.partner
    lines = [f"<b>{escape(partner.display(language))}</b>", kind_label(partner.kind)]
    if partner.description:
        lines += ["", escape(partner.description)]
    lines += ["", _("Upcoming events:") if page.events else _("No upcoming events.")]
    builder = InlineKeyboardBuilder()
    for event, hosts in page.events:
        names = ", ".join(host.display(language) for host in hosts)
        lines.append(
            f"• {local_time(event.starts_at, settings.zone)} "
            f"{escape(event.display_title(language))} — "
            + _("hosts: {names}").format(names=escape(names))
        )
        builder.row(
            InlineKeyboardButton(
                text=event.display_title(language)[:60],
                callback_data=EventOpen(event_id=event.id).pack(),
            )
        )
    await query.answer()
    await edit_message(query.message, "\n".join(lines), builder.as_markup())


def admin_usage() -> str:
    """How admins add partners and their organisers."""
    kinds = ", ".join(kind.value for kind in PartnerKind)
    return (
        _(
            "<code>/newpartner CODE KIND NAME</code> adds a partner (KIND: {kinds}; NAME may be "
            "<code>中文 / English</code>); <code>/partnerorganiser CODE @username</code> makes "
            "someone an organiser for it."
        ).format(kinds=kinds)
        + "\n"
        + _(
            "A college or department of a school or university: KIND@LIBRARY_CODE, e.g. "
            "<code>/newpartner HBU_LIT college@HBU 文学院 / School of Literature</code>; its "
            "readers pick it in /settings."
        )
    )


async def new_partner(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """/newpartner CODE KIND NAME (admins)."""
    words = (command.args or "").split(maxsplit=2)
    kind_text, _at, library_code = words[1].partition("@") if len(words) > 1 else ("", "", "")
    if len(words) < 3 or kind_text not in {kind.value for kind in PartnerKind}:
        await message.answer(admin_usage())
        return
    name, name_en = split_bilingual(words[2].strip())
    try:
        partner = await partners.create_partner(
            session,
            reader,
            roles,
            code=words[0],
            kind=PartnerKind(kind_text),
            name=name,
            name_en=name_en,
            library_code=library_code or None,
        )
    except NotFoundError:
        await message.answer(_("No library has that code."))
        return
    except InvalidInputError as error:
        texts = {
            "code": _("A code is 2 to 16 letters, digits or _."),
            "taken": _("That code is taken."),
            "institution": _(
                "Only a college or department can belong to a school or university library."
            ),
        }
        await message.answer(texts.get(str(error), admin_usage()))
        return
    await message.answer(
        _("🤝 Partner {code} added: {name}.").format(code=partner.code, name=escape(partner.name))
    )


async def bind(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """/partnerorganiser CODE @username (admins)."""
    words = (command.args or "").split()
    if len(words) != 2:
        await message.answer(admin_usage())
        return
    try:
        person = await find_reader(session, words[1])
        partner = await partners.bind_organiser(session, reader, roles, words[0], person)
    except (NotFoundError, InvalidInputError, AmbiguousReaderError):
        await message.answer(_("I do not know that partner or that person."))
        return
    await message.answer(
        _("{name} now organises events for {partner}.").format(
            name=escape(person.first_name or "—"), partner=escape(partner.name)
        )
    )


async def cohost(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """/cohost EVENT_ID [CODE]: a partner (yours, if no code) co-hosts your event."""
    words = (command.args or "").split()
    if not 1 <= len(words) <= 2 or not words[0].isdigit() or len(words[0]) > 9:
        await message.answer(
            _(
                "<code>/cohost EVENT_ID [PARTNER_CODE]</code>: without a code, the partner you "
                "organise for co-hosts the event."
            )
        )
        return
    try:
        event, added = await partners.add_host(
            session, reader, roles, int(words[0]), words[1] if len(words) == 2 else None
        )
    except NotAllowedError:
        await message.answer(_("You can add co-hosts only to events you organise."))
        return
    except partners.AlreadyHostingError:
        await message.answer(_("That partner co-hosts the event already."))
        return
    except NotFoundError:
        await message.answer(_("I do not know that event or partner (or you organise for none)."))
        return
    await message.answer(
        _("🤝 {names} now co-host “{title}”.").format(
            names=escape(", ".join(partner.name for partner in added)), title=escape(event.title)
        )
    )


async def send_partner_statistics(
    message: Message, session: AsyncSession, period: Period, language: str
) -> None:
    """The /stats section per partner (nothing when there are no partners)."""
    found = await partners.partner_activity(session, period.start, period.end)
    if not found:
        return
    lines = [
        _("🤝 Per partner ({period}): events co-hosted, registrations, attended").format(
            period=escape(period.label)
        )
    ]
    lines += [
        f"• {escape(item.partner.display(language))}: {item.events} · {item.registrations} · "
        f"{item.attended}"
        for item in found
    ]
    await message.answer("\n".join(lines))


def build_router() -> Router:
    """A fresh router for partners."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.message.register(show_partners, Command("partners"))
    router.callback_query.register(open_partner, PartnerOpen.filter())
    router.message.register(new_partner, Command("newpartner"), HasRole(Role.ADMIN))
    router.message.register(bind, Command("partnerorganiser"), HasRole(Role.ADMIN))
    router.message.register(cohost, Command("cohost"), HasRole(Role.ORGANISER))
    return router
