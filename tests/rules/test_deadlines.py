"""Calendar rules: due dates, working days with holidays, reminder slots, quiet hours; catalogs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import (
    CatalogError,
    default_catalog,
    default_holidays,
    parse_catalog,
    parse_holidays,
)
from domain.rules.deadlines import (
    DigestRule,
    DueRule,
    PeriodRef,
    ReminderPlan,
    RuleError,
    WorkCalendar,
    current_slot,
    due_date,
    due_state,
    in_quiet_hours,
    is_digest_day,
    may_send_now,
    nominal_due,
    parse_period_key,
    periods_due_between,
    plan_slots,
    probation_due,
    reminder_slots,
    sending_hour,
    validate_rule,
)
from domain.rules.holidays import HolidayRules

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = ReminderPlan()
#: The law's holidays of every year (computed) and the shipped decisions.
CAL = WorkCalendar(
    holidays=frozenset(default_holidays().days),
    working_days=frozenset(default_holidays().working_days),
    rules=HolidayRules(),
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


# --- Working days ------------------------------------------------------------------------------


def test_tet_and_weekends_are_not_working_days() -> None:
    assert not CAL.is_working_day(date(2027, 2, 8))  # Tết Đinh Mùi
    assert not CAL.is_working_day(date(2027, 2, 13))  # Saturday
    assert not CAL.is_working_day(date(2027, 2, 11))  # in lieu of mùng 2 (a Sunday)
    assert CAL.is_working_day(date(2027, 2, 12))
    assert CAL.is_sending_day(date(2027, 2, 13))  # Saturday: reminders allowed
    assert not CAL.is_sending_day(date(2027, 2, 14))  # Sunday
    assert not CAL.is_sending_day(date(2027, 9, 2))  # Quốc khánh


def test_thirty_working_days_skip_weekends_and_tet() -> None:
    # Probation ends Monday 18 January 2027: 30 working days, Tết 4–10 Feb being off.
    rule = DueRule(every="probation_end", working_days=30)
    due = probation_due(date(2027, 1, 18), rule, CAL)
    assert CAL.working_days_between(date(2027, 1, 18), due) == 30
    # Without the holidays it would be 10 calendar days earlier (5 Tết working days).
    plain = probation_due(date(2027, 1, 18), rule, WorkCalendar())
    assert (due - plain).days == 7
    assert due == date(2027, 3, 8)


# --- Due dates ---------------------------------------------------------------------------------


def test_quarterly_report_is_due_on_day_20_of_each_quarters_last_month() -> None:
    rule = DueRule(every="quarter", month=3, day=20)
    found = periods_due_between(rule, date(2026, 1, 1), date(2026, 12, 31), CAL)
    assert [(p.key, d) for p, d in found] == [
        ("2026-Q1", date(2026, 3, 20)),
        ("2026-Q2", date(2026, 6, 20)),
        ("2026-Q3", date(2026, 9, 20)),
        ("2026-Q4", date(2026, 12, 20)),
    ]


def test_quarters_across_the_year_boundary() -> None:
    rule = DueRule(every="quarter", day="last")
    found = periods_due_between(rule, date(2026, 12, 1), date(2027, 4, 5), CAL)
    assert [p.key for p, _ in found] == ["2026-Q4", "2027-Q1"]
    assert PeriodRef("quarter", 2026, 4).next() == PeriodRef("quarter", 2027, 1)
    assert parse_period_key("2026-Q4") == PeriodRef("quarter", 2026, 4)
    assert parse_period_key("2027-H1") == PeriodRef("half_year", 2027, 1)
    assert parse_period_key("2028-02") == PeriodRef("month", 2028, 2)


def test_a_cells_usual_day_and_february_29() -> None:
    rule = DueRule(every="month", day="usual")
    feb_2028 = PeriodRef("month", 2028, 2)
    assert nominal_due(rule, feb_2028, usual_day=30) == date(2028, 2, 29)
    assert nominal_due(rule, PeriodRef("month", 2027, 2), usual_day=30) == date(2027, 2, 28)
    assert nominal_due(rule, feb_2028, usual_day=None) == date(2028, 2, 29)  # end of month
    assert nominal_due(rule, feb_2028, usual_day=10) == date(2028, 2, 10)


def test_a_deadline_on_a_day_off_rolls_only_when_the_rule_says_so() -> None:
    sunday = PeriodRef("year", 2026)  # 15 November 2026 is a Sunday
    keep = DueRule(every="year", month=11, day=15)
    assert due_date(keep, sunday, CAL) == date(2026, 11, 15)
    rolled = DueRule(every="year", month=11, day=15, roll="next_working_day")
    assert due_date(rolled, sunday, CAL) == date(2026, 11, 16)
    earlier = DueRule(every="year", month=9, day=2, roll="previous_working_day")
    assert due_date(earlier, PeriodRef("year", 2027), CAL) == date(2027, 9, 1)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (DueRule(every="quarter", month=3, day=31), "day 31 does not exist in June"),
        (DueRule(every="year", month=2, day=29), "day 29 does not exist in February"),
        (DueRule(every="quarter", month=4, day=1), "month 4 is outside a quarter"),
        (DueRule(every="fortnight"), "every = 'fortnight'"),
        (DueRule(every="year", month=11, day=15, roll="sideways"), "roll"),
        (DueRule(every="probation_end", working_days=0), "working_days"),
    ],
)
def test_bad_date_rules_are_refused(rule: DueRule, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        validate_rule(rule)


# --- Reminder slots ----------------------------------------------------------------------------


def test_the_default_plan_7_3_1_the_day_then_every_2_days() -> None:
    due = date(2027, 3, 10)  # Wednesday
    slots = plan_slots(due, PLAN)
    assert slots[:4] == [date(2027, 3, 3), date(2027, 3, 7), date(2027, 3, 9), due]
    assert slots[4:7] == [date(2027, 3, 12), date(2027, 3, 14), date(2027, 3, 16)]
    assert slots[-1] == due + timedelta(days=30)
    moved = reminder_slots(due, PLAN, CAL)
    assert date(2027, 3, 7) not in moved  # a Sunday…
    assert date(2027, 3, 8) in moved  # …moves to Monday morning
    assert all(CAL.is_sending_day(d) for d in moved)


def test_a_sunday_deadline_gets_its_day_reminder_on_monday_merged_with_nothing_lost() -> None:
    due = date(2026, 11, 15)  # Sunday
    slots = reminder_slots(due, PLAN, CAL)
    assert date(2026, 11, 14) in slots  # the day before (Saturday)
    assert date(2026, 11, 15) not in slots
    assert date(2026, 11, 16) in slots  # on-the-day reminder, next sending morning
    assert date(2026, 11, 17) in slots  # +2 overdue


def test_a_holiday_reminder_moves_to_the_next_sending_day() -> None:
    due = date(2027, 9, 2)  # Quốc khánh (2–3 Sep 2027 off)
    slots = reminder_slots(due, PLAN, CAL)
    assert date(2027, 9, 1) in slots
    assert date(2027, 9, 2) not in slots and date(2027, 9, 3) not in slots
    assert date(2027, 9, 4) in slots  # Saturday: on-the-day reminder moved
    tet = reminder_slots(date(2027, 2, 10), PLAN, CAL)
    assert not any(date(2027, 2, 4) <= d <= date(2027, 2, 10) for d in tet)


def test_quiet_hours_and_sending_hours() -> None:
    assert in_quiet_hours(at(date(2027, 3, 1), 21), PLAN)
    assert in_quiet_hours(at(date(2027, 3, 1), 6, 59), PLAN)
    assert not in_quiet_hours(at(date(2027, 3, 1), 7), PLAN)
    assert sending_hour(None, PLAN) == 8
    assert sending_hour(6, PLAN) == 7
    assert sending_hour(22, PLAN) == 20
    assert sending_hour(15, PLAN) == 15
    assert may_send_now(at(date(2027, 3, 1), 8), CAL, PLAN)
    assert not may_send_now(at(date(2027, 3, 7), 8), CAL, PLAN)  # Sunday
    assert not may_send_now(at(date(2027, 4, 16), 8), CAL, PLAN)  # Hùng Kings' day
    assert not may_send_now(at(date(2027, 3, 1), 23), CAL, PLAN)


def test_only_the_newest_missed_slot_counts() -> None:
    due = date(2027, 3, 10)
    slots = reminder_slots(due, PLAN, CAL)
    assert current_slot(slots, at(date(2027, 3, 3), 7), 8, PLAN) is None  # before 08:00
    assert current_slot(slots, at(date(2027, 3, 3), 8), 8, PLAN) == date(2027, 3, 3)
    # Down from 2 March to the morning of the 17th: one reminder, for the 16th's slot.
    assert current_slot(slots, at(date(2027, 3, 17), 9), 8, PLAN) == date(2027, 3, 16)
    # The Sunday 14th slot is the Monday 15th's.
    assert current_slot(slots, at(date(2027, 3, 15), 9), 8, PLAN) == date(2027, 3, 15)
    # Long after the last slot: nothing stale is sent.
    assert current_slot(slots, at(date(2027, 5, 1), 9), 8, PLAN) is None
    assert current_slot(slots, at(slots[-1], 8), 8, PLAN) == slots[-1]


def test_due_state() -> None:
    assert due_state(date(2027, 3, 10), date(2027, 3, 7)).state == "upcoming"
    assert due_state(date(2027, 3, 10), date(2027, 3, 10)).state == "today"
    late = due_state(date(2027, 3, 10), date(2027, 3, 12))
    assert (late.state, late.days) == ("overdue", 2)


def test_digest_days_monday_and_the_morning_after_a_deadline() -> None:
    rule = DigestRule()
    assert is_digest_day(date(2027, 3, 1), [], CAL, rule)  # Monday
    assert not is_digest_day(date(2027, 3, 2), [], CAL, rule)
    assert is_digest_day(date(2027, 3, 11), [date(2027, 3, 10)], CAL, rule)
    # Deadline on Saturday: the digest waits for Monday (Sunday is no sending day).
    assert is_digest_day(date(2027, 3, 15), [date(2027, 3, 13)], CAL, rule)
    # Monday 3 May 2027 is a holiday (1 May in lieu): the weekly digest comes on Tuesday.
    assert is_digest_day(date(2027, 5, 4), [], CAL, rule)


# --- Catalogs ----------------------------------------------------------------------------------


def test_the_shipped_catalog_reproduces_the_domain_table() -> None:
    catalog = default_catalog()
    codes = {o.code for o in catalog.obligations}
    assert codes == {
        "regular_meeting",
        "commitment_review",
        "candidate_consideration",
        "thematic_meeting",
        "remedy_quarterly",
        "remedy_annual",
        "plan_annual",
        "full_membership",
        "candidate_decision",
        "candidate_ceremony",
        "secretaries_briefing",
        "steering_half_year",
        "steering_annual",
    }
    assert all(o.rule_source for o in catalog.obligations)
    remedy = catalog.get("remedy_quarterly")
    assert remedy is not None
    assert [
        d for _p, d in periods_due_between(remedy.due, date(2027, 1, 1), date(2027, 12, 31), CAL)
    ] == [date(2027, 3, 22), date(2027, 6, 21), date(2027, 9, 20), date(2027, 12, 20)]
    # 20/3/2027 is a Saturday and 20/6 a Sunday: the next working day (Civil Code art. 148).
    assert remedy.due.roll == "next_working_day" and catalog.if_day_off == "next_working_day"
    meeting = catalog.get("regular_meeting")
    assert meeting is not None and meeting.due.roll == "keep"
    annual = catalog.get("remedy_annual")
    assert annual is not None and nominal_due(annual.due, PeriodRef("year", 2027)) == date(
        2027, 11, 15
    )
    member = catalog.get("full_membership")
    assert member is not None and member.due.working_days == 30
    assert catalog.plan.days_before == (7, 3, 1) and catalog.plan.overdue_every_days == 2
    assert catalog.plan.hour == 8 and (catalog.plan.quiet_start, catalog.plan.quiet_end) == (21, 7)
    assert catalog.no_reminders_on == frozenset({6})
    steering = catalog.get("steering_annual")
    # Recorded in /enterprises: discharged by the record, chased after the day like the others.
    assert steering is not None and not steering.manual
    assert steering.discharged_by == "steering_review" and steering.plan.overdue_every_days == 2


def test_the_holiday_file_holds_only_the_governments_decisions() -> None:
    shipped = default_holidays()
    assert date(2026, 1, 2) in shipped.days and date(2026, 1, 10) in shipped.working_days
    assert all(d.source for d in shipped.parsed.decisions)
    assert shipped.parsed.rules == {
        "tet_days_before": 1,
        "tet_days_after": 3,
        "national_day_adjacent": "practice",
        "substitute": True,
    }


GOOD = """
version = 1
[reminders]
days_before = [5]
[[obligation]]
code = "regular_meeting"
title_vi = "Sinh hoạt"
title_en = "Meeting"
rule_source = "Điều lệ Đảng"
every = "month"
day = "usual"
owed_by = ["cell"]
remind = ["secretary"]
discharged_by = "regular_meeting"
"""


def test_an_edited_catalog_parses_with_its_own_plan() -> None:
    catalog = parse_catalog(GOOD, source="mine.toml")
    (only,) = catalog.obligations
    assert only.plan.days_before == (5,)
    assert only.plan.overdue_every_days == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace('day = "usual"', "day = 31\nmonth = 2"), "'regular_meeting': bad date rule"),
        (
            GOOD.replace('every = "month"', 'every = "quarter"').replace(
                'day = "usual"', "day = 31\nmonth = 3"
            ),
            "day 31 does not exist in June",
        ),
        (GOOD.replace('day = "usual"', 'day = "whenever"'), "day must be 1–31"),
        (GOOD.replace('rule_source = "Điều lệ Đảng"', ""), "rule_source is missing"),
        (GOOD.replace('remind = ["secretary"]', 'remind = ["boss"]'), "unknown role 'boss'"),
        (GOOD + GOOD.split("[[obligation]]")[1].join(["[[obligation]]", ""]), "used twice"),
        (GOOD.replace("owed_by", "owed_bye"), "unknown key 'owed_bye'"),
        (
            GOOD.replace('discharged_by = "regular_meeting"', 'discharged_by = "report"'),
            "report_kind",
        ),
        (GOOD.replace("days_before = [5]", "days_before = [0]"), "days_before"),
        ("version = 1\n[[obligation]\n", "not valid TOML"),
    ],
)
def test_a_bad_catalog_names_its_problem(text: str, expected: str) -> None:
    with pytest.raises(CatalogError) as info:
        parse_catalog(text, source="bad.toml")
    assert "bad.toml" in str(info.value)
    assert expected in str(info.value)
    assert "unchanged" in str(info.value)


def test_a_bad_holiday_file_names_its_problem() -> None:
    with pytest.raises(CatalogError, match="holiday #1"):
        parse_holidays('[[holiday]]\nfrom = 2027-02-10\nto = 2027-02-01\nname = "x"\n')
    ok = parse_holidays('[[holiday]]\nfrom = 2027-02-04\nto = 2027-02-06\nname = "Tết"\n')
    assert sorted(ok.days) == [date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 6)]
