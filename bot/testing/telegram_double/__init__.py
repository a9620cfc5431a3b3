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

Every name below is importable from ``bot.testing.telegram_double``; each module holds one part:

================  ==============================================================================
``model``         :class:`FakeUser`, :class:`FakeFile`, :class:`FakeMessage`, Telegram's limits
``errors``        :class:`TelegramApiError`, Telegram's error wording, injected faults
``flood``         the flood limits as sliding windows
``params``        decoding and checking a call's parameters (types, text, keyboards)
``base``          the state every part works on, and the clock
``updates``       the update queue and long polling
``files``         uploaded files
``transcript``    the chats' messages and the activity log tests wait on
``users``         users and what they do (write, send files, press buttons, block the bot)
``dispatch``      :meth:`FakeTelegram.handle`: faults, dispatch, what every send checks
``api_messages``  the Bot API methods on messages (send, edit, delete, answer a button)
``api_bot``       the Bot API methods on the bot (getMe, getUpdates, commands, webhook, profile)
``fake``          :class:`FakeTelegram`, assembled from the parts above
================  ==============================================================================
"""

from __future__ import annotations

from bot.testing.telegram_double.errors import (
    ERR_BLOCKED,
    ERR_BUTTON_DATA_INVALID,
    ERR_CANT_INITIATE,
    ERR_CAPTION_TOO_LONG,
    ERR_CHAT_NOT_FOUND,
    ERR_CONFLICT_POLL,
    ERR_CONFLICT_WEBHOOK,
    ERR_DELETE_NOT_FOUND,
    ERR_EDIT_NOT_FOUND,
    ERR_NOT_MODIFIED,
    ERR_QUERY_INVALID,
    ERR_TEXT_EMPTY,
    ERR_TOO_LONG,
    FakeTimeout,
    Fault,
    TelegramApiError,
)
from bot.testing.telegram_double.fake import FakeTelegram
from bot.testing.telegram_double.flood import (
    GROUP_PER_MINUTE,
    OVERALL_PER_SECOND,
    PRIVATE_BURST,
    PRIVATE_WINDOW,
)
from bot.testing.telegram_double.model import (
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_BYTES,
    MAX_INLINE_BUTTONS,
    MAX_TEXT_LENGTH,
    MAX_UPLOAD_BYTES,
    CallbackAnswer,
    FakeFile,
    FakeMessage,
    FakeUser,
    UploadedFile,
)

__all__ = [
    "ERR_BLOCKED",
    "ERR_BUTTON_DATA_INVALID",
    "ERR_CANT_INITIATE",
    "ERR_CAPTION_TOO_LONG",
    "ERR_CHAT_NOT_FOUND",
    "ERR_CONFLICT_POLL",
    "ERR_CONFLICT_WEBHOOK",
    "ERR_DELETE_NOT_FOUND",
    "ERR_EDIT_NOT_FOUND",
    "ERR_NOT_MODIFIED",
    "ERR_QUERY_INVALID",
    "ERR_TEXT_EMPTY",
    "ERR_TOO_LONG",
    "GROUP_PER_MINUTE",
    "MAX_CALLBACK_ANSWER_LENGTH",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_DOWNLOAD_BYTES",
    "MAX_INLINE_BUTTONS",
    "MAX_TEXT_LENGTH",
    "MAX_UPLOAD_BYTES",
    "OVERALL_PER_SECOND",
    "PRIVATE_BURST",
    "PRIVATE_WINDOW",
    "CallbackAnswer",
    "FakeFile",
    "FakeMessage",
    "FakeTelegram",
    "FakeTimeout",
    "FakeUser",
    "Fault",
    "TelegramApiError",
    "UploadedFile",
]
