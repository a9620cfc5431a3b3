"""Health and metrics on a port of their own: ``/healthz`` (JSON) and ``/metrics`` (Prometheus).

``/healthz`` answers 200 when the database is reachable, its schema is current, and — on the
active instance — the reminder job is ticking; 503 otherwise, with the reason. It also reports
the outbox backlog (rows due and not sent) and the age of the oldest one. A waiting (standby)
instance answers 200 with ``"role": "standby"`` as long as its database is fine.

``/metrics`` counts, in Prometheus' text format: updates handled by outcome, an update latency
histogram, 429 answers received from Telegram, and the outbox by kind and status (so reminders
sent / failed / pending), read from the database at scrape time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from bot.transport import AiohttpRequest
from storage import cache
from storage.db import Database
from storage.migrate import is_up_to_date
from storage.models import Outbox, OutboxStatus

if TYPE_CHECKING:  # aiohttp's server loads only when the endpoint is served
    from aiohttp import web

log = logging.getLogger(__name__)

#: Upper bounds (seconds) of the update latency histogram.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: The reminder job runs every minute; later than this it is not ticking.
TICK_LATE = timedelta(minutes=3)
#: The name of the scheduler's periodic job (services.scheduler.install).
TICK_JOB = "chibo-reminders"
#: The content type of Prometheus' text format.
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Metrics:
    """Counters kept in memory by one process."""

    updates: Counter[str] = field(default_factory=Counter)
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    latency_sum: float = 0.0
    latency_count: int = 0
    too_many_requests: int = 0
    errors_seen: int = 0

    def observe(self, outcome: str, seconds: float) -> None:
        """Count one handled update."""
        self.updates[outcome] += 1
        self.latency_sum += seconds
        self.latency_count += 1
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1

    def meter(self, process: Callable[[object], Awaitable[None]]) -> Callable[..., Any]:
        """Wrap ``Application.process_update``: time it and tell ok from error.

        Errors raised by handlers are given to the error handlers inside ``process_update``;
        :meth:`on_error` (added as one of them) counts them, so a difference means an error.
        """

        async def process_update(update: object) -> None:
            errors = self.errors_seen
            start = time.perf_counter()
            try:
                await process(update)
            except Exception:
                self.observe("error", time.perf_counter() - start)
                raise
            outcome = "error" if self.errors_seen != errors else "ok"
            self.observe(outcome, time.perf_counter() - start)

        return process_update

    async def on_error(self, _update: object, _context: Any) -> None:
        """An error handler that only counts."""
        self.errors_seen += 1


class MeteredRequest(AiohttpRequest):
    """The bot's HTTP layer (:class:`bot.transport.AiohttpRequest`), counting Telegram's 429
    answers into :class:`Metrics`."""

    def __init__(self, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metrics = metrics

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code == 429:
            self._metrics.too_many_requests += 1
        return code, payload


@dataclass
class State:
    """What the health server reports about this process."""

    role: str = "starting"  # starting | standby | active | stopping
    application: Any = None  # the PTB Application once active


def _outbox_figures(db: Database, now: datetime) -> dict[str, Any]:
    with db.transaction() as session:
        session.execute(text("SELECT 1"))
        by = session.execute(
            select(Outbox.kind, Outbox.status, func.count(Outbox.id)).group_by(
                Outbox.kind, Outbox.status
            )
        ).all()
        due = [OutboxStatus.PENDING, OutboxStatus.SENDING]
        backlog, oldest = session.execute(
            select(func.count(Outbox.id), func.min(Outbox.not_before)).where(
                Outbox.status.in_(due), Outbox.not_before <= now
            )
        ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return {
        "by_kind_status": [
            (kind, getattr(status, "value", str(status)), int(n)) for kind, status, n in by
        ],
        "backlog": int(backlog or 0),
        "oldest_pending_seconds": (now - oldest).total_seconds() if oldest is not None else 0.0,
    }


def scheduler_ticking(application: Any, now: datetime) -> tuple[bool, str]:
    """Is the reminder job scheduled and not overdue?"""
    queue = getattr(application, "job_queue", None)
    if queue is None or not queue.scheduler.running:
        return False, "job queue not running"
    jobs = queue.get_jobs_by_name(TICK_JOB)
    if not jobs:
        return False, "reminder job missing"
    next_t = jobs[0].next_t
    if next_t is None:
        return False, "reminder job paused"
    if next_t < now - TICK_LATE:
        return False, f"reminder job overdue since {next_t.isoformat()}"
    return True, f"next run {next_t.isoformat()}"


def health(db: Database, state: State) -> tuple[bool, dict[str, Any]]:
    """The /healthz report (blocking: run it in a thread)."""
    now = datetime.now(UTC)
    report: dict[str, Any] = {"role": state.role}
    try:
        figures = _outbox_figures(db, now)
        report["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is "unreachable"
        report["database"] = f"unreachable: {exc.__class__.__name__}"
        return False, report
    try:
        current = is_up_to_date(db.engine)
    except Exception as exc:  # noqa: BLE001
        current = False
        report["schema"] = f"unknown: {exc.__class__.__name__}"
    else:
        report["schema"] = "current" if current else "behind: run chibo db upgrade"
    ok = current
    if state.role == "active":
        ticking, detail = scheduler_ticking(state.application, now)
        report["scheduler"] = ("ok: " if ticking else "not ticking: ") + detail
        ok = ok and ticking
    report["outbox_backlog"] = figures["backlog"]
    report["outbox_oldest_pending_seconds"] = round(figures["oldest_pending_seconds"], 1)
    report["ok"] = ok
    return ok, report


def render_metrics(metrics: Metrics, db: Database, state: State) -> str:
    """Prometheus text exposition format (blocking: run it in a thread)."""
    out: list[str] = []

    def head(name: str, kind: str, helptext: str) -> None:
        out.append(f"# HELP {name} {helptext}")
        out.append(f"# TYPE {name} {kind}")

    head("chibo_updates_total", "counter", "Telegram updates handled, by outcome.")
    for outcome in ("ok", "error"):
        out.append(f'chibo_updates_total{{outcome="{outcome}"}} {metrics.updates[outcome]}')
    head("chibo_update_seconds", "histogram", "Time to handle one update.")
    for bound, count in zip(BUCKETS, metrics.buckets, strict=True):
        out.append(f'chibo_update_seconds_bucket{{le="{bound}"}} {count}')
    out.append(f'chibo_update_seconds_bucket{{le="+Inf"}} {metrics.latency_count}')
    out.append(f"chibo_update_seconds_sum {metrics.latency_sum:.6f}")
    out.append(f"chibo_update_seconds_count {metrics.latency_count}")
    head("chibo_telegram_429_total", "counter", "429 Too Many Requests answers from Telegram.")
    out.append(f"chibo_telegram_429_total {metrics.too_many_requests}")
    head("chibo_active", "gauge", "1 when this process holds the active-instance lease.")
    out.append(f"chibo_active {1 if state.role == 'active' else 0}")
    entries, hits, misses = cache.figures(db.engine)
    head("chibo_cache_entries", "gauge", "Identities, organizations, rolls, settings cached.")
    out.append(f"chibo_cache_entries {entries}")
    head("chibo_cache_lookups_total", "counter", "Cache lookups under the current counter.")
    out.append(f'chibo_cache_lookups_total{{result="hit"}} {hits}')
    out.append(f'chibo_cache_lookups_total{{result="miss"}} {misses}')
    try:
        figures = _outbox_figures(db, datetime.now(UTC))
    except Exception:  # noqa: BLE001 - the database is down: counters only
        head("chibo_database_up", "gauge", "1 when the database answered.")
        out.append("chibo_database_up 0")
        return "\n".join(out) + "\n"
    head("chibo_database_up", "gauge", "1 when the database answered.")
    out.append("chibo_database_up 1")
    head("chibo_outbox_messages", "gauge", "Outbox rows by kind and status (reminders sent…).")
    for kind, status, n in sorted(figures["by_kind_status"]):
        out.append(f'chibo_outbox_messages{{kind="{kind}",status="{status}"}} {n}')
    head("chibo_outbox_backlog", "gauge", "Rows due and not yet sent.")
    out.append(f"chibo_outbox_backlog {figures['backlog']}")
    head("chibo_outbox_oldest_pending_seconds", "gauge", "Age of the oldest row due.")
    out.append(f"chibo_outbox_oldest_pending_seconds {figures['oldest_pending_seconds']:.1f}")
    return "\n".join(out) + "\n"


class HealthServer:
    """The aiohttp server of /healthz and /metrics."""

    def __init__(
        self, db: Database, metrics: Metrics, state: State, *, host: str, port: int
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.state = state
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind and serve."""
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        ok, report = await asyncio.to_thread(health, self.db, self.state)
        return web.json_response(report, status=200 if ok else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        body = await asyncio.to_thread(render_metrics, self.metrics, self.db, self.state)
        return web.Response(body=body.encode(), headers={"Content-Type": PROMETHEUS_TYPE})
