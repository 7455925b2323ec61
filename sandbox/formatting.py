"""Telegram text formatting: HTML parse mode, entity detection, UTF-16 offsets, HTML rendering."""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from aiogram import types


class EntityParseError(ValueError):
    """The text cannot be parsed in the requested parse mode (Telegram's wording in args[0])."""


def utf16_len(text: str) -> int:
    """Length of the text in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le")) // 2


def _utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every character index, plus one entry for the end."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


@dataclass
class FormattedText:
    """Plain text with the entities Telegram would return for it."""

    text: str
    entities: list[types.MessageEntity]


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_HTML_ESCAPES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass
class _OpenTag:
    tag: str
    offset: int
    entity_type: str | None
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None


class _TelegramHTMLParser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0]
        for match in re.finditer("\n", source):
            self.line_starts.append(match.end())
        self.parts: list[str] = []
        self.utf16_offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[types.MessageEntity] = []

    def byte_offset(self) -> int:
        line, column = self.getpos()
        index = self.line_starts[line - 1] + column
        return len(self.source[:index].encode("utf-8"))

    def append_text(self, text: str) -> None:
        self.parts.append(text)
        self.utf16_offset += utf16_len(text)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            # Telegram reads any '<' as the start of a tag; a bare one must be escaped as &lt;
            position = self.byte_offset() + len(data[: data.index("<")].encode("utf-8"))
            raise EntityParseError(f'Unsupported start tag "" at byte offset {position}')
        self.append_text(data)

    def handle_entityref(self, name: str) -> None:
        self.append_text(_HTML_ESCAPES.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self.append_text(chr(code))
        except (ValueError, OverflowError):
            self.append_text(f"&#{name};")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        position = self.byte_offset()
        open_tag = _OpenTag(tag=tag, offset=self.utf16_offset, entity_type=_SIMPLE_TAGS.get(tag))
        if tag == "a":
            open_tag.entity_type = "text_link"
            open_tag.url = attributes.get("href") or None
        elif tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise EntityParseError('Tag "span" must have class "tg-spoiler"')
            open_tag.entity_type = "spoiler"
        elif tag == "blockquote":
            expandable = "expandable" in attributes
            open_tag.entity_type = "expandable_blockquote" if expandable else "blockquote"
        elif tag == "tg-emoji":
            open_tag.entity_type = "custom_emoji"
            open_tag.custom_emoji_id = attributes.get("emoji-id")
            if not open_tag.custom_emoji_id:
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
        elif tag == "code":
            language = attributes.get("class") or ""
            if language.startswith("language-"):
                open_tag.language = language.removeprefix("language-")
        elif open_tag.entity_type is None:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {position}')
        self.stack.append(open_tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        position = self.byte_offset()
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {position}")
        open_tag = self.stack[-1]
        if open_tag.tag != tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {position}, "
                f'expected "</{open_tag.tag}>", found "</{tag}>"'
            )
        self.stack.pop()
        length = self.utf16_offset - open_tag.offset
        if length <= 0 or open_tag.entity_type is None:
            return
        parent = self.stack[-1] if self.stack else None
        if (
            open_tag.tag == "code"
            and open_tag.language
            and parent is not None
            and parent.tag == "pre"
            and parent.offset == open_tag.offset
        ):
            # <pre><code class="language-x"> is one pre entity with a language, not two entities
            parent.language = open_tag.language
            return
        if open_tag.entity_type == "text_link" and not open_tag.url:
            return
        self.entities.append(
            types.MessageEntity(
                type=open_tag.entity_type,
                offset=open_tag.offset,
                length=length,
                url=open_tag.url if open_tag.entity_type == "text_link" else None,
                language=open_tag.language if open_tag.entity_type == "pre" else None,
                custom_emoji_id=open_tag.custom_emoji_id,
            )
        )

    def finish(self) -> FormattedText:
        self.close()
        if self.stack:
            raise EntityParseError(
                f"Can't find end tag corresponding to start tag {self.stack[-1].tag}"
            )
        return FormattedText("".join(self.parts), self.entities)


def parse_html(source: str) -> FormattedText:
    """Parse Telegram's HTML parse mode into plain text and entities (UTF-16 offsets)."""
    parser = _TelegramHTMLParser(source)
    parser.feed(source)
    return parser.finish()


def strip_text(formatted: FormattedText) -> FormattedText:
    """Trim leading and trailing whitespace the way Telegram does, moving entities along."""
    text = formatted.text
    stripped_left = text.lstrip()
    lead = utf16_len(text[: len(text) - len(stripped_left)])
    stripped = stripped_left.rstrip()
    end = utf16_len(stripped)
    entities: list[types.MessageEntity] = []
    for entity in formatted.entities:
        start = max(entity.offset - lead, 0)
        stop = min(entity.offset + entity.length - lead, end)
        if stop > start:
            entities.append(entity.model_copy(update={"offset": start, "length": stop - start}))
    return FormattedText(stripped, entities)


