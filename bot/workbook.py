"""The import workbook: instructions, the two data sheets with an example each, the type list.

The headers come from :mod:`storage.importer`, so the template and the importer cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from storage.importer import (
    GENDER_WORDS,
    KIND_WORDS,
    MEMBER_COLUMNS,
    ORG_COLUMNS,
    SHEET_MEMBERS,
    SHEET_ORGS,
    STATUS_WORDS,
    Column,
)
from storage.models import Gender, MemberStatus, OrgKind
from storage.seed import ORG_TYPES

SHEET_GUIDE = "HuongDan"
SHEET_TYPES = "LoaiHinh"

#: Rows prepared for typing (drop-down lists and text-formatted date columns reach this far).
DATA_ROWS = 20000

_BOLD = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOP_EXAMPLE = "DUK-VD"
_CELL_EXAMPLE = "CB-VD"

#: What each column means and which values it takes (Vietnamese, for the HuongDan sheet).
_EXPLAIN: dict[str, tuple[str, str]] = {
    "Mã tổ chức": (
        "Mã duy nhất, ổn định của tổ chức đảng; dùng để cập nhật ở lần nhập sau.",
        "Chữ và số, tối đa 32 ký tự; lưu dạng CHỮ HOA.",
    ),
    "Tên tổ chức": ("Tên đầy đủ của tổ chức đảng.", "Tối đa 300 ký tự."),
    "Cấp": (
        "Cấp của tổ chức trong cây tổ chức.",
        ", ".join(words[0] for words in KIND_WORDS.values())
        + ". Chỉ có đúng một tổ chức cấp trên cùng (Đảng ủy Khối hoặc tổ chức kế thừa).",
    ),
    "Mã tổ chức cấp trên": (
        "Mã của tổ chức cấp trên trực tiếp (để trống cho tổ chức cấp trên cùng).",
        "Một mã có trong sheet ToChuc hoặc đã có trong hệ thống.",
    ),
    "Loại hình": (
        "Loại hình cơ quan, đơn vị (dùng khi tổng hợp).",
        "Chọn tên trong danh sách (sheet LoaiHinh); cũng nhận mã loại hình.",
    ),
    "Cơ quan/đơn vị": ("Cơ quan, doanh nghiệp nơi tổ chức đảng hoạt động.", "Tối đa 300 ký tự."),
    "Ngày sinh hoạt thường lệ": (
        "Ngày trong tháng chi bộ thường sinh hoạt định kỳ.",
        "Số từ 1 đến 28.",
    ),
    "Hoạt động từ": ("Ngày tổ chức bắt đầu hoạt động (thành lập, hợp nhất).", "Ngày."),
    "Hoạt động đến": (
        "Ngày tổ chức thôi hoạt động (giải thể, sáp nhập); để trống nếu còn hoạt động.",
        "Ngày, không trước ngày «Hoạt động từ».",
    ),
    "Mã đảng viên": (
        "Mã duy nhất, ổn định của đảng viên trong hệ thống; dùng để cập nhật ở lần nhập sau.",
        "Tối đa 32 ký tự.",
    ),
    "Họ và tên": ("Họ và tên đảng viên.", "Tối đa 120 ký tự."),
    "Mã chi bộ": (
        "Mã của chi bộ đảng viên đang sinh hoạt.",
        "Mã một tổ chức có Cấp là Chi bộ cơ sở hoặc Chi bộ trực thuộc.",
    ),
    "Giới tính": ("Giới tính.", "Nam, Nữ (có thể để trống)."),
    "Năm sinh": ("Năm sinh.", "Số có 4 chữ số, từ 1900 đến năm nay."),
    "Tháng sinh": ("Tháng sinh (không ghi ngày sinh).", "Số từ 1 đến 12 (có thể để trống)."),
    "Tình trạng": (
        "Tình trạng đảng viên. Đảng viên miễn sinh hoạt không tính vào tỷ lệ dự họp.",
        ", ".join(words[0] for words in STATUS_WORDS.values())
        + ". Để trống được hiểu là Chính thức.",
    ),
    "Ngày kết nạp": ("Ngày quyết định kết nạp.", "Ngày."),
    "Ngày lễ kết nạp": (
        "Ngày tổ chức lễ kết nạp (có thể để trống với đảng viên dự bị chưa làm lễ).",
        "Ngày.",
    ),
    "Ngày hết dự bị": ("Ngày kết thúc thời gian dự bị (12 tháng kể từ lễ kết nạp).", "Ngày."),
    "Ngày công nhận chính thức": ("Ngày được công nhận đảng viên chính thức.", "Ngày."),
    "Mã đảng viên quốc gia": (
        "Mã trong Cơ sở dữ liệu đảng viên quốc gia (nguồn gốc về danh tính), nếu có.",
        "Tối đa 40 ký tự.",
    ),
}

_GUIDE_INTRO = [
    "HƯỚNG DẪN NHẬP DANH SÁCH TỔ CHỨC ĐẢNG VÀ ĐẢNG VIÊN",
    "",
    "1. Điền sheet ToChuc (tổ chức đảng) và sheet DangVien (đảng viên). Giữ nguyên tên sheet, "
    "dòng tiêu đề (dòng 1) và thứ tự các cột; không thêm cột.",
    "2. Cột tô màu cam là bắt buộc. Mỗi dòng mẫu có mã kết thúc bằng «-VD»: hãy thay bằng dữ "
    "liệu thật hoặc xóa đi trước khi nhập.",
    "3. Ngày ghi theo dạng dd/mm/yyyy (ví dụ 15/03/2020), năm đủ 4 chữ số; cũng chấp nhận "
    "yyyy-mm-dd hoặc ô kiểu ngày của Excel. Ngày không có thật (như 31/02/2020) bị báo lỗi.",
    "4. Mã tổ chức và mã đảng viên là khóa ổn định: nhập lại tệp với cùng mã sẽ cập nhật bản "
    "ghi cũ, không tạo bản ghi mới. Nhập lại đúng tệp cũ thì không có gì thay đổi.",
    "5. Toàn bộ tệp được kiểm tra trước; chỉ cần một lỗi thì không có dữ liệu nào được ghi. "
    "Chương trình liệt kê từng lỗi theo sheet, dòng và cột để sửa rồi nhập lại.",
    "6. Lệnh nhập: chibo admin import danh-sach.xlsx (thêm --dry-run để chỉ kiểm tra).",
    "7. Không xóa được tổ chức hay đảng viên bằng cách bỏ dòng: hãy ghi «Hoạt động đến» cho "
    "tổ chức, hoặc đổi «Tình trạng» của đảng viên (Chuyển đi, Đã xóa tên).",
    "",
    "BẢO VỆ DỮ LIỆU CÁ NHÂN",
    "Thông tin đảng viên là dữ liệu cá nhân nhạy cảm (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15, "
    "Nghị định 356/2025/NĐ-CP). Chỉ ghi các cột có trong mẫu. Không ghi số CMND/CCCD, tôn "
    "giáo, thông tin gia đình, lý lịch hay ghi chú về cá nhân. Không gửi tệp này vào nhóm chat; "
    "xóa tệp sau khi nhập xong. Không nhập tài liệu có độ mật (Mật, Tối mật, Tuyệt mật).",
    "",
    "Ý NGHĨA CÁC CỘT",
]


def _fit(ws: Worksheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)


def _data_sheet(
    ws: Worksheet,
    columns: Sequence[Column],
    examples: Sequence[Sequence[object]],
    date_fields: Sequence[str],
) -> None:
    ws.append([c.header for c in columns])
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=index)
        cell.font = _BOLD
        cell.fill = _REQUIRED_FILL if column.required else _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    for example in examples:
        ws.append(list(example))
    ws.freeze_panes = "A2"
    widths = [
        max(len(c.header), *(len(str(e[i] or "")) for e in examples))
        for i, c in enumerate(columns)
    ]
    _fit(ws, widths)
    # Codes and dates as text: Excel then keeps "03/04/2020" as typed (day first) and leading
    # zeros of codes, whatever the computer's regional settings.
    for index, column in enumerate(columns, start=1):
        if column.field in date_fields or "code" in column.field:
            letter = get_column_letter(index)
            ws.column_dimensions[letter].number_format = "@"
            for row in range(2, 2 + len(examples)):
                ws.cell(row=row, column=index).number_format = "@"


def _choices(
    ws: Worksheet,
    columns: Sequence[Column],
    field: str,
    values: Sequence[str],
    *,
    source: str | None = None,
) -> None:
    """Offer a drop-down list (a warning, not a block: the importer also takes synonyms)."""
    index = next(i for i, c in enumerate(columns, start=1) if c.field == field)
    letter = get_column_letter(index)
    formula = source or '"' + ",".join(values) + '"'
    dv = DataValidation(type="list", formula1=formula, allow_blank=True)
    dv.errorStyle = "warning"
    dv.error = (
        "Giá trị không có trong danh sách: " + ", ".join(values)
        if values
        else "Hãy chọn một tên loại hình trong sheet LoaiHinh."
    )
    dv.errorTitle = "Kiểm tra lại"
    dv.add(f"{letter}2:{letter}{DATA_ROWS + 1}")
    ws.add_data_validation(dv)


def write_template(
    path: str | Path, *, org_types: Sequence[tuple[str, str, str]] | None = None
) -> Path:
    """Write the import workbook to ``path``; ``org_types`` are (code, Vietnamese, English)."""
    path = Path(path)
    types = list(org_types or ORG_TYPES)
    wb = Workbook()
    guide = wb.active
    assert guide is not None
    guide.title = SHEET_GUIDE

    for number, line in enumerate(_GUIDE_INTRO, start=1):
        guide.append([line])
        # One paragraph per row across the five columns, wrapped; Excel does not size the
        # height of merged cells, so give it room for the lines it will need.
        guide.merge_cells(start_row=number, start_column=1, end_row=number, end_column=5)
        guide.cell(row=number, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        guide.row_dimensions[number].height = 15 * max(1, -(-len(line) // 140))
        if line.isupper():
            guide.cell(row=number, column=1).font = _BOLD
    guide["A1"].font = Font(bold=True, size=13)
    header_row = guide.max_row + 1
    guide.append(["Sheet", "Cột", "Bắt buộc", "Ý nghĩa", "Giá trị hợp lệ"])
    for cell in guide[header_row]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    for sheet, columns in ((SHEET_ORGS, ORG_COLUMNS), (SHEET_MEMBERS, MEMBER_COLUMNS)):
        for column in columns:
            meaning, allowed = _EXPLAIN[column.header]
            guide.append([sheet, column.header, "Có" if column.required else "", meaning, allowed])
    for row in guide.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDE", (12, 28, 10, 60, 60), strict=True):
        guide.column_dimensions[letter].width = width

    orgs = wb.create_sheet(SHEET_ORGS)
    names = {t[0]: t[1] for t in types}
    # The drop-down offers the Vietnamese names (the importer takes a name or a code).
    example_type = names.get("hanh_chinh", types[0][1])
    _data_sheet(
        orgs,
        ORG_COLUMNS,
        [
            [
                _TOP_EXAMPLE,
                "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh (ví dụ)",
                KIND_WORDS[OrgKind.TOP][0],
                None,
                None,
                None,
                None,
                "01/01/2020",
                None,
            ],
            [
                _CELL_EXAMPLE,
                "Chi bộ Văn phòng Sở Ví Dụ",
                KIND_WORDS[OrgKind.GRASSROOTS_CELL][0],
                _TOP_EXAMPLE,
                example_type,
                "Văn phòng Sở Ví Dụ",
                10,
                "01/01/2020",
                None,
            ],
        ],
        ("active_from", "active_to"),
    )
    _choices(orgs, ORG_COLUMNS, "kind", [words[0] for words in KIND_WORDS.values()])
    _choices(orgs, ORG_COLUMNS, "org_type", [], source=f"{SHEET_TYPES}!$A$2:$A${len(types) + 1}")

    members = wb.create_sheet(SHEET_MEMBERS)
    _data_sheet(
        members,
        MEMBER_COLUMNS,
        [
            [
                "DV-VD-001",
                "Nguyễn Thị Hồng Nhung",
                _CELL_EXAMPLE,
                GENDER_WORDS[Gender.FEMALE][0],
                1988,
                6,
                STATUS_WORDS[MemberStatus.FULL][0],
                _text_date(date(2015, 5, 19)),
                _text_date(date(2015, 6, 3)),
                _text_date(date(2016, 6, 3)),
                _text_date(date(2016, 6, 10)),
                None,
            ]
        ],
        ("admitted_on", "ceremony_on", "probation_end_on", "full_member_on"),
    )
    _choices(members, MEMBER_COLUMNS, "gender", [words[0] for words in GENDER_WORDS.values()])
    _choices(members, MEMBER_COLUMNS, "status", [words[0] for words in STATUS_WORDS.values()])

    kinds = wb.create_sheet(SHEET_TYPES)
    kinds.append(["Tên loại hình", "Mã loại hình"])
    for cell in kinds[1]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    for code, vi, _en in types:
        kinds.append([vi, code])
    kinds.freeze_panes = "A2"
    _fit(kinds, [max(len(t[1]) for t in types), max(len(t[0]) for t in types)])

    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _text_date(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year}"
