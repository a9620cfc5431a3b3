"""A Telegram Bot API test double for chibo.

* :class:`FakeTelegram` - in-memory model of Telegram (users, chats, updates, validation).
* :class:`FakeTelegramRequest` - PTB ``BaseRequest`` talking to the model in-process.
* ``bot.testing.server.TelegramDoubleServer`` - the model over HTTP (needs aiohttp; import it
  from its module).
* :class:`InProcessDriver` / :class:`HttpDriver` - scripted users.
* :func:`parse_html` / :func:`check_html` - Telegram HTML validation.
"""

from __future__ import annotations

from bot.testing.driver import HttpDriver, InProcessDriver, button_by_number, render_message
from bot.testing.html_check import HtmlParseError, check_html, html_to_plain, parse_html
from bot.testing.request import FakeTelegramRequest
from bot.testing.telegram_double import (
    CallbackAnswer,
    FakeFile,
    FakeMessage,
    FakeTelegram,
    FakeUser,
    TelegramApiError,
)

__all__ = [
    "CallbackAnswer",
    "FakeFile",
    "FakeMessage",
    "FakeTelegram",
    "FakeTelegramRequest",
    "FakeUser",
    "HtmlParseError",
    "HttpDriver",
    "InProcessDriver",
    "TelegramApiError",
    "button_by_number",
    "check_html",
    "html_to_plain",
    "parse_html",
    "render_message",
]
