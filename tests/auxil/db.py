"""Test databases: SQLite by default, PostgreSQL when TEST_DATABASE_URL is set.

In CI (CI=true) an unreachable PostgreSQL fails the run; on a laptop it is skipped with a reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database, make_engine
from storage.migrate import upgrade
from storage.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def pg_unavailable(url: str) -> str | None:
    """Return why PostgreSQL at ``url`` cannot be used, or None."""
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means unavailable
        return f"PostgreSQL at {url} is unreachable: {exc.__class__.__name__}: {exc}"[:300]
    return None


def require_pg(url: str) -> None:
    """Fail in CI, skip elsewhere, when PostgreSQL is missing."""
    reason = pg_unavailable(url)
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def reset_pg(url: str) -> None:
    """Drop everything in the public schema and migrate from scratch."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()


def truncate_all(db: Database) -> None:
    """Empty every table between PostgreSQL tests."""
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


class SqliteTemplate:
    """A migrated SQLite file copied for each test (migrating once is the slow part)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.sqlite3"
        engine = make_engine(f"sqlite:///{self.path}")
        upgrade(engine)
        engine.dispose()  # the last connection to close checkpoints the WAL into the file

    def fresh(self, target: Path) -> Database:
        """A new migrated database at ``target``."""
        shutil.copy(self.path, target)
        return Database.from_url(f"sqlite:///{target}")
