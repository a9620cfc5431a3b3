"""The composition root: builds the PTB Application from settings, a database and a clock.

``chibo run``, ``chibo demo`` and the tests all call :func:`build_application`.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable
from typing import Any

from telegram import BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from domain.access import default_menu
from domain.clock import Clock, SystemClock
from domain.i18n import SUPPORTED
from domain.settings import Settings
from handlers import common, flows
from handlers.base import load_env, send
from services.context import AppContext
from storage.db import Database

log = logging.getLogger(__name__)

#: Modules that contribute handlers, in registration order (their own group 0 order).
FEATURE_MODULES: list[str] = [
    "handlers.meetings",
    "handlers.reviews",
    "handlers.reports",
    "handlers.reminders",
    "handlers.summary",
]

#: Hooks that add periodic jobs (reminders, outbox) to the JobQueue.
JOB_INSTALLERS: list[Callable[[Application, AppContext], None]] = []


def _feature_handlers() -> Iterable[Any]:
    import importlib

    for name in FEATURE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a feature not built yet
            raise
        yield from module.handlers()
        installer = getattr(module, "install_jobs", None)
        if installer is not None and installer not in JOB_INSTALLERS:
            JOB_INSTALLERS.append(installer)


def build_application(
    settings: Settings,
    db: Database,
    *,
    clock: Clock | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    rate_limiter: bool = True,
    jobs: bool = True,
) -> Application:
    """Build the bot. ``request`` replaces the HTTP layer (the Bot API test double)."""
    app_ctx = AppContext(settings=settings, db=db, clock=clock or SystemClock())
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .concurrent_updates(False)  # conversations are serialized per update
        .post_init(_post_init)
        .arbitrary_callback_data(False)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(updates_request or request)
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    if not jobs:
        builder = builder.job_queue(None)
    application = builder.build()
    application.bot_data["app"] = app_ctx

    # One group, so the first matching handler wins: commands and buttons of every feature
    # (their patterns do not overlap), then free text and files for the conversation in
    # progress, then a catch-all that answers unknown buttons so no spinner hangs.
    for handler in common.handlers():
        application.add_handler(handler)
    for handler in _feature_handlers():
        application.add_handler(handler)
    for handler in flows.handlers():
        application.add_handler(handler)
    for handler in flows.fallback_handlers():
        application.add_handler(handler)
    application.add_error_handler(_on_error)
    if jobs and application.job_queue is not None:
        for install in JOB_INSTALLERS:
            install(application, app_ctx)
        common.install_jobs(application)
    return application


async def _post_init(application: Application) -> None:
    """Learns the bot's username and sets the command menu per language."""
    app_ctx: AppContext = application.bot_data["app"]
    me = await application.bot.get_me()
    app_ctx.bot_username = me.username or app_ctx.settings.bot_username
    await set_commands(application)


async def set_commands(application: Application) -> None:
    """Set Telegram's default command menu (the commands every role has; each person's chat
    gets their roles' menu from :func:`handlers.common.sync_menus`): Vietnamese by default,
    English for English clients."""
    for locale in (None, *SUPPORTED):
        commands = common.bot_commands(locale or "vi", default_menu())
        await application.bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=locale
        )


async def _on_error(update: object, context: Any) -> None:
    """Logs unexpected errors with context and tells the user, in their language."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    try:
        env = load_env(update, context)
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except Exception:  # noqa: BLE001 - best effort, the message below matters more
                pass
        await send(
            env,
            context,
            env.t.gettext(
                "Sorry, something went wrong and nothing was saved from that step. "
                "Please try again; if it happens again, tell your office."
            ),
        )
    except Exception:
        log.exception("could not report error %s", html.escape(str(context.error)))
