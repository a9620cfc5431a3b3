"""The review rules with dates and numbers: who is reviewed, the watch list, report calendars."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidInput
from domain.rules import reviews as rules
from domain.rules.reviews import NotReviewable, ReportState, RollFacts
from storage.models import MemberStatus, ReviewOutcome, SignGroup

P, N, S = ReviewOutcome.PROGRESSING, ReviewOutcome.NO_CHANGE, ReviewOutcome.NEW_SIGN
FULL = RollFacts(MemberStatus.FULL, date(2010, 5, 19), None)


def test_the_rules_name_their_source() -> None:
    assert rules.RULE_SOURCE == "Quy định 4842-QĐ/TU, khoản 3 điều 4"


# --- Who is reviewed ---------------------------------------------------------------------------


def test_full_and_probationary_members_are_reviewed_exempt_members_are_apart() -> None:
    probationary = RollFacts(MemberStatus.PROBATIONARY, date(2025, 6, 1), None)
    exempt = RollFacts(MemberStatus.EXEMPT, date(1990, 1, 1), date(2024, 1, 1))
    assert rules.not_reviewable(FULL, 2026, 11) is None
    assert rules.not_reviewable(probationary, 2026, 11) is None
    assert rules.not_reviewable(exempt, 2026, 11) is NotReviewable.EXEMPT


def test_a_member_exempted_mid_year_was_reviewed_before_the_exemption() -> None:
    exempt_since_sept = RollFacts(MemberStatus.EXEMPT, date(1990, 1, 1), date(2026, 9, 15))
    assert rules.on_roll(exempt_since_sept, 2026, 8)
    assert not rules.on_roll(exempt_since_sept, 2026, 9)


def test_a_member_who_joined_mid_year_is_reviewed_from_the_month_of_admission() -> None:
    joined = RollFacts(MemberStatus.PROBATIONARY, date(2026, 9, 15), None)
    assert rules.not_reviewable(joined, 2026, 8) is NotReviewable.NOT_YET_MEMBER
    assert rules.on_roll(joined, 2026, 9)


def test_a_member_who_left_mid_year_is_reviewed_up_to_the_month_they_left() -> None:
    left = RollFacts(MemberStatus.TRANSFERRED, date(2000, 1, 1), date(2026, 10, 5))
    assert rules.on_roll(left, 2026, 10)
    assert rules.not_reviewable(left, 2026, 11) is NotReviewable.LEFT


def test_joined_on_is_the_earliest_known_date() -> None:
    assert rules.joined_on(date(2025, 3, 1), date(2025, 3, 20)) == date(2025, 3, 1)
    assert rules.joined_on(None, date(2025, 3, 20)) == date(2025, 3, 20)
    assert rules.joined_on(None, None) is None


# --- Review input --------------------------------------------------------------------------------


def test_a_review_for_a_month_in_the_future_is_refused() -> None:
    today = date(2026, 11, 16)
    rules.check_review_month(2026, 11, today)
    rules.check_review_month(2026, 10, today)
    with pytest.raises(InvalidInput) as err:
        rules.check_review_month(2026, 12, today)
    assert err.value.params == {"month": "12/2026"}
    with pytest.raises(InvalidInput):
        rules.check_review_month(2027, 1, today)


def test_a_review_too_long_ago_is_refused() -> None:
    with pytest.raises(InvalidInput):
        rules.check_review_month(2024, 1, date(2026, 11, 16))


def test_a_new_sign_needs_a_group_a_description_and_a_measure() -> None:
    ok = rules.check_review(
        S, sign_group=SignGroup.ETHICS, description="  Uống rượu   trong giờ ", measure="Nhắc nhở"
    )
    assert ok.description == "Uống rượu trong giờ"
    with pytest.raises(InvalidInput):
        rules.check_review(S, sign_group=None, description="x", measure="y")
    for empty in ("", "   ", " . ", "—", None):
        with pytest.raises(InvalidInput):
            rules.check_review(S, sign_group=SignGroup.ETHICS, description=empty, measure="y")
    with pytest.raises(InvalidInput):
        rules.check_review(S, sign_group=SignGroup.ETHICS, description="x", measure=" ")
    with pytest.raises(InvalidInput):
        rules.check_review(S, sign_group=SignGroup.ETHICS, description="x" * 501, measure="y")


def test_other_outcomes_drop_sign_details() -> None:
    checked = rules.check_review(N, sign_group=SignGroup.POLITICAL, description="x", measure="y")
    assert checked == rules.ReviewInput(N, None, None, None)


# --- Watch list ------------------------------------------------------------------------------


def test_a_new_sign_puts_a_member_on_watch_until_a_later_review_says_progressing() -> None:
    assert rules.verdict_of_history([(2026, 10, S)]).on_watch
    assert rules.verdict_of_history([(2026, 10, S), (2026, 11, N)]).on_watch
    assert not rules.verdict_of_history([(2026, 10, S), (2026, 11, P)]).on_watch


def test_no_change_three_months_running_puts_a_member_on_watch() -> None:
    two = [(2026, 9, N), (2026, 10, N)]
    assert not rules.verdict_of_history(two).on_watch
    three = [*two, (2026, 11, N)]
    verdict = rules.verdict_of_history(three)
    assert verdict.on_watch and verdict.months_without_progress == 3
    assert not rules.verdict_of_history([(2026, 9, N), (2026, 10, P), (2026, 11, N)]).on_watch


def test_a_month_without_review_does_not_break_the_run() -> None:
    verdict = rules.verdict_of_history([(2026, 9, N), (2026, 11, N)])
    assert verdict.months_without_progress == 3 and verdict.on_watch


def test_twelve_months_without_progress_is_a_ground_for_removal() -> None:
    history = [(2025, m, N) for m in range(12, 13)] + [(2026, m, N) for m in range(1, 11)]
    assert not rules.verdict_of_history(history).removal_ground  # 11 months
    verdict = rules.verdict_of_history([*history, (2026, 11, N)])
    assert verdict.removal_ground and verdict.months_without_progress == 12
    assert rules.verdict_of_history(history, no_progress_months=6).removal_ground


def test_watch_verdict_from_aggregates() -> None:
    assert rules.watch_verdict(run_start=None, run_end=None, new_signs=0) == rules.WatchVerdict(
        False, False, 0, False
    )
    start = rules.month_index(2026, 1)
    verdict = rules.watch_verdict(run_start=start, run_end=start, new_signs=1)
    assert verdict.on_watch and verdict.new_sign and verdict.months_without_progress == 1


# --- Commitments -----------------------------------------------------------------------------


def test_a_probationary_member_signs_a_commitment_but_not_before_admission() -> None:
    today = date(2026, 11, 16)
    probationary = RollFacts(MemberStatus.PROBATIONARY, date(2026, 6, 10), None)
    rules.check_commitment(year=2026, signed_on=date(2026, 6, 20), facts=probationary, today=today)
    with pytest.raises(InvalidInput):
        rules.check_commitment(
            year=2026, signed_on=date(2026, 1, 5), facts=probationary, today=today
        )
    with pytest.raises(InvalidInput):
        rules.check_commitment(year=2025, signed_on=None, facts=probationary, today=today)


def test_commitment_dates_must_be_plausible() -> None:
    today = date(2026, 11, 16)
    rules.check_commitment(year=2027, signed_on=date(2026, 11, 10), facts=FULL, today=today)
    with pytest.raises(InvalidInput):
        rules.check_commitment(year=2026, signed_on=date(2026, 12, 1), facts=FULL, today=today)
    with pytest.raises(InvalidInput):
        rules.check_commitment(year=2026, signed_on=date(2024, 1, 1), facts=FULL, today=today)
    with pytest.raises(InvalidInput):
        rules.check_commitment(year=2028, signed_on=None, facts=FULL, today=today)
    left = RollFacts(MemberStatus.REMOVED, date(2000, 1, 1), date(2025, 6, 1))
    with pytest.raises(InvalidInput):
        rules.check_commitment(year=2026, signed_on=None, facts=left, today=today)


def test_commitment_items_and_typed_dates() -> None:
    assert rules.check_item(SignGroup.ETHICS, None) == {"group": "ethics"}
    assert rules.check_item(None, " Đi muộn ") == {"text": "Đi muộn"}
    with pytest.raises(InvalidInput):
        rules.check_item(None, " ")
    today = date(2026, 11, 16)
    assert rules.parse_day("05/01/2026", today) == date(2026, 1, 5)
    assert rules.parse_day("5-1-2026", today) == date(2026, 1, 5)
    for bad in ("31/02/2026", "2026-01-05", "hôm qua", "17/11/2026"):
        with pytest.raises(InvalidInput):
            rules.parse_day(bad, today)


# --- Report calendars ------------------------------------------------------------------------


def test_quarterly_reports_are_due_on_the_20th_of_the_quarters_last_month() -> None:
    assert [rules.quarterly_due(2026, q) for q in (1, 2, 3, 4)] == [
        date(2026, 3, 20),
        date(2026, 6, 20),
        date(2026, 9, 20),
        date(2026, 12, 20),
    ]
    start, end = rules.quarterly_window(2026, 4, rules.quarterly_due(2026, 4))
    assert (start, end) == (date(2026, 10, 1), date(2026, 12, 20))
    assert rules.months_in_window(start, end) == [(2026, 10), (2026, 11), (2026, 12)]


def test_the_annual_report_covers_the_12_months_ending_15_november() -> None:
    due = rules.annual_due(2026)
    assert due == date(2026, 11, 15)
    start, end = rules.annual_window(due)
    assert (start, end) == (date(2025, 11, 16), date(2026, 11, 15))
    months = rules.months_in_window(start, end)
    assert months[0] == (2025, 12) and months[-1] == (2026, 11) and len(months) == 12


def test_report_state() -> None:
    due = date(2026, 12, 20)
    assert rules.report_state(date(2026, 12, 20), due, date(2027, 1, 5)) is ReportState.ON_TIME
    assert rules.report_state(date(2026, 12, 21), due, date(2027, 1, 5)) is ReportState.LATE
    assert rules.report_state(None, due, date(2026, 12, 20)) is ReportState.NOT_DUE
    assert rules.report_state(None, due, date(2026, 12, 21)) is ReportState.MISSING
