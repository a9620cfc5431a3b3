"""The outbox: messages to deliver, enqueued idempotently and sent exactly once (almost).

Life of a row::

    pending --claim--> sending --Telegram ok--> sent
                          |  \\--429 / 5xx / network--> pending (later) … failed after N tries
                          |   \\--403 / chat not found--> blocked (Person.blocked_at, admins told)
                          \\--claimer died, claim older than N minutes--> claimed again

* **Enqueueing is idempotent**: each row has a unique ``key`` (for a reminder,
  ``rem:<obligation>:<period>:<org>:<person>:<slot date>``); inserting a key that exists does
  nothing, whichever process tries, however often.
* **Claiming** happens in its own short transaction: PostgreSQL selects the rows
  ``FOR UPDATE SKIP LOCKED`` so two bot processes never claim the same row and never wait for
  each other; SQLite runs every transaction as ``BEGIN IMMEDIATE`` (one writer at a time),
  which serializes claims. A claimed row is ``sending``, stamped with the claimer and the time.
* **Marking sent** is a single ``UPDATE … SET status='sent'`` committed right after Telegram
  answers "ok" (:func:`mark_sent`).

Telegram has no idempotency key, so exactly-once has one gap: if the process dies after
Telegram accepted a message and before the ``mark_sent`` statement commits, the row stays
``sending``; once the claim is older than ``stale_after`` it is claimed again and the message
is sent a second time. That window is one UPDATE statement and its commit (plus the time the
HTTP answer is in flight). A request that times out *after* it was written is ambiguous in the
same way; the sender does not retry those (see :mod:`services.sender`), so they are the one case
that can lose a message instead. Nothing else resends a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Outbox, OutboxStatus, Person

#: A claim older than this is considered abandoned (its claimer died) and is claimed again.
STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class NewRow:
    """A message to enqueue."""

    key: str
    person_id: int
    kind: str
    payload: dict[str, Any]
    not_before: datetime


@dataclass(frozen=True)
class Claimed:
    """A claimed row, with what sending needs to know about its recipient."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    person_id: int
    attempts: int
    chat_id: int | None
    locale: str | None
    created_at: datetime


def insert_ignore(session: Session, rows: Sequence[NewRow], *, now: datetime) -> int:
    """Insert rows whose key is new; existing keys are left alone. Returns how many were new.

    The one dialect-specific statement of the outbox: ``INSERT … ON CONFLICT (key) DO NOTHING``
    (PostgreSQL and SQLite ≥ 3.24 both have it), so two processes enqueueing the same reminder
    at the same moment end up with one row and neither fails.
    """
    if not rows:
        return 0
    values = [
        {
            "key": r.key[:200],
            "person_id": r.person_id,
            "kind": r.kind[:32],
            "payload": r.payload,
            "not_before": r.not_before,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
        }
        for r in rows
    ]
    dialect = session.get_bind().dialect.name
    insert: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        insert = postgresql.insert(Outbox)
    elif dialect == "sqlite":
        insert = sqlite.insert(Outbox)
    else:  # pragma: no cover - chibo supports SQLite and PostgreSQL only
        raise NotImplementedError(dialect)
    new = 0
    for i in range(0, len(values), 500):  # stay far below the bound-parameter limits
        stmt = insert.values(values[i : i + 500]).on_conflict_do_nothing(index_elements=["key"])
        new += len(session.execute(stmt.returning(Outbox.id)).all())
    return new


