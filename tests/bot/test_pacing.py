"""Replies go first; the reminder fan-out paces itself so Telegram never answers 429.

Time is simulated: the pacer, the sender and the Bot API double share one fake clock that
moves only when someone waits, so the tests are exact and take no real time.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

from domain.settings import Settings
from services.pacing import BACKGROUND_PER_SECOND, OVERALL_PER_SECOND, PacedRateLimiter, Pacer
from services.scheduler import render_rows
from services.sender import Sender
from storage import outbox
from storage.models import Person

SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    TELEGRAM_BOT_TOKEN="123456:TEST-token-abcdefghijklmnopqrstu",
    DATABASE_URL="sqlite://",
    CHIBO_QUIET_START=0,
    CHIBO_QUIET_END=0,
)


class FakeTime:
    """Monotonic seconds that advance only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _enqueue(kit: Any, people: int, per_person: int, start: int = 700_000) -> list[int]:
    chats = []
    with kit.db.transaction() as session:
        persons = []
        for i in range(people):
            uid = start + i
            person = Person(
                display_name=f"Người {i}",
                telegram_user_id=uid,
                created_at=kit.clock.now(),
                started_at=kit.clock.now(),
            )
            session.add(person)
            session.flush()
            kit.fake.add_user(uid, first_name=f"N{i}")
            persons.append(person)
            chats.append(uid)
        for j in range(per_person):  # notice 1 to everyone, then notice 2, …
            for person in persons:
                uid = person.telegram_user_id
                outbox.enqueue(
                    session,
                    key=f"bulk:{uid}:{j}",
                    person_id=person.id,
                    kind="notice",  # one message per row: several to the same person
                    payload={"msgid": "Hello, {name}!", "params": {"name": str(j)}},
                    not_before=kit.clock.now(),
                    now=kit.clock.now(),
                )
    return chats


def _strict(kit: Any, time: FakeTime) -> None:
    kit.fake.rate_limits = True
    kit.fake._monotonic = time


async def test_the_fan_out_draws_no_429_and_stays_within_every_window(bot) -> None:
    time = FakeTime()
    _strict(bot, time)
    sends: list[tuple[float, int]] = []
    pacer = Pacer(monotonic=time, sleep=time.sleep)
    record = pacer.record

    def spy(chat_id: object) -> None:
        sends.append((time.now, int(chat_id)))  # type: ignore[call-overload]
        record(chat_id)

    pacer.record = spy  # type: ignore[method-assign]
    chats = _enqueue(bot, people=20, per_person=4)
    start = time.now
    stats = await Sender(
        bot.db,
        bot.app.bot,
        clock=bot.clock,
        settings=SETTINGS,
        render=lambda rows, at: render_rows(rows, settings=SETTINGS, now=at),
        worker="a",
        sleep=time.sleep,
        pacer=pacer,
    ).drain()
    assert stats.messages == 80 and stats.flood_waits == 0
    assert bot.fake.rate_limited == 0
    assert [len(bot.fake.bot_messages(c)) for c in chats] == [4] * 20
    # Never more than the fan-out's share in any one-second window …
    times = [t for t, _ in sends]
    assert max(sum(1 for u in times if t - 1.0 < u <= t) for t in times) <= BACKGROUND_PER_SECOND
    # … one a second per person …
    by_chat: dict[int, list[float]] = {}
    for t, chat in sends:
        by_chat.setdefault(chat, []).append(t)
    assert min(b - a for ts in by_chat.values() for a, b in itertools.pairwise(ts)) >= 1.0
    # … and no slower than those limits make it: four rounds a second and more apart.
    assert time.now - start < 4 * 1.1 + 1


async def test_a_reply_does_not_wait_behind_the_fan_out(bot) -> None:
    time = FakeTime()
    _strict(bot, time)
    limiter = PacedRateLimiter(Pacer(monotonic=time, sleep=time.sleep))
    bot.app.bot._rate_limiter = limiter  # the Application's limiter, as bot.app builds it
    pacer = limiter.pacer
    for chat in range(BACKGROUND_PER_SECOND):  # the fan-out has used its whole share
        await pacer.broadcast(800_000 + chat)
    assert pacer.wait_time(900_000, background=True) > 0
    assert pacer.wait_time(bot.uid("bt_vp")) == 0
    await bot.app.bot.send_message(bot.uid("bt_vp"), "trả lời")
    assert time.slept == []  # the reply went at once
    assert bot.fake.last_message(bot.uid("bt_vp")).text == "trả lời"


async def test_a_reply_waiting_for_the_overall_limit_goes_before_the_fan_out() -> None:
    time = FakeTime()
    woken = asyncio.Event()

    async def sleep(seconds: float) -> None:  # waits until the test moves time on
        await woken.wait()
        time.now += seconds
        await asyncio.sleep(0)  # let the other waiter run

    pacer = Pacer(monotonic=time, sleep=sleep)
    for chat in range(OVERALL_PER_SECOND - 1):  # the window is full for replies too
        pacer.record(800_000 + chat)
    order: list[str] = []

    async def reply() -> None:
        await pacer.reply(1)
        order.append("reply")

    async def broadcast() -> None:
        await pacer.broadcast(2)
        order.append("broadcast")

    broadcasting = asyncio.create_task(broadcast())
    await asyncio.sleep(0)  # the fan-out waits for the window first …
    replying = asyncio.create_task(reply())
    await asyncio.sleep(0)  # … then a reply
    time.now += 5  # both could go now: the reply goes first
    assert pacer.wait_time(2, background=True) == 0
    woken.set()
    await asyncio.gather(replying, broadcasting)
    assert order == ["reply", "broadcast"]


async def test_the_application_paces_replies_only_when_telegram_would_refuse(bot) -> None:
    time = FakeTime()
    _strict(bot, time)
    limiter = PacedRateLimiter(Pacer(monotonic=time, sleep=time.sleep))
    bot.app.bot._rate_limiter = limiter
    chat = bot.uid("bt_vp")
    for i in range(5):  # a burst of five replies to one person: three, then one a second
        await bot.app.bot.send_message(chat, f"tin {i}")
    assert bot.fake.rate_limited == 0
    assert len(bot.fake.bot_messages(chat)) == 5
    assert 0 < sum(time.slept) < 4
    # Edits and callback answers are not messages: never paced.
    slept = list(time.slept)
    message = bot.fake.bot_messages(chat)[-1]
    for i in range(10):
        await bot.app.bot.edit_message_text(f"sửa {i}", chat, message.message_id)
    assert time.slept == slept
    assert Counter(m for m, _ in bot.fake.calls)["editMessageText"] == 10
