"""Word documents in the Party's administrative layout (python-docx).

One template for every report chibo writes (remedy reports, the annual plan report, the
Khối's summary report): top left the superior body, the issuing body and an asterisk line,
then the number; top right "ĐẢNG CỘNG SẢN VIỆT NAM" underlined and, in italics, the place and
date; the title in bold capitals and its subject; numbered sections; recipients bottom left
and the signing block bottom right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING

from domain.i18n import Translator

# python-docx (and lxml) load when a document is first written, not with the bot: the bot's
# process only shows texts, documents are built in a process of their own (about 15 MB).
if TYPE_CHECKING:
    from docx.enum.text import WD_PARAGRAPH_ALIGNMENT

PARTY_NAME = "ĐẢNG CỘNG SẢN VIỆT NAM"
FONT = "Times New Roman"


@dataclass
class DocHeader:
    """The header block: who issues the document, its number, place and date."""

    superior: str  # e.g. "ĐẢNG BỘ KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP TỈNH"
    issuer: str  # e.g. "CHI BỘ BỆNH VIỆN ĐA KHOA"
    number: str  # e.g. "Số 05-BC/CB"
    place: str  # e.g. "Cần Thơ"
    day: date


@dataclass
class DocTable:
    """A table inside a section: a header row and data rows."""

    headers: list[str]
    rows: list[list[str]]
    widths_cm: list[float] | None = None


@dataclass
class DocSection:
    """A numbered section: its heading, paragraphs and optional tables."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[DocTable] = field(default_factory=list)


@dataclass
class Signature:
    """The signing block: "T/M CHI ỦY" / "BÍ THƯ" / the signer's name."""

    on_behalf: str
    title: str
    name: str = ""


def _run(paragraph, text: str, *, bold=False, italic=False, underline=False, size=13):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run = paragraph.add_run(text)
    run.bold, run.italic, run.underline = bold, italic, underline
    run.font.size = Pt(size)
    run.font.name = FONT
    run.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    return run


def _para(
    cell_or_doc,
    text: str = "",
    *,
    align: WD_PARAGRAPH_ALIGNMENT | None = None,
    space_after=0,
    **kw,
):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = cell_or_doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT if align is None else align
    p.paragraph_format.space_after = Pt(space_after)
    p.paragraph_format.space_before = Pt(0)
    if text:
        _run(p, text, **kw)
    return p


def _no_borders(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _first_para(cell):
    # A new cell holds one empty paragraph; reuse it so the block starts at the top.
    return cell.paragraphs[0]


def party_document(
    *,
    t: Translator,
    header: DocHeader,
    title: str,
    subject: str,
    sections: list[DocSection],
    recipients: list[str],
    signature: Signature,
    intro: str | None = None,
) -> bytes:
    """Render a document in the Party's layout and return the .docx bytes."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.top_margin, sec.bottom_margin = Cm(2.0), Cm(2.0)
    sec.left_margin, sec.right_margin = Cm(3.0), Cm(1.5)
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)

    top = doc.add_table(rows=1, cols=2)
    _no_borders(top)
    top.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = top.rows[0].cells
    left.width, right.width = Cm(7.5), Cm(9.0)
    p = _first_para(left)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, header.superior.upper(), size=12)
    _para(left, header.issuer.upper(), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=12)
    _para(left, "*", align=WD_ALIGN_PARAGRAPH.CENTER, size=12)
    _para(left, header.number, align=WD_ALIGN_PARAGRAPH.CENTER, size=13)
    p = _first_para(right)
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(p, PARTY_NAME, bold=True, underline=True, size=13)
    _para(right, "")
    _para(
        right,
        f"{header.place}, {t.long_date(header.day)}",
        align=WD_ALIGN_PARAGRAPH.RIGHT,
        italic=True,
        size=13,
    )

    _para(doc, "", space_after=6)
    _para(doc, title.upper(), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=15)
    _para(doc, subject, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=14)
    _para(doc, "-----", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=8, size=13)

    if intro:
        p = _para(doc, intro, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=6, size=14)
        p.paragraph_format.first_line_indent = Cm(1.0)
    for number, section in enumerate(sections, start=1):
        _para(doc, f"{_roman(number)}. {section.title.upper()}", bold=True, space_after=4, size=14)
        for text in section.paragraphs:
            p = _para(doc, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=4, size=14)
            p.paragraph_format.first_line_indent = Cm(1.0)
        for table in section.tables:
            _data_table(doc, table)
            _para(doc, "", space_after=4)

    _para(doc, "", space_after=6)
    bottom = doc.add_table(rows=1, cols=2)
    _no_borders(bottom)
    left, right = bottom.rows[0].cells
    left.width, right.width = Cm(8.0), Cm(8.5)
    p = _first_para(left)
    _run(p, t.gettext("Recipients:"), bold=True, italic=True, underline=True, size=12)
    for line in recipients:
        _para(left, f"- {line}", size=11)
    p = _first_para(right)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, signature.on_behalf.upper(), bold=True, size=13)
    _para(right, signature.title.upper(), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=13)
    for _ in range(3):
        _para(right, "")
    if signature.name:
        _para(right, signature.name, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=13)

    buf = BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _data_table(doc, table: DocTable) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Cm

    grid = doc.add_table(rows=1, cols=len(table.headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(grid.rows[0].cells, table.headers, strict=True):
        p = _first_para(cell)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(p, text, bold=True, size=11)
    for row in table.rows:
        cells = grid.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, row, strict=True)):
            p = _first_para(cell)
            p.alignment = (
                WD_ALIGN_PARAGRAPH.LEFT
                if i == 0 or not _numeric(text)
                else (WD_ALIGN_PARAGRAPH.RIGHT)
            )
            _run(p, text, size=11)
    for index, row in enumerate(grid.rows):
        # A row never breaks across pages; the header row repeats on every page.
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if index == 0:
            tr_pr.append(OxmlElement("w:tblHeader"))
    if table.widths_cm:
        # Word reads the cells' widths, LibreOffice the table grid: set both.
        grid.autofit = False
        for col, width in zip(grid._tbl.tblGrid.gridCol_lst, table.widths_cm, strict=False):
            col.w = Cm(width)
        for row in grid.rows:
            for cell, width in zip(row.cells, table.widths_cm, strict=False):
                cell.width = Cm(width)


def _numeric(text: str) -> bool:
    return (
        bool(text)
        and text.replace(".", "").replace(",", "").replace("%", "").strip("-—").isdigit()
    )


def _roman(n: int) -> str:
    numerals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, letter in numerals:
        while n >= value:
            out += letter
            n -= value
    return out
