"""Benchmark: update→reply latency of chibo beside a bare PTB echo bot, over loopback HTTP.

Not a test: it prints figures. The Bot API test double (flood limits on) serves on 127.0.0.1;
each bot runs in a process of its own, long-polling the double and replying over HTTP exactly
as it would to Telegram. Simulated people live in this process: a person's latency is the time
from the moment their update is queued in the double to the moment the bot's first message,
edit or document for it reaches the double.

The bots, on the same harness in the same run:

* ``echo``: a bare PTB application (concurrent updates) that answers a tap by editing the
  message and answering the callback, and a typed message by sending one — the floor. It runs
  on PTB's own HTTP layer (httpx) and asyncio's event loop.
* ``screen`` (only when asked for: ``--bots echo,screen,chibo``): the echo bot answering
  with screens of the size chibo shows on ``/meeting`` (160 characters of HTML, 19 buttons
  with data as long as chibo's): the floor of the same Telegram traffic, so that the distance
  from it is chibo's own work (the double parses, checks and stores every screen, and
  Telegram sends the pressed message back with each tap).
* ``echo-aiohttp``, ``screen-aiohttp`` (only when asked for): the same floors on chibo's HTTP
  layer and event loop (:mod:`bot.transport`: aiohttp, uvloop), so that chibo's own work can
  be read off a floor that shares its transport.
* ``chibo``: ``build_application`` on the chosen database, as ``chibo run`` makes it (its
  HTTP layer and event loop included).

Scenarios (each simulated secretary of a different cell presses through ``/meeting`` — kind,
a typed topic, duration, date, three absences with reasons, guests, content, save — with an
exponential think time; about 20 updates a second in all):

* ``a``: the secretaries alone.
* ``b``: the same while a leader exports the year's Excel summary of the whole Khối (the
  synthetic Khối of ``bench.bench_summary`` at ``--scale``) again and again.
* ``c``: the same while 1,000 reminders drain through the bot's sender, in the bot's process
  (as the reminder tick does).
* ``d``: a burst: every secretary presses at the same moment; the time until the last reply.

CPU per update is the bot process's user+system CPU time over the updates it handled.

Run:  python -m bench.bench_latency [--db URL] [--scale 10] [--people 300] [--rate 20]
          [--seconds 60] [--only a,b,c,d] [--json PATH] [--trace DIR]

``--json PATH`` writes the run as a JSON list, one record per scenario of chibo::

    {"row": "a", "title": "...", "backend": "sqlite" | "postgresql", "people": 300,
     "chibo": {"p50": ms, "p99": ms, "cpu_ms": ms}, "floor": {"p50": ms, "p99": ms, "cpu_ms": ms},
     "unit": "ms", "seconds": drain or burst time in s (c, d) or null, "note": "..."}

``floor`` is the echo bot of the same run (its ``a`` for ``a``, ``b`` and ``c``; its ``d`` for
``d``), null when the echo bot was not run; ``screen_floor`` the same of the ``screen`` bot;
``floors`` every floor bot that ran, by name.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, MessageHandler, filters
from telegram.request import HTTPXRequest

from bench import bench_summary
from bot.app import build_application, http_requests
from bot.testing.server import TelegramDoubleServer
from bot.testing.telegram_double import FakeMessage, FakeTelegram
from bot.transport import AiohttpRequest, loop_factory
from domain.settings import Settings
from services.pacing import PacedRateLimiter
from services.scheduler import tick
from storage import outbox
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Organization, OrgKind, Person, Role, RoleAssignment

TOKEN = "123456:BENCH-token-abcdefghijklmnopqrstu"
SECRETARY_BASE = 500_000
LEADER = 490_000
REMINDER_BASE = 600_000
ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.now(UTC)
TICKS = os.sysconf("SC_CLK_TCK")

# --- The database --------------------------------------------------------------------------


def prepare(url: str, scale: int, secretaries: int, reminders: int) -> None:
    """The synthetic Khối at ``scale``, a secretary for each of the first cells, a leader of
    the whole Khối, and ``reminders`` more people who get one reminder each (not yet queued)."""
    db = Database.from_url(url)
    if db.dialect == "postgresql":
        if "bench" not in (db.engine.url.database or ""):
            raise SystemExit("refusing to wipe a PostgreSQL database whose name lacks 'bench'")
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            for table in ("organizations", "members", "meetings", "reviews"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10000000)")
                )
    bench_summary.generate(db, scale)
    with db.transaction() as session:
        cells = session.scalars(
            select(Organization.id)
            .where(Organization.kind == OrgKind.CELL)
            .order_by(Organization.id)
            .limit(secretaries)
        ).all()
        top = session.scalar(select(Organization.id).where(Organization.kind == OrgKind.TOP))
        people = [(SECRETARY_BASE + i, Role.SECRETARY, org) for i, org in enumerate(cells)]
        people.append((LEADER, Role.STANDING, top))
        for uid, role, org in people:
            person = Person(
                display_name=f"Bí thư {uid}", telegram_user_id=uid, created_at=NOW, started_at=NOW
            )
            session.add(person)
            session.flush()
            session.add(
                RoleAssignment(
                    person_id=person.id, org_id=org, role=role, granted_at=NOW, granted_by="bench"
                )
            )
        for i in range(reminders):
            session.add(
                Person(
                    display_name=f"Người {i}",
                    telegram_user_id=REMINDER_BASE + i,
                    created_at=NOW,
                    started_at=NOW,
                )
            )
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    db.dispose()


def enqueue_reminders(url: str, n: int) -> None:
    """One reminder row for each of the ``n`` reminder people, due now."""
    db = Database.from_url(url)
    now = datetime.now(UTC)
    with db.transaction() as session:
        people = session.execute(
            select(Person.id, Person.telegram_user_id).where(
                Person.telegram_user_id >= REMINDER_BASE
            )
        ).all()
        rows = [
            outbox.NewRow(
                key=f"rem:bench:{now:%H%M%S}:{pid}",
                person_id=pid,
                kind=outbox.REMINDER,
                payload={
                    "instance": f"regular_meeting:2026-11:{i}",
                    "obligation": "regular_meeting",
                    "title_vi": "Sinh hoạt chi bộ thường kỳ",
                    "title_en": "Regular cell meeting",
                    "org_id": i,
                    "org_name": f"Chi bộ số {i}",
                    "period": "2026-11",
                    "due": "2026-11-30",
                    "slot": "2026-11-26",
                    "missing": [{"what": "regular_meeting", "period": "2026-11"}],
                    "open": "meeting",
                    "fallback": False,
                },
                not_before=now,
            )
            for i, (pid, _uid) in enumerate(people[:n])
        ]
        outbox.insert_ignore(session, rows, now=now)
    db.dispose()


def settings_for(url: str, base_url: str) -> Settings:
    """Production settings pointed at the double; no quiet hours so the bench runs any time."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=base_url,
        DATABASE_URL=url,
        CHIBO_QUIET_START=0,
        CHIBO_QUIET_END=0,
    )


