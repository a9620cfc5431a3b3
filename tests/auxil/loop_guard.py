"""Database work never runs on the event loop: a transaction opened by bot code (``handlers/``
or ``services/``) on the thread that runs the event loop fails the test that caused it.

Bot code runs its use cases on the database's threads (``Env.run``, ``Database.run``,
``Database.call``); a ``with db.transaction()`` left in an ``async def`` would hold up every
other person's reply while it runs. Tests themselves may open transactions anywhere."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
#: Where bot code lives whose database work must be off the event loop.
GUARDED = tuple(str(ROOT / name) + "/" for name in ("handlers", "services"))


class DatabaseOnTheLoop(AssertionError):
    """Bot code opened a transaction on the event loop's thread."""


def _culprit() -> str | None:
    """The bot function on the current stack, when this thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None  # a database thread, or code with no loop at all (the CLI)
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(GUARDED):
            return f"{frame.f_code.co_qualname} ({frame.f_code.co_filename}:{frame.f_lineno})"
        frame = frame.f_back
    return None


def _guarded(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def guarded(self: Database, *args: Any, **kwargs: Any) -> Any:
        culprit = _culprit()
        if culprit is not None:
            raise DatabaseOnTheLoop(f"database work on the event loop, in {culprit}")
        return original(self, *args, **kwargs)

    return guarded


@contextmanager
def database_off_the_loop() -> Iterator[None]:
    """Fail any transaction that bot code opens on the event loop's thread."""
    originals = {name: getattr(Database, name) for name in ("transaction", "reading")}
    for name, original in originals.items():
        setattr(Database, name, _guarded(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(Database, name, original)
