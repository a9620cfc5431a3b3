"""What one tap costs the database: one transaction, in which the sender's identity is known,
the step saved and the next screen rendered, reading the roll once; the sender, their roles,
the organizations and the settings come from the process's cache once read (storage.cache)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from storage import meetings as m
from tests.handlers.test_meetings import (
    TODAY,
    Taps,
    draft_of,
    members,
    to_attendance,
    to_confirm,
)


@contextmanager
def statements(kit: Any) -> Iterator[dict[str, Any]]:
    """Transactions begun and SQL statements run meanwhile (in any thread)."""
    seen: dict[str, Any] = {"begins": 0, "sql": [], "pings": 0}

    def on_begin(_conn: Any) -> None:
        seen["begins"] += 1

    def on_sql(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen["sql"].append(" ".join(statement.split()))

    engine = kit.db.engine
    ping = engine.dialect.do_ping

    def on_ping(dbapi_conn: Any) -> bool:
        seen["pings"] += 1
        return ping(dbapi_conn)

    engine.dialect.do_ping = on_ping  # type: ignore[method-assign]
    event.listen(engine, "begin", on_begin)
    event.listen(engine, "before_cursor_execute", on_sql)
    try:
        yield seen
    finally:
        engine.dialect.do_ping = ping  # type: ignore[method-assign]
        event.remove(engine, "begin", on_begin)
        event.remove(engine, "before_cursor_execute", on_sql)


def _reads(sql: list[str], table: str) -> int:
    return sum(1 for s in sql if s.startswith("SELECT") and f"FROM {table} " in s + " ")


def _statements(sql: list[str]) -> int:
    """Statements other than opening the transaction (SQLite's ``BEGIN IMMEDIATE``)."""
    return sum(1 for s in sql if not s.startswith("BEGIN"))


async def test_an_attendance_tap_is_one_transaction_reading_settings_and_roll_once(bot) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    x = members(bot)[0]
    key = m.conversation_key(draft_of(bot, "bt_bv"))  # type: ignore[arg-type]
    with statements(bot) as seen:
        await t.tap(f"mtg:abs:{key}:{x.id}")
    assert "23/24" in t.text()
    # The sender's identity, the step and the next screen together.
    assert seen["begins"] == 1
    # The sender, their roles, the organizations below them, the cell, its roll and the
    # settings were read by the earlier taps: they come from the process's cache, checked
    # against the database's counter, read once (storage.cache).
    assert _reads(seen["sql"], "cache_generation") == 1
    assert sum(1 for s in seen["sql"] if "WHERE people.telegram_user_id" in s) == 0
    assert _reads(seen["sql"], "settings") == 0
    assert _reads(seen["sql"], "organizations") == 0
    assert _reads(seen["sql"], "role_assignments") == 0
    assert _reads(seen["sql"], "members") == 0
    # counter, draft, step saved, the last regular meeting: 4 in all (8 before the cache; 11
    # before the roles were reused, 10 before the person and the roles were read together, 9
    # while the followers were read on every step instead of the guests step only).
    assert _statements(seen["sql"]) == 4, "\n".join(seen["sql"])
    # No ping before the transaction (on PostgreSQL it was a round trip of its own).
    assert seen["pings"] == 0


async def test_a_command_and_a_date_tap_are_one_transaction_with_the_identity(bot) -> None:
    t = Taps(bot, "bt_bv")
    with statements(bot) as seen:
        await t.type("/meeting")
    assert seen["begins"] == 1
    assert sum(1 for s in seen["sql"] if "WHERE people.telegram_user_id" in s) == 1
    await t.tap("mtg:kind:", ":regular")
    await t.tap("mtg:dur:", ":90")
    with statements(bot) as seen:
        await t.tap("mtg:date:", f":{TODAY:%Y%m%d}")
    assert seen["begins"] == 1


async def test_a_typed_answer_is_one_transaction_reading_the_draft_once(bot) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/meeting")
    await t.tap("mtg:kind:", ":thematic")
    with statements(bot) as seen:
        await t.type("Học tập Nghị quyết")
    assert "kéo dài bao lâu" in t.text()  # saved: the duration is asked next
    # The identity, the draft found to choose the step, the step saved, the next screen: one
    # transaction (it was two, and the draft and the sender's roles were read in each). The
    # identity comes from the cache.
    assert seen["begins"] == 1
    assert sum(1 for s in seen["sql"] if "WHERE people.telegram_user_id" in s) == 0
    assert _reads(seen["sql"], "drafts") == 1
    assert _reads(seen["sql"], "role_assignments") == 0


async def test_saving_a_meeting_reads_the_identity_in_the_saving_transaction(bot) -> None:
    t = Taps(bot, "bt_bv")
    await to_confirm(t)
    with statements(bot) as seen:
        await t.tap("mtg:save:")
    assert "✅" in t.text()
    # The save with the identity, then the candidates' question about the saved meeting. The
    # identity comes from the cache, checked against the counter read in the save's own
    # transaction (saving a meeting changes no person, role or organization).
    assert seen["begins"] == 2
    assert sum(1 for s in seen["sql"] if "WHERE people.telegram_user_id" in s) == 0
    assert seen["sql"][0 if seen["sql"][0].startswith("SELECT") else 1].startswith(
        "SELECT value FROM cache_generation"
    )
