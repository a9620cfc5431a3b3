"""Figures that follow the rules (issue 10): the admission-vote quorum on a real meeting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from domain.rules.deadlines import PeriodRef
from domain.rules.periods import parse_period
from services import calendar
from services.calendar import DEFAULT_CATALOG, load_text
from storage import obligations, people, reports
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi
from storage.models import Member, MemberStatus
from storage.summary import Subject, summary_for
from tests.storage.test_meetings import Secretary, bv, khoi, required

__all__ = ["bv", "khoi"]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_meeting_with_13_of_21_full_members_cannot_vote_on_admissions(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    members = required(db, "CBBV-DK")
    assert len(members) == 24
    full, probationary = members[:21], members[21:]
    with db.transaction() as s:
        s.execute(
            update(Member)
            .where(Member.id.in_([x.id for x in full]))
            .values(status=MemberStatus.FULL)
        )
        s.execute(
            update(Member)
            .where(Member.id.in_([x.id for x in probationary]))
            .values(status=MemberStatus.PROBATIONARY)
        )
    # 8 full members away: 16 of 24 present (2/3 of the roll), 13 of 21 full members.
    result = bv.log(absent={x.id: "trip" for x in full[13:]})
    assert (result.present, result.required) == (16, 24)
    assert result.quorum_ok is False
    # 14 of 21 full members is 2/3: cleared.
    second = Secretary(db, bv.pid)
    second.set_today(bv.today.replace(month=10))
    ok = second.log(absent={x.id: "trip" for x in full[14:]} | {probationary[0].id: "trip"})
    assert (ok.present, ok.required) == (16, 24)
    assert ok.quorum_ok is True


# --- One source of truth for due dates ----------------------------------------------------------


def test_a_loaded_calendar_moves_the_due_date_of_reminders_report_and_summary_alike(
    db: Database, khoi: DemoKhoi
) -> None:
    # The admin moves the quarterly remedy report to day 27; 27/12/2026 is a Sunday, so it is
    # due on Monday 28/12 — in the reminders, in /report and in /summary.
    text = DEFAULT_CATALOG.read_text(encoding="utf-8").replace(
        "month = 3\nday = 20\n", "month = 3\nday = 27\n"
    )
    today = date(2026, 12, 29)
    now = datetime(2026, 12, 29, 3, 0, tzinfo=UTC)
    with db.transaction() as s:
        load_text(s, text, source="moved.toml", actor=Actor.system("admin"), now=now)
    cell = khoi.orgs["CBBV-DK"]
    with db.transaction() as s:
        catalog = calendar.current(s)
        cal = calendar.work_calendar(s, catalog)
        reminded = [
            i
            for i in obligations.instances(
                s,
                catalog,
                cal,
                start=date(2026, 12, 1),
                end=date(2026, 12, 31),
                tz=TZ,
                org_ids=[cell],
            )
            if i.obligation == "remedy_quarterly"
        ]
        report = reports.view(
            s, org_id=cell, kind="remedy_quarterly", period="2026-Q4", today=today
        )
        ident = people.identity(s, khoi.users["lanh_dao"].telegram_user_id)
        assert ident is not None
        _scope, summary = summary_for(
            s,
            who=ident,
            period=parse_period("2026-Q4"),
            subject=Subject(),
            today=today,
            now=now,
        )
        entry_due = obligations.due_date_of(s, "remedy_quarterly", PeriodRef("quarter", 2026, 4))
    assert [i.due for i in reminded] == [date(2026, 12, 28)]
    assert report.due_on == date(2026, 12, 28)
    lines = [r for r in summary.reports if r.kind == "remedy_quarterly" and r.org_id == cell]
    assert [r.due_on for r in lines] == [date(2026, 12, 28)]
    assert entry_due == date(2026, 12, 28)
