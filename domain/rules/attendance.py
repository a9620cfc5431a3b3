"""Attendance rules (DOMAIN.md, "Cell meetings")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from domain.vocab import AttendanceStatus, MemberStatus

RULE_SOURCE_THREE_MONTHS = "Điều lệ Đảng; Quy định thi hành Điều lệ Đảng (xóa tên đảng viên)"


def must_attend(status: MemberStatus) -> bool:
    """Full and probationary members are expected; exempt members are not counted."""
    return status.must_attend


def attendance_rate(present: int, required: int) -> float | None:
    """Present ÷ members required to attend (full + probationary, minus exempt).

    None when nobody was required (a cell with no members): no rate, not 0 % or 100 %.
    """
    if required <= 0:
        return None
    return present / required


def counts(statuses: Iterable[AttendanceStatus]) -> tuple[int, int]:
    """Return (present, required) for one meeting's attendance statuses."""
    present = required = 0
    for status in statuses:
        if status is AttendanceStatus.EXEMPT:
            continue
        required += 1
        present += status is AttendanceStatus.PRESENT
    return present, required


def can_vote_on_admission(present: int, required: int, quorum: Fraction = Fraction(2, 3)) -> bool:
    """At least 2/3 present (configurable): otherwise the meeting cannot vote on admissions."""
    return required > 0 and Fraction(present, required) >= quorum


@dataclass(frozen=True)
class ThreeMonthsVerdict:
    """What the three-months rule says of one member in one calendar year."""

    months: tuple[int, ...]  # months with an unexcused absence from the regular meeting
    level: int  # 0 nothing, 1 warn the secretary, 2 flag to secretary and Organization Board


def three_months_rule(
    months: Iterable[int], *, warn_at: int = 2, flag_at: int = 3
) -> ThreeMonthsVerdict:
    """Months of one calendar year absent without reason: warn at 2, flag at 3.

    Source: Party Statute and its implementing regulations — a member who skips party activity
    without valid reason in three months of one year is considered for removal (xóa tên).
    """
    distinct = tuple(sorted(set(months)))
    level = 2 if len(distinct) >= flag_at else 1 if len(distinct) >= warn_at else 0
    return ThreeMonthsVerdict(distinct, level)
