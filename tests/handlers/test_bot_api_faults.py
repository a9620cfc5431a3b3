"""Telegram misbehaving on every Bot API method the bot uses: 429 with retry_after, 500, 502,
timeouts before and after the request reached Telegram, dropped connections.

The bot runs with the production rate limiter on the in-process double behind a transport
that fails calls on purpose (the limiter's clock is virtual, so a ``retry_after`` costs no real
time). People keep going as people would (press again, or type the command again). For every
method and every fault: no handler crashes the bot (the only errors are Telegram's, answered by
the bot's error handler), nothing is applied twice, the person gets the answer once Telegram
recovers, and a read-only answer (a document, a chart) never speaks of saving.

The methods and where they are called (``grep -rn "bot\\.\\|query\\.\\|msg\\." handlers/``):

* ``sendMessage``, ``editMessageText``, ``answerCallbackQuery``: every conversation
  (:func:`test_faults_on_every_method_crash_nothing_and_apply_nothing_twice`);
* ``sendDocument``, ``sendPhoto``: /summary's Excel, Word, chart and plan roll-up, /report's
  .docx, a saved meeting's minutes
  (:func:`test_documents_and_charts_arrive_once_and_never_speak_of_saving`);
* minutes uploaded as a document: the bot keeps Telegram's ``file_id`` and never calls
  ``getFile`` (:func:`test_minutes_uploaded_while_replies_fail_are_kept_once`);
* ``setMyCommands``, ``deleteMyCommands``: the default menu at start-up and each person's menu
  (:func:`test_command_menus_are_set_once_telegram_recovers`);
* ``editMessageReplyMarkup``: the "did the meeting consider the sympathizer list?" question
  (:func:`test_the_sympathizer_question_is_recorded_once_whatever_the_edit_does`);
* ``deleteMessage``: a document marked secret
  (:func:`test_a_secret_document_is_refused_whatever_telegram_does`);
* ``getMe`` and ``setWebhook`` at start-up
  (:func:`test_start_up_waits_for_telegram_instead_of_crashing`).

The reminder sender's ``sendMessage`` has its own fault tests in tests/process/test_delivery.py.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter, deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import func, select, update
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.ext import Application

from bot.app import build_application, start_up
from bot.testing.driver import InProcessDriver
from bot.testing.request import FakeTelegramRequest
from bot.testing.telegram_double import FakeMessage, FakeTelegram
from domain.access import default_menu, menu_for
from domain.clock import ManualClock
from domain.i18n import translator
from handlers import common
from services.pacing import Pacer
from storage import orgs, people
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.models import (
    AuditLog,
    CandidateConsideration,
    Draft,
    Meeting,
    Person,
    Role,
    RoleAssignment,
)
from tests.auxil.botkit import TOKEN, BotKit
from tests.auxil.botkit import test_settings as make_settings

KINDS = ["429", "500", "502", "timeout-before", "timeout-after", "dropped"]
#: Every fault on every target, the documents built for the occasion included (slow: about a
#: minute); by default those get two faults each and the cheap targets all six.
FULL = os.environ.get("CHIBO_FAULTS_FULL", "") not in ("", "0")
METHODS = ["sendmessage", "editmessagetext", "answercallbackquery"]
VI = translator("vi")
#: What the error handler says; a read-only answer must never say either.
SAID_SAVED = VI.gettext(
    "✅ That step was saved, but Telegram failed to show my reply. Here is where you are now:"
)
SAID_NOT_SAVED = VI.gettext(
    "Sorry, something went wrong and nothing was saved from that step. "
    "Please try again; if it happens again, tell your office."
)
SAID_RETRY = VI.gettext("Sorry, Telegram failed to deliver my answer. Please try again.")


def _body(status: int, description: str, **extra: Any) -> bytes:
    import json

    return json.dumps(
        {"ok": False, "error_code": status, "description": description, **extra}
    ).encode()


class FlakyTelegram(FakeTelegramRequest):
    """Fails the next calls of the armed methods, one fault kind per call, then lets calls
    through: Telegram is well again."""

    def __init__(self, fake: FakeTelegram) -> None:
        super().__init__(fake)
        self.plan: dict[str, deque[str]] = {}
        self.calls: Counter[str] = Counter()
        self.faults: Counter[tuple[str, str]] = Counter()

    def arm(self, method: str, *kinds: str) -> None:
        """Fail the next ``len(kinds)`` calls of ``method`` with these faults, in order."""
        self.plan.setdefault(method.lower(), deque()).extend(kinds)

    def armed(self) -> int:
        """Faults not yet spent."""
        return sum(len(q) for q in self.plan.values())

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        api = unquote(urlsplit(url).path).rpartition("/")[2].lower()
        self.calls[api] += 1
        queue = self.plan.get(api)
        if not queue:
            return await super().do_request(url, method, *args, **kwargs)
        kind = queue.popleft()
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


class VirtualTime:
    """A monotonic clock that moves only when someone sleeps on it: the production rate
    limiter and the double's flood windows share it, so a ``retry_after`` is honoured
    without waiting for real."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture
