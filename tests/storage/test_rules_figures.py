"""Figures that follow the rules (issue 10): the admission-vote quorum on a real meeting."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import update

from documents import summary as render
from documents.report_parts import signs_by_group_and_sign
from documents.reports import docx_bytes
from documents.summary_words import assignment_rows
from domain.calendar import DEFAULT_CATALOG, CatalogError, parse_catalog
from domain.errors import InvalidInput
from domain.i18n import translator
from domain.rules.deadlines import PeriodRef, Standing, missing_from, period_standing
from domain.rules.periods import parse_period
from domain.rules.signs import SignsError, parse_signs_markdown
from services import calendar
from services.calendar import load_text
from storage import figures, obligations, people, reports
from storage import reviews as review_store
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi
from storage.models import (
    MeetingGuest,
    MeetingKind,
    Member,
    MemberStatus,
    ReviewOutcome,
    SignGroup,
)
from storage.report_kinds import KINDS
from storage.reviews import SIGNS_FILE, shipped_signs
from storage.summary import Subject, document_meta, summary_for
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
            s, org_id=cell, kind=KINDS["remedy_quarterly"], period="2026-Q4", today=today
        )
        ident = people.identity(s, khoi.users["lanh_dao"].telegram_user_id)
        assert ident is not None
        _scope, summary = summary_for(
            s,
            person_id=ident.person_id,
            period=parse_period("2026-Q4"),
            subject=Subject(),
            today=today,
            now=now,
            kinds=KINDS.values(),
        )
        entry_due = obligations.due_date_of(s, "remedy_quarterly", PeriodRef("quarter", 2026, 4))
    assert [i.due for i in reminded] == [date(2026, 12, 28)]
    assert report.due_on == date(2026, 12, 28)
    lines = [r for r in summary.reports if r.kind == "remedy_quarterly" and r.org_id == cell]
    assert [r.due_on for r in lines] == [date(2026, 12, 28)]
    assert entry_due == date(2026, 12, 28)


# --- A period in progress is not missing --------------------------------------------------------


def test_on_10_may_the_may_meeting_is_in_progress_not_missing(
    db: Database, khoi: DemoKhoi
) -> None:
    today = date(2027, 5, 10)
    now = datetime(2027, 5, 10, 3, 0, tzinfo=UTC)
    cell = khoi.orgs["CBBV-DK"]  # usual meeting day: the 10th
    with db.transaction() as s:
        # A report sent before its due date (the Q2 report, due 21/06/2027) is submitted.
        actor = Actor("Huỳnh Văn Tâm", khoi.users["bt_bv"].person_id)
        kw = {"org_id": cell, "kind": KINDS["remedy_quarterly"], "period": "2027-Q2"}
        reports.set_assessment(s, text="Tốt.", actor=actor, now=now, today=today, **kw)
        reports.submit(s, expected=None, actor=actor, now=now, today=today, **kw)
    with db.transaction() as s:
        ident = people.identity(s, khoi.users["lanh_dao"].telegram_user_id)
        assert ident is not None
        _scope, may = summary_for(
            s,
            person_id=ident.person_id,
            period=parse_period("2027-05"),
            subject=Subject(),
            today=today,
            now=now,
            kinds=KINDS.values(),
        )
        _scope, q2 = summary_for(
            s,
            person_id=ident.person_id,
            period=parse_period("2027-Q2"),
            subject=Subject(),
            today=today,
            now=now,
            kinds=KINDS.values(),
        )
        catalog = calendar.current(s)
        cal = calendar.work_calendar(s, catalog)
        meeting = next(
            i
            for i in obligations.instances(
                s, catalog, cal, start=date(2027, 5, 1), end=date(2027, 5, 31), tz=TZ
            )
            if i.obligation == "regular_meeting" and i.org_id == cell
        )
    # No cell has met in May yet: 4 in progress, none missing.
    t = may.total
    assert (t.regular_due, t.regular_held, t.regular_in_progress) == (0, 0, 4)
    assert t.cells_missing_regular == 0 and may.cells_missing_regular == []
    assert may.cell(cell) is not None and may.cell(cell).months_in_progress == [(2027, 5)]
    text = render.main_text(may, translator("vi"))
    assert "4 chi bộ chưa sinh hoạt" not in text
    assert "⏳" in text
    # The leaders' digest and /deadlines: late only once May is over.
    assert meeting.due == date(2027, 5, 10)
    assert not meeting.late_on(date(2027, 5, 11)) and not meeting.late_on(date(2027, 5, 31))
    assert meeting.late_on(date(2027, 6, 1))
    # The Q2 report submitted early shows as submitted on time, not as "0 due".
    (line,) = [r for r in q2.reports if r.org_id == cell and r.kind == "remedy_quarterly"]
    assert (line.state, line.due_on, line.submitted_on) == ("on_time", date(2027, 6, 21), today)
    assert q2.cell(cell).figures.reports_on_time == 1


def test_the_grace_rule_counts_a_meeting_missing_days_after_the_usual_day() -> None:
    may_end, usual = date(2027, 5, 31), date(2027, 5, 10)
    assert period_standing(False, may_end, date(2027, 5, 15)) is Standing.IN_PROGRESS
    assert period_standing(False, may_end, date(2027, 6, 1)) is Standing.MISSING
    assert period_standing(True, may_end, date(2027, 6, 1)) is Standing.DONE
    # meeting_grace_days = 5: missing from 16/05.
    assert period_standing(False, may_end, date(2027, 5, 15), usual, 5) is Standing.IN_PROGRESS
    assert period_standing(False, may_end, date(2027, 5, 16), usual, 5) is Standing.MISSING
    assert missing_from(may_end, usual, 40) == date(2027, 6, 1)


# --- A committee is reminded only for what it can do -------------------------------------------


def test_a_grassroots_committee_is_reminded_only_for_what_it_can_do(
    db: Database, khoi: DemoKhoi
) -> None:
    committee = khoi.orgs["DBSYT"]
    with db.transaction() as s:
        catalog = calendar.current(s)
        cal = calendar.work_calendar(s, catalog)
        orgs = obligations.org_rows(s)
        owed = obligations.instances(
            s,
            catalog,
            cal,
            start=date(2026, 1, 1),
            end=date(2027, 12, 31),
            tz=TZ,
            org_ids=[committee],
            include_done=True,
        )
        who = obligations.recipients(s, catalog, owed, orgs)
        cells = obligations.instances(
            s,
            catalog,
            cal,
            start=date(2026, 12, 1),
            end=date(2026, 12, 31),
            tz=TZ,
            org_ids=[khoi.orgs["CBVP-SYT"]],
        )
    # The committee owes its own remedy reports (it drafts and submits them in /report), and
    # nothing a cell does: no meeting, review, sympathizer list or plan report of its own.
    assert {i.obligation for i in owed} == {"remedy_quarterly", "remedy_annual"}
    assert ("remedy_quarterly", "2026-Q4", date(2026, 12, 21)) in {
        (i.obligation, i.period, i.due) for i in owed
    }
    # Its secretary is reminded, as the secretary (not as a fallback for a cell).
    secretary = khoi.users["bt_syt"].person_id
    for item in owed:
        assert [(r.person_id, r.fallback) for r in who[item.key]] == [(secretary, False)]
    assert "remedy_quarterly" in {i.obligation for i in cells}
    # A calendar asking a committee for a report it cannot draft is refused, naming why.
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    plan = text.index('code = "plan_annual"')
    bad = text[:plan] + text[plan:].replace(
        'owed_by = ["cell", "grassroots_cell"]',
        'owed_by = ["cell", "grassroots_cell", "committee"]',
        1,
    )
    with pytest.raises(CatalogError, match="'plan_annual' cannot be submitted by committee"):
        parse_catalog(bad, source="bad.toml")
    top = text.replace(
        'owed_by = ["cell", "grassroots_cell", "committee"]',
        'owed_by = ["cell", "grassroots_cell", "committee", "top"]',
        1,
    )
    with pytest.raises(CatalogError, match="'remedy_quarterly' cannot be submitted by top"):
        parse_catalog(top, source="top.toml")


# --- Commitment reviews: the 27 signs ------------------------------------------------------------


def test_the_27_signs_are_shipped_as_data_in_three_groups_of_nine() -> None:
    signs = shipped_signs()
    assert len(signs) == 27
    assert [s.code for s in signs[:2]] == ["TT1", "TT2"] and signs[-1].code == "TD9"
    assert {s.group for s in signs} == set(SignGroup)
    assert signs[0].text.startswith("Phai nhạt lý tưởng cách mạng")
    with pytest.raises(SignsError, match="group DD"):
        parse_signs_markdown(SIGNS_FILE.read_text(encoding="utf-8").replace("\n9. (*) Vi", "\n"))


def test_a_new_sign_is_recorded_by_its_code_and_the_word_report_lists_it_by_group_and_sign(
    db: Database, khoi: DemoKhoi
) -> None:
    cell = khoi.orgs["CBBV-DK"]
    today, now = date(2026, 11, 16), datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
    actor = Actor("Huỳnh Văn Tâm", khoi.users["bt_bv"].person_id)
    members = required(db, "CBBV-DK")
    kw = {"org_id": cell, "year": 2026, "month": 10, "actor": actor, "now": now, "today": today}
    with db.transaction() as s:
        # An admin corrects the wording of one sign: the corrected list is in force.
        corrected = tuple(
            replace(x, text="Tham nhũng, tham ô (đã sửa)") if x.code == "DD7" else x
            for x in review_store.signs_in_force(s)
        )
        review_store.save_signs(s, corrected, source="signs.md", actor=actor, now=now)
        review_store.record_review(
            s, member_id=members[0].id, outcome=ReviewOutcome.REMEDIED, **kw
        )
        for member, code in ((members[1], "DD7"), (members[2], "DD7"), (members[3], "TT3")):
            review_store.record_review(
                s,
                member_id=member.id,
                outcome=ReviewOutcome.NEW_SIGN,
                sign_code=code,
                measure="Chi ủy nhắc nhở",
                **kw,
            )
        with pytest.raises(InvalidInput):
            review_store.record_review(
                s,
                member_id=members[4].id,
                outcome=ReviewOutcome.NEW_SIGN,
                sign_code="XX1",
                measure="x",
                **kw,
            )
    with db.transaction() as s:
        view = reports.view(
            s, org_id=cell, kind=KINDS["remedy_quarterly"], period="2026-Q4", today=today
        )
        counts = review_store.sign_code_counts(s, cell_ids=[cell], months=[(2026, 10)])
    f = view.figures
    assert f["totals"]["remedied"] == 1 and f["totals"]["new_sign"] == 3
    assert f["by_sign"] == {"DD7": 2, "TT3": 1} == counts
    rows = signs_by_group_and_sign(f, translator("vi"))
    assert rows == [
        ["tư tưởng chính trị", "Cả nhóm", "1"],
        [
            "",
            "3. Nhận thức sai lệch về lý luận; lười học tập lý luận chính trị, nghị quyết, "
            "chính sách, pháp luật.",
            "1",
        ],
        ["đạo đức, lối sống", "Cả nhóm", "2"],
        ["", "7. Tham nhũng, tham ô (đã sửa)", "2"],
    ]
    document = Document(BytesIO(docx_bytes(view)))
    cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
    assert "7. Tham nhũng, tham ô (đã sửa)" in cells
    assert "Cả nhóm" in cells


# --- Superior committee attendance per assignment --------------------------------------------


def test_visits_are_counted_per_assignment_and_a_typed_name_is_not_the_follower(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    follower = khoi.users["to_chuc"]  # assigned to follow CBBV-DK
    cell = khoi.orgs["CBBV-DK"]
    regular = bv.log(followers=[follower.person_id])
    thematic = bv.log(kind=MeetingKind.THEMATIC)
    with db.transaction() as s:
        # The secretary typed the follower's name as a guest instead of picking them.
        s.add(
            MeetingGuest(
                meeting_id=thematic.meeting_id,
                person_id=None,
                name=follower.name,
                is_superior=True,
            )
        )
    with db.transaction() as s:
        ident = people.identity(s, khoi.users["lanh_dao"].telegram_user_id)
        assert ident is not None
        scope, summary = summary_for(
            s,
            person_id=ident.person_id,
            period=parse_period("2026-11"),
            subject=Subject(),
            today=bv.today,
            now=bv.now,
            kinds=KINDS.values(),
        )
        meta = document_meta(s, summary, scope)
        per_cell = figures.superior_visits(s, [cell], date(2026, 1, 1), date(2026, 12, 31))
    assert regular.meeting_id != thematic.meeting_id
    # The cell counts two meetings with a superior guest, but the assignment only one visit.
    assert sum(v.visits for v in per_cell) == 2
    (line,) = [a for a in summary.assignments if a.org_id == cell]
    assert (line.person_id, line.visits, line.meetings) == (follower.person_id, 1, 2)
    vi = translator("vi")
    assert assignment_rows(summary)[0][1:] == [follower.name, "1", "2"]
    page = render.list_page(summary, vi, "sup", 0)
    assert f"{follower.name} (theo dõi CBBV-DK): dự 1/2 buổi năm 2026" in render.plain(page.text)
    book = load_workbook(BytesIO(render.to_xlsx(summary, vi)))
    sheet = book["Dự sinh hoạt theo phân công"]
    assert [c.value for c in sheet[2]][1:] == [follower.name, 1, 2]
    document = Document(BytesIO(render.to_docx(summary, vi, meta)))
    cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
    assert follower.name in cells
