"""Membership history: where and as what a member counts in a month (DOMAIN.md, "Organizations
and people": a transfer or a re-import never rewrites the past).

The rule for the month of a change: a member counts in a month where and as what they were on
the **first day of that month**. A member transferred from cell A to cell B on 15/06 counts in
A through June (they were in A on 01/06) and in B from July; a status change dated within a
month (probationary → full, exempt) counts from the next month, unless dated on the 1st.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.vocab import MemberStatus

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


#: A status period: (status, from_date, to_date), to_date excluded, None an open end.
StatusPeriod = tuple[MemberStatus, date | None, date | None]


def status_on(
    periods: Sequence[StatusPeriod],
    day: date,
    *,
    current: MemberStatus,
    current_since: date | None,
) -> MemberStatus:
    """The status a member held on ``day`` (rule: :data:`RULE_SOURCE_MONTH`).

    From the recorded status history when one covers ``day``. A member without history counts
    with their current status when it held on ``day`` (no date, or dated on or before it);
    before a dated change they count as what preceded it: a full member was probationary, and
    an exempt, transferred or removed member was a full member (as the figures before the
    history counted them).
    """
    for status, from_date, to_date in periods:
        if covers(from_date, to_date, day):
            return status
    if current_since is None or current_since <= day:
        return current
    if current is MemberStatus.FULL:
        return MemberStatus.PROBATIONARY
    if current is MemberStatus.PROBATIONARY:
        return current
    return MemberStatus.FULL


def status_in_month(
    periods: Sequence[StatusPeriod],
    year: int,
    month: int,
    *,
    current: MemberStatus,
    current_since: date | None,
) -> MemberStatus:
    """What a member counts as in a month: their status on its first day (exempt from 15/06:
    reviewed in June, exempt from July; exempt from 01/06: exempt in June)."""
    return status_on(
        periods, counting_day(year, month), current=current, current_since=current_since
    )
