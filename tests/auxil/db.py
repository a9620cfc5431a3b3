"""Test databases: SQLite by default, PostgreSQL when TEST_DATABASE_URL is set.

In CI (CI=true) an unreachable PostgreSQL fails the run; on a laptop it is skipped with a reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from storage.db import Database, make_engine
from storage.migrate import upgrade
from storage.models import Base, Generation

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


def private_pg_database(url: str) -> str:
    """Create a database of this test run's own next to ``url``'s, so parallel runs never
    drop each other's tables; fall back to ``url`` itself when not allowed to create one."""
    base = make_url(url)
    name = f"{base.database}_run{os.getpid()}"
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # noqa: BLE001 - no CREATEDB right: use the given database
        return url
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_private_pg_database(url: str, private: str) -> None:
    """Drop the database made by :func:`private_pg_database`."""
    if private == url:
        return
    name = make_url(private).database
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


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
    # The cache's counter keeps its row (the truncation raises it, as any write would).
    names = ", ".join(
        t.name for t in Base.metadata.sorted_tables if t.name != Generation.__tablename__
    )
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                "INSERT INTO cache_generation (id, value) SELECT 1, 1 "
                "WHERE NOT EXISTS (SELECT 1 FROM cache_generation)"
            )
        )


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
