"""Benchmark: 1,000 reminders through the Bot API test double over HTTP, with flood limits on.

Not a test: it prints figures. The double enforces Telegram's limits as sliding windows (30
messages in any second overall, 3 in any 3 seconds per chat, 20 a minute per group) and
answers 429 with ``retry_after`` beyond them. Each reminder goes to a different chat, so the
overall limit is what binds: 1,000 messages cannot take less than 1000 / 30 = 33.3 s; the goal
is at most 1.1 × that and no 429 at all (the sender paces itself; see services/pacing.py).

Scenarios (each on a fresh database and a fresh double):

1. ``straight``: one sender drains the 1,000 rows.
2. ``cancel``: the drain task is cancelled halfway (as on shutdown), then a new one runs.
3. ``kill``: the sender runs in a subprocess that gets SIGKILL halfway; a new subprocess
   takes over (its stale-claim threshold shortened to a few seconds for the benchmark).

For each: wall time, messages per second, 429 answers, lost (never delivered) and duplicated
(delivered more than once) reminders, counted from the double's transcripts.

Run:  python -m bench.bench_reminders [--n 1000] [--database-url URL] [--only straight,kill]
          [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.testing.server import TelegramDoubleServer
from bot.testing.telegram_double import FakeTelegram
from domain.clock import SystemClock
from domain.settings import Settings
from services.pacing import PacedRateLimiter
from services.scheduler import render_rows
from services.sender import Sender
from storage import outbox
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base, Person

TOKEN = "123456:BENCH-token-abcdefghijklmnopqrstu"
FIRST_CHAT = 900_000
BOUND_PER_SECOND = 30.0
ROOT = Path(__file__).resolve().parents[1]


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


def prepare(url: str, n: int) -> None:
    """A migrated, empty database with ``n`` people and one reminder row each."""
    db = Database.from_url(url)
    if db.dialect == "postgresql":
        if "bench" not in (db.engine.url.database or ""):
            raise SystemExit("refusing to wipe a PostgreSQL database whose name lacks 'bench'")
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    now = SystemClock().now()
    with db.transaction() as session:
        if db.dialect == "sqlite":
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        people = [
            Person(
                display_name=f"Bí thư {i}",
                telegram_user_id=FIRST_CHAT + i,
                created_at=now,
                started_at=now,
            )
            for i in range(n)
        ]
        session.add_all(people)
        session.flush()
        rows = [
            outbox.NewRow(
                key=f"rem:regular_meeting:2027-03:{i}:{p.id}:2027-03-04",
                person_id=p.id,
                kind="reminder",
                payload={
                    "instance": f"regular_meeting:2027-03:{i}",
                    "obligation": "regular_meeting",
                    "title_vi": "Sinh hoạt chi bộ thường kỳ",
                    "title_en": "Regular cell meeting",
                    "org_id": i,
                    "org_name": f"Chi bộ số {i}",
                    "period": "2027-03",
                    "due": "2027-03-05",
                    "slot": "2027-03-04",
                    "missing": [
                        {"what": "regular_meeting", "period": "2027-03"},
                        {"what": "reviews", "n": 3, "period": "2027-03"},
                    ],
                    "open": "meeting",
                    "fallback": False,
                },
                not_before=now,
            )
            for i, p in enumerate(people)
        ]
        outbox.insert_ignore(session, rows, now=now)
    db.dispose()


def make_sender(db: Database, bot: Any, settings: Settings, worker: str, stale: float) -> Sender:
    """The production sender (rendering at send time, rows claimed in batches, as many in
    flight as CHIBO_SEND_PARALLEL allows)."""
    return Sender(
        db,
        bot,
        clock=SystemClock(),
        settings=settings,
        render=lambda rows, at: render_rows(rows, settings=settings, now=at),
        worker=worker,
        batch=20,
        stale_after=timedelta(seconds=stale),
        parallel=settings.send_parallel,
    )


async def production_bot(settings: Settings) -> Any:
    """An ExtBot as ``build_application`` makes it: HTTPX and the paced rate limiter."""
    from telegram.ext import ExtBot
    from telegram.request import HTTPXRequest

    bot = ExtBot(
        settings.telegram_bot_token,
        base_url=settings.api_base_url,
        base_file_url=settings.api_file_url,
        request=HTTPXRequest(connection_pool_size=8),
        rate_limiter=PacedRateLimiter(max_retries=3),
    )
    await bot.initialize()
    return bot


def unfinished(db: Database) -> int:
    """Rows not yet sent (pending or claimed)."""
    with db.transaction() as session:
        stats = outbox.stats(session)
    return stats["pending"] + stats["sending"]


async def drain_until_done(db: Database, settings: Settings, worker: str, stale: float) -> None:
    """Drain; if claims of a dead sender remain, wait for them to go stale and drain again."""
    bot = await production_bot(settings)
    try:
        sender = make_sender(db, bot, settings, worker, stale)
        while True:
            await sender.drain()
            if unfinished(db) == 0:
                return
            await asyncio.sleep(0.5)  # claims of a dead process: wait until they are stale
    finally:
        await bot.shutdown()


def worker_main(args: argparse.Namespace) -> int:
    """The subprocess sender of the ``kill`` scenario."""
    settings = settings_for(args.database_url, args.base_url)
    db = Database.from_url(args.database_url)
    asyncio.run(drain_until_done(db, settings, f"pid-{os.getpid()}", args.stale))
    return 0


def count(fake: FakeTelegram, n: int) -> tuple[int, int]:
    """(lost, duplicated) from the double's transcripts."""
    lost = dup = 0
    for i in range(n):
        got = len(fake.bot_messages(FIRST_CHAT + i))
        lost += got == 0
        dup += max(got - 1, 0)
    return lost, dup


