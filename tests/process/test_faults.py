"""SIGKILL at random points while 500 reminders drain: nothing lost, a duplicate per kill at most.

The long variant kills 20 times (``CHIBO_FAULT_KILLS``, default 20); nothing here is skipped.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from domain.clock import SystemClock
from storage import outbox
from storage.models import Outbox, OutboxStatus, Person
from tests.auxil.process import wait_until
from tests.process.test_production import ALWAYS, World, world  # noqa: F401 - the fixture

KILLS = int(os.environ.get("CHIBO_FAULT_KILLS", "20"))
MESSAGES = 500
CHATS = 100


def _people(w: World) -> list[tuple[int, int]]:
    """``CHATS`` people with a Telegram account who started the bot: (person id, chat id)."""
    now = SystemClock().now()
    out = []
    with w.db.transaction() as session:
        for i in range(CHATS):
            chat = 50_000 + i
            person = Person(display_name=f"Người nhận {i}", telegram_user_id=chat, created_at=now)
            session.add(person)
            session.flush()
            out.append((person.id, chat))
    for _pid, chat in out:
        w.fake.add_user(chat, first_name=f"N{chat}")
    return out


def _keys_seen(w: World, chats: list[int]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for chat in chats:
        for message in w.fake.bot_messages(chat):
            for word in (message.text or "").replace("!", " ").split():
                if word.startswith("fault:"):
                    seen[word] += 1
    return seen


def _stuck(w: World) -> int:
    with w.db.transaction() as session:
        return int(
            session.scalar(
                select(func.count(Outbox.id)).where(
                    Outbox.status == OutboxStatus.SENDING, Outbox.key.like("fault:%")
                )
            )
            or 0
        )


async def test_sigkill_at_random_points_while_500_messages_drain(world: World) -> None:  # noqa: F811
    rng = random.Random(13)
    people = _people(world)
    chats = [chat for _pid, chat in people]
    now = datetime.now(UTC)
    keys = [f"fault:{i:04d}" for i in range(MESSAGES)]
    with world.db.transaction() as session:
        for i, key in enumerate(keys):
            outbox.enqueue(
                session,
                key=key,
                person_id=people[i % CHATS][0],
                kind="notice",
                payload={"msgid": "Hello, {name}!", "params": {"name": key}},
                not_before=now,
                now=now,
            )
    proc = world.process("a", **ALWAYS)

    def delivered() -> int:
        return sum(1 for n in _keys_seen(world, chats).values() if n)

    resumed = 0
    stuck_after_restart = []
    points = []
    for _kill in range(KILLS):
        before = delivered()
        proc.start()
        if before >= MESSAGES:
            break
        # A random point: after 1-25 more messages, i.e. in the middle of a claimed batch,
        # between a sendMessage and its commit, or while a request is in flight.
        more = rng.randint(1, 25)
        target = min(before + more, MESSAGES)
        await wait_until(world.fake, lambda t=target: delivered() >= t, timeout=60)
        resumed += 1
        proc.kill()
        points.append(delivered())
        stuck_after_restart.append(_stuck(world))
    proc.start()
    await wait_until(world.fake, lambda: delivered() >= MESSAGES, timeout=120)
    await wait_until(world.fake, lambda: _stuck(world) == 0, timeout=60)
    proc.stop()

    seen = _keys_seen(world, chats)
    lost = [k for k in keys if seen[k] == 0]
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    with world.db.transaction() as session:
        statuses = Counter(
            s for (s,) in session.execute(select(Outbox.status).where(Outbox.key.like("fault:%")))
        )
    print(
        f"\nkills {len(points)} at {points}; lost {len(lost)}; duplicated {duplicates}; "
        f"resumed after {resumed} restarts; rows claimed by the dead process at each kill "
        f"{stuck_after_restart}"
    )
    assert len(points) >= min(KILLS, 20) or delivered() >= MESSAGES
    assert lost == []
    assert duplicates <= len(points)
    assert statuses == {OutboxStatus.SENT: MESSAGES}, statuses
    assert "Traceback" not in proc.log(), proc.log()[-3000:]
