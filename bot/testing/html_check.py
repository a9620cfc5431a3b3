"""Telegram ``parse_mode=HTML`` validation, modelled on Telegram's own parser (tdlib).

Telegram accepts only a small HTML subset and rejects anything else with
``400 Bad Request: can't parse entities: <reason>``. This module reproduces that parser closely
enough for tests: the same tags, the same attribute rules, the same entity decoding (only
``&lt; &gt; &amp; &quot;`` and numeric references are decoded; any other ``&name;`` stays as
literal text, exactly as Telegram shows it) and the same error wording, with byte offsets
counted in UTF-8 like Telegram does.

The result is the plain text a user would see plus Bot API ``MessageEntity`` dicts whose
offsets/lengths are in UTF-16 code units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SUPPORTED_TAGS",
    "HtmlParseError",
    "ParsedText",
    "check_html",
    "html_to_plain",
    "parse_html",
    "utf16_len",
]

SUPPORTED_TAGS: frozenset[str] = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_ENTITY_TYPES: dict[str, str] = {
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
    "span": "spoiler",
}

_NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\v\0")
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")
_END = "\0"


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML.

    ``str(error)`` is Telegram's reason, e.g. ``Unsupported start tag "div" at byte offset 0``;
    the Bot API answers ``Bad Request: can't parse entities: <reason>``.
    """


