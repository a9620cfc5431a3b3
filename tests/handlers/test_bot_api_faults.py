"""Telegram misbehaving on every Bot API method a conversation uses: 429 with retry_after,
500, 502, timeouts before and after the request reached Telegram, dropped connections.

The bot runs with the production rate limiter on the in-process double behind a transport
that fails calls on purpose. The secretary keeps going as a person would (presses again, or
types /meeting and continues). No handler crashes the bot, the meeting is saved once, and she
gets her answer once Telegram recovers.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from telegram.error import NetworkError, TimedOut
from telegram.ext import Application

from bot.app import build_application
from bot.testing.driver import InProcessDriver
from bot.testing.request import FakeTelegramRequest
from bot.testing.telegram_double import FakeTelegram
from domain.clock import ManualClock
from storage.db import Database
from storage.demo_seed import seed_demo
from storage.models import Meeting
from tests.auxil.botkit import TOKEN
from tests.auxil.botkit import test_settings as make_settings

KINDS = ["429", "500", "502", "timeout-before", "timeout-after", "dropped"]
METHODS = ["sendmessage", "editmessagetext", "answercallbackquery"]


def _body(status: int, description: str, **extra: Any) -> bytes:
    import json

    return json.dumps(
        {"ok": False, "error_code": status, "description": description, **extra}
    ).encode()


class FlakyTelegram(FakeTelegramRequest):
    """Fails the watched methods' calls, cycling through the fault kinds, until each method has
    had every kind ``rounds`` times; then Telegram is well again."""

    def __init__(self, fake: FakeTelegram, rounds: int) -> None:
        super().__init__(fake)
        self.plan = {m: itertools.cycle(KINDS) for m in METHODS}
        self.left = {m: rounds * len(KINDS) for m in METHODS}
        self.calls: Counter[str] = Counter()
        self.faults: Counter[tuple[str, str]] = Counter()
        self.armed = False

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        api = unquote(urlsplit(url).path).rpartition("/")[2].lower()
        self.calls[api] += 1
        if not self.armed or api not in self.plan or self.left[api] <= 0:
            return await super().do_request(url, method, *args, **kwargs)
        self.left[api] -= 1
        kind = next(self.plan[api])
        self.faults[(api, kind)] += 1
        if kind == "429":
            return 429, _body(
                429, "Too Many Requests: retry after 1", parameters={"retry_after": 1}
            )
        if kind == "500":
            return 500, _body(500, "Internal Server Error")
        if kind == "502":
            return 502, _body(502, "Bad Gateway")
        if kind == "timeout-before":
            raise TimedOut("Pool timeout: the request never left")
        if kind == "timeout-after":
            await super().do_request(url, method, *args, **kwargs)  # Telegram applied it
            raise TimedOut("Timed out reading the answer")
        raise NetworkError("httpx.RemoteProtocolError: Server disconnected")


STEPS = [
    ("mtg:kind:", ":regular"),
    ("mtg:dur:", ":90"),
    ("mtg:date:", ":20261116"),
    ("mtg:attok:", ""),
    ("mtg:gok:", ""),
    ("mtg:cok:", ""),
    ("mtg:save:", ""),
]


async def test_faults_on_every_method_crash_nothing_and_apply_nothing_twice(
    db: Database, clock: ManualClock
) -> None:
    fake = FakeTelegram(token=TOKEN, bot_username="chibo_test_bot", clock=clock.now)
    with db.transaction() as session:
        khoi = seed_demo(session, now=clock.now())
    uid = khoi.users["bt_bv"].telegram_user_id
    fake.add_user(uid, first_name="Tâm", language_code="vi")
    flaky = FlakyTelegram(fake, rounds=1)
    app: Application = build_application(
        make_settings(), db, clock=clock, request=flaky, rate_limiter=True, jobs=False
    )
    await app.initialize()
    driver = InProcessDriver(fake, app, raise_errors=False)
    flaky.armed = True

    def meetings() -> int:
        with db.transaction() as s:
            return int(s.scalar(select(func.count(Meeting.id))) or 0)

    try:
        await driver.send(uid, "/meeting")
        seen: Any = None
        turns = Counter[str]()
        for _turn in range(120):
            if meetings():
                break
            msg = next(
                (
                    m
                    for m in reversed(fake.bot_messages(uid))
                    if any(d and d.startswith(("mtg:", "resume:")) for _l, d in fake.buttons(m))
                ),
                None,
            )
            buttons = [d for _l, d in fake.buttons(msg) if d] if msg else []
            state = (
                None
                if msg is None
                else (msg.message_id, msg.edited_count, len(fake.messages(uid)))
            )
            pick = None
            for prefix, suffix in reversed(STEPS):
                pick = next(
                    (d for d in buttons if d.startswith(prefix) and d.endswith(suffix)), None
                )
                if pick:
                    break
            if pick is None:  # "Continue" carries the conversation's key: resume:go:<key>
                pick = next((d for d in buttons if d.startswith("resume:go:")), None)
            if pick is not None and state != seen:
                assert msg is not None
                seen = state
                turns["press"] += 1
                await driver.press_data(uid, msg.message_id, pick)
            else:
                seen = None
                turns["/meeting"] += 1
                await driver.send(uid, "/meeting")
        assert meetings() == 1, fake.last_message(uid)
        # Once Telegram is well again the secretary sees the confirmation.
        assert any("Đã lưu" in (m.text or "") for m in fake.bot_messages(uid))
        # Every fault kind hit every method the conversation uses.
        for api in METHODS:
            for kind in KINDS:
                assert flaky.faults[(api, kind)] >= 1, (api, kind, flaky.faults)
        # Handler errors were Telegram's (answered by the bot's error handler), never the bot's.
        assert all(isinstance(e, NetworkError) for e in driver.errors), driver.errors
        print(f"\nfaults {sum(flaky.faults.values())} {dict(flaky.faults)}; turns {dict(turns)}")
        assert meetings() == 1
    finally:
        await app.shutdown()
