"""The composition root: builds the PTB Application from settings, a database and a clock.

``chibo run``, ``chibo demo`` and the tests all call :func:`build_application`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import configure_mappers
from telegram.constants import ParseMode
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from bot.logs import instrument
from bot.transport import AiohttpRequest
from bot.updates import PerPersonUpdateProcessor
from domain.clock import Clock, SystemClock
from domain.settings import Settings
from handlers import (
    candidates,
    common,
    enterprises,
    flows,
    meetings,
    reminders,
    reports,
    reviews,
    summary,
)
from handlers.base import Handlers
from handlers.incoming import LightUpdatesRequest
from services.context import AppContext
from services.pacing import PacedRateLimiter, retry_seconds
from storage.db import Database

log = logging.getLogger(__name__)

#: The features' handlers, in registration order (their own group 0 order).
FEATURE_HANDLERS: tuple[Callable[[], Handlers], ...] = (
    meetings.handlers,
    reviews.handlers,
    reports.handlers,
    reminders.handlers,
    summary.handlers,
    candidates.handlers,
    enterprises.handlers,
)

#: The guided conversations the router resumes and feeds typed text and files.
FLOWS: tuple[flows.Flow, ...] = (
    meetings.MEETING_FLOW,
    meetings.MODEL_FLOW,
    reviews.REVIEW_FLOW,
    reviews.COMMITMENTS_FLOW,
    reports.REPORT_FLOW,
    candidates.CANDIDATES_FLOW,
    enterprises.ENTERPRISES_FLOW,
)

#: Connections kept open to Telegram for the bot's requests: the pacer lets at most 30
#: messages a second go, and replies, edits and answers need far fewer connections than that
#: at once (PTB's own layer, httpcore, also scans every idle connection on each request, so
#: its default of 256 cost every reply a scan of that many sockets).
CONNECTION_POOL_SIZE = 16
#: Seconds a ``getUpdates`` long poll may take to answer (its own timeout plus a margin).
UPDATES_READ_TIMEOUT = 30.0


def http_requests(make: Callable[..., BaseRequest]) -> tuple[BaseRequest, BaseRequest]:
    """The bot's two HTTP layers made by ``make`` (a :class:`BaseRequest` class or factory):
    one for its requests (:data:`CONNECTION_POOL_SIZE` connections), one for the long poll
    (:data:`UPDATES_READ_TIMEOUT`)."""
    return make(connection_pool_size=CONNECTION_POOL_SIZE), make(read_timeout=UPDATES_READ_TIMEOUT)


#: Hooks that add periodic jobs (reminders, outbox) to the JobQueue.
JOB_INSTALLERS: tuple[Callable[[Application, AppContext], None], ...] = (
    reminders.install_jobs,
    common.install_jobs,  # each person's command menu, a batch at a time
)


def _feature_handlers() -> Handlers:
    return [handler for handlers in FEATURE_HANDLERS for handler in handlers()]


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
    # The database threads hand the interpreter back to the event loop within a millisecond.
    sys.setswitchinterval(0.001)
    # The ORM's mappers are set up now, not inside the first person's update after a start.
    configure_mappers()
    # The builder's type parameters change along the chain (rate limiter, job queue).
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .concurrent_updates(PerPersonUpdateProcessor())  # one person's updates in order
        .post_init(_post_init)
        .arbitrary_callback_data(False)
    )
    if request is None:
        request, default_updates = http_requests(AiohttpRequest)
        updates_request = updates_request or default_updates
    # Button presses arrive without the pressed message's keyboard parsed (bot.updates.lighten).
    builder = builder.request(request).get_updates_request(
        LightUpdatesRequest(updates_request or request)
    )
    if rate_limiter:
        # Replies first; the reminder fan-out paces itself in what they leave (services.pacing).
        builder = builder.rate_limiter(PacedRateLimiter(max_retries=3))
    if not jobs:
        builder = builder.job_queue(None)
    application = builder.build()
    application.bot_data["app"] = app_ctx
    flows.install(FLOWS)

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
    instrument(application)  # one log line per update, no personal data
    application.add_error_handler(_on_error)
    if jobs and application.job_queue is not None:
        for install in JOB_INSTALLERS:
            install(application, app_ctx)
    return application


async def _post_init(application: Application) -> None:
    """Learns the bot's username and sets the default command menu per language."""
    app_ctx: AppContext = application.bot_data["app"]
    me = await application.bot.get_me()
    app_ctx.bot_username = me.username or app_ctx.settings.bot_username
    await common.set_default_menus(application)


#: The longest wait between two attempts to reach Telegram at start-up (seconds).
START_UP_PATIENCE = 60.0


async def start_up(
    application: Application,
    *then: Callable[[], Awaitable[object]],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    give_up: Callable[[], bool] = lambda: False,
    initialize: bool = True,
) -> None:
    """Initialize the application (``getMe``), run its ``post_init``, then each of ``then``
    (``setWebhook``), waiting for Telegram while it is unreachable, answers 5xx or asks to
    wait (429) — a bot started during an outage comes up when Telegram does, instead of
    exiting. A refusal that waiting cannot cure (a wrong token) still raises; so does any
    failure once ``give_up()`` (the process is told to stop). ``initialize`` False: only
    ``then``, for an application started already."""
    steps: list[Callable[[], Awaitable[object]]] = []
    if initialize:
        steps.append(application.initialize)
        if application.post_init is not None:
            post_init = application.post_init
            steps.append(lambda: post_init(application))
    steps.extend(then)
    for step in steps:
        wait = 1.0
        while True:
            try:
                await step()
                break
            except (NetworkError, RetryAfter) as exc:  # TimedOut is a NetworkError
                if give_up():
                    raise
                pause = retry_seconds(exc) if isinstance(exc, RetryAfter) else wait
                log.warning(
                    "Telegram not reachable at start-up (%s); again in %.0f s",
                    type(exc).__name__,
                    pause,
                )
                await sleep(pause)
                wait = min(wait * 2, START_UP_PATIENCE)


async def _on_error(update: object, context: Any) -> None:
    """Logs unexpected errors with context and tells the user, in their language."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    try:
        await flows.after_error(update, context)
    except Exception:
        log.exception("could not report error %s", type(context.error).__name__)
