"""What every handler shares: the per-update environment, permission checks, replies.

Handlers stay thin: they parse, call one use case (in ``storage/`` or ``bot/``) and reply.
Domain errors raised by use cases become friendly messages here, in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import re
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, ContextTypes

from domain.access import may_use
from domain.clock import local_today
from domain.errors import ChiboError, NotAllowed, NotInScope, StaleAction
from domain.i18n import Translator, pick_locale, translator
from domain.text import plain, truncate
from handlers.incoming import pressed_keyboard
from services.context import AppContext
from storage import people
from storage.db import Database, background_database
from storage.people import Identity

log = logging.getLogger(__name__)

# show() and send() use raw requests on purpose (see there): PTB's advice to use the typed
# methods would be one warning per reply.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(editMessageText|sendMessage)' instead of",
    category=UserWarning,
)

Context = ContextTypes.DEFAULT_TYPE
T = TypeVar("T")
Keyboard = Sequence[Sequence[tuple[str, str]]]  # rows of (label, callback_data)
#: A keyboard being built row by row, and a screen made of a text and such rows.
Rows = list[list[tuple[str, str]]]
RowScreen = tuple[str, Rows]


def app_ctx(context: Context) -> AppContext:
    """The shared services the composition root put in ``bot_data``."""
    return context.bot_data["app"]


class Stranger(Exception):
    """The sender has no role: raised where their identity is first needed, so the handler
    does nothing more and its wrapper answers with :func:`stranger_text`."""


#: An identity not loaded yet.
_UNSET: Any = object()


class Visitor:
    """Everything a handler needs about the current update, before the sender is known.

    The sender's identity and language are loaded when first needed: inside the first
    :meth:`run` or :meth:`read` (in the use case's own transaction, so a tap costs one), or
    on first use of :attr:`who` or :attr:`t` outside one (a read-only transaction of its own).
    """

    def __init__(
        self,
        app: AppContext,
        t: Translator | None = None,
        who: Identity | None = _UNSET,
        user_id: int = 0,
        chat_id: int = 0,
        *,
        language_code: str | None = None,
        command: str | None = None,
    ) -> None:
        self.app = app
        self._t = t
        self._who = who
        self.user_id = user_id
        self.chat_id = chat_id
        self.language_code = language_code
        #: The command this update runs (its role check happens when the identity loads).
        self.command = command

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
    def who(self) -> Identity | None:
        """The sender's identity (None: a stranger)."""
        if self._who is _UNSET:
            self._load()
        return self._who

    @who.setter
    def who(self, value: Identity | None) -> None:
        self._who = value

    @property
    def t(self) -> Translator:
        """The sender's language."""
        if self._t is None:
            self._load()
        assert self._t is not None
        return self._t

    @t.setter
    def t(self, value: Translator) -> None:
        self._t = value

    @property
    def _(self) -> Callable[[str], str]:
        return self.t.gettext

    async def load(self) -> None:
        """Load the sender's identity and language now, when not loaded yet, in a read-only
        transaction on the database's threads: for answers given outside any use case (a
        refused button, an error, a stranger), so that reading :attr:`who` or :attr:`t` after
        it does no database work on the event loop."""
        if self._who is _UNSET:
            await self.app.db.read(self._identify)
        elif self._t is None:
            self._identify(None)

    def _load(self) -> None:
        """Load the identity in a read-only transaction of its own (outside any use case; on
        the event loop: call :meth:`load` first)."""
        if self._who is _UNSET:
            with self.app.db.reading() as session:
                self._identify(session)
        elif self._t is None:
            self._identify(None)

    def _identify(self, session: Session | None) -> None:
        """Load the sender's identity in ``session`` and pick their language."""
        if session is not None and self._who is _UNSET:
            self._who = people.identity(session, self.user_id)
        if self._t is None:
            who = self._who if self._who is not _UNSET else None
            self._t = translator(
                pick_locale(
                    who.locale if who else None, self.language_code, self.app.settings.locale
                )
            )

    def _admit(self) -> None:
        """Refuse the update once the identity is known (a visitor is never refused)."""

    def _first(self, use_case: Callable[[Session], T], session: Session) -> T:
        self._identify(session)
        self._admit()
        return use_case(session)

    async def run(self, use_case: Callable[[Session], T]) -> T:
        """Run ``use_case(session)`` in one write transaction on the database's threads, off
        the event loop, so other people's replies do not wait for it. The sender's identity,
        when not known yet, is loaded in the same transaction before the use case runs."""
        if self._who is _UNSET:
            return await self.app.db.run(functools.partial(self._first, use_case))
        return await self.app.db.run(use_case)

    async def read(self, query: Callable[[Session], T]) -> T:
        """Like :meth:`run` in a read-only transaction (no write lock on SQLite)."""
        if self._who is _UNSET:
            return await self.app.db.read(functools.partial(self._first, query))
        return await self.app.db.read(query)

    def known(self) -> Env | None:
        """This update's environment past the auth gate (None for a stranger)."""
        if self.who is None:
            return None
        return Env(self.app, self.t, self.who, self.user_id, self.chat_id)


class Env(Visitor):
    """The environment of an update whose sender passed the auth gate: ``who`` is known.

    An environment made by :func:`command` or :func:`button` is checked when the identity
    loads: a stranger raises :class:`Stranger`, a role that may not use the command
    :class:`NotAllowed`, before any use case runs.
    """

    def __init__(
        self,
        app: AppContext,
        t: Translator | None = None,
        who: Identity | None = _UNSET,
        user_id: int = 0,
        chat_id: int = 0,
        *,
        language_code: str | None = None,
        command: str | None = None,
        notice: str | None = None,
    ) -> None:
        super().__init__(
            app, t, who, user_id, chat_id, language_code=language_code, command=command
        )
        #: A short notice to show on the pressed button's answer (set by a button handler).
        self.notice = notice

    @property
    def who(self) -> Identity:
        """The sender's identity."""
        if self._who is _UNSET:
            self._load()
            self._admit()
        if self._who is None:
            raise Stranger()
        return self._who

    @who.setter
    def who(self, value: Identity | None) -> None:
        self._who = value

    @property
    def t(self) -> Translator:
        """The sender's language (a stranger is refused here too: nothing is said to them
        but the stranger's text)."""
        if self._who is _UNSET:
            self.who  # noqa: B018 - loads and checks the identity
        return super().t

    @t.setter
    def t(self, value: Translator) -> None:
        self._t = value

    async def load(self) -> None:
        """:meth:`Visitor.load`, then the auth gate: a stranger raises :class:`Stranger`, a
        role that may not use the command :class:`NotAllowed`."""
        await super().load()
        self._admit()

    def _admit(self) -> None:
        if self._who is None:
            raise Stranger()
        if self.command is not None and not may_use(self.command, self._who.role_set):
            raise NotAllowed()

    @property
    def person_id(self) -> int:
        """The sender's person id."""
        return self.who.person_id

    def visitor(self) -> Visitor:
        """The same update as a visitor (to answer a stranger)."""
        who = None if self._who is _UNSET else self._who
        return Visitor(
            self.app,
            self._t,
            who,
            self.user_id,
            self.chat_id,
            language_code=self.language_code,
        )


_documents: ProcessPoolExecutor | None = None

#: Document processes at most: a leader's summary screen need not wait behind another's
#: export. The second one starts only when two are wanted at once.
DOCUMENT_PROCESSES = 2
#: The document process's niceness: a build that takes seconds of CPU yields the processor to
#: the bot (people's replies) whenever both want it, and runs at full speed otherwise.
DOCUMENT_NICENESS = 10


def _yield_to_the_bot() -> None:
    """In the document process, once: run at a lower CPU priority than the bot."""
    with contextlib.suppress(OSError, AttributeError):  # not permitted, or not POSIX
        os.nice(DOCUMENT_NICENESS)


async def in_process(func: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy pure work (building a document) in a process of its own: a thread would
    share the interpreter lock with the event loop and slow every other person's reply."""
    global _documents
    if _documents is None:
        _documents = ProcessPoolExecutor(
            DOCUMENT_PROCESSES,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_yield_to_the_bot,
        )
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_documents, functools.partial(func, *args))


#: The document process's own database, by URL (opened on first use, kept for the next).
_child_databases: dict[str, Database] = {}


def _read_here(url: str, func: Callable[..., T], args: tuple[Any, ...]) -> T:
    """In the document process: ``func(session, *args)`` in a short read-only transaction of
    that process's own engine."""
    db = _child_databases.get(url)
    if db is None:
        db = _child_databases[url] = background_database(url)
    with db.reading() as session:
        return func(session, *args)


async def read_in_process(db: Database, func: Callable[..., T], *args: Any) -> T:
    """Run ``func(session, *args)`` — a heavy read and whatever is built from it (a summary
    of the whole Khối and its workbook) — in the document process, which opens its own
    connection and reads in a short read-only transaction: the bot's event loop only waits
    on a future, and its threads never hold the interpreter lock for it. ``func`` must be a
    module-level function and its arguments and result picklable. An in-memory database (tests)
    is not visible to another process: there it runs on the database's threads instead."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return await db.read(functools.partial(_with_session, func, args))
    return await in_process(_read_here, url.render_as_string(hide_password=False), func, args)


def _with_session(func: Callable[..., T], args: tuple[Any, ...], session: Session) -> T:
    return func(session, *args)


def load_env(update: Update, context: Context) -> Visitor:
    """The update's sender as a visitor; their identity loads when first needed."""
    return Visitor(**_sender(update, context))


def lazy_env(update: Update, context: Context, command: str | None = None) -> Env:
    """The update's sender as a known person, checked when their identity first loads
    (inside the handler's first use case): strangers raise :class:`Stranger`, a role that may
    not use ``command`` :class:`NotAllowed`."""
    return Env(**_sender(update, context), command=command)


def _sender(update: Update, context: Context) -> dict[str, Any]:
    user = update.effective_user
    assert user is not None
    chat = update.effective_chat
    return {
        "app": app_ctx(context),
        "user_id": user.id,
        "chat_id": chat.id if chat else user.id,
        "language_code": user.language_code,
    }


def keyboard(rows: Keyboard | None) -> InlineKeyboardMarkup | None:
    """Build an inline keyboard from rows of (label, callback_data)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def raw_keyboard(rows: Keyboard | None) -> dict[str, Any] | None:
    """The Bot API's JSON of an inline keyboard of rows of (label, callback_data)."""
    if not rows:
        return None
    return {
        "inline_keyboard": [
            [{"text": label, "callback_data": data} for label, data in row] for row in rows
        ]
    }


async def send(env: Visitor, context: Context, text: str, rows: Keyboard | None = None) -> None:
    """Send an HTML message to the current chat.

    A raw request, as :func:`show` edits: the screen's buttons (up to a hundred) are neither
    built as Telegram objects nor parsed back from Telegram's answer, which nobody reads.
    """
    request: dict[str, Any] = {
        "chat_id": env.chat_id,
        "text": text,
        "parse_mode": ParseMode.HTML.value,
    }
    if rows:
        request["reply_markup"] = raw_keyboard(rows)
    await context.bot.do_api_request("sendMessage", api_kwargs=request)


def _same_screen(message: Any, text: str, rows: Keyboard | None) -> bool:
    """Whether ``message`` already shows ``text`` (HTML) with the keyboard ``rows``."""
    if getattr(message, "text", None) is None or message.text != plain(text).strip():
        return False
    return pressed_keyboard(message) == [
        [(label, data) for label, data in row] for row in rows or []
    ]


async def show(
    update: Update, env: Visitor, context: Context, text: str, rows: Keyboard | None = None
) -> None:
    """Show a screen: edit the pressed message, or send a new one for typed input.

    A pressed message that already shows this screen (a refused double tap, a step that
    changed nothing) is left alone rather than edited into itself.
    """
    query = update.callback_query
    if query is not None and query.message is not None:
        if _same_screen(query.message, text, rows):
            return
        try:
            # A raw request, as send() does.
            request: dict[str, Any] = {
                "chat_id": query.message.chat.id,
                "message_id": query.message.message_id,
                "text": text,
                "parse_mode": ParseMode.HTML.value,
            }
            if rows:
                request["reply_markup"] = raw_keyboard(rows)
            await context.bot.do_api_request("editMessageText", api_kwargs=request)
            return
        except BadRequest as exc:
            if "not modified" in str(exc):
                return
            if "message to edit not found" not in str(exc).lower():
                raise
    await send(env, context, text, rows)


def error_text(env: Visitor, exc: ChiboError) -> str:
    """Translate a domain error for the user."""
    text = env.t.gettext(exc.message)
    try:
        return text.format(**exc.params) if exc.params else text
    except (KeyError, IndexError):
        return text


Handler = Callable[[Update, Context, Env], Awaitable[Any]]
#: What PTB registers: a coroutine function of (update, context).
Callback = Callable[[Update, Context], Coroutine[Any, Any, Any]]
#: The PTB handlers a feature contributes (see ``handlers()`` in each module).
Handlers = list[BaseHandler[Update, Context, Any]]

#: Updates whose step was saved (committed) before the reply; read by the error handler.
_SAVED: dict[int, bool] = {}


def mark_saved(update: Update) -> None:
    """Note that this update's step is saved, so an error in the reply must not deny it."""
    _SAVED[update.update_id] = True


def was_saved(update: object) -> bool:
    """Whether the failed update's step had been saved (and forget it)."""
    return bool(_SAVED.pop(getattr(update, "update_id", -1), False))


def _done(update: Update) -> None:
    _SAVED.pop(update.update_id, None)


def command(name: str) -> Callable[[Handler], Callback]:
    """Wrap a command handler: identify the sender, check the role, render domain errors."""

    def wrap(func: Handler) -> Callback:
        @functools.wraps(func)
        async def handler(update: Update, context: Context) -> Any:
            if update.effective_chat and update.effective_chat.type != "private":
                return None  # personal data stays out of group chats
            env = lazy_env(update, context, name)
            try:
                result = await func(update, context, env)
            except Stranger:
                await _refuse_stranger(env, context)
                result = None
            except ChiboError as exc:
                if await _stranger(env):
                    await _refuse_stranger(env, context)
                    result = None
                else:
                    await send(env, context, error_text(env, exc))
                    result = None
            _done(update)
            return result

        return handler

    return wrap


def button(func: Handler) -> Callback:
    """Wrap a button handler: answer the query exactly once (with ``env.notice`` when the
    handler set one); refuse strangers and stale buttons."""

    @functools.wraps(func)
    async def handler(update: Update, context: Context) -> Any:
        query = update.callback_query
        assert query is not None
        env = lazy_env(update, context)
        try:
            result = await func(update, context, env)
        except Stranger:
            await _answer(query, plain(stranger_text(env.visitor())), alert=True)
            return None
        except ChiboError as exc:
            if await _stranger(env):
                await _answer(query, plain(stranger_text(env.visitor())), alert=True)
                return None
            return await _refuse(query, env, exc)
        _done(update)
        await _answer(query, env.notice, alert=False)
        return result

    return handler


async def _refuse_stranger(env: Env, context: Context) -> None:
    visitor = env.visitor()
    await send(visitor, context, stranger_text(visitor))


async def _stranger(env: Env) -> bool:
    """Whether the sender is a stranger (loading the identity if an error came first)."""
    try:
        await env.load()
        env.who  # noqa: B018
    except Stranger:
        return True
    except ChiboError:
        return False  # known, but may not use the command: the error says so
    return False


async def _refuse(query: Any, env: Env, exc: ChiboError) -> None:
    """Answer a refused button: stale quietly, not allowed with an alert."""
    if isinstance(exc, StaleAction):
        log_refused(query.data, exc)
        await _answer(query, error_text(env, exc), alert=False)
    elif isinstance(exc, NotAllowed | NotInScope):
        log_refused(query.data, exc)
        await _answer(query, error_text(env, exc), alert=True)
    else:
        await _answer(query, error_text(env, exc), alert=True)


async def _answer(query: Any, text: str | None, *, alert: bool) -> None:
    try:
        await query.answer(truncate(text, 200) if text else None, show_alert=alert)
    except TelegramError:
        pass  # too old (Telegram forgets a query), or failed: the screen itself was shown


def stranger_text(env: Visitor) -> str:
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


#: The largest id a button may carry (ids are 32-bit in the database).
ID_MAX = 2**31 - 1


def int_arg(value: str) -> int:
    """Parse a non-negative integer id from callback data; a forged, malformed or oversized
    value is a stale button."""
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > ID_MAX:
        raise StaleAction()
    return int(value)