def enqueue(
    session: Session,
    *,
    key: str,
    person_id: int,
    kind: str,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> bool:
    """Enqueue one message unless its key exists; returns True when it was new.

    Other features use this to send through the outbox, with the generic payload
    ``{"msgid": <English msgid>, "params": {...}, "buttons": [[[label msgid, data], …], …]}``.
    """
    return bool(
        insert_ignore(session, [NewRow(key, person_id, kind, payload, not_before)], now=now)
    )


def count(session: Session, status: OutboxStatus | None = None) -> int:
    """Rows in the outbox (of one status)."""
    stmt = select(func.count(Outbox.id))
    if status is not None:
        stmt = stmt.where(Outbox.status == status)
    return int(session.scalar(stmt) or 0)


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` that are in the outbox already (any status)."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        found.update(
            session.scalars(select(Outbox.key).where(Outbox.key.in_(wanted[i : i + 500])))
        )
    return found


def _claimable(now: datetime, stale_after: timedelta) -> Any:
    return or_(
        and_(Outbox.status == OutboxStatus.PENDING, Outbox.not_before <= now),
        and_(Outbox.status == OutboxStatus.SENDING, Outbox.claimed_at < now - stale_after),
    )


def _locked(stmt: Any, session: Session) -> Any:
    """Lock the selected rows, skipping rows another transaction holds (PostgreSQL).

    SQLite has no row locks and ignores ``FOR UPDATE``: there the transaction already holds the
    database's single write lock (``BEGIN IMMEDIATE``, see :func:`storage.db.make_engine`).
    """
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True, of=Outbox)
    return stmt


def select_claimable(
    session: Session,
    *,
    now: datetime,
    limit: int,
    stale_after: timedelta = STALE_AFTER,
    exclude_kinds: Iterable[str] = (),
) -> list[int]:
    """Ids of rows to claim, locked for this transaction (the first half of :func:`claim`).

    Rows of one person come together: a secretary's reminders for two cells become one message.
    """
    excluded = list(exclude_kinds)
    stmt = select(Outbox.id, Outbox.person_id).where(_claimable(now, stale_after))
    if excluded:
        stmt = stmt.where(Outbox.kind.not_in(excluded))
    stmt = stmt.order_by(Outbox.not_before, Outbox.id).limit(limit)
    picked = session.execute(_locked(stmt, session)).all()
    if not picked:
        return []
    ids = [i for i, _p in picked]
    persons = sorted({p for _i, p in picked})
    more = select(Outbox.id).where(
        _claimable(now, stale_after),
        Outbox.person_id.in_(persons),
        Outbox.kind == "reminder",
        Outbox.id.not_in(ids),
    )
    if excluded:
        more = more.where(Outbox.kind.not_in(excluded))
    ids.extend(session.scalars(_locked(more.order_by(Outbox.id), session)))
    return ids


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    limit: int = 20,
    stale_after: timedelta = STALE_AFTER,
    max_attempts: int = 5,
    exclude_kinds: Iterable[str] = (),
) -> list[Claimed]:
    """Claim due rows for ``worker``: mark them ``sending`` and return them.

    Call it in a transaction of its own and commit at once, so the locks are short. Rows whose
    claims went stale ``max_attempts`` times are given up (``failed``) instead.
    """
    ids = select_claimable(
        session, now=now, limit=limit, stale_after=stale_after, exclude_kinds=exclude_kinds
    )
    if not ids:
        return []
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids), Outbox.attempts >= max_attempts)
        .values(
            status=OutboxStatus.FAILED,
            last_error=f"gave up after {max_attempts} attempts",
            claimed_by=None,
        )
    )
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids), Outbox.attempts < max_attempts)
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker[:64],
            claimed_at=now,
            attempts=Outbox.attempts + 1,
        )
    )
    rows = session.execute(
        select(
            Outbox.id,
            Outbox.key,
            Outbox.kind,
            Outbox.payload,
            Outbox.person_id,
            Outbox.attempts,
            Person.telegram_user_id,
            Person.locale,
            Outbox.created_at,
        )
        .join(Person, Person.id == Outbox.person_id)
        .where(
            Outbox.id.in_(ids),
            Outbox.claimed_by == worker[:64],
            Outbox.status == OutboxStatus.SENDING,
        )
        .order_by(Outbox.person_id, Outbox.id)
    ).all()
    return [Claimed(*r) for r in rows]


def mark_sent(
    session: Session, *, ids: Sequence[int], worker: str, message_id: int | None, now: datetime
) -> int:
    """Mark rows sent: ONE statement, committed by the caller right after Telegram's "ok".

    This statement and its commit are the whole duplicate window (see the module docstring).
    Returns the rows changed (0 if another worker took the claim over meanwhile).
    """
    result = session.execute(
        update(Outbox)
        .where(
            Outbox.id.in_(list(ids)),
            Outbox.status == OutboxStatus.SENDING,
            Outbox.claimed_by == worker[:64],
        )
        .values(status=OutboxStatus.SENT, sent_at=now, telegram_message_id=message_id)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release(
    session: Session,
    *,
    ids: Sequence[int],
    worker: str,
    not_before: datetime,
    error: str,
    max_attempts: int,
    count_attempt: bool = True,
) -> None:
    """Put claimed rows back to ``pending`` until ``not_before``, or fail them after N tries.

    ``count_attempt=False`` (flood control, 429) gives the claim's attempt back.
    """
    mine = and_(
        Outbox.id.in_(list(ids)),
        Outbox.status == OutboxStatus.SENDING,
        Outbox.claimed_by == worker[:64],
    )
    if not count_attempt:
        session.execute(update(Outbox).where(mine).values(attempts=Outbox.attempts - 1))
    session.execute(
        update(Outbox)
        .where(mine, Outbox.attempts >= max_attempts)
        .values(status=OutboxStatus.FAILED, last_error=error[:300], claimed_by=None)
    )
    session.execute(
        update(Outbox)
        .where(mine, Outbox.attempts < max_attempts)
        .values(
            status=OutboxStatus.PENDING,
            not_before=not_before,
            last_error=error[:300],
            claimed_by=None,
            claimed_at=None,
        )
    )


def fail(session: Session, *, ids: Sequence[int], worker: str, error: str) -> None:
    """Give claimed rows up for good (a request Telegram will never accept)."""
    session.execute(
        update(Outbox)
        .where(
            Outbox.id.in_(list(ids)),
            Outbox.status == OutboxStatus.SENDING,
            Outbox.claimed_by == worker[:64],
        )
        .values(status=OutboxStatus.FAILED, last_error=error[:300], claimed_by=None)
    )


def block(
    session: Session, *, ids: Sequence[int], person_id: int, worker: str, error: str, now: datetime
) -> bool:
    """The person blocked the bot (403): stop sending to them and note since when.

    Their other pending rows are blocked too. Returns True when the person was not known to
    be blocked before (so admins are told once).
    """
    session.execute(
        update(Outbox)
        .where(
            Outbox.id.in_(list(ids)),
            Outbox.status == OutboxStatus.SENDING,
            Outbox.claimed_by == worker[:64],
        )
        .values(status=OutboxStatus.BLOCKED, last_error=error[:300], claimed_by=None)
    )
    session.execute(
        update(Outbox)
        .where(Outbox.person_id == person_id, Outbox.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.BLOCKED, last_error=error[:300])
    )
    person = session.get(Person, person_id)
    if person is None or person.blocked_at is not None:
        return False
    person.blocked_at = now
    return True


@dataclass(frozen=True)
class Stats:
    """Outbox counts by status."""

    by_status: dict[str, int]

    def __getitem__(self, status: str) -> int:
        return self.by_status.get(status, 0)


def stats(session: Session) -> Stats:
    """Rows per status."""
    return Stats(
        {
            str(s.value if hasattr(s, "value") else s): int(n)
            for s, n in session.execute(
                select(Outbox.status, func.count(Outbox.id)).group_by(Outbox.status)
            )
        }
    )


def pending_due(
    session: Session, *, now: datetime, stale_after: timedelta = STALE_AFTER
) -> list[Claimed]:
    """Rows a drain would claim now (read only; for ``chibo reminders --at``)."""
    rows = session.execute(
        select(
            Outbox.id,
            Outbox.key,
            Outbox.kind,
            Outbox.payload,
            Outbox.person_id,
            Outbox.attempts,
            Person.telegram_user_id,
            Person.locale,
            Outbox.created_at,
        )
        .join(Person, Person.id == Outbox.person_id)
        .where(_claimable(now, stale_after))
        .order_by(Outbox.person_id, Outbox.id)
    ).all()
    return [Claimed(*r) for r in rows]
