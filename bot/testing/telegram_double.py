"""An in-memory model of Telegram's side of the Bot API, for tests and demos.

:class:`FakeTelegram` holds users, private chats with their transcripts, the update queue,
uploaded files, callback queries and bot commands. Bot API calls go through
:meth:`FakeTelegram.handle` (synchronous) or :meth:`FakeTelegram.handle_async` (which adds
``getUpdates`` long polling); both answer ``(http_status, telegram_json_body)`` with Telegram's
own error wording, so python-telegram-bot raises its real ``BadRequest``/``Forbidden``/
``RetryAfter`` exceptions. Users act through ``user_*`` methods that queue updates and also
return them, so an in-process driver can feed them straight to ``Application.process_update``.

The model does no I/O; :mod:`bot.testing.request` and :mod:`bot.testing.server` are the
transports. It is not thread-safe: use it from a single asyncio event loop.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import math
import mimetypes
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.testing.html_check import HtmlParseError, parse_html, utf16_len

__all__ = [
    "ERR_BLOCKED",
    "ERR_BUTTON_DATA_INVALID",
    "ERR_CANT_INITIATE",
    "ERR_CAPTION_TOO_LONG",
    "ERR_CHAT_NOT_FOUND",
    "ERR_DELETE_NOT_FOUND",
    "ERR_EDIT_NOT_FOUND",
    "ERR_NOT_MODIFIED",
    "ERR_QUERY_INVALID",
    "ERR_TEXT_EMPTY",
    "ERR_TOO_LONG",
    "CallbackAnswer",
    "FakeFile",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "TelegramApiError",
    "UploadedFile",
]

MAX_TEXT_LENGTH = 4096
#: Flood limits (see :class:`_FloodWindows`).
OVERALL_PER_SECOND = 30
PRIVATE_BURST = 3
PRIVATE_WINDOW = 3.0
GROUP_PER_MINUTE = 20
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"
ERR_BLOCKED = "Forbidden: bot was blocked by the user"
ERR_CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
ERR_TEXT_EMPTY = "Bad Request: message text is empty"
ERR_TOO_LONG = "Bad Request: message is too long"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
ERR_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
ERR_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
ERR_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
ERR_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)

#: ``(file_name, content, mime_type)`` of one uploaded multipart file.
UploadedFile = tuple[str, bytes, str | None]

# Parameters PTB (and HTTP form bodies) send JSON-encoded when they are not plain strings.
_JSON_PARAMS = frozenset(
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
_BOOL_PARAMS = frozenset(
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
_BUTTON_ACTIONS = (
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
_CHAT_ACTIONS = frozenset(
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
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_INT_RE = re.compile(r"-?\d+")


class TelegramApiError(Exception):
    """A Bot API error answer.

    Attributes:
        status: HTTP status code (also Telegram's ``error_code``).
        description: Telegram's description, e.g. ``"Bad Request: chat not found"``.
        retry_after: Seconds to wait, for 429 answers.
    """

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_body(self) -> dict[str, Any]:
        """Telegram's JSON error body."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> TelegramApiError:
    return TelegramApiError(400, description)


@dataclass
class FakeUser:
    """A Telegram user talking to the bot in a private chat (chat id == user id).

    Attributes:
        user_id: Telegram user id, also the private chat id.
        first_name: First name.
        last_name: Optional last name.
        username: Optional @username (without ``@``).
        language_code: IETF language tag the client reports.
        blocked: Whether the user currently blocks the bot.
        started: Whether the user has ever sent anything to the bot.
    """

    user_id: int
    first_name: str = "Lan"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "vi"
    blocked: bool = False
    started: bool = False

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_api(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object of the private chat with this user."""
        data: dict[str, Any] = {
            "id": self.user_id,
            "type": "private",
            "first_name": self.first_name,
        }
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class FakeFile:
    """A file stored on the fake Telegram servers.

    Attributes:
        file_id: Identifier usable with ``getFile`` or to re-send the file.
        file_unique_id: Stable unique identifier.
        content: The bytes.
        kind: ``"document"`` or ``"photo"``.
        file_path: Path for ``/file/bot<token>/<file_path>`` downloads.
        file_name: Original file name (documents).
        mime_type: MIME type (documents).
        width: Photo width in pixels.
        height: Photo height in pixels.
    """

    file_id: str
    file_unique_id: str
    content: bytes
    kind: str
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.content)

    def to_json(self) -> dict[str, Any]:
        """JSON form (content base64-encoded) for the HTTP control API."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "kind": self.kind,
            "file_path": self.file_path,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "width": self.width,
            "height": self.height,
            "size": self.size,
            "content_b64": base64.b64encode(self.content).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FakeFile:
        """Inverse of :meth:`to_json`."""
        return cls(
            file_id=data["file_id"],
            file_unique_id=data["file_unique_id"],
            content=base64.b64decode(data.get("content_b64", "")),
            kind=data["kind"],
            file_path=data["file_path"],
            file_name=data.get("file_name"),
            mime_type=data.get("mime_type"),
            width=data.get("width", 0),
            height=data.get("height", 0),
        )


@dataclass
class FakeMessage:
    """One message of a chat transcript (sent by the bot or by the user).

    Attributes:
        message_id: Per-chat increasing id.
        chat_id: The private chat (== user id).
        from_bot: True for bot messages.
        text: What the user sees: the text, or the caption of a document/photo, with
            ``parse_mode`` markup rendered away ("" for a media message without caption).
        raw_text: The text/caption exactly as sent (HTML source for ``parse_mode=HTML``).
        date: Aware UTC send time.
        parse_mode: The parse mode the bot used, if any.
        entities: Bot API entities of :attr:`text` (UTF-16 offsets).
        reply_markup: Inline keyboard as rows of button dicts, or None.
        other_markup: Reply keyboard / ReplyKeyboardRemove / ForceReply as sent, or None.
        document: Attached document, if any.
        photo: Attached photo, if any.
        reply_to_message_id: Message this one replies to.
        deleted: Whether the message was deleted.
        edited_count: How many successful edits (text, caption or keyboard) it had.
        edit_date: Time of the last edit.
        history: Earlier versions of :attr:`text`, oldest first.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    text: str
    raw_text: str
    date: datetime
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: list[list[dict[str, Any]]] | None = None
    other_markup: dict[str, Any] | None = None
    document: FakeFile | None = None
    photo: FakeFile | None = None
    reply_to_message_id: int | None = None
    deleted: bool = False
    edited_count: int = 0
    edit_date: datetime | None = None
    history: list[str] = field(default_factory=list)

    @property
    def has_media(self) -> bool:
        """Whether the message carries a document or a photo (its text is a caption)."""
        return self.document is not None or self.photo is not None

    @property
    def caption(self) -> str | None:
        """The rendered caption of a media message, else None."""
        return self.text if self.has_media else None

    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons as ``(label, callback_data)`` in reading order (None for URL etc.)."""
        return [
            (button.get("text", ""), button.get("callback_data"))
            for row in self.reply_markup or []
            for button in row
        ]

    def to_json(self) -> dict[str, Any]:
        """JSON form for the HTTP control API."""
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "text": self.text,
            "raw_text": self.raw_text,
            "date": self.date.isoformat(),
            "parse_mode": self.parse_mode,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "other_markup": self.other_markup,
            "document": self.document.to_json() if self.document else None,
            "photo": self.photo.to_json() if self.photo else None,
            "reply_to_message_id": self.reply_to_message_id,
            "deleted": self.deleted,
            "edited_count": self.edited_count,
            "edit_date": self.edit_date.isoformat() if self.edit_date else None,
            "history": list(self.history),
            "buttons": [list(button) for button in self.buttons()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FakeMessage:
        """Inverse of :meth:`to_json`."""
        return cls(
            message_id=data["message_id"],
            chat_id=data["chat_id"],
            from_bot=data["from_bot"],
            text=data["text"],
            raw_text=data["raw_text"],
            date=datetime.fromisoformat(data["date"]),
            parse_mode=data.get("parse_mode"),
            entities=list(data.get("entities") or []),
            reply_markup=data.get("reply_markup"),
            other_markup=data.get("other_markup"),
            document=FakeFile.from_json(data["document"]) if data.get("document") else None,
            photo=FakeFile.from_json(data["photo"]) if data.get("photo") else None,
            reply_to_message_id=data.get("reply_to_message_id"),
            deleted=data.get("deleted", False),
            edited_count=data.get("edited_count", 0),
            edit_date=datetime.fromisoformat(data["edit_date"]) if data.get("edit_date") else None,
            history=list(data.get("history") or []),
        )


@dataclass
class CallbackAnswer:
    """A recorded ``answerCallbackQuery`` call.

    Attributes:
        callback_query_id: The query answered.
        user_id: Who pressed.
        message_id: The message whose button was pressed.
        data: The button's callback_data.
        text: Notification text shown to the user, if any.
        show_alert: Whether it was shown as an alert.
        url: URL to open, if any.
    """

    callback_query_id: str
    user_id: int
    message_id: int
    data: str
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass
class _CallbackQuery:
    query_id: str
    user_id: int
    message_id: int
    data: str
    answered: bool = False


class _FloodWindows:
    """Telegram's flood limits as sliding windows over the messages it accepted.

    The model (Telegram publishes the figures, not the algorithm):

    * at most :data:`OVERALL_PER_SECOND` messages in any 1-second window, all chats together;
    * a private chat: one a second, with short bursts tolerated — at most
      :data:`PRIVATE_BURST` messages in any :data:`PRIVATE_WINDOW`-second window;
    * a group chat (negative id): at most :data:`GROUP_PER_MINUTE` messages in any minute.

    A message beyond a limit is refused (not counted) with ``429`` and ``retry_after``: the
    whole seconds until the window has room again. Only ``send*`` calls count; edits, callback
    answers and deletions do not.
    """

    def __init__(self) -> None:
        self.overall: deque[float] = deque()
        self.chats: dict[int, deque[float]] = {}

    @staticmethod
    def _room(sent: deque[float], limit: int, window: float, now: float) -> float:
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) < limit:
            return 0.0
        return sent[len(sent) - limit] + window - now

    def wait_time(self, chat_id: int, now: float) -> float:
        chat = self.chats.setdefault(chat_id, deque())
        limit, window = (
            (GROUP_PER_MINUTE, 60.0) if chat_id < 0 else (PRIVATE_BURST, PRIVATE_WINDOW)
        )
        return max(
            self._room(self.overall, OVERALL_PER_SECOND, 1.0, now),
            self._room(chat, limit, window, now),
        )

    def take(self, chat_id: int, now: float) -> None:
        self.overall.append(now)
        self.chats.setdefault(chat_id, deque()).append(now)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _decode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Turn parameters as PTB/HTTP clients send them into plain Python values.

    PTB's ``RequestData.parameters`` already holds Python values, but over HTTP every non-string
    value arrives JSON-encoded (``RequestData.json_parameters``); strings are never encoded.
    """
    decoded: dict[str, Any] = {}
    for name, value in params.items():
        if name in _JSON_PARAMS and isinstance(value, str | bytes):
            try:
                value = json.loads(value)
            except ValueError:
                if name == "reply_markup":
                    raise _bad(
                        "Bad Request: can't parse reply keyboard markup JSON object"
                    ) from None
                raise _bad(f"Bad Request: can't parse {name} JSON object") from None
        elif name in _BOOL_PARAMS and isinstance(value, str):
            value = value.strip().lower() in {"true", "1"}
        decoded[name] = value
    return decoded


def _int_param(params: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise _bad(f"Bad Request: {name} is empty")
        return None
    number = _as_int(value)
    if number is None:
        raise _bad(f"Bad Request: invalid {name} specified")
    return number


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
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


_MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_MARK_RE = re.compile(r"(?<!\\)(\*|__|_|~|\|\||```|`)")
_MD_ESCAPE_RE = re.compile(r"\\(.)")


def _markdown_to_plain(text: str) -> str:
    """Crude Markdown/MarkdownV2 rendering (no validation; the double targets HTML)."""
    text = _MD_LINK_RE.sub(r"\1", text)
    text = _MD_MARK_RE.sub("", text)
    return _MD_ESCAPE_RE.sub(r"\1", text)


def _photo_size(content: bytes) -> tuple[int, int]:
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return 640, 480


def _parse_inline_keyboard(markup: Mapping[str, Any]) -> list[list[dict[str, Any]]] | None:
    keyboard = markup.get("inline_keyboard")
    if not isinstance(keyboard, list):
        raise _bad(
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
        )
    rows: list[list[dict[str, Any]]] = []
    count = 0
    for row in keyboard:
        if not isinstance(row, list):
            raise _bad(
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an '
                "Array of Arrays"
            )
        parsed_row: list[dict[str, Any]] = []
        for button in row:
            count += 1
            if not isinstance(button, Mapping):
                raise _bad(
                    "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must "
                    "be an Object"
                )
            text = button.get("text")
            if not isinstance(text, str):
                raise _bad(
                    'Bad Request: can\'t parse inline keyboard button: Field "text" must be of '
                    "type String"
                )
            if not text.strip():
                raise _bad("Bad Request: BUTTON_TEXT_INVALID")
            actions = [name for name in _BUTTON_ACTIONS if button.get(name) is not None]
            if not actions:
                raise _bad(
                    "Bad Request: can't parse inline keyboard button: Text buttons are "
                    "unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise _bad(
                    "Bad Request: can't parse inline keyboard button: exactly one of the "
                    f"optional fields must be used, got {', '.join(actions)}"
                )
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _bad(ERR_BUTTON_DATA_INVALID)
            url = button.get("url")
            if url is not None and (
                not isinstance(url, str) or not re.match(r"(https?|tg)://\S+", url, re.I)
            ):
                raise _bad("Bad Request: BUTTON_URL_INVALID")
            parsed_row.append(copy.deepcopy(dict(button)))
        if parsed_row:
            rows.append(parsed_row)
    if count > MAX_INLINE_BUTTONS:
        raise _bad("Bad Request: reply markup is too long")
    return rows or None


def _parse_reply_markup(
    raw: Any,
) -> tuple[list[list[dict[str, Any]]] | None, dict[str, Any] | None]:
    """Validate ``reply_markup``; return ``(inline_rows, other_markup)``."""
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        raise _bad("Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        return _parse_inline_keyboard(raw), None
    if any(key in raw for key in ("keyboard", "remove_keyboard", "force_reply")):
        return None, copy.deepcopy(dict(raw))
    raise _bad("Bad Request: can't parse reply keyboard markup JSON object")


_METHOD_NAMES = (
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


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_METHODS: dict[str, tuple[str, str]] = {
    name.lower(): (name, f"_api_{_snake(name)}") for name in _METHOD_NAMES
}


@dataclass
class Fault:
    """A failure injected into the next call of a Bot API method (see
    :meth:`FakeTelegram.fail_next`)."""

    method: str  # lower case
    status: int
    description: str
    applied: bool
    timeout: bool
    fired: bool = False


class FakeTimeout(Exception):
    """The injected "no answer" of a call; the transport turns it into a timeout."""


class FakeTelegram:
    """In-memory model of Telegram for one bot.

    Args:
        token: The bot token the fake accepts.
        bot_username: The bot's username (without ``@``).
        rate_limits: Enforce Telegram's flood limits on sends as sliding windows (30 messages
            in any second overall; per private chat 3 in any 3 seconds, i.e. one a second with
            short bursts; per group 20 a minute), answering ``429 Too Many Requests: retry
            after N`` (see :class:`_FloodWindows`). On by default, as on Telegram.
        clock: Returns the aware UTC datetime used for message dates (default: real UTC now).
        monotonic: Monotonic seconds for rate limiting (default: :func:`time.monotonic`).
        require_start: If True, sending to a user who never wrote to the bot answers
            ``403 Forbidden: bot can't initiate conversation with a user`` like Telegram.
        bot_first_name: The bot's display name.

    Attributes:
        users: Users by id.
        calls: ``(method, params)`` of every Bot API request, failed ones included
            (canonical method name, decoded parameters).
        callback_answers: Every successful ``answerCallbackQuery``.
        chat_actions: ``(chat_id, action)`` for every ``sendChatAction``.
        sent_count: Successful ``send*`` calls.
        rate_limited: Number of 429 answers.
        menu_buttons: Menu button per chat id (None = default for all chats).
        bot_profile: Values set with setMyName/setMyDescription/setMyShortDescription.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "chibo_test_bot",
        rate_limits: bool = True,
        clock: Callable[[], datetime] | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        require_start: bool = False,
        bot_first_name: str = "Chibo (test)",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        bot_id = _as_int(token.split(":", 1)[0])
        self.bot_id = bot_id if bot_id and bot_id > 0 else 1
        self.rate_limits = rate_limits
        self.require_start = require_start
        self._clock = clock or (lambda: datetime.now(UTC))
        self._monotonic = monotonic or time.monotonic

        self.users: dict[int, FakeUser] = {}
        self._chats: dict[int, list[FakeMessage]] = {}
        self._last_message_id: dict[int, int] = {}
        self._next_auto_user_id = 100001

        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: set[str] | None = None
        self._update_waiters: list[asyncio.Future[bool]] = []
        self._poll_waiter: asyncio.Future[bool] | None = None
        self._poll_generation = 0
        self._release_generation = 0
        self.webhook_url = ""

        self._files: dict[str, FakeFile] = {}
        self._files_by_path: dict[str, FakeFile] = {}
        self._file_counter = 0

        self._queries: dict[str, _CallbackQuery] = {}
        self._query_counter = 0
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[tuple[int, str]] = []
        self._commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_profile: dict[str, str] = {}

        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent_count = 0
        self.rate_limited = 0
        self._flood = _FloodWindows()
        self._activity: list[tuple[str, FakeMessage]] = []
        self._activity_waiters: list[asyncio.Future[bool]] = []
        self._faults: list[Fault] = []

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        description: str = "Internal Server Error",
        applied: bool = False,
        timeout: bool = False,
    ) -> Fault:
        """Make the next call of ``method`` fail once: with ``status`` (or, ``timeout``, with
        no answer at all, which PTB reports as ``TimedOut``). ``applied``: Telegram carried the
        call out before failing (a slow ``editMessageText`` whose answer never arrived)."""
        fault = Fault(method.lower(), status, description, applied, timeout)
        self._faults.append(fault)
        return fault

    # ------------------------------------------------------------------ basics

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("FakeTelegram clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def bot_user_api(self) -> dict[str, Any]:
        """The Bot API ``User`` object of the bot (``getMe``)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ------------------------------------------------------------------ users

    def add_user(
        self,
        user_id: int | None = None,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> FakeUser:
        """Create a user (and its private chat).

        Args:
            user_id: Telegram id; auto-assigned from 100001 upwards if None.
            first_name: First name.
            last_name: Last name.
            username: Username without ``@``.
            language_code: Client language.

        Returns:
            The new user.

        Raises:
            ValueError: If the id is taken or not positive.
        """
        if user_id is None:
            while self._next_auto_user_id in self.users or self._next_auto_user_id == self.bot_id:
                self._next_auto_user_id += 1
            user_id = self._next_auto_user_id
            self._next_auto_user_id += 1
        if user_id <= 0 or user_id == self.bot_id:
            raise ValueError(f"invalid user id {user_id}")
        if user_id in self.users:
            raise ValueError(f"user {user_id} already exists")
        user = FakeUser(
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[user_id] = user
        self._chats[user_id] = []
        return user

    def user(self, user_id: int) -> FakeUser:
        """Return a known user.

        Raises:
            ValueError: If there is no such user.
        """
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"unknown user {user_id}; call add_user() first") from None

    def started(self, user_id: int) -> bool:
        """Whether the user has ever sent anything to the bot."""
        return self.user(user_id).started

    def _member_update(self, user: FakeUser, old: str, new: str) -> dict[str, Any]:
        bot = self.bot_user_api()
        new_member: dict[str, Any] = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        return self._push_update(
            {
                "my_chat_member": {
                    "chat": user.chat_api(),
                    "from": user.to_api(),
                    "date": int(self._now().timestamp()),
                    "old_chat_member": {"status": old, "user": bot},
                    "new_chat_member": new_member,
                }
            }
        )

    def block(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot; sends to them now answer 403.

        Returns:
            The ``my_chat_member`` update Telegram sends for it.
        """
        user = self.user(user_id)
        user.blocked = True
        return self._member_update(user, "member", "kicked")

    def unblock(self, user_id: int) -> dict[str, Any]:
        """The user unblocks the bot.

        Returns:
            The ``my_chat_member`` update Telegram sends for it.
        """
        user = self.user(user_id)
        user.blocked = False
        return self._member_update(user, "kicked", "member")

    # ------------------------------------------------------------------ user actions

    def _user_for_action(self, user_id: int) -> FakeUser:
        user = self.user(user_id)
        if user.blocked:
            raise ValueError(
                f"user {user_id} has blocked the bot; a client must unblock() before writing"
            )
        user.started = True
        return user

    def _user_message_update(self, msg: FakeMessage, extra: dict[str, Any]) -> dict[str, Any]:
        user = self.users[msg.chat_id]
        body: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": user.to_api(),
            "chat": user.chat_api(),
            "date": int(msg.date.timestamp()),
            **extra,
        }
        return self._push_update({"message": body})

    def user_sends_text(self, user_id: int, text: str) -> dict[str, Any]:
        """The user sends a text message.

        A leading ``/command`` or ``/command@botname`` gets a ``bot_command`` entity (UTF-16
        offsets, like Telegram).

        Returns:
            The queued ``message`` update (a copy).
        """
        if not text.strip():
            raise ValueError("Telegram clients cannot send empty messages")
        self._user_for_action(user_id)
        msg = self._append_message(
            user_id,
            from_bot=False,
            text=text,
            raw_text=text,
            entities=self._command_entities(text),
        )
        extra: dict[str, Any] = {"text": text}
        if msg.entities:
            extra["entities"] = copy.deepcopy(msg.entities)
        return self._user_message_update(msg, extra)

    @staticmethod
    def _command_entities(text: str) -> list[dict[str, Any]]:
        match = _COMMAND_RE.match(text)
        if not match:
            return []
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]

    def user_sends_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a file as a document.

        Returns:
            The queued ``message`` update with a ``document``.
        """
        self._user_for_action(user_id)
        stored = self._store_file(
            content, kind="document", file_name=file_name, mime_type=mime_type
        )
        caption_text = caption or ""
        msg = self._append_message(
            user_id, from_bot=False, text=caption_text, raw_text=caption_text, document=stored
        )
        extra: dict[str, Any] = {"document": self._file_api(stored)}
        if caption:
            extra["caption"] = caption
        return self._user_message_update(msg, extra)

    def user_sends_photo(
        self, user_id: int, content: bytes, caption: str | None = None
    ) -> dict[str, Any]:
        """The user sends a photo.

        Returns:
            The queued ``message`` update with ``photo`` sizes.
        """
        self._user_for_action(user_id)
        stored = self._store_file(content, kind="photo", file_name=None, mime_type="image/jpeg")
        caption_text = caption or ""
        msg = self._append_message(
            user_id, from_bot=False, text=caption_text, raw_text=caption_text, photo=stored
        )
        extra: dict[str, Any] = {"photo": [self._file_api(stored)]}
        if caption:
            extra["caption"] = caption
        return self._user_message_update(msg, extra)

    def user_presses(self, user_id: int, message_id: int, callback_data: str) -> dict[str, Any]:
        """The user presses an inline button of a bot message in their chat.

        Returns:
            The queued ``callback_query`` update.

        Raises:
            ValueError: If the message is not in the user's chat, is deleted, or has no button
                with that callback_data (a real client can only press existing buttons).
        """
        user = self.user(user_id)
        msg = self._find_message(user_id, message_id)
        if msg is None:
            raise ValueError(f"message {message_id} does not exist in chat {user_id}")
        if not msg.from_bot or callback_data not in [data for _, data in msg.buttons()]:
            raise ValueError(
                f"message {message_id} has no button with callback_data {callback_data!r}; "
                f"visible buttons: {self._describe_buttons(user_id)}"
            )
        user.started = True
        self._query_counter += 1
        query_id = str(4_000_000_000_000_000_000 + self.bot_id * 1_000_000 + self._query_counter)
        self._queries[query_id] = _CallbackQuery(query_id, user_id, message_id, callback_data)
        return self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_api(),
                    "message": self.message_to_api(msg),
                    "chat_instance": str(-(user_id * 7919 + self.bot_id)),
                    "data": callback_data,
                }
            }
        )

    def user_presses_label(self, user_id: int, label_substring: str) -> dict[str, Any]:
        """Press the button whose label contains ``label_substring`` (case-insensitive).

        The newest bot message that has such a callback button wins; within a message an exact
        (case-insensitive) label match beats a substring match.

        Returns:
            The queued ``callback_query`` update.

        Raises:
            ValueError: If no visible button matches; the message lists the visible buttons.
        """
        self.user(user_id)
        needle = label_substring.casefold()
        for msg in reversed(self._chats.get(user_id, [])):
            if msg.deleted or not msg.from_bot:
                continue
            candidates = [
                (label, data)
                for label, data in msg.buttons()
                if data is not None and needle in label.casefold()
            ]
            if candidates:
                exact = [c for c in candidates if c[0].casefold() == needle]
                _, data = (exact or candidates)[0]
                return self.user_presses(user_id, msg.message_id, data)
        raise ValueError(
            f"no button matching {label_substring!r} in chat {user_id}; visible buttons: "
            f"{self._describe_buttons(user_id)}"
        )

    def _describe_buttons(self, chat_id: int) -> str:
        parts = []
        for msg in reversed(self._chats.get(chat_id, [])):
            if msg.from_bot and not msg.deleted and msg.reply_markup:
                labels = ", ".join(
                    f"{label!r}" + ("" if data is not None else " (not a callback button)")
                    for label, data in msg.buttons()
                )
                parts.append(f"message {msg.message_id}: {labels}")
        return "; ".join(parts) if parts else "(none)"

    # ------------------------------------------------------------------ updates

    def _push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        self._updates.append(update)
        self._wake_update_waiters(True)
        return copy.deepcopy(update)

    def _wake_update_waiters(self, value: bool) -> None:
        waiters, self._update_waiters = self._update_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(value)

    def _allowed(self, update: Mapping[str, Any]) -> bool:
        if not self._allowed_updates:
            return True
        return any(key in self._allowed_updates for key in update if key != "update_id")

    def pending_updates(self, offset: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Queued updates with ``update_id >= offset`` (negative: the last ``-offset``).

        Pure read: nothing is confirmed.

        Returns:
            Deep copies of at most ``limit`` updates, oldest first.
        """
        updates = [u for u in self._updates if self._allowed(u)]
        if offset is not None and offset < 0:
            updates = updates[offset:]
        elif offset:
            updates = [u for u in updates if u["update_id"] >= offset]
        return copy.deepcopy(updates[: max(1, min(limit, 100))])

    def confirm_updates(self, offset: int) -> None:
        """Forget updates below ``offset`` (negative: keep only the last ``-offset``)."""
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def discard_update(self, update_id: int) -> None:
        """Drop one update from the queue (an in-process driver delivered it itself)."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]

    async def wait_for_updates(self, timeout: float) -> bool:  # noqa: ASYNC109 - API contract
        """Wait until a new update is queued.

        Args:
            timeout: Seconds to wait at most.

        Returns:
            True if an update arrived, False on timeout or when waiters were released.
        """
        return await self._wait_update(timeout, poll=False)

    async def _wait_update(self, seconds: float, *, poll: bool) -> bool:
        if seconds <= 0:
            return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._update_waiters.append(waiter)
        if poll:
            self._poll_waiter = waiter
        try:
            return await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            return False
        finally:
            if waiter in self._update_waiters:
                self._update_waiters.remove(waiter)
            if self._poll_waiter is waiter:
                self._poll_waiter = None

    def release_waiters(self) -> None:
        """End all pending long polls now (they answer an empty result); used on shutdown."""
        self._release_generation += 1
        self._wake_update_waiters(False)

    # ------------------------------------------------------------------ transcript

    def _append_message(self, chat_id: int, *, from_bot: bool, **fields: Any) -> FakeMessage:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        msg = FakeMessage(
            message_id=message_id, chat_id=chat_id, from_bot=from_bot, date=self._now(), **fields
        )
        self._chats.setdefault(chat_id, []).append(msg)
        return msg

    def _find_message(self, chat_id: int, message_id: int | None) -> FakeMessage | None:
        if message_id is None:
            return None
        for msg in self._chats.get(chat_id, []):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None

    def messages(self, chat_id: int, include_deleted: bool = False) -> list[FakeMessage]:
        """The chat transcript (user and bot messages), oldest first."""
        return [m for m in self._chats.get(chat_id, []) if include_deleted or not m.deleted]

    def bot_messages(self, chat_id: int, include_deleted: bool = False) -> list[FakeMessage]:
        """Only the bot's messages of the chat, oldest first."""
        return [m for m in self.messages(chat_id, include_deleted) if m.from_bot]

    def last_message(self, chat_id: int, *, from_bot: bool | None = True) -> FakeMessage | None:
        """The newest non-deleted message (by default the newest *bot* message).

        Args:
            chat_id: The chat.
            from_bot: True: bot messages only; False: user messages only; None: any.
        """
        for msg in reversed(self.messages(chat_id)):
            if from_bot is None or msg.from_bot == from_bot:
                return msg
        return None

    @staticmethod
    def buttons(message: FakeMessage) -> list[tuple[str, str | None]]:
        """Inline buttons of a message as ``(label, callback_data)``."""
        return message.buttons()

    def commands(
        self,
        scope_type: str = "default",
        language_code: str = "",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, str]]:
        """Commands stored by ``setMyCommands`` for a scope and language."""
        return copy.deepcopy(self._commands.get((scope_type, chat_id, user_id, language_code), []))

    def unanswered_callback_queries(self) -> list[str]:
        """Ids of callback queries the bot never answered (the client would spin)."""
        return [q.query_id for q in self._queries.values() if not q.answered]

    def activity_mark(self) -> int:
        """A position in the bot activity log, for :meth:`activity_since`."""
        return len(self._activity)

    def activity_since(self, mark: int, chat_id: int | None = None) -> list[FakeMessage]:
        """Bot messages sent or edited after ``mark``, in order of first activity, each once."""
        seen: set[int] = set()
        result: list[FakeMessage] = []
        for kind, msg in self._activity[mark:]:
            if kind not in {"sent", "edited"} or (chat_id is not None and msg.chat_id != chat_id):
                continue
            if id(msg) not in seen:
                seen.add(id(msg))
                result.append(msg)
        return result

    async def wait_for_bot_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the HTTP control API
    ) -> list[FakeMessage]:
        """Wait until the bot has sent at least ``count`` messages to the chat (deleted included).

        Useful when the bot runs its own polling loop in-process; no sleeping involved.

        Returns:
            The bot's messages in that chat (deleted included).

        Raises:
            TimeoutError: If that many messages did not arrive in time.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(sent := self.bot_messages(chat_id, include_deleted=True)) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"chat {chat_id}: expected {count} bot messages within {timeout}s, "
                    f"got {len(sent)}"
                )
            await self.wait_for_activity(remaining)
        return sent

    def download(self, file_path: str) -> bytes | None:
        """Content for a ``/file/bot<token>/<file_path>`` download, or None."""
        stored = self._files_by_path.get(file_path)
        return stored.content if stored else None

    def file(self, file_id: str) -> FakeFile | None:
        """A stored file by id."""
        return self._files.get(file_id)

    # ------------------------------------------------------------------ API plumbing

    def handle(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, UploadedFile] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call.

        Args:
            method: Method name, case-insensitive (``sendMessage``, ``SENDMESSAGE``...).
            params: Parameters as Python values or as JSON-encoded strings (HTTP form style).
            files: Uploaded multipart files by field name.

        Returns:
            ``(http_status, body)`` where body is Telegram's JSON answer.
        """
        raw = dict(params or {})
        entry = _METHODS.get(method.lower())
        name = entry[0] if entry else method
        try:
            decoded = _decode_params(raw)
        except TelegramApiError as exc:
            self.calls.append((name, raw))
            return exc.status, exc.to_body()
        self.calls.append((name, decoded))
        self._wake_activity_waiters()
        if entry is None:
            return 404, TelegramApiError(404, "Not Found").to_body()
        fault = next((f for f in self._faults if f.method == name.lower()), None)
        if fault is not None:
            self._faults.remove(fault)
            fault.fired = True
            if fault.applied:
                try:
                    getattr(self, entry[1])(decoded, dict(files or {}))
                except TelegramApiError:
                    pass
            if fault.timeout:
                raise FakeTimeout(name)
            return fault.status, TelegramApiError(fault.status, fault.description).to_body()
        try:
            result = getattr(self, entry[1])(decoded, dict(files or {}))
        except TelegramApiError as exc:
            return exc.status, exc.to_body()
        return 200, {"ok": True, "result": result}

    async def handle_async(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, UploadedFile] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Like :meth:`handle`, plus ``getUpdates`` long polling.

        An empty ``getUpdates`` with ``timeout > 0`` waits until an update arrives or the
        timeout passes. A newer ``getUpdates`` terminates an older waiting one with Telegram's
        ``409 Conflict`` (two bot instances polling).
        """
        if method.lower() != "getupdates":
            return self.handle(method, params, files)
        self._poll_generation += 1
        generation = self._poll_generation
        released = self._release_generation
        if self._poll_waiter is not None and not self._poll_waiter.done():
            self._poll_waiter.set_result(False)  # the older long poll ends with a 409 conflict
        status, body = self.handle(method, params, files)
        if status != 200 or body["result"]:
            return status, body
        try:
            decoded = _decode_params(dict(params or {}))
        except TelegramApiError:  # pragma: no cover - handle() already answered the error
            return status, body
        timeout = _as_float(decoded.get("timeout")) or 0.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        offset = _as_int(decoded.get("offset"))
        limit = _as_int(decoded.get("limit")) or 100
        while (remaining := deadline - loop.time()) > 0:
            await self._wait_update(remaining, poll=True)
            if self._poll_generation != generation:
                return 409, TelegramApiError(409, ERR_CONFLICT_POLL).to_body()
            if self._release_generation != released:
                break
            updates = self.pending_updates(offset, limit)
            if updates:
                return 200, {"ok": True, "result": updates}
        return 200, {"ok": True, "result": []}

    def _chat_user(self, params: Mapping[str, Any], *, sending: bool = True) -> FakeUser:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("Bad Request: chat_id is empty")
        chat_id = _as_int(raw)
        user = self.users.get(chat_id) if chat_id is not None else None
        if user is None:
            raise _bad(ERR_CHAT_NOT_FOUND)
        if sending:
            if user.blocked:
                raise TelegramApiError(403, ERR_BLOCKED)
            if self.require_start and not user.started:
                raise TelegramApiError(403, ERR_CANT_INITIATE)
        return user

    def _render(
        self, text: str, parse_mode: Any, entities: Any, *, caption: bool
    ) -> tuple[str, list[dict[str, Any]], str | None]:
        """Render text/caption like Telegram: parse markup, trim, check limits."""
        mode = str(parse_mode) if parse_mode else None
        if entities is not None:
            if not isinstance(entities, list) or not all(isinstance(e, Mapping) for e in entities):
                raise _bad("Bad Request: can't parse entities JSON object")
            plain, parsed = text, [dict(e) for e in entities]
            mode = None
        elif mode is None:
            plain, parsed = text, []
        elif mode.lower() == "html":
            try:
                result = parse_html(text)
            except HtmlParseError as exc:
                raise _bad(f"Bad Request: can't parse entities: {exc}") from None
            plain, parsed = result.text, result.entities
        elif mode.lower() in {"markdown", "markdownv2"}:
            plain, parsed = _markdown_to_plain(text), []
        else:
            raise _bad(f"Bad Request: unsupported parse_mode {mode}")
        plain, parsed = _trim(plain, parsed)
        length = utf16_len(plain)
        if caption:
            if length > MAX_CAPTION_LENGTH:
                raise _bad(ERR_CAPTION_TOO_LONG)
        else:
            if not plain:
                raise _bad(ERR_TEXT_EMPTY)
            if length > MAX_TEXT_LENGTH:
                raise _bad(ERR_TOO_LONG)
        return plain, parsed, mode

    def _reply_target(self, chat_id: int, params: Mapping[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, Mapping):
            target = _as_int(reply.get("message_id"))
            allow = allow or bool(reply.get("allow_sending_without_reply"))
        else:
            target = _int_param(params, "reply_to_message_id")
        if target is None:
            return None
        if self._find_message(chat_id, target) is None:
            if allow:
                return None
            raise _bad("Bad Request: message to be replied not found")
        return target

    def _check_rate(self, chat_id: int) -> None:
        if not self.rate_limits:
            return
        now = self._monotonic()
        wait = self._flood.wait_time(chat_id, now)
        if wait > 0:
            self.rate_limited += 1
            retry_after = max(1, math.ceil(wait))
            raise TelegramApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        self._flood.take(chat_id, now)

    def _log(self, kind: str, msg: FakeMessage) -> None:
        self._activity.append((kind, msg))
        self._wake_activity_waiters()

    def _wake_activity_waiters(self) -> None:
        waiters, self._activity_waiters = self._activity_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(True)

    async def wait_for_activity(self, timeout: float) -> bool:  # noqa: ASYNC109 - like above
        """Wait until the bot makes any Bot API call or a bot message is sent/edited/deleted.

        Args:
            timeout: Seconds to wait at most.

        Returns:
            True if something happened, False on timeout.
        """
        if timeout <= 0:
            return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._activity_waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            if waiter in self._activity_waiters:
                self._activity_waiters.remove(waiter)

    def _store_file(
        self, content: bytes, *, kind: str, file_name: str | None, mime_type: str | None
    ) -> FakeFile:
        self._file_counter += 1
        n = self._file_counter
        if kind == "photo":
            width, height = _photo_size(content)
            stored = FakeFile(
                file_id=f"AgACAgIAAxkBAAI{n:06d}photo",
                file_unique_id=f"AQAD{n:06d}",
                content=bytes(content),
                kind=kind,
                file_path=f"photos/file_{n}.jpg",
                mime_type=mime_type,
                width=width,
                height=height,
            )
        else:
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
            stored = FakeFile(
                file_id=f"BQACAgIAAxkBAAI{n:06d}doc",
                file_unique_id=f"AgAD{n:06d}",
                content=bytes(content),
                kind=kind,
                file_path=f"documents/file_{n}{suffix}",
                file_name=file_name,
                mime_type=mime_type
                or (mimetypes.guess_type(file_name or "")[0] if file_name else None)
                or "application/octet-stream",
            )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _file_api(stored: FakeFile) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if stored.kind == "photo":
            data["width"] = stored.width
            data["height"] = stored.height
        else:
            if stored.file_name:
                data["file_name"] = stored.file_name
            if stored.mime_type:
                data["mime_type"] = stored.mime_type
        return data

    def _input_file(
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile], name: str
    ) -> FakeFile:
        upload = files.get(name)
        value = params.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        if upload is not None:
            file_name, content, mime_type = upload
            if not content:
                raise _bad("Bad Request: file must be non-empty")
            if len(content) > MAX_UPLOAD_BYTES:
                raise TelegramApiError(413, "Request Entity Too Large")
            return self._store_file(
                content, kind=name, file_name=file_name or None, mime_type=mime_type
            )
        if isinstance(value, str) and value:
            existing = self._files.get(value)
            if existing is not None:
                return existing
            if value.startswith(("http://", "https://")):
                raise _bad("Bad Request: failed to get HTTP URL content")
            raise _bad("Bad Request: wrong file identifier/HTTP URL specified")
        raise _bad(f"Bad Request: there is no {name} in the request")

    def message_to_api(self, msg: FakeMessage) -> dict[str, Any]:
        """The Bot API ``Message`` object for a transcript message."""
        user = self.users[msg.chat_id]
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self.bot_user_api() if msg.from_bot else user.to_api(),
            "chat": user.chat_api(),
            "date": int(msg.date.timestamp()),
        }
        if msg.edit_date is not None:
            data["edit_date"] = int(msg.edit_date.timestamp())
        if msg.has_media:
            if msg.document is not None:
                data["document"] = self._file_api(msg.document)
            if msg.photo is not None:
                data["photo"] = [self._file_api(msg.photo)]
            if msg.text:
                data["caption"] = msg.text
                if msg.entities:
                    data["caption_entities"] = copy.deepcopy(msg.entities)
        else:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = copy.deepcopy(msg.entities)
        if msg.reply_markup:
            data["reply_markup"] = {"inline_keyboard": copy.deepcopy(msg.reply_markup)}
        if msg.reply_to_message_id is not None:
            target = self._find_message(msg.chat_id, msg.reply_to_message_id)
            if target is not None:
                data["reply_to_message"] = self.message_to_api(target)
        return data

    def _message_to_edit(self, params: Mapping[str, Any]) -> FakeMessage:
        if params.get("inline_message_id"):
            raise _bad("Bad Request: MESSAGE_ID_INVALID")
        user = self._chat_user(params)
        msg = self._find_message(user.user_id, _int_param(params, "message_id", required=True))
        if msg is None:
            raise _bad(ERR_EDIT_NOT_FOUND)
        if not msg.from_bot:
            raise _bad("Bad Request: message can't be edited")
        return msg

    def _commit_edit(self, msg: FakeMessage, *, text_changed: bool, previous: str) -> None:
        if text_changed:
            msg.history.append(previous)
        msg.edited_count += 1
        msg.edit_date = self._now()
        self._log("edited", msg)

    # ------------------------------------------------------------------ API methods

    def _api_get_me(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.bot_user_api()

    def _api_get_updates(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if self.webhook_url:
            raise TelegramApiError(409, ERR_CONFLICT_WEBHOOK)
        offset = _int_param(p, "offset")
        limit = _int_param(p, "limit") or 100
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = {str(a) for a in allowed} or None
        if offset is not None:
            self.confirm_updates(offset)
        # Telegram never delivers updates of types the bot did not ask for.
        self._updates = [u for u in self._updates if self._allowed(u)]
        return self.pending_updates(offset, limit)

    def _api_send_message(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p)
        text = p.get("text")
        if text is None or text == "":
            raise _bad(ERR_TEXT_EMPTY)
        raw = str(text)
        plain, entities, mode = self._render(
            raw, p.get("parse_mode"), p.get("entities"), caption=False
        )
        rows, other = _parse_reply_markup(p.get("reply_markup"))
        reply_to = self._reply_target(user.user_id, p)
        self._check_rate(user.user_id)
        msg = self._append_message(
            user.user_id,
            from_bot=True,
            text=plain,
            raw_text=raw,
            parse_mode=mode,
            entities=entities,
            reply_markup=rows,
            other_markup=other,
            reply_to_message_id=reply_to,
        )
        self.sent_count += 1
        self._log("sent", msg)
        return self.message_to_api(msg)

    def _send_media(self, p: dict[str, Any], files: dict[str, UploadedFile], kind: str) -> Any:
        user = self._chat_user(p)
        stored = self._input_file(p, files, kind)
        raw = "" if p.get("caption") is None else str(p.get("caption"))
        plain, entities, mode = self._render(
            raw, p.get("parse_mode"), p.get("caption_entities"), caption=True
        )
        rows, other = _parse_reply_markup(p.get("reply_markup"))
        reply_to = self._reply_target(user.user_id, p)
        self._check_rate(user.user_id)
        media: dict[str, Any] = {kind: stored}
        msg = self._append_message(
            user.user_id,
            from_bot=True,
            text=plain,
            raw_text=raw,
            parse_mode=mode,
            entities=entities,
            reply_markup=rows,
            other_markup=other,
            reply_to_message_id=reply_to,
            **media,
        )
        self.sent_count += 1
        self._log("sent", msg)
        return self.message_to_api(msg)

    def _api_send_document(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._send_media(p, files, "document")

    def _api_send_photo(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._send_media(p, files, "photo")

    def _api_edit_message_text(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        msg = self._message_to_edit(p)
        if msg.has_media:
            raise _bad("Bad Request: there is no text in the message to edit")
        text = p.get("text")
        if text is None or text == "":
            raise _bad(ERR_TEXT_EMPTY)
        raw = str(text)
        plain, entities, mode = self._render(
            raw, p.get("parse_mode"), p.get("entities"), caption=False
        )
        # Like Telegram: editing the text without reply_markup removes the inline keyboard.
        rows, _ = _parse_reply_markup(p.get("reply_markup"))
        if plain == msg.text and entities == msg.entities and rows == msg.reply_markup:
            raise _bad(ERR_NOT_MODIFIED)
        previous = msg.text
        msg.text, msg.raw_text, msg.parse_mode, msg.entities = plain, raw, mode, entities
        msg.reply_markup = rows
        self._commit_edit(msg, text_changed=plain != previous, previous=previous)
        return self.message_to_api(msg)

    def _api_edit_message_caption(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        msg = self._message_to_edit(p)
        if not msg.has_media:
            raise _bad("Bad Request: there is no caption in the message to edit")
        raw = "" if p.get("caption") is None else str(p.get("caption"))
        plain, entities, mode = self._render(
            raw, p.get("parse_mode"), p.get("caption_entities"), caption=True
        )
        rows, _ = _parse_reply_markup(p.get("reply_markup"))
        if plain == msg.text and entities == msg.entities and rows == msg.reply_markup:
            raise _bad(ERR_NOT_MODIFIED)
        previous = msg.text
        msg.text, msg.raw_text, msg.parse_mode, msg.entities = plain, raw, mode, entities
        msg.reply_markup = rows
        self._commit_edit(msg, text_changed=plain != previous, previous=previous)
        return self.message_to_api(msg)

    def _api_edit_message_reply_markup(
        self, p: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        msg = self._message_to_edit(p)
        rows, _ = _parse_reply_markup(p.get("reply_markup"))
        if rows == msg.reply_markup:
            raise _bad(ERR_NOT_MODIFIED)
        msg.reply_markup = rows
        self._commit_edit(msg, text_changed=False, previous=msg.text)
        return self.message_to_api(msg)

    def _api_answer_callback_query(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        query = self._queries.get(str(p.get("callback_query_id") or ""))
        if query is None or query.answered:
            raise _bad(ERR_QUERY_INVALID)
        text = p.get("text")
        if text is not None and utf16_len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("Bad Request: MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query.query_id,
                user_id=query.user_id,
                message_id=query.message_id,
                data=query.data,
                text=None if text is None else str(text),
                show_alert=bool(p.get("show_alert")),
                url=p.get("url"),
            )
        )
        return True

    def _api_delete_message(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p, sending=False)
        msg = self._find_message(user.user_id, _int_param(p, "message_id", required=True))
        if msg is None:
            raise _bad(ERR_DELETE_NOT_FOUND)
        msg.deleted = True
        self._log("deleted", msg)
        return True

    def _api_delete_messages(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p, sending=False)
        ids = p.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("Bad Request: message_ids must be a non-empty Array of at most 100")
        for raw_id in ids:
            msg = self._find_message(user.user_id, _as_int(raw_id))
            if msg is not None:
                msg.deleted = True
                self._log("deleted", msg)
        return True

    def _api_get_file(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        stored = self._files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise _bad("Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise _bad("Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    @staticmethod
    def _scope_key(p: Mapping[str, Any]) -> tuple[str, int | None, int | None, str]:
        scope = p.get("scope") or {"type": "default"}
        if not isinstance(scope, Mapping) or not isinstance(scope.get("type"), str):
            raise _bad("Bad Request: can't parse BotCommandScope JSON object")
        return (
            scope["type"],
            _as_int(scope.get("chat_id")),
            _as_int(scope.get("user_id")),
            str(p.get("language_code") or ""),
        )

    def _api_set_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("Bad Request: can't parse commands JSON object")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, Mapping):
                raise _bad("Bad Request: can't parse commands JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise _bad("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._scope_key(p)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    def _api_get_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return copy.deepcopy(self._commands.get(self._scope_key(p), []))

    def _api_delete_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._commands.pop(self._scope_key(p), None)
        return True

    def _api_set_webhook(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook_url = str(p.get("url") or "")
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_delete_webhook(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook_url = ""
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_get_webhook_info(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _api_set_chat_menu_button(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = None
        if p.get("chat_id") not in (None, ""):
            chat_id = self._chat_user(p, sending=False).user_id
        button = p.get("menu_button") or {"type": "default"}
        if not isinstance(button, Mapping) or "type" not in button:
            raise _bad("Bad Request: can't parse menu button JSON object")
        self.menu_buttons[chat_id] = dict(button)
        return True

    def _api_get_chat_menu_button(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = None
        if p.get("chat_id") not in (None, ""):
            chat_id = self._chat_user(p, sending=False).user_id
        return copy.deepcopy(
            self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}
        )

    def _api_send_chat_action(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p)
        action = str(p.get("action") or "")
        if action not in _CHAT_ACTIONS:
            raise _bad("Bad Request: wrong parameter action in request")
        self.chat_actions.append((user.user_id, action))
        return True

    def _api_close(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _api_log_out(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _api_get_chat(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p, sending=False)
        return {
            **user.chat_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _set_profile(self, p: Mapping[str, Any], field_name: str, limit: int) -> bool:
        value = str(p.get(field_name) or "")
        if utf16_len(value) > limit:
            raise _bad(f"Bad Request: {field_name} is too long")
        lang = str(p.get("language_code") or "")
        self.bot_profile[f"{field_name}:{lang}" if lang else field_name] = value
        return True

    def _api_set_my_name(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_profile(p, "name", 64)

    def _api_set_my_description(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_profile(p, "description", 512)

    def _api_set_my_short_description(
        self, p: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        return self._set_profile(p, "short_description", 120)
