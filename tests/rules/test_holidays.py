"""Public holidays of any year (Labour Code 2019 art. 112) with Vietnam's lunar calendar."""

from __future__ import annotations

from datetime import date

import pytest
from lunar_vn import LunarDate, lunar_to_solar

from domain.calendar import default_catalog, default_holidays, file_work_calendar
from domain.rules.deadlines import DueRule, PeriodRef, WorkCalendar, due_date
from domain.rules.holidays import (
    HolidayFileError,
    HolidayRules,
    RecurringHoliday,
    hung_kings_day,
    lunar_new_year,
    parse_holiday_data,
    public_holidays,
)
from domain.rules.reviews import ReportState, report_state

LAW = WorkCalendar(rules=HolidayRules())


def test_tet_2030_is_saturday_2_february_in_vietnam_not_the_3rd_as_in_china() -> None:
    assert lunar_new_year(2030) == date(2030, 2, 2)
    assert lunar_new_year(2030).weekday() == 5
    # The same algorithm for China's time zone (UTC+8) gives the 3rd: the time zone matters.
    assert lunar_to_solar(LunarDate(1, 1, 2030), 8.0) == date(2030, 2, 3)


def test_tet_2029_and_2030_are_days_off() -> None:
    # 2029: mùng 1 is Tuesday 13/02; the last day of the lunar year (12/02) and mùng 2–4.
    days_2029 = public_holidays(2029)
    assert [d for d, n in days_2029.items() if "Tết Nguyên đán" in n] == [
        date(2029, 2, d) for d in (12, 13, 14, 15, 16)
    ]
    assert all(not LAW.is_working_day(date(2029, 2, d)) for d in range(12, 17))
    assert LAW.is_working_day(date(2029, 2, 19))
    # 2030: Friday 01/02 to Tuesday 05/02; mùng 1 and 2 fall on the weekend, so Wednesday 06/02
    # and Thursday 07/02 are days off in lieu (Điều 111 khoản 3); Friday 08/02 is worked.
    days_2030 = public_holidays(2030)
    assert days_2030[date(2030, 2, 2)] == "Tết Nguyên đán (mùng 1)"
    for d in range(1, 8):
        assert not LAW.is_working_day(date(2030, 2, d)), d
    assert "Nghỉ bù" in days_2030[date(2030, 2, 6)] and "Nghỉ bù" in days_2030[date(2030, 2, 7)]
    assert LAW.is_working_day(date(2030, 2, 8))


HUNG_KINGS = {
    2026: date(2026, 4, 26),
    2027: date(2027, 4, 16),
    2028: date(2028, 4, 4),
    2029: date(2029, 4, 23),
    2030: date(2030, 4, 12),
    2031: date(2031, 4, 1),
    2032: date(2032, 4, 19),
    2033: date(2033, 4, 9),
    2034: date(2034, 4, 28),
    2035: date(2035, 4, 17),
}


@pytest.mark.parametrize(("year", "day"), sorted(HUNG_KINGS.items()))
def test_hung_kings_day_is_a_day_off_every_year(year: int, day: date) -> None:
    assert hung_kings_day(year) == day
    assert public_holidays(year)[day].startswith("Giỗ Tổ Hùng Vương")
    assert LAW.is_holiday(day) and not LAW.is_working_day(day)


def test_a_holiday_on_a_weekend_gives_the_next_working_day_off() -> None:
    # Giỗ Tổ 2026 is Sunday 26/04: Monday 27/04 is off.
    assert not LAW.is_working_day(date(2026, 4, 27))
    # 2/9/2029 is a Sunday: 3/9 is the adjacent day, so Tuesday 4/9 is the day in lieu.
    days = public_holidays(2029)
    assert date(2029, 9, 3) in days and "Nghỉ bù" in days[date(2029, 9, 4)]
    assert LAW.is_working_day(date(2029, 9, 5))
    # Without substitution (configurable) Monday 27/04/2026 is worked.
    assert date(2026, 4, 27) not in public_holidays(2026, HolidayRules(substitute=False))


def test_the_day_next_to_the_national_day_is_configurable() -> None:
    # 2/9/2026 is a Wednesday: recent notices chose the day before.
    assert date(2026, 9, 1) in public_holidays(2026)
    assert date(2026, 9, 3) in public_holidays(2026, HolidayRules(national_day_adjacent="after"))
    with pytest.raises(ValueError, match="national_day_adjacent"):
        HolidayRules(national_day_adjacent="whenever")


def test_a_working_saturday_and_an_extra_day_off_decided_by_the_government() -> None:
    # 2026: Friday 02/01 off, Saturday 10/01 worked instead.
    cal = WorkCalendar(
        holidays=frozenset({date(2026, 1, 2)}),
        working_days=frozenset({date(2026, 1, 10)}),
        rules=HolidayRules(),
    )
    assert not cal.is_working_day(date(2026, 1, 2))
    assert cal.is_working_day(date(2026, 1, 10)) and date(2026, 1, 10).weekday() == 5
    assert cal.working_days_between(date(2026, 1, 1), date(2026, 1, 11)) == 6
    assert LAW.working_days_between(date(2026, 1, 1), date(2026, 1, 11)) == 6


