"""The Party-layout Word template keeps its table layout in Word and in LibreOffice."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from documents.layout import DocHeader, DocSection, DocTable, Signature, party_document
from domain.i18n import translator


def render() -> Document:
    content = party_document(
        t=translator("vi"),
        header=DocHeader(
            "Đảng bộ thành phố Cần Thơ", "Chi bộ A", "Số 01-BC/CB", "Cần Thơ", date(2026, 11, 15)
        ),
        title="Báo cáo",
        subject="Kết quả",
        sections=[
            DocSection(
                "Tình hình",
                ["Nội dung"],
                [DocTable(["Chi bộ", "Số"], [["A", "1"], ["B", "2"]], widths_cm=[10.0, 3.0])],
            )
        ],
        recipients=["Lưu."],
        signature=Signature("T/M Chi ủy", "Bí thư", "Nguyễn Văn A"),
    )
    return Document(BytesIO(content))


def test_the_header_block_and_the_date_line_follow_the_party_layout() -> None:
    doc = render()
    header = doc.tables[0]
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in header.cell(0, 1).text
    assert "Cần Thơ, ngày 15 tháng 11 năm 2026" in header.cell(0, 1).text
    assert "CHI BỘ A" in header.cell(0, 0).text


def test_data_tables_set_the_grid_widths_and_repeat_the_header_row() -> None:
    table = render().tables[1]
    widths = [col.w for col in table._tbl.tblGrid.gridCol_lst]
    assert [round(w / Cm(1), 2) for w in widths] == [10.0, 3.0]  # stored in twips
    first = table.rows[0]._tr.trPr
    assert first.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
    assert table.rows[1]._tr.trPr.find(qn("w:tblHeader")) is None