# --- The bots (child processes) --------------------------------------------------------------


def requests(kind: str) -> tuple[Any, Any]:
    """The HTTP layer of a bot, with the pool size and long-poll timeout of ``chibo run``:
    chibo's own (:class:`bot.transport.AiohttpRequest`) for chibo and the ``-aiohttp`` floors,
    PTB's own for the bare floors."""
    return http_requests(AiohttpRequest if on_chibo_transport(kind) else HTTPXRequest)


def on_chibo_transport(kind: str) -> bool:
    """Whether a bot runs on chibo's HTTP layer and event loop (chibo, the ``-aiohttp`` floors)."""
    return kind == "chibo" or kind.endswith("-aiohttp")


#: What the ``screen`` bot shows: a text and a keyboard of the size of chibo's ``/meeting``
#: screens in this benchmark (measured: 156 characters and 19.4 buttons on average).
SCREEN_TEXT = (
    "<b>📝 Sinh hoạt — Chi bộ số {n}</b>\n\nĐánh dấu người <b>vắng mặt</b> (bấm tên). "
    "Có mặt 23/24 đảng viên; lần trước: 15/10. Bấm ▶ khi xong."
)
SCREEN_BUTTONS = 19


def echo_application(kind: str, base_url: str) -> Any:
    """A bare PTB bot: edits and answers a tap, sends a reply to typed text. It keeps within
    Telegram's limits with chibo's rate limiter (:class:`services.pacing.PacedRateLimiter`), so
    the two bots differ only in what they do with an update: PTB's stock ``AIORateLimiter``
    holds every request with a ``chat_id`` (edits too, which Telegram does not count) to 30 a
    second and stops all requests after a 429, which made the floor itself slow in a burst.

    ``kind`` ``screen…``: every reply is a screen of chibo's size (:data:`SCREEN_TEXT`,
    :data:`SCREEN_BUTTONS` buttons, two to a row) instead of one word and one button."""
    screen = kind.startswith("screen")

    def markup(n: int) -> InlineKeyboardMarkup:
        if not screen:
            return InlineKeyboardMarkup(
                [[InlineKeyboardButton(f"tap {n}", callback_data=f"e:{n}")]]
            )
        buttons = [
            InlineKeyboardButton(f"✅ Nguyễn Văn An {i}", callback_data=f"e:{n}:{1_000_000 + i}")
            for i in range(SCREEN_BUTTONS)
        ]
        return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])

    def text(n: int) -> str:
        return SCREEN_TEXT.format(n=n) if screen else f"echo {n}"

    async def on_text(update: Update, context: Any) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id, text(0), parse_mode="HTML", reply_markup=markup(0)
        )

    async def on_tap(update: Update, context: Any) -> None:
        query = update.callback_query
        assert query is not None
        n = int((query.data or "e:0").split(":")[1]) + 1
        await query.edit_message_text(text(n), parse_mode="HTML", reply_markup=markup(n))
        await query.answer()

    bot_request, updates_request = requests(kind)
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(settings_for("sqlite://", base_url).api_base_url)
        .request(bot_request)
        .get_updates_request(updates_request)
        .concurrent_updates(64)
        .rate_limiter(PacedRateLimiter(max_retries=3))
        .job_queue(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, on_text))
    app.add_handler(CallbackQueryHandler(on_tap))
    return app


