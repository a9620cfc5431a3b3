"""Attendance rules: the rate, the admission-vote quorum, the three-months rule."""

from __future__ import annotations

from fractions import Fraction

from domain.rules.attendance import (
    RULE_SOURCE_ADMISSION_VOTE,
    attendance_rate,
    can_vote_on_admission,
    counts,
    full_member_counts,
    must_attend,
    three_months_rule,
)
from storage.models import AttendanceStatus, MemberStatus

P, E, U, X = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.UNEXCUSED,
    AttendanceStatus.EXEMPT,
)


def test_exempt_members_are_not_in_the_denominator() -> None:
    assert counts([P, P, E, U, X]) == (2, 4)
    assert attendance_rate(*counts([P, P, E, U, X])) == 0.5
    assert not must_attend(MemberStatus.EXEMPT)
    assert must_attend(MemberStatus.PROBATIONARY)
    assert must_attend(MemberStatus.FULL)


def test_a_cell_without_members_has_no_rate() -> None:
    assert attendance_rate(0, 0) is None
    assert counts([X]) == (0, 0)
    assert attendance_rate(*counts([])) is None


def test_the_25_member_cell_with_two_absences() -> None:
    statuses = [P] * 22 + [E, U] + [X]
    present, required = counts(statuses)
    assert (present, required) == (22, 24)
    assert round(attendance_rate(present, required) or 0, 4) == 0.9167


def test_two_thirds_quorum_for_admission_votes() -> None:
    assert can_vote_on_admission(16, 24)
    assert not can_vote_on_admission(15, 24)
    assert can_vote_on_admission(2, 3)
    assert not can_vote_on_admission(0, 0)
    assert can_vote_on_admission(3, 4, Fraction(3, 4))


def test_three_months_rule_warns_at_two_and_flags_at_three() -> None:
    assert three_months_rule([]).level == 0
    assert three_months_rule([11]).level == 0
    warned = three_months_rule([12, 11])
    assert warned.level == 1 and warned.months == (11, 12)
    flagged = three_months_rule([2, 5, 9])
    assert flagged.level == 2 and flagged.months == (2, 5, 9)


def test_three_months_rule_counts_distinct_months() -> None:
    assert three_months_rule([3, 3, 3]).level == 0
    assert three_months_rule([3, 3, 4]).level == 1


def test_three_months_rule_thresholds_are_configurable() -> None:
    assert three_months_rule([1, 2], warn_at=1, flag_at=2).level == 2
    assert three_months_rule([1], warn_at=1, flag_at=2).level == 1


def test_the_admission_vote_counts_full_members_only() -> None:
    # 21 full and 3 probationary members required; 13 full and the 3 probationary present:
    # 16/24 of the roll is 2/3, but 13/21 full members is not.
    roll = [(MemberStatus.FULL, i < 13) for i in range(21)]
    roll += [(MemberStatus.PROBATIONARY, True)] * 3
    full_present, full_members = full_member_counts(roll)
    assert (full_present, full_members) == (13, 21)
    assert not can_vote_on_admission(full_present, full_members)
    assert can_vote_on_admission(14, 21)
    assert "Điều 4" in RULE_SOURCE_ADMISSION_VOTE
