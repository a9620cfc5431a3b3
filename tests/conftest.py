"""Shared fixtures: a migrated database per test, a manual clock, a bot on the test double."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.clock import ManualClock
from storage.db import Database
from tests.auxil import db as dbaux
from tests.auxil.loop_guard import database_off_the_loop


@pytest.fixture(scope="session")
def _db_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if dbaux.PG_URL:
        dbaux.require_pg(dbaux.PG_URL)
        private = dbaux.private_pg_database(dbaux.PG_URL)
        dbaux.reset_pg(private)
        yield ("pg", private)
        dbaux.drop_private_pg_database(dbaux.PG_URL, private)
        return
    yield dbaux.SqliteTemplate(tmp_path_factory.mktemp("dbtemplate"))


@pytest.fixture
def db(_db_backend: object, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database (SQLite file, or a PostgreSQL database of this run)."""
    if isinstance(_db_backend, tuple):
        database = Database.from_url(_db_backend[1])
        dbaux.truncate_all(database)
    else:
        assert isinstance(_db_backend, dbaux.SqliteTemplate)
        database = _db_backend.fresh(tmp_path / "chibo.sqlite3")
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _database_off_the_loop() -> Iterator[None]:
    """Every test fails if bot code opens a transaction on the event loop's thread."""
    with database_off_the_loop():
        yield


@pytest.fixture
def clock() -> ManualClock:
    """A clock at 08:00 on Monday 16 November 2026, Hanoi time (01:00 UTC)."""
    return ManualClock(datetime(2026, 11, 16, 1, 0, tzinfo=UTC))


@pytest.fixture
async def bot(db: Database, clock: ManualClock) -> AsyncIterator[object]:
    """A real Application wired to the in-process Bot API test double, on a seeded Khối."""
    from tests.auxil.botkit import BotKit

    kit = await BotKit.start(db, clock)
    try:
        yield kit
    finally:
        await kit.stop()