async def kit(db: Database, clock: ManualClock) -> AsyncIterator[tuple[BotKit, FlakyTelegram]]:
    """The demo Khối on the double behind a flaky transport, with the production limiter."""
    time = VirtualTime()
    fake = FakeTelegram(
        token=TOKEN, bot_username="chibo_test_bot", clock=clock.now, monotonic=time.monotonic
    )
    with db.transaction() as session:
        khoi: DemoKhoi = seed_demo(session, now=clock.now())
    for user in khoi.users.values():
        fake.add_user(user.telegram_user_id, first_name=user.name.split()[-1], language_code="vi")
    flaky = FlakyTelegram(fake)
    app: Application = build_application(
        make_settings(), db, clock=clock, request=flaky, rate_limiter=True, jobs=False
    )
    app.bot.rate_limiter.pacer = Pacer(monotonic=time.monotonic, sleep=time.sleep)  # type: ignore[union-attr]
    await app.initialize()
    bot = BotKit(fake, app, InProcessDriver(fake, app, raise_errors=False), db, clock, khoi)
    try:
        yield bot, flaky
    finally:
        await app.shutdown()


def only_telegram_failed(bot: BotKit) -> None:
    """Every handler error was Telegram's (answered by the error handler), never the bot's."""
    assert all(isinstance(e, TelegramError) for e in bot.driver.errors), bot.driver.errors


def said(messages: list[FakeMessage]) -> list[str]:
    return [m.text or "" for m in messages if m.text]


def button(bot: BotKit, uid: int, prefix: str) -> tuple[int, str] | None:
    """The newest button whose data starts with ``prefix``."""
    for msg in reversed(bot.fake.bot_messages(uid)):
        for _label, data in bot.fake.buttons(msg):
            if data and data.startswith(prefix):
                return msg.message_id, data
    return None


async def press(bot: BotKit, uid: int, prefix: str) -> list[FakeMessage]:
    found = button(bot, uid, prefix)
    assert found is not None, (prefix, bot.fake.last_message(uid))
    return await bot.driver.press_data(uid, *found)


def count(bot: BotKit, stmt: Any) -> int:
    with bot.db.transaction() as s:
        return int(s.scalar(stmt) or 0)


