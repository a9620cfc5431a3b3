"""What every handler shares: the per-update environment, permission checks, replies.

Handlers stay thin: they parse, call one use case (in ``storage/`` or ``bot/``) and reply.
Domain errors raised by use cases become friendly messages here, in one place.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from domain.access import may_use
from domain.clock import local_today
from domain.errors import ChiboError, NotAllowed, NotInScope, StaleAction
from domain.i18n import Translator, pick_locale, translator
from services.context import AppContext
from storage import people
from storage.db import Database
from storage.people import Identity

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Keyboard = Sequence[Sequence[tuple[str, str]]]  # rows of (label, callback_data)


def app_ctx(context: Context) -> AppContext:
    """The shared services the composition root put in ``bot_data``."""
    return context.bot_data["app"]


@dataclass
class Env:
    """Everything a handler needs about the current update."""

    app: AppContext
    t: Translator
    who: Identity | None
    user_id: int
    chat_id: int
    #: The short notice a button's callback is answered with (the wrapper answers it once).
    answer: str | None = None

    @property
    def db(self) -> Database:
        """The database."""
        return self.app.db

    def now(self) -> datetime:
        """The current UTC time from the injected clock."""
        return self.app.clock.now()

    def today(self) -> date:
        """Today's date in the configured time zone."""
        return local_today(self.app.clock, self.app.settings.tz)

    @property
    def _(self) -> Callable[[str], str]:
        return self.t.gettext


def load_env(update: Update, context: Context) -> Env:
    """Load the sender's identity and pick their language."""
    app = app_ctx(context)
    user = update.effective_user
    assert user is not None
    with app.db.transaction() as session:
        who = people.identity(session, user.id)
    locale = pick_locale(who.locale if who else None, user.language_code, app.settings.locale)
    chat = update.effective_chat
    return Env(
        app=app,
        t=translator(locale),
        who=who,
        user_id=user.id,
        chat_id=chat.id if chat else user.id,
    )


def keyboard(rows: Keyboard | None) -> InlineKeyboardMarkup | None:
    """Build an inline keyboard from rows of (label, callback_data)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def send(env: Env, context: Context, text: str, rows: Keyboard | None = None) -> Message:
    """Send an HTML message to the current chat."""
    return await context.bot.send_message(
        env.chat_id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(rows),
        link_preview_options=None,
    )


async def show(
    update: Update, env: Env, context: Context, text: str, rows: Keyboard | None = None
) -> None:
    """Show a screen: edit the pressed message, or send a new one for typed input."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(
                text, parse_mode=ParseMode.HTML, reply_markup=keyboard(rows)
            )
            return
        except BadRequest as exc:
            if "not modified" in str(exc):
                return
            if "message to edit not found" not in str(exc).lower():
                raise
    await send(env, context, text, rows)


def error_text(env: Env, exc: ChiboError) -> str:
    """Translate a domain error for the user."""
    text = env.t.gettext(exc.message)
    try:
        return text.format(**exc.params) if exc.params else text
    except (KeyError, IndexError):
        return text


Handler = Callable[[Update, Context, Env], Awaitable[Any]]


def command(name: str) -> Callable[[Handler], Callable[[Update, Context], Awaitable[Any]]]:
    """Wrap a command handler: identify the sender, check the role, render domain errors."""

    def wrap(func: Handler) -> Callable[[Update, Context], Awaitable[Any]]:
        @functools.wraps(func)
        async def handler(update: Update, context: Context) -> Any:
            if update.effective_chat and update.effective_chat.type != "private":
                return None  # personal data stays out of group chats
            env = load_env(update, context)
            if env.who is None:
                await send(env, context, stranger_text(env))
                return None
            if not may_use(name, env.who.role_set):
                await send(env, context, error_text(env, NotAllowed()))
                return None
            try:
                return await func(update, context, env)
            except ChiboError as exc:
                await send(env, context, error_text(env, exc))
                return None

        return handler

    return wrap


def button(func: Handler) -> Callable[[Update, Context], Awaitable[Any]]:
    """Wrap a button handler: always answer the query; refuse strangers and stale buttons."""

    @functools.wraps(func)
    async def handler(update: Update, context: Context) -> Any:
        query = update.callback_query
        assert query is not None
        env = load_env(update, context)
        if env.who is None:
            await query.answer(stranger_text(env)[:200], show_alert=True)
            return None
        try:
            result = await func(update, context, env)
        except StaleAction as exc:
            log_refused(query.data, exc)
            await _answer(query, error_text(env, exc), alert=False)
            return None
        except (NotAllowed, NotInScope) as exc:
            log_refused(query.data, exc)
            await _answer(query, error_text(env, exc), alert=True)
            return None
        except ChiboError as exc:
            await _answer(query, error_text(env, exc), alert=True)
            return None
        await _answer(query, env.answer, alert=False)
        return result

    return handler


async def _answer(query: Any, text: str | None, *, alert: bool) -> None:
    try:
        await query.answer(text[:200] if text else None, show_alert=alert)
    except BadRequest:
        pass  # already answered (the handler showed its own notice) or too old


def stranger_text(env: Env) -> str:
    """What a person without a role is told (and nothing else)."""
    return env.t.gettext(
        "Hello! This is <b>Sổ tay Chi bộ</b>, the party-cell notebook of the Party Committee.\n"
        "To use it you need an invite link from your party committee's office "
        "(Văn phòng / Ban Tổ chức). Please ask them for one, then open the link."
    )


def log_refused(data: str | None, exc: Exception) -> None:
    """Log a refused button as one warning line: its family and size, never its ids or text."""
    raw = data or ""
    family = re.match(r"[a-z_]{1,12}(?::[a-z_]{1,12})?", raw)
    log.warning(
        "refused button %s (%d bytes): %s",
        family.group(0) if family else "?",
        len(raw.encode()),
        type(exc).__name__,
    )


def parse_data(data: str | None, prefix: str) -> list[str]:
    """Split callback data ``prefix:a:b`` into ``["a", "b"]`` (empty list when malformed)."""
    if not data or not data.startswith(prefix + ":"):
        return []
    return data[len(prefix) + 1 :].split(":")


#: The largest number a button may carry: every id column holds it (PostgreSQL's INTEGER).
ID_MAX = 2**31 - 1
_ID_RE = re.compile(r"\d{1,10}", re.ASCII)


def int_arg(value: str) -> int:
    """Parse a non-negative id from callback data; a forged or out-of-range value (a 40-digit
    id would overflow the database's integer) is a stale button."""
    if not _ID_RE.fullmatch(value) or int(value) > ID_MAX:
        raise StaleAction()
    return int(value)