async def serve(kind: str, url: str, base_url: str) -> None:
    """Run one bot until SIGTERM; SIGUSR1 drains the outbox (chibo)."""
    db = Database.from_url(url) if kind == "chibo" else None
    if kind == "chibo":
        assert db is not None
        bot_request, updates_request = requests(kind)
        app = build_application(
            settings_for(url, base_url),
            db,
            jobs=False,
            request=bot_request,
            updates_request=updates_request,
        )
    else:
        app = echo_application(kind, base_url)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    drains: list[asyncio.Task[Any]] = []

    def drain() -> None:
        async def run() -> None:
            start = time.perf_counter()
            result = await tick(app.bot_data["app"], app.bot, plan_due=False)
            stats = result.drained
            print(
                f"drained {stats.messages if stats else 0} in {time.perf_counter() - start:.1f}",
                flush=True,
            )

        drains.append(asyncio.create_task(run()))

    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, drain)
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        await app.start()
        print("ready", flush=True)
        await stop.wait()
        await app.updater.stop()
        await app.stop()
    for task in drains:
        task.cancel()
    if db is not None:
        db.dispose()


# --- Simulated people ---------------------------------------------------------------------------


@dataclass
class Samples:
    """Latencies (seconds) of one window."""

    values: list[float] = field(default_factory=list)
    #: (seconds since the window began, latency in seconds, person, what they did) per sample.
    trace: list[tuple[float, float, int, str]] = field(default_factory=list)

    def pct(self, p: float) -> float:
        """The p-th percentile (nearest rank), in milliseconds."""
        if not self.values:
            return float("nan")
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