# --- Conversations: sendMessage, editMessageText, answerCallbackQuery ---------------------------


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
    kit: tuple[BotKit, FlakyTelegram],
) -> None:
    bot, flaky = kit
    fake = bot.fake
    uid = bot.uid("bt_bv")
    for api in METHODS:
        flaky.arm(api, *KINDS)

    def meetings() -> int:
        return count(bot, select(func.count(Meeting.id)))

    await bot.driver.send(uid, "/meeting")
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
            None if msg is None else (msg.message_id, msg.edited_count, len(fake.messages(uid)))
        )
        pick = None
        for prefix, suffix in reversed(STEPS):
            pick = next((d for d in buttons if d.startswith(prefix) and d.endswith(suffix)), None)
            if pick:
                break
        if pick is None:  # "Continue" carries the conversation's key: resume:go:<key>
            pick = next((d for d in buttons if d.startswith("resume:go:")), None)
        if pick is not None and state != seen:
            assert msg is not None
            seen = state
            turns["press"] += 1
            await bot.driver.press_data(uid, msg.message_id, pick)
        else:
            seen = None
            turns["/meeting"] += 1
            await bot.driver.send(uid, "/meeting")
    assert meetings() == 1, fake.last_message(uid)
    # Once Telegram is well again the secretary sees the confirmation.
    assert any("Đã lưu" in (m.text or "") for m in fake.bot_messages(uid))
    # Every fault kind hit every method the conversation uses.
    for api in METHODS:
        for kind in KINDS:
            assert flaky.faults[(api, kind)] >= 1, (api, kind, flaky.faults)
    only_telegram_failed(bot)
    print(f"\nfaults {sum(flaky.faults.values())} {dict(flaky.faults)}; turns {dict(turns)}")
    assert meetings() == 1


# --- Documents and charts: sendDocument, sendPhoto ---------------------------------------------


async def _fetch(
    bot: BotKit, flaky: FlakyTelegram, uid: int, prefix: str, method: str, kind: str
) -> tuple[list[FakeMessage], int]:
    """Press ``prefix`` with one ``kind`` fault armed on ``method``; press again (as a person
    would) until the file arrived. Returns what the bot sent meanwhile and the presses."""
    mark = bot.fake.activity_mark()
    flaky.arm(method, kind)
    presses = 0
    while presses < 3:
        presses += 1
        await press(bot, uid, prefix)
        if any(m.has_media for m in bot.fake.activity_since(mark, uid)):
            break
    assert flaky.armed() == 0
    return bot.fake.activity_since(mark, uid), presses


