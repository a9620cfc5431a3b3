"""A grassroots party committee's own reports in /summary: counted like a cell's, from the same
due dates (the calendar asks it for its remedy reports, domain.rules.reporting)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.rules.periods import Period, parse_period
from storage import reports
from storage.db import Database
from storage.demo_seed import DemoKhoi
from storage.models import Report, ReportStatus
from storage.report_kinds import KINDS
from storage.summary import Subject, Summary, build_summary, scope_of
from tests.storage.test_summary import NOW, khoi, who

__all__ = ["khoi"]


def _submit(db: Database, org_id: int, kind: str, period: str, due: date, on: date | None) -> None:
    with db.transaction() as session:
        session.add(
            Report(
                org_id=org_id,
                kind=kind,
                period=period,
                due_on=due,
                status=ReportStatus.SUBMITTED if on else ReportStatus.DRAFT,
                figures={},
                # 09:00 in Vietnam (UTC+7)
                submitted_at=datetime(on.year, on.month, on.day, 2, 0, tzinfo=UTC) if on else None,
                created_at=NOW,
                updated_at=NOW,
            )
        )


def _summary(db: Database, khoi: DemoKhoi, key: str, period: str, today: date) -> Summary:
    with db.transaction() as session:
        scope = scope_of(session, who(session, khoi, key).person_id, on=today)
        return build_summary(
            session,
            scope=scope,
            subject=Subject(),
            period=parse_period(period),
            today=today,
            kinds=KINDS.values(),
            now=NOW,
        )


def test_a_committee_s_own_reports_count_on_time_late_missing_and_not_due_yet(
    db: Database, khoi: DemoKhoi
) -> None:
    committee = khoi.orgs["DBSYT"]
    quarterly, annual = KINDS["remedy_quarterly"], KINDS["remedy_annual"]
    with db.transaction() as session:
        q1, q2, q3, year = reports.due_dates(
            session,
            [
                (quarterly, Period("quarter", 2026, 1)),
                (quarterly, Period("quarter", 2026, 2)),
                (quarterly, Period("quarter", 2026, 3)),
                (annual, Period("year", 2026)),
            ],
        )
    # The due dates /report, the reminders and /summary share (a Saturday or Sunday moves on to
    # the next working day by default).
    assert (q1, q2, q3, year) == (
        date(2026, 3, 20),
        date(2026, 6, 22),
        date(2026, 9, 21),
        date(2026, 11, 16),
    )
    _submit(db, committee, "remedy_quarterly", "2026-Q1", q1, date(2026, 3, 20))  # on time
    _submit(db, committee, "remedy_quarterly", "2026-Q2", q2, date(2026, 6, 23))  # late
    _submit(db, committee, "remedy_quarterly", "2026-Q3", q3, None)  # a draft: missing

    def own(s: Summary) -> list[tuple[str, str, str | None]]:
        return [
            (r.period, r.state, r.submitted_on.isoformat() if r.submitted_on else None)
            for r in sorted(s.reports, key=lambda r: r.due_on)
            if r.org_id == committee
        ]

    # The committee secretary's year, on the annual report's due day: it is not due yet.
    s = _summary(db, khoi, "bt_syt", "2026", year)
    assert {r.org_kind for r in s.reports if r.org_id == committee} == {"committee"}
    assert own(s) == [
        ("2026-Q1", "on_time", "2026-03-20"),
        ("2026-Q2", "late", "2026-06-23"),
        ("2026-Q3", "missing", None),
        ("2026", "not_due", None),
    ]
    cells = [r for r in s.reports if r.org_kind == "cell"]
    t = s.total
    assert t.reports_due == len(cells) + 4
    assert t.reports_on_time == sum(r.state == "on_time" for r in cells) + 1
    assert t.reports_late == sum(r.state == "late" for r in cells) + 1
    assert t.reports_missing == sum(r.state == "missing" for r in cells) + 1
    assert t.reports_pending == sum(r.state == "not_due" for r in cells) + 1
    # Its line by committee carries its own report besides its cells'.
    (group,) = s.by_committee
    assert group.code == "DBSYT" and group.figures.reports_due == t.reports_due
    # The day before: the annual report is owed by nobody yet, and not missing.
    s = _summary(db, khoi, "bt_syt", "2026", year.replace(day=year.day - 1))
    assert [p for p, _st, _on in own(s)] == ["2026-Q1", "2026-Q2", "2026-Q3"]
    # The Q2 quarter, asked on the day the report came in after its due date: late.
    s = _summary(db, khoi, "bt_syt", "2026-Q2", date(2026, 6, 23))
    assert ("2026-Q2", "late", "2026-06-23") in own(s)
    # A leader sees the committee's reports too; a cell's secretary does not.
    s = _summary(db, khoi, "lanh_dao", "2026-Q3", date(2026, 9, 30))
    assert own(s) == [("2026-Q3", "missing", None)]
    s = _summary(db, khoi, "bt_bv", "2026-Q3", date(2026, 9, 30))
    assert all(r.org_kind == "cell" for r in s.reports)
