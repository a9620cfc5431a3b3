"""The unit of work: write transactions take SQLite's write lock at once, reads never do."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError

from storage.db import Database
from storage.models import Person


def _file_db(tmp_path: Path) -> Database:
    db = Database.from_url(f"sqlite:///{tmp_path / 'lock.sqlite3'}", connect_args={"timeout": 0.2})
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    return db


def test_reads_begin_deferred_and_writes_immediate_on_sqlite(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    begins: list[str] = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda _c, _cur, stmt, *_a: begins.append(stmt) if stmt.startswith("BEGIN") else None,
    )
    with db.reading() as session:
        session.execute(text("SELECT count(*) FROM t"))
    with db.transaction() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]
    db.dispose()


def test_a_reader_does_not_wait_for_a_writer_on_sqlite(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    outcome: dict[str, object] = {}

    def other(kind: str) -> None:
        try:
            ctx = db.reading() if kind == "read" else db.transaction()
            with ctx as session:
                outcome[kind] = session.scalar(text("SELECT count(*) FROM t"))
        except OperationalError as exc:
            outcome[kind] = exc

    with db.transaction() as writer:  # holds the write lock until the block ends
        writer.execute(text("INSERT INTO t VALUES (1)"))
        for kind in ("read", "write"):
            thread = threading.Thread(target=other, args=(kind,))
            thread.start()
            thread.join()
    assert outcome["read"] == 0  # its snapshot, at once
    assert isinstance(outcome["write"], OperationalError)  # a second writer must wait
    db.dispose()


async def test_use_cases_run_off_the_event_loop(db: Database) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def use_case(session: object) -> int:
        seen.append(threading.get_ident())
        return len(list(session.scalars(select(Person))))  # type: ignore[attr-defined]

    assert await db.run(use_case) == 0
    assert await db.read(use_case) == 0
    assert await db.call(threading.get_ident) != loop_thread
    assert seen and all(t != loop_thread for t in seen)


def test_an_in_memory_database_is_shared_by_the_worker_threads() -> None:
    db = Database.from_url("sqlite://")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (7)"))
    got = asyncio.run(db.read(lambda s: s.scalar(text("SELECT x FROM t"))))
    assert got == 7
    db.dispose()
