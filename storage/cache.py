"""A process-wide cache of the reads every update makes and that rarely change: the sender's
identity and roles, the organizations below them, a cell's name and roll, the settings.

Each of them would otherwise be a statement of every update (on PostgreSQL a round trip).
Instead, the first statement of a transaction that needs one of them reads the database's
generation counter (table ``cache_generation``), which triggers raise in every transaction that
writes people, role assignments, organizations, members or settings, whichever process writes
them (the bot, the command line, the importer). A cached entry is used only when it was read
under the counter the transaction has just read, so a change is seen by every transaction that
begins after it commits, exactly as without the cache.

Inside a transaction that has itself written one of those tables (its uncommitted rows are not
for anyone else, and its own reads must see them), the cache is neither read nor filled: every
statement the engine runs is watched for such writes (:func:`watch`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

T = TypeVar("T")

#: The tables whose rows the cache holds (the migration puts a trigger on each).
WATCHED = ("people", "role_assignments", "organizations", "members", "settings")

#: The most entries a process keeps (a person's identity each, a subtree per set of roots):
#: past it the cache starts afresh rather than grow without bound.
LIMIT = 20_000

#: ``Connection.info`` keys: the counter read in the current transaction, and whether the
#: transaction may not use the cache (it wrote a watched table, or the database has no
#: counter yet).
_GENERATION = "chibo_generation"
_BYPASS = "chibo_no_cache"

_WRITE = re.compile(
    r"\s*(?:TRUNCATE|(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"
    r"\"?(?:" + "|".join(WATCHED) + r")\b)",
    re.IGNORECASE,
)
_COUNTER = text("SELECT value FROM cache_generation WHERE id = 1")


class _Entries:
    """One engine's entries: key → (counter read under, value)."""

    def __init__(self) -> None:
        self.items: dict[Hashable, tuple[int, Any]] = {}
        #: The counter the entries were last read under.
        self.generation: int | None = None
        self.hits = 0
        self.misses = 0


#: By connection pool: an engine and its variants with other execution options (the
#: read-only sessions') share one.
_caches: WeakKeyDictionary[Pool, _Entries] = WeakKeyDictionary()
_made = threading.Lock()


def _entries(engine: Engine) -> _Entries:
    found = _caches.get(engine.pool)
    if found is None:
        with _made:
            found = _caches.setdefault(engine.pool, _Entries())
    return found


def cached(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``'s value, from the cache when it holds one read under the current counter.

    ``load`` runs in ``session``'s transaction. Its value is shared by every thread of the
    process afterwards: it must be immutable (frozen dataclasses, tuples, rows, read-only
    mappings) or copied by the caller before any change."""
    session.flush()  # pending writes of a watched table count as this transaction's writes
    connection = session.connection()
    info = connection.info
    if info.get(_BYPASS):
        return load()
    generation = info.get(_GENERATION)
    if generation is None:
        generation = connection.execute(_COUNTER).scalar()
        if generation is None:  # a database the migration has not reached: no cache
            info[_BYPASS] = True
            return load()
        info[_GENERATION] = generation
    entries = _entries(connection.engine)
    if entries.generation != generation:
        # Everything held was read under another counter: of no use any more, and let go at
        # once (a person's erased name does not stay in memory until it is pushed out).
        entries.items.clear()
        entries.generation = generation
    found = entries.items.get(key)
    # The entry's own counter is checked too: a thread whose transaction began before a change
    # may store an entry just after another thread moved the cache on to the new counter.
    if found is not None and found[0] == generation:
        entries.hits += 1
        return found[1]
    entries.misses += 1
    value = load()
    if not info.get(_BYPASS):
        if len(entries.items) >= LIMIT:
            entries.items.clear()
        entries.items[key] = (generation, value)
    return value


def figures(engine: Engine) -> tuple[int, int, int]:
    """(entries, hits, misses) of ``engine``'s cache, for the health report and the tests."""
    entries = _entries(engine)
    return len(entries.items), entries.hits, entries.misses


def _begin(connection: Connection) -> None:
    info = connection.info
    info.pop(_GENERATION, None)
    info.pop(_BYPASS, None)


def _note_writes(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement[:6].upper() != "SELECT" and _WRITE.match(statement):
        connection.info[_BYPASS] = True


def watch(engine: Engine) -> None:
    """Watch ``engine``'s transactions: each starts without a counter read, and one that
    writes a watched table stops using the cache until it ends."""
    event.listen(engine, "begin", _begin)
    event.listen(engine, "before_cursor_execute", _note_writes)
