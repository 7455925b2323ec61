"""Translations: gettext catalogues for ``en`` and ``zh``, compiled in memory from the .po files."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("zh", "en")


def compile_catalogues(target: Path) -> None:
    """Compile every ``.po`` catalogue into ``target/{lang}/LC_MESSAGES/messages.mo``."""
    for language_dir in sorted(LOCALES_DIR.iterdir()):
        po_path = language_dir / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po_path.is_file():
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=language_dir.name)
        mo_path = target / language_dir.name / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as compiled:
            write_mo(compiled, catalog, use_fuzzy=False)


def create_i18n(default_language: str) -> I18n:
    """aiogram's I18n loaded from the .po sources (compiled on the fly, nothing committed)."""
    # I18n itself must be used (not a subclass): aiogram's gettext looks up I18n's own context.
    with tempfile.TemporaryDirectory(prefix="bookbridge-locales-") as compiled:
        compile_catalogues(Path(compiled))
        return I18n(path=compiled, default_locale=default_language, domain=DOMAIN)


def language_from_telegram(code: str | None) -> str | None:
    """Map Telegram's language_code (``zh-hans``, ``zh-CN``, ``en-GB``...) to ``zh``/``en``."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in LANGUAGES else None


def choose_language(reader_language: str | None, telegram_code: str | None, default: str) -> str:
    """The reader's choice, else Telegram's language, else the alliance default."""
    if reader_language in LANGUAGES:
        return reader_language
    return language_from_telegram(telegram_code) or default


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now."""
    return message


class Translator(Protocol):
    """What services need of the catalogues to write notices (aiogram's ``I18n`` is one)."""

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str: ...


Gettext = Callable[[str], str]


def in_every_language(
    translator: Translator, render: Callable[[Gettext, str], str]
) -> dict[str, str]:
    """One message rendered per language, as the outbox stores it.

    ``render(_, language)`` is called once per language with ``_`` translating into it;
    name the parameter ``_`` so that ``make i18n`` extracts the messages it translates.
    """

    def rendered(language: str) -> str:
        def _(message: str) -> str:
            return translator.gettext(message, locale=language)

        return render(_, language)

    return {language: rendered(language) for language in LANGUAGES}
