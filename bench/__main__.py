"""``python -m bench``: every benchmark of chibo in one run, printed as one table.

Each benchmark runs as a process of its own (``python -m bench.bench_*``) and hands its figures
back as JSON (``--json PATH``); this module only chooses the options, runs them one after the
other (never two at once: they would measure each other) and prints one Markdown table, the one
the README keeps. Rows, each on every backend asked for, with the floor it is compared with:

* update→reply latency, p50 / p99, at 300, 100 and 10 simultaneous secretaries pressing
  through ``/meeting`` (each acts after a think time of 15 s on average), and the time until
  the last reply when all of them press at once; floor: a bare PTB echo bot in the same run
  (``bench_latency``);
* ``/summary`` of a year for a leader of the whole Khối at 1×, 2×, 5× and 10× data; floor: a
  hand-written SQL aggregate over the same data, when ``bench_summary`` offers one
  (``bench_summary``);
* 1,000 reminders fanned out; floor: the 33.3 s that Telegram's 30 messages a second allow
  (``bench_reminders``, the double enforcing Telegram's limits);
* start-up to the first poll and peak memory after a leader's year summary and its three
  documents at 10× (``bench_memory``);
* importing 20,000 members with ``chibo admin import`` (``bench_import``).

Run:  python -m bench [--quick] [--backends sqlite,postgresql] [--dry-run] [--out PATH]
          [--pg-server postgresql://postgres@127.0.0.1:5432]

``--quick`` runs small sizes (a smoke run of a few minutes, figures not comparable);
``--dry-run`` lists the rows and the commands without running anything.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("sqlite", "postgresql")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: A secretary's mean think time between two presses, in seconds (300 of them: 20 updates/s).
THINK_SECONDS = 15.0


@dataclass(frozen=True)
class Sizes:
    """What a run measures: the full run's sizes, or the quick smoke run's."""

    people: tuple[int, ...]
    latency_seconds: float
    khoi_scale: int  # the Khối the latency and memory runs share (prepared once)
    summary_scales: tuple[int, ...]
    summary_repeat: int
    reminders: int
    members: int


FULL = Sizes((300, 100, 10), 30.0, 10, (1, 2, 5, 10), 3, 1000, 20_000)
QUICK = Sizes((10,), 5.0, 1, (1,), 1, 60, 2_000)


@dataclass
class Cell:
    """One figure of the table: a row, a backend, chibo's value and its floor."""

    row: str
    backend: str
    chibo: str
    floor: str = "—"


@dataclass
class Step:
    """One benchmark process and how its JSON becomes cells."""

    label: str
    backend: str
    module: str
    args: list[str]
    json_path: Path | None
    convert: Callable[[Any], list[Cell]]
    rows: list[str] = field(default_factory=list)  # the rows it fills (for --dry-run)
    #: Reads the records from the printed output, for a benchmark without ``--json``.
    fallback: Callable[[str], Any] | None = None
    use_json: bool = True
    #: A step that prepares data: skipped while this file exists, written when it succeeds.
    ready: Path | None = None

    def command(self) -> list[str]:
        out = ["--json", str(self.json_path)] if self.use_json and self.json_path else []
        return [sys.executable, "-m", self.module, *self.args, *out]


def options_of(module: str) -> set[str]:
    """The options a benchmark's ``--help`` lists (its ``main`` called in this process)."""
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), contextlib.suppress(SystemExit):
        importlib.import_module(module).main(["--help"])
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", shown.getvalue()))


def check_options(steps: list[Step]) -> list[str]:
    """Match every step with its benchmark's options: a step whose benchmark lacks ``--json``
    reads its printed output instead; an option the benchmark lacks is a problem to report."""
    known: dict[str, set[str]] = {}
    problems = []
    for s in steps:
        if s.json_path is None:
            continue  # a preparation of this module's own
        if s.module not in known:
            known[s.module] = options_of(s.module)
        have = known[s.module]
        if "--json" not in have:
            if s.fallback is None:
                problems.append(f"{s.module} has no --json option")
            s.use_json = False
        for option in (a for a in s.args if a.startswith("--")):
            if option not in have:
                problems.append(f"{s.module} has no {option} option")
    return problems


def _ms(figures: dict[str, float] | None) -> str:
    if not figures:
        return "—"
    return f"{figures['p50']:,.0f} / {figures['p99']:,.0f} ms"


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f} s"


def latency_rows(people: int) -> list[str]:
    return [
        f"update→reply p50 / p99, {people} secretaries",
        f"all {people} press at once: last reply after",
    ]


