"""Engine, sessions and the unit of work: one transaction per use case.

Database work never runs on the event loop: :meth:`Database.run` and :meth:`Database.read` run a
use case in one transaction on a small thread pool of the database's own, so a slow query or a
lock wait on one person's tap never holds up another person's reply.

On SQLite a write transaction opens with ``BEGIN IMMEDIATE`` (it takes the write lock at once,
so two writers queue on the busy timeout instead of failing on upgrade); a read-only one opens
with a plain ``BEGIN`` and reads its WAL snapshot without taking the lock.
"""

from __future__ import annotations

import asyncio
import functools
import select
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, Executable, Result, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storage import cache

T = TypeVar("T")
P = ParamSpec("P")

#: Execution option marking a read-only transaction (plain ``BEGIN`` on SQLite).
READ_ONLY = "chibo_read_only"

#: Threads that run database work and document building for the event loop.
WORKERS = 8


def plain_rows(
    session: Session, statement: Executable, params: dict[str, Any] | None = None
) -> Result[Any]:
    """Run a read of plain rows (columns, no ORM objects) on the session's connection.

    ``session.execute`` runs every statement through the ORM's machinery (entity adaptation,
    the loading of results, the session's events), about 100 µs a statement even when the
    statement asks for columns only; a tap's reads (identity, draft, access, roll, settings)
    skip it here. Pending changes are flushed first, as ``session.execute`` would."""
    session.flush()
    return session.connection().execute(statement, params)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        if url in ("sqlite://", "sqlite:///:memory:"):
            # One in-memory database shared by the worker threads, not one per thread.
            kwargs["connect_args"] = {**kwargs["connect_args"], "check_same_thread": False}
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own BEGIN so "BEGIN IMMEDIATE" is possible for writes.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        cache.watch(engine)
        return engine
    # A pool connection per database thread: a thread never queues for a connection.
    kwargs.setdefault("pool_size", WORKERS)
    # No ping before every checkout (a round trip per transaction): a connection the server
    # closed (restart, terminated backend) is found without one (:func:`_closed_by_server`),
    # and none is kept long enough for a firewall or the server to drop it silently.
    kwargs.setdefault("pool_recycle", RECYCLE_SECONDS)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _closed_by_server)
    cache.watch(engine)
    return engine


#: Seconds after which a pooled PostgreSQL connection is replaced rather than reused.
RECYCLE_SECONDS = 1800


def _closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed, without a round trip: an idle
    connection has nothing to read unless the server said goodbye (an error, then end of
    file), so a readable socket means it is gone. The pool then connects afresh."""
    if dbapi_conn.closed:
        raise exc.DisconnectionError()
    readable, _w, _x = select.select([dbapi_conn.fileno()], [], [], 0)
    if readable:
        raise exc.DisconnectionError()


#: Connection options of the document process on PostgreSQL: its heavy reads (a year of the
#: whole Khối) run in one backend, without parallel workers, which would otherwise take every
#: processor the bot's replies need.
BACKGROUND_OPTIONS = "-c max_parallel_workers_per_gather=0"


def background_database(url: str) -> Database:
    """The database of a process that reads for documents: one connection, and on PostgreSQL
    no parallel query (:data:`BACKGROUND_OPTIONS`)."""
    kwargs: dict[str, Any] = {"pool_size": 1}
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"options": BACKGROUND_OPTIONS}
    return Database.from_url(url, **kwargs)


@dataclass
class Database:
    """The engine and its session factories, created once by the composition root."""

    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session] | None = None
    _executor: ThreadPoolExecutor | None = field(default=None, repr=False)
    _writer: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        """Connect to ``url`` (SQLite or PostgreSQL)."""
        engine = make_engine(url, **kwargs)
        return cls(
            engine,
            sessionmaker(engine, expire_on_commit=False),
            sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False),
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Open a session in a transaction: commit on success, roll back on any error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite it does not take the write lock)."""
        with (self.read_sessions or self.sessions).begin() as session:
            yield session

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The threads that run database work off the event loop."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="chibo-db")
        return self._executor

    async def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking ``func`` (a query, a document build) on the database's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(func, *args, **kwargs))

    def submit(self, use_case: Callable[[Session], T]) -> asyncio.Future[T]:
        """Start ``use_case(session)`` in one write transaction on the database's threads."""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self.executor, self._in_transaction, use_case)

    async def run(self, use_case: Callable[[Session], T]) -> T:
        """Run ``use_case(session)`` in one write transaction, off the event loop."""
        return await self.call(self._in_transaction, use_case)

    async def read(self, query: Callable[[Session], T]) -> T:
        """Run ``query(session)`` in one read-only transaction, off the event loop."""
        return await self.call(self._in_reading, query)

    def _in_transaction(self, use_case: Callable[[Session], T]) -> T:
        if self.dialect == "sqlite":
            # One writer at a time anyway: queue here, in order, rather than in SQLite's busy
            # handler, whose growing sleeps (up to 100 ms) collapse throughput under contention.
            with self._writer, self.transaction() as session:
                return use_case(session)
        with self.transaction() as session:
            return use_case(session)

    def _in_reading(self, query: Callable[[Session], T]) -> T:
        with self.reading() as session:
            return query(session)

    @property
    def dialect(self) -> str:
        """The backend's name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def dispose(self) -> None:
        """Close every pooled connection and stop the worker threads."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self.engine.dispose()
