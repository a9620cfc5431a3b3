"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump / pg_restore.

A SQLite backup is a consistent copy taken while the bot runs (``sqlite3.Connection.backup``
copies page by page under the database's read lock and restarts if a writer interferes). A
PostgreSQL backup is ``pg_dump --format=custom``, consistent by construction (one snapshot);
its restore is ``pg_restore --clean --if-exists``. Restore with the bot stopped.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, inspect, make_url, select, update

from storage.models import Generation


class BackupError(RuntimeError):
    """A backup or restore could not be done (the message says why and what to do)."""


def sqlite_path(engine: Engine) -> Path:
    """The file of a file-based SQLite database."""
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def pg_tool_url(engine: Engine) -> str:
    """The libpq URL (no SQLAlchemy driver suffix) that pg_dump and pg_restore accept."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client tools "
            "(apt install postgresql-client), or run it where the server is, e.g. "
            f"`docker compose exec db {name} …` (see the README, 'Backup and upgrade')."
        )
    return found


def backup(engine: Engine, target: Path) -> Path:
    """Write a backup of the database to ``target``; returns it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(sqlite_path(engine))
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return target
    if engine.dialect.name == "postgresql":
        result = subprocess.run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
                f"--dbname={pg_tool_url(engine)}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")
        return target
    raise BackupError(f"backups of {engine.dialect.name} databases are not supported")


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's content by the backup ``source`` (the bot must be stopped)."""
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    engine.dispose()  # no pooled connection of ours may hold locks during the restore
    if engine.dialect.name == "sqlite":
        with source.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{source} is not a SQLite backup")
        src = sqlite3.connect(source)
        dest = sqlite3.connect(sqlite_path(engine))
        try:
            with dest:
                src.backup(dest)
        finally:
            dest.close()
            src.close()
        _new_generation(engine)
        return
    if engine.dialect.name == "postgresql":
        result = subprocess.run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                f"--dbname={pg_tool_url(engine)}",
                str(source),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")
        _new_generation(engine)
        return
    raise BackupError(f"restores of {engine.dialect.name} databases are not supported")


def _new_generation(engine: Engine) -> None:
    """Give the restored database a counter no process has cached anything under
    (:mod:`storage.cache`): the backup's own value, and those that followed it, were seen
    before by processes that may still run (a standby instance)."""
    with engine.begin() as conn:
        if inspect(conn).has_table(Generation.__tablename__):
            fresh = secrets.randbelow(10**15)
            conn.execute(update(Generation).where(Generation.id == 1).values(value=fresh))


def table_contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (reflected, so tables of any revision count), sorted."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            rows: Iterable[Any] = conn.execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)