async def wait_sent(fake: FakeTelegram, target: int) -> None:
    """Wait until the double has accepted ``target`` messages (polling its counter)."""
    async with asyncio.timeout(600):
        while fake.sent_count < target:  # noqa: ASYNC110 - the double has no event to await
            await asyncio.sleep(0.01)


async def scenario(name: str, url: str, n: int, stale: float) -> dict[str, Any]:
    """Run one scenario and return its figures."""
    prepare(url, n)
    fake = FakeTelegram(token=TOKEN, rate_limits=True)
    for i in range(n):
        fake.add_user(FIRST_CHAT + i)
    server = TelegramDoubleServer(fake)
    base_url = await server.start()
    settings = settings_for(url, base_url)
    db = Database.from_url(url)
    restart_at: float | None = None
    start = time.monotonic()
    try:
        if name == "straight":
            await drain_until_done(db, settings, "bench", stale)
        elif name == "cancel":
            task = asyncio.create_task(drain_until_done(db, settings, "bench-1", stale))
            await wait_sent(fake, n // 2)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            restart_at = time.monotonic() - start
            await drain_until_done(db, settings, "bench-2", stale)
        elif name == "kill":
            cmd = [
                sys.executable, "-m", "bench.bench_reminders", "--worker",
                "--database-url", url, "--base-url", base_url, "--stale", str(stale),
            ]  # fmt: skip
            first = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT)
            await wait_sent(fake, n // 2)
            first.send_signal(signal.SIGKILL)
            await first.wait()
            restart_at = time.monotonic() - start
            second = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT)
            if await second.wait() != 0:
                raise RuntimeError(f"restarted sender failed: {second.returncode}")
        else:
            raise ValueError(name)
        elapsed = time.monotonic() - start
    finally:
        await server.stop()
    lost, dup = count(fake, n)
    with db.transaction() as session:
        stats = outbox.stats(session).by_status
    db.dispose()
    bound = n / BOUND_PER_SECOND
    return {
        "scenario": name,
        "messages": n,
        "seconds": elapsed,
        "per_second": fake.sent_count / elapsed,
        "bound_seconds": bound,
        "ratio": elapsed / bound,
        "rate_limited_429": fake.rate_limited,
        "lost": lost,
        "duplicated": dup,
        "restart_at": restart_at,
        "outbox": stats,
    }


def report(result: dict[str, Any], stale: float) -> None:
    """Print one scenario's figures."""
    ok = "meets" if result["ratio"] <= 1.1 and not result["rate_limited_429"] else "misses"
    print(f"\n== {result['scenario']} ==")
    print(f"  {result['messages']} reminders in {result['seconds']:.1f} s "
          f"({result['per_second']:.1f} msg/s)")  # fmt: skip
    print(f"  bound at 30 msg/s: {result['bound_seconds']:.1f} s → ratio {result['ratio']:.3f} "
          f"({ok} the goal: ≤ 1.1, no 429)")  # fmt: skip
    print(f"  429 answers from the double: {result['rate_limited_429']}")
    print(f"  lost: {result['lost']}   duplicated: {result['duplicated']}")
    if result["restart_at"] is not None:
        print(f"  stopped and restarted at {result['restart_at']:.1f} s "
              f"(stale-claim threshold for the benchmark: {stale:.0f} s)")  # fmt: skip
    print(f"  outbox: {result['outbox']}")


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--only", default="straight,cancel,kill")
    parser.add_argument("--stale", type=float, default=5.0, help="stale-claim seconds")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None, help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        print(f"chibo reminder benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
              f"{os.cpu_count()} CPUs, database {url.split(':')[0]}")  # fmt: skip
        backend = "postgresql" if url.startswith("postgres") else url.split(":")[0]
        for name in args.only.split(","):
            results.append(asyncio.run(scenario(name.strip(), url, args.n, args.stale)))
            report(results[-1], args.stale)
    if args.json:
        records = [
            {
                "row": r["scenario"],
                "backend": backend,
                "chibo": round(r["seconds"], 2),
                "floor": round(r["bound_seconds"], 2),
                "unit": "s",
                "messages": r["messages"],
                "ratio": round(r["ratio"], 3),
                "rate_limited_429": r["rate_limited_429"],
                "lost": r["lost"],
                "duplicated": r["duplicated"],
            }
            for r in results
        ]
        Path(args.json).write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
