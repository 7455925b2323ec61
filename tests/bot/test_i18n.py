"""Every reader-facing message has a Chinese translation, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import (
    LOCALES_DIR,
    Gettext,
    choose_language,
    create_i18n,
    in_every_language,
    language_from_telegram,
)

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "__": None,
    "N_": None,
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _source_messages() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers", "jobs", "search"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS, comment_tags=()
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(language: str) -> dict[str, str]:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    translated: dict[str, str] = {}
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        # A plural entry is keyed by its singular, with its first form.
        key = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string if isinstance(message.string, str) else message.string[0]
        if string:
            translated[str(key)] = str(string)
    return translated


def test_every_message_has_a_chinese_translation() -> None:
    messages = _source_messages()
    assert len(messages) > 50
    chinese = _catalogue("zh")
    missing = sorted(m for m in messages if m not in chinese)
    assert not missing, f"untranslated into zh (run `make i18n`, then translate): {missing}"


def test_translations_keep_placeholders() -> None:
    for source, translated in _catalogue("zh").items():
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(translated)), (
            source
        )


def test_catalogues_load_and_translate() -> None:
    i18n = create_i18n("zh")
    assert set(i18n.available_locales) >= {"zh", "en"}
    assert i18n.gettext("Saved.", locale="zh") == "已保存。"
    assert i18n.gettext("Saved.", locale="en") == "Saved."


def test_language_choice() -> None:
    assert language_from_telegram("zh-hans") == "zh"
    assert language_from_telegram("zh_CN") == "zh"
    assert language_from_telegram("ZH-TW") == "zh"
    assert language_from_telegram("en-US") == "en"
    assert language_from_telegram("de") is None
    assert language_from_telegram(None) is None
    assert choose_language("en", "zh-hans", "zh") == "en"
    assert choose_language(None, "zh-hans", "en") == "zh"
    assert choose_language(None, "ru", "en") == "en"


def test_a_notice_is_rendered_in_every_language() -> None:
    def render(_: Gettext, language: str) -> str:
        return f"{language}: {_('Saved.')}"

    assert in_every_language(create_i18n("zh"), render) == {
        "zh": "zh: 已保存。",
        "en": "en: Saved.",
    }


def test_sentences_are_joined_as_each_language_writes_them() -> None:
    from handlers.common import sentences

    assert sentences("I could not read that date.", "Use YYYY-MM-DD HH:MM.") == (
        "I could not read that date. Use YYYY-MM-DD HH:MM."
    )
    assert sentences("我看不懂这个日期。", "请使用 YYYY-MM-DD HH:MM。") == (
        "我看不懂这个日期。请使用 YYYY-MM-DD HH:MM。"
    )


def test_rates_keep_small_districts_apart() -> None:
    from handlers.common import rate_text

    assert [rate_text(v) for v in (1234.5, 12.46, 1.0, 0.42, 0.0314, 0.0)] == [
        "1,234",
        "12",
        "1.0",
        "0.42",
        "0.031",
        "0",
    ]
