"""The summary rendered: phone-sized chat text, a stable JSON shape, a workbook where no name
becomes a formula, a Word report in the Party's layout and a chart."""

from __future__ import annotations

import re
from datetime import date, datetime
from io import BytesIO

import matplotlib.image as mpimg
import pytest
from docx import Document
from openpyxl import load_workbook

from documents import (
    summary_chart,
    summary_docx,
    summary_json,
    summary_text,
    summary_words,
    summary_xlsx,
)
from documents.reports import chat_text, docx_bytes
from domain.i18n import translator
from domain.rules.periods import Period, parse_period
from domain.text import fold
from storage import reports
from storage import summary as store
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.models import Organization, OrgKind
from storage.report_kinds import KINDS
from storage.summary import PLAN_ANNUAL
from tests.storage.test_summary import NOW, standard_records

VI, EN = translator("vi"), translator("en")
TODAY = date(2026, 11, 16)
NASTY = '=HYPERLINK("http://x","bấm") <b>&'


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    """The demo Khối with the standard story, and a cell whose name looks like a formula."""
    with db.transaction() as session:
        khoi = seed_demo(session, now=NOW)
        standard_records(session, khoi.orgs)
        session.add(
            Organization(
                code="CBNGUY",
                name=NASTY,
                name_folded=fold(NASTY),
                kind=OrgKind.GRASSROOTS_CELL,
                org_type="hop_tac_xa",
                parent_id=khoi.top_id,
                active_from=date(2026, 1, 1),
                usual_meeting_day=3,  # past its usual day: missing under the story's grace rule
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return khoi


def summary(db: Database, khoi: DemoKhoi, period: str = "2026") -> store.Summary:
    with db.transaction() as session:
        scope = store.scope_under(session, {khoi.top_id}, on=TODAY)
        return store.build_summary(
            session,
            scope=scope,
            subject=store.Subject(),
            period=parse_period(period),
            today=TODAY,
            kinds=KINDS.values(),
            now=NOW,
        )


def test_chat_text_is_phone_sized_and_escaped(db: Database, khoi: DemoKhoi) -> None:
    s = summary(db, khoi, "2026-11")
    for t in (VI, EN):
        text = summary_text.main_text(s, t)
        plain = summary_text.plain(text)
        assert max(len(line) for line in plain.splitlines()) <= 80
        assert len(text) < 4096
    page = summary_text.list_page(s, VI, "miss", 0)
    assert "&lt;b&gt;&amp;" in page.text and "<b>&" not in page.text.replace("<b>CB", "")
    assert ("CBNGUY", khoi_cell(db, "CBNGUY")) in page.cells


def khoi_cell(db: Database, code: str) -> int:
    with db.transaction() as session:
        org = session.query(Organization).filter_by(code=code).one()
        return org.id


def test_lists_are_paged(db: Database, khoi: DemoKhoi) -> None:
    s = summary(db, khoi)
    page = summary_text.list_page(s, VI, "rep", 0)
    n = sum(1 for r in s.reports if r.state != "on_time")
    assert page.pages == -(-n // summary_words.PAGE_SIZE) and n > summary_words.PAGE_SIZE
    last = summary_text.list_page(s, VI, "rep", 99)
    assert last.page == page.pages - 1


def test_period_navigation() -> None:
    nav = summary_words.period_nav(Period("month", 2026, 11), TODAY)
    assert nav["prev"] == Period("month", 2026, 10) and nav["next"] is None
    assert nav["quarter"] == Period("quarter", 2026, 4) and nav["year"] == Period("year", 2026)
    nav = summary_words.period_nav(Period("year", 2025), TODAY)
    assert nav["month"] == Period("month", 2025, 12) and nav["next"] == Period("year", 2026)


def test_month_runs_are_shortened() -> None:
    months = [(2026, m) for m in (1, 2, 3, 5, 9, 10)]
    assert summary_words.month_list(months, VI) == "01–03/2026, 05/2026, 09–10/2026"


JSON_KEYS = {
    "schema",
    "generated_at",
    "today",
    "period",
    "scope",
    "has_data",
    "totals",
    "by_type",
    "by_committee",
    "cells",
    "lists",
    "candidates",
    "rule_sources",
}
FIGURE_KEYS = {
    "cells",
    "members",
    "required_members",
    "regular_due",
    "regular_held",
    "regular_in_progress",
    "cells_missing_regular",
    "meetings",
    "superior_visits",
    "present",
    "required",
    "excused",
    "unexcused",
    "attendance_rate",
    "flagged",
    "warned",
    "thematic_due",
    "thematic_held",
    "thematic_in_progress",
    "cells_missing_thematic",
    "reviews_due",
    "reviews_done",
    "new_signs",
    "considerations_due",
    "considerations_done",
    "candidates",
    "reports_due",
    "reports_on_time",
    "reports_late",
    "reports_missing",
    "reports_pending",
    "cells_without_model",
}


def test_json_shape_is_stable(db: Database, khoi: DemoKhoi) -> None:
    """The shape documented in docs/summary-json.md: a change here is a schema change."""
    data = summary_json.to_json(summary(db, khoi))
    assert set(data) == JSON_KEYS and data["schema"] == "chibo.summary/1"
    assert set(data["totals"]) == FIGURE_KEYS
    assert set(data["period"]) == {
        "key",
        "kind",
        "start",
        "end",
        "upto",
        "in_progress",
        "months",
        "quarters",
    }
    assert set(data["cells"][0]) == {
        "code",
        "name",
        "kind",
        "type",
        "committee",
        "months_due",
        "months_missing",
        "quarters_missing",
        "last_meeting",
        "has_study_model",
        "figures",
    }
    assert set(data["lists"]) == {
        "three_months_flagged",
        "three_months_warned",
        "new_signs",
        "reports",
    }
    assert all(set(g["figures"]) == FIGURE_KEYS for g in data["by_type"] + data["by_committee"])


def test_workbook_one_sheet_per_topic_and_no_formulas(db: Database, khoi: DemoKhoi) -> None:
    s = summary(db, khoi)
    wb = load_workbook(BytesIO(summary_xlsx.to_xlsx(s, VI)))
    assert wb.sheetnames[:8] == [
        "Tổng quan",
        "Sinh hoạt chi bộ",
        "Tỷ lệ dự sinh hoạt",
        "Cam kết tu dưỡng, rèn luyện",
        "Quần chúng ưu tú",
        "Dự sinh hoạt theo phân công",
        "Báo cáo",
        "Mô hình học tập và làm theo Bác",
    ]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
    ws = wb["Sinh hoạt chi bộ"]
    names = {row[0].value: row[1] for row in ws.iter_rows(min_row=2)}
    assert names["CBNGUY"].value == NASTY and names["CBNGUY"].data_type == "s"
    assert ws.freeze_panes == "C2"
    rows = ws.max_row
    assert ws.auto_filter.ref == f"A1:L{rows - 1}"  # the totals row stays out of the filter
    assert ws.cell(rows, 1).value == "Tổng cộng"
    assert ws.cell(rows, 5).value == s.total.regular_due
    assert ws.cell(rows, 5).font.b
    assert ws.column_dimensions["B"].width >= len("Chi bộ Công ty TNHH Thủy sản Mekong")
    last = ws.cell(2, 10)
    assert isinstance(last.value, datetime) and last.number_format == "DD/MM/YYYY"
    att = wb["Tỷ lệ dự sinh hoạt"]
    assert att.cell(2, 8).number_format == "0.0%"
    sums = [att.cell(r, 5).value for r in range(2, att.max_row)]
    assert att.cell(att.max_row, 5).value == sum(sums) == s.total.present


def test_word_report_in_the_party_layout(db: Database, khoi: DemoKhoi) -> None:
    s = summary(db, khoi, "2026-11")
    with db.transaction() as session:
        meta = store.document_meta(session, s, store.scope_under(session, {khoi.top_id}, on=TODAY))
    doc = Document(BytesIO(summary_docx.to_docx(s, VI, meta)))
    header = [c.text for c in doc.tables[0].rows[0].cells]
    assert "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH" in header[0]
    assert "Số      -BC/ĐUK" in header[0]
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in header[1]
    assert "Cần Thơ, ngày 16 tháng 11 năm 2026" in header[1]
    text = [p.text for p in doc.paragraphs]
    assert "BÁO CÁO" in text and "Kết quả sinh hoạt chi bộ tháng 11/2026" in text
    headings = [t for t in text if re.match(r"^[IVX]+\. ", t)]
    assert headings[:3] == [
        "I. TÌNH HÌNH CHUNG",
        "II. CÔNG TÁC SINH HOẠT CHI BỘ",
        "III. NHẬN XÉT VIỆC THỰC HIỆN BẢN CAM KẾT VÀ BIỂU HIỆN SUY THOÁI",
    ]
    body = "\n".join(text)
    f = s.total
    assert f"đã tổ chức {f.regular_held}/{f.regular_due} (số chi bộ × số tháng)" in body
    assert "Đặng Thị Hà (CBBV-DK): tháng 01, 03, 10/2026" in body
    assert "Công tác phát triển đảng viên chưa được theo dõi trên chibo" in body
    bottom = [c.text for c in doc.tables[-1].rows[0].cells]
    assert "Nơi nhận:" in bottom[0] and "T/M BAN THƯỜNG VỤ" in bottom[1]
    # Column widths survive in the table grid (LibreOffice reads the grid, not the cells).
    grid = doc.tables[1]._tbl.tblGrid.gridCol_lst
    assert len({col.w for col in grid}) > 1


def test_a_cell_report_is_issued_by_the_cell(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        scope = store.scope_under(session, {khoi.orgs["CBBV-DK"]}, on=TODAY)
        s = store.build_summary(
            session,
            scope=scope,
            subject=store.Subject(),
            period=parse_period("2026-11"),
            today=TODAY,
            kinds=KINDS.values(),
            now=NOW,
        )
        meta = store.document_meta(session, s, scope)
    # 25 members, most of them full: the cell has a committee, which issues the report.
    assert (meta.issuer, meta.superior, meta.abbreviation) == (
        "Chi ủy Chi bộ Bệnh viện Đa khoa",
        "Đảng bộ Sở Y tế",
        "CB",
    )
    doc = Document(BytesIO(summary_docx.to_docx(s, VI, meta)))
    bottom = [c.text for c in doc.tables[-1].rows[0].cells]
    assert "T/M CHI ỦY" in bottom[1] and "Đảng bộ Sở Y tế (để báo cáo)" in bottom[0]


def test_chart_is_a_png(db: Database, khoi: DemoKhoi) -> None:
    s = summary(db, khoi)
    with db.transaction() as session:
        chart = store.chart_data(session, s)
    png = summary_chart.to_png(chart, VI, "Sinh hoạt chi bộ năm 2026")
    assert png.startswith(b"\x89PNG")
    image = mpimg.imread(BytesIO(png), format="png")
    assert image.shape[1] == 1000 and image.shape[0] == 720
    assert {x.type_code for x in chart.series} >= {"hanh_chinh", "hop_tac_xa"}


def test_the_plan_report_renders_with_the_report_machinery(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        view = reports.view(
            session, org_id=khoi.orgs["CBBV-DK"], kind=PLAN_ANNUAL, period="2026", today=TODAY
        )
    text = chat_text(VI, view)
    assert "Báo cáo năm về kết quả thực hiện Kế hoạch" in text
    assert "Đặng Thị Hà (tháng 01, 03, 10)" in text
    doc = Document(BytesIO(docx_bytes(view)))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "Kết quả thực hiện Kế hoạch số 12-KH/ĐUK năm 2026" in paragraphs
    assert "I. CÔNG TÁC SINH HOẠT CHI BỘ" in paragraphs
    bottom = doc.tables[-1].rows[0].cells[0].text
    assert (
        "Ban Thường vụ Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh (qua Ban Tổ chức)" in bottom
    )


def test_a_committee_s_own_report_is_named_as_a_committee_s(db: Database, khoi: DemoKhoi) -> None:
    """The committee DBSYT owes its quarterly and annual remedy reports (none submitted by
    16/11/2026): every format lists them as a đảng bộ cơ sở's, not a cell's."""
    s = summary(db, khoi)
    own = [r for r in s.reports if r.org_code == "DBSYT"]
    assert [(r.kind, r.period, r.state) for r in sorted(own, key=lambda r: r.due_on)] == [
        ("remedy_quarterly", "2026-Q1", "missing"),
        ("remedy_quarterly", "2026-Q2", "missing"),
        ("remedy_quarterly", "2026-Q3", "missing"),
        ("remedy_annual", "2026", "missing"),
    ]
    data = summary_json.to_json(s)
    listed = [r for r in data["lists"]["reports"] if r["cell"] == "DBSYT"]
    assert len(listed) == 4 and {r["org_kind"] for r in listed} == {"committee"}
    assert {r["org_kind"] for r in data["lists"]["reports"] if r["cell"] != "DBSYT"} == {"cell"}
    assert data["totals"]["reports_due"] == len(data["lists"]["reports"])
    chat = "\n".join(
        summary_text.list_page(s, VI, "rep", p).text
        for p in range(summary_text.list_page(s, VI, "rep", 0).pages)
    )
    assert chat.count("<b>DBSYT</b> (Đảng bộ cơ sở)") == 4
    assert "<b>CBBV-DK</b> (" not in chat
    ws = load_workbook(BytesIO(summary_xlsx.to_xlsx(s, VI)))["DS báo cáo"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Mã", "Tổ chức", "Cấp tổ chức đảng"]
    levels = {(row[0].value, row[2].value) for row in ws.iter_rows(min_row=2)}
    assert ("DBSYT", "Đảng bộ cơ sở") in levels and ("CBBV-DK", "Chi bộ") in levels
    with db.transaction() as session:
        meta = store.document_meta(session, s, store.scope_under(session, {khoi.top_id}, on=TODAY))
    doc = Document(BytesIO(summary_docx.to_docx(s, VI, meta)))
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "Đảng bộ Sở Y tế (DBSYT)" in cells


def test_the_reports_sheet_rows_add_up_to_its_total(db: Database, khoi: DemoKhoi) -> None:
    """The committee DBSYT's own reports have their row (level "Đảng bộ cơ sở"), so the rows of
    the "Báo cáo" sheet add up to its totals row, which counts them."""
    s = summary(db, khoi)
    own = [r for r in s.reports if r.org_kind == "committee"]
    assert own, "the demo has a committee owing its own reports"
    ws = load_workbook(BytesIO(summary_xlsx.to_xlsx(s, VI)))["Báo cáo"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Mã", "Tổ chức", "Cấp tổ chức đảng"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    body, total = rows[:-1], rows[-1]
    assert total[0] == VI.gettext("Total") and total[1] == f"{len(body)} tổ chức đảng"
    by_code = {r[0]: r for r in body}
    dbsyt = by_code["DBSYT"]
    assert dbsyt[1] == "Đảng bộ Sở Y tế" and dbsyt[2] == "Đảng bộ cơ sở"
    assert dbsyt[3:7] == [4, 0, 0, 4]  # due, on time, late, missing
    assert by_code["CBBV-DK"][2] == "Chi bộ"
    for col in range(3, 8):  # due, on time, late, missing, due today
        assert sum(r[col] for r in body) == total[col], header[col]
    assert total[3] == s.total.reports_due == len(s.reports)
    # Without the committee's row the cells alone fall short of the total.
    assert sum(r[3] for r in body if r[2] == "Chi bộ") < total[3]
    # The Word report's table by type adds up too ("Reports missing", the last column).
    with db.transaction() as session:
        meta = store.document_meta(session, s, store.scope_under(session, {khoi.top_id}, on=TODAY))
    doc = Document(BytesIO(summary_docx.to_docx(s, VI, meta)))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Loại hình")
    texts = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert sum(int(r[-1]) for r in texts[:-1]) == int(texts[-1][-1]) == s.total.reports_missing