async def test_documents_and_charts_arrive_once_and_never_speak_of_saving(
    kit: tuple[BotKit, FlakyTelegram],
) -> None:
    bot, flaky = kit
    leader, secretary = bot.uid("lanh_dao"), bot.uid("bt_bv")
    # Two saved meetings, their minutes kept as a file and as a photo, to fetch again.
    await bot.driver.send(secretary, "/meeting")
    for prefix, _suffix in STEPS[:5]:
        await press(bot, secretary, prefix)
    await bot.driver.send_document(secretary, "Bien ban thang 11.pdf", b"%PDF-1.4 minutes")
    for prefix in ("mtg:cok:", "mtg:save:", "mtg:open:"):
        await press(bot, secretary, prefix)
    await bot.driver.send(secretary, "/meeting")
    kinds = button(bot, secretary, "mtg:kind:")
    assert kinds is not None
    await bot.driver.press_data(secretary, kinds[0], kinds[1].rpartition(":")[0] + ":thematic")
    await bot.driver.send(secretary, "Học tập chuyên đề năm 2026")
    for prefix, _suffix in STEPS[1:5]:
        await press(bot, secretary, prefix)
    await bot.driver.send_photo(secretary, b"\xff\xd8\xff minutes", caption="Biên bản")
    for prefix in ("mtg:cok:", "mtg:save:", "mtg:open:"):
        await press(bot, secretary, prefix)
    with bot.db.transaction() as s:
        kept = {m.minutes_file_id.partition(":")[0]: m.id for m in s.scalars(select(Meeting))}
    assert set(kept) == {"photo", "document"}, kept
    await bot.driver.send(leader, "/summary")
    await bot.driver.press(leader, "Năm")
    await bot.driver.send(secretary, "/report 2026-Q4")

    # Every fault on each method; on the documents built for the occasion (slow), two each.
    targets = [
        (leader, "sum:x:", "senddocument", "export_x", KINDS[0:2]),  # the Excel workbook
        (leader, "sum:d:", "senddocument", "export_d", KINDS[2:4]),  # the Word report
        (leader, "sum:pr:", "senddocument", None, KINDS[4:6]),  # the plans' roll-up
        (secretary, "rpt:d:", "senddocument", "export", KINDS),  # the draft report .docx
        (secretary, f"mtg:file:{kept['document']}", "senddocument", None, KINDS),  # minutes
        (secretary, f"mtg:file:{kept['photo']}", "sendphoto", None, KINDS),  # minutes, a photo
        (leader, "sum:p:", "sendphoto", None, KINDS[0:2]),  # the chart
    ]
    tried = 0
    for uid, prefix, method, audited, kinds in targets:
        for kind in kinds if not FULL else KINDS:
            before = count(bot, select(func.count(AuditLog.id)).where(AuditLog.action == audited))
            out, presses = await _fetch(bot, flaky, uid, prefix, method, kind)
            tried += 1
            files = [m for m in out if m.has_media]
            texts = said(out)
            assert len(files) == 1, (prefix, kind, texts)  # arrives, and once
            assert SAID_SAVED not in texts and SAID_NOT_SAVED not in texts, (prefix, kind)
            # A 429 is waited out by the rate limiter: the person notices nothing.
            assert (SAID_RETRY in texts) == (kind != "429"), (prefix, kind, texts)
            assert presses == (2 if kind not in ("429", "timeout-after") else 1), (prefix, kind)
            if audited:  # each look is audited once, a failed one too, never twice
                after = count(
                    bot, select(func.count(AuditLog.id)).where(AuditLog.action == audited)
                )
                assert after - before == presses, (prefix, kind)
    assert bot.fake.unanswered_callback_queries() == []
    only_telegram_failed(bot)
    assert flaky.calls["getfile"] == 0
    tally = Counter(api for api, _kind in flaky.faults.elements())
    for method in ("senddocument", "sendphoto"):  # every fault kind on both methods
        assert {k for api, k in flaky.faults if api == method} == set(KINDS), flaky.faults
    print(f"\nfiles: {tried} faults {dict(tally)}, 0 crashes, 0 doubles")


# --- Minutes uploaded as a document: the reply fails, the file is kept once ---------------------


async def test_minutes_uploaded_while_replies_fail_are_kept_once(
    kit: tuple[BotKit, FlakyTelegram],
) -> None:
    bot, flaky = kit
    uid = bot.uid("bt_bv")
    person = bot.khoi.users["bt_bv"].person_id
    await bot.driver.send(uid, "/meeting")
    for prefix, _suffix in STEPS[:5]:
        await press(bot, uid, prefix)
    kept: list[str] = []
    for kind in KINDS:
        flaky.arm("sendmessage", kind)
        mark = bot.fake.activity_mark()
        await bot.driver.send_document(uid, f"Bien ban {kind}.pdf", b"%PDF-1.4 " + kind.encode())
        texts = said(bot.fake.activity_since(mark, uid))
        with bot.db.transaction() as s:
            draft = s.scalar(select(Draft).where(Draft.person_id == person))
            assert draft is not None
            kept.append(draft.data.get("minutes_file_id") or "")
        # The newest file is the one kept (one file per meeting), and the person is told so.
        assert kept[-1] and kept[-1] not in kept[:-1], (kind, kept)
        assert SAID_NOT_SAVED not in texts and SAID_RETRY not in texts, (kind, texts)
        if kind not in ("429", "timeout-after"):  # the reply was lost: "saved, you are here"
            assert SAID_SAVED in texts, (kind, texts)
        assert button(bot, uid, "mtg:cok:") is not None, kind
    await press(bot, uid, "mtg:cok:")
    await press(bot, uid, "mtg:save:")
    with bot.db.transaction() as s:
        meetings = list(s.scalars(select(Meeting)))
    assert len(meetings) == 1
    assert meetings[0].minutes_file_id == kept[-1]  # the last file sent, once
    assert flaky.calls["getfile"] == 0  # the file stays on Telegram's side, by its file_id
    only_telegram_failed(bot)


