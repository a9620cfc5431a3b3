"""Run `chibo run` as a real OS process against the Bot API test double over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.testing.server import TelegramDoubleServer

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstu"


@dataclass
class BotProcess:
    """One `chibo run` process; kill it with SIGKILL and start it again."""

    server: TelegramDoubleServer
    database_url: str
    workdir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the bot process (it long-polls the double)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "CHIBO_", "DATABASE_URL"))
        }
        env.update(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": self.server.base_url,
                "DATABASE_URL": self.database_url,
                "CHIBO_LOG_LEVEL": "WARNING",
                **self.env_extra,
            }
        )
        log = (self.workdir / "bot.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush — the worst case."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop politely (SIGTERM), or kill after a while."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    async def astop(self) -> None:
        """Stop politely without blocking the event loop: the double keeps answering the
        bot's last calls (PTB confirms its updates on the way out), so it exits at once."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.proc.wait, 10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        """What the process printed."""
        path = self.workdir / "bot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


async def wait_until_polling(server: TelegramDoubleServer, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Wait until the bot has started long polling (it called getUpdates)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    start = len(server.fake.calls)
    while loop.time() < deadline:
        if any(method.lower() == "getupdates" for method, _ in server.fake.calls[start:]):
            return
        await server.fake.wait_for_activity(0.2)
    raise TimeoutError("the bot process did not start polling")


async def wait_until(fake, predicate, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Wait (on the double's activity signal, no sleeping) until ``predicate()`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not reached")
        await fake.wait_for_activity(0.5)
