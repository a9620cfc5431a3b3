"""/healthz's verdicts and /metrics' format, without a process."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from bot.health import Metrics, State, health, render_metrics
from storage.db import Database
from storage.outbox import enqueue
from storage.people import identity


def test_an_active_instance_without_a_ticking_scheduler_is_unhealthy(db: Database) -> None:
    ok, report = health(db, State(role="active", application=None))
    assert not ok and report["scheduler"].startswith("not ticking")
    ok, report = health(db, State(role="standby"))
    assert ok and report["role"] == "standby" and report["schema"] == "current"


def test_a_schema_behind_is_unhealthy(db: Database) -> None:
    with db.engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        ok, report = health(db, State(role="standby"))
    finally:  # the PostgreSQL database is shared by the tests of this run
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert not ok and "chibo db upgrade" in report["schema"]


def test_an_unreachable_database_is_unhealthy() -> None:
    broken = Database.from_url("sqlite:////nonexistent/folder/chibo.sqlite3")
    ok, report = health(broken, State(role="standby"))
    assert not ok and report["database"].startswith("unreachable")
    body = render_metrics(Metrics(), broken, State())
    assert "chibo_database_up 0" in body


def test_metrics_count_updates_and_read_the_outbox(db: Database) -> None:
    from storage.demo_seed import seed_demo

    now = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    with db.transaction() as session:
        khoi = seed_demo(session, now=now)
        enqueue(
            session,
            key="k1",
            person_id=khoi.users["bt_vp"].person_id,
            kind="reminder",
            payload={},
            not_before=now,
            now=now,
        )
    for _ in range(2):  # a miss (read, then cached), then a hit
        with db.transaction() as session:
            identity(session, khoi.users["bt_vp"].telegram_user_id)
    metrics = Metrics()
    metrics.observe("ok", 0.07)
    metrics.observe("error", 3.0)
    body = render_metrics(metrics, db, State(role="active"))
    assert 'chibo_updates_total{outcome="ok"} 1' in body
    assert 'chibo_updates_total{outcome="error"} 1' in body
    assert 'chibo_update_seconds_bucket{le="0.05"} 0' in body
    assert 'chibo_update_seconds_bucket{le="0.1"} 1' in body
    assert 'chibo_update_seconds_bucket{le="5.0"} 2' in body
    assert "chibo_update_seconds_count 2" in body
    assert 'chibo_outbox_messages{kind="reminder",status="pending"} 1' in body
    assert "chibo_outbox_backlog 1" in body
    assert "chibo_active 1" in body
    assert "chibo_cache_entries 1" in body
    assert 'chibo_cache_lookups_total{result="hit"} 1' in body
    assert 'chibo_cache_lookups_total{result="miss"} 1' in body
    # Every sample line is "name{labels} value" with a number.
    for line in body.splitlines():
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


async def test_429s_from_telegram_are_counted() -> None:
    from telegram import Bot
    from telegram.error import RetryAfter

    from bot.health import MeteredRequest
    from bot.testing.server import TelegramDoubleServer
    from bot.testing.telegram_double import FakeTelegram
    from tests.auxil.botkit import TOKEN

    fake = FakeTelegram(token=TOKEN, bot_username="chibo_test_bot", rate_limits=True)
    fake.add_user(4242, first_name="An")
    metrics = Metrics()
    async with TelegramDoubleServer(fake) as server:
        bot = Bot(TOKEN, base_url=f"{server.base_url}/bot", request=MeteredRequest(metrics))
        async with bot:
            refused = 0
            for i in range(5):  # one chat, five at once: Telegram allows one a second
                try:
                    await bot.send_message(4242, f"tin {i}")
                except RetryAfter:
                    refused += 1
    assert refused >= 1
    assert metrics.too_many_requests == refused == fake.rate_limited
    assert f"chibo_telegram_429_total {refused}" in render_metrics(
        metrics, Database.from_url("sqlite://"), State()
    )