# --- Command menus: setMyCommands, deleteMyCommands ---------------------------------------------


def _invite(bot: BotKit, role: Role = Role.DEPUTY, org: str = "CBDIEN") -> str:
    with bot.db.transaction() as session:
        found = orgs.by_code(session, org)
        assert found is not None
        return people.create_invite(
            session, org=found, role=role, actor=Actor("test"), now=bot.clock.now()
        ).code


def _menu(bot: BotKit, uid: int) -> list[str]:
    return [c["command"] for c in bot.fake.commands("chat", chat_id=uid)]


async def test_command_menus_are_set_once_telegram_recovers(
    kit: tuple[BotKit, FlakyTelegram],
) -> None:
    bot, flaky = kit
    app = bot.app
    # Start-up: the default menu. A fault must not stop the bot; the menu job sets it later.
    for kind in KINDS:
        bot.fake._commands.clear()
        flaky.arm("setmycommands", kind)
        await common.set_default_menus(app)  # what post_init does
        await common.sync_menus(app, 0)  # the menu job, Telegram well again
        assert [c["command"] for c in bot.fake.commands()] == default_menu(), kind
        assert flaky.armed() == 0

    # A person redeems an invite while setMyCommands fails: registered once, welcomed, and
    # offered the deputy's menu once Telegram recovers.
    deputy = menu_for([Role.DEPUTY])
    for n, kind in enumerate(KINDS):
        uid = 7100 + n
        bot.fake.add_user(uid, first_name="Hà", language_code="vi")
        flaky.arm("setmycommands", kind)
        out = await bot.driver.send(uid, f"/start {_invite(bot)}")
        assert any("đã được ghi nhận là" in t for t in said(out)), (kind, said(out))
        roles = count(
            bot,
            select(func.count(RoleAssignment.id))
            .join(Person, Person.id == RoleAssignment.person_id)
            .where(Person.telegram_user_id == uid),
        )
        assert roles == 1, kind
        await common.sync_menus(app)
        assert _menu(bot, uid) == deputy, (kind, _menu(bot, uid))

    # The role is revoked while deleteMyCommands fails: the person's menu goes back to the
    # default once Telegram recovers.
    for n, kind in enumerate(KINDS):
        uid = 7100 + n
        with bot.db.transaction() as s:
            s.execute(
                update(RoleAssignment)
                .where(
                    RoleAssignment.person_id
                    == select(Person.id).where(Person.telegram_user_id == uid).scalar_subquery()
                )
                .values(revoked_at=datetime(2026, 11, 16, 2, tzinfo=UTC), revoked_by="test")
            )
        flaky.arm("deletemycommands", kind)
        await common.sync_menus(app)
        await common.sync_menus(app)
        assert _menu(bot, uid) == [], (kind, _menu(bot, uid))
    assert flaky.armed() == 0
    only_telegram_failed(bot)


# --- The sympathizer-list question: editMessageReplyMarkup ---------------------------------------


