"""Periods (month, quarter, year) and their date ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_VN = re.compile(r"^(\d{1,2})/(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq](\d)$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period string that cannot be read."""


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year."""

    kind: str  # "month" | "quarter" | "year"
    year: int
    index: int = 1  # month 1..12, quarter 1..4, 1 for a year

    @property
    def start(self) -> date:
        """First day."""
        if self.kind == "month":
            return date(self.year, self.index, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * self.index - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """Last day (inclusive)."""
        if self.kind == "month":
            nxt = date(self.year + (self.index == 12), self.index % 12 + 1, 1)
            return nxt - timedelta(days=1)
        if self.kind == "quarter":
            last_month = 3 * self.index
            nxt = date(self.year + (last_month == 12), last_month % 12 + 1, 1)
            return nxt - timedelta(days=1)
        return date(self.year, 12, 31)

    @property
    def key(self) -> str:
        """Stable text form: 2026-11, 2026-Q4, 2026."""
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.index}"
        return str(self.year)

    def months(self) -> list[tuple[int, int]]:
        """The (year, month) pairs the period covers."""
        out = []
        d = self.start
        while d <= self.end:
            out.append((d.year, d.month))
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return out

    def previous(self) -> Period:
        """The period of the same kind just before."""
        if self.kind == "month":
            return month_of(self.start - timedelta(days=1))
        if self.kind == "quarter":
            d = self.start - timedelta(days=1)
            return Period("quarter", d.year, (d.month - 1) // 3 + 1)
        return Period("year", self.year - 1)


def month_of(day: date) -> Period:
    """The month containing ``day``."""
    return Period("month", day.year, day.month)


def quarter_of(day: date) -> Period:
    """The quarter containing ``day``."""
    return Period("quarter", day.year, (day.month - 1) // 3 + 1)


def year_of(day: date) -> Period:
    """The year containing ``day``."""
    return Period("year", day.year)


def parse_period(text: str) -> Period:
    """Read ``2026-11``, ``11/2026``, ``2026-Q4`` or ``2026``; raise :class:`PeriodError`."""
    text = text.strip()
    for pattern, kind in (
        (_MONTH, "month"),
        (_MONTH_VN, "month_vn"),
        (_QUARTER, "quarter"),
        (_YEAR, "year"),
    ):
        m = pattern.match(text)
        if not m:
            continue
        if kind == "month_vn":
            month, year = int(m.group(1)), int(m.group(2))
            kind = "month"
        elif kind == "year":
            year, month = int(m.group(1)), 1
        else:
            year, month = int(m.group(1)), int(m.group(2))
        if not 1900 <= year <= 2200:
            raise PeriodError(f"year out of range: {text}")
        if kind == "month" and not 1 <= month <= 12:
            raise PeriodError(f"no such month: {text}")
        if kind == "quarter" and not 1 <= month <= 4:
            raise PeriodError(f"no such quarter: {text}")
        return Period(kind, year, month)
    raise PeriodError(f"not a period: {text!r} (use 2026-11, 2026-Q4 or 2026)")
