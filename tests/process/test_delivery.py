"""Delivery stories: a year of reminders, exactly-once, crashes, flood control, two senders."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from telegram.error import TimedOut
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest, RequestData

from bot.testing.request import FakeTelegramRequest
from bot.testing.server import TelegramDoubleServer
from bot.testing.telegram_double import FakeTelegram
from domain.clock import ManualClock
from domain.rules.deadlines import reminder_slots
from services import calendar
from services.scheduler import render_rows, tick
from services.sender import Sender
from storage import outbox
from storage.db import Database
from storage.models import (
    CandidateConsideration,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Outbox,
    OutboxStatus,
    Person,
    Report,
    ReportStatus,
    Review,
    ReviewOutcome,
)
from tests.auxil.botkit import TOKEN
from tests.auxil.botkit import test_settings as make_settings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SETTINGS = make_settings()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


# --- A whole year ------------------------------------------------------------------------------


def _hold_meeting(db: Database, org_id: int, day: date, now: datetime) -> None:
    """The cell meets: regular meeting, every member reviewed, sympathizers considered."""
    with db.transaction() as session:
        session.add(
            Meeting(
                org_id=org_id,
                kind=MeetingKind.REGULAR if day.month % 3 else MeetingKind.COMBINED,
                held_on=day,
                regular_key=f"{org_id}:{day:%Y-%m}",
                content={},
                created_at=now,
                updated_at=now,
            )
        )
        members = session.scalars(
            select(Member.id).where(
                Member.org_id == org_id,
                Member.status.in_([MemberStatus.FULL, MemberStatus.PROBATIONARY]),
            )
        ).all()
        for member_id in members:
            session.add(
                Review(
                    org_id=org_id,
                    member_id=member_id,
                    year=day.year,
                    month=day.month,
                    outcome=ReviewOutcome.PROGRESSING,
                    reviewed_at=now,
                )
            )
        session.add(
            CandidateConsideration(org_id=org_id, year=day.year, month=day.month, created_at=now)
        )


async def test_a_whole_year_of_reminders_is_sent_once_each_and_only_when_due(bot) -> None:
    app_ctx = bot.app.bot_data["app"]
    dien = bot.khoi.orgs["CBDIEN"]
    vp = bot.khoi.orgs["CBVP-SYT"]
    bv = bot.khoi.orgs["CBBV-DK"]
    down = {date(2027, 6, 18), date(2027, 6, 19), date(2027, 6, 20), date(2027, 6, 21)}
    odd_hours = {
        date(2027, 1, 5): [3, 13, 23],
        date(2027, 3, 5): [6, 7, 20, 21],
        date(2027, 7, 1): [0, 12, 18],
        date(2027, 11, 15): [5, 9, 22],
        date(2027, 12, 31): [23],
    }
    day = date(2027, 1, 1)
    ticks = 0
    while day <= date(2027, 12, 31):
        if day.month >= 4 and day.day == 8:
            # CBDIEN meets on its usual day from April on (the meeting feature's records).
            _hold_meeting(bot.db, dien, day, bot.clock.now())
        if day == date(2027, 6, 15):
            with bot.db.transaction() as session:
                session.add(
                    Report(
                        org_id=bv,
                        kind="remedy_quarterly",
                        period="2027-Q2",
                        due_on=date(2027, 6, 20),
                        status=ReportStatus.SUBMITTED,
                        figures={},
                        submitted_at=bot.clock.now(),
                        created_at=bot.clock.now(),
                        updated_at=bot.clock.now(),
                    )
                )
        if day not in down:
            for hour in sorted({8, *odd_hours.get(day, [])}):
                bot.clock.set(local(day.year, day.month, day.day, hour, 0))
                await tick(app_ctx, bot.app.bot)
                ticks += 1
        day += timedelta(days=1)
    assert ticks > 365

    with bot.db.transaction() as session:
        rows = session.scalars(select(Outbox)).all()
        catalog = calendar.current(session)
        cal = calendar.work_calendar(session, catalog)
        people = {p.id: p for p in session.scalars(select(Person))}
    # Every row was delivered; keys are unique by construction (a UNIQUE index).
    assert rows and all(r.status is OutboxStatus.SENT for r in rows), Counter(
        r.status for r in rows
    )
    assert len({r.key for r in rows}) == len(rows)
    # The double's transcript: one Telegram message per (person, message id), never a copy.
    for person_id, person in people.items():
        if person.telegram_user_id is None:
            continue
        mine = [r for r in rows if r.person_id == person_id]
        sent = bot.fake.bot_messages(person.telegram_user_id)
        assert len(sent) == len({r.telegram_message_id for r in mine})
        assert {m.message_id for m in sent} == {r.telegram_message_id for r in mine}
        per_day = Counter((m.date.astimezone(TZ).date(), "Nhắc việc" in m.text) for m in sent)
        assert max(per_day.values(), default=0) <= 1  # one reminder message a day at most
    # Only on sending days, at 08:00 (the ticks at night and at 06:00/07:00 sent nothing).
    for person in people.values():
        if person.telegram_user_id is None:
            continue
        for m in bot.fake.bot_messages(person.telegram_user_id):
            when = m.date.astimezone(TZ)
            assert cal.is_sending_day(when.date()), when
            assert when.hour == 8, when
    reminders = [r for r in rows if r.kind == "reminder"]
    # The slots of one instance, computed by hand: CBVP's meeting of March (due Fri 5 March).
    vp_march = sorted(
        r.payload["slot"]
        for r in reminders
        if r.payload["instance"] == f"regular_meeting:2027-03:{vp}"
    )
    assert vp_march == [
        "2027-02-26", "2027-03-02", "2027-03-04", "2027-03-05",  # 7, 3, 1 days before, the day
        "2027-03-08", "2027-03-09", "2027-03-11", "2027-03-13",  # +2 (a Sunday → Monday), +4…
        "2027-03-15", "2027-03-17", "2027-03-19", "2027-03-22",  # +14 is a Sunday → Monday
        "2027-03-23", "2027-03-25", "2027-03-27", "2027-03-29",
        "2027-03-31", "2027-04-02", "2027-04-05",  # +30 (Sun 4 April) → Monday
    ]  # fmt: skip
    due = date(2027, 3, 5)
    spec = catalog.get("regular_meeting")
    assert spec is not None
    assert [d.isoformat() for d in reminder_slots(due, spec.plan, cal)] == vp_march
    # Downtime 18–21 June: CBVP's June meeting (due Sat 5 June) had slots on 19 and 21 June;
    # on the 22nd only the newest missed one was sent, once.
    vp_june = sorted(
        r.payload["slot"]
        for r in reminders
        if r.payload["instance"] == f"regular_meeting:2027-06:{vp}"
    )
    assert "2027-06-19" not in vp_june and "2027-06-21" in vp_june
    (late,) = [
        r
        for r in reminders
        if r.payload["instance"] == f"regular_meeting:2027-06:{vp}"
        and r.payload["slot"] == "2027-06-21"
    ]
    assert late.sent_at is not None and late.sent_at.astimezone(TZ).date() == date(2027, 6, 22)
    sent_on = {r.sent_at.astimezone(TZ).date() for r in reminders if r.sent_at is not None}
    assert not sent_on & down
    # Records stop reminders: CBDIEN met on the 8th from April, so nothing after that date.
    for r in reminders:
        inst = r.payload["instance"]
        for month in range(4, 13):
            for code in ("regular_meeting", "commitment_review", "candidate_consideration"):
                if inst == f"{code}:2027-{month:02d}:{dien}":
                    assert r.payload["slot"] < f"2027-{month:02d}-08", (inst, r.payload["slot"])
    assert not [
        r
        for r in reminders
        if r.payload["instance"] == f"remedy_quarterly:2027-Q2:{bv}"
        and r.payload["slot"] >= "2027-06-15"
    ]
    # Leaders got digests on Mondays (and mornings after deadlines), never twice a day.
    digests = [r for r in rows if r.kind == "digest"]
    lead = bot.khoi.users["lanh_dao"].person_id
    days = Counter(r.payload["date"] for r in digests if r.person_id == lead)
    assert max(days.values()) == 1
    mondays = [d for d in days if date.fromisoformat(d).weekday() == 0]
    assert len(mondays) >= 45


# --- Crash windows -----------------------------------------------------------------------------


def _sender(bot_kit, worker: str, **kw: Any) -> Sender:
    settings = SETTINGS
    return Sender(
        bot_kit.db,
        bot_kit.app.bot,
        clock=bot_kit.clock,
        settings=settings,
        render=lambda rows, at: render_rows(rows, settings=settings, now=at),
        worker=worker,
        **kw,
    )


def _enqueue(bot_kit, key: str = "notice:1", person: str = "bt_vp") -> None:
    with bot_kit.db.transaction() as session:
        outbox.enqueue(
            session,
            key=key,
            person_id=bot_kit.khoi.users[person].person_id,
            kind="notice",
            payload={"msgid": "Hello, {name}!", "params": {"name": key}},
            not_before=bot_kit.clock.now(),
            now=bot_kit.clock.now(),
        )


async def test_a_crash_between_telegrams_ok_and_the_commit_is_the_one_duplicate(
    bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _enqueue(bot)

    def crash(*args: Any, **kwargs: Any) -> int:
        raise SystemExit("killed right after Telegram said ok")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "mark_sent", crash)
        with pytest.raises(SystemExit):
            await _sender(bot, "a").drain()
    chat = bot.uid("bt_vp")
    assert len(bot.fake.bot_messages(chat)) == 1
    bot.clock.advance(timedelta(minutes=5))
    await _sender(bot, "b").drain()  # the claim is fresh: nobody resends
    assert len(bot.fake.bot_messages(chat)) == 1
    bot.clock.advance(timedelta(minutes=6))
    await _sender(bot, "b").drain()  # stale: claimed again, and sent again
    assert [m.text for m in bot.fake.bot_messages(chat)] == ["Chào đồng chí notice:1!"] * 2
    with bot.db.transaction() as session:
        assert outbox.stats(session).by_status == {"sent": 1}


async def test_a_crash_before_sending_or_after_the_commit_duplicates_nothing(bot) -> None:
    chat = bot.uid("bt_vp")

    class Boom(Exception):
        pass

    class DiesBeforeSending:
        def __getattr__(self, name: str) -> Any:
            return getattr(bot.app.bot, name)

        async def send_message(self, *args: Any, **kwargs: Any) -> Any:
            raise Boom()

    _enqueue(bot, "notice:before")
    sender = _sender(bot, "a")
    sender.bot = DiesBeforeSending()  # type: ignore[assignment]
    with pytest.raises(Boom):
        await sender.drain()
    bot.clock.advance(timedelta(minutes=11))
    await _sender(bot, "b").drain()
    assert len(bot.fake.bot_messages(chat)) == 1

    _enqueue(bot, "notice:after")
    await _sender(bot, "c").drain()  # sent and committed; then the process "dies"
    bot.clock.advance(timedelta(minutes=30))
    await _sender(bot, "d").drain()
    assert len(bot.fake.bot_messages(chat)) == 2


async def test_cancelling_a_drain_midway_loses_nothing_and_resends_only_the_one_in_flight(
    bot,
) -> None:
    people = _people(bot, 12)
    gate = asyncio.Event()
    calls = 0

    class Pausing(FakeTelegramRequest):
        async def do_request(
            self, url: str, method: str, request_data: RequestData | None = None, **kw: Any
        ):
            nonlocal calls
            if url.endswith("/sendMessage"):
                calls += 1
                if calls == 6:
                    gate.set()
                    await asyncio.sleep(3600)  # the 6th request hangs before Telegram sees it
            return await super().do_request(url, method, request_data, **kw)

    slow = ExtBot(TOKEN, base_url=SETTINGS.api_base_url, request=Pausing(bot.fake))
    await slow.initialize()
    sender = _sender(bot, "a", batch=4)
    sender.bot = slow  # type: ignore[assignment]
    task = asyncio.create_task(sender.drain())
    await asyncio.wait_for(gate.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    delivered = sum(len(bot.fake.bot_messages(p)) for p in people)
    assert delivered == 5
    with bot.db.transaction() as session:
        stats = outbox.stats(session)
    assert stats["sending"] == 1  # the one in flight; the unsent rest went back to pending
    await _sender(bot, "b").drain()  # restarted at once: everything but the in-flight one
    assert sum(len(bot.fake.bot_messages(p)) for p in people) == 11
    bot.clock.advance(timedelta(minutes=11))
    await _sender(bot, "b").drain()
    counts = [len(bot.fake.bot_messages(p)) for p in people]
    assert counts == [1] * 12  # nothing lost, nothing twice
    await slow.shutdown()


# --- Telegram's answers ------------------------------------------------------------------------


def _people(bot_kit, n: int, start: int = 700000) -> list[int]:
    """``n`` recipients, each with one message queued; returns their chat ids."""
    ids = []
    with bot_kit.db.transaction() as session:
        for i in range(n):
            uid = start + i
            person = Person(
                display_name=f"Người {i}",
                telegram_user_id=uid,
                created_at=bot_kit.clock.now(),
                started_at=bot_kit.clock.now(),
            )
            session.add(person)
            session.flush()
            if uid not in bot_kit.fake.users:
                bot_kit.fake.add_user(uid, first_name=f"N{i}")
            outbox.enqueue(
                session,
                key=f"bulk:{uid}",
                person_id=person.id,
                kind="notice",
                payload={"msgid": "Hello, {name}!", "params": {"name": "x"}},
                not_before=bot_kit.clock.now(),
                now=bot_kit.clock.now(),
            )
            ids.append(uid)
    return ids


async def test_flood_control_is_honoured_and_nothing_is_lost(bot) -> None:
    fake_time = [1000.0]
    bot.fake.rate_limits = True
    bot.fake._monotonic = lambda: fake_time[0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        fake_time[0] += seconds

    people = _people(bot, 45)
    stats = await _sender(bot, "a", sleep=sleep).drain()
    assert stats.messages == 45 and stats.flood_waits >= 1
    assert bot.fake.rate_limited == stats.flood_waits
    assert waits and all(w >= 1 for w in waits)
    assert [len(bot.fake.bot_messages(p)) for p in people] == [1] * 45


class Flaky(FakeTelegramRequest):
    """Answers sendMessage with a failure a few times, then like Telegram."""

    def __init__(self, fake: FakeTelegram, failures: list[str]) -> None:
        super().__init__(fake)
        self.failures = failures

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **kw: Any
    ):
        if url.endswith("/sendMessage") and self.failures:
            kind = self.failures.pop(0)
            if kind == "502":
                return 502, b'{"ok":false,"error_code":502,"description":"Bad Gateway"}'
            if kind == "connect-timeout":
                raise TimedOut() from httpx.ConnectTimeout("no route")
            if kind == "read-timeout":
                await super().do_request(url, method, request_data, **kw)  # Telegram got it
                raise TimedOut() from httpx.ReadTimeout("slow answer")
        return await super().do_request(url, method, request_data, **kw)


async def _flaky_sender(bot_kit, failures: list[str]) -> Sender:
    flaky = ExtBot(TOKEN, base_url=SETTINGS.api_base_url, request=Flaky(bot_kit.fake, failures))
    await flaky.initialize()
    sender = _sender(bot_kit, "a")
    sender.bot = flaky  # type: ignore[assignment]
    return sender


async def test_server_errors_are_retried_with_backoff_then_given_up(bot) -> None:
    chat = bot.uid("bt_vp")
    _enqueue(bot)
    sender = await _flaky_sender(bot, ["502", "connect-timeout"])
    assert (await sender.drain()).retried == 1
    assert (await sender.drain()).messages == 0  # backing off
    bot.clock.advance(timedelta(seconds=31))
    assert (await sender.drain()).retried == 1  # the connect timeout never reached Telegram
    bot.clock.advance(timedelta(seconds=61))
    assert (await sender.drain()).messages == 1
    assert len(bot.fake.bot_messages(chat)) == 1
    with bot.db.transaction() as session:
        row = session.scalar(select(Outbox))
        assert row is not None and row.status is OutboxStatus.SENT and row.attempts == 3

    _enqueue(bot, "notice:2")
    sender = await _flaky_sender(bot, ["502"] * 10)
    for _ in range(SETTINGS.outbox_max_attempts + 1):
        await sender.drain()
        bot.clock.advance(timedelta(hours=1))
    with bot.db.transaction() as session:
        row = session.scalar(select(Outbox).where(Outbox.key == "notice:2"))
        assert row is not None and row.status is OutboxStatus.FAILED
    assert len(bot.fake.bot_messages(chat)) == 1


async def test_a_timeout_after_the_request_left_is_not_resent(bot) -> None:
    chat = bot.uid("bt_vp")
    _enqueue(bot)
    sender = await _flaky_sender(bot, ["read-timeout"])
    stats = await sender.drain()
    bot.clock.advance(timedelta(hours=1))
    await sender.drain()
    assert stats.failed == 1
    assert len(bot.fake.bot_messages(chat)) == 1  # delivered once, never twice
    with bot.db.transaction() as session:
        row = session.scalar(select(Outbox))
        assert row is not None and row.status is OutboxStatus.FAILED
        assert "not resent" in (row.last_error or "")


# --- Two bot processes on one database ---------------------------------------------------------


def _drain_in_thread(url: str, base_url: str, clock: ManualClock, worker: str, out: dict) -> None:
    """A second "process": its own engine, event loop, HTTP client and rate limiter."""

    async def main() -> None:
        db = Database.from_url(url)
        bot = ExtBot(
            TOKEN,
            base_url=f"{base_url}/bot",
            request=HTTPXRequest(connection_pool_size=4),
            rate_limiter=AIORateLimiter(max_retries=3),
        )
        await bot.initialize()
        try:
            sender = Sender(
                db,
                bot,
                clock=clock,
                settings=SETTINGS,
                render=lambda rows, at: render_rows(rows, settings=SETTINGS, now=at),
                worker=worker,
                batch=10,
            )
            out[worker] = await sender.drain()
        finally:
            await bot.shutdown()
            db.dispose()

    asyncio.run(main())


async def test_two_bot_processes_send_each_reminder_once(db: Database) -> None:
    from storage.demo_seed import seed_demo

    clock = ManualClock(local(2027, 3, 4, 8, 0))
    with db.transaction() as session:
        khoi = seed_demo(session, now=clock.now())
    fake = FakeTelegram(token=TOKEN, rate_limits=True, clock=clock.now)
    server = TelegramDoubleServer(fake)
    await server.start()
    try:
        with db.transaction() as session:
            for i in range(90):
                person = Person(
                    display_name=f"Bí thư {i}",
                    telegram_user_id=800000 + i,
                    created_at=clock.now(),
                    started_at=clock.now(),
                )
                session.add(person)
                session.flush()
                fake.add_user(800000 + i)
                outbox.enqueue(
                    session,
                    key=f"rem:test:{i}",
                    person_id=person.id,
                    kind="notice",
                    payload={"msgid": "Hello, {name}!", "params": {"name": i}},
                    not_before=clock.now(),
                    now=clock.now(),
                )
        for user in khoi.users.values():
            fake.add_user(user.telegram_user_id)
        url = db.engine.url.render_as_string(hide_password=False)
        out: dict[str, Any] = {}
        threads = [
            threading.Thread(target=_drain_in_thread, args=(url, server.base_url, clock, w, out))
            for w in ("proc-1", "proc-2")
        ]
        for t in threads:
            t.start()
        for t in threads:
            await asyncio.to_thread(t.join, 120)
        assert set(out) == {"proc-1", "proc-2"}
        counts = [len(fake.bot_messages(800000 + i)) for i in range(90)]
        assert counts == [1] * 90
        assert out["proc-1"].messages + out["proc-2"].messages == 90
        assert out["proc-1"].messages > 0 and out["proc-2"].messages > 0
        with db.transaction() as session:
            by = Counter(session.scalars(select(Outbox.claimed_by)))
            assert outbox.stats(session).by_status == {"sent": 90}
        assert set(by) == {"proc-1", "proc-2"}
    finally:
        await server.stop()


async def test_two_ticks_at_once_enqueue_each_reminder_once(bot) -> None:
    app_ctx = bot.app.bot_data["app"]
    bot.clock.set(local(2027, 3, 4, 8, 0))
    first, second = await asyncio.gather(
        tick(app_ctx, None, send=True), tick(app_ctx, None, send=True)
    )
    assert first.planned == second.planned > 0
    assert first.enqueued + second.enqueued == first.planned
    await tick(app_ctx, bot.app.bot)
    per_chat = defaultdict(int)
    for user in bot.khoi.users.values():
        per_chat[user.key] = len(bot.fake.bot_messages(user.telegram_user_id))
    assert max(per_chat.values()) == 1
