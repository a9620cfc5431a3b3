"""What every handler shares: the per-update environment, permission checks, replies.

Handlers stay thin: they parse, call one use case (in ``storage/`` or ``bot/``) and reply.
Domain errors raised by use cases become friendly messages here, in one place.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, ContextTypes

from domain.access import may_use
from domain.clock import local_today
from domain.errors import ChiboError, NotAllowed, StaleAction
from domain.i18n import Translator, pick_locale, translator
from services.context import AppContext
from storage import people
from storage.db import Database
from storage.people import Identity

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
T = TypeVar("T")
Keyboard = Sequence[Sequence[tuple[str, str]]]  # rows of (label, callback_data)


def app_ctx(context: Context) -> AppContext:
    """The shared services the composition root put in ``bot_data``."""
    return context.bot_data["app"]


class Stranger(Exception):
    """The sender holds no role: they are told how to get an invite, and nothing else."""


_UNKNOWN: Any = object()
Gate = Callable[[Identity | None], None]


class Env:
    """Everything a handler needs about the current update.

    The sender's identity (and so their language) is looked up in the first transaction the
    handler runs with :meth:`run` or :meth:`read`, together with the use case, on the database's
    threads; the wrapper's permission check (``gate``) runs right there, before the use case.
    Reading :attr:`who` or :attr:`t`, or replying with :func:`send` / :func:`show`, before any
    such transaction looks the identity up first (and applies the check).
    """

    def __init__(
        self,
        app: AppContext,
        *,
        user_id: int,
        chat_id: int,
        language_code: str | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.app = app
        self.user_id = user_id
        self.chat_id = chat_id
        self.language_code = language_code
        self.gate = gate
        self._who: Identity | None = _UNKNOWN
        self._t: Translator | None = None
        self._refused: Exception | None = None

    def _identify(self, session: Session) -> None:
        """Look the sender up in ``session`` (once) and apply the wrapper's check."""
        if self._who is _UNKNOWN:
            who = people.identity(session, self.user_id)
            locale = pick_locale(
                who.locale if who else None, self.language_code, self.app.settings.locale
            )
            self._who, self._t = who, translator(locale)
            if self.gate is not None:
                try:
                    self.gate(who)
                except Exception as exc:
                    self._refused = exc
                    raise
        elif self._refused is not None:
            raise self._refused

    def _identified(self) -> None:
        if self._who is _UNKNOWN:
            with self.app.db.reading() as session:
                self._identify(session)

    @property
    def who(self) -> Identity | None:
        """The sender's identity and roles (None: a stranger)."""
        self._identified()
        return self._who

    @who.setter
    def who(self, value: Identity | None) -> None:
        self._identified()
        self._who = value

    @property
    def t(self) -> Translator:
        """The sender's language."""
        self._identified()
        assert self._t is not None
        return self._t

    @t.setter
    def t(self, value: Translator) -> None:
        self._identified()
        self._t = value

    @property
    def db(self) -> Database:
        """The database."""
        return self.app.db

    async def run(self, use_case: Callable[[Session], T]) -> T:
        """Run ``use_case(session)`` in one write transaction off the event loop; the sender's
        identity is looked up (and checked) in that same transaction when still unknown."""
        return await self.app.db.run(functools.partial(self._unit, use_case))

    async def read(self, query: Callable[[Session], T]) -> T:
        """Like :meth:`run` in a read-only transaction (no write lock on SQLite)."""
        return await self.app.db.read(functools.partial(self._unit, query))

    def _unit(self, use_case: Callable[[Session], T], session: Session) -> T:
        self._identify(session)
        return use_case(session)

    async def identify(self) -> Identity | None:
        """Look the sender up now (off the event loop) if no transaction did yet."""
        if self._who is _UNKNOWN:
            await self.app.db.read(self._identify)
        return self._who

    def now(self) -> datetime:
        """The current UTC time from the injected clock."""
        return self.app.clock.now()

    def today(self) -> date:
        """Today's date in the configured time zone."""
        return local_today(self.app.clock, self.app.settings.tz)

    @property
    def _(self) -> Callable[[str], str]:
        return self.t.gettext


_documents: ProcessPoolExecutor | None = None


async def in_process(func: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy pure work (building a document) in a process of its own: a thread would
    share the interpreter lock with the event loop and slow every other person's reply."""
    global _documents
    if _documents is None:
        _documents = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_documents, functools.partial(func, *args))


def new_env(update: Update, context: Context, gate: Gate | None = None) -> Env:
    """The environment of an update; the identity is looked up by the first transaction."""
    user = update.effective_user
    assert user is not None
    chat = update.effective_chat
    return Env(
        app_ctx(context),
        user_id=user.id,
        chat_id=chat.id if chat else user.id,
        language_code=user.language_code,
        gate=gate,
    )


def load_env(update: Update, context: Context) -> Env:
    """The environment of an update with the sender's identity loaded (in a read transaction)."""
    env = new_env(update, context)
    env._identified()
    return env


def keyboard(rows: Keyboard | None) -> InlineKeyboardMarkup | None:
    """Build an inline keyboard from rows of (label, callback_data)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def send(env: Env, context: Context, text: str, rows: Keyboard | None = None) -> Message:
    """Send an HTML message to the current chat."""
    await env.identify()
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
    await env.identify()
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
#: What PTB's handlers call: a coroutine function of the update and the context.
Callback = Callable[[Update, Context], Coroutine[Any, Any, Any]]
#: The PTB handlers a feature contributes (see ``handlers()`` in each module).
Handlers = list[BaseHandler[Update, Context, Any]]


def _gate(name: str | None) -> Gate:
    def check(who: Identity | None) -> None:
        if who is None:
            raise Stranger()
        if name is not None and not may_use(name, who.role_set):
            raise NotAllowed()

    return check


def command(name: str) -> Callable[[Handler], Callback]:
    """Wrap a command handler: identify the sender, check the role, render domain errors.

    The identity is looked up and the role checked inside the handler's first transaction.
    """

    def wrap(func: Handler) -> Callback:
        @functools.wraps(func)
        async def handler(update: Update, context: Context) -> Any:
            if update.effective_chat and update.effective_chat.type != "private":
                return None  # personal data stays out of group chats
            env = new_env(update, context, _gate(name))
            try:
                return await func(update, context, env)
            except Stranger:
                await context.bot.send_message(env.chat_id, stranger_text(env))
                return None
            except ChiboError as exc:
                await send(env, context, error_text(env, exc))
                return None

        return handler

    return wrap


def button(func: Handler) -> Callback:
    """Wrap a button handler: always answer the query; refuse strangers and stale buttons."""

    @functools.wraps(func)
    async def handler(update: Update, context: Context) -> Any:
        query = update.callback_query
        assert query is not None
        env = new_env(update, context, _gate(None))
        try:
            result = await func(update, context, env)
        except Stranger:
            await query.answer(stranger_text(env)[:200], show_alert=True)
            return None
        except StaleAction as exc:
            await _answer(query, error_text(env, exc), alert=False)
            return None
        except ChiboError as exc:
            await _answer(query, error_text(env, exc), alert=True)
            return None
        await _answer(query, None, alert=False)
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


def parse_data(data: str | None, prefix: str) -> list[str]:
    """Split callback data ``prefix:a:b`` into ``["a", "b"]`` (empty list when malformed)."""
    if not data or not data.startswith(prefix + ":"):
        return []
    return data[len(prefix) + 1 :].split(":")


def int_arg(value: str) -> int:
    """Parse an integer from callback data; a forged value is a stale button."""
    try:
        return int(value)
    except ValueError as exc:
        raise StaleAction() from exc