def convert_latency(people: int) -> Callable[[Any], list[Cell]]:
    normal, burst = latency_rows(people)

    def convert(records: list[dict[str, Any]]) -> list[Cell]:
        cells = []
        for r in records:
            if r["row"] == "a":
                cells.append(Cell(normal, r["backend"], _ms(r["chibo"]), _ms(r["floor"])))
            elif r["row"] == "d":
                cells.append(
                    Cell(burst, r["backend"], _s(r.get("seconds")), _s(r.get("floor_seconds")))
                )
        return cells

    return convert


YEAR_ROW = "/summary, year 2026"


def summary_row(row: str, scale: int) -> str:
    return f"{row}, {scale}× data"


def convert_summary(records: list[dict[str, Any]]) -> list[Cell]:
    cells = []
    for r in records:
        unit = r.get("unit", "s")
        floor = r.get("floor")
        cells.append(
            Cell(
                summary_row(str(r["row"]), int(r["scale"])),
                r["backend"],
                f"{r['chibo']:,.2f} {unit}",
                "—" if floor is None else f"{floor:,.2f} {unit}",
            )
        )
    return cells


def parse_summary_output(text: str) -> list[dict[str, Any]]:
    """The year's median from the printed table of a ``bench_summary`` without ``--json``
    (columns: backend, scale, cells, members, meetings, attendance, reviews, load s,
    year best, year median, month median, µs/cell); no floor is printed there."""
    records = []
    for line in text.splitlines():
        found = re.match(r"^(sqlite|postgresql)\s+(\d+)×\s+(.*)$", line.strip())
        if found:
            fields = found.group(3).split()
            records.append(
                {
                    "row": YEAR_ROW,
                    "backend": found.group(1),
                    "scale": int(found.group(2)),
                    "chibo": float(fields[7]),
                    "floor": None,
                    "unit": "s",
                }
            )
    return records


def reminders_row(n: int) -> str:
    return f"{n:,} reminders fanned out (floor: 30 msg/s)"


def convert_reminders(records: list[dict[str, Any]]) -> list[Cell]:
    return [
        Cell(
            reminders_row(r["messages"]),
            r["backend"],
            f"{r['chibo']:,.1f} s = {r['ratio']:.2f}×, {r['rate_limited_429']} × 429, "
            f"{r['lost']} lost, {r['duplicated']} twice",
            f"{r['floor']:,.1f} s",
        )
        for r in records
        if r["row"] == "straight"
    ]


def memory_rows(scale: int) -> list[str]:
    return [
        f"start-up to the first poll, {scale}× Khối",
        f"RSS at start / peak after a year summary + 3 documents, {scale}× Khối",
        f"through the bot, {scale}× Khối: year summary / Excel / Word / chart",
    ]


def convert_memory(scale: int) -> Callable[[Any], list[Cell]]:
    startup, peak, documents = memory_rows(scale)

    def convert(r: dict[str, Any]) -> list[Cell]:
        cells = [
            Cell(startup, r["backend"], _s(r["startup_s"])),
            Cell(
                peak,
                r["backend"],
                f"{r['rss_start_mb']:.0f} / {r['peak_bot_mb']:.0f} MB "
                f"(+ {r['peak_children_mb']:.0f} MB document process)",
            ),
        ]
        if "year_summary_s" in r:
            times = [r[k] for k in ("year_summary_s", "excel_s", "word_s", "chart_s")]
            cells.append(
                Cell(documents, r["backend"], " / ".join(f"{t:,.1f}" for t in times) + " s")
            )
        return cells

    return convert


def import_rows(members: int) -> list[str]:
    return [
        f"chibo admin import of {members:,} members: time (CPU), peak RSS",
        "… the same file again (nothing changes)",
    ]


def convert_import(members: int) -> Callable[[Any], list[Cell]]:
    first, again = import_rows(members)

    def convert(records: list[dict[str, Any]]) -> list[Cell]:
        return [
            Cell(
                again if r["row"].endswith("(again)") else first,
                r["backend"],
                f"{r['seconds']:.1f} s ({r['cpu_seconds']:.1f} s), {r['peak_mb']:.0f} MB",
            )
            for r in records
        ]

    return convert


