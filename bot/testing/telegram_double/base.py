"""The double's state (users, chats, updates, files, commands, counters) and its clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.testing.telegram_double.errors import Fault
from bot.testing.telegram_double.flood import FloodWindows
from bot.testing.telegram_double.model import (
    CallbackAnswer,
    CallbackQuery,
    FakeFile,
    FakeMessage,
    FakeUser,
)
from bot.testing.telegram_double.params import as_int


class Base:
    """The state every part of :class:`~bot.testing.telegram_double.FakeTelegram` works on."""

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
        bot_id = as_int(token.split(":", 1)[0])
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

        self._queries: dict[str, CallbackQuery] = {}
        self._query_counter = 0
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[tuple[int, str]] = []
        self._commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_profile: dict[str, str] = {}

        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent_count = 0
        self.rate_limited = 0
        self._flood = FloodWindows()
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