_DETECTORS: list[tuple[str, re.Pattern[str]]] = [
    ("url", re.compile(r"\b(?:https?|tg)://[^\s<>\"']+")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
]
_OPAQUE_TYPES = {"code", "pre", "text_link", "text_mention", "custom_emoji"}
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def detect_entities(formatted: FormattedText) -> FormattedText:
    """Add the url, email, bot_command, mention and hashtag entities Telegram finds by itself."""
    offsets = _utf16_offsets(formatted.text)
    taken = [
        (entity.offset, entity.offset + entity.length)
        for entity in formatted.entities
        if entity.type in _OPAQUE_TYPES
    ]
    found: list[types.MessageEntity] = []
    for entity_type, pattern in _DETECTORS:
        for match in pattern.finditer(formatted.text):
            start_char, end_char = match.span()
            if entity_type == "url":
                while end_char > start_char and formatted.text[end_char - 1] in (
                    _TRAILING_PUNCTUATION
                ):
                    end_char -= 1
            start, end = offsets[start_char], offsets[end_char]
            if end <= start or any(start < stop and begin < end for begin, stop in taken):
                continue
            taken.append((start, end))
            found.append(types.MessageEntity(type=entity_type, offset=start, length=end - start))
    entities = sorted([*formatted.entities, *found], key=lambda e: (e.offset, -e.length))
    return FormattedText(formatted.text, entities)


_SAFE_SCHEMES = ("http://", "https://", "mailto:", "tg://")


def _open_tag(entity: types.MessageEntity, text: str) -> tuple[str, str]:
    """The page's opening and closing tag for one entity."""
    kind = entity.type
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "code": "code",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "spoiler":
        return '<span class="tg-spoiler">', "</span>"
    if kind == "pre":
        language = html.escape(entity.language or "", quote=True)
        attribute = f' class="language-{language}"' if language else ""
        return f"<pre><code{attribute}>", "</code></pre>"
    if kind in {"blockquote", "expandable_blockquote"}:
        return f'<blockquote class="tg-{kind}">', "</blockquote>"
    if kind in {"text_link", "url", "email"}:
        if kind == "text_link":
            url = entity.url or ""
        elif kind == "email":
            url = f"mailto:{text}"
        else:
            url = text if "://" in text else f"http://{text}"
        if not url.lower().startswith(_SAFE_SCHEMES):
            return '<span class="tg-link">', "</span>"
        href = html.escape(url, quote=True)
        return f'<a href="{href}" target="_blank" rel="noopener noreferrer">', "</a>"
    if kind == "bot_command":
        # Tapping a command in a message sends it, as Telegram clients do.
        command = html.escape(text, quote=True)
        return (
            f'<span class="tg-bot_command" data-command="{command}" role="button" tabindex="0">',
            "</span>",
        )
    return f'<span class="tg-{html.escape(kind, quote=True)}">', "</span>"


def render_html(text: str, entities: list[types.MessageEntity] | None) -> str:
    """Render text with its entities as safe HTML for the web chat (everything else escaped)."""
    if not entities:
        return html.escape(text)
    units = text.encode("utf-16-le")

    def piece(start: int, end: int) -> str:
        return units[start * 2 : end * 2].decode("utf-16-le", errors="replace")

    total = len(units) // 2
    spans = sorted(
        (
            (e.offset, min(e.offset + e.length, total), index, e)
            for index, e in enumerate(entities)
            if e.length > 0 and e.offset < total
        ),
        key=lambda s: (s[0], -s[1], s[2]),
    )
    boundaries = sorted({0, total, *(s[0] for s in spans), *(s[1] for s in spans)})
    tags = {s[2]: _open_tag(s[3], piece(s[0], s[1])) for s in spans}
    out: list[str] = []
    stack: list[tuple[int, int]] = []  # (end, index)
    pending = list(spans)
    for position, next_position in itertools.pairwise(boundaries):
        if any(end <= position for end, _ in stack):
            reopen: list[tuple[int, int]] = []
            while any(end <= position for end, _ in stack):
                end, index = stack.pop()
                out.append(tags[index][1])
                if end > position:
                    reopen.append((end, index))
            for end, index in reversed(reopen):
                out.append(tags[index][0])
                stack.append((end, index))
        while pending and pending[0][0] == position:
            _, end, index, _ = pending.pop(0)
            out.append(tags[index][0])
            stack.append((end, index))
        out.append(html.escape(piece(position, next_position)))
    while stack:
        out.append(tags[stack.pop()[1]][1])
    return "".join(out)
