"""Decoding and checking a Bot API call's parameters: types, text, keyboards, method names."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from bot.testing.html_check import utf16_len
from bot.testing.telegram_double.errors import ERR_BUTTON_DATA_INVALID, bad_request
from bot.testing.telegram_double.model import MAX_CALLBACK_DATA_BYTES, MAX_INLINE_BUTTONS

# Parameters PTB (and HTTP form bodies) send JSON-encoded when they are not plain strings.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "menu_button",
        "message_ids",
    }
)


BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)


BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")


BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


INT_RE = re.compile(r"-?\d+")


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and INT_RE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def decode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Turn parameters as PTB/HTTP clients send them into plain Python values.

    PTB's ``RequestData.parameters`` already holds Python values, but over HTTP every non-string
    value arrives JSON-encoded (``RequestData.json_parameters``); strings are never encoded.
    """
    decoded: dict[str, Any] = {}
    for name, value in params.items():
        if name in JSON_PARAMS and isinstance(value, str | bytes):
            try:
                value = json.loads(value)
            except ValueError:
                if name == "reply_markup":
                    raise bad_request(
                        "Bad Request: can't parse reply keyboard markup JSON object"
                    ) from None
                raise bad_request(f"Bad Request: can't parse {name} JSON object") from None
        elif name in BOOL_PARAMS and isinstance(value, str):
            value = value.strip().lower() in {"true", "1"}
        decoded[name] = value
    return decoded


def int_param(params: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"Bad Request: {name} is empty")
        return None
    number = as_int(value)
    if number is None:
        raise bad_request(f"Bad Request: invalid {name} specified")
    return number


def trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace like Telegram does, shifting/clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    trimmed: list[dict[str, Any]] = []
    for entity in entities:
        start = max(int(entity.get("offset", 0)) - lead, 0)
        end = min(int(entity.get("offset", 0)) + int(entity.get("length", 0)) - lead, total)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    return stripped, trimmed


MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")


MD_MARK_RE = re.compile(r"(?<!\\)(\*|__|_|~|\|\||```|`)")


MD_ESCAPE_RE = re.compile(r"\\(.)")


def markdown_to_plain(text: str) -> str:
    """Crude Markdown/MarkdownV2 rendering (no validation; the double targets HTML)."""
    text = MD_LINK_RE.sub(r"\1", text)
    text = MD_MARK_RE.sub("", text)
    return MD_ESCAPE_RE.sub(r"\1", text)


def photo_size(content: bytes) -> tuple[int, int]:
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return 640, 480


def parse_inline_keyboard(markup: Mapping[str, Any]) -> list[list[dict[str, Any]]] | None:
    keyboard = markup.get("inline_keyboard")
    if not isinstance(keyboard, list):
        raise bad_request(
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
        )
    rows: list[list[dict[str, Any]]] = []
    count = 0
    for row in keyboard:
        if not isinstance(row, list):
            raise bad_request(
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an '
                "Array of Arrays"
            )
        parsed_row: list[dict[str, Any]] = []
        for button in row:
            count += 1
            if not isinstance(button, Mapping):
                raise bad_request(
                    "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must "
                    "be an Object"
                )
            text = button.get("text")
            if not isinstance(text, str):
                raise bad_request(
                    'Bad Request: can\'t parse inline keyboard button: Field "text" must be of '
                    "type String"
                )
            if not text.strip():
                raise bad_request("Bad Request: BUTTON_TEXT_INVALID")
            actions = [name for name in BUTTON_ACTIONS if button.get(name) is not None]
            if not actions:
                raise bad_request(
                    "Bad Request: can't parse inline keyboard button: Text buttons are "
                    "unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    "Bad Request: can't parse inline keyboard button: exactly one of the "
                    f"optional fields must be used, got {', '.join(actions)}"
                )
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise bad_request(ERR_BUTTON_DATA_INVALID)
            url = button.get("url")
            if url is not None and (
                not isinstance(url, str) or not re.match(r"(https?|tg)://\S+", url, re.I)
            ):
                raise bad_request("Bad Request: BUTTON_URL_INVALID")
            parsed_row.append(copy.deepcopy(dict(button)))
        if parsed_row:
            rows.append(parsed_row)
    if count > MAX_INLINE_BUTTONS:
        raise bad_request("Bad Request: reply markup is too long")
    return rows or None


def parse_reply_markup(
    raw: Any,
) -> tuple[list[list[dict[str, Any]]] | None, dict[str, Any] | None]:
    """Validate ``reply_markup``; return ``(inline_rows, other_markup)``."""
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        raise bad_request("Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        return parse_inline_keyboard(raw), None
    if any(key in raw for key in ("keyboard", "remove_keyboard", "force_reply")):
        return None, copy.deepcopy(dict(raw))
    raise bad_request("Bad Request: can't parse reply keyboard markup JSON object")


METHOD_NAMES = (
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
    "deleteMessages",
    "sendDocument",
    "sendPhoto",
    "getFile",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setChatMenuButton",
    "getChatMenuButton",
    "sendChatAction",
    "close",
    "logOut",
    "getChat",
    "setMyName",
    "setMyDescription",
    "setMyShortDescription",
)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


METHODS: dict[str, tuple[str, str]] = {
    name.lower(): (name, f"_api_{snake(name)}") for name in METHOD_NAMES
}
