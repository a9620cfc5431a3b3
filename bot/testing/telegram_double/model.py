"""What Telegram holds for the double: users, files, messages, callback queries, and its limits."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_TEXT_LENGTH = 4096


MAX_CAPTION_LENGTH = 1024


MAX_CALLBACK_DATA_BYTES = 64


MAX_INLINE_BUTTONS = 100


MAX_CALLBACK_ANSWER_LENGTH = 200


MAX_UPLOAD_BYTES = 50 * 1024 * 1024


MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


#: ``(file_name, content, mime_type)`` of one uploaded multipart file.
UploadedFile = tuple[str, bytes, str | None]


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
class CallbackQuery:
    query_id: str
    user_id: int
    message_id: int
    data: str
    answered: bool = False
