"""``python -m bench`` keeps working: its plan matches the benchmarks' options, and the figures
they hand back become one table (nothing here is timed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.__main__ import (
    FULL,
    convert_import,
    convert_latency,
    convert_memory,
    convert_reminders,
    convert_summary,
    parse_summary_output,
    plan,
    table,
)

ROOT = Path(__file__).resolve().parents[2]


def test_dry_run_lists_every_row_and_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows, commands = done.stdout.split("Commands:")
    for row in ("update→reply", "press at once", "/summary", "reminders", "start-up", "peak"):
        assert row in rows
    assert "import of 2,000 members" in rows
    for module in ("latency", "summary", "reminders", "memory", "import"):
        for backend in ("sqlite", "postgresql"):
            assert f"[{backend}]" in commands
            assert f"bench.bench_{module}" in commands


def test_unknown_backend_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--dry-run", "--backends", "mysql"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "mysql" in done.stderr


def test_full_plan_covers_the_issue_sizes(tmp_path: Path) -> None:
    steps = plan(FULL, ["sqlite"], "postgresql://x@h:5432", tmp_path, tmp_path)
    rows = [row for s in steps for row in s.rows]
    for people in (300, 100, 10):
        assert f"update→reply p50 / p99, {people} secretaries" in rows
    for scale in (1, 2, 5, 10):
        assert f"/summary, year 2026, {scale}× data" in rows
    assert "start-up to the first poll, 10× Khối" in rows
    assert any("20,000 members" in row for row in rows)
    # One Khối prepared (once: a marker says it is ready), the latency and memory runs share it.
    prepare = [s for s in steps if s.ready is not None]
    assert len(prepare) == 1 and prepare[0].args[:1] == ["--prepare"]
    khoi = prepare[0].args[1]
    shared = [s for s in steps if s.module in ("bench.bench_latency", "bench.bench_memory")]
    assert len(shared) == 4
    assert all(khoi in s.args and "--skip-prepare" in s.args for s in shared)


def test_records_become_one_table() -> None:
    cells = [
        *convert_latency(300)(
            [
                {
                    "row": "a",
                    "backend": "sqlite",
                    "chibo": {"p50": 29.0, "p99": 220.0, "cpu_ms": 15.0},
                    "floor": {"p50": 11.0, "p99": 112.0, "cpu_ms": 5.7},
                },
                {
                    "row": "d",
                    "backend": "sqlite",
                    "chibo": {"p50": 1.0, "p99": 2.0, "cpu_ms": 1.0},
                    "floor": None,
                    "seconds": 16.4,
                    "floor_seconds": 9.1,
                },
            ]
        ),
        *convert_summary(
            [
                {
                    "row": "/summary, year 2026",
                    "backend": "postgresql",
                    "scale": 10,
                    "chibo": 2.8,
                    "floor": 0.6,
                }
            ]
        ),
        *convert_reminders(
            [
                {
                    "row": "straight",
                    "backend": "sqlite",
                    "chibo": 35.3,
                    "floor": 33.33,
                    "unit": "s",
                    "messages": 1000,
                    "ratio": 1.06,
                    "rate_limited_429": 0,
                    "lost": 0,
                    "duplicated": 0,
                }
            ]
        ),
        *convert_memory(10)(
            {
                "backend": "sqlite",
                "startup_s": 1.4,
                "rss_start_mb": 101.2,
                "peak_bot_mb": 140.0,
                "peak_children_mb": 160.0,
            }
        ),
        *convert_import(20_000)(
            [
                {
                    "row": "import 20000 members (first)",
                    "backend": "sqlite",
                    "seconds": 9.0,
                    "cpu_seconds": 8.0,
                    "peak_mb": 137.0,
                }
            ]
        ),
    ]
    lines = list(table(cells, ["sqlite", "postgresql"], []))
    assert lines[0] == "| measure | SQLite | floor | PostgreSQL | floor |"
    body = "\n".join(lines[2:])
    latency = "| update→reply p50 / p99, 300 secretaries | 29 / 220 ms | 11 / 112 ms | not run |"
    assert latency in body
    assert "| all 300 press at once: last reply after | 16.40 s | 9.10 s |" in body
    assert "| /summary, year 2026, 10× data | not run |  | 2.80 s | 0.60 s |" in body
    assert "35.3 s = 1.06×, 0 × 429, 0 lost, 0 twice | 33.3 s |" in body
    assert "101 / 140 MB (+ 160 MB document process)" in body
    assert "9.0 s (8.0 s), 137 MB" in body
    assert len(lines) == 2 + 7  # the header, its rule, one line per row that has a figure


def test_summary_figures_read_from_printed_table() -> None:
    printed = (
        "backend    scale  cells  members ...\n"
        "sqlite        1×    300     9000     17000      400000    450000    12.1      "
        "0.180     0.200      0.020      667\n"
    )
    assert parse_summary_output(printed) == [
        {
            "row": "/summary, year 2026",
            "backend": "sqlite",
            "scale": 1,
            "chibo": 0.2,
            "floor": None,
            "unit": "s",
        }
    ]
