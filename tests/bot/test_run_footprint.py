"""What ``chibo run`` loads and how it asks the C library to hold its memory."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.runner import limit_malloc_arenas


def test_chibo_run_loads_no_document_library() -> None:
    # A fresh interpreter does what `chibo run` does before it connects: builds the command
    # line's parser (every sub-command) and imports the runner. The workbook, Word and chart
    # libraries are for the commands and the document process that use them; aiohttp's server
    # for the webhook and the health endpoint, when they are on (its client is the bot's HTTP).
    code = (
        "import sys\n"
        "import bot.cli\n"
        "bot.cli.build_parser()\n"
        "import bot.runner\n"
        "heavy = {'openpyxl', 'docx', 'matplotlib', 'numpy', 'PIL', 'aiohttp.web'}\n"
        "heavy &= set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_bot_limits_heap_arenas_unless_the_operator_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
    assert os.environ["MALLOC_ARENA_MAX"] == "4"
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    applied = limit_malloc_arenas()
    # glibc applies it and the document process inherits it through the environment; another
    # C library leaves everything as it was.
    assert os.environ.get("MALLOC_ARENA_MAX") == ("2" if applied else None)
