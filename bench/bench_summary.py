"""Benchmark: a year's summary of a synthetic Khối, on SQLite and PostgreSQL, at 1× … 10× data.

Not a test: it prints figures. At 1× the Khối has 300 cells (60 grassroots party committees of
3 cells, 120 grassroots cells), about 9,000 members and five years of monthly records up to
16 November 2026: regular meetings (95 % of cell-months, some combined with a thematic one),
thematic meetings, each member's attendance at each regular meeting, superior committee
guests, monthly commitment reviews (85 % of member-months), quarterly and annual reports and
study models. N× multiplies the cells and members (the years stay five), so a year's summary
of the whole Khối reads N× the rows; the goal is < 0.5 s at 1× on both backends and growth no
worse than linear.

Records are inserted with SQLAlchemy core ``insert()`` executemany in chunks, then the tables
are ANALYZEd (as autovacuum / a maintenance job would). Timed: the use case behind /summary
for a leader — scope of the top organization plus :func:`storage.summary.build_summary` — for
the year 2026 and for November 2026, best and median of a few runs.

Run:  python -m bench.bench_summary [--scales 1,2,5,10] [--backends sqlite,postgresql]
          [--pg-url postgresql://postgres@127.0.0.1:5432/bench] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from domain.rules.periods import Period
from domain.text import fold
from storage import report_kinds
from storage import summary as store
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    AbsenceReason,
    Attendance,
    AttendanceStatus,
    Base,
    Gender,
    Meeting,
    MeetingGuest,
    MeetingKind,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Report,
    ReportStatus,
    Review,
    ReviewOutcome,
    SignGroup,
    StudyModel,
)
from storage.seed import ORG_TYPES, ensure_defaults

TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
FIRST_MONTH = (2022, 1)
CHUNK = 20_000
BASE_CELLS = 300
MEMBERS_PER_CELL = 30
ROOT = Path(__file__).resolve().parents[1]


def months_until(today: date) -> list[tuple[int, int]]:
    """Every month from January 2022 up to ``today``'s month."""
    out = []
    y, m = FIRST_MONTH
    while (y, m) <= (today.year, today.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass
class Counts:
    """Rows inserted."""

    cells: int = 0
    members: int = 0
    meetings: int = 0
    attendance: int = 0
    reviews: int = 0
    reports: int = 0

    @property
    def total(self) -> int:
        """All rows of the big tables."""
        return self.members + self.meetings + self.attendance + self.reviews + self.reports


class Loader:
    """Buffers rows per table and flushes them with executemany in chunks."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.buffers: dict[Any, list[dict[str, Any]]] = {}

    def add(self, table: Any, row: dict[str, Any]) -> None:
        """Queue a row (everything is flushed when a table reaches CHUNK rows)."""
        buf = self.buffers.setdefault(table, [])
        buf.append(row)
        if len(buf) >= CHUNK:
            self.flush()  # parents first, so foreign keys hold

    def flush(self) -> None:
        """Write the queued rows of every table, parents first."""
        for tb in [t for t in Base.metadata.sorted_tables if t in self.buffers]:
            rows = self.buffers.get(tb)
            if rows:
                with self.engine.begin() as conn:
                    conn.execute(insert(tb), rows)
                self.buffers[tb] = []


def generate(db: Database, scale: int, seed: int = 12) -> Counts:
    """Insert the synthetic Khối at ``scale`` × 300 cells; return the row counts."""
    rng = random.Random(seed)
    with db.transaction() as session:
        ensure_defaults(session, now=NOW)
    loader = Loader(db.engine)
    counts = Counts()
    type_codes = [code for code, _vi, _en in ORG_TYPES]
    months = months_until(TODAY)
    org_id = 0
    ts = {"created_at": NOW, "updated_at": NOW}

    def org(code: str, name: str, kind: OrgKind, parent: int | None, org_type: str | None) -> int:
        nonlocal org_id
        org_id += 1
        loader.add(
            Organization.__table__,
            {
                "id": org_id,
                "code": code,
                "name": name,
                "name_folded": fold(name),
                "host_unit": None,
                "kind": kind,
                "org_type": org_type,
                "parent_id": parent,
                "active_from": date(2020, 1, 1),
                "active_to": None,
                "usual_meeting_day": 10,
                **ts,
            },
        )
        return org_id

    top = org("DUK", "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh", OrgKind.TOP, None, None)
    cells: list[int] = []
    n_committees = 60 * scale
    for c in range(n_committees):
        t = type_codes[c % len(type_codes)]
        committee = org(f"DB{c:05d}", f"Đảng bộ số {c}", OrgKind.COMMITTEE, top, t)
        for k in range(3):
            cells.append(
                org(f"CB{c:05d}-{k}", f"Chi bộ {k} của Đảng bộ {c}", OrgKind.CELL, committee, t)
            )
    for g in range(120 * scale):
        t = type_codes[(g * 7) % len(type_codes)]
        cells.append(org(f"CBCS{g:05d}", f"Chi bộ cơ sở số {g}", OrgKind.GRASSROOTS_CELL, top, t))
    loader.flush()
    counts.cells = len(cells)

    member_id = meeting_id = review_id = 0
    for cell in cells:
        roll: list[tuple[int, MemberStatus]] = []
        for i in range(MEMBERS_PER_CELL):
            member_id += 1
            status = (
                MemberStatus.EXEMPT
                if i == MEMBERS_PER_CELL - 1
                else MemberStatus.PROBATIONARY
                if i % 9 == 4
                else MemberStatus.FULL
            )
            admitted = date(rng.randint(1990, 2021), rng.randint(1, 12), rng.randint(1, 28))
            name = f"Đảng viên {member_id}"
            loader.add(
                Member.__table__,
                {
                    "id": member_id,
                    "code": f"DV{member_id:07d}",
                    "org_id": cell,
                    "full_name": name,
                    "name_folded": fold(name),
                    "gender": Gender.FEMALE if i % 2 else Gender.MALE,
                    "birth_year": rng.randint(1960, 2000),
                    "birth_month": None,
                    "status": status,
                    "admitted_on": admitted,
                    "ceremony_on": admitted,
                    "probation_end_on": None,
                    "full_member_on": None,
                    "status_since": None,
                    "external_code": None,
                    **ts,
                },
            )
            roll.append((member_id, status))
        counts.members += len(roll)
        for y, m in months:
            held_on = date(y, m, rng.randint(5, 25))
            if (y, m) == (TODAY.year, TODAY.month):
                held_on = date(y, m, rng.randint(1, TODAY.day))
            quarter_end = m % 3 == 0
            if rng.random() < 0.95:
                meeting_id += 1
                kind = (
                    MeetingKind.COMBINED
                    if quarter_end and rng.random() < 0.4
                    else MeetingKind.REGULAR
                )
                _meeting(loader, meeting_id, cell, kind, held_on, f"{cell}:{y}-{m:02d}")
                counts.meetings += 1
                if rng.random() < 0.2:
                    loader.add(
                        MeetingGuest.__table__,
                        {
                            "meeting_id": meeting_id,
                            "person_id": None,
                            "name": "Cấp ủy viên",
                            "is_superior": True,
                        },
                    )
                for mid, status in roll:
                    if status is MemberStatus.EXEMPT:
                        st = AttendanceStatus.EXEMPT
                    else:
                        r = rng.random()
                        st = (
                            AttendanceStatus.PRESENT
                            if r < 0.93
                            else AttendanceStatus.EXCUSED
                            if r < 0.98
                            else AttendanceStatus.UNEXCUSED
                        )
                    loader.add(
                        Attendance.__table__,
                        {
                            "meeting_id": meeting_id,
                            "member_id": mid,
                            "status": st,
                            "reason": AbsenceReason.TRIP
                            if st is AttendanceStatus.EXCUSED
                            else None,
                        },
                    )
                    counts.attendance += 1
            if quarter_end and rng.random() < 0.5:
                meeting_id += 1
                _meeting(loader, meeting_id, cell, MeetingKind.THEMATIC, held_on, None)
                counts.meetings += 1
            for mid, status in roll:
                if status is MemberStatus.EXEMPT or rng.random() > 0.85:
                    continue
                review_id += 1
                r = rng.random()
                outcome = (
                    ReviewOutcome.NEW_SIGN
                    if r < 0.01
                    else ReviewOutcome.NO_CHANGE
                    if r < 0.1
                    else ReviewOutcome.PROGRESSING
                )
                loader.add(
                    Review.__table__,
                    {
                        "id": review_id,
                        "org_id": cell,
                        "member_id": mid,
                        "year": y,
                        "month": m,
                        "outcome": outcome,
                        "sign_group": rng.choice(list(SignGroup))
                        if outcome is ReviewOutcome.NEW_SIGN
                        else None,
                        "description": None,
                        "measure": None,
                        "comment": None,
                        "meeting_id": None,
                        "reviewed_by": None,
                        "reviewed_at": NOW,
                    },
                )
                counts.reviews += 1
        for y in range(FIRST_MONTH[0], TODAY.year + 1):
            if rng.random() < 0.7:
                loader.add(
                    StudyModel.__table__,
                    {
                        "org_id": cell,
                        "year": y,
                        "title": "Mô hình dân vận khéo",
                        "registered_on": date(y, 2, 1),
                        "reviewed_on": None,
                        "result": None,
                        "created_at": NOW,
                        "deleted_at": None,
                    },
                )
            dues = [(f"{y}-Q{q}", "remedy_quarterly", date(y, 3 * q, 20)) for q in range(1, 5)]
            dues.append((str(y), "remedy_annual", date(y, 11, 15)))
            for key, kind, due in dues:
                if due >= TODAY or rng.random() > 0.85:
                    continue
                late = rng.random() < 0.15
                submitted = datetime(due.year, due.month, due.day, 3, tzinfo=UTC) + timedelta(
                    days=rng.randint(1, 20) if late else -rng.randint(0, 10)
                )
                loader.add(
                    Report.__table__,
                    {
                        "org_id": cell,
                        "kind": kind,
                        "period": key,
                        "due_on": due,
                        "status": ReportStatus.SUBMITTED,
                        "assessment": None,
                        "figures": {},
                        "submitted_at": submitted,
                        "submitted_by": None,
                        "reopen_reason": None,
                        **ts,
                    },
                )
                counts.reports += 1
    loader.flush()
    return counts


def _meeting(
    loader: Loader,
    meeting_id: int,
    cell: int,
    kind: MeetingKind,
    held_on: date,
    regular_key: str | None,
) -> None:
    loader.add(
        Meeting.__table__,
        {
            "id": meeting_id,
            "org_id": cell,
            "kind": kind,
            "held_on": held_on,
            "regular_key": regular_key,
            "duration_min": 120,
            "topic": None,
            "quality_score": None,
            "content": {},
            "minutes_ref": None,
            "minutes_file_id": None,
            "other_guests": 0,
            "created_at": NOW,
            "created_by": None,
            "updated_at": NOW,
            "deleted_at": None,
        },
    )


def fresh(backend: str, pg_url: str, folder: Path, scale: int) -> Database:
    """An empty, migrated database."""
    if backend == "sqlite":
        path = folder / f"bench-{scale}.sqlite3"
        path.unlink(missing_ok=True)
        db = Database.from_url(f"sqlite:///{path}")
    else:
        db = Database.from_url(pg_url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    if backend == "postgresql":
        # A sequence behind an explicit-id bulk load would hand out taken ids: move them on.
        with db.engine.begin() as conn:
            for table in ("organizations", "members", "meetings", "reviews"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10000000)")
                )
    return db


def analyze(db: Database) -> None:
    """Refresh the planner statistics after the bulk load."""
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def timed(db: Database, period: Period, repeat: int) -> tuple[float, float, store.Summary]:
    """Best and median wall time of the leader's summary use case for ``period``."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        with db.transaction() as session:
            top = session.scalar(select(Organization.id).where(Organization.kind == OrgKind.TOP))
            scope = store.scope_under(session, {top}, on=min(period.end, TODAY))
            result = store.build_summary(
                session,
                scope=scope,
                subject=store.Subject(),
                period=period,
                today=TODAY,
                kinds=report_kinds.KINDS.values(),
                now=NOW,
            )
        times.append(time.perf_counter() - start)
    assert result is not None
    return min(times), statistics.median(times), result


def check(db: Database, s: store.Summary) -> None:
    """A sanity check that the figures are counted, not invented: present at regular
    meetings of 2026, counted with one plain query, equal the summary's total."""
    with db.transaction() as session:
        present = session.scalar(
            select(func.count())
            .select_from(Attendance)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(
                Meeting.held_on >= date(2026, 1, 1),
                Meeting.held_on <= TODAY,
                Meeting.kind.in_([MeetingKind.REGULAR, MeetingKind.COMBINED]),
                Attendance.status == AttendanceStatus.PRESENT,
            )
        )
    assert present == s.total.present, (present, s.total.present)


def rows(backends: list[str], scales: list[int], pg_url: str, repeat: int) -> Iterator[str]:
    """Run every backend × scale and yield the table's lines."""
    header = (
        f"{'backend':<10} {'scale':>5} {'cells':>6} {'members':>8} {'meetings':>9} "
        f"{'attendance':>11} {'reviews':>9} {'load s':>7} {'year best':>10} {'year med':>9} "
        f"{'month med':>10} {'µs/cell':>8}"
    )
    yield header
    yield "-" * len(header)
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            for scale in scales:
                db = fresh(backend, pg_url, Path(tmp), scale)
                try:
                    start = time.perf_counter()
                    counts = generate(db, scale)
                    analyze(db)
                    load = time.perf_counter() - start
                    best, median, s = timed(db, Period("year", 2026), repeat)
                    check(db, s)
                    _mb, month_median, _ = timed(db, Period("month", 2026, 11), repeat)
                    yield (
                        f"{backend:<10} {scale:>4}× {counts.cells:>6} {counts.members:>8} "
                        f"{counts.meetings:>9} {counts.attendance:>11} {counts.reviews:>9} "
                        f"{load:>7.1f} {best:>10.3f} {median:>9.3f} {month_median:>10.3f} "
                        f"{median / counts.cells * 1e6:>8.0f}"
                    )
                finally:
                    db.dispose()


def main(argv: list[str] | None = None) -> int:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,2,5,10")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    scales = [int(x) for x in args.scales.split(",")]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(
        f"A year's summary (2026, as of {TODAY:%d/%m/%Y}) of the whole Khối; "
        f"{BASE_CELLS} cells × {MEMBERS_PER_CELL} members at 1×, records since "
        f"{FIRST_MONTH[1]:02d}/{FIRST_MONTH[0]}. Times in seconds."
    )
    for line in rows(backends, scales, args.pg_url, args.repeat):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
