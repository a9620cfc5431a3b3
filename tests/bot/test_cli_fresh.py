"""Every `chibo` command in an empty folder: it works, or it says in one line what to run first.

The commands are read from the parser itself, so a command added later is tried too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, main

BAD = ("Traceback", "sqlalche.me", "Error:", "Exception")


def leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command: (its words, its parser)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if path and (not subs or not subs[0].required):
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from leaves(child, (*path, name))


def sample_argv(words: tuple[str, ...], parser: argparse.ArgumentParser) -> list[str]:
    """The command with a plausible value for everything it requires."""
    argv = list(words)
    chosen = set()
    for group in parser._mutually_exclusive_groups:
        if group.required:
            chosen.add(group._group_actions[0].dest)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        needed = action.required or action.dest in chosen
        if not needed:
            continue
        if action.choices:
            value = str(next(iter(action.choices)))
        elif action.type is int:
            value = "1"
        else:
            value = {"period": "2026-11", "at": "2027-03-13 08:00"}.get(action.dest, "x")
        if action.option_strings:
            argv.append(action.option_strings[-1])
            if action.nargs != 0:
                argv.append(value)
        else:
            argv.append(value)
    if words == ("demo",):
        argv += ["--script", "demo.txt"]
    return argv


COMMANDS = [sample_argv(words, p) for words, p in leaves(build_parser())]


@pytest.fixture
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "CHIBO_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    (tmp_path / "demo.txt").write_text("/help\nquit\n", encoding="utf-8")
    return tmp_path


def test_every_command_is_tried() -> None:
    names = {" ".join(words) for words, _parser in leaves(build_parser())}
    assert {"run", "demo", "db upgrade", "admin template", "calendar", "notices send"} <= names
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_a_command_in_an_empty_folder_works_or_says_what_to_run_first_in_one_line(
    argv: list[str], empty_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv)

    out, err = capsys.readouterr()
    assert not any(bad in out + err for bad in BAD), out + err
    if code != 0:
        assert out == ""
        assert err.count("\n") == 1, err
        assert err.startswith("chibo")
    if argv[:2] != ["db", "upgrade"]:
        assert not (empty_folder / "data").exists(), "a database file was left behind"


def test_after_db_upgrade_every_command_works_or_says_why_in_one_line(
    empty_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    for argv in COMMANDS:
        if argv[0] == "run":
            continue  # without a token it says so; with one it would poll Telegram
        code = main(argv)
        out, err = capsys.readouterr()
        assert not any(bad in out + err for bad in BAD), (argv, out + err)
        if code != 0:
            assert err.count("\n") == 1, (argv, err)


def test_the_empty_calendar_shows_what_is_due_when_for_whom_and_from_which_rule(
    empty_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for setup in ([], ["db", "upgrade"]):  # no database yet, then one with no organization
        if setup:
            assert main(setup) == 0
        capsys.readouterr()
        assert main(["calendar", "--year", "2027"]) == 0
        out = capsys.readouterr().out
        assert "2027-02-28" in out  # a monthly meeting, on the last day by default
        assert "Sinh hoạt chi bộ thường kỳ" in out
        assert "Bí thư chi bộ" in out  # who is reminded
        assert "Điều lệ Đảng" in out  # the rule it comes from
        assert "0 instances" not in out


def test_chibo_alone_orients_and_knows_its_version(
    empty_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "chibo demo" in out and "chibo db upgrade" in out
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("chibo ")


def test_piping_into_head_ends_quietly(empty_folder: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHIBO_", "DATABASE_URL"))}
    result = subprocess.run(
        f"{sys.executable} -m bot calendar --year 2027 | head -1",
        shell=True,
        cwd=empty_folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_english_is_one_switch_away_help_texts_included(
    empty_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit):
        main(["admin", "--help"])
    vietnamese = capsys.readouterr().out
    monkeypatch.setenv("CHIBO_LOCALE", "en")
    with pytest.raises(SystemExit):
        main(["admin", "--help"])
    english = capsys.readouterr().out

    assert "list the invites not used yet" in english and "options:" in english
    assert "list the invites not used yet" not in vietnamese
    assert "options:" not in vietnamese
    assert main(["calendar", "--year", "2027"]) == 0
    assert "Due dates in 2027" in capsys.readouterr().out
