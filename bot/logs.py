"""Logging without personal data: one line per update (id, kind, handler, outcome), nothing else.

Libraries log what they carry at DEBUG: PTB the Bot API parameters (message texts, names),
SQLAlchemy the statement parameters, httpx the request URL with the bot token in it. So below
WARNING only chibo's own loggers are written, and the token is masked in every line. chibo's
own log calls name ids and outcomes, never names, texts, reasons or invite codes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import IO, Any

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop

log = logging.getLogger("bot.updates")

#: Loggers whose DEBUG and INFO lines are written; anything else only from WARNING up.
OWN = ("bot", "handlers", "services", "storage", "documents", "domain", "__main__")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class PrivacyFilter(logging.Filter):
    """Drop other libraries' chatter below WARNING and mask the bot token everywhere."""

    def __init__(self, token: str = "") -> None:
        super().__init__()
        self.token = token.strip()

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record (masked) or drop it."""
        own = record.name.split(".")[0] in OWN
        if not own and record.levelno < logging.WARNING:
            return False
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg, record.args = message.replace(self.token, "<token>"), ()
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text and self.token in record.exc_text:
                record.exc_text = record.exc_text.replace(self.token, "<token>")
        return True


def configure(level: str = "INFO", *, token: str = "", stream: IO[str] | None = None) -> None:
    """Send logs to ``stream`` (stderr) at ``level`` through :class:`PrivacyFilter`."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(PrivacyFilter(token))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Even when chibo's own lines are wanted at DEBUG, these stay quiet at the source.
    for name in ("httpx", "httpcore", "aiohttp", "sqlalchemy", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _kind(update: object) -> str:
    if not isinstance(update, Update):
        return type(update).__name__
    for kind in ("callback_query", "message", "edited_message", "my_chat_member"):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


def _logged(
    name: str, callback: Callable[[Any, Any], Awaitable[Any]]
) -> Callable[[Any, Any], Awaitable[Any]]:
    @functools.wraps(callback)
    async def run(update: object, context: Any) -> Any:
        update_id = getattr(update, "update_id", "-")
        kind = _kind(update)
        try:
            result = await callback(update, context)
        except ApplicationHandlerStop:
            log.info("update=%s kind=%s handler=%s outcome=stop", update_id, kind, name)
            raise
        except Exception as exc:
            log.info(
                "update=%s kind=%s handler=%s outcome=error:%s",
                update_id,
                kind,
                name,
                type(exc).__name__,
            )
            raise
        log.info("update=%s kind=%s handler=%s outcome=ok", update_id, kind, name)
        return result

    return run


def instrument(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Log one line per handled update: its id, kind, the handler that took it, the outcome."""
    for handlers in application.handlers.values():
        for handler in handlers:
            callback = getattr(handler, "callback", None)
            if callback is None or getattr(callback, "_chibo_logged", False):
                continue
            name = f"{callback.__module__.split('.')[-1]}.{callback.__qualname__}"
            wrapped = _logged(name, callback)
            wrapped._chibo_logged = True  # type: ignore[attr-defined]
            handler.callback = wrapped  # type: ignore[assignment]
