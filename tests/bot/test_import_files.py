"""`chibo admin import` on the files a clerk really produces: each is read, or refused in one
line that names the problem, and a refused file changes nothing in the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from bot.workbook import write_template
from storage.db import Database
from storage.models import AuditLog, Member, MemberStatus, Organization
from tests.storage.test_importer import windows_1258

DATA = Path(__file__).resolve().parent.parent / "data"

ORG_HEADER = ["Mã tổ chức", "Tên tổ chức", "Cấp", "Mã tổ chức cấp trên", "Loại hình"]
ORG_ROWS = [
    ["DUK", "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh", "Đảng ủy Khối", "", ""],
    ["CBVP", "Chi bộ Văn phòng Sở Y tế", "Chi bộ cơ sở", "DUK", "Cơ quan hành chính nhà nước"],
]


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def chibo(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Run]:
    """Run ``chibo`` against the test database from an empty folder, in Vietnamese."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    for name in ("TELEGRAM_BOT_TOKEN", "CHIBO_BOT_USERNAME", "CHIBO_LOCALE"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()

    def run(*argv: str) -> Run:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def state(db: Database) -> tuple[int, int, int]:
    with db.transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Organization, Member, AuditLog)
        )


def csv_text(rows: list[list[Any]], sep: str = ",") -> str:
    return "\r\n".join(sep.join(str(v) for v in row) for row in rows) + "\r\n"


def template(tmp_path: Path, name: str = "ds.xlsx") -> Path:
    path = write_template(tmp_path / name)
    wb = load_workbook(path)
    for sheet in ("ToChuc", "DangVien"):
        wb[sheet].delete_rows(2, wb[sheet].max_row)
    for row in ORG_ROWS:
        wb["ToChuc"].append(row)
    wb["DangVien"].append(["DV001", "Nguyễn Văn An", "CBVP"])
    wb.save(path)
    return path


# --- Files that cannot be read: one line each, nothing written ---------------------------------


def _utf16_with_bad_surrogate(tmp_path: Path) -> Path:
    path = tmp_path / "ds.csv"
    path.write_bytes(b"\xff\xfe" + "Mã tổ chức\t".encode("utf-16-le") + b"\x00\xd8\x41\x00")
    return path


def _undecodable(tmp_path: Path) -> Path:
    path = tmp_path / "ds.csv"
    path.write_bytes(b"M\x81 t\x8d ch\x90c,T\x9an\r\n")
    return path


def _empty_csv(tmp_path: Path) -> Path:
    path = tmp_path / "ds.csv"
    path.write_bytes(b"")
    return path


def _empty_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "ds.xlsx"
    path.write_bytes(b"")
    return path


def _docx(tmp_path: Path) -> Path:
    doc = Document()
    doc.add_paragraph("Danh sách đảng viên")
    doc.save(tmp_path / "ds.docx")
    return (tmp_path / "ds.docx").rename(tmp_path / "ds.xlsx")


def _protected(tmp_path: Path) -> Path:
    # Made by Excel's "Encrypt with Password" format (an OLE2 file with an EncryptedPackage).
    path = tmp_path / "ds.xlsx"
    path.write_bytes((DATA / "protected.xlsx").read_bytes())
    return path


def _old_xls(tmp_path: Path) -> Path:
    path = tmp_path / "ds.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return path


UNREADABLE: list[tuple[str, Callable[[Path], Path], str]] = [
    ("broken utf-16", _utf16_with_bad_surrogate, "không phải văn bản UTF-8, UTF-16"),
    ("unknown encoding", _undecodable, "Save As › CSV UTF-8"),
    ("empty csv", _empty_csv, "ds.csv là tệp rỗng"),
    ("empty xlsx", _empty_xlsx, "ds.xlsx là tệp rỗng"),
    ("word renamed", _docx, "ds.xlsx là tài liệu Word"),
    ("password", _protected, "ds.xlsx được bảo vệ bằng mật khẩu"),
    ("old xls", _old_xls, "tệp Excel .xls cũ"),
]


@pytest.mark.parametrize(
    ("make", "expected"), [u[1:] for u in UNREADABLE], ids=[u[0] for u in UNREADABLE]
)
def test_an_unreadable_file_is_one_line_naming_the_problem_and_changes_nothing(
    make: Callable[[Path], Path],
    expected: str,
    chibo: Callable[..., Run],
    db: Database,
    tmp_path: Path,
) -> None:
    assert chibo("admin", "import", str(template(tmp_path, "first.xlsx"))).code == 0
    before = state(db)
    path = make(tmp_path)

    run = chibo("admin", "import", path.name)

    assert run.code == 1
    assert run.out == ""
    assert run.err.count("\n") == 1, run.err
    assert expected in run.err
    assert run.err.endswith("; chưa ghi dữ liệu nào.\n")
    assert "Traceback" not in run.err and "Error" not in run.err
    assert state(db) == before


