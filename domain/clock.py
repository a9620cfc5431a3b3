"""The one place chibo asks "what time is it?" — injectable so tests and the demo move time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Anything that can tell the current UTC time."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, `chibo demo`'s ``clock`` line)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the clock's current UTC time."""
        return self._now

    def set(self, when: datetime) -> None:
        """Move the clock to ``when`` (aware)."""
        if when.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now += delta


def local_today(clock: Clock, tz: ZoneInfo) -> date:
    """Return today's calendar date in ``tz``."""
    return clock.now().astimezone(tz).date()


def local_now(clock: Clock, tz: ZoneInfo) -> datetime:
    """Return the current time in ``tz``."""
    return clock.now().astimezone(tz)
