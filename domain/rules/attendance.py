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


#: Who votes on admissions, and how many must take part.
RULE_SOURCE_ADMISSION_VOTE = (
    "Điều lệ Đảng, Điều 4 (đảng viên dự bị không biểu quyết); Quy định 294-QĐ/TW "
    "(ít nhất 2/3 đảng viên chính thức tán thành)"
)


def can_vote_on_admission(
    full_present: int, full_members: int, quorum: Fraction = Fraction(2, 3)
) -> bool:
    """At least 2/3 of the cell's *full* members present (configurable), else no admission vote.

    Probationary members do not vote (Party Statute art. 4), so both numbers count full members
    only: ``full_members`` is the cell's full members minus those exempt from meetings. A cell
    with 13 of its 21 full members present (16 of 24 with the probationary) cannot vote.
    Source: :data:`RULE_SOURCE_ADMISSION_VOTE`. The attendance rate is a different figure.
    """
    return full_members > 0 and Fraction(full_present, full_members) >= quorum


def full_member_counts(roll: Iterable[tuple[MemberStatus, bool]]) -> tuple[int, int]:
    """(full present, full members) from (status, present) of the required roll."""
    present = members = 0
    for status, here in roll:
        if status is MemberStatus.FULL:
            members += 1
            present += bool(here)
    return present, members


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
