"""Callback data: one typed declaration per button family.

It lives in the services layer because buttons are written there too (the reminder and notice
messages of the scheduler) as well as by the handlers; :mod:`handlers.callbacks` re-exports it.

A :class:`Family` names its prefix and its fields once; from that one declaration come the data
string a button carries (:meth:`Family.data`), the pattern its handler is registered with
(:attr:`Family.pattern`) and the parser that reads a press back (:meth:`Family.parse`). Every
field is bounded where it is parsed: ids are non-negative and below 2**31 (the database's
32-bit ids), so forged or oversized data is a stale button, never a traceback.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

from domain.errors import StaleAction

#: Telegram's limit on callback data, in bytes.
DATA_MAX = 64
#: The largest id a button may carry (ids are 32-bit in the database).
ID_MAX = 2**31 - 1


@dataclass(frozen=True)
class Field:
    """One field of callback data: its pattern, how it reads and how it is written."""

    regex: str
    read: Callable[[str], Any]
    write: Callable[[Any], str] = str


def _id(value: str) -> int:
    number = int(value)
    if number > ID_MAX:
        raise StaleAction()
    return number


def _day(value: str) -> date:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as exc:
        raise StaleAction() from exc


#: A database id, a conversation key, a page, a count.
ID = Field(r"\d{1,10}", _id)
#: A calendar day written ``YYYYMMDD``.
DAY = Field(r"\d{8}", _day, lambda d: f"{d:%Y%m%d}")
#: A year.
YEAR = Field(r"\d{4}", int)
#: A month, 1–12.
MONTH = Field(r"(?:[1-9]|1[0-2])", int)
#: A short code (a state, a kind, a key of a guest).
CODE = Field(r"[a-z0-9_-]{1,24}", str)
#: A period key of the calendar: ``2026``, ``2026-H1``, ``2026-Q2``, ``2026-11``.
PERIOD = Field(r"\d{4}(?:-[HQ]?\d{1,2})?", str)


def member_of(cls: type[enum.Enum]) -> Field:
    """A field that is a value of the string enum ``cls``, read back as the member."""
    values = sorted((str(m.value) for m in cls), key=len, reverse=True)
    return Field("(?:" + "|".join(re.escape(v) for v in values) + ")", cls, lambda m: m.value)


def choice(*values: str) -> Field:
    """A field that is one of ``values``."""
    return Field("(?:" + "|".join(re.escape(v) for v in values) + ")", str)


Callback = Callable[[Update, Any], Coroutine[Any, Any, Any]]


@dataclass(frozen=True)
class Family:
    """A family of buttons: ``prefix:field:field…``."""

    prefix: str
    fields: tuple[Field, ...] = ()

    @functools.cached_property
    def pattern(self) -> str:
        """The regular expression the family's handler is registered with."""
        fields = "".join(":" + f"({f.regex})" for f in self.fields)
        return "^" + re.escape(self.prefix) + fields + "$"

    @functools.cached_property
    def _compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def data(self, *values: Any) -> str:
        """The callback data of one button of the family."""
        assert len(values) == len(self.fields), (self.prefix, values)
        text = ":".join(
            [self.prefix, *(f.write(v) for f, v in zip(self.fields, values, strict=True))]
        )
        assert len(text.encode()) <= DATA_MAX, text
        return text

    def parse(self, data: str | None) -> tuple[Any, ...]:
        """The values of a pressed button; forged or malformed data is a stale button."""
        match = self._compiled.fullmatch(data or "")
        if match is None:
            raise StaleAction()
        return tuple(f.read(v) for f, v in zip(self.fields, match.groups(), strict=True))

    def matches(self, data: str | None) -> bool:
        """Whether ``data`` is a button of this family (another family may share the prefix)."""
        return self._compiled.fullmatch(data or "") is not None

    def args(self, update: Update) -> tuple[Any, ...]:
        """The values of the button pressed in ``update``."""
        query = update.callback_query
        return self.parse(query.data if query is not None else None)

    def handler(self, callback: Callback) -> CallbackQueryHandler[Any, Any]:
        """The PTB handler of this family."""
        return CallbackQueryHandler(callback, pattern=self.pattern)
