"""Stories of the import: the office fills the template, imports it, fixes what it is told."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.workbook import write_template
from domain.clock import ManualClock
from domain.text import fold
from storage.audit import Actor
from storage.db import Database
from storage.importer import (
    ImportInvalid,
    ImportResult,
    RowError,
    UnreadableFile,
    apply,
    parse_workbook,
    validate,
)
from storage.models import (
    AuditLog,
    Gender,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    OrgType,
)
from storage.seed import ensure_defaults

ACTOR = Actor.system("test:import")

#: The ToChuc rows of a small Khối (rows 2–5 of the sheet).
ORGS: list[list[Any]] = [
    [
        "DUK",
        "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh",
        "Đảng ủy Khối",
        None,
        None,
        None,
        None,
        "01/01/2020",
        None,
    ],
    [
        "DBSYT",
        "Đảng bộ Sở Y tế",
        "Đảng bộ cơ sở",
        "DUK",
        "hanh_chinh",
        "Sở Y tế",
        None,
        None,
        None,
    ],
    [
        "CBVP",
        "Chi bộ Văn phòng Sở Y tế",
        "Chi bộ trực thuộc",
        "dbsyt",
        "Cơ quan hành chính nhà nước",
        "Sở Y tế",
        5,
        "2020-01-01",
        None,
    ],
    [
        "CBDIEN",
        "Chi bộ Công ty Điện lực",
        "Chi bộ cơ sở",
        "DUK",
        "dn_nha_nuoc",
        "Công ty Điện lực tỉnh",
        8,
        date(2020, 1, 1),
        None,
    ],
]

#: The DangVien rows (rows 2–4 of the sheet).
MEMBERS: list[list[Any]] = [
    [
        "DV001",
        "Nguyễn Thị Lan",
        "CBVP",
        "Nữ",
        1985,
        3,
        "Chính thức",
        "15/03/2010",
        "20/3/2010",
        "20/03/2011",
        "25/03/2011",
        "QG-000123",
    ],
    [
        "DV002",
        "Trần Văn Minh",
        "cbvp",
        "Nam",
        1998,
        None,
        "Dự bị",
        date(2025, 6, 1),
        None,
        None,
        None,
        None,
    ],
    ["DV003", "Lê Văn Hùng", "CBDIEN", "nam", "1950", None, "Miễn sinh hoạt"] + [None] * 5,
]


def fill_template(
    path: Path,
    orgs: Sequence[Sequence[Any]] | None = None,
    members: Sequence[Sequence[Any]] | None = None,
) -> Path:
    """Write the template and replace its example rows by ``orgs`` and ``members``."""
    write_template(path)
    wb = load_workbook(path)
    sheets = {
        "ToChuc": ORGS if orgs is None else orgs,
        "DangVien": MEMBERS if members is None else members,
    }
    for sheet, rows in sheets.items():
        ws = wb[sheet]
        ws.delete_rows(2, ws.max_row)
        for row in rows:
            ws.append(list(row))
    wb.save(path)
    return path


def windows_1258(text: str) -> bytes:
    """Encode as Vietnamese Windows does: base letters, tone marks as combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            head = unicodedata.normalize("NFC", base + "".join(m for m in marks if m not in tones))
            tail = "".join(m for m in marks if m in tones)
            out.append((head + tail).encode("cp1258"))
    return b"".join(out)


def edit(path: Path, sheet: str, cell: str, value: Any) -> Path:
    """Change one cell of a saved workbook."""
    wb = load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)
    return path


@dataclass
class Outcome:
    """What an import did: the errors it reported, or what it wrote."""

    errors: list[RowError]
    result: ImportResult | None


def run_import(db: Database, path: Path, clock: ManualClock) -> Outcome:
    """Import as ``chibo admin import`` does: validate all, then apply in one transaction."""
    batch = parse_workbook(path)
    with db.transaction() as session:
        errors = validate(session, batch, today=clock.now().date())
        if errors:
            return Outcome(errors, None)
        return Outcome([], apply(session, batch, actor=ACTOR, now=clock.now()))


