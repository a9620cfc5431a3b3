"""Admission rules: stages, age in months, certificate, introducers, votes, deadlines."""

from __future__ import annotations

from datetime import date

import pytest

from domain.rules import candidates as r
from domain.rules.deadlines import WorkCalendar
from domain.vocab import CandidateStage as S
from domain.vocab import IntroducerForm, MemberStatus

CAL = WorkCalendar(holidays=frozenset({date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2)}))


def test_every_rule_source_cites_the_2025_rules() -> None:
    sources = [v for k, v in vars(r).items() if k.startswith("RULE_SOURCE_")]
    assert len(sources) >= 9
    for source in sources:
        assert "294-QĐ/TW (2025)" in source and "06-HD/TW (2025)" in source


# --- Stages ------------------------------------------------------------------------------------


def test_a_file_moves_forward_one_stage_at_a_time() -> None:
    for here, there in zip(r.PATH, r.PATH[1:], strict=False):
        assert r.check_transition(here, there) is None
    v = r.check_transition(S.SYMPATHIZER, S.MENTORS)
    assert v is not None and v.code == "skip"


def test_going_back_a_stage_needs_a_reason() -> None:
    v = r.check_transition(S.APPLICATION, S.MENTORS)
    assert v is not None and v.code == "reason_needed"
    assert r.check_transition(S.APPLICATION, S.MENTORS, "  ") is not None
    assert r.check_transition(S.APPLICATION, S.MENTORS, "introducer moved away") is None
    # Two stages back is not "one stage back".
    assert r.check_transition(S.APPLICATION, S.SYMPATHIZER, "why") is not None


def test_exits_need_a_reason_and_depend_on_the_stage() -> None:
    assert r.check_transition(S.CLASS_DONE, S.WITHDRAWN) is not None
    assert r.check_transition(S.CLASS_DONE, S.WITHDRAWN, "moved to another province") is None
    assert r.exits_from(S.PROBATION) == (S.NOT_RECOGNIZED,)
    assert r.check_transition(S.PROBATION, S.WITHDRAWN, "x") is not None
    assert r.check_transition(S.PROBATION, S.NOT_RECOGNIZED, "x") is None
    assert r.check_transition(S.PROBATION, S.DECISION, "undo the ceremony") is not None


@pytest.mark.parametrize("closed", [S.WITHDRAWN, S.NOT_ADMITTED, S.EXPIRED, S.FULL_MEMBER])
def test_a_candidate_who_left_cannot_be_moved(closed: S) -> None:
    for target in S:
        v = r.check_transition(closed, target, "reason")
        assert v is not None and v.code == "closed"
    assert r.next_stage(closed) is None and r.exits_from(closed) == ()


def test_step_dates_are_not_in_the_future_nor_before_the_previous_step() -> None:
    today = date(2026, 11, 26)
    assert r.check_step_date(today, date(2026, 11, 1), today) is None
    assert r.check_step_date(date(2026, 11, 27), None, today).code == "future"  # type: ignore[union-attr]
    v = r.check_step_date(date(2026, 10, 1), date(2026, 11, 1), today)
    assert v is not None and v.code == "before_previous"


# --- Age ---------------------------------------------------------------------------------------


def test_age_is_counted_in_months() -> None:
    on = date(2026, 5, 10)
    assert r.age_months(2008, 5, on) == 216
    assert r.age_months(2008, 6, on) == 215


def test_aged_17_years_11_months_is_too_young() -> None:
    v = r.check_age(2008, 6, date(2026, 5, 31))
    assert v is not None and v.code == "too_young" and not v.waivable
    assert v.params["years"] == 17 and v.params["months"] == 11
    assert r.check_age(2008, 5, date(2026, 5, 1)) is None  # 18 years exactly


def test_aged_60_years_1_month_needs_a_recorded_approval() -> None:
    on = date(2026, 6, 15)
    assert r.check_age(1966, 6, on) is None  # 60 years exactly
    v = r.check_age(1966, 5, on)
    assert v is not None and v.code == "too_old" and v.waivable
    assert (v.params["years"], v.params["months"]) == (60, 1)
    assert r.check_age(1966, 5, on, over_age_approved=True) is None


def test_an_unknown_birth_month_is_judged_against_the_candidate() -> None:
    # Born in 2008, month unknown: in 06/2026 they may be 17y7m (December) → not yet.
    assert r.check_age(2008, None, date(2026, 6, 1)) is not None
    assert r.check_age(2008, None, date(2026, 12, 1)) is None


@pytest.mark.parametrize(
    ("year", "month"), [(3000, 1), (2027, 1), (1900, 5), (2000, 13), (2026, 12)]
)
def test_impossible_birth_dates(year: int, month: int) -> None:
    v = r.check_birth(year, month, date(2026, 11, 26))
    assert v is not None and v.code == "birth"


def test_plausible_birth_dates() -> None:
    assert r.check_birth(1990, 2, date(2026, 11, 26)) is None
    assert r.check_birth(1990, None, date(2026, 11, 26)) is None


def test_limits_come_from_the_setting() -> None:
    rules = r.CandidateRules.from_setting({"max_age_months": 721, "junk": 3, "min_age_months": -1})
    assert rules.max_age_months == 721 and rules.min_age_months == 216
    assert r.check_age(1966, 5, date(2026, 6, 15), rules) is None


