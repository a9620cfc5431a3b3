"""Benchmark: start-up time and peak memory of the bot with the large Khối, as deployed.

Not a test: it prints figures. ``chibo run`` starts as a process of its own, long-polling the
Bot API test double over loopback HTTP (as it would poll Telegram), on the synthetic Khối of
:mod:`bench.bench_summary` at ``--scale`` (10×: 3,000 cells, about 90,000 members and five years
of records). Measured:

* start-up: from the moment the process is spawned to its first ``getUpdates`` at the double;
* RSS at start: the bot process's resident memory once it polls;
* a leader of the whole Khối opens ``/summary``, goes to the year, and asks for its three
  documents (Excel, Word, chart) one after the other; then the peak RSS of the bot process
  (``VmHWM``) and, separately, of the process that builds the documents (a child of the bot,
  spawned on the first document; its memory is returned to the system only when the bot
  stops). A deployment sees both: the figure to compare with the server's memory is their sum.

Run:  python -m bench.bench_memory [--db URL] [--scale 10] [--skip-prepare] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.bench_latency import LEADER, ROOT, TOKEN, prepare
from bot.testing.server import TelegramDoubleServer
from bot.testing.telegram_double import FakeTelegram


def status_kb(pid: int, field: str) -> int:
    """A ``VmRSS`` / ``VmHWM`` line of ``/proc/PID/status``, in kB (0 once the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) if found else 0


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (every thread's list), recursively."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            listed = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, listed):
            out += [child, *children(child)]
    return out


async def wait_media(fake: FakeTelegram, chat: int, before: int, limit: float) -> float:
    """Wait until the bot has sent ``chat`` a document or photo more than ``before``."""
    start = time.perf_counter()
    while len([m for m in fake.bot_messages(chat) if m.has_media]) <= before:
        if time.perf_counter() - start > limit:
            raise SystemExit("no document came within the time limit")
        await fake.wait_for_activity(1.0)
    return time.perf_counter() - start


async def wait_reply(fake: FakeTelegram, chat: int, before: int, limit: float) -> None:
    """Wait until the bot has sent or edited anything for ``chat`` after ``before`` calls."""
    start = time.perf_counter()
    while not any(
        name in ("sendMessage", "editMessageText") and str(p.get("chat_id")) == str(chat)
        for name, p in fake.calls[before:]
    ):
        if time.perf_counter() - start > limit:
            raise SystemExit("the bot did not answer within the time limit")
        await fake.wait_for_activity(1.0)


async def measure(url: str, idle: float = 10.0, limit: float = 600.0) -> dict[str, Any]:
    """Run ``chibo run`` against the double, the leader's year summary and its documents."""
    fake = FakeTelegram(token=TOKEN)
    fake.add_user(LEADER, first_name="A", language_code="vi")
    first_poll = asyncio.get_running_loop().create_future()
    handle = fake.handle_async

    async def watched(method: str, *args: Any, **kwargs: Any) -> Any:
        if method.lower() == "getupdates" and not first_poll.done():
            first_poll.set_result(time.perf_counter())
        return await handle(method, *args, **kwargs)

    fake.handle_async = watched  # type: ignore[method-assign]
    server = TelegramDoubleServer(fake)
    base_url = await server.start()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base_url,
        "DATABASE_URL": url,
        "CHIBO_QUIET_START": "0",
        "CHIBO_QUIET_END": "0",
        "CHIBO_LOG_LEVEL": "WARNING",
    }
    # A reused database may predate the newest migration: upgrade it first, as an operator
    # does after installing a new version (not timed).
    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "db", "upgrade", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await upgrade.wait() != 0:
        raise SystemExit("chibo db upgrade failed")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env,
        stdout=log, stderr=log,
    )  # fmt: skip
    out: dict[str, Any] = {}
    try:
        try:
            polled = await asyncio.wait_for(first_poll, 300)
        except TimeoutError:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"the bot did not poll within 300 s; its output:\n{tail}") from None
        out["startup_s"] = polled - start
        await asyncio.sleep(1.0)  # the first poll's own work settles
        out["rss_start_mb"] = status_kb(proc.pid, "VmRSS") / 1024
        await asyncio.sleep(idle)  # the scheduler's first tick runs at start
        out["peak_idle_mb"] = status_kb(proc.pid, "VmHWM") / 1024
        before = len(fake.calls)
        fake.user_sends_text(LEADER, "/summary")
        await wait_reply(fake, LEADER, before, limit)
        msg = fake.last_message(LEADER)
        assert msg is not None
        year = next(d for _l, d in fake.buttons(msg) if d and re.match(r"^sum:m:\d{4}:", d))
        before = len(fake.calls)
        t0 = time.perf_counter()
        fake.user_presses(LEADER, msg.message_id, year)
        await wait_reply(fake, LEADER, before, limit)
        out["year_summary_s"] = time.perf_counter() - t0
        out["peak_after_summary_mb"] = status_kb(proc.pid, "VmHWM") / 1024
        msg = fake.last_message(LEADER)
        assert msg is not None
        wanted = {"x": "excel", "d": "word", "p": "chart"}
        for view, name in wanted.items():
            pressed = next(d for _l, d in fake.buttons(msg) if d and d.startswith(f"sum:{view}:"))
            media = len([m for m in fake.bot_messages(LEADER) if m.has_media])
            fake.user_presses(LEADER, msg.message_id, pressed)
            out[f"{name}_s"] = await wait_media(fake, LEADER, media, limit)
            out[f"peak_after_{name}_mb"] = status_kb(proc.pid, "VmHWM") / 1024
        await asyncio.sleep(0.5)
        kids = children(proc.pid)
        out["rss_end_mb"] = status_kb(proc.pid, "VmRSS") / 1024
        out["peak_bot_mb"] = status_kb(proc.pid, "VmHWM") / 1024
        out["peak_children_mb"] = sum(status_kb(k, "VmHWM") for k in kids) / 1024
        out["children"] = len(kids)
        out["peak_total_mb"] = out["peak_bot_mb"] + out["peak_children_mb"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await server.stop()
        log.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    parser.add_argument("--scale", type=int, default=10, help="size of the Khối (× 300 cells)")
    parser.add_argument("--skip-prepare", action="store_true", help="reuse --db as it is")
    parser.add_argument("--json", default=None, help="also write the figures as JSON to PATH")
    parser.add_argument(
        "--idle", type=float, default=10.0, help="seconds the bot idles before the leader acts"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'memory.sqlite3'}"
        backend = "postgresql" if url.startswith("postgres") else url.split(":")[0]
        print(f"chibo memory benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
              f"{os.cpu_count()} CPUs, {backend}, Khối {args.scale}×", flush=True)  # fmt: skip
        if not args.skip_prepare:
            start = time.perf_counter()
            prepare(url, args.scale, 1, 0)
            print(f"prepared in {time.perf_counter() - start:.0f} s", flush=True)
        result = asyncio.run(measure(url, args.idle))
    print(
        f"start-up to the first poll {result['startup_s']:.2f} s; "
        f"RSS at start {result['rss_start_mb']:.1f} MB, peak after {args.idle:g} s idle "
        f"{result['peak_idle_mb']:.1f} MB\n"
        f"year summary {result['year_summary_s']:.2f} s; documents: Excel "
        f"{result['excel_s']:.2f} s, Word {result['word_s']:.2f} s, "
        f"chart {result['chart_s']:.2f} s\n"
        f"bot's peak RSS after the summary {result['peak_after_summary_mb']:.1f} MB, the Excel "
        f"{result['peak_after_excel_mb']:.1f} MB, the Word {result['peak_after_word_mb']:.1f} MB, "
        f"the chart {result['peak_after_chart_mb']:.1f} MB\n"
        f"peak RSS: bot {result['peak_bot_mb']:.1f} MB, document process "
        f"{result['peak_children_mb']:.1f} MB ({result['children']} process), "
        f"together {result['peak_total_mb']:.1f} MB",
        flush=True,
    )
    if args.json:
        record = {"backend": backend, "scale": args.scale, **result}
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
