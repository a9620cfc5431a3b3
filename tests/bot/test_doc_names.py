"""Who issues a Party document and how a report for one cell reads (DOMAIN.md, "Documents")."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import select

from documents import summary_docx
from documents.reports import docx_bytes
from documents.summary_words import three_months_text
from domain.i18n import translator
from domain.rules.periods import Period, parse_period
from storage import reports
from storage import summary as store
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.doc_names import COMMITTEE_MIN_FULL_MEMBERS, Signer, doc_names, has_committee
from storage.models import Member, MemberStatus, Organization
from storage.report_kinds import KINDS
from tests.storage.test_summary import NOW, standard_records

VI = translator("vi")
TODAY = date(2026, 11, 16)


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    with db.transaction() as session:
        khoi = seed_demo(session, now=NOW)
        standard_records(session, khoi.orgs)
    return khoi


def texts(data: bytes) -> list[str]:
    """Every paragraph of a .docx, in the body and in its tables."""
    doc = Document(BytesIO(data))
    out = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                out += [p.text for p in cell.paragraphs]
    return out


def header_and_signature(data: bytes) -> tuple[list[str], list[str]]:
    doc = Document(BytesIO(data))
    top = [p.text for p in doc.tables[0].rows[0].cells[0].paragraphs]
    sign = [p.text for p in doc.tables[-1].rows[0].cells[1].paragraphs if p.text]
    return top, sign


def cell_summary(db: Database, khoi: DemoKhoi, code: str, period: str = "2026"):
    with db.transaction() as session:
        scope = store.scope_under(session, {khoi.orgs[code]}, on=TODAY)
        s = store.build_summary(
            session,
            scope=scope,
            subject=store.Subject(),
            period=parse_period(period),
            today=TODAY,
            kinds=KINDS.values(),
            now=NOW,
        )
        return s, store.document_meta(session, s, scope)


def set_full_members(db: Database, org_id: int, full: int) -> None:
    """Leave exactly ``full`` full members in the cell; the others become probationary."""
    with db.transaction() as session:
        members = session.scalars(
            select(Member).where(Member.org_id == org_id).order_by(Member.id)
        ).all()
        assert len(members) > full
        for i, m in enumerate(members):
            m.status = MemberStatus.FULL if i < full else MemberStatus.PROBATIONARY


def test_a_cell_has_a_committee_from_nine_full_members(db: Database, khoi: DemoKhoi) -> None:
    cell = khoi.orgs["CBVP-SYT"]  # 14 members
    assert COMMITTEE_MIN_FULL_MEMBERS == 9
    set_full_members(db, cell, 8)  # and 6 probationary: they do not count
    with db.transaction() as session:
        org = session.get(Organization, cell)
        assert org is not None
        assert not has_committee(session, org)
        names = doc_names(session, org)
        assert (names.issuer, names.signer) == ("Chi bộ Văn phòng Sở Y tế", Signer.CELL)
    set_full_members(db, cell, 9)
    with db.transaction() as session:
        org = session.get(Organization, cell)
        assert org is not None
        names = doc_names(session, org)
        assert names.has_committee
        assert (names.issuer, names.signer) == (
            "Chi ủy Chi bộ Văn phòng Sở Y tế",
            Signer.CELL_COMMITTEE,
        )
        assert (names.superior, names.doc_code) == ("Đảng bộ Sở Y tế", "CB")


def test_party_organizations_issue_through_their_committee(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        syt = session.get(Organization, khoi.orgs["DBSYT"])
        top = session.get(Organization, khoi.top_id)
        assert syt is not None and top is not None
        names = doc_names(session, syt)
        assert (names.issuer, names.superior, names.doc_code, names.signer) == (
            "Đảng ủy Sở Y tế",
            top.name,
            "ĐU",
            Signer.PARTY_COMMITTEE,
        )
        names = doc_names(session, top)
        assert (names.issuer, names.superior, names.doc_code, names.signer) == (
            "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh",
            "Đảng bộ thành phố Cần Thơ",
            "ĐUK",
            Signer.STANDING_BOARD,
        )
        # The names the layout needs are columns of their own when the office sets them.
        syt.committee_name = "Đảng ủy cơ sở Sở Y tế"
        syt.doc_code = "ĐUCS"
        session.flush()
        names = doc_names(session, syt)
        assert (names.org_name, names.issuer, names.doc_code) == (
            "Đảng bộ Sở Y tế",
            "Đảng ủy cơ sở Sở Y tế",
            "ĐUCS",
        )


def test_a_small_cell_signs_for_the_cell(db: Database, khoi: DemoKhoi) -> None:
    # Mekong has 6 members: no committee (Party Statute art. 25).
    s, meta = cell_summary(db, khoi, "CBMEKONG", "2026-11")
    top, sign = header_and_signature(summary_docx.to_docx(s, VI, meta))
    assert top[:2] == [
        "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH",
        "CHI BỘ CÔNG TY TNHH THỦY SẢN MEKONG",
    ]
    assert top[3] == "Số      -BC/CB"
    assert sign[:2] == ["T/M CHI BỘ", "BÍ THƯ"]
    # The cell's own report in the report machinery signs the same way.
    with db.transaction() as session:
        view = reports.view(
            session,
            org_id=khoi.orgs["CBMEKONG"],
            kind=reports.REMEDY_QUARTERLY,
            period=Period("quarter", 2026, 3),
            today=TODAY,
        )
    top, sign = header_and_signature(docx_bytes(view))
    assert top[1] == "CHI BỘ CÔNG TY TNHH THỦY SẢN MEKONG"
    assert sign[:2] == ["T/M CHI BỘ", "BÍ THƯ"]


def test_a_cell_with_a_committee_issues_through_it(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        view = reports.view(
            session,
            org_id=khoi.orgs["CBBV-DK"],
            kind=reports.REMEDY_QUARTERLY,
            period=Period("quarter", 2026, 3),
            today=TODAY,
        )
    top, sign = header_and_signature(docx_bytes(view))
    assert top[:2] == ["ĐẢNG BỘ SỞ Y TẾ", "CHI ỦY CHI BỘ BỆNH VIỆN ĐA KHOA"]
    assert sign[:2] == ["T/M CHI ỦY", "BÍ THƯ"]


def test_a_report_for_one_cell_reads_like_a_person_wrote_it(db: Database, khoi: DemoKhoi) -> None:
    for code in ("CBBV-DK", "CBMEKONG"):
        s, meta = cell_summary(db, khoi, code)
        assert len(s.cells) == 1
        body = "\n".join(texts(summary_docx.to_docx(s, VI, meta)))
        assert "Tổng số" not in body
        assert "1 chi bộ" not in body
        assert not re.search(r"(?<![\d/.,])0 (đảng viên|chi bộ)", body), body
        assert "SỐ LIỆU THEO LOẠI HÌNH" not in body  # no one-row table by organization type
        assert "Chi bộ có " in body
        assert "(số chi bộ × số quý)" not in body and "Sinh hoạt chuyên đề: đã tổ chức" in body
    # Mekong's 6 members: nobody is exempt, nobody flagged or warned this year.
    s, meta = cell_summary(db, khoi, "CBMEKONG")
    assert (s.total.members, s.total.required_members) == (6, 6)
    body = "\n".join(texts(summary_docx.to_docx(s, VI, meta)))
    assert "Chi bộ có 6 đảng viên; 6 đảng viên phải dự sinh hoạt." in body
    assert "miễn sinh hoạt" not in body
    if not s.total.flagged and not s.total.warned:
        assert (
            "Không có đảng viên nào vắng sinh hoạt không có lý do từ 2 tháng trở lên trong năm."
        ) in body


def test_the_khoi_report_keeps_its_table_by_type(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        scope = store.scope_under(session, {khoi.top_id}, on=TODAY)
        s = store.build_summary(
            session,
            scope=scope,
            subject=store.Subject(),
            period=parse_period("2026"),
            today=TODAY,
            kinds=KINDS.values(),
            now=NOW,
        )
        meta = store.document_meta(session, s, scope)
    body = texts(summary_docx.to_docx(s, VI, meta))
    assert any("SỐ LIỆU THEO LOẠI HÌNH" in line for line in body)
    assert any(line.startswith("Tổng số 4 chi bộ") for line in body)


def test_three_months_line_in_words() -> None:
    assert three_months_text(VI, 0, 0) == (
        "Không có đảng viên nào vắng sinh hoạt không có lý do từ 2 tháng trở lên trong năm."
    )
    assert three_months_text(VI, 0, 2).startswith("Không có đảng viên nào vắng sinh hoạt 3 tháng")
    assert "2 đảng viên vắng 2 tháng" in three_months_text(VI, 0, 2)
    assert three_months_text(VI, 1, 0).endswith("không có đảng viên nào vắng 2 tháng.")
    assert "1 đảng viên" in three_months_text(VI, 1, 3) and "3 đảng viên" in three_months_text(
        VI, 1, 3
    )