def state(db: Database) -> dict[str, Any]:
    """Everything an import may touch, to prove a failed one touched nothing."""
    with db.transaction() as session:
        return {
            "orgs": sorted(
                (o.code, o.name, o.kind, o.parent_id, o.updated_at)
                for o in session.scalars(select(Organization))
            ),
            "members": sorted(
                (m.code, m.full_name, m.org_id, m.status, m.updated_at)
                for m in session.scalars(select(Member))
            ),
            "types": session.scalar(select(func.count()).select_from(OrgType)),
            "audit": session.scalar(select(func.count()).select_from(AuditLog)),
        }


def audit_count(db: Database) -> int:
    """Rows in the audit log."""
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditLog)) or 0


@pytest.fixture
def seeded(db: Database, clock: ManualClock) -> Database:
    """A database with the shipped defaults (what ``chibo db upgrade`` leaves)."""
    with db.transaction() as session:
        ensure_defaults(session, now=clock.now())
    return db


# --- The happy path --------------------------------------------------------------------------


def test_template_filled_imports_and_reimport_changes_nothing(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = fill_template(tmp_path / "danh-sach.xlsx")

    first = run_import(seeded, path, clock)
    assert first.errors == []
    assert first.result == ImportResult(created=7, updated=0, unchanged=0)
    assert audit_count(seeded) == 7

    with seeded.transaction() as session:
        orgs = {o.code: o for o in session.scalars(select(Organization))}
        assert orgs["DUK"].kind is OrgKind.TOP and orgs["DUK"].parent_id is None
        assert orgs["CBVP"].kind is OrgKind.CELL
        assert orgs["CBVP"].parent_id == orgs["DBSYT"].id
        assert orgs["CBVP"].org_type == "hanh_chinh"  # given by its Vietnamese name
        assert orgs["CBVP"].usual_meeting_day == 5
        assert orgs["CBDIEN"].kind is OrgKind.GRASSROOTS_CELL
        assert orgs["CBDIEN"].active_from == date(2020, 1, 1)  # a real Excel date
        assert orgs["DBSYT"].name_folded == "dang bo so y te"
        members = {m.code: m for m in session.scalars(select(Member))}
        lan = members["DV001"]
        assert (lan.full_name, lan.gender, lan.birth_year, lan.birth_month) == (
            "Nguyễn Thị Lan",
            Gender.FEMALE,
            1985,
            3,
        )
        assert lan.status is MemberStatus.FULL
        assert (lan.admitted_on, lan.ceremony_on, lan.probation_end_on, lan.full_member_on) == (
            date(2010, 3, 15),
            date(2010, 3, 20),
            date(2011, 3, 20),
            date(2011, 3, 25),
        )
        assert lan.external_code == "QG-000123"
        minh = members["DV002"]
        assert minh.org_id == orgs["CBVP"].id  # "cbvp" matches CBVP
        assert minh.status is MemberStatus.PROBATIONARY and minh.ceremony_on is None
        assert minh.admitted_on == date(2025, 6, 1)
        assert members["DV003"].status is MemberStatus.EXEMPT
        created = session.scalars(
            select(AuditLog).where(AuditLog.entity == "member", AuditLog.entity_id == str(lan.id))
        ).one()
        assert created.action == "create" and created.actor == "test:import"
        assert created.before is None and created.after["full_name"] == "Nguyễn Thị Lan"

    second = run_import(seeded, path, clock)
    assert second.result == ImportResult(created=0, updated=0, unchanged=7)
    assert audit_count(seeded) == 7


def test_a_corrected_row_updates_one_record_with_before_and_after(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = fill_template(tmp_path / "danh-sach.xlsx")
    run_import(seeded, path, clock)
    clock.advance(timedelta(days=3))
    edit(path, "DangVien", "G3", "Chính thức")  # DV002 becomes a full member
    edit(path, "DangVien", "K3", "01/06/2026")

    outcome = run_import(seeded, path, clock)

    assert outcome.result == ImportResult(created=0, updated=1, unchanged=6)
    with seeded.transaction() as session:
        minh = session.scalars(select(Member).where(Member.code == "DV002")).one()
        assert minh.status is MemberStatus.FULL
        assert minh.full_member_on == date(2026, 6, 1)
        assert minh.updated_at == clock.now()
        assert minh.created_at == clock.now() - timedelta(days=3)
        update = session.scalars(select(AuditLog).where(AuditLog.action == "update")).one()
        assert update.entity == "member" and update.entity_id == str(minh.id)
        assert update.before == {"status": "probationary", "full_member_on": None}
        assert update.after == {"status": "full", "full_member_on": "2026-06-01"}


def test_the_template_as_shipped_imports_its_examples(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = write_template(tmp_path / "mau.xlsx")

    outcome = run_import(db, path, clock)

    assert outcome.errors == []
    assert outcome.result == ImportResult(created=3, updated=0, unchanged=0)
    with db.transaction() as session:
        member = session.scalars(select(Member)).one()
        assert member.full_name == "Nguyễn Thị Hồng Nhung"
        # The empty database had no organization types: the one used was added.
        assert session.scalars(select(OrgType.code)).all() == ["hanh_chinh"]


def test_template_has_the_sheets_headers_and_lists_an_office_needs(tmp_path: Path) -> None:
    wb = load_workbook(write_template(tmp_path / "mau.xlsx"))

    assert wb.sheetnames == ["HuongDan", "ToChuc", "DangVien", "LoaiHinh"]
    orgs, members = wb["ToChuc"], wb["DangVien"]
    assert [c.value for c in orgs[1]][:3] == ["Mã tổ chức", "Tên tổ chức", "Cấp"]
    assert [c.value for c in members[1]][-1] == "Mã đảng viên quốc gia"
    assert all(c.font.b for c in members[1])
    assert orgs.freeze_panes == members.freeze_panes == "A2"
    assert members.column_dimensions["B"].width >= len("Nguyễn Thị Hồng Nhung")
    lists = {dv.formula1 for dv in members.data_validations.dataValidation}
    assert '"Nam,Nữ"' in lists
    assert any("Miễn sinh hoạt" in f for f in lists)
    assert any(
        "Chi bộ cơ sở" in f for f in {dv.formula1 for dv in orgs.data_validations.dataValidation}
    )
    guide = " ".join(str(c.value) for row in wb["HuongDan"].iter_rows() for c in row if c.value)
    assert "CCCD" in guide and "tôn giáo" in guide and "dd/mm/yyyy" in guide
    # The organization-type drop-down offers Vietnamese names; the codes sit beside them.
    types = {r[0].value: r[1].value for r in wb["LoaiHinh"].iter_rows(min_row=2)}
    assert types["Doanh nghiệp có vốn đầu tư nước ngoài"] == "dn_fdi"
    type_list = next(
        dv for dv in orgs.data_validations.dataValidation if "LoaiHinh" in (dv.formula1 or "")
    )
    assert type_list.formula1.startswith("LoaiHinh!$A$2")
    assert orgs["E3"].value == "Cơ quan hành chính nhà nước"


def test_names_are_stored_in_nfc_with_emoji_intact(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị  Ánh 🌸")
    assert nfd != unicodedata.normalize("NFC", nfd)
    members = [["DV100", nfd, "CBVP"] + [None] * 9]
    path = fill_template(tmp_path / "a.xlsx", members=members)

    assert run_import(seeded, path, clock).result == ImportResult(5, 0, 0)

    with seeded.transaction() as session:
        member = session.scalars(select(Member)).one()
        assert member.full_name == "Nguyễn Thị Ánh 🌸"
        assert unicodedata.is_normalized("NFC", member.full_name)
        assert member.name_folded == "nguyen thi anh 🌸"
        assert member.status is MemberStatus.FULL  # empty status means full
    # The same name typed composed is the same record, unchanged.
    path = fill_template(tmp_path / "b.xlsx", members=[["DV100", "Nguyễn Thị Ánh 🌸", "CBVP"]])
    assert run_import(seeded, path, clock).result == ImportResult(0, 0, 5)


def test_csv_imports_one_sheet_with_bom_and_semicolons(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    run_import(seeded, fill_template(tmp_path / "a.xlsx", members=[]), clock)
    text = (
        "Mã đảng viên;Họ và tên;Mã chi bộ;Giới tính;Năm sinh;Tháng sinh;Tình trạng;"
        "Ngày kết nạp;Ngày lễ kết nạp;Ngày hết dự bị;Ngày công nhận chính thức;"
        "Mã đảng viên quốc gia\r\n"
        "DV010;Phạm Thị Thu Hà;CBVP;Nữ;1979;;Chính thức;2/9/2005;;;;\r\n"
        'DV011;"Thạch, Sa Ry";CBDIEN;Nữ;2001;12;Dự bị;2026-05-19;;;;\r\n'
        ";;;;;;;;;;;\r\n"
    )
    path = tmp_path / "dangvien.csv"
    path.write_bytes(text.encode("utf-8-sig"))

    assert run_import(seeded, path, clock).result == ImportResult(2, 0, 0)

    with seeded.transaction() as session:
        got = {m.code: m for m in session.scalars(select(Member))}
        assert got["DV010"].admitted_on == date(2005, 9, 2)
        assert got["DV011"].full_name == "Thạch, Sa Ry"
        assert got["DV011"].birth_month == 12


def test_csv_of_organizations_in_windows_vietnamese_encoding(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    header = ",".join(
        [
            "Mã tổ chức",
            "Tên tổ chức",
            "Cấp",
            "Mã tổ chức cấp trên",
            "Loại hình",
            "Cơ quan/đơn vị",
            "Ngày sinh hoạt thường lệ",
            "Hoạt động từ",
            "Hoạt động đến",
        ]
    )
    text = (
        f"{header}\n"
        "duk,Đảng ủy Khối,Cấp trên,,,,,,\n"
        "cb1,Chi bộ Hợp tác xã,Chi bộ cơ sở,DUK,hop_tac_xa,,3,,\n"
    )
    path = tmp_path / "tochuc.csv"
    path.write_bytes(windows_1258(text))

    assert run_import(db, path, clock).result == ImportResult(2, 0, 0)

    with db.transaction() as session:
        cell = session.scalars(select(Organization).where(Organization.code == "CB1")).one()
        assert cell.name == "Chi bộ Hợp tác xã"
        assert unicodedata.is_normalized("NFC", cell.name)
        assert cell.org_type == "hop_tac_xa"


def test_a_csv_whose_headers_are_unknown_is_refused(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Số CCCD,Tôn giáo\n0123,Không\n", encoding="utf-8")

    outcome = run_import(db, path, clock)

    assert [e.reason_text("en") for e in outcome.errors] == [
        "the headers match neither ToChuc nor DangVien; the first column should be "
        "'Mã tổ chức' or 'Mã đảng viên'"
    ]
    assert state(db)["orgs"] == []


def test_unreadable_and_unsupported_files_are_refused(tmp_path: Path) -> None:
    fake = tmp_path / "a.xlsx"
    fake.write_bytes(b"not a zip")
    with pytest.raises(UnreadableFile):
        parse_workbook(fake)
    old = tmp_path / "a.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnreadableFile) as info:
        parse_workbook(old)
    assert info.value.params == {"suffix": ".xls"}


def test_five_thousand_members_import_in_one_pass(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    orgs = ORGS[:1] + [
        [f"CB{c:02d}", f"Chi bộ số {c}", "Chi bộ cơ sở", "DUK", "dn_tu_nhan", None, 10, None, None]
        for c in range(40)
    ]
    members = [
        [
            f"DV{i:05d}",
            f"Nguyễn Văn Số {i}",
            f"CB{i % 40:02d}",
            "Nam" if i % 2 else "Nữ",
            1960 + i % 40,
            1 + i % 12,
            "Dự bị" if i % 10 == 0 else "Chính thức",
            "15/03/2010",
            date(2010, 3, 20),
            "2011-03-20",
            None,
            None,
        ]
        for i in range(5000)
    ]
    path = fill_template(tmp_path / "big.xlsx", orgs=orgs, members=members)

    started = time.perf_counter()
    outcome = run_import(seeded, path, clock)
    elapsed = time.perf_counter() - started

    assert outcome.result == ImportResult(created=5041, updated=0, unchanged=0), outcome.errors[:3]
    with seeded.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 5000
        probationary = select(func.count()).where(Member.status == MemberStatus.PROBATIONARY)
        assert session.scalar(probationary) == 500
        m = session.scalars(select(Member).where(Member.code == "DV04321")).one()
        assert (m.birth_year, m.birth_month, m.gender) == (1961, 2, Gender.MALE)
        assert m.org.code == "CB01"
    assert audit_count(seeded) == 5041
    again = run_import(seeded, path, clock)
    assert again.result == ImportResult(0, 0, 5041)
    assert audit_count(seeded) == 5041
    print(f"5,000 members: first import {elapsed:.2f}s on {seeded.dialect}")


def test_apply_refuses_an_invalid_batch_and_writes_nothing(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = edit(fill_template(tmp_path / "a.xlsx"), "DangVien", "C4", "DUK")
    before = state(seeded)
    batch = parse_workbook(path)

    with pytest.raises(ImportInvalid) as info, seeded.transaction() as session:
        apply(session, batch, actor=ACTOR, now=clock.now())

    assert [(e.sheet, e.row, e.column) for e in info.value.errors] == [
        ("DangVien", 4, "Mã chi bộ")
    ]
    assert state(seeded) == before


# --- Every kind of mistake: reported where it is, and nothing written -----------------------


@dataclass(frozen=True)
class Mistake:
    """A change to the good file and the error it must produce."""

    name: str
    change: Callable[[Path], None]
    sheet: str
    row: int | None
    column: str | None
    reason: str  # a part of the English reason
    vi: str  # a part of the Vietnamese line


def cells(sheet: str, **values: Any) -> Callable[[Path], None]:
    """A change setting cells (``A2="x"``) of one sheet."""

    def change(path: Path) -> None:
        wb = load_workbook(path)
        for ref, value in values.items():
            wb[sheet][ref] = value
        wb.save(path)

    return change


def drop_sheet(sheet: str) -> Callable[[Path], None]:
    """A change removing a sheet."""

    def change(path: Path) -> None:
        wb = load_workbook(path)
        del wb[sheet]
        wb.save(path)

    return change


def drop_column(sheet: str, index: int) -> Callable[[Path], None]:
    """A change deleting a column (1-based)."""

    def change(path: Path) -> None:
        wb = load_workbook(path)
        wb[sheet].delete_cols(index)
        wb.save(path)

    return change


def add_row(sheet: str, row: Sequence[Any]) -> Callable[[Path], None]:
    """A change appending a row."""

    def change(path: Path) -> None:
        wb = load_workbook(path)
        wb[sheet].append(list(row))
        wb.save(path)

    return change


MISTAKES = [
    Mistake(
        "missing sheet",
        drop_sheet("DangVien"),
        "DangVien",
        None,
        None,
        "sheet is missing",
        "Trang tính DangVien: thiếu trang tính",
    ),
    Mistake(
        "renamed header",
        cells("DangVien", H1="Ngày vào Đảng"),
        "DangVien",
        1,
        "Ngày vào Đảng",
        "unknown column 'Ngày vào Đảng' (column H)",
        "cột lạ",
    ),
    Mistake(
        "missing required column",
        drop_column("DangVien", 3),
        "DangVien",
        1,
        "Mã chi bộ",
        "missing column 'Mã chi bộ'",
        "thiếu cột 'Mã chi bộ'",
    ),
    Mistake(
        "extra personal column",
        cells("DangVien", M1="Số CCCD", M2="001234567890"),
        "DangVien",
        1,
        "Số CCCD",
        "chibo keeps only the template's columns",
        "chỉ lưu các cột",
    ),
    Mistake(
        "empty name",
        cells("DangVien", B3=None),
        "DangVien",
        3,
        "Họ và tên",
        "this column is required",
        "Trang tính DangVien, dòng 3, cột 'Họ và tên': bắt buộc",
    ),
    Mistake(
        "name too long",
        cells("DangVien", B2="Nguyễn " * 20),
        "DangVien",
        2,
        "Họ và tên",
        "too long: 139 characters, at most 120",
        "quá dài",
    ),
    Mistake(
        "duplicate organization code",
        add_row("ToChuc", ["duk", "Đảng ủy Khối (trùng)", "Cấp trên"] + [None] * 6),
        "ToChuc",
        6,
        "Mã tổ chức",
        "code DUK already appears in row 2",
        "đã có ở dòng 2",
    ),
    Mistake(
        "duplicate member code",
        cells("DangVien", A4="DV001"),
        "DangVien",
        4,
        "Mã đảng viên",
        "code DV001 already appears in row 2",
        "đã có ở dòng 2",
    ),
    Mistake(
        "unknown superior",
        cells("ToChuc", D4="DBXX"),
        "ToChuc",
        4,
        "Mã tổ chức cấp trên",
        "superior organization DBXX is neither in this file nor in the database",
        "không có trong tệp",
    ),
    Mistake(
        "member under a committee",
        cells("DangVien", C2="DBSYT"),
        "DangVien",
        2,
        "Mã chi bộ",
        "DBSYT is not a cell",
        "không phải chi bộ",
    ),
    Mistake(
        "member under an unknown cell",
        cells("DangVien", C2="CBMA"),
        "DangVien",
        2,
        "Mã chi bộ",
        "organization CBMA is neither in this file nor in the database",
        "không có trong tệp",
    ),
    Mistake(
        "cycle",
        cells("ToChuc", D3="CBVP"),
        "ToChuc",
        3,
        "Mã tổ chức cấp trên",
        "loops back: DBSYT → CBVP → DBSYT",
        "vòng lặp",
    ),
    Mistake(
        "two top organizations",
        add_row("ToChuc", ["DUK2", "Đảng ủy Khối thứ hai", "Đảng ủy Khối"] + [None] * 6),
        "ToChuc",
        6,
        "Cấp",
        "exactly one top organization; found 2: DUK, DUK2",
        "đúng một tổ chức cấp trên cùng",
    ),
    Mistake(
        "no top organization",
        cells("ToChuc", C2="Đảng bộ cơ sở"),
        "ToChuc",
        None,
        None,
        "exactly one top organization (Cấp: Đảng ủy Khối); found none",
        "đúng một tổ chức cấp trên cùng",
    ),
    Mistake(
        "top with a superior",
        cells("ToChuc", D2="DBSYT"),
        "ToChuc",
        2,
        "Mã tổ chức cấp trên",
        "the top organization cannot have a superior organization",
        "không có tổ chức cấp trên",
    ),
    Mistake(
        "cell without a superior",
        cells("ToChuc", D5=None),
        "ToChuc",
        5,
        "Mã tổ chức cấp trên",
        "a superior organization code is required",
        "bắt buộc",
    ),
    Mistake(
        "unknown organization type",
        cells("ToChuc", E3="Công ty ma"),
        "ToChuc",
        3,
        "Loại hình",
        "unknown organization type 'Công ty ma'",
        "loại hình",
    ),
    Mistake(
        "unknown level",
        cells("ToChuc", C4="Cấp xã"),
        "ToChuc",
        4,
        "Cấp",
        "unknown level 'Cấp xã'",
        "không rõ cấp",
    ),
    Mistake(
        "birth year in the future",
        cells("DangVien", E2=2027),
        "DangVien",
        2,
        "Năm sinh",
        "between 1900 and 2026 (2027)",
        "từ 1900 đến 2026",
    ),
    Mistake(
        "birth year too old",
        cells("DangVien", E2=1899),
        "DangVien",
        2,
        "Năm sinh",
        "between 1900 and 2026 (1899)",
        "từ 1900 đến 2026",
    ),
    Mistake(
        "birth year with five digits",
        cells("DangVien", E3=19750),
        "DangVien",
        3,
        "Năm sinh",
        "between 1900 and 2026 (19750)",
        "năm sinh phải từ 1900",
    ),
    Mistake(
        "birth year in words",
        cells("DangVien", E3="bảy lăm"),
        "DangVien",
        3,
        "Năm sinh",
        "not a whole number (bảy lăm)",
        "không phải số nguyên",
    ),
    Mistake(
        "birth month 13",
        cells("DangVien", F2=13),
        "DangVien",
        2,
        "Tháng sinh",
        "the month must be between 1 and 12 (13)",
        "từ 1 đến 12",
    ),
    Mistake(
        "usual day 29",
        cells("ToChuc", G4=29),
        "ToChuc",
        4,
        "Ngày sinh hoạt thường lệ",
        "between 1 and 28 (29)",
        "từ 1 đến 28",
    ),
    Mistake(
        "usual day not a number",
        cells("ToChuc", G4="mùng 5"),
        "ToChuc",
        4,
        "Ngày sinh hoạt thường lệ",
        "not a whole number (mùng 5)",
        "không phải số nguyên",
    ),
    Mistake(
        "active to before active from",
        cells("ToChuc", I4="31/12/2019"),
        "ToChuc",
        4,
        "Hoạt động đến",
        "ends (31/12/2019) before it starts (01/01/2020)",
        "trước ngày bắt đầu",
    ),
    Mistake(
        "unknown status",
        cells("DangVien", G3="Đang học"),
        "DangVien",
        3,
        "Tình trạng",
        "unknown status 'Đang học'; use one of: Chính thức, Dự bị, Miễn sinh hoạt, Chuyển đi, "
        "Đã xóa tên",
        "tình trạng",
    ),
    Mistake(
        "unknown gender",
        cells("DangVien", D2="Khác"),
        "DangVien",
        2,
        "Giới tính",
        "unknown gender 'Khác'; use Nam or Nữ",
        "giới tính",
    ),
    Mistake(
        "date that does not exist",
        cells("DangVien", H2="31/02/2020"),
        "DangVien",
        2,
        "Ngày kết nạp",
        "date does not exist (31/02/2020)",
        "ngày không tồn tại (31/02/2020)",
    ),
    Mistake(
        "two-digit year",
        cells("DangVien", I2="20/3/10"),
        "DangVien",
        2,
        "Ngày lễ kết nạp",
        "two-digit year",
        "4 chữ số",
    ),
    Mistake(
        "not a date",
        cells("DangVien", J2="năm sau"),
        "DangVien",
        2,
        "Ngày hết dự bị",
        "not a date; write it as dd/mm/yyyy (năm sau)",
        "dd/mm/yyyy",
    ),
    Mistake(
        "data under no header",
        cells("DangVien", N3="ghi chú riêng"),
        "DangVien",
        3,
        None,
        "column N holds data but has no header",
        "không có tiêu đề",
    ),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_a_mistake_is_reported_where_it_is_and_nothing_is_written(
    mistake: Mistake, seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = fill_template(tmp_path / "danh-sach.xlsx")
    mistake.change(path)
    before = state(seeded)

    outcome = run_import(seeded, path, clock)

    assert outcome.result is None
    found = [
        e
        for e in outcome.errors
        if (e.sheet, e.row, e.column) == (mistake.sheet, mistake.row, mistake.column)
        and mistake.reason in e.reason_text("en")
    ]
    assert found, [e.render("en") for e in outcome.errors]
    assert mistake.vi.casefold() in found[0].render("vi").casefold()
    assert state(seeded) == before


def test_a_mistake_leaves_earlier_imports_untouched(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = fill_template(tmp_path / "danh-sach.xlsx")
    run_import(seeded, path, clock)
    edit(path, "DangVien", "B2", "Nguyễn Thị Lan Anh")  # a good change…
    edit(path, "ToChuc", "D3", "CBVP")  # …and a cycle in the same file
    before = state(seeded)

    outcome = run_import(seeded, path, clock)

    rows = {(e.sheet, e.row) for e in outcome.errors}
    assert rows == {("ToChuc", 3), ("ToChuc", 4)}  # both ends of the loop
    assert state(seeded) == before


def test_superiors_and_cells_already_in_the_database_are_found(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    run_import(seeded, fill_template(tmp_path / "a.xlsx", members=[]), clock)
    # A second file with only a new cell under an existing committee, and its member.
    orgs = [["CBNEW", "Chi bộ Phòng Khám", "Chi bộ", "DBSYT", None, None, None, None, None]]
    members = [["DV900", "Võ Minh Tâm", "CBNEW"], ["DV901", "Đỗ Thị Mai", "CBVP"]]
    path = fill_template(tmp_path / "b.xlsx", orgs=orgs, members=members)

    outcome = run_import(seeded, path, clock)

    assert outcome.result == ImportResult(3, 0, 0)


def test_a_cell_with_members_cannot_become_a_committee(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    run_import(seeded, fill_template(tmp_path / "a.xlsx"), clock)
    orgs = [ORGS[0], ["CBDIEN", "Đảng bộ Điện lực", "Đảng bộ cơ sở", "DUK"] + [None] * 5]
    path = fill_template(tmp_path / "b.xlsx", orgs=orgs, members=[])
    before = state(seeded)

    outcome = run_import(seeded, path, clock)

    assert [(e.sheet, e.row, e.column, e.reason_text("en")) for e in outcome.errors] == [
        (
            "ToChuc",
            3,
            "Cấp",
            "members in the database belong to this organization (1), so it must stay a cell",
        )
    ]
    assert state(seeded) == before


def test_probationary_member_without_ceremony_date_is_accepted(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    members = [["DV500", "Hồ Thị Yến", "CBDIEN", "Nữ", 2002, None, "dự bị"]]

    outcome = run_import(seeded, fill_template(tmp_path / "a.xlsx", members=members), clock)

    assert outcome.result == ImportResult(5, 0, 0)
    with seeded.transaction() as session:
        member = session.scalars(select(Member)).one()
        assert member.status is MemberStatus.PROBATIONARY and member.ceremony_on is None
        assert member.name_folded == fold("Hồ Thị Yến")


def test_errors_render_in_vietnamese_and_english() -> None:
    error = RowError(
        "DangVien", 7, "Ngày kết nạp", "date does not exist ({value})", {"value": "31/02/2020"}
    )

    assert error.render("vi") == (
        "Trang tính DangVien, dòng 7, cột 'Ngày kết nạp': ngày không tồn tại (31/02/2020)"
    )
    assert error.render("en") == (
        "Sheet DangVien, row 7, column 'Ngày kết nạp': date does not exist (31/02/2020)"
    )


def test_a_reimport_that_moves_a_member_records_a_dated_transfer(
    seeded: Database, clock: ManualClock, tmp_path: Path
) -> None:
    """A member moved from CBVP to CBDIEN by an import on 15/06/2026 counts in CBVP through
    June (where they were on 01/06: the first-day rule of domain.rules.membership) and in
    CBDIEN from July; the past is not rewritten."""
    from storage.membership import placements
    from storage.reviews import roll_counts as cell_roll
    from storage.summary import roll_counts

    clock.set(datetime(2026, 1, 5, 3, 0, tzinfo=UTC))
    path = fill_template(tmp_path / "danh-sach.xlsx")
    run_import(seeded, path, clock)
    clock.set(datetime(2026, 6, 15, 3, 0, tzinfo=UTC))
    edit(path, "DangVien", "C2", "CBDIEN")  # DV001 (Nguyễn Thị Lan) moves
    outcome = run_import(seeded, path, clock)
    assert outcome.result == ImportResult(created=0, updated=1, unchanged=6)
    months = [(2026, m) for m in range(4, 9)]
    with seeded.transaction() as session:
        orgs = {o.code: o.id for o in session.scalars(select(Organization))}
        lan = session.scalars(select(Member).where(Member.code == "DV001")).one()
        spans = [(p.org_id, p.from_date, p.to_date, p.source) for p in placements(session, lan.id)]
        counts = roll_counts(session, [orgs["CBVP"], orgs["CBDIEN"]], months)
        per_cell = {c: cell_roll(session, org_id=orgs[c], months=months) for c in orgs}
        transfer = session.scalars(select(AuditLog).where(AuditLog.action == "transfer")).one()
    assert lan.org_id == orgs["CBDIEN"]
    assert spans == [
        (orgs["CBVP"], None, date(2026, 6, 15), "seed"),
        (orgs["CBDIEN"], date(2026, 6, 15), None, "import"),
    ]
    assert transfer.after["on"] == "2026-06-15"
    # CBVP: Lan (full) and Minh (probationary) through June, then Minh alone.
    assert [counts[orgs["CBVP"]][ym] for ym in months] == [2, 2, 2, 1, 1]
    # CBDIEN: its only member is exempt (not on the roll); Lan from July.
    assert [counts.get(orgs["CBDIEN"], {}).get(ym, 0) for ym in months] == [0, 0, 0, 1, 1]
    assert per_cell["CBVP"] == counts[orgs["CBVP"]]
    assert per_cell["CBDIEN"] == counts[orgs["CBDIEN"]]
