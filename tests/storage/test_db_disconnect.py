"""A pooled PostgreSQL connection the server closed is replaced at checkout, without a ping
before every transaction (PostgreSQL only: SQLite has no server to lose)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, exc, text

from storage.db import Database, make_engine


def _terminate(url: str, pid: int) -> None:
    """End backend ``pid`` from another connection, waiting until it is gone."""
    killer = make_engine(url, pool_size=1)
    try:
        with killer.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
    finally:
        killer.dispose()


def test_a_connection_closed_by_the_server_is_replaced_without_a_ping(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    url = db.engine.url.render_as_string(hide_password=False)
    pings: list[object] = []
    own = Database.from_url(url, pool_size=1, max_overflow=0)
    plain = create_engine(url, pool_size=1, max_overflow=0)  # no check, no ping
    plain.dialect.do_ping = lambda conn: pings.append(conn) or True  # type: ignore[method-assign]
    own.engine.dialect.do_ping = plain.dialect.do_ping  # type: ignore[method-assign]
    try:
        with own.reading() as session:
            first = session.scalar(text("SELECT pg_backend_pid()"))
        _terminate(url, first)
        with own.reading() as session:
            second = session.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
        with own.transaction() as session:
            third = session.scalar(text("SELECT pg_backend_pid()"))
        assert third == second  # a live connection is kept
        assert pings == []  # and none was pinged

        # Without the check, the closed connection fails the transaction that gets it.
        plain_pid = _pid(plain)
        _terminate(url, plain_pid)
        with pytest.raises(exc.OperationalError), plain.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        own.dispose()
        plain.dispose()


def _pid(engine: object) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.scalar(text("SELECT pg_backend_pid()")))
