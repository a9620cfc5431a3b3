"""Property tests: arbitrary text and callback data at every step of logging a meeting.

Whatever a person types or whatever callback data a (modified) client sends, at any step: no
unhandled exception, an answer (a message, or the button's spinner stopped), no meeting saved
half-way. ``CHIBO_PROPERTY_EXAMPLES`` sets the examples per property (fewer in CI, never 0).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from domain.clock import ManualClock
from storage.db import Database
from storage.models import Draft, Meeting
from tests.auxil.botkit import BotKit

EXAMPLES = max(int(os.environ.get("CHIBO_PROPERTY_EXAMPLES", "40")), 5)
STEPS = [
    ("mtg:kind:", ":regular"),
    ("mtg:dur:", ":90"),
    ("mtg:date:", ":20261116"),
    ("mtg:attok:", ""),
    ("mtg:gok:", ""),
    ("mtg:cok:", ""),
]
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Session:
    """One bot on the in-process double, reused across examples (each resets the draft)."""

    def __init__(self, db: Database, clock: ManualClock) -> None:
        self.loop = asyncio.new_event_loop()
        self.kit: BotKit = self.loop.run_until_complete(BotKit.start(db, clock))
        self.uid = self.kit.uid("bt_bv")
        self.person = self.kit.khoi.users["bt_bv"].person_id

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.kit.stop())
        self.loop.close()

    async def at_step(self, n: int) -> None:
        """Start a fresh meeting and walk ``n`` steps into it."""
        with self.kit.db.transaction() as s:
            s.execute(delete(Draft).where(Draft.person_id == self.person))
        await self.kit.driver.send(self.uid, "/meeting")
        for prefix, suffix in STEPS[:n]:
            mid, data = self.button(
                lambda d, p=prefix, x=suffix: d.startswith(p) and d.endswith(x)
            )
            await self.kit.driver.press_data(self.uid, mid, data)

    def button(self, match: Any) -> tuple[int, str]:
        for msg in reversed(self.kit.fake.bot_messages(self.uid)):
            for _label, data in self.kit.fake.buttons(msg):
                if data and match(data):
                    return msg.message_id, data
        raise AssertionError(f"no such button in {self.kit.fake.last_message(self.uid)}")

    def meetings(self) -> int:
        with self.kit.db.transaction() as s:
            return int(s.scalar(select(func.count(Meeting.id))) or 0)


@pytest.fixture
def session(db: Database, clock: ManualClock) -> Iterator[Session]:
    s = Session(db, clock)
    try:
        yield s
    finally:
        s.close()


typed = st.text(min_size=1, max_size=300).filter(lambda t: t.strip() != "")
# Callback data: anything up to Telegram's 64 bytes, and look-alikes of chibo's own.
callback = st.one_of(
    st.text(max_size=64).filter(lambda t: len(t.encode()) <= 64),
    st.builds(
        lambda action, draft, arg: f"mtg:{action}:{draft}:{arg}"[:64],
        st.sampled_from(["kind", "dur", "date", "abs", "attok", "gok", "cok", "save", "go", "x"]),
        st.one_of(st.integers(-(2**63), 2**63), st.text(max_size=10)),
        st.text(max_size=12),
    ),
)


@PROFILE
@given(step=st.integers(0, len(STEPS)), text=typed)
def test_any_text_at_any_step(session: Session, step: int, text: str) -> None:
    session.run(session.at_step(step))
    answered = session.run(session.kit.driver.send(session.uid, text))  # raises on a handler error
    assert answered, f"no answer to {text!r} at step {step}"
    assert session.meetings() == 0


@PROFILE
@given(step=st.integers(0, len(STEPS)), data=callback)
def test_any_callback_data_at_any_step(session: Session, step: int, data: str) -> None:
    session.run(session.at_step(step))
    fake = session.kit.fake
    mid, real = session.button(lambda d: d.startswith("mtg:"))
    update = fake.user_presses(session.uid, mid, real)
    update["callback_query"]["data"] = data  # what a modified client could send
    session.run(session.kit.driver.feed(update))  # raises on a handler error
    assert fake.unanswered_callback_queries() == [], f"spinner left for {data!r}"
    if not data.startswith("mtg:save:"):
        assert session.meetings() == 0