class Harness:
    """The double, its HTTP server and the reply watch."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.reminders = 0
        log = fake._log

        def watch(kind: str, msg: FakeMessage) -> None:
            log(kind, msg)
            if msg.chat_id >= REMINDER_BASE and kind == "sent":
                self.reminders += 1
            waiter = self.waiting.get(msg.chat_id)
            if waiter is not None and not waiter.done() and kind in ("sent", "edited"):
                waiter.set_result(time.perf_counter())

        fake._log = watch  # type: ignore[method-assign]

    async def act(self, chat: int, push: Any, limit: float = 60.0) -> float | None:
        """Queue an update (``push()``) and wait for the bot's first reply to it."""
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat] = waiter
        start = time.perf_counter()
        push()
        try:
            return await asyncio.wait_for(waiter, limit) - start
        except TimeoutError:
            return None
        finally:
            self.waiting.pop(chat, None)


ORDER = [
    "resume:go:",  # a meeting left unfinished by an earlier run: continue it
    "mtg:new:",
    "mtg:kind:",
    "mtg:dur:",
    "mtg:date:",
    "mtg:dateok:",
    "mtg:abs:",
    "mtg:attok:",
    "mtg:rsn:",
    "mtg:rsnok:",
    "mtg:gok:",
    "mtg:nomin:",
    "mtg:cok:",
    "mtg:qskip:",
    "mtg:save:",
]


@dataclass
class Action:
    """What a person does next: ``push()`` queues the update; ``label`` names it in the trace."""

    label: str
    push: Any

    def __call__(self) -> Any:
        return self.push()


class Secretary:
    """Presses through /meeting again and again, as a person would."""

    def __init__(self, h: Harness, uid: int, rng: random.Random) -> None:
        self.h, self.uid, self.rng = h, uid, rng
        self.absent = 0

    def next_action(self) -> Any:
        fake = self.h.fake
        msg = fake.last_message(self.uid)
        buttons = [d for _l, d in fake.buttons(msg) if d] if msg is not None else []
        if not buttons or any(d.startswith(("mtg:open:", "mtg:list")) for d in buttons):
            self.absent = 0
            return Action("/meeting", lambda: fake.user_sends_text(self.uid, "/meeting"))
        if any(re.match(r"^mtg:go:\d+:kind$", d) for d in buttons) and not any(
            d.startswith(("mtg:dur:", "mtg:topic:")) for d in buttons
        ):
            topic = "Học tập Nghị quyết Trung ương"
            return Action("topic", lambda: fake.user_sends_text(self.uid, topic))
        for prefix in ORDER:
            if prefix == "mtg:abs:" and self.absent >= 3:
                continue
            found = [d for d in buttons if d.startswith(prefix)]
            if prefix == "mtg:kind:":
                found = [d for d in found if d.endswith(":thematic")] or found
            if found:
                if prefix == "mtg:abs:":
                    self.absent += 1
                data = found[0]
                mid = msg.message_id  # type: ignore[union-attr]
                return Action(prefix, lambda m=mid, d=data: fake.user_presses(self.uid, m, d))
        return Action("/meeting", lambda: fake.user_sends_text(self.uid, "/meeting"))


class Tapper:
    """The echo bot's person: mostly taps the button, sometimes types."""

    def __init__(self, h: Harness, uid: int, rng: random.Random) -> None:
        self.h, self.uid, self.rng = h, uid, rng

    def next_action(self) -> Any:
        fake = self.h.fake
        msg = fake.last_message(self.uid)
        buttons = [d for _l, d in fake.buttons(msg) if d] if msg is not None else []
        if not buttons or self.rng.random() < 0.15:
            return Action("text", lambda: fake.user_sends_text(self.uid, "xin chào"))
        mid, data = msg.message_id, buttons[0]
        return Action("tap", lambda: fake.user_presses(self.uid, mid, data))


