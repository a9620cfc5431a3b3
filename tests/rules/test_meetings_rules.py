"""Cell-meeting rules: dates, durations, content, secrecy marks, quality."""

from __future__ import annotations

from datetime import date

import pytest

from domain.rules import meetings as r
from storage.models import AbsenceReason, MeetingKind

TODAY = date(2026, 11, 16)
MINIMUMS = {"regular": 90, "combined": 120}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/11", date(2026, 11, 5)),
        ("05/11/2026", date(2026, 11, 5)),
        ("5-11-2026", date(2026, 11, 5)),
        ("5.11.2026", date(2026, 11, 5)),
        (" 16 / 11 ", date(2026, 11, 16)),
        ("29/2/2028", date(2028, 2, 29)),
        ("20/11", date(2026, 11, 20)),  # in the future: check_date refuses it, not the parser
    ],
)
def test_parse_date_reads_day_first_forms(text: str, expected: date) -> None:
    assert r.parse_date(text, TODAY) == expected


def test_a_date_without_year_typed_in_january_means_last_december() -> None:
    assert r.parse_date("28/12", date(2027, 1, 5)) == date(2026, 12, 28)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31/2", r.DateProblem.NO_SUCH_DATE),
        ("31/2/2026", r.DateProblem.NO_SUCH_DATE),
        ("29/2/2026", r.DateProblem.NO_SUCH_DATE),
        ("0/11", r.DateProblem.NO_SUCH_DATE),
        ("5/13/2026", r.DateProblem.NO_SUCH_DATE),
        ("5/11/26", r.DateProblem.TWO_DIGIT_YEAR),
        ("5-11-26", r.DateProblem.TWO_DIGIT_YEAR),
        ("5/11/202", r.DateProblem.FORMAT),
        ("hôm qua", r.DateProblem.FORMAT),
        ("2026-11-05", r.DateProblem.FORMAT),
        ("", r.DateProblem.FORMAT),
    ],
)
def test_parse_date_says_why_it_refuses(text: str, problem: r.DateProblem) -> None:
    with pytest.raises(r.DateError) as caught:
        r.parse_date(text, TODAY)
    assert caught.value.problem is problem


@pytest.mark.parametrize(
    ("day", "verdict"),
    [
        (TODAY, r.DateVerdict.OK),
        (date(2026, 10, 1), r.DateVerdict.OK),  # the previous month is normal
        (date(2026, 9, 30), r.DateVerdict.NEEDS_CONFIRMATION),
        (date(2025, 11, 1), r.DateVerdict.NEEDS_CONFIRMATION),
        (date(2025, 10, 31), r.DateVerdict.TOO_OLD),
        (date(1999, 11, 5), r.DateVerdict.TOO_OLD),
        (date(2026, 11, 17), r.DateVerdict.FUTURE),
        (date(2030, 1, 1), r.DateVerdict.FUTURE),
    ],
)
def test_check_date_window(day: date, verdict: r.DateVerdict) -> None:
    assert r.check_date(day, TODAY) is verdict


def test_check_date_previous_month_across_the_year_boundary() -> None:
    assert r.check_date(date(2026, 12, 1), date(2027, 1, 3)) is r.DateVerdict.OK
    assert r.check_date(date(2026, 11, 30), date(2027, 1, 3)) is r.DateVerdict.NEEDS_CONFIRMATION


def test_regular_key_only_for_regular_and_combined() -> None:
    assert r.regular_key(7, MeetingKind.REGULAR, date(2026, 3, 9)) == "7:2026-03"
    assert r.regular_key(7, MeetingKind.COMBINED, date(2026, 3, 9)) == "7:2026-03"
    for kind in (MeetingKind.THEMATIC, MeetingKind.COMMITTEE, MeetingKind.EXTRAORDINARY):
        assert r.regular_key(7, kind, date(2026, 3, 9)) is None


def test_usual_day_in_month() -> None:
    assert r.usual_day_in_month(10, TODAY) == date(2026, 11, 10)
    assert r.usual_day_in_month(20, TODAY) is None  # later this month: not offered
    assert r.usual_day_in_month(31, date(2026, 2, 28)) == date(2026, 2, 28)
    assert r.usual_day_in_month(None, TODAY) is None


