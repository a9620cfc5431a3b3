"""Property tests for every conversation besides /meeting (see test_properties.py for it):
/review, /commitments, /model, /report, /candidates and /enterprises.

Each example starts the flow afresh, walks into it at random (presses any of the buttons
shown, or types a plausible answer: a name, a date, a number), so that it ends in any of the
flow's states, then feeds one arbitrary input: text, a document (any name and caption, secrecy
marks included) or callback data (anything up to 64 bytes, or one of the flow's own buttons
with a part replaced). Whatever arrives:

* no unhandled exception (the driver re-raises a handler's error);
* an answer: a message for text and files, the spinner stopped for a button;
* a reply in the person's language (Vietnamese or English, drawn per example);
* no partial record: when a record changed, its audit row was written in the same step;
* a document marked secret is refused, deleted, and nothing of it is kept.

``CHIBO_PROPERTY_EXAMPLES`` sets the examples (each flow and input gets a sixth of it, at
least 5); the walks themselves press hundreds of buttons per run.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from bot.testing.telegram_double import FakeMessage
from domain.clock import ManualClock
from domain.rules.meetings import is_marked_secret
from handlers import flows
from storage.db import Database
from storage.models import Base, Draft, Person
from tests.auxil.botkit import BotKit

EXAMPLES = max(int(os.environ.get("CHIBO_PROPERTY_EXAMPLES", "40")) // 6, 5)
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Flow → (who runs it, the command that starts it).
FLOWS: dict[str, tuple[str, str]] = {
    "review": ("bt_bv", "/review"),
    "commitments": ("bt_bv", "/commitments"),
    "model": ("bt_bv", "/model"),
    "report": ("bt_bv", "/report"),
    "candidates": ("bt_bv", "/candidates"),
    "enterprises": ("to_chuc", "/enterprises"),
}
#: Typed answers that move a flow on (names, dates, numbers, short notes).
PLAUSIBLE = [
    "Nguyễn Thị Hoa",
    "Công ty TNHH Minh Phát",
    "16/11/2026",
    "01/03/2026",
    "15/05/1995",
    "3",
    "8",
    "Tham gia đầy đủ, hoàn thành nhiệm vụ",
]
#: Tables whose rows a step may change without an audit row (progress, queues, leases).
UNAUDITED = {"drafts", "audit_log", "outbox", "leases", "settings", "notices", "snoozes"}
VIETNAMESE = re.compile(
    r"[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]"
)


#: States reached and button families pressed by the walks (``CHIBO_PROPERTY_STATES=1``
#: prints the states).
REACHED: set[str] = set()
PRESSED: set[str] = set()


def _family(data: str) -> str:
    return re.sub(r"\d+", "#", data)


class Session:
    """One bot on the in-process double, reused across the examples of a test."""

    def __init__(self, db: Database, clock: ManualClock) -> None:
        self.loop = asyncio.new_event_loop()
        self.kit: BotKit = self.loop.run_until_complete(BotKit.start(db, clock))

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.kit.stop())
        self.loop.close()

    async def into(self, flow: str, lang: str, walk: list[int]) -> int:
        """Start ``flow`` afresh in ``lang`` and walk into it; returns the person's chat.

        Each move types a plausible answer where the flow waits for typed text, else presses
        a button, preferring families of buttons no walk has pressed yet (so the examples
        spread over the flow's states rather than circling its first screen)."""
        key, command = FLOWS[flow]
        uid = self.kit.uid(key)
        person = self.kit.khoi.users[key].person_id
        with self.kit.db.transaction() as s:
            s.execute(delete(Draft).where(Draft.person_id == person))
            s.execute(update(Person).where(Person.id == person).values(locale=lang))
        self.kit.fake.user(uid).language_code = lang
        await self.kit.driver.send(uid, command)
        for move in walk:
            state = self.note(flow, person)
            engine = flows.FLOWS.get(state.partition(":")[0]) if state else None
            shown = self.buttons(uid)
            if (
                engine is not None
                and state is not None
                and state.partition(":")[2] in engine.text_steps
                and (not shown or move % 4)
            ):  # answers until one is taken (a name, a date, a number…)
                for n in range(move, move + len(PLAUSIBLE)):
                    await self.kit.driver.send(uid, PLAUSIBLE[n % len(PLAUSIBLE)])
                    if self.note(flow, person) != state:
                        break
                continue
            if not shown:
                continue
            fresh = [b for b in shown if _family(b[1]) not in PRESSED] or shown
            mid, data = fresh[move % len(fresh)]
            PRESSED.add(_family(data))
            await self.kit.driver.press_data(uid, mid, data)
        self.note(flow, person)
        return uid

    def note(self, flow: str, person: int) -> str | None:
        """The person's conversation state (``flow:state``), noted as reached."""
        with self.kit.db.transaction() as s:
            state = s.scalar(
                select(Draft.flow + ":" + Draft.state).where(Draft.person_id == person)
            )
        REACHED.add(f"{flow} -> {state}")
        return state

    def buttons(self, uid: int) -> list[tuple[int, str]]:
        """The buttons of the newest bot message that has any."""
        for msg in reversed(self.kit.fake.bot_messages(uid)):
            found = [(msg.message_id, d) for _l, d in self.kit.fake.buttons(msg) if d]
            if found:
                return found
        return []

    def counts(self) -> dict[str, int]:
        with self.kit.db.transaction() as s:
            return {
                name: int(s.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in Base.metadata.tables.items()
            }


@pytest.fixture
def session(db: Database, clock: ManualClock) -> Iterator[Session]:
    s = Session(db, clock)
    try:
        yield s
    finally:
        s.close()
        if os.environ.get("CHIBO_PROPERTY_STATES"):
            print("\n" + "\n".join(sorted(REACHED)))


def no_partial_record(before: dict[str, int], after: dict[str, int]) -> None:
    """A record that changed came with its audit row (one transaction writes both)."""
    changed = {t for t in before if before[t] != after[t] and t not in UNAUDITED}
    if changed:
        assert after["audit_log"] > before["audit_log"], f"{changed} changed without an audit"


def in_language(replies: list[FakeMessage], lang: str) -> None:
    """Every reply speaks the person's language: Vietnamese has its letters, English never
    addresses the person as "Đồng chí"."""
    for msg in replies:
        text = msg.text or ""
        if not text or msg.has_media:
            continue  # documents are in Vietnamese by design (their caption names the data)
        if lang == "vi":
            assert VIETNAMESE.search(text), f"not Vietnamese: {text[:200]!r}"
        else:
            assert "Đồng chí" not in text and "vui lòng" not in text, f"not English: {text!r}"


walks = st.lists(st.integers(0, 50), max_size=10)
langs = st.sampled_from(["vi", "en"])
typed = st.text(min_size=1, max_size=300).filter(lambda t: t.strip() != "")
MARKS = ["Mật", "MẬT", "Tối mật", "tuyệt mật", "M\u200bật", "ＭẬＴ", "mat", "Mật khẩu"]
file_texts = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda a, m, b: f"{a}{m}{b}",
        st.text(max_size=20),
        st.sampled_from(MARKS),
        st.text(max_size=20),
    ),
)


