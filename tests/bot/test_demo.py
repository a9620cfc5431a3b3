"""`chibo demo` replays a script through the real bot on the offline double."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main


def run_script(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str]) -> str:
    script = tmp_path / "demo.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["demo", "--script", str(script)]) == 0
    return capsys.readouterr().out


def test_a_demo_script_switches_users_presses_numbered_buttons_and_prints_the_transcript(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = run_script(
        tmp_path,
        capsys,
        [
            "/start",
            "as lanh_dao",
            "/language",
            "[2]",
            "/help",
            "as nobody",
            "#9",
            "quit",
            "/never-reached",
        ],
    )
    assert "Chào đồng chí Huỳnh Văn Tâm!" in out
    assert "[lanh_dao]> /language" in out
    assert "[1] 🇻🇳 Tiếng Việt  [2] 🇬🇧 English" in out
    assert "Language set: English." in out
    assert "What you can do" in out  # the leader now reads English
    assert "nobody" in out
    assert "/never-reached" not in out
    assert "no demo user nobody" in out  # the demo's own words follow the user's language
    assert "no message with buttons" in out or "no button with that number" in out
    assert not (tmp_path / "data").exists()  # the demo keeps its database in a temp folder


def test_the_demo_reads_a_piped_script_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("/help\n"))
    assert main(["demo"]) == 0
    assert "/meeting (/sinhhoat)" in capsys.readouterr().out


MEETING = [
    "/meeting",
    "[1]",  # regular meeting
    "100",  # a typed number is the number of minutes, not a button
    "#1",  # today
    "[26]",  # attendance: done
    "[1]",  # the superior committee member attended
    "[6]",  # content: go on
    "[1]",  # save
]


def test_a_typed_number_is_the_duration_and_button_numbers_follow_the_message_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from storage.db import Database
    from storage.models import Meeting

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    script = tmp_path / "demo.txt"
    script.write_text("\n".join(MEETING) + "\n", encoding="utf-8")

    assert main(["demo", "--script", str(script), "--database-url", url]) == 0
    out = capsys.readouterr().out

    assert "[3] or #3 presses button 3" in out or "#3" in out.split("[bt_bv]>")[0]
    db = Database.from_url(url)
    try:
        with db.transaction() as session:
            assert session.scalars(select(Meeting.duration_min)).all() == [100]
    finally:
        db.dispose()


def test_the_demo_saves_the_documents_it_receives_and_runs_twice_on_one_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    script = tmp_path / "demo.txt"
    # After the document, [3] is still button 3 of the summary just shown: "Quý" (quarter).
    script.write_text("as lanh_dao\n/summary\npress Excel\n[3]\n", encoding="utf-8")

    for _run in range(2):  # the second run finds the demo Khối already seeded
        assert main(["demo", "--script", str(script), "--database-url", url]) == 0
    out = capsys.readouterr().out

    assert re.search(r"Tổng hợp quý [IV]+/\d{4}", out.split("> [3]")[1])
    saved = sorted((tmp_path / "chibo-demo-files").glob("*.xlsx"))
    assert len(saved) == 2  # one per run; the second did not overwrite the first
    assert f"chibo-demo-files/{saved[0].name}" in out
    workbook = load_workbook(saved[0], read_only=True)
    assert len(workbook.sheetnames) > 1
    workbook.close()


def test_the_demo_shows_last_months_consideration_late_and_records_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo Khối was imported 60 days ago: last month's consideration of the sympathizer
    list is late in every cell; the consideration offers it and records it for that month."""
    monkeypatch.chdir(tmp_path)
    out = run_script(
        tmp_path,
        capsys,
        ["/camtinh", "press Xem xét hằng tháng", "press (quá hạn)", "press Ghi nhận đã xem xét"],
    )
    late = re.search(
        r"Danh sách chưa được xem xét trong tháng (\d{2}/\d{4}), tháng đã kết thúc", out
    )
    assert late is not None
    month = late.group(1)
    assert f"Ghi nhận cho tháng {month} (quá hạn)" in out
    assert f"Đã ghi nhận xem xét tháng {month}" in out
    assert "(không có nút nào mang nhãn đó)" not in out  # every press found its button