async def people_loop(
    people: list[Any], h: Harness, rate: float, stop: asyncio.Event, out: Samples, lost: list[int]
) -> None:
    """Each person acts after an exponential think time; ``rate`` updates a second in all.

    The first action too comes after an exponential wait (not a uniform one), so the updates
    arrive as a steady Poisson stream from the first second: with uniform starts the first
    quarter minute carried about 1.6 times the rate, first actions and early second ones
    together."""
    mean = len(people) / rate
    began = time.perf_counter()

    async def one(p: Any) -> None:
        await asyncio.sleep(p.rng.expovariate(1 / mean))
        while not stop.is_set():
            action = p.next_action()
            at = time.perf_counter() - began
            took = await h.act(p.uid, action)
            if took is None:
                lost.append(p.uid)
            else:
                out.values.append(took)
                out.trace.append((at, took, p.uid, getattr(action, "label", "")))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), p.rng.expovariate(1 / mean))

    await asyncio.gather(*(one(p) for p in people))


async def burst(people: list[Any], h: Harness) -> tuple[float, Samples]:
    """Everyone presses at once; the time until the last reply."""
    out = Samples()
    start = time.perf_counter()
    results = await asyncio.gather(*(h.act(p.uid, p.next_action()) for p in people))
    out.values = [r for r in results if r is not None]
    return time.perf_counter() - start, out


async def leader_exports(h: Harness, stop: asyncio.Event, times: list[float]) -> None:
    """The leader opens /summary, goes to the year, and exports the Excel again and again."""
    fake = h.fake
    await h.act(LEADER, lambda: fake.user_sends_text(LEADER, "/summary"), 120)
    msg = fake.last_message(LEADER)
    assert msg is not None
    year = next(d for _l, d in fake.buttons(msg) if d and re.match(r"^sum:m:\d{4}:", d))
    await h.act(LEADER, lambda: fake.user_presses(LEADER, msg.message_id, year), 120)
    msg = fake.last_message(LEADER)
    assert msg is not None
    excel = next(d for _l, d in fake.buttons(msg) if d and d.startswith("sum:x:"))
    while not stop.is_set():
        before = len([m for m in fake.bot_messages(LEADER) if m.has_media])
        start = time.perf_counter()
        h.fake.user_presses(LEADER, msg.message_id, excel)
        while len([m for m in fake.bot_messages(LEADER) if m.has_media]) == before:
            await fake.wait_for_activity(1.0)
        times.append(time.perf_counter() - start)


async def loop_lag(stop: asyncio.Event, out: list[tuple[float, float]]) -> None:
    """How late this process's event loop (the double and the people) wakes a 10 ms sleep:
    (seconds into the window, lateness in seconds). A late loop delays every measured reply."""
    began = time.perf_counter()
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.01)
        out.append((start - began, time.perf_counter() - start - 0.01))


# --- Runs ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Row:
    """One line of the table."""

    bot: str
    scenario: str
    updates: int
    p50: float
    p99: float
    cpu_ms: float
    note: str = ""
    seconds: float | None = None


