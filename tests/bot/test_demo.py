"""`chibo demo` replays a script through the real bot on the offline double."""

from __future__ import annotations

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
            "2",
            "/help",
            "as nobody",
            "9",
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
    assert not (tmp_path / "data").exists()  # the demo keeps its database in a temp folder


def test_the_demo_reads_a_piped_script_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("/help\n"))
    assert main(["demo"]) == 0
    assert "/meeting (/sinhhoat)" in capsys.readouterr().out