def plan(sizes: Sizes, backends: list[str], pg_server: str, tmp: Path, data: Path) -> list[Step]:
    """Every benchmark process of the run, in order. The Khối that the latency and memory
    runs share lives in ``data`` (SQLite) or ``bench_khoi<scale>`` (PostgreSQL) and is
    prepared once: a run with the same ``--data`` reuses it (the preparation is not timed)."""
    steps: list[Step] = []
    for backend in backends:

        def url(name: str, backend: str = backend, folder: Path = tmp) -> str:
            if backend == "sqlite":
                return f"sqlite:///{folder / f'{name}.sqlite3'}"
            return f"{pg_server.rstrip('/')}/{name}"

        def out(name: str, backend: str = backend) -> Path:
            return tmp / f"{name}-{backend}.json"

        khoi = url(f"bench_khoi{sizes.khoi_scale}", folder=data)
        people = sorted(sizes.people, reverse=True)
        steps.append(
            Step(
                f"prepare the {sizes.khoi_scale}× Khối (not timed)",
                backend,
                "bench",
                ["--prepare", khoi, "--scale", str(sizes.khoi_scale), "--people", str(people[0])],
                None,
                lambda _data: [],
                ready=data / f"bench_khoi{sizes.khoi_scale}-{backend}.ready",
            )
        )
        for n in people:
            steps.append(
                Step(
                    f"latency, {n} secretaries",
                    backend,
                    "bench.bench_latency",
                    [
                        "--db",
                        khoi,
                        "--scale",
                        str(sizes.khoi_scale),
                        "--people",
                        str(n),
                        "--rate",
                        f"{n / THINK_SECONDS:g}",
                        "--seconds",
                        f"{sizes.latency_seconds:g}",
                        "--only",
                        "a,d",
                        "--reminders",
                        "0",
                        "--skip-prepare",
                    ],
                    out(f"latency{n}"),
                    convert_latency(n),
                    latency_rows(n),
                )
            )
        steps.append(
            Step(
                "summary",
                backend,
                "bench.bench_summary",
                [
                    "--backends",
                    backend,
                    "--pg-url",
                    url("bench_summary", "postgresql"),
                    "--scales",
                    ",".join(map(str, sizes.summary_scales)),
                    "--repeat",
                    str(sizes.summary_repeat),
                ],
                out("summary"),
                convert_summary,
                [summary_row(YEAR_ROW, s) for s in sizes.summary_scales],
                fallback=parse_summary_output,
            )
        )
        steps.append(
            Step(
                "reminders",
                backend,
                "bench.bench_reminders",
                [
                    "--n",
                    str(sizes.reminders),
                    "--only",
                    "straight",
                    "--database-url",
                    url("bench_reminders"),
                ],
                out("reminders"),
                convert_reminders,
                [reminders_row(sizes.reminders)],
            )
        )
        steps.append(
            Step(
                "memory and start-up",
                backend,
                "bench.bench_memory",
                ["--db", khoi, "--scale", str(sizes.khoi_scale), "--skip-prepare"],
                out("memory"),
                convert_memory(sizes.khoi_scale),
                memory_rows(sizes.khoi_scale),
            )
        )
        steps.append(
            Step(
                "import",
                backend,
                "bench.bench_import",
                [
                    "--members",
                    str(sizes.members),
                    "--backends",
                    backend,
                    "--pg-url",
                    url("bench_import", "postgresql"),
                ],
                out("import"),
                convert_import(sizes.members),
                import_rows(sizes.members),
            )
        )
    return steps


