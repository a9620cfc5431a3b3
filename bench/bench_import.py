"""Benchmark: ``chibo admin import`` of a 20,000-member workbook, on SQLite and PostgreSQL.

Not a test: it prints figures. The workbook is generated the way the template is filled in:
one top organization, 60 grassroots party committees of 5 cells each plus 140 grassroots cells
(500 cells), and 20,000 members spread over them, with text dates (the template's date columns
are text) and some real Excel dates. The import runs as ``python -m bot.cli admin import FILE``
in a child process on a freshly migrated database, as an IT officer would run it: timed from
process start to exit, peak RSS read from the child's ``ru_maxrss`` (``wait4``). A second run of
the same file (everything unchanged) is timed too.

Run:  python -m bench.bench_import [--members 20000] [--backends sqlite,postgresql]
          [--pg-url postgresql://postgres@127.0.0.1:5432/bench_import] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import make_engine
from storage.importer import MEMBER_COLUMNS, ORG_COLUMNS, SHEET_MEMBERS, SHEET_ORGS

ROOT = Path(__file__).resolve().parents[1]
COMMITTEES = 60
CELLS_PER_COMMITTEE = 5
GRASSROOTS_CELLS = 140
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Thu", "Hoài")
GIVEN = ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Linh", "Mai")


def write_workbook(path: Path, members: int, seed: int = 7) -> None:
    """Write a filled import workbook (sheets ToChuc and DangVien) with ``members`` members."""
    from openpyxl import Workbook

    rnd = random.Random(seed)
    wb = Workbook(write_only=True)
    orgs = wb.create_sheet(SHEET_ORGS)
    orgs.append([c.header for c in ORG_COLUMNS])
    orgs.append(["DUK", "Đảng bộ Khối các cơ quan tỉnh", "Đảng ủy Khối", None, None, None, None])
    cells: list[str] = []
    for c in range(COMMITTEES):
        code = f"DB{c:03d}"
        orgs.append([code, f"Đảng bộ Sở {c}", "Đảng bộ cơ sở", "DUK", None, f"Sở {c}", None])
        for k in range(CELLS_PER_COMMITTEE):
            cell = f"{code}-CB{k}"
            cells.append(cell)
            orgs.append(
                [
                    cell,
                    f"Chi bộ Phòng {k} Sở {c}",
                    "Chi bộ trực thuộc",
                    code,
                    None,
                    None,
                    rnd.randint(1, 28),
                ]
            )
    for g in range(GRASSROOTS_CELLS):
        cell = f"CBCS{g:03d}"
        cells.append(cell)
        orgs.append(
            [cell, f"Chi bộ Ban {g}", "Chi bộ cơ sở", "DUK", None, f"Ban {g}", rnd.randint(1, 28)]
        )
    roll = wb.create_sheet(SHEET_MEMBERS)
    roll.append([c.header for c in MEMBER_COLUMNS])
    for i in range(members):
        name = f"{rnd.choice(SURNAMES)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
        year = rnd.randint(1960, 2002)
        admitted = date(rnd.randint(max(year + 18, 1985), 2024), rnd.randint(1, 12), 15)
        probationary = rnd.random() < 0.05
        admitted_cell: Any = admitted if i % 3 == 0 else f"{admitted:%d/%m/%Y}"
        roll.append(
            [
                f"DV{i:06d}",
                name,
                cells[i % len(cells)],
                "Nữ" if rnd.random() < 0.45 else "Nam",
                year,
                rnd.randint(1, 12),
                "Dự bị" if probationary else "Chính thức",
                admitted_cell,
                f"{admitted:%d/%m/%Y}" if probationary else None,
                None,
                None if probationary else f"{admitted.replace(year=admitted.year + 1):%d/%m/%Y}",
                f"{rnd.randint(10**9, 10**10 - 1)}" if rnd.random() < 0.5 else None,
            ]
        )
    wb.save(path)


def fresh_database(backend: str, pg_url: str, folder: Path) -> str:
    """An empty, migrated database; its URL."""
    if backend == "sqlite":
        path = folder / "import.sqlite3"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        target = make_url(pg_url)
        admin = make_engine(
            target.set(database="postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
        url = pg_url
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return url


def run_import(url: str, workbook: Path) -> tuple[float, float, float, str]:
    """Run ``chibo admin import`` in a child process: seconds, CPU seconds, peak RSS in MB and
    its last line (CPU time says more than the wall clock on a busy machine)."""
    env = {**os.environ, "DATABASE_URL": url, "CHIBO_LOCALE": "en"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "admin", "import", str(workbook)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}):\n{out[-2000:]}")
    lines = [line for line in out.splitlines() if line.strip()]
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench_import")
    parser.add_argument("--json", default=None, help="also write the rows as JSON to this path")
    args = parser.parse_args(argv)
    print(
        f"chibo import benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.members} members",
        flush=True,
    )
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        workbook = folder / "roll.xlsx"
        write_workbook(workbook, args.members)
        print(f"workbook: {workbook.stat().st_size / 1e6:.1f} MB", flush=True)
        for backend in [b for b in args.backends.split(",") if b]:
            url = fresh_database(backend, args.pg_url, folder)
            first = run_import(url, workbook)
            again = run_import(url, workbook)
            for label, (seconds, cpu, mb, last) in (("first", first), ("again", again)):
                print(
                    f"{backend:<10} {label:<6} {seconds:6.2f} s (CPU {cpu:5.2f} s)  "
                    f"peak RSS {mb:6.1f} MB  {last}",
                    flush=True,
                )
                records.append(
                    {
                        "row": f"import {args.members} members ({label})",
                        "backend": backend,
                        "seconds": round(seconds, 3),
                        "cpu_seconds": round(cpu, 3),
                        "peak_mb": round(mb, 1),
                    }
                )
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