async def test_the_sympathizer_question_is_recorded_once_whatever_the_edit_does(
    kit: tuple[BotKit, FlakyTelegram],
) -> None:
    bot, flaky = kit
    uid = bot.uid("bt_bv")
    await bot.driver.send(uid, "/meeting")
    for prefix, _suffix in STEPS:
        await press(bot, uid, prefix)
    found = button(bot, uid, "cnd:mtg:")
    assert found is not None
    message = next(m for m in bot.fake.bot_messages(uid) if m.message_id == found[0])
    asked = [list(row) for row in message.reply_markup or []]
    recorded = VI.gettext("✅ Consideration of the sympathizer list recorded for {month}.")
    recorded = recorded.partition("{")[0]
    for kind in KINDS:
        with bot.db.transaction() as s:
            s.execute(CandidateConsideration.__table__.delete())
        message.reply_markup = [list(row) for row in asked]  # the question, asked afresh
        flaky.arm("editmessagereplymarkup", kind)
        mark = bot.fake.activity_mark()
        for _attempt in range(3):  # the person presses "Yes" while it is there and unanswered
            if count(bot, select(func.count(CandidateConsideration.id))) or not button(
                bot, uid, "cnd:mtg:"
            ):
                break
            await press(bot, uid, "cnd:mtg:")
        texts = said(bot.fake.activity_since(mark, uid))
        assert count(bot, select(func.count(CandidateConsideration.id))) == 1, (kind, texts)
        assert any(t.startswith(recorded) for t in texts), (kind, texts)
        assert SAID_NOT_SAVED not in texts and SAID_RETRY not in texts, (kind, texts)
    assert bot.fake.unanswered_callback_queries() == []
    only_telegram_failed(bot)


# --- A document marked secret: deleteMessage, sendMessage ----------------------------------------


async def test_a_secret_document_is_refused_whatever_telegram_does(
    kit: tuple[BotKit, FlakyTelegram],
) -> None:
    bot, flaky = kit
    uid = bot.uid("bt_bv")
    refusal = VI.gettext(
        "⛔ This looks like a document marked secret (Mật / Tối mật / Tuyệt mật). Documents "
        "marked secret must never be sent through this bot, and nothing was saved. Please "
        "delete it from this chat. If it is not secret, rename the file or change the caption "
        "and send it again."
    )
    for method in ("deletemessage", "sendmessage"):
        for kind in KINDS:
            flaky.arm(method, kind)
            mark = bot.fake.activity_mark()
            for _attempt in range(2):
                await bot.driver.send_document(uid, "Bao cao MẬT.pdf", b"%PDF-1.4 secret")
                texts = said(bot.fake.activity_since(mark, uid))
                if refusal in texts:
                    break
            assert refusal in texts, (method, kind, texts)
            assert SAID_SAVED not in texts and SAID_NOT_SAVED not in texts, (method, kind)
    assert count(bot, select(func.count(Draft.id))) == 0
    only_telegram_failed(bot)


# --- Start-up: getMe, setMyCommands, setWebhook -------------------------------------------------


async def test_start_up_waits_for_telegram_instead_of_crashing(
    db: Database, clock: ManualClock
) -> None:
    fake = FakeTelegram(token=TOKEN, bot_username="chibo_test_bot", clock=clock.now)
    flaky = FlakyTelegram(fake)
    time = VirtualTime()
    for method in ("getme", "setwebhook"):
        flaky.arm(method, *KINDS)
    app = build_application(
        make_settings(), db, clock=clock, request=flaky, rate_limiter=True, jobs=False
    )
    app.bot.rate_limiter.pacer = Pacer(monotonic=time.monotonic, sleep=time.sleep)  # type: ignore[union-attr]
    await start_up(
        app,
        lambda: app.bot.set_webhook("https://bot.example/hook", secret_token="s"),
        sleep=time.sleep,
    )
    try:
        assert app.bot.username == "chibo_test_bot"
        assert fake.webhook_url == "https://bot.example/hook"
        assert [c["command"] for c in fake.commands()] == default_menu()
        for method in ("getme", "setwebhook"):
            for kind in KINDS:
                assert flaky.faults[(method, kind)] == 1, (method, kind)
        assert flaky.armed() == 0
        print(
            f"\nstart-up: waited {time.now - 1000.0:.0f} s (virtual) through "
            f"{sum(flaky.faults.values())} faults"
        )
    finally:
        await app.shutdown()