@dataclass(frozen=True)
class ParsedText:
    """Result of parsing Telegram HTML.

    Attributes:
        text: The plain text the user sees (tags removed, entities decoded).
        entities: Bot API ``MessageEntity`` dicts (UTF-16 offsets), sorted by offset.
    """

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_index: int


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for limits and offsets.

    Args:
        text: Any string.

    Returns:
        Number of UTF-16 code units (characters outside the BMP count twice).
    """
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _unit_len(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8", "surrogatepass"))


def _decode_entity(s: str, pos: int) -> tuple[str | None, int]:
    """Decode an HTML character reference starting at ``s[pos] == '&'``.

    Returns:
        ``(character, next_position)`` or ``(None, pos)`` if Telegram would keep the ``&``
        literally (unknown named entity, invalid numeric reference).
    """
    end = pos + 1
    if s[pos + 1] == "#":
        end += 1
        value = 0
        if s[pos + 2] == "x":
            end += 1
            while s[end] in _HEX:
                value = value * 16 + int(s[end], 16)
                end += 1
        else:
            while s[end] in _DIGITS:
                value = value * 10 + int(s[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(value)
    else:
        while s[end].isascii() and s[end].isalpha():
            end += 1
        decoded = _NAMED_ENTITIES.get(s[pos + 1 : end])
        if decoded is None:
            return None, pos
        char = decoded
    if s[end] == ";":
        end += 1
    return char, end


def _make_entity(
    tag: _OpenTag, length: int, text: list[str], entities: list[dict[str, Any]]
) -> None:
    offset = tag.utf16_offset
    if tag.name in _SIMPLE_ENTITY_TYPES:
        entities.append(
            {"type": _SIMPLE_ENTITY_TYPES[tag.name], "offset": offset, "length": length}
        )
    elif tag.name == "a":
        url = tag.argument or "".join(text[tag.text_index :])
        if url:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag.name == "tg-emoji":
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": tag.argument,
            }
        )
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    elif tag.name == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag.name == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and tag.argument
        ):
            last["language"] = tag.argument
        else:
            entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if tag.argument:
                # Kept only until a surrounding <pre> claims it; dropped afterwards.
                entity["language"] = tag.argument
            entities.append(entity)


def parse_html(source: str) -> ParsedText:
    """Parse Telegram-flavoured HTML the way the Bot API does.

    Args:
        source: The text as sent with ``parse_mode="HTML"``.

    Returns:
        The plain text and its entities.

    Raises:
        HtmlParseError: With Telegram's reason when the Bot API would answer
            ``Bad Request: can't parse entities: ...``.
    """
    s = source + _END
    n = len(source)
    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    i = 0

    def fail(reason: str) -> HtmlParseError:
        return HtmlParseError(reason)

    while i < n:
        c = s[i]
        if c == "&":
            char, new_i = _decode_entity(s, i)
            if char is not None:
                out.append(char)
                utf16 += _unit_len(char)
                i = new_i
                continue
        if c != "<":
            out.append(c)
            utf16 += _unit_len(c)
            i += 1
            continue

        begin = i
        where = _byte_offset(source, begin)
        i += 1
        if s[i] != "/":
            # start tag
            while s[i] not in _SPACES and s[i] != ">":
                i += 1
            if s[i] == _END:
                raise fail(f"Unclosed start tag at byte offset {where}")
            tag_name = s[begin + 1 : i].lower()
            if tag_name not in SUPPORTED_TAGS:
                raise fail(f'Unsupported start tag "{tag_name}" at byte offset {where}')
            argument = ""
            while s[i] != ">":
                while s[i] != _END and s[i] in _SPACES:
                    i += 1
                if s[i] == ">":
                    break
                attr_begin = i
                while s[i] not in _SPACES and s[i] not in "=>":
                    i += 1
                attr_name = s[attr_begin:i]
                if not attr_name:
                    raise fail(
                        f'Empty attribute name in the tag "{tag_name}" at byte offset {where}'
                    )
                while s[i] != _END and s[i] in _SPACES:
                    i += 1
                if s[i] != "=":
                    if tag_name == "blockquote" and attr_name == "expandable":
                        argument = "1"
                        continue
                    if s[i] == _END:
                        raise fail(f'Unclosed start tag "{tag_name}" at byte offset {where}')
                    raise fail(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag_name}" at byte offset {where}'
                    )
                i += 1
                while s[i] != _END and s[i] in _SPACES:
                    i += 1
                if s[i] == _END:
                    raise fail(f'Unclosed start tag "{tag_name}" at byte offset {where}')
                if s[i] not in "'\"":
                    token_begin = i
                    while s[i].isascii() and (s[i].isalnum() or s[i] in ".-"):
                        i += 1
                    value = s[token_begin:i].lower()
                    if s[i] not in _SPACES and s[i] != ">":
                        raise fail(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(source, token_begin)}"
                        )
                else:
                    quote = s[i]
                    i += 1
                    chars: list[str] = []
                    while s[i] != quote and s[i] != _END:
                        if s[i] == "&":
                            char, new_i = _decode_entity(s, i)
                            if char is not None:
                                chars.append(char)
                                i = new_i
                                continue
                        chars.append(s[i])
                        i += 1
                    if s[i] == quote:
                        i += 1
                    value = "".join(chars)
                if s[i] == _END:
                    raise fail(f"Unclosed start tag at byte offset {where}")
                if tag_name == "a" and attr_name == "href":
                    argument = value
                elif (
                    tag_name == "code" and attr_name == "class" and value.startswith("language-")
                ) or (tag_name == "span" and attr_name == "class" and value.startswith("tg-")):
                    argument = value.split("-", 1)[1]
                elif tag_name == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
            if tag_name == "span" and argument != "spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
            if tag_name == "tg-emoji" and not argument.isdigit():
                raise fail(f'Tag "tg-emoji" must have a valid "emoji-id" at byte offset {where}')
            stack.append(_OpenTag(tag_name, argument, utf16, len(out)))
            i += 1
        else:
            # end tag
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {where}")
            while s[i] not in _SPACES and s[i] != ">":
                i += 1
            end_name = s[begin + 2 : i]
            while s[i] != _END and s[i] in _SPACES:
                i += 1
            if s[i] != ">":
                raise fail(f"Unclosed end tag at byte offset {where}")
            open_tag = stack[-1]
            if end_name and end_name != open_tag.name:
                raise fail(
                    f'Unmatched end tag at byte offset {where}, expected "</{open_tag.name}>", '
                    f'found "</{end_name}>"'
                )
            if utf16 > open_tag.utf16_offset:
                _make_entity(open_tag, utf16 - open_tag.utf16_offset, out, entities)
            stack.pop()
            i += 1

    if stack:
        raise fail(f"Can't find end tag corresponding to start tag {stack[-1].name}")

    text = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise fail(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        )
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(text=text, entities=entities)


def check_html(source: str) -> str | None:
    """Validate Telegram HTML without raising.

    Args:
        source: Text meant for ``parse_mode="HTML"``.

    Returns:
        ``None`` if Telegram would accept it, else the full Bot API description
        (``"Bad Request: can't parse entities: ..."``).
    """
    try:
        parse_html(source)
    except HtmlParseError as exc:
        return f"Bad Request: can't parse entities: {exc}"
    return None


def html_to_plain(source: str) -> str:
    """Best-effort plain text of Telegram HTML (falls back to the source if it is invalid).

    Args:
        source: Text meant for ``parse_mode="HTML"``.

    Returns:
        What the user would see.
    """
    try:
        return parse_html(source).text
    except HtmlParseError:
        return source
