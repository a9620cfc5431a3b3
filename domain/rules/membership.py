"""Membership history: where and as what a member counts in a month (DOMAIN.md, "Organizations
and people": a transfer or a re-import never rewrites the past).

The rule for the month of a change: a member counts in a month where and as what they were on
the **first day of that month**. A member transferred from cell A to cell B on 15/06 counts in
A through June (they were in A on 01/06) and in B from July; a status change dated within a
month (probationary → full, exempt) counts from the next month, unless dated on the 1st.
"""

from __future__ import annotations

from datetime import date

RULE_SOURCE_MONTH = (
    "chibo: đảng viên được tính theo nơi sinh hoạt và tình trạng vào ngày đầu tháng "
    "(chuyển sinh hoạt giữa tháng được tính từ tháng sau)"
)


def counting_day(year: int, month: int) -> date:
    """The day that decides where and as what a member counts in a month: its first day."""
    return date(year, month, 1)


def covers(from_date: date | None, to_date: date | None, day: date) -> bool:
    """Whether a period [from_date, to_date) holds on ``day`` (None: open end)."""
    return (from_date is None or from_date <= day) and (to_date is None or day < to_date)