def test_a_new_holiday_the_law_adds_counts_from_its_first_year() -> None:
    culture = RecurringHoliday("Ngày Văn hóa Việt Nam", 11, 24, since=2026, source="NQ 80")
    rules = HolidayRules(added=(culture,))
    assert date(2026, 11, 24) in public_holidays(2026, rules)
    assert date(2025, 11, 24) not in public_holidays(2025, rules)
    # Sunday 24/11/2030: Monday 25/11 in lieu.
    assert date(2030, 11, 25) in public_holidays(2030, rules)


def test_a_holidays_file_is_checked_entry_by_entry() -> None:
    parsed = parse_holiday_data(
        {
            "day_off": [{"day": date(2026, 1, 2), "name": "Nghỉ", "source": "TB 1"}],
            "working_day": [{"day": date(2026, 1, 10), "name": "Làm bù"}],
            "new_holiday": [{"name": "Văn hóa", "month": 11, "day": 24, "since": 2026}],
            "rules": {"national_day_adjacent": "after"},
            "rule_source": "Thông báo",
        }
    )
    assert [(d.day.day, d.kind, d.source) for d in parsed.decisions] == [
        (2, "day_off", "TB 1"),
        (10, "working_day", "Thông báo"),
    ]
    assert parsed.added is not None and parsed.added[0].source == "Thông báo"
    with pytest.raises(HolidayFileError) as info:
        parse_holiday_data(
            {
                "working_day": [{"name": "x"}],
                "rules": {"tet_days_after": "four", "weekend": 1},
                "new_holiday": [{"name": "y", "month": 2, "day": 30}],
            }
        )
    text = str(info.value)
    assert "working_day #1" in text and "rules.tet_days_after" in text
    assert "rules: unknown key 'weekend'" in text and "new_holiday #1" in text


def test_a_report_due_on_sunday_20_september_2026_is_on_time_on_monday_21() -> None:
    rule = DueRule(every="quarter", month=3, day=20, roll="next_working_day")
    due = due_date(rule, PeriodRef("quarter", 2026, 3), LAW)
    assert due == date(2026, 9, 21)
    assert report_state(date(2026, 9, 21), due, date(2026, 9, 25)) is ReportState.ON_TIME
    assert report_state(date(2026, 9, 22), due, date(2026, 9, 25)) is ReportState.LATE
    # Kept on the day when the catalog says so.
    kept = DueRule(every="quarter", month=3, day=20, roll="keep")
    assert due_date(kept, PeriodRef("quarter", 2026, 3), LAW) == date(2026, 9, 20)


# --- The shipped decisions: only what an official text sources ----------------------------------


def _shipped_calendar() -> WorkCalendar:
    """Working days under the shipped calendar and holidays files (what `chibo calendar`
    shows and what applies until an admin loads other decisions)."""
    return file_work_calendar(default_catalog(), default_holidays())


def test_the_shipped_2026_swap_friday_2_january_off_saturday_10_january_worked() -> None:
    cal = _shipped_calendar()
    assert date(2026, 1, 2).weekday() == 4 and not cal.is_working_day(date(2026, 1, 2))
    assert date(2026, 1, 10).weekday() == 5 and cal.is_working_day(date(2026, 1, 10))
    # 01/01 to 04/01 off in a row; Monday 05/01 worked.
    assert [cal.is_working_day(date(2026, 1, d)) for d in range(1, 6)] == [
        False,
        False,
        False,
        False,
        True,
    ]
    # Each shipped decision names its document by number.
    for decision in default_holidays().parsed.decisions:
        assert "12729/VPCP-KGVX" in decision.source, decision


def test_tet_2026_is_16_to_20_february_as_the_ministry_notice_says() -> None:
    # Thông báo 9441/TB-BNV: Monday 16/02/2026 (29 tháng Chạp) to Friday 20/02 (mùng 4).
    cal = _shipped_calendar()
    assert cal.is_working_day(date(2026, 2, 13))
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(14, 23))
    assert cal.is_working_day(date(2026, 2, 23))


def test_unsourced_days_are_not_shipped() -> None:
    # No official text found for a 31/08 ↔ 22/08 swap in 2026, nor a law in force making 24/11
    # a public holiday: an admin adds them with `chibo calendar load` (see holidays.toml).
    cal = _shipped_calendar()
    assert cal.is_working_day(date(2026, 8, 31))
    assert not cal.is_working_day(date(2026, 8, 22))
    assert cal.is_working_day(date(2026, 11, 24))
    # Quốc khánh 2026 by the law's rule: Tuesday 01/09 and Wednesday 02/09.
    assert not cal.is_working_day(date(2026, 9, 1)) and not cal.is_working_day(date(2026, 9, 2))