def test_every_meeting_kind_gets_the_90_minute_warning_and_120_when_combined() -> None:
    assert r.duration_shortfall(MeetingKind.REGULAR, 89, MINIMUMS) == 90
    assert r.duration_shortfall(MeetingKind.REGULAR, 90, MINIMUMS) is None
    assert r.duration_shortfall(MeetingKind.COMBINED, 100, MINIMUMS) == 120
    assert r.duration_shortfall(MeetingKind.COMBINED, 120, MINIMUMS) is None
    assert r.duration_shortfall(MeetingKind.THEMATIC, 30, MINIMUMS) == 90
    assert r.duration_shortfall(MeetingKind.REGULAR, 60, {"regular": 60}) is None
    assert r.minimum_minutes(MeetingKind.COMMITTEE, MINIMUMS) == 90
    assert r.minimum_minutes(MeetingKind.EXTRAORDINARY, MINIMUMS) == 90
    assert r.minimum_minutes(MeetingKind.COMMITTEE, {**MINIMUMS, "committee": 0}) is None


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("100", 100),
        ("100 phút", 100),
        ("95p", 95),
        ("1h30", 90),
        ("1 giờ 45", 105),
        ("2h", 120),
        ("1:45", 105),
        ("5", None),
        ("700", None),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_minutes(text: str, minutes: int | None) -> None:
    assert r.parse_minutes(text) == minutes


def test_regular_meetings_start_with_the_whole_checklist_ticked() -> None:
    assert r.default_content(MeetingKind.REGULAR) == dict.fromkeys(r.CONTENT_ITEMS, True)
    assert r.default_content(MeetingKind.COMBINED) == dict.fromkeys(r.CONTENT_ITEMS, True)
    assert not any(r.default_content(MeetingKind.EXTRAORDINARY).values())
    assert len(r.CONTENT_ITEMS) == 5


def test_reason_codes() -> None:
    assert r.reason_status("illness") == (True, AbsenceReason.ILLNESS)
    assert r.reason_status(r.UNEXCUSED) == (False, None)
    with pytest.raises(ValueError, match="holiday"):
        r.reason_status("holiday")
    assert set(r.REASON_CODES) == {"trip", "illness", "family", "study", "other", "unexcused"}


def test_three_months_flag_key() -> None:
    assert r.three_months_flag_key(12, 2026, 2) == "3m:12:2026:2"


@pytest.mark.parametrize(
    "name",
    [
        "MẬT - Bien ban hop.pdf",
        "Biên bản (Mật).docx",
        "bien ban mat.pdf",
        "BIEN_BAN_MAT.pdf",
        "Tối mật",
        "TỐI MẬT biên bản",
        "toi-mat.pdf",
        "tuyet_mat_2026.pdf",
        "TUYỆT MẬT",
        "TOIMAT.jpg",
        "Độ mật: Mật",
        "tài liệu bí mật",  # not one of the three marks, refused anyway: erring on safety
    ],
)
def test_documents_marked_secret_are_recognized(name: str) -> None:
    assert r.is_marked_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "Biên bản sinh hoạt chi bộ tháng 11.pdf",
        "bien_ban_11_2026.jpg",
        "Đổi mật khẩu email",  # password
        "doi mat khau.png",
        "Mặt trận Tổ quốc phường 5",  # the Fatherland Front
        "mat tran to quoc",
        "Mất điện trong buổi họp",
        "Chính sách bảo mật dữ liệu cá nhân",
        "mật độ dân cư",
        "quan hệ mật thiết",
        "matlab_export.csv",
        "format.pdf",
        None,
        "",
    ],
)
def test_ordinary_names_are_not_mistaken_for_secret_marks(name: str | None) -> None:
    assert not r.is_marked_secret(name)


def test_is_marked_secret_checks_every_text_given() -> None:
    assert r.is_marked_secret("bien_ban.pdf", "Tài liệu MẬT")
    assert not r.is_marked_secret("bien_ban.pdf", "Biên bản tháng 11")


def test_quality_grade_bands_and_the_full_marks_condition() -> None:
    thresholds = {"good": 90, "fair": 70, "average": 50}
    assert r.quality_grade(95, thresholds) is r.QualityGrade.GOOD
    assert r.quality_grade(95, thresholds, full_marks_known_missing=True) is r.QualityGrade.FAIR
    assert r.quality_grade(89, thresholds) is r.QualityGrade.FAIR
    assert r.quality_grade(70, thresholds) is r.QualityGrade.FAIR
    assert r.quality_grade(69, thresholds) is r.QualityGrade.AVERAGE
    assert r.quality_grade(50, thresholds) is r.QualityGrade.AVERAGE
    assert r.quality_grade(49, thresholds) is r.QualityGrade.POOR


def test_parse_score() -> None:
    assert r.parse_score("85") == 85
    assert r.parse_score(" 100 ") == 100
    assert r.parse_score("101") is None
    assert r.parse_score("-5") is None
    assert r.parse_score("tốt") is None


def test_thematic_missing_per_quarter() -> None:
    assert r.thematic_missing({1: 1, 2: 0, 3: 2}, [1, 2, 3, 4]) == [2, 4]
    assert r.quarter_of_month(11) == 4
    assert r.quarter_of_month(1) == 1
