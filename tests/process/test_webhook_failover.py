"""Two `chibo run --webhook` processes on one database behind one URL.

The test plays the reverse proxy in front of both (and Telegram behind it): each update is
POSTed to the first instance, and to the other when the first refuses the connection or
answers 503; when both refuse, it is delivered again a moment later, as Telegram does. Only the
active instance handles updates; the standby answers 503 and handles nothing; when the active
one is killed in the middle of an update, the standby takes over and that update, delivered
again, is applied once.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.models import Person, RoleAssignment
from tests.auxil.process import wait_until
from tests.process.test_production import (  # noqa: F401 - the fixture
    ALWAYS,
    SECRET,
    World,
    _get,
    _invite,
    free_port,
    world,
)

#: What Telegram is told to call: the proxy's public URL (its path is what both serve).
PUBLIC = "https://chibo.example.gov.vn/hook"


class Proxy:
    """The reverse proxy: both instances as upstreams, the next one tried on a refused
    connection or a 503, the whole delivery repeated until an instance answers 200."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports
        self.answered: Counter[str] = Counter()
        self.unavailable: Counter[str] = Counter()  # 503 from a standby
        self.refused: Counter[str] = Counter()  # no connection, or the process died on it

    async def post(self, name: str, update: dict[str, Any]) -> int | None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{self.ports[name]}/hook", json=update, headers=headers
                ) as response,
            ):
                return response.status
        except aiohttp.ClientError:
            return None

    async def deliver(self, update: dict[str, Any], patience: float = 90.0) -> str:
        """Deliver until answered; returns the instance that handled it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while loop.time() < deadline:
            for name in self.ports:
                status = await self.post(name, update)
                if status == 200:
                    self.answered[name] += 1
                    return name
                if status == 503:
                    self.unavailable[name] += 1
                elif status is None:
                    self.refused[name] += 1
                else:
                    raise AssertionError(f"{name} answered {status}")
            await asyncio.sleep(0.2)  # Telegram's (and the proxy's) retry interval
        raise TimeoutError("no instance answered")


def _handled(metrics: str) -> int:
    """Updates the instance handled, from its /metrics."""
    return sum(int(n) for n in re.findall(r"chibo_updates_total\{[^}]*\} (\d+)", metrics))


def _roles(w: World, uid: int) -> int:
    with w.db.transaction() as s:
        return int(
            s.scalar(
                select(func.count(RoleAssignment.id))
                .join(Person, Person.id == RoleAssignment.person_id)
                .where(Person.telegram_user_id == uid)
            )
            or 0
        )


async def test_two_webhook_instances_the_standby_answers_503_and_takes_over(
    world: World,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = {"a": free_port(), "b": free_port()}
    health = {"a": free_port(), "b": free_port()}
    procs = {
        name: world.process(
            name,
            CHIBO_WEBHOOK_URL=PUBLIC,
            CHIBO_WEBHOOK_PORT=str(ports[name]),
            CHIBO_WEBHOOK_SECRET=SECRET,
            CHIBO_HEALTH_PORT=str(health[name]),
            **ALWAYS,
        )
        for name in ("a", "b")
    }
    proxy = Proxy(ports)
    procs["a"].start()
    await wait_until(world.fake, lambda: world.fake.webhook_url == PUBLIC, timeout=60)
    procs["b"].start()
    await wait_until(world.fake, lambda: "waiting" in procs["b"].log(), timeout=60)

    async def newcomer(uid: int) -> dict[str, Any]:
        await world.driver.add_user(user_id=uid, first_name="Hà", language_code="vi")
        return await world.driver.send(uid, f"/start {_invite(world.db)}")

    # The standby answers 503 and handles nothing, even with the right secret.
    first = await newcomer(7301)
    assert await proxy.post("b", first) == 503
    assert world.fake.bot_messages(7301) == []
    assert await proxy.deliver(first) == "a"
    assert "Phó Bí thư chi bộ" in world.fake.bot_messages(7301)[0].text
    before = [await newcomer(7302 + i) for i in range(4)]
    for update in before:
        assert await proxy.deliver(update) == "a"
    assert await proxy.post("b", before[0]) == 503  # a redelivery to the standby: still 503
    metrics_b = (await _get(f"http://127.0.0.1:{health['b']}/metrics"))[1]
    assert "chibo_active 0" in metrics_b and _handled(metrics_b) == 0, metrics_b
    assert _handled((await _get(f"http://127.0.0.1:{health['a']}/metrics"))[1]) == 5

    # The active instance dies while it handles an update (Telegram holds its reply).
    held = await newcomer(7310)
    entered, release = asyncio.Event(), asyncio.Event()
    original = world.fake.handle_async

    async def hold(method: str, params: Any = None, files: Any = None) -> Any:
        if method.lower() == "sendmessage" and str((params or {}).get("chat_id")) == "7310":
            entered.set()
            await release.wait()
        return await original(method, params, files)

    monkeypatch.setattr(world.fake, "handle_async", hold)
    delivery = asyncio.create_task(proxy.deliver(held))
    await asyncio.wait_for(entered.wait(), 60)
    monkeypatch.setattr(world.fake, "handle_async", original)
    loop = asyncio.get_running_loop()
    procs["a"].kill()
    killed_at = loop.time()
    release.set()
    assert await delivery == "b"  # delivered again, to the instance that took over
    took_over = loop.time() - killed_at
    assert took_over < 30, took_over  # within the lease time (CHIBO_LEASE_SECONDS)
    assert "now the active instance" in procs["b"].log()
    assert world.fake.webhook_url == PUBLIC
    after = [await newcomer(7311 + i) for i in range(3)]
    for update in after:
        assert await proxy.deliver(update) == "b"

    # Each update applied once, and everyone answered.
    for uid in [7301, *range(7302, 7306), 7310, *range(7311, 7314)]:
        assert _roles(world, uid) == 1, uid
        assert world.fake.bot_messages(uid), uid
    metrics_b = (await _get(f"http://127.0.0.1:{health['b']}/metrics"))[1]
    assert "chibo_active 1" in metrics_b and _handled(metrics_b) == 4, metrics_b
    for proc in procs.values():
        assert "Traceback" not in proc.log(), proc.log()
    print(
        f"\nwebhook handover after SIGKILL: {took_over:.1f} s; answered {dict(proxy.answered)}, "
        f"503 from the standby {dict(proxy.unavailable)}, refused {dict(proxy.refused)}"
    )
