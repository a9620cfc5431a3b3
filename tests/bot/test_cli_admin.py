"""`chibo admin …` end to end: the office prepares the roll, invites secretaries, manages roles."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from domain.text import fold
from storage.db import Database
from storage.models import (
    AuditLog,
    Invite,
    Member,
    Organization,
    OrgKind,
    Person,
    Role,
    RoleAssignment,
)

ORGS: list[list[Any]] = [
    ["DUK", "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh", "Đảng ủy Khối"] + [None] * 6,
    ["CBVP", "Chi bộ Văn phòng Sở Y tế", "Chi bộ cơ sở", "DUK", "hanh_chinh", "Sở Y tế", 5],
]


def member(i: int, **overrides: Any) -> list[Any]:
    """A DangVien row; ``overrides`` set cells by column letter (``H="31/02/2020"``)."""
    row: list[Any] = [f"DV{i:03d}", f"Nguyễn Văn Số {i}", "CBVP", "Nam", 1980, None, "Chính thức"]
    row += ["15/03/2010", None, None, None, None]
    for letter, value in overrides.items():
        row[ord(letter) - ord("A")] = value
    return row


def fill(path: Path, orgs: Sequence[Sequence[Any]], members: Sequence[Sequence[Any]]) -> Path:
    """Replace the example rows of a template written by ``chibo admin template``."""
    wb = load_workbook(path)
    for sheet, rows in (("ToChuc", orgs), ("DangVien", members)):
        ws = wb[sheet]
        ws.delete_rows(2, ws.max_row)
        for row in rows:
            ws.append(list(row))
    wb.save(path)
    return path


@dataclass
class Run:
    """What a command printed and returned."""

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
    """Run ``chibo`` against the test database, from an empty folder (no .env is read)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    for name in ("TELEGRAM_BOT_TOKEN", "CHIBO_BOT_USERNAME", "CHIBO_LOCALE", "CHIBO_INVITE_DAYS"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()

    def run(*argv: str) -> Run:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def count(db: Database, model: type[Any]) -> int:
    """Rows of a table."""
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def seed_orgs(db: Database) -> dict[str, int]:
    """A top organization and one cell, straight into the database."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ids: dict[str, int] = {}
    with db.transaction() as session:
        for code, name, kind, parent in (
            ("DUK", "Đảng ủy Khối", OrgKind.TOP, None),
            ("CBVP", "Chi bộ Văn phòng", OrgKind.GRASSROOTS_CELL, "DUK"),
        ):
            org = Organization(
                code=code,
                name=name,
                name_folded=fold(name),
                kind=kind,
                parent_id=ids.get(parent) if parent else None,
                created_at=now,
                updated_at=now,
            )
            session.add(org)
            session.flush()
            ids[code] = org.id
    return ids


def test_template_fill_import_and_reimport_changes_nothing(
    chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    made = chibo("admin", "template")
    assert made.code == 0, made.err
    path = tmp_path / "danh-sach.xlsx"
    assert path.exists() and "danh-sach.xlsx" in made.out
    fill(
        path,
        ORGS,
        [member(1), member(2, B="Trần Thị Bích Ngọc", D="Nữ", G="Dự bị", I="03/06/2026")],
    )

    dry = chibo("admin", "import", "danh-sach.xlsx", "--dry-run")
    assert dry.code == 0, dry.out
    assert "Chạy thử danh-sach.xlsx: tệp hợp lệ" in dry.out
    assert "thêm mới 4" in dry.out
    assert count(db, Organization) == 0 and count(db, AuditLog) == 0

    first = chibo("admin", "import", "danh-sach.xlsx")
    assert first.code == 0, first.out
    assert first.out.strip() == (
        "Đã nhập danh-sach.xlsx: thêm mới 4, cập nhật 0, giữ nguyên 0 bản ghi."
    )
    assert count(db, Member) == 2
    audit_rows = count(db, AuditLog)
    assert audit_rows == 4

    again = chibo("admin", "import", "danh-sach.xlsx", "--lang", "en")
    assert again.code == 0
    assert again.out.strip() == "Imported danh-sach.xlsx: 0 created, 0 updated, 4 unchanged."
    assert count(db, AuditLog) == audit_rows


def test_template_does_not_overwrite_a_filled_file(
    chibo: Callable[..., Run], tmp_path: Path
) -> None:
    (tmp_path / "danh-sach.xlsx").write_bytes(b"my work")

    refused = chibo("admin", "template")

    assert refused.code == 2
    assert refused.err.count("\n") == 1 and "--force" in refused.err
    assert (tmp_path / "danh-sach.xlsx").read_bytes() == b"my work"
    assert chibo("admin", "template", "--out", "danh-sach.xlsx", "--force").code == 0


def test_a_bad_file_lists_every_bad_row_and_writes_nothing(
    chibo: Callable[..., Run], db: Database, tmp_path: Path
) -> None:
    chibo("admin", "template", "--out", "ds.xlsx")
    members = [member(i) for i in range(1, 6)]
    members.append(member(6, H="31/02/2020", F=13))
    fill(tmp_path / "ds.xlsx", ORGS, members)

    bad = chibo("admin", "import", "ds.xlsx")

    assert bad.code == 1
    assert bad.out.splitlines() == [
        "Trang tính DangVien, dòng 7, cột 'Tháng sinh': tháng phải từ 1 đến 12 (13)",
        "Trang tính DangVien, dòng 7, cột 'Ngày kết nạp': ngày không tồn tại (31/02/2020)",
        "Tệp ds.xlsx có 2 lỗi; chưa ghi dữ liệu nào.",
    ]
    english = chibo("admin", "import", "ds.xlsx", "--dry-run", "--lang", "en")
    assert english.code == 1
    assert (
        "Sheet DangVien, row 7, column 'Ngày kết nạp': date does not exist (31/02/2020)"
        in english.out
    )
    assert english.out.splitlines()[-1] == "2 errors in ds.xlsx; nothing was written."
    assert count(db, Organization) == count(db, Member) == count(db, AuditLog) == 0


def test_a_file_that_is_not_a_workbook_is_refused(
    chibo: Callable[..., Run], tmp_path: Path
) -> None:
    (tmp_path / "ds.xlsx").write_text("hello", encoding="utf-8")

    run = chibo("admin", "import", "ds.xlsx")

    assert run.code == 1
    assert run.err.startswith("chibo: ds.xlsx không phải là tệp Excel .xlsx")


def test_invite_prints_a_deep_link_whose_code_is_stored_for_seven_days(
    chibo: Callable[..., Run], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_orgs(db)
    monkeypatch.setenv("CHIBO_BOT_USERNAME", "@chibo_khoi_bot")

    run = chibo("admin", "invite", "--org", "cbvp", "--role", "secretary", "--name", "Võ Thị Hà")

    assert run.code == 0, run.err
    link = re.search(r"https://t\.me/chibo_khoi_bot\?start=([A-Za-z0-9_-]+)", run.out)
    assert link is not None, run.out
    assert "Bí thư chi bộ" in run.out and "CBVP" in run.out
    with db.transaction() as session:
        invite = session.scalars(select(Invite)).one()
        assert invite.code == link.group(1)
        assert invite.role is Role.SECRETARY
        assert invite.display_name == "Võ Thị Hà"
        assert invite.expires_at - invite.created_at == timedelta(days=7)
        assert invite.created_by == "cli:admin"
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "invite")).one()
        assert audit.actor == "cli:admin"


def test_invite_without_a_bot_username_says_what_to_set_and_prints_the_start_command(
    chibo: Callable[..., Run], db: Database
) -> None:
    seed_orgs(db)

    run = chibo(
        "admin", "invite", "--org", "DUK", "--role", "standing", "--days", "2", "--lang", "en"
    )

    assert run.code == 0
    assert "CHIBO_BOT_USERNAME" in run.out and "clickable link" in run.out
    code = run.out.strip().splitlines()[-1].removeprefix("/start ")
    with db.transaction() as session:
        invite = session.scalars(select(Invite).where(Invite.code == code)).one()
        assert invite.expires_at - invite.created_at == timedelta(days=2)


def test_invite_to_an_unknown_organization_or_role_is_one_clear_line(
    chibo: Callable[..., Run], db: Database
) -> None:
    seed_orgs(db)

    unknown_org = chibo("admin", "invite", "--org", "NOPE", "--role", "secretary")
    unknown_role = chibo("admin", "invite", "--org", "DUK", "--role", "boss", "--lang", "en")

    assert unknown_org.code == unknown_role.code == 2
    assert unknown_org.err == "chibo: không có tổ chức mang mã: NOPE\n"
    assert unknown_role.err.startswith("chibo: unknown role 'boss'; use one of: secretary")
    assert unknown_role.err.count("\n") == 1
    assert count(db, Invite) == 0


def test_users_lists_assignments_and_revoke_ends_one(
    chibo: Callable[..., Run], db: Database
) -> None:
    ids = seed_orgs(db)
    granted = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    with db.transaction() as session:
        lan = Person(display_name="Nguyễn Thị Lan", telegram_user_id=42, created_at=granted)
        hai = Person(display_name="Trần Văn Hải", created_at=granted)
        session.add_all([lan, hai])
        session.flush()
        for person, role, org in ((lan, Role.SECRETARY, "CBVP"), (hai, Role.ADMIN, "DUK")):
            session.add(
                RoleAssignment(
                    person_id=person.id,
                    org_id=ids[org],
                    role=role,
                    granted_at=granted,
                    granted_by="test",
                )
            )
    with db.transaction() as session:
        lan_id = session.scalars(
            select(RoleAssignment.id).where(RoleAssignment.role == Role.SECRETARY)
        ).one()

    listed = chibo("admin", "users")

    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert lines[0].startswith("Số  ") and "Người dùng" in lines[0] and "Ngày giao" in lines[0]
    row = next(line for line in lines if "Nguyễn Thị Lan" in line)
    assert row.split()[0] == str(lan_id)
    assert " có " in row and "Bí thư chi bộ" in row and "CBVP" in row and "02/03/2026" in row
    assert " không " in next(line for line in lines if "Trần Văn Hải" in line)

    revoked = chibo("admin", "revoke", str(lan_id), "--lang", "en")
    assert revoked.code == 0, revoked.err
    assert f"Revoked assignment {lan_id}: cell secretary of Nguyễn Thị Lan" in revoked.out
    with db.transaction() as session:
        assignment = session.get(RoleAssignment, lan_id)
        assert assignment is not None and assignment.revoked_at is not None
        assert assignment.revoked_by == "cli:admin"
    assert "Nguyễn Thị Lan" not in chibo("admin", "users").out

    again = chibo("admin", "revoke", str(lan_id))
    assert again.code == 2
    assert again.err == f"chibo: không có phân công vai trò đang hiệu lực với số {lan_id}\n"


def test_admin_commands_refuse_a_database_that_is_not_upgraded(
    chibo: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new" / "chibo.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")

    for argv in (["admin", "users"], ["admin", "import", "x.xlsx"], ["admin", "invites"]):
        run = chibo(*argv, "--lang", "en")
        assert run.code == 2
        assert run.err == (
            f"chibo: there is no database yet ({path}); run first: chibo db upgrade\n"
        )
    assert not path.exists()  # asking left no empty database behind
    path.parent.mkdir()
    path.touch()  # an empty file: SQLite opens it, it has no tables
    run = chibo("admin", "users", "--lang", "en")
    assert run.err == (
        f"chibo: the database sqlite:///{path} has no tables yet; run first: chibo db upgrade\n"
    )
    # The import workbook needs no database at all.
    made = chibo("admin", "template", "--lang", "en")
    assert made.code == 0, made.err
    assert (tmp_path / "danh-sach.xlsx").exists()


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_run_without_a_valid_token_exits_with_one_line(
    token: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    if token is not None:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)

    code = main(["run"])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in err


def test_pending_invites_are_listed_and_one_can_be_cancelled(
    chibo: Callable[..., Run], db: Database
) -> None:
    seed_orgs(db)
    assert "No invite is waiting" in chibo("admin", "invites", "--lang", "en").out
    first = chibo("admin", "invite", "--org", "CBVP", "--role", "secretary", "--lang", "en")
    chibo("admin", "invite", "--org", "DUK", "--role", "standing", "--name", "Lan", "--lang", "en")
    invite_id = re.search(r"Invite (\d+) for", first.out)
    assert invite_id is not None

    listed = chibo("admin", "invites", "--lang", "en")
    assert listed.code == 0
    rows = listed.out.splitlines()[2:4]
    assert rows[0].startswith(invite_id.group(1)) and "CBVP" in rows[0]
    assert "DUK" in rows[1] and "Lan" in rows[1]

    cancelled = chibo("admin", "revoke-invite", invite_id.group(1), "--lang", "en")
    assert cancelled.code == 0 and "no longer works" in cancelled.out
    assert "CBVP" not in chibo("admin", "invites", "--lang", "en").out
    again = chibo("admin", "revoke-invite", invite_id.group(1), "--lang", "en")
    assert again.code == 2 and again.err.count("\n") == 1
    with db.transaction() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.entity == "invite")).all()
    assert "revoke" in actions
