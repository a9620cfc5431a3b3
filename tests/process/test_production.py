"""Production stories over real processes: webhook, health and metrics, two instances."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.testing.driver import HttpDriver
from bot.testing.server import TelegramDoubleServer
from bot.testing.telegram_double import FakeTelegram
from domain.clock import SystemClock
from storage import orgs, outbox, people
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.models import OutboxStatus, Person, Role, RoleAssignment
from tests.auxil.process import TOKEN, BotProcess, wait_until, wait_until_polling

SECRET = "s3cret-webhook-token"
#: No quiet hours: these tests run at any hour of the day on the real clock.
ALWAYS = {"CHIBO_QUIET_START": "0", "CHIBO_QUIET_END": "0"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class World:
    db: Database
    url: str
    khoi: DemoKhoi
    server: TelegramDoubleServer
    driver: HttpDriver
    tmp: Path
    procs: list[BotProcess] = field(default_factory=list)

    @property
    def fake(self) -> FakeTelegram:
        return self.server.fake

    def process(self, name: str, **env: str) -> BotProcess:
        folder = self.tmp / name
        folder.mkdir(exist_ok=True)
        proc = BotProcess(self.server, self.url, folder, env_extra=env)
        self.procs.append(proc)
        return proc


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[World]:
    with db.transaction() as session:
        khoi = seed_demo(session, now=SystemClock().now())
    fake = FakeTelegram(token=TOKEN, bot_username="chibo_test_bot")
    for user in khoi.users.values():
        fake.add_user(user.telegram_user_id, first_name=user.name.split()[-1])
    server = TelegramDoubleServer(fake)
    await server.start()
    url = db.engine.url.render_as_string(hide_password=False)
    w = World(db, url, khoi, server, HttpDriver(server.base_url), tmp_path)
    try:
        yield w
    finally:
        for proc in w.procs:
            proc.stop()
        await w.driver.close()
        await server.stop()


def _invite(db: Database, org: str = "CBDIEN") -> str:
    with db.transaction() as session:
        found = orgs.by_code(session, org)
        assert found is not None
        return people.create_invite(
            session, org=found, role=Role.DEPUTY, actor=Actor("test"), now=SystemClock().now()
        ).code


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


# --- Webhook -----------------------------------------------------------------------------------


async def _post(port: int, update: dict[str, Any], secret: str | None) -> int:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/hook", json=update, headers=headers) as response,
    ):
        return response.status


async def test_webhook_refuses_a_wrong_secret_and_answers_only_after_handling(world) -> None:
    port, health = free_port(), free_port()
    proc = world.process(
        "a",
        CHIBO_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        CHIBO_WEBHOOK_PORT=str(port),
        CHIBO_WEBHOOK_SECRET=SECRET,
        CHIBO_HEALTH_PORT=str(health),
    )
    proc.start()
    await wait_until(world.fake, lambda: bool(world.fake.webhook_url), timeout=60)
    assert world.fake.webhook_url == f"http://127.0.0.1:{port}/hook"
    code = _invite(world.db)
    await world.driver.add_user(user_id=7001, first_name="Nam", language_code="vi")
    update = await world.driver.send(7001, f"/start {code}")

    assert await _post(port, update, None) == 403
    assert await _post(port, update, "not-the-secret") == 403
    assert world.fake.bot_messages(7001) == []  # refused updates were not handled
    # A good POST is answered only after the bot handled it: its reply is already there.
    assert await _post(port, update, SECRET) == 200
    assert "Phó Bí thư chi bộ" in world.fake.bot_messages(7001)[0].text, proc.log()
    # Nobody polls in webhook mode.
    assert not any(m.lower() == "getupdates" for m, _ in world.fake.calls), proc.log()

    # /healthz and /metrics on their own port.
    status, body = await _get(f"http://127.0.0.1:{health}/healthz")
    report = json.loads(body)
    assert status == 200, body
    assert report["role"] == "active" and report["database"] == "ok"
    assert report["schema"] == "current" and report["scheduler"].startswith("ok")
    assert report["outbox_backlog"] >= 0 and "outbox_oldest_pending_seconds" in report
    status, metrics = await _get(f"http://127.0.0.1:{health}/metrics")
    assert status == 200
    assert 'chibo_updates_total{outcome="ok"} 1' in metrics, metrics
    assert 'chibo_update_seconds_bucket{le="+Inf"} 1' in metrics
    assert "chibo_update_seconds_count 1" in metrics
    assert "# TYPE chibo_update_seconds histogram" in metrics
    assert "chibo_telegram_429_total 0" in metrics
    assert "chibo_outbox_backlog " in metrics and "chibo_active 1" in metrics


async def test_webhook_serves_another_person_while_one_update_waits_on_telegram(world) -> None:
    # Each POST is answered once its update is handled, and different people's updates are
    # handled at once (the application's per-person update processor, as when polling): a
    # person whose reply Telegram does not answer holds up nobody else.
    port = free_port()
    proc = world.process(
        "a",
        CHIBO_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        CHIBO_WEBHOOK_PORT=str(port),
        CHIBO_WEBHOOK_SECRET=SECRET,
    )
    proc.start()
    await wait_until(world.fake, lambda: bool(world.fake.webhook_url), timeout=60)
    slow, other = (world.khoi.users[k].telegram_user_id for k in ("bt_bv", "bt_vp"))
    fault = world.fake.fail_next("sendMessage", timeout=True)  # the first reply: no answer
    held = asyncio.create_task(_post(port, await world.driver.send(slow, "/help"), SECRET))
    await wait_until(world.fake, lambda: fault.fired)
    assert await _post(port, await world.driver.send(other, "/help"), SECRET) == 200
    assert world.fake.bot_messages(other), proc.log()
    assert not held.done()  # the first person's update is still waiting on Telegram
    assert await held == 200  # answered once PTB gave up on the reply and told the person
    assert world.fake.bot_messages(slow), proc.log()


async def test_webhook_update_killed_while_handled_is_redelivered_and_applied_once(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    env = {
        "CHIBO_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        "CHIBO_WEBHOOK_PORT": str(port),
        "CHIBO_WEBHOOK_SECRET": SECRET,
    }
    proc = world.process("a", **env)
    proc.start()
    await wait_until(world.fake, lambda: bool(world.fake.webhook_url), timeout=60)
    code = _invite(world.db)
    await world.driver.add_user(user_id=7002, first_name="Hà", language_code="vi")
    update = await world.driver.send(7002, f"/start {code}")

    # Telegram's side holds the bot's reply to 7002, so the bot is caught in the middle.
    entered, release = asyncio.Event(), asyncio.Event()
    original = world.fake.handle_async

    async def held(method: str, params: Any = None, files: Any = None) -> Any:
        if method.lower() == "sendmessage" and str((params or {}).get("chat_id")) == "7002":
            entered.set()
            await release.wait()
        return await original(method, params, files)

    monkeypatch.setattr(world.fake, "handle_async", held)
    first = asyncio.create_task(_post(port, update, SECRET))
    await asyncio.wait_for(entered.wait(), 60)
    proc.kill()
    with pytest.raises(aiohttp.ClientError):
        await first  # never answered: Telegram keeps the update and delivers it again
    monkeypatch.setattr(world.fake, "handle_async", original)
    release.set()

    world.fake.webhook_url = ""
    proc.start()
    await wait_until(world.fake, lambda: bool(world.fake.webhook_url), timeout=60)
    before = len(world.fake.bot_messages(7002))
    assert await _post(port, update, SECRET) == 200  # the redelivery
    assert len(world.fake.bot_messages(7002)) > before, proc.log()  # the person got an answer
    with world.db.transaction() as session:
        person = session.scalar(select(Person).where(Person.telegram_user_id == 7002))
        assert person is not None
        roles = session.scalar(
            select(func.count(RoleAssignment.id)).where(RoleAssignment.person_id == person.id)
        )
    assert roles == 1  # applied once


# --- Two instances -----------------------------------------------------------------------------


def _enqueue(world: World, count: int) -> list[str]:
    """``count`` notices spread over every demo user with a Telegram account."""
    now = SystemClock().now()
    keys = []
    users = [u for u in world.khoi.users.values() if u.telegram_user_id]
    with world.db.transaction() as session:
        for i in range(count):
            user = users[i % len(users)]
            key = f"notice:fault:{i:04d}"
            outbox.enqueue(
                session,
                key=key,
                person_id=user.person_id,
                kind="notice",
                payload={"msgid": "Hello, {name}!", "params": {"name": key}},
                not_before=now,
                now=now,
            )
            keys.append(key)
    return keys


def _delivered(world: World, keys: list[str]) -> Counter[str]:
    """How many Telegram messages carry each key (the double's transcript)."""
    wanted = set(keys)
    seen: Counter[str] = Counter()
    for user in world.khoi.users.values():
        for message in world.fake.bot_messages(user.telegram_user_id):
            for word in (message.text or "").replace("!", " ").split():
                if word in wanted:
                    seen[word] += 1
    return seen


def _count(db: Database, status: OutboxStatus) -> int:
    with db.transaction() as session:
        return outbox.count(session, status)


def _sent_count(world: World) -> Callable[[], int]:
    def count() -> int:
        return sum(
            1 for m, p in world.fake.calls if m == "sendMessage" and "notice:fault" in str(p)
        )

    return count


async def test_two_instances_one_polls_the_other_waits_and_takes_over(world) -> None:
    health_a, health_b = free_port(), free_port()
    a = world.process("a", CHIBO_HEALTH_PORT=str(health_a), **ALWAYS)
    b = world.process("b", CHIBO_HEALTH_PORT=str(health_b), **ALWAYS)
    a.start()
    await wait_until_polling(world.server)
    b.start()
    await wait_until(
        world.fake, lambda: "waiting" in b.log(), timeout=60
    )  # b has started and is waiting
    assert json.loads((await _get(f"http://127.0.0.1:{health_a}/healthz"))[1])["role"] == "active"
    status, body = await _get(f"http://127.0.0.1:{health_b}/healthz")
    assert status == 200 and json.loads(body)["role"] == "standby"
    # The active instance answers; the standby never polled (no 409 anywhere).
    chat = world.khoi.users["bt_vp"].telegram_user_id
    # Counted, not assumed: whether a reminder reached this chat at start depends on the day.
    before = sum(1 for m in await world.driver.messages(chat, include_deleted=True) if m.from_bot)
    await world.driver.send(chat, "/help")
    wanted = before + 1
    while not any(
        m.from_bot and "/help" in (m.text or "")
        for m in await world.driver.wait_for(chat, wanted, timeout=30)
    ):
        wanted += 1  # a reminder came first

    keys = _enqueue(world, 40)
    sent = _sent_count(world)
    # Rows enqueued just after a tick wait for the next one (a minute, TICK_SECONDS).
    await wait_until(world.fake, lambda: sent() >= 10, timeout=150)
    a.kill()
    loop = asyncio.get_running_loop()
    killed_at = loop.time()
    await wait_until(world.fake, lambda: "now the active instance" in b.log(), timeout=60)
    took_over = loop.time() - killed_at
    await wait_until(world.fake, lambda: len(_delivered(world, keys)) == len(keys), 90)
    delivered = _delivered(world, keys)
    assert set(delivered) == set(keys)  # none lost
    duplicates = sum(n - 1 for n in delivered.values())
    assert duplicates <= 1, delivered  # at most the message in flight when a was killed
    for log in (a.log(), b.log()):
        assert "Conflict" not in log and "Traceback" not in log, log
    assert b.log().count("waiting") == 1  # one quiet line, not one per check
    print(f"handover after SIGKILL: {took_over:.1f} s; duplicates {duplicates}")


async def test_a_lost_lease_is_taken_over_after_it_expires(db: Database) -> None:
    from datetime import UTC, datetime

    from storage import lease

    now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    ttl = timedelta(seconds=30)
    with db.transaction() as session:
        assert lease.try_acquire(session, name="bot", holder="h1:1:a", now=now, ttl=ttl)
    with db.transaction() as session:
        assert not lease.try_acquire(session, name="bot", holder="h2:2:b", now=now, ttl=ttl)
        assert lease.renew(session, name="bot", holder="h1:1:a", now=now, ttl=ttl)
    later = now + timedelta(seconds=31)
    with db.transaction() as session:
        assert lease.try_acquire(session, name="bot", holder="h2:2:b", now=later, ttl=ttl)
    with db.transaction() as session:
        assert not lease.renew(session, name="bot", holder="h1:1:a", now=later, ttl=ttl)
        # A holder known dead is replaced at once, before its expiry.
        assert lease.try_acquire(
            session,
            name="bot",
            holder="h3:3:c",
            now=later,
            ttl=ttl,
            holder_is_dead=lambda h: h == "h2:2:b",
        )
        lease.release(session, name="bot", holder="h3:3:c")
    with db.transaction() as session:
        assert lease.holder_of(session, "bot") is None