def _mutate(real: str, part: int, value: str) -> str:
    pieces = real.split(":")
    pieces[part % len(pieces)] = value
    return ":".join(pieces)[:64]


forged_parts = st.one_of(
    st.integers(-(2**63), 2**70).map(str), st.text(max_size=12), st.just(""), st.just("0")
)


@pytest.mark.parametrize("flow", list(FLOWS))
@PROFILE
@given(lang=langs, walk=walks, text=typed)
def test_any_text_in_any_state(
    session: Session, flow: str, lang: str, walk: list, text: str
) -> None:
    uid = session.run(session.into(flow, lang, walk))
    before = session.counts()
    replies = session.run(session.kit.driver.send(uid, text))  # raises on a handler error
    assert replies, f"no answer to {text!r} in {flow}"
    in_language(replies, lang)
    no_partial_record(before, session.counts())


@pytest.mark.parametrize("flow", list(FLOWS))
@PROFILE
@given(lang=langs, walk=walks, name=file_texts, caption=st.one_of(st.none(), file_texts))
def test_any_document_in_any_state(
    session: Session, flow: str, lang: str, walk: list, name: str, caption: str | None
) -> None:
    uid = session.run(session.into(flow, lang, walk))
    before = session.counts()
    fake = session.kit.fake
    replies = session.run(
        session.kit.driver.send_document(uid, name or "file", b"%PDF-1.4", caption=caption)
    )
    assert replies, f"no answer to a document {name!r} in {flow}"
    in_language(replies, lang)
    after = session.counts()
    no_partial_record(before, after)
    if is_marked_secret(name or "file", caption):
        sent = [m for m in fake.messages(uid, include_deleted=True) if not m.from_bot]
        assert sent[-1].deleted, "a secret document left in the chat"
        assert before == after, "something of a secret document was kept"
        assert any("⛔" in (m.text or "") for m in replies)


@pytest.mark.parametrize("flow", list(FLOWS))
@PROFILE
@given(
    lang=langs,
    walk=walks,
    pick=st.integers(0, 50),
    part=st.integers(0, 6),
    value=forged_parts,
    anything=st.one_of(st.none(), st.text(max_size=64).filter(lambda t: len(t.encode()) <= 64)),
)
def test_any_callback_data_in_any_state(
    session: Session,
    flow: str,
    lang: str,
    walk: list,
    pick: int,
    part: int,
    value: str,
    anything: str | None,
) -> None:
    uid = session.run(session.into(flow, lang, walk))
    shown = session.buttons(uid)
    if not shown:
        return
    mid, real = shown[pick % len(shown)]
    data = anything if anything is not None else _mutate(real, part, value)
    fake = session.kit.fake
    before = session.counts()
    pressed = fake.user_presses(uid, mid, real)
    pressed["callback_query"]["data"] = data  # what a modified client could send
    mark = fake.activity_mark()
    session.run(session.kit.driver.feed(pressed))  # raises on a handler error
    assert fake.unanswered_callback_queries() == [], f"spinner left for {data!r} in {flow}"
    in_language(fake.activity_since(mark, uid), lang)
    no_partial_record(before, session.counts())
