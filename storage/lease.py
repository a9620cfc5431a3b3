"""The active-instance lease: one row per name, held by one process, renewed while it lives.

Two ``chibo run`` processes on one database: the one holding the ``bot`` lease polls Telegram
(or serves the webhook) and sends reminders; the other waits and checks every few seconds. A
holder renews its lease well before it expires; when it dies, its lease runs out and the
waiting process takes over. A process on the same host whose holder process is gone (a crash,
a restart by systemd) takes over at once, without waiting for the expiry.

A row, not a file or a session-level advisory lock: it works the same on SQLite and
PostgreSQL, survives connection pool recycling, and shows who is active in plain SQL
(``SELECT * FROM leases``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import Lease


def holder_of(session: Session, name: str) -> Lease | None:
    """The current lease row (expired or not)."""
    return session.get(Lease, name)


def try_acquire(
    session: Session,
    *,
    name: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
    holder_is_dead: Callable[[str], bool] = lambda _h: False,
) -> bool:
    """Take the lease if it is free, expired, ours already, or its holder is known dead.

    Call in a transaction of its own. On PostgreSQL the row is locked (``FOR UPDATE``) so two
    processes deciding at the same moment are serialized; SQLite serializes every write
    transaction already (``BEGIN IMMEDIATE``).
    """
    stmt = select(Lease).where(Lease.name == name)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        session.add(Lease(name=name, holder=holder[:120], acquired_at=now, expires_at=now + ttl))
        session.flush()
        return True
    if row.holder == holder[:120]:
        row.expires_at = now + ttl
        return True
    if row.expires_at <= now or holder_is_dead(row.holder):
        row.holder = holder[:120]
        row.acquired_at = now
        row.expires_at = now + ttl
        return True
    return False


def renew(session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Extend our lease; False when it is no longer ours (another process took it over)."""
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder[:120])
        .values(expires_at=now + ttl)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, *, name: str, holder: str) -> None:
    """Give the lease up (a clean stop), so a waiting process takes over at once."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder[:120]))
