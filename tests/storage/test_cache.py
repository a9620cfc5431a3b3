"""The process-wide cache of identities, organizations and settings (storage.cache): used
while nothing it holds has changed, never after a write by any process, never filled with a
transaction's own uncommitted writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, select, text, update

from domain.clock import ManualClock
from storage import access as access_facts
from storage import cache
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.migrate import alembic_config, upgrade
from storage.models import Member, Organization, Person, Role, RoleAssignment, Setting
from storage.people import identity
from storage.seed import get_setting


@contextmanager
def reads(db: Database, table: str) -> Iterator[list[str]]:
    """The statements reading ``table`` meanwhile."""
    seen: list[str] = []

    def on_sql(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith(("SELECT", "WITH")) and f"FROM {table}" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_sql)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_sql)


@pytest.fixture
def khoi(db: Database, clock: ManualClock) -> DemoKhoi:
    with db.transaction() as session:
        return seed_demo(session, now=clock.now())


@pytest.fixture
def other(db: Database) -> Iterator[Database]:
    """The same database through another engine: another process (the command line)."""
    database = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    yield database
    database.dispose()


def counter(db: Database) -> int:
    with db.reading() as session:
        return int(session.execute(text("SELECT value FROM cache_generation")).scalar_one())


def test_an_identity_is_read_once_then_served_from_the_cache(db: Database, khoi: DemoKhoi) -> None:
    uid = khoi.users["bt_bv"].telegram_user_id
    with reads(db, "people") as seen:
        with db.transaction() as session:
            first = identity(session, uid)
        with db.reading() as session:  # read-only sessions share the cache
            again = identity(session, uid)
    assert len(seen) == 1
    assert again == first
    # The grants are remembered for the transaction's access checks either way.
    with reads(db, "role_assignments") as seen, db.transaction() as session:
        who = identity(session, uid)
        assert who is not None
        assert {g.role for g in access_facts.grants(session, who.person_id)} == who.role_set
    assert seen == []


def test_a_role_revoked_by_another_process_is_gone_at_the_next_transaction(
    db: Database, other: Database, khoi: DemoKhoi, clock: ManualClock
) -> None:
    uid = khoi.users["bt_bv"].telegram_user_id
    with db.transaction() as session:
        who = identity(session, uid)
        assert who is not None and Role.SECRETARY in who.role_set
    with other.transaction() as session:
        session.execute(
            update(RoleAssignment)
            .where(RoleAssignment.person_id == who.person_id)
            .values(revoked_at=clock.now())
        )
    with db.transaction() as session:
        after = identity(session, uid)
    assert after is not None and after.roles == ()


@pytest.mark.parametrize("table", cache.WATCHED)
def test_every_write_to_a_watched_table_raises_the_counter(
    db: Database, other: Database, khoi: DemoKhoi, clock: ManualClock, table: str
) -> None:
    before = counter(db)
    with other.transaction() as session:
        if table == "people":
            session.execute(update(Person).values(locale="en"))
        elif table == "role_assignments":
            session.execute(update(RoleAssignment).values(granted_by="cli"))
        elif table == "members":
            session.execute(update(Member).values(full_name=Member.full_name + " A"))
        elif table == "organizations":
            session.execute(update(Organization).values(name=Organization.name + " mới"))
        else:
            session.execute(update(Setting).values(updated_by="admin"))
    assert counter(db) > before
    # A read-only statement or a write elsewhere does not.
    before = counter(db)
    with other.transaction() as session:
        session.execute(select(Person.id)).all()
        session.execute(text("DELETE FROM drafts"))
    assert counter(db) == before


def test_a_change_lets_go_of_everything_cached_before(
    db: Database, other: Database, khoi: DemoKhoi
) -> None:
    with db.transaction() as session:
        for user in khoi.users.values():
            identity(session, user.telegram_user_id)
    assert cache.figures(db.engine)[0] == len(khoi.users)
    with other.transaction() as session:  # a member erased, say
        session.execute(update(Member).where(Member.id == 1).values(full_name="—"))
    with db.transaction() as session:
        identity(session, khoi.users["bt_bv"].telegram_user_id)
    assert cache.figures(db.engine)[0] == 1


def test_a_renamed_organization_and_a_changed_setting_are_seen_at_once(
    db: Database, other: Database, khoi: DemoKhoi, clock: ManualClock
) -> None:
    cell = khoi.orgs["DBSYT"]
    with db.transaction() as session:
        assert get_setting(session, "no_progress_months") == {"months": 12}
        before = access_facts.subtree(session, [khoi.top_id])[cell]
    with reads(db, "organizations") as seen, db.transaction() as session:
        access_facts.subtree(session, [khoi.top_id])
    assert seen == []  # from the cache
    with other.transaction() as session:
        session.execute(update(Organization).where(Organization.id == cell).values(name="Mới"))
        session.execute(
            update(Setting).where(Setting.key == "no_progress_months").values(value={"months": 6})
        )
    with db.transaction() as session:
        assert access_facts.subtree(session, [khoi.top_id])[cell].name == "Mới"
        assert get_setting(session, "no_progress_months") == {"months": 6}
    assert before.name != "Mới"


def test_a_transactions_own_writes_are_seen_by_it_and_never_cached(
    db: Database, khoi: DemoKhoi, clock: ManualClock
) -> None:
    uid = khoi.users["bt_bv"].telegram_user_id
    with db.transaction() as session:
        who = identity(session, uid)
        assert who is not None
    with db.sessions() as session:  # closed without a commit: rolled back
        assert identity(session, uid) == who  # from the cache
        session.add(
            RoleAssignment(
                person_id=who.person_id,
                org_id=khoi.top_id,
                role=Role.STANDING,
                granted_at=clock.now(),
                granted_by="test",
            )
        )
        # Not flushed yet: reading the identity flushes, and the write is seen.
        changed = identity(session, uid)
        assert changed is not None and Role.STANDING in changed.role_set
    # The uncommitted role was never cached: after the rollback it is not there.
    with db.transaction() as session:
        after = identity(session, uid)
    assert after == who


def test_a_shared_setting_value_is_copied_for_each_caller(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        value = get_setting(session, "meeting_min_minutes")
        value["regular"] = 1
    with db.transaction() as session:
        assert get_setting(session, "meeting_min_minutes")["regular"] == 90


def test_without_the_counter_row_nothing_is_cached(db: Database, khoi: DemoKhoi) -> None:
    uid = khoi.users["bt_bv"].telegram_user_id
    with db.transaction() as session:
        session.execute(text("DELETE FROM cache_generation"))
    with reads(db, "people") as seen:
        for _ in range(2):
            with db.transaction() as session:
                assert identity(session, uid) is not None
    assert len(seen) == 2


def test_the_cache_is_bounded(
    db: Database, khoi: DemoKhoi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "LIMIT", 3)
    with db.transaction() as session:
        for uid in range(10):
            identity(session, 900_000 + uid)
    entries, _hits, _misses = cache.figures(db.engine)
    assert 0 < entries <= 3


def test_a_long_writing_transaction_does_not_hold_the_counter(
    db: Database, other: Database, khoi: DemoKhoi
) -> None:
    """An import runs in one transaction for seconds: other writers of people or roles do not
    wait for it on the counter's row, which is raised only as each transaction commits."""
    if db.dialect != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serializes whole transactions)")
    with db.transaction() as long:
        long.execute(update(Member).values(full_name=Member.full_name + " A"))  # not committed
        with other.transaction() as short:
            short.execute(text("SET LOCAL lock_timeout = '2s'"))  # fails instead of waiting
            short.execute(update(Person).values(locale="en"))
        raised_by_short = counter(other)
    assert counter(db) > raised_by_short  # the long one raised it again as it committed


def test_the_counter_migration_goes_down_and_up_again(db: Database, clock: ManualClock) -> None:
    """Downgrading removes the counter and its triggers (writes still work); upgrading again
    brings both back, and a write raises the counter again."""
    engine = db.engine
    config = alembic_config(engine)
    insert = text(
        "INSERT INTO settings (key, value, rule_source, updated_at, updated_by) "
        "VALUES (:key, '{}', NULL, :at, 'test')"
    )
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0010_rules_holiday_sources")
        with engine.begin() as conn:
            conn.execute(insert, {"key": "down", "at": clock.now()})  # no trigger left to fail
    finally:
        upgrade(engine)
    before = counter(db)
    with engine.begin() as conn:
        conn.execute(insert, {"key": "up", "at": clock.now()})
    assert counter(db) > before
