"""Start the real bot: check the schema, wait for the active-instance lease, then serve.

One ``chibo run`` process or several on one database: the process that holds the ``bot`` lease
(:mod:`storage.lease`) is active — it long-polls Telegram or serves the webhook, and sends
reminders; the others wait quietly and take over within ``CHIBO_LEASE_SECONDS`` (30 s) of the
active one dying, at once when it died on the same host. Taking over puts the dead process's
claimed outbox rows back in the queue (:func:`storage.outbox.reclaim_abandoned`).

**Webhook mode** (``chibo run --webhook URL``): an aiohttp server of chibo's own handles each
POST before answering it, so Telegram counts an update as delivered only once it was handled;
a process killed while handling never answers, and Telegram delivers the update again. (PTB's
stock webhook server answers first and queues the update, which loses it on a crash like long
polling.) The ``X-Telegram-Bot-Api-Secret-Token`` header must carry the secret given to
``setWebhook``; anything else is refused with 403.

**Two instances in webhook mode** behind one URL (a reverse proxy with both as upstreams):
each process listens from the start, but only the active one handles updates. The standby
answers ``503 Service Unavailable`` (``Retry-After: 1``) and handles nothing, so the proxy
tries the other upstream, or Telegram delivers the update again later; when the active
process dies, the standby takes the lease, calls ``setWebhook`` and answers from then on.
Give both the same ``CHIBO_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import hmac
import json
import logging
import os
import secrets
import signal
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import TelegramError

from bot.app import build_application, http_requests, start_up
from bot.health import TICK_JOB, HealthServer, MeteredRequest, Metrics, State
from bot.logs import configure
from bot.transport import loop_factory
from domain.settings import Settings
from handlers.incoming import lighten_update
from storage import lease, outbox
from storage.db import Database
from storage.migrate import current_revision, head_revision

if TYPE_CHECKING:  # aiohttp's server loads only in webhook mode or with the health endpoint
    from aiohttp import web

log = logging.getLogger(__name__)

LEASE_NAME = "bot"
#: Exit code when the lease was lost (another process took over): the service manager restarts
#: the process, which then waits as a standby.
EXIT_LEASE_LOST = 3


def holder_name() -> str:
    """This process's name on the lease and on its outbox claims: host, pid, a random tag."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True when ``holder`` names a process of this host that no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


