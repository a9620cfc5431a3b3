"""Remedy reports: calendars, drafts from the reviews, submit / reopen, who is on time."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import func, select

from documents.reports import chat_text, docx_bytes
from domain.calendar import DEFAULT_CATALOG
from domain.errors import AlreadyRecorded, InvalidInput, NotFound
from domain.i18n import translator
from domain.rules.periods import Period
from domain.rules.reviews import ReportState
from services.calendar import load_text
from storage import report_kinds, reports, reviews
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.models import (
    AuditLog,
    Member,
    MemberStatus,
    Outbox,
    OutboxStatus,
    Report,
    ReportStatus,
    ReviewOutcome,
    SignGroup,
)

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)
P, N, S = ReviewOutcome.PROGRESSING, ReviewOutcome.NO_CHANGE, ReviewOutcome.NEW_SIGN
Q4 = Period("quarter", 2026, 4)


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    with db.transaction() as session:
        return seed_demo(session, now=NOW)


def secretary(khoi: DemoKhoi) -> Actor:
    user = khoi.users["bt_bv"]
    return Actor(user.name, user.person_id)


def reviewable(db: Database, cell: int) -> list[Member]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(Member)
                .where(Member.org_id == cell, Member.status != MemberStatus.EXEMPT)
                .order_by(Member.id)
            )
        )


def review_month(db, khoi, ym, special=None) -> None:
    """Everyone progressing in ``ym`` except the members in ``special`` (id → outcome, kw)."""
    cell = khoi.orgs["CBBV-DK"]
    with db.transaction() as session:
        for member_id, (outcome, kw) in (special or {}).items():
            reviews.record_review(
                session,
                org_id=cell,
                member_id=member_id,
                year=ym[0],
                month=ym[1],
                outcome=outcome,
                actor=secretary(khoi),
                now=NOW,
                today=TODAY,
                **kw,
            )
        reviews.mark_all_progressing(
            session,
            org_id=cell,
            year=ym[0],
            month=ym[1],
            actor=secretary(khoi),
            now=NOW,
            today=TODAY,
        )


def _kind(kind: str | reports.ReportKind) -> reports.ReportKind:
    return kind if isinstance(kind, reports.ReportKind) else report_kinds.kind_of(kind)


def view(db, khoi, kind=reports.REMEDY_QUARTERLY, period: Period | str = Q4, today=TODAY):
    with db.transaction() as session:
        return reports.view(
            session,
            org_id=khoi.orgs["CBBV-DK"],
            kind=_kind(kind),
            period=period,
            today=today,
        )


def submit(
    db,
    khoi,
    kind=reports.REMEDY_QUARTERLY,
    period: Period | str = Q4,
    expected=0,
    now=NOW,
    today=TODAY,
):
    with db.transaction() as session:
        return reports.submit(
            session,
            org_id=khoi.orgs["CBBV-DK"],
            kind=_kind(kind),
            period=period,
            expected=expected,
            actor=secretary(khoi),
            now=now,
            today=today,
        )


def test_the_kinds_are_registered_with_their_calendars(db, khoi) -> None:
    quarterly, annual = (
        report_kinds.kind_of("remedy_quarterly"),
        report_kinds.kind_of("remedy_annual"),
    )
    with db.transaction() as session:
        # 20/12/2026 is a Sunday: the deadline moves to Monday 21/12 (Civil Code art. 148).
        assert reports.due_on(session, quarterly, Q4) == date(2026, 12, 21)
        assert reports.due_on(session, annual, Period("year", 2026)) == date(2026, 11, 16)
        assert reports.recent_periods(session, quarterly, TODAY) == [
            Q4,
            Period("quarter", 2026, 3),
        ]
        # 16/11/2026: the 2026 annual report is due today (15/11 was a Sunday).
        assert reports.recent_periods(session, annual, TODAY) == [
            Period("year", 2026),
            Period("year", 2025),
        ]
        # A calendar loaded with another day is the one in force.
        text = DEFAULT_CATALOG.read_text(encoding="utf-8").replace(
            "month = 3\nday = 20\n", "month = 3\nday = 25\n"
        )
        load_text(session, text, source="moved.toml", actor=Actor.system("t"), now=NOW)
        session.flush()
        assert reports.due_on(session, quarterly, Q4) == date(2026, 12, 25)
    with pytest.raises(NotFound):
        report_kinds.kind_of("nope")
    assert list(report_kinds.KINDS) == ["remedy_quarterly", "remedy_annual", "plan_annual"]


def test_a_draft_for_a_quarter_with_no_reviews_says_so(db, khoi) -> None:
    v = view(db, khoi)
    assert v.status is None and v.figures["no_reviews"] is True
    assert v.figures["months_started"] == 2 and v.figures["months_covered"] == 3
    text = chat_text(translator("en"), v)
    assert "No monthly review was recorded in this period" in text
    assert "✅ 0" not in text  # no zeros shown as success
    # Submitting it needs an assessment that explains why.
    with pytest.raises(InvalidInput):
        submit(db, khoi)
    with db.transaction() as session:
        reports.set_assessment(
            session,
            org_id=khoi.orgs["CBBV-DK"],
            kind=reports.REMEDY_QUARTERLY,
            period=Q4,
            text="Chi bộ chưa tổ chức kiểm điểm do thay đổi nhân sự.",
            actor=secretary(khoi),
            now=NOW,
            today=TODAY,
        )
    assert submit(db, khoi).number == 1


def test_the_draft_counts_reviews_signs_and_improvements(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    members = reviewable(db, cell)
    a, b = members[0], members[1]
    sign = {
        "sign_group": SignGroup.ETHICS,
        "description": "Nhậu trong giờ làm",
        "measure": "Kiểm điểm, chi ủy theo dõi",
    }
    review_month(db, khoi, (2026, 10), {a.id: (S, sign), b.id: (N, {})})
    review_month(db, khoi, (2026, 11), {b.id: (N, {})})
    v = view(db, khoi)
    f = v.figures
    assert not f["no_reviews"]
    assert [m["month"] for m in f["months"]] == ["2026-10", "2026-11"]
    october = f["months"][0]
    assert (october["on_roll"], october["reviewed"]) == (24, 24)
    assert (october["progressing"], october["no_change"], october["new_sign"]) == (22, 1, 1)
    assert october["meeting"] is False
    assert f["totals"] == {
        "reviews": 48,
        "remedied": 0,
        "progressing": 45,
        "no_change": 2,
        "new_sign": 1,
    }
    assert f["exempt"] == 1
    assert [(s["name"], s["measure"]) for s in f["new_signs"]] == [
        (a.full_name, "Kiểm điểm, chi ủy theo dõi")
    ]
    assert [(i["name"], i["before"]) for i in f["improved"]] == [(a.full_name, "new_sign")]
    assert f["watch"] == []  # b: two months of no change is not yet three
    assert f["by_group"] == {"ethics": 1}


def test_submitting_snapshots_notifies_the_inspection_office_and_audits_once(db, khoi) -> None:
    review_month(db, khoi, (2026, 10))
    done = submit(db, khoi)
    assert (done.number, done.notified, done.state) == (1, 1, ReportState.ON_TIME)
    with db.transaction() as session:
        report = session.scalar(select(Report))
        assert report is not None and report.status is ReportStatus.SUBMITTED
        assert report.submitted_at == NOW
        assert report.submitted_by == khoi.users["bt_bv"].person_id
        assert report.figures["totals"]["reviews"] == 24
        outbox = session.scalars(select(Outbox)).all()
        assert [(o.key, o.person_id, o.kind, o.status) for o in outbox] == [
            (
                f"rpt:{report.id}:1:{khoi.users['kiem_tra'].person_id}",
                khoi.users["kiem_tra"].person_id,
                "report_submitted",
                OutboxStatus.PENDING,
            )
        ]
        payload = outbox[0].payload
        assert payload["msgid"].startswith("📥 {cell} submitted its report")
        assert payload["params"]["quarter"] == "IV" and payload["params"]["year"] == 2026
        audits = session.scalars(select(AuditLog).where(AuditLog.entity == "report")).all()
        assert [a.action for a in audits] == ["submit"]
    # Reviews changed after submission do not change the submitted snapshot.
    review_month(db, khoi, (2026, 11))
    assert view(db, khoi).figures["totals"]["reviews"] == 24


def test_a_second_submission_from_another_device_changes_nothing(db, khoi) -> None:
    review_month(db, khoi, (2026, 10))
    submit(db, khoi, expected=0)
    with pytest.raises(AlreadyRecorded):
        submit(db, khoi, expected=0)
    with pytest.raises(AlreadyRecorded):
        submit(db, khoi, expected=None)
    with db.transaction() as session:
        assert session.scalar(select(func.count(Outbox.id))) == 1
        assert (
            session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "submit")) == 1
        )


def test_two_devices_submitting_at_the_same_moment_make_one_submission(db, khoi) -> None:
    review_month(db, khoi, (2026, 10))
    barrier = threading.Barrier(2)
    results: list[object] = []

    def device() -> None:
        barrier.wait()
        try:
            results.append(submit(db, khoi, expected=0))
        except AlreadyRecorded as exc:
            results.append(exc)

    threads = [threading.Thread(target=device) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyRecorded", "Submission"]
    with db.transaction() as session:
        assert session.scalar(select(func.count(Report.id))) == 1
        assert session.scalar(select(func.count(Outbox.id))) == 1
        assert (
            session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "submit")) == 1
        )


def test_reopening_needs_a_reason_and_resubmission_keeps_the_first_time(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    review_month(db, khoi, (2026, 10))
    submit(db, khoi)
    kw = {"org_id": cell, "kind": reports.REMEDY_QUARTERLY, "period": Q4, "actor": secretary(khoi)}
    with db.transaction() as session, pytest.raises(InvalidInput):
        reports.reopen(session, reason="  ", now=NOW, **kw)
    later = NOW + timedelta(days=40)  # after the due date 20/12
    with db.transaction() as session:
        reports.reopen(session, reason="Sửa số liệu tháng 10", now=later, **kw)
    with db.transaction() as session, pytest.raises(InvalidInput):
        reports.reopen(session, reason="again", now=later, **kw)
    with db.transaction() as session:
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "reopen"))
        assert audit is not None and audit.before["status"] == "submitted"
        assert audit.after["reopen_reason"] == "Sửa số liệu tháng 10"
    with pytest.raises(AlreadyRecorded):  # the screen still says "0 submissions"
        submit(db, khoi, expected=0, now=later, today=later.date())
    again = submit(db, khoi, expected=1, now=later, today=later.date())
    assert again.number == 2 and again.state is ReportState.ON_TIME
    with db.transaction() as session:
        report = session.scalar(select(Report))
        assert report is not None and report.submitted_at == NOW
        keys = sorted(session.scalars(select(Outbox.key)))
        assert keys[1].startswith(f"rpt:{report.id}:2:")
        assert session.scalar(select(Outbox.payload).where(Outbox.key == keys[1]))[
            "msgid"
        ].startswith("📥 {cell} submitted a corrected report")


def test_assessment_only_while_not_submitted(db, khoi) -> None:
    kw = {
        "org_id": khoi.orgs["CBBV-DK"],
        "kind": reports.REMEDY_QUARTERLY,
        "period": "2026-Q4",
        "actor": secretary(khoi),
        "now": NOW,
        "today": TODAY,
    }
    with db.transaction() as session:
        assert reports.set_assessment(session, text="Chi bộ thực hiện tốt.", **kw)
        assert not reports.set_assessment(session, text="Chi bộ thực hiện tốt.", **kw)
    review_month(db, khoi, (2026, 10))
    submit(db, khoi)
    with db.transaction() as session, pytest.raises(InvalidInput):
        reports.set_assessment(session, text="Khác", **kw)
    with db.transaction() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.entity == "report").order_by(AuditLog.id)
        ).all()
    assert actions == ["create", "submit"]


def test_report_status_per_cell(db, khoi) -> None:
    cells = [khoi.orgs[c] for c in ("CBVP-SYT", "CBBV-DK", "CBDIEN", "CBMEKONG")]
    with db.transaction() as session:
        # Due Sunday 20/12/2026, moved to Monday 21/12: submitted on Tuesday 22/12 is late.
        for code, when in (("CBBV-DK", NOW), ("CBDIEN", datetime(2026, 12, 22, 3, tzinfo=UTC))):
            reports.set_assessment(
                session,
                org_id=khoi.orgs[code],
                kind=reports.REMEDY_QUARTERLY,
                period=Q4,
                text="Đánh giá",
                actor=secretary(khoi),
                now=NOW,
                today=TODAY,
            )
            reports.submit(
                session,
                org_id=khoi.orgs[code],
                kind=reports.REMEDY_QUARTERLY,
                period=Q4,
                expected=0,
                actor=secretary(khoi),
                now=when,
                today=when.date(),
            )
    with db.transaction() as session:
        before_due = reports.report_status(
            session, cells, reports.REMEDY_QUARTERLY, Q4, today=TODAY
        )
        after_due = reports.report_status(
            session, cells, reports.REMEDY_QUARTERLY, "2026-Q4", today=date(2027, 1, 2)
        )
        counts = reports.status_counts(
            session, cells, reports.REMEDY_QUARTERLY, Q4, today=date(2027, 1, 2)
        )
    vp, bv, dien, mekong = cells
    assert before_due == {
        vp: ReportState.NOT_DUE,
        bv: ReportState.ON_TIME,
        dien: ReportState.LATE,
        mekong: ReportState.NOT_DUE,
    }
    assert after_due[vp] is ReportState.MISSING and after_due[mekong] is ReportState.MISSING
    assert counts == {
        ReportState.ON_TIME: 1,
        ReportState.LATE: 1,
        ReportState.MISSING: 2,
        ReportState.NOT_DUE: 0,
    }


def test_the_annual_report_covers_december_to_november(db, khoi) -> None:
    review_month(db, khoi, (2025, 11))  # before the window
    review_month(db, khoi, (2025, 12))
    review_month(db, khoi, (2026, 11))
    v = view(db, khoi, kind="remedy_annual", period="2026")
    # 15/11/2026 is a Sunday: due Monday 16/11, covering the 12 months up to it.
    assert v.due_on == date(2026, 11, 16) and v.start == date(2025, 11, 17)
    assert v.figures["months_covered"] == 12 and v.figures["months_reviewed"] == 2
    assert v.figures["totals"]["reviews"] == 48


def test_the_docx_uses_the_party_layout(db, khoi) -> None:
    review_month(db, khoi, (2026, 10))
    submit(db, khoi)
    data = docx_bytes(view(db, khoi))
    doc = Document(BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in "\n".join(cells)
    assert "CHI BỘ BỆNH VIỆN ĐA KHOA" in "\n".join(cells)
    assert "Cần Thơ, ngày 16 tháng 11 năm 2026" in "\n".join(cells)
    assert "BÁO CÁO" in texts
    assert any("quý IV/2026" in t for t in texts)
    assert any(t.startswith("I. ") for t in texts)
    assert "Huỳnh Văn Tâm" in "\n".join(cells)
