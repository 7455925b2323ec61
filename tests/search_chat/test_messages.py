"""Every message of this feature has a Chinese translation, merged or pending."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR

from .conftest import pending_translations

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("handlers/search.py", "handlers/inline.py")
KEYWORDS = {"_": None, "__": None, "N_": None, "gettext": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _messages() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        for _lineno, message, _comments, _context in extract_from_file(
            "python", ROOT / source, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _merged() -> dict[str, str]:
    with (LOCALES_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale="zh")
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def test_every_message_is_translated() -> None:
    messages = _messages()
    assert len(messages) > 50
    chinese = {**pending_translations(), **_merged()}
    missing = sorted(message for message in messages if message not in chinese)
    assert not missing, f"add to bot/locales/pending/search_chat.json: {missing}"
    for message in messages:
        assert sorted(PLACEHOLDER.findall(message)) == sorted(
            PLACEHOLDER.findall(chinese[message])
        ), message


def test_no_pending_translation_is_unused() -> None:
    unused = set(pending_translations()) - _messages()
    assert not unused, unused