# --- Awareness class ---------------------------------------------------------------------------


def test_a_proposal_without_the_awareness_class_is_refused() -> None:
    v = r.check_certificate(None, date(2026, 11, 1))
    assert v is not None and v.code == "no_certificate"


def test_a_certificate_expires_after_the_configured_months() -> None:
    assert r.check_certificate(date(2021, 11, 1), date(2026, 11, 1)) is None
    v = r.check_certificate(date(2021, 11, 1), date(2026, 11, 2))
    assert v is not None and v.code == "certificate_expired" and v.params["months"] == 60
    short = r.CandidateRules(certificate_valid_months=24)
    assert r.check_certificate(date(2024, 1, 1), date(2026, 11, 1), short) is not None


# --- Introducers -------------------------------------------------------------------------------

FULL_A = r.Introducer(1, MemberStatus.FULL, True)
FULL_B = r.Introducer(2, MemberStatus.FULL, True)


def test_two_full_members_introduce_where_no_union_exists() -> None:
    assert r.check_introducers(IntroducerForm.TWO_MEMBERS, [FULL_A, FULL_B], 300) is None
    v = r.check_introducers(IntroducerForm.TWO_MEMBERS, [FULL_A], 300)
    assert v is not None and v.code == "introducer_count"
    assert r.check_introducers(IntroducerForm.TWO_MEMBERS, [FULL_A, FULL_A], 300) is not None


def test_a_union_introduction_goes_with_one_full_member() -> None:
    assert r.check_introducers(IntroducerForm.TRADE_UNION, [FULL_A], 500) is None
    assert r.check_introducers(IntroducerForm.YOUTH_UNION, [FULL_B], 300) is None
    v = r.check_introducers(IntroducerForm.YOUTH_UNION, [FULL_B], 31 * 12)
    assert v is not None and v.code == "not_youth_age"


def test_introducers_are_full_members_who_know_the_applicant() -> None:
    probationary = r.Introducer(3, MemberStatus.PROBATIONARY, True)
    v = r.check_introducers(IntroducerForm.TWO_MEMBERS, [FULL_A, probationary], 300)
    assert v is not None and v.code == "introducer_not_full"
    stranger = r.Introducer(4, MemberStatus.FULL, False)
    v = r.check_introducers(IntroducerForm.TRADE_UNION, [stranger], 300)
    assert v is not None and v.code == "introducer_not_known"


# --- Resolution --------------------------------------------------------------------------------


@pytest.mark.parametrize(("members", "need"), [(1, 1), (3, 2), (9, 6), (10, 7), (12, 8)])
def test_two_thirds_of_full_members_rounded_up(members: int, need: int) -> None:
    assert r.votes_needed(members) == need
    assert r.check_resolution(need, members) is None
    v = r.check_resolution(need - 1, members)
    assert v is not None and v.code == "votes_short"


def test_more_votes_in_favour_than_full_members_is_refused() -> None:
    v = r.check_resolution(8, 7)
    assert v is not None and v.code == "votes_impossible"
    assert r.check_resolution(0, 0) is not None
    assert r.check_resolution(-1, 5) is not None


# --- Deadlines ---------------------------------------------------------------------------------


def test_the_decision_is_due_60_working_days_after_the_resolution() -> None:
    resolution = date(2026, 3, 2)  # a Monday
    due = r.decision_due(resolution, CAL)
    assert CAL.working_days_between(resolution, due) == 60
    # 30/4 and 1/5 are holidays: 12 weeks of 5 days plus those two days.
    assert due == date(2026, 5, 27)
    extended = r.decision_due(resolution, CAL, extended=True)
    assert CAL.working_days_between(resolution, extended) == 90


def test_the_decision_follows_the_resolution() -> None:
    assert r.check_decision(date(2026, 3, 2), date(2026, 4, 1), date(2026, 4, 3)) is None
    assert r.check_decision(date(2026, 3, 2), date(2026, 3, 1), date(2026, 4, 3)) is not None
    assert r.check_decision(date(2026, 3, 2), date(2026, 4, 1), date(2026, 3, 31)) is not None


def test_the_ceremony_within_30_working_days_of_receipt() -> None:
    received = date(2026, 8, 17)  # Monday; 2/9 is a holiday
    due = r.ceremony_due(received, CAL)
    assert due == date(2026, 9, 29)
    assert r.check_ceremony(received, due, CAL) is None
    v = r.check_ceremony(received, date(2026, 9, 30), CAL)
    assert v is not None and v.code == "ceremony_late" and v.waivable
    assert r.check_ceremony(received, date(2026, 9, 30), CAL, late_approved=True) is None
    assert r.check_ceremony(received, date(2026, 8, 16), CAL) is not None


def test_twelve_months_of_probation_then_30_working_days() -> None:
    assert r.probation_end(date(2025, 11, 20)) == date(2026, 11, 20)
    assert r.probation_end(date(2024, 2, 29)) == date(2025, 2, 28)
    ended = date(2026, 11, 20)
    due = r.full_membership_due(ended, CAL)
    assert CAL.working_days_between(ended, due) == 30
    assert r.check_full_membership(ended, date(2026, 11, 19)) is not None
    assert r.check_full_membership(ended, ended) is None
