"""/admin: the admin console menu, its roles and import sections, and callback refusals."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.models import Role
from bot.services import directory
from bot.services.roles import RoleSet
from handlers import roles as role_commands
from handlers.admin_callbacks import ADMIN_PREFIXES, AdminMenu
from handlers.filters import HasRole


@dataclass(frozen=True)
class AdminSection:
    """One entry of the /admin menu: the key its callback carries and its label."""

    key: str
    label: str


# The menu, in order. Each section's handler filters AdminMenu.filter(F.section == key), so
# a feature adds its entry here and handles it in its own router.
ADMIN_SECTIONS: tuple[AdminSection, ...] = (
    AdminSection("roles", N_("👥 Roles")),
    AdminSection("districts", N_("🗺 Districts")),
    AdminSection("libraries", N_("🏛 Libraries")),
    AdminSection("import", N_("📥 Catalogue import")),
    AdminSection("suggestions", N_("💡 Purchase suggestions")),
    AdminSection("audit", N_("📜 Audit log")),
    AdminSection("stats", N_("📊 Statistics")),
    AdminSection("reach", N_("📍 Reach")),
    AdminSection("campaigns", N_("📣 Campaigns")),
    AdminSection("newcampaign", N_("➕ New campaign")),
    AdminSection("harvest", N_("🔄 Catalogue harvest")),
)


MESSAGE_LIMIT = 4000


def fit_lines(lines: list[str], limit: int = MESSAGE_LIMIT) -> str:
    """Whole lines joined up to Telegram's message size, then "…" (never a cut HTML tag)."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def back_to_menu() -> InlineKeyboardButton:
    """The button that returns to the /admin menu."""
    return InlineKeyboardButton(
        text=_("⬅️ Admin menu"), callback_data=AdminMenu(section="menu").pack()
    )


def menu_keyboard() -> InlineKeyboardMarkup:
    """The /admin menu, two sections per row."""
    builder = InlineKeyboardBuilder()
    for section in ADMIN_SECTIONS:
        builder.button(text=_(section.label), callback_data=AdminMenu(section=section.key))
    builder.adjust(2)
    return builder.as_markup()


def menu_text() -> str:
    """The heading of the /admin menu."""
    return _("🛠 Admin console. What would you like to manage?")


async def admin_command(message: Message) -> None:
    """/admin: the console menu."""
    await message.answer(menu_text(), reply_markup=menu_keyboard())


async def show_menu(callback: CallbackQuery) -> None:
    """Back to the menu (a new message, so the section above stays readable)."""
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(menu_text(), reply_markup=menu_keyboard())


async def roles_section(callback: CallbackQuery, session: AsyncSession) -> None:
    """Who holds which role, and how to change it."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    await role_commands.list_roles(callback.message, session)
    await callback.message.answer(
        _("To change roles:")
        + f"\n{escape(role_commands.USAGE_GRANT)}\n{escape(role_commands.USAGE_REVOKE)}",
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[back_to_menu()]]),
    )


async def import_section(callback: CallbackQuery, session: AsyncSession) -> None:
    """How to import a library's catalogue, with the library codes."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    codes = await directory.library_codes(session)
    await callback.message.answer(
        _(
            "To import a catalogue, send /import LIBRARY_CODE and then the file "
            "(MARC 21, MARCXML or CSV)."
        )
        + "\n"
        + _("Known codes: {codes}").format(codes=escape(", ".join(codes)) or "—"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[back_to_menu()]]),
    )


class LacksAdminRole(Filter):
    """The person pressing an admin button is not (or no longer) an admin."""

    async def __call__(self, event: Any, roles: RoleSet | None = None, **_: Any) -> bool:
        return roles is None or not roles.has(Role.ADMIN)


async def refuse_callback(callback: CallbackQuery) -> None:
    """An admin button pressed (or forged) by a non-admin: refuse and change nothing."""
    await callback.answer(_("Sorry, only alliance admins can do this."), show_alert=True)


def is_admin_callback(data: str | None) -> bool:
    """Whether callback data belongs to the admin console."""
    return bool(data) and str(data).split(":", 1)[0] in ADMIN_PREFIXES


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    admin = HasRole(Role.ADMIN)
    router.callback_query.register(
        refuse_callback, LacksAdminRole(), F.data.func(is_admin_callback)
    )
    router.message.register(admin_command, admin, Command("admin"))
    router.callback_query.register(show_menu, admin, AdminMenu.filter(F.section == "menu"))
    router.callback_query.register(roles_section, admin, AdminMenu.filter(F.section == "roles"))
    router.callback_query.register(import_section, admin, AdminMenu.filter(F.section == "import"))
    return router