# --- Files that are read ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "sep"),
    [
        ("utf-16-le", b"\xff\xfe", "\t"),  # Excel "Unicode text"
        ("utf-16-le", b"", "\t"),
        ("utf-16-be", b"\xfe\xff", "\t"),
        ("utf-8", b"\xef\xbb\xbf", ","),  # Excel "CSV UTF-8"
        ("utf-8", b"", ";"),
        ("cp1258", b"", ","),  # Excel "CSV" on a Vietnamese Windows
    ],
)
def test_csv_from_excel_in_every_encoding_it_saves_is_read(
    encoding: str, bom: bytes, sep: str, chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    text = csv_text([ORG_HEADER, *ORG_ROWS], sep)
    raw = windows_1258(text) if encoding == "cp1258" else text.encode(encoding)
    (tmp_path / "tochuc.csv").write_bytes(bom + raw)

    run = chibo("admin", "import", "tochuc.csv")

    assert run.code == 0, run.out
    with db.transaction() as session:
        names = dict(session.execute(select(Organization.code, Organization.name)).all())
    assert names["CBVP"] == "Chi bộ Văn phòng Sở Y tế"


def test_a_title_row_above_the_headers_is_one_line(
    chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    path = template(tmp_path)
    wb = load_workbook(path)
    ws = wb["DangVien"]
    ws.insert_rows(1)
    ws["A1"] = "DANH SÁCH ĐẢNG VIÊN CHI BỘ VĂN PHÒNG"
    ws.merge_cells("A1:F1")
    wb.save(path)
    before = state(db)

    run = chibo("admin", "import", "ds.xlsx", "--lang", "en")

    assert run.code == 1
    assert run.out.splitlines() == [
        "Sheet DangVien, row 2: the column headers must be on row 1, but they are on row 2; "
        "delete the rows above them (titles, merged cells) and import again",
        "1 error in ds.xlsx; nothing was written.",
    ]
    assert state(db) == before


def test_a_csv_with_a_title_row_is_one_line_too(
    chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    rows = [["DANH SÁCH TỔ CHỨC ĐẢNG", "", "", "", ""], ORG_HEADER, *ORG_ROWS]
    (tmp_path / "tc.csv").write_text(csv_text(rows), encoding="utf-8-sig")

    run = chibo("admin", "import", "tc.csv", "--lang", "en")

    assert run.code == 1
    assert "the column headers must be on row 1, but they are on row 2" in run.out
    assert len(run.out.splitlines()) == 2
    assert state(db) == (0, 0, 0)


def test_a_formula_without_a_saved_value_asks_to_paste_values(
    chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    path = template(tmp_path)
    wb = load_workbook(path)
    wb["DangVien"].append(["DV002", '=CONCATENATE("Trần ","Thị Lan")', "CBVP"])
    wb.save(path)  # openpyxl, like other programs, saves a formula without its result

    run = chibo("admin", "import", "ds.xlsx", "--lang", "en")

    assert run.code == 1
    assert run.out.splitlines()[0].startswith(
        "Sheet DangVien, row 3, column 'Họ và tên': a formula without a saved value "
        '(=CONCATENATE("Trần ","Thị Lan")); please paste values'
    )
    assert "required" not in run.out
    assert state(db) == (0, 0, 0)


def test_names_that_look_like_formulas_are_kept_as_text_with_a_warning(
    chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    rows = [
        ["Mã đảng viên", "Họ và tên", "Mã chi bộ"],
        ["DV001", "=Nguyễn Văn An", "CBVP"],
        ["DV002", "@Lê Thị Hoa", "CBVP"],
        ["DV003", "Trần Văn Bình", "CBVP"],
    ]
    assert chibo("admin", "import", str(template(tmp_path, "tc.xlsx"))).code == 0
    (tmp_path / "dv.csv").write_text(csv_text(rows), encoding="utf-8")

    run = chibo("admin", "import", "dv.csv", "--lang", "en")

    assert run.code == 0, run.out
    assert (
        "Sheet DangVien: names that begin with =, +, - or @ were kept as text, as written "
        "(exports never turn them into formulas); check them: rows 2 (=Nguyễn Văn An), "
        "3 (@Lê Thị Hoa)"
    ) in run.out
    with db.transaction() as session:
        names = set(session.scalars(select(Member.full_name)))
    assert {"=Nguyễn Văn An", "@Lê Thị Hoa"} <= names


def test_member_codes_compare_case_insensitively_and_optional_columns_may_be_absent(
    chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    assert chibo("admin", "import", str(template(tmp_path))).code == 0
    before = state(db)
    # Only the required columns, in another order, the code typed in lower case.
    rows = [["Họ và tên", "Mã chi bộ", "Mã đảng viên"], ["Nguyễn Văn An", "cbvp", "dv001"]]
    (tmp_path / "dv.csv").write_text(csv_text(rows), encoding="utf-8")

    run = chibo("admin", "import", "dv.csv", "--lang", "en")

    assert run.code == 0, run.out
    assert "0 created, 0 updated, 1 unchanged" in run.out
    assert state(db) == before


def test_probationary_members_without_dates_are_a_warning_saying_how_to_fix_it(
    chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    path = template(tmp_path)
    wb = load_workbook(path)
    wb["DangVien"].append(["DV002", "Lê Thị Hoa", "CBVP", "Nữ", None, None, "Dự bị"])
    wb["DangVien"].append(
        ["DV003", "Trần Văn Bình", "CBVP", "Nam", None, None, "Dự bị", None, "03/06/2026"]
    )
    wb.save(path)

    run = chibo("admin", "import", "ds.xlsx")

    assert run.code == 0, run.out
    warning = run.out.splitlines()[0]
    assert warning.startswith("Trang tính DangVien: ")
    assert "Ngày lễ kết nạp" in warning and warning.endswith(": dòng 3")
    with db.transaction() as session:
        statuses = dict(session.execute(select(Member.code, Member.status)).all())
    assert statuses["DV002"] is MemberStatus.PROBATIONARY