def run_step(s: Step) -> tuple[int, str]:
    """Run one benchmark, its output shown as it comes and kept; the exit code and output."""
    proc = subprocess.Popen(
        s.command(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    kept = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        kept.append(line)
    return proc.wait(), "".join(kept)


def ensure_databases(pg_server: str, names: list[str]) -> None:
    """Create the PostgreSQL databases the benchmarks wipe and fill (each named bench_*)."""
    # The orchestrator imports only the standard library at start (it runs each benchmark in a
    # process of its own); what it needs of the project it loads here, downward, no cycle.
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(f"{pg_server.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        have = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
        for name in names:
            if name not in have:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def table(cells: list[Cell], backends: list[str], order: list[str]) -> Iterator[str]:
    """The Markdown table: one line per row, chibo and its floor for each backend."""
    head = ["measure"]
    for b in backends:
        head += [NAMES[b], "floor"]
    yield "| " + " | ".join(head) + " |"
    yield "|" + "---|" * len(head)
    rows = list(dict.fromkeys([*order, *(c.row for c in cells)]))
    by = {(c.row, c.backend): c for c in cells}
    for row in rows:
        line = [row]
        for b in backends:
            c = by.get((row, b))
            line += [c.chibo, c.floor] if c else ["not run", ""]
        if any(by.get((row, b)) for b in backends):
            yield "| " + " | ".join(line) + " |"


def machine() -> str:
    """One line about the machine: CPUs, memory, load."""
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load average {load} at the start"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--dry-run", action="store_true", help="list the rows and commands only")
    parser.add_argument("--out", default=None, help="also write the table and the raw JSON here")
    parser.add_argument(
        "--data",
        default=None,
        help="keep the prepared Khối here and reuse it in later runs (default: a temporary one)",
    )
    parser.add_argument(
        "--summary-scales", default=None, help="the /summary sizes (default: 1,2,5,10; quick: 1)"
    )
    parser.add_argument(
        "--latency-seconds", type=float, default=None, help="length of a latency window"
    )
    parser.add_argument("--prepare", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, default=300, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        from bench.bench_latency import prepare  # loaded only in the preparing child process

        prepare(args.prepare, args.scale, args.people, 0)
        return 0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(unknown)}; use {', '.join(BACKENDS)}")
    sizes = QUICK if args.quick else FULL
    if args.summary_scales:
        scales = tuple(int(x) for x in args.summary_scales.split(",") if x.strip())
        sizes = dataclasses.replace(sizes, summary_scales=scales)
    if args.latency_seconds:
        sizes = dataclasses.replace(sizes, latency_seconds=args.latency_seconds)
    with tempfile.TemporaryDirectory(prefix="chibo-bench-") as name:
        tmp = Path(name)
        data = Path(args.data).resolve() if args.data else tmp
        data.mkdir(parents=True, exist_ok=True)
        steps = plan(sizes, backends, args.pg_server, tmp, data)
        order = list(dict.fromkeys(row for s in steps for row in s.rows))
        problems = check_options(steps)
        if problems:
            print("chibo bench: " + "; ".join(problems), file=sys.stderr)
            return 2
        if args.dry_run:
            print("Rows:")
            for row in order:
                print(f"  {row}")
            print("Commands:")
            for s in steps:
                print(f"  [{s.backend}] {s.label}: {' '.join(s.command()[1:])}")
            return 0
        if "postgresql" in backends:
            ensure_databases(
                args.pg_server,
                [f"bench_khoi{sizes.khoi_scale}", "bench_summary", "bench_reminders",
                 "bench_import"],
            )  # fmt: skip
        started = datetime.now(UTC)
        header = f"chibo benchmarks — {started:%Y-%m-%d %H:%M} UTC; {machine()}"
        print(header, flush=True)
        cells: list[Cell] = []
        raw: dict[str, Any] = {}
        failed: list[str] = []

        def write(lines: list[str]) -> None:
            if args.out:
                Path(args.out).write_text(
                    "\n".join(lines) + "\n\n" + json.dumps(raw, indent=1) + "\n",
                    encoding="utf-8",
                )

        for s in steps:
            busy = s.ready.with_suffix(".preparing") if s.ready is not None else None
            while busy is not None and busy.exists() and not s.ready.exists():  # type: ignore[union-attr]
                print(f"### [{s.backend}] waiting: another run is preparing the Khối", flush=True)
                time.sleep(30)
            if s.ready is not None and s.ready.exists():
                print(f"\n### [{s.backend}] {s.label}: ready from an earlier run", flush=True)
                continue
            print(f"\n### [{s.backend}] {s.label}: {' '.join(s.command()[1:])}", flush=True)
            begin = time.perf_counter()
            code, printed = run_step(s)
            print(f"### ({time.perf_counter() - begin:.0f} s)", flush=True)
            if code != 0:
                failed.append(f"[{s.backend}] {s.label} (exit {code})")
                if s.ready is not None:
                    break  # nothing after it can run on a Khối that is not there
                continue
            if s.ready is not None:
                s.ready.write_text(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n", encoding="utf-8")
            if s.json_path is None:
                continue
            if s.use_json:
                data = json.loads(s.json_path.read_text(encoding="utf-8"))
            else:
                assert s.fallback is not None
                data = s.fallback(printed)
            raw[f"{s.backend}: {s.label}"] = data
            cells += s.convert(data)
            write([f"{header} (so far)", "", *table(cells, backends, order)])
        finished = datetime.now(UTC)
        lines = [
            "",
            f"{header}; finished {finished:%H:%M} UTC",
            "",
            *table(cells, backends, order),
        ]
        if failed:
            lines += ["", "Failed: " + "; ".join(failed)]
        print("\n".join(lines), flush=True)
        write(lines)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
