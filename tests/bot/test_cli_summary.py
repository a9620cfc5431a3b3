"""`chibo summary` end to end: the office prints, exports and charts a period from the shell."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.demo_seed import seed_demo
from storage.models import AuditLog
from tests.storage.test_summary import ALL, NOW, Records, standard_records


@dataclass
class Run:
    """What a command printed and returned."""

    code: int
    out: str
    err: str


@pytest.fixture
def story(db: Database) -> Records:
    """The demo Khối with the standard story's records."""
    with db.transaction() as session:
        khoi = seed_demo(session, now=NOW)
        return standard_records(session, khoi.orgs)


@pytest.fixture
def chibo(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Run]:
    """Run ``chibo`` against the test database, from an empty folder, on 16/11/2026."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    for name in ("TELEGRAM_BOT_TOKEN", "CHIBO_LOCALE"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()

    def run(*argv: str) -> Run:
        code = main(["summary", *argv, "--today", "2026-11-16"])
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def test_text_for_the_month(chibo: Callable[..., Run], story: Records) -> None:
    run = chibo("--period", "2026-11")
    assert run.code == 0, run.err
    assert "Tổng hợp tháng 11/2026" in run.out
    held = sum(story.regular_held(c, 2026, 11) for c in ALL)
    assert f"Sinh hoạt thường kỳ: {held}/4 chi bộ" in run.out
    assert "Theo loại hình tổ chức" in run.out and "<b>" not in run.out


def test_json_is_the_documented_shape(chibo: Callable[..., Run], story: Records) -> None:
    run = chibo("--period", "11/2026", "--org", "dbsyt", "--format", "json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["schema"] == "chibo.summary/1"
    assert data["period"]["key"] == "2026-11" and data["period"]["in_progress"] is True
    assert data["scope"]["org_code"] == "DBSYT"
    assert [c["code"] for c in data["cells"]] == ["CBBV-DK", "CBVP-SYT"]
    p, r, e, u = story.attendance({"CBBV-DK", "CBVP-SYT"}, date(2026, 11, 1), date(2026, 11, 30))
    totals = data["totals"]
    assert (totals["present"], totals["required"], totals["excused"], totals["unexcused"]) == (
        p,
        r,
        e,
        u,
    )
    assert totals["attendance_rate"] == round(p / r, 4)
    assert set(totals["new_signs"]) == {"political", "ethics", "self_evolution", "unspecified"}
    assert data["cells"][0]["months_missing"] == ["2026-11"]
    assert data["lists"]["three_months_flagged"][0]["months"] == ["2026-01", "2026-03", "2026-10"]
    assert data["candidates"] == {"tracked": False, "by_stage": {}, "by_priority_group": {}}


def test_files_are_written(
    chibo: Callable[..., Run], story: Records, tmp_path: Path, db: Database
) -> None:
    run = chibo("--period", "2026-Q4", "--format", "xlsx", "--out", "q4.xlsx")
    assert run.code == 0, run.err
    wb = load_workbook(tmp_path / "q4.xlsx")
    held = sum(story.regular_held(c, 2026, m) for c in ALL for m in (10, 11))
    overview = {row[0]: row[1:] for row in wb["Tổng quan"].iter_rows(values_only=True) if row[0]}
    assert overview["Sinh hoạt thường kỳ đã tổ chức (số chi bộ × số tháng)"][:2] == (held, 8)

    run = chibo("--period", "2026", "--format", "docx")
    assert run.code == 0, run.err
    assert "tong-hop-2026-DUK.docx" in run.out
    doc = Document(BytesIO((tmp_path / "tong-hop-2026-DUK.docx").read_bytes()))
    assert any("BÁO CÁO" in p.text for p in doc.paragraphs)

    run = chibo("--period", "2026", "--format", "png", "--out", "chart.png")
    assert run.code == 0, run.err
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    with db.transaction() as session:
        actors = set(session.scalars(select(AuditLog.actor).where(AuditLog.entity == "summary")))
    assert actors == {"cli:summary"}


@pytest.mark.parametrize("bad", ["2026-Q5", "13/2026", "2026-13", "Q4", "năm 2026"])
def test_a_bad_period_is_one_clear_line(chibo: Callable[..., Run], bad: str) -> None:
    run = chibo("--period", bad)
    assert run.code == 2
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and bad in lines[0] and "2026-Q4" in lines[0]


def test_a_future_period_is_refused(chibo: Callable[..., Run], story: Records) -> None:
    run = chibo("--period", "2026-12")
    assert run.code == 2
    assert run.err.strip() == (
        "chibo summary: 2026-12 chưa bắt đầu (hôm nay là 16/11/2026): chưa có số liệu."
    )


def test_an_unknown_organization(chibo: Callable[..., Run], story: Records) -> None:
    run = chibo("--period", "2026-11", "--org", "NOPE")
    assert run.code == 2 and "NOPE" in run.err


def test_a_period_with_no_data(chibo: Callable[..., Run], story: Records) -> None:
    run = chibo("--period", "2024", "--format", "json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["has_data"] is False and data["totals"]["regular_held"] == 0
    assert data["totals"]["attendance_rate"] is None
