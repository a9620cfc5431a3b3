"""Typed settings, read from the environment and an optional ``.env`` file."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Telegram tokens look like ``123456789:AAH...`` (bot id, colon, 30+ url-safe characters).
TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class Settings(BaseSettings):
    """Everything chibo reads from its environment. See the README for the table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = Field(default="", alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org", alias="TELEGRAM_API_BASE_URL"
    )
    database_url: str = Field(default="sqlite:///data/chibo.sqlite3", alias="DATABASE_URL")
    timezone: str = Field(default="Asia/Ho_Chi_Minh", alias="CHIBO_TIMEZONE")
    locale: str = Field(default="vi", alias="CHIBO_LOCALE")
    invite_days: int = Field(default=7, alias="CHIBO_INVITE_DAYS")
    bot_username: str = Field(default="", alias="CHIBO_BOT_USERNAME")
    reminder_hour: int = Field(default=8, alias="CHIBO_REMINDER_HOUR")
    quiet_start: int = Field(default=21, alias="CHIBO_QUIET_START")
    quiet_end: int = Field(default=7, alias="CHIBO_QUIET_END")
    outbox_max_attempts: int = Field(default=5, alias="CHIBO_OUTBOX_MAX_ATTEMPTS")
    #: Reminders in flight at once. A process killed mid-send may duplicate each message in
    #: flight (Telegram has no idempotency key), so 1 keeps it to at most one per kill; more
    #: keeps 30 messages a second over a slow link.
    send_parallel: int = Field(default=1, ge=1, le=30, alias="CHIBO_SEND_PARALLEL")
    log_level: str = Field(default="INFO", alias="CHIBO_LOG_LEVEL")
    #: The event loop of ``chibo run``: uvloop where installed (the default), or asyncio's own.
    event_loop: Literal["uvloop", "asyncio"] = Field(default="uvloop", alias="CHIBO_EVENT_LOOP")
    # Production: webhook, health/metrics port, the active-instance lease.
    webhook_url: str = Field(default="", alias="CHIBO_WEBHOOK_URL")
    webhook_listen: str = Field(default="127.0.0.1", alias="CHIBO_WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, alias="CHIBO_WEBHOOK_PORT")
    webhook_secret: str = Field(default="", alias="CHIBO_WEBHOOK_SECRET")
    health_listen: str = Field(default="127.0.0.1", alias="CHIBO_HEALTH_LISTEN")
    health_port: int = Field(default=0, alias="CHIBO_HEALTH_PORT")
    lease_seconds: int = Field(default=30, alias="CHIBO_LEASE_SECONDS")

    @cached_property
    def tz(self) -> ZoneInfo:
        """The local time zone used for calendar dates and display."""
        return ZoneInfo(self.timezone)

    def token_is_valid(self) -> bool:
        """Tell whether the token has the shape Telegram issues."""
        return bool(TOKEN_RE.match(self.telegram_bot_token.strip()))

    @property
    def api_base_url(self) -> str:
        """The ``base_url`` PTB wants: the server URL followed by ``/bot``."""
        return f"{self.telegram_api_base_url.rstrip('/')}/bot"

    @property
    def api_file_url(self) -> str:
        """The ``base_file_url`` PTB wants."""
        return f"{self.telegram_api_base_url.rstrip('/')}/file/bot"

    def ensure_sqlite_dir(self) -> None:
        """Create the folder of a file-based SQLite database if it is missing."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            Path(self.database_url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)
