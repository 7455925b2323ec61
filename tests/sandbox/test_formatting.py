"""Telegram's HTML parse mode, UTF-16 offsets, entity detection and the page's HTML rendering."""

from __future__ import annotations

import pytest
from aiogram.types import MessageEntity

from sandbox.formatting import (
    EntityParseError,
    FormattedText,
    detect_entities,
    parse_html,
    render_html,
    strip_text,
    utf16_len,
)
from sandbox.media import image_size


def spans(formatted: FormattedText) -> list[tuple[str, int, int]]:
    return [(e.type, e.offset, e.length) for e in formatted.entities]


def test_utf16_counts_astral_characters_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("红楼梦") == 3
    assert utf16_len("📚") == 2


def test_html_tags_become_entities_with_utf16_offsets() -> None:
    parsed = parse_html("📚 <b>Dream of the <i>Red</i> Chamber</b> 红楼梦")
    assert parsed.text == "📚 Dream of the Red Chamber 红楼梦"
    assert sorted(spans(parsed)) == [("bold", 3, 24), ("italic", 16, 3)]


@pytest.mark.parametrize(
    ("tag", "entity"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_every_simple_tag(tag: str, entity: str) -> None:
    assert spans(parse_html(f"<{tag}>x</{tag}>")) == [(entity, 0, 1)]


def test_attributes_of_links_spoilers_code_and_emoji() -> None:
    parsed = parse_html(
        '<a href="https://example.org/?a=1&amp;b=2">site</a> '
        '<span class="tg-spoiler">s</span> '
        '<pre><code class="language-python">x = 1</code></pre> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        "<blockquote expandable>q</blockquote>"
    )
    by_type = {e.type: e for e in parsed.entities}
    assert by_type["text_link"].url == "https://example.org/?a=1&b=2"
    assert by_type["spoiler"].offset == 5
    assert by_type["pre"].language == "python"
    assert "code" not in by_type
    assert by_type["custom_emoji"].custom_emoji_id == "5368324170671202286"
    assert "expandable_blockquote" in by_type


def test_html_escapes_and_unknown_named_entities() -> None:
    assert parse_html("a &lt;b&gt; &amp; &quot;c&quot; &#x41;&#66; &nbsp;").text == (
        'a <b> & "c" AB &nbsp;'
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("é <b>x</i>", 'Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_html_errors_use_telegram_wording(source: str, message: str) -> None:
    with pytest.raises(EntityParseError) as error:
        parse_html(source)
    assert str(error.value) == message


def test_strip_moves_entities_like_telegram() -> None:
    stripped = strip_text(parse_html("\n  <b> hi </b> <i>there</i>\n\n"))
    assert stripped.text == "hi  there"
    assert spans(stripped) == [("bold", 0, 3), ("italic", 4, 5)]


def test_detects_commands_links_mentions_hashtags_and_email() -> None:
    detected = detect_entities(
        FormattedText(
            "/search@bookbridge_bot tolstoy https://lib.example/x. @reader #books a@b.org", []
        )
    )
    assert spans(detected) == [
        ("bot_command", 0, 22),
        ("url", 31, 21),
        ("mention", 54, 7),
        ("hashtag", 62, 6),
        ("email", 69, 7),
    ]


def test_detection_skips_code_and_links() -> None:
    parsed = parse_html("<code>/start</code> /help")
    assert spans(detect_entities(parsed)) == [("code", 0, 6), ("bot_command", 7, 5)]


def test_render_escapes_text_and_nests_entities() -> None:
    text = "<b>& 📚 bold"
    entities = [
        MessageEntity(type="italic", offset=0, length=8),
        MessageEntity(type="bold", offset=5, length=7),
    ]
    assert render_html(text, entities) == "<i>&lt;b&gt;&amp; <b>📚 </b></i><b>bold</b>"


def test_render_refuses_unsafe_link_schemes() -> None:
    entities = [MessageEntity(type="text_link", offset=0, length=5, url="javascript:alert(1)")]
    assert render_html("click", entities) == '<span class="tg-link">click</span>'
    entities = [MessageEntity(type="text_link", offset=0, length=5, url='https://x.org/"a')]
    assert render_html("click", entities) == (
        '<a href="https://x.org/&quot;a" target="_blank" rel="noopener noreferrer">click</a>'
    )


def test_round_trip_html_renders_the_same_structure() -> None:
    parsed = parse_html('<b>Bold <i>both</i></b> <a href="https://x.org">link</a> <code>c</code>')
    assert render_html(parsed.text, parsed.entities) == (
        '<b>Bold <i>both</i></b> <a href="https://x.org" target="_blank" '
        'rel="noopener noreferrer">link</a> <code>c</code>'
    )


def test_image_sizes_from_headers() -> None:
    png = (
        bytes.fromhex("89504e470d0a1a0a0000000d49484452")
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
    )
    gif = b"GIF89a" + (32).to_bytes(2, "little") + (16).to_bytes(2, "little")
    jpeg = (
        b"\xff\xd8\xff\xe0\x00\x04ab"
        + b"\xff\xc0\x00\x11\x08"
        + (200).to_bytes(2, "big")
        + (300).to_bytes(2, "big")
        + b"\x03"
    )
    assert image_size(png) == (640, 480)
    assert image_size(gif) == (32, 16)
    assert image_size(jpeg) == (300, 200)
    assert image_size(b"%PDF-1.7") is None