async def run_bot(
    kind: str, url: str, args: argparse.Namespace, scenarios: list[str]
) -> list[Row]:
    """Start the double and one bot, run the scenarios, stop."""
    fake = FakeTelegram(token=TOKEN)
    h = Harness(fake)
    uids = [SECRETARY_BASE + i for i in range(args.secretaries)]
    for uid in [*uids, LEADER, *(REMINDER_BASE + i for i in range(args.reminders))]:
        fake.add_user(uid, first_name="A", language_code="vi")
    server = TelegramDoubleServer(fake)
    base_url = await server.start()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_latency", "--serve", kind,
        "--db", url, "--base-url", base_url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    rows: list[Row] = []
    try:
        assert (await proc.stdout.readline()).strip() == b"ready"
        rng = random.Random(7)
        people: list[Any] = [
            (Secretary if kind == "chibo" else Tapper)(h, uid, random.Random(rng.random()))
            for uid in uids
        ]
        # Warm up: everyone gets a first screen (imports, caches, connections).
        await asyncio.gather(*(h.act(p.uid, p.next_action()) for p in people))
        for scenario in scenarios:
            if scenario in ("b", "c") and kind != "chibo":
                continue
            rows.append(await run_scenario(scenario, kind, url, args, h, people, proc))
            report(rows[-1:], "")
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        await server.stop()
    return rows


async def run_scenario(
    scenario: str,
    kind: str,
    url: str,
    args: argparse.Namespace,
    h: Harness,
    people: list[Any],
    proc: asyncio.subprocess.Process,
) -> Row:
    """One window of one scenario."""
    updates_before = h.fake._next_update_id
    cpu_before = cpu_seconds(proc.pid)
    own_before = time.process_time()
    limited_before = h.fake.rate_limited
    note = ""
    seconds: float | None = None
    if scenario == "d":
        took, out = await burst(people, h)
        seconds = took
        note = f"all {len(people)} answered in {took * 1000:.0f} ms"
    else:
        stop = asyncio.Event()
        out, lost = Samples(), []
        extra: list[asyncio.Task[Any]] = []
        exports: list[float] = []
        if scenario == "b":
            extra.append(asyncio.create_task(leader_exports(h, stop, exports)))
        if scenario == "c":
            enqueue_reminders(url, args.reminders)
            proc.send_signal(signal.SIGUSR1)
        loop = people_loop(people, h, args.rate, stop, out, lost)
        runner = asyncio.create_task(loop)
        lags: list[tuple[float, float]] = []
        watcher = asyncio.create_task(loop_lag(stop, lags))
        drain_seconds = None
        start = time.perf_counter()
        if scenario == "c":
            target = h.reminders + args.reminders
            while h.reminders < target and time.perf_counter() - start < 600:
                await h.fake.wait_for_activity(1.0)
            drain_seconds = time.perf_counter() - start
            seconds = drain_seconds
        else:
            await asyncio.sleep(args.seconds)
        stop.set()
        await runner
        for task in extra:
            await task
        if scenario == "b":
            median = statistics.median(exports) if exports else float("nan")
            note = f"{len(exports)} exports, median {median:.1f} s"
        if scenario == "c":
            note = (
                f"{args.reminders} reminders in {drain_seconds:.1f} s "
                f"({drain_seconds / (args.reminders / 30):.2f}× the 30/s bound)"
            )
        await watcher
        worst = max(lags, key=lambda x: x[1], default=(0.0, 0.0))
        note += f"; harness loop lag max {worst[1] * 1000:.0f} ms at {worst[0]:.0f} s"
        if lost:
            note += f"; {len(lost)} unanswered"
    if args.trace:
        path = Path(args.trace) / f"{kind}-{scenario}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([[round(a, 4), round(t, 4), u, w] for a, t, u, w in out.trace]))
    updates = h.fake._next_update_id - updates_before
    cpu = cpu_seconds(proc.pid) - cpu_before
    limited = h.fake.rate_limited - limited_before
    own = (time.process_time() - own_before) / max(updates, 1) * 1000
    note += f"; 429: {limited}; double+people CPU {own:.1f} ms/upd"
    return Row(
        kind,
        scenario,
        updates,
        out.pct(50),
        out.pct(99),
        cpu / max(updates, 1) * 1000,
        note,
        seconds,
    )


