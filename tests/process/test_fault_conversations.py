"""SIGKILL at random points while 20 secretaries log their meetings (webhook mode).

The test plays Telegram: an update whose POST was not answered (the process died) is delivered
again to the restarted process. Every secretary finishes — continuing from the old buttons or,
when the step's message was never edited before the kill, through /meeting → "Continue" — and
every cell ends with exactly one meeting, nothing half-written.
"""

from __future__ import annotations

import asyncio
import os
import random
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import func, select

from domain.clock import SystemClock
from domain.text import fold
from storage.models import Draft, Meeting, Organization, OrgKind, Person, Role, RoleAssignment
from tests.process.test_production import SECRET, World, free_port, world  # noqa: F401

KILLS = int(os.environ.get("CHIBO_FAULT_KILLS", "20"))
PEOPLE = 20


def _cells(w: World) -> list[tuple[int, int]]:
    """``PEOPLE`` cells without members, each with its secretary: (org id, chat id)."""
    now = SystemClock().now()
    out = []
    with w.db.transaction() as s:
        for i in range(PEOPLE):
            org = Organization(
                code=f"CBK{i:02d}",
                name=f"Chi bộ Kiểm thử {i}",
                name_folded=fold(f"Chi bộ Kiểm thử {i}"),
                kind=OrgKind.GRASSROOTS_CELL,
                parent_id=w.khoi.top_id,
                created_at=now,
                updated_at=now,
            )
            s.add(org)
            s.flush()
            chat = 60_000 + i
            person = Person(display_name=f"Bí thư {i}", telegram_user_id=chat, created_at=now)
            s.add(person)
            s.flush()
            s.add(
                RoleAssignment(
                    person_id=person.id,
                    org_id=org.id,
                    role=Role.SECRETARY,
                    granted_at=now,
                    granted_by="t",
                )
            )
            out.append((org.id, chat))
    for _org, chat in out:
        w.fake.add_user(chat, first_name=f"BT{chat}", language_code="vi")
    return out


class Telegram:
    """Delivers updates to the webhook until one is answered, across restarts."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/hook"
        self.generation = 0
        self.changed = asyncio.Condition()
        self.answered = 0
        self.redelivered = 0

    async def bump(self) -> None:
        async with self.changed:
            self.generation += 1
            self.changed.notify_all()

    async def deliver(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        while True:
            generation = self.generation
            try:
                async with http.post(self.url, json=update, headers=headers) as response:
                    if response.status == 200:
                        async with self.changed:
                            self.answered += 1
                            self.changed.notify_all()
                        return
            except aiohttp.ClientError:
                pass
            self.redelivered += 1
            async with self.changed:
                await asyncio.wait_for(
                    self.changed.wait_for(lambda g=generation: self.generation > g), 120
                )


STEPS = [
    ("mtg:kind:", ":regular"),
    ("mtg:dur:", ":90"),
    ("mtg:date:", None),  # today's, filled in below
    ("mtg:attok:", ""),
    ("mtg:gok:", ""),
    ("mtg:cok:", ""),
    ("mtg:save:", ""),
]


def _met(w: World, org: int) -> int:
    with w.db.transaction() as s:
        return int(s.scalar(select(func.count(Meeting.id)).where(Meeting.org_id == org)) or 0)


async def _secretary(w: World, tg: Telegram, http: Any, org: int, chat: int, stats: dict) -> None:
    today = f":{datetime.now(ZoneInfo('Asia/Ho_Chi_Minh')):%Y%m%d}"
    steps = [(p, today if s is None else s) for p, s in STEPS]
    await tg.deliver(http, w.fake.user_sends_text(chat, "/meeting"))
    seen_before: Any = None
    for _turn in range(60):
        if _met(w, org):
            return
        # The newest message of the conversation (reminders may arrive in between).
        msg = next(
            (
                m
                for m in reversed(w.fake.bot_messages(chat))
                if any(d and d.startswith(("mtg:", "resume:")) for _l, d in w.fake.buttons(m))
            ),
            None,
        )
        buttons = [d for _l, d in w.fake.buttons(msg) if d] if msg is not None else []
        count = len(w.fake.messages(chat))
        state = None if msg is None else (msg.message_id, msg.edited_count, count)
        pick = None
        for prefix, suffix in reversed(steps):
            pick = next((d for d in buttons if d.startswith(prefix) and d.endswith(suffix)), None)
            if pick:
                break
        if pick is None:
            # "Continue" carries the conversation's key: resume:go:<key>.
            pick = next((d for d in buttons if d.startswith("resume:go:")), None)
            stats["resumed"] += pick is not None
        if pick is not None and state != seen_before:
            assert msg is not None
            seen_before = state
            await tg.deliver(http, w.fake.user_presses(chat, msg.message_id, pick))
        else:
            # The button did nothing (its step was saved, the new screen never shown before the
            # kill) or there is none: the person asks again, and is offered to continue.
            stats["restarted_by_command"] += 1
            seen_before = None
            await tg.deliver(http, w.fake.user_sends_text(chat, "/meeting"))
    log = w.procs[-1].log()[-4000:]
    raise AssertionError(f"secretary {chat} did not finish: {w.fake.last_message(chat)}\n{log}")


async def test_sigkill_at_random_points_while_20_people_log_meetings(world: World) -> None:  # noqa: F811
    rng = random.Random(7)
    cells = _cells(world)
    port = free_port()
    proc = world.process(
        "a",
        CHIBO_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        CHIBO_WEBHOOK_PORT=str(port),
        CHIBO_WEBHOOK_SECRET=SECRET,
    )
    tg = Telegram(port)

    async def started() -> None:
        world.fake.webhook_url = ""
        proc.start()
        while not world.fake.webhook_url:
            await world.fake.wait_for_activity(0.5)
        await tg.bump()

    await started()
    stats = {"resumed": 0, "restarted_by_command": 0}
    async with aiohttp.ClientSession() as http:
        people = asyncio.gather(
            *(_secretary(world, tg, http, org, chat, stats) for org, chat in cells)
        )
        kills = 0
        while kills < KILLS and not people.done():
            target = tg.answered + rng.randint(1, 8)
            async with tg.changed:
                await asyncio.wait_for(
                    tg.changed.wait_for(lambda t=target: tg.answered >= t or people.done()),
                    120,
                )
            if people.done():
                break
            proc.kill()
            kills += 1
            await started()
        await asyncio.wait_for(people, 300)
    proc.stop()

    per_cell = [_met(world, org) for org, _chat in cells]
    with world.db.transaction() as s:
        chats = [chat for _o, chat in cells]
        left = s.scalar(
            select(func.count(Draft.id))
            .join(Person, Person.id == Draft.person_id)
            .where(Person.telegram_user_id.in_(chats))
        )
    print(
        f"\nkills {kills}; updates answered {tg.answered}, redelivered {tg.redelivered}; "
        f"resumed with Continue {stats['resumed']}, /meeting again {stats['restarted_by_command']}"
    )
    assert kills >= min(KILLS, 20), kills
    assert per_cell == [1] * PEOPLE  # every meeting saved once: none lost, none twice
    assert left == 0  # no conversation left half-way
    assert "Traceback" not in proc.log(), proc.log()[-3000:]