#: glibc's ``mallopt`` parameter for the number of heap arenas (``M_ARENA_MAX``).
M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Let glibc keep at most ``arenas`` heap arenas, as ``MALLOC_ARENA_MAX`` does.

    glibc gives a thread that allocates while another holds an arena an arena of its own, up to
    8 per core, and memory freed in one arena is not reused by another: with the database's
    worker threads each large read (a year's summary of the whole Khối) leaves its freed memory
    in the arena of whichever thread ran it, and the process grows with every thread that takes
    a turn. An ``MALLOC_ARENA_MAX`` set by the operator wins; the variable is also set so the
    document process inherits it. Returns whether the limit was applied (not on other libcs).
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    if not mallopt(M_ARENA_MAX, arenas):
        return False
    os.environ["MALLOC_ARENA_MAX"] = str(arenas)
    return True


def run_polling(settings: Settings) -> int:
    """Run with long polling until interrupted (kept for callers of the old name)."""
    return run(settings)


def run(settings: Settings, *, webhook_url: str | None = None) -> int:
    """Run until interrupted. Refuses a database whose schema is behind."""
    limit_malloc_arenas()  # before the first worker thread starts
    configure(settings.log_level, token=settings.telegram_bot_token)
    settings.ensure_sqlite_dir()
    db = Database.from_url(settings.database_url)
    current, head = current_revision(db.engine), head_revision()
    if current != head:
        print(
            f"chibo: the database is at revision {current or 'none'}, the code needs {head}. "
            "Run: chibo db upgrade",
            file=sys.stderr,
        )
        return 2
    url = webhook_url or settings.webhook_url or None
    if url is not None and urlsplit(url).scheme not in ("https", "http"):
        print("chibo: the webhook URL must start with https://", file=sys.stderr)
        return 2
    runner = Runner(settings, db, webhook_url=url)
    try:
        with asyncio.Runner(loop_factory=loop_factory(settings.event_loop)) as loop:
            return loop.run(runner.main())
    finally:
        db.dispose()


@dataclass
class Runner:
    """One process's life: health server, standby, active, stop."""

    settings: Settings
    db: Database
    webhook_url: str | None = None

    def __post_init__(self) -> None:
        self.holder = holder_name()
        self.metrics = Metrics()
        self.state = State()
        self.ttl = timedelta(seconds=max(self.settings.lease_seconds, 3))
        self.stop = asyncio.Event()
        self.exit_code = 0
        #: The application updates go to; None while standing by or stopping (answered 503).
        self.serving: Any = None
        self.secret = self.settings.webhook_secret or secrets.token_urlsafe(32)

    # -- lease ---------------------------------------------------------------------------------

    def _try_acquire(self) -> bool:
        try:
            with self.db.transaction() as session:
                got = lease.try_acquire(
                    session,
                    name=LEASE_NAME,
                    holder=self.holder,
                    now=datetime.now(UTC),
                    ttl=self.ttl,
                    holder_is_dead=holder_is_dead,
                )
        except Exception as exc:  # noqa: BLE001 - a race on the first insert, or the db is down
            log.debug("lease not acquired: %s", exc.__class__.__name__)
            return False
        return got

    def _renew(self) -> bool | None:
        """True renewed, False taken over by another process, None database error."""
        try:
            with self.db.transaction() as session:
                return lease.renew(
                    session,
                    name=LEASE_NAME,
                    holder=self.holder,
                    now=datetime.now(UTC),
                    ttl=self.ttl,
                )
        except Exception as exc:  # noqa: BLE001
            log.warning("could not renew the lease: %s", exc.__class__.__name__)
            return None

    def _release(self) -> None:
        with contextlib.suppress(Exception), self.db.transaction() as session:
            lease.release(session, name=LEASE_NAME, holder=self.holder)

    def _reclaim(self) -> int:
        with self.db.transaction() as session:
            return outbox.reclaim_abandoned(session, worker=self.holder, now=datetime.now(UTC))

    async def _wait_for_lease(self) -> bool:
        """Wait (quietly) until this process holds the lease; False if told to stop first."""
        said = False
        poll = min(5.0, self.ttl.total_seconds() / 3)
        while not self.stop.is_set():
            if await asyncio.to_thread(self._try_acquire):
                if said:
                    log.warning("this process is now the active instance")
                return True
            if not said:
                self.state.role = "standby"
                log.warning("another chibo process is active on this database; waiting")
                said = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=poll)
        return False

    async def _keep_lease(self) -> None:
        """Renew every third of the lease; stop the process when it is lost."""
        expires = datetime.now(UTC) + self.ttl
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=self.ttl.total_seconds() / 3)
            if self.stop.is_set():
                return
            renewed = await asyncio.to_thread(self._renew)
            now = datetime.now(UTC)
            if renewed:
                expires = now + self.ttl
                continue
            if renewed is False or now >= expires:
                log.error("the active-instance lease was lost; stopping")
                self.exit_code = EXIT_LEASE_LOST
                self.stop.set()
                return

    async def _nap(self, seconds: float) -> None:
        """Sleep, or less when told to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)

    # -- main ----------------------------------------------------------------------------------

    async def main(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self.stop.set)
        health: HealthServer | None = None
        if self.settings.health_port:
            health = HealthServer(
                self.db,
                self.metrics,
                self.state,
                host=self.settings.health_listen,
                port=self.settings.health_port,
            )
            await health.start()
        webhook: web.AppRunner | None = None
        try:
            if self.webhook_url:  # listening already while standing by: answers 503
                webhook = await self._listen()
            if not await self._wait_for_lease():
                return 0
            try:
                await self._active()
            finally:
                if self.exit_code != EXIT_LEASE_LOST:
                    await asyncio.to_thread(self._release)
        finally:
            if webhook is not None:
                await webhook.cleanup()
            if health is not None:
                await health.stop()
        return self.exit_code

    async def _active(self) -> None:
        reclaimed = await asyncio.to_thread(self._reclaim)
        if reclaimed:
            log.warning("%d outbox rows of a stopped process put back in the queue", reclaimed)
        request, updates_request = http_requests(functools.partial(MeteredRequest, self.metrics))
        application = build_application(
            self.settings, self.db, request=request, updates_request=updates_request
        )
        application.bot_data["app"].extras["outbox_worker"] = self.holder[:64]
        application.process_update = self.metrics.meter(application.process_update)  # type: ignore[method-assign]
        application.add_error_handler(self.metrics.on_error)
        keeper = asyncio.create_task(self._keep_lease())
        try:
            # Telegram down at start-up: wait for it (a stop request still ends the wait).
            await start_up(application, sleep=self._nap, give_up=self.stop.is_set)
            await application.start()
            self.state.application = application
            self.state.role = "active"
            if reclaimed:
                _tick_now(application)
            if self.webhook_url:
                self.serving = application  # from now on this process handles the POSTs
                await self._set_webhook(application)
            else:
                assert application.updater is not None
                await application.updater.start_polling(
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                    error_callback=_polling_error,
                )
            await self.stop.wait()
        finally:
            self.state.role = "stopping"
            self.serving = None
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()

    # -- webhook -------------------------------------------------------------------------------

    async def _listen(self) -> web.AppRunner:
        """Serve Telegram's POSTs: the active process answers each only after it was handled;
        a standby (or a stopping process) answers 503 and handles nothing."""
        from aiohttp import web

        assert self.webhook_url is not None
        path = urlsplit(self.webhook_url).path or "/"

        async def receive(request: web.Request) -> web.Response:
            application = self.serving
            if application is None:  # the proxy tries the active one, or Telegram retries
                return web.Response(status=503, text="standby", headers={"Retry-After": "1"})
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), self.secret.encode()):
                return web.Response(status=403, text="forbidden")
            try:
                data = await request.json()
                update = Update.de_json(lighten_update(data), application.bot)
            except (json.JSONDecodeError, ValueError, TypeError, KeyError):
                return web.Response(status=400, text="bad update")
            # Through the application's update processor, as when polling: one person's updates
            # in order, different people's at once; answered once this one is handled.
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
            return web.Response(status=200)

        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post(path, receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.settings.webhook_listen, self.settings.webhook_port).start()
        log.warning(
            "webhook mode: listening on %s:%s%s",
            self.settings.webhook_listen,
            self.settings.webhook_port,
            path,
        )
        return runner

    async def _set_webhook(self, application: Any) -> None:
        """Point Telegram at this process's URL (waiting while Telegram is unreachable)."""
        url = self.webhook_url
        await start_up(
            application,
            lambda: application.bot.set_webhook(
                url,
                secret_token=self.secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
                max_connections=4,
            ),
            sleep=self._nap,
            give_up=self.stop.is_set,
            initialize=False,
        )


def _tick_now(application: Any) -> None:
    """Run the reminder job at once (not after its first delay): the rows a dead process had
    claimed are sent as soon as this one is active."""
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(TICK_JOB):
        job.job.modify(next_run_time=datetime.now(UTC))


def _polling_error(exc: TelegramError) -> None:
    """Network trouble while polling: one line, no traceback (PTB retries by itself)."""
    log.warning("polling: %s", exc.__class__.__name__)