def report(rows: list[Row], backend: str) -> None:
    """Print the rows."""
    print(f"\n{backend}: {'bot':<14} {'scenario':<9} {'updates':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'CPU ms/upd':>10}  note")  # fmt: skip
    for r in rows:
        print(f"{'':<{len(backend) + 2}}{r.bot:<14} {r.scenario:<9} {r.updates:>7} {r.p50:>7.1f} "
              f"{r.p99:>7.1f} {r.cpu_ms:>10.1f}  {r.note}", flush=True)  # fmt: skip


TITLES = {
    "a": "secretaries through /meeting",
    "b": "while the Excel of the whole Khối is exported",
    "c": "while the reminders drain",
    "d": "all at once (burst)",
}


def records(rows: list[Row], backend: str, people: int) -> list[dict[str, Any]]:
    """The run as JSON records: one per scenario of chibo, beside the echo floor."""

    def figures(r: Row | None) -> dict[str, float] | None:
        if r is None:
            return None
        return {"p50": round(r.p50, 1), "p99": round(r.p99, 1), "cpu_ms": round(r.cpu_ms, 2)}

    by = {(r.bot, r.scenario): r for r in rows}
    floors = sorted({r.bot for r in rows if r.bot != "chibo"})
    out = []
    for r in rows:
        if r.bot != "chibo":
            continue
        under = "d" if r.scenario == "d" else "a"  # the floor's window for this scenario
        floor = by.get(("echo", under))
        out.append(
            {
                "row": r.scenario,
                "title": TITLES.get(r.scenario, r.scenario),
                "backend": backend,
                "people": people,
                "chibo": figures(r),
                "floor": figures(floor),
                "screen_floor": figures(by.get(("screen", under))),
                "floors": {bot: figures(by.get((bot, under))) for bot in floors},
                "unit": "ms",
                "updates": r.updates,
                "seconds": None if r.seconds is None else round(r.seconds, 2),
                "floor_seconds": None
                if floor is None or floor.seconds is None or r.scenario != "d"
                else round(floor.seconds, 2),
                "note": r.note.strip("; "),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Prepare the database, run the echo bot and chibo, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    parser.add_argument("--scale", type=int, default=10, help="size of the Khối (× 300 cells)")
    parser.add_argument(
        "--people", "--secretaries", dest="secretaries", type=int, default=300,
        help="simulated secretaries (and echo-bot people)",
    )  # fmt: skip
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="updates a second in all")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of a window")
    parser.add_argument("--only", default="a,b,c,d")
    parser.add_argument("--bots", default="echo,chibo")
    parser.add_argument("--json", default=None, help="also write the rows as JSON to PATH")
    parser.add_argument(
        "--trace", default=None,
        help="write each sample (start s, latency s, person, action) to DIR/BOT-SCENARIO.json",
    )  # fmt: skip
    parser.add_argument("--skip-prepare", action="store_true", help="reuse --db as it is")
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        factory = loop_factory() if on_chibo_transport(args.serve) else None
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(serve(args.serve, args.db, args.base_url))
        return 0
    scenarios = [s.strip() for s in args.only.split(",") if s.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'latency.sqlite3'}"
        backend = url.split(":")[0].split("+")[0]
        print(f"chibo latency benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
              f"{os.cpu_count()} CPUs, {backend}, Khối {args.scale}×, "
              f"{args.secretaries} secretaries, {args.rate:g} updates/s", flush=True)  # fmt: skip
        if not args.skip_prepare:
            start = time.perf_counter()
            prepare(url, args.scale, args.secretaries, args.reminders)
            print(f"prepared in {time.perf_counter() - start:.0f} s", flush=True)
        rows = []
        for bot in args.bots.split(","):
            rows += asyncio.run(run_bot(bot.strip(), url, args, scenarios))
        report(rows, backend)
        if args.json:
            kind = "postgresql" if backend.startswith("postgres") else backend
            Path(args.json).write_text(
                json.dumps(records(rows, kind, args.secretaries), ensure_ascii=False, indent=1)
                + "\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
