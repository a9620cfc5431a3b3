"""The layer contract in pyproject.toml holds, and it catches an upward arrow and a cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "services", "documents", "storage", "domain")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the sources and the contract, to break on purpose."""
    for name in PACKAGES:
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "data")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_contract_holds() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_arrow_back_up_breaks_it(tree: Path) -> None:
    add_import(tree / "storage" / "orgs.py", "import handlers.base  # noqa")
    result = lint(tree)
    assert result.returncode != 0
    assert "Layers: bot > handlers > services > documents > storage > domain BROKEN" in (
        result.stdout
    )
    assert "storage.orgs -> handlers.base" in result.stdout


def test_telegram_below_services_breaks_it(tree: Path) -> None:
    add_import(tree / "documents" / "layout.py", "import telegram  # noqa")
    result = lint(tree)
    assert result.returncode != 0
    assert "Nothing below services imports Telegram BROKEN" in result.stdout


def test_a_cycle_inside_a_layer_breaks_it(tree: Path) -> None:
    add_import(tree / "storage" / "reports.py", "import storage.report_kinds  # noqa")
    result = lint(tree)
    assert result.returncode != 0
    assert "No cycles between the modules of a package BROKEN" in result.stdout
