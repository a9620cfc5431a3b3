"""`chibo backup / restore` and `chibo admin export-person / erase-person` from the shell."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from storage import backup, lease
from storage.db import Database
from tests.storage.test_privacy_backup import NAME, _seed, _traces


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
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("CHIBO_LOCALE", raising=False)
    capsys.readouterr()

    def run(*argv: str) -> Run:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def test_export_then_erase_a_member(chibo, db: Database, tmp_path: Path) -> None:
    _seed(db)
    done = chibo("admin", "export-person", "CBDIEN-900", "--out", "export")
    assert done.code == 0, done.err
    data = json.loads((tmp_path / "export" / "CBDIEN-900.json").read_text(encoding="utf-8"))
    assert data["member"]["full_name"] == NAME
    wb = load_workbook(tmp_path / "export" / "CBDIEN-900.xlsx")
    assert "Hồ sơ đảng viên" in wb.sheetnames, wb.sheetnames
    assert NAME in [c.value for c in wb["Hồ sơ đảng viên"][2]]

    refused = chibo("admin", "erase-person", "CBDIEN-900")
    assert refused.code == 2 and "--yes" in refused.err
    assert _traces(db, [NAME])
    done = chibo("admin", "erase-person", "CBDIEN-900", "--yes")
    assert done.code == 0, done.err
    assert _traces(db, [NAME]) == []
    missing = chibo("admin", "erase-person", "CBDIEN-900", "--yes")
    assert missing.code == 2 and "CBDIEN-900" in missing.err


def test_backup_and_restore_from_the_shell(chibo, db: Database, tmp_path: Path) -> None:
    _seed(db)
    original = backup.table_contents(db.engine)
    done = chibo("backup", "--out", "b/one.bak")
    assert done.code == 0, done.err
    assert (tmp_path / "b" / "one.bak").stat().st_size > 0
    assert chibo("admin", "erase-person", "CBDIEN-900", "--yes").code == 0
    assert chibo("restore", "b/one.bak").code == 2  # without --yes
    # A running bot (a live lease) blocks the restore.
    now = datetime.now(UTC)
    with db.transaction() as session:
        lease.try_acquire(session, name="bot", holder="h:1:x", now=now, ttl=timedelta(minutes=5))
    blocked = chibo("restore", "b/one.bak", "--yes")
    assert blocked.code == 2 and "bot" in blocked.err
    with db.transaction() as session:
        lease.release(session, name="bot", holder="h:1:x")
    done = chibo("restore", "b/one.bak", "--yes")
    assert done.code == 0, done.err
    restored = backup.table_contents(db.engine)
    # Every row is back but the cache's counter, which starts afresh (storage.cache).
    assert restored.pop("cache_generation") != original.pop("cache_generation")
    assert restored == original
