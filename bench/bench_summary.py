"""Benchmark: a year's summary of a synthetic Khối, on SQLite and PostgreSQL, at 1× … 10× data.

Not a test: it prints figures. At 1× the Khối has 300 cells (60 grassroots party committees of
3 cells, 120 grassroots cells), about 9,000 members and five years of monthly records up to
16 November 2026: regular meetings (95 % of cell-months, some combined with a thematic one),
thematic meetings, each member's attendance at each regular meeting, superior committee
guests, monthly commitment reviews (85 % of member-months), quarterly and annual reports and
study models. N× multiplies the cells and members (the years stay five), so a year's summary
of the whole Khối reads N× the rows; the goal is < 0.5 s at 1× on both backends and growth no
worse than linear.

Every member has a placement and a status period recorded (as migration 0007 seeds them),
except the members of every seventh cell (imported after the history began); in 2026 a few
probationary members become full (10/03), a few are exempt from 15/05 and a few move to the next
cell on 15/06, so the roll of each month differs from today's.

Records are inserted with SQLAlchemy core ``insert()`` executemany in chunks, then the tables
are ANALYZEd (as autovacuum / a maintenance job would). Timed: the use case behind /summary
for a leader — scope of the top organization plus :func:`storage.summary.build_summary` — for
the year 2026 and for November 2026, median of a few runs. The floor: the same year's per-cell
figures from a few hand-written GROUP BY statements (:func:`floor`), run alternately with
chibo in the same process so both see the same load, and checked to agree with
build_summary in every cell and every figure, and in each grassroots party committee's own
reports (on time, late).

Run:  python -m bench.bench_summary [--scales 1,10] [--backends sqlite,postgresql]
          [--pg-url postgresql://postgres@127.0.0.1:5432/bench] [--repeat 5] [--json PATH]

``--json PATH`` writes the records [{"row", "backend", "scale", "chibo", "floor", "unit"}]
(seconds; ``floor`` null where there is none) for ``python -m bench``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, text

from domain.rules.periods import Period
from domain.rules.reporting import COMMITTEE_REPORT_KINDS
from domain.rules.reviews import report_state
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
    MemberPlacement,
    MemberStatus,
    MemberStatusPeriod,
    Organization,
    OrgKind,
    Report,
    ReportStatus,
    Review,
    ReviewOutcome,
    SignGroup,
    StudyModel,
)
from storage.seed import ORG_TYPES, ensure_defaults, get_setting

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
    committees: list[int] = []
    n_committees = 60 * scale
    for c in range(n_committees):
        t = type_codes[c % len(type_codes)]
        committee = org(f"DB{c:05d}", f"Đảng bộ số {c}", OrgKind.COMMITTEE, top, t)
        committees.append(committee)
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
    for ci, cell in enumerate(cells):
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
            since: date | None = None
            history: list[tuple[MemberStatus, date | None, date | None]] = [(status, None, None)]
            # The membership history (DOMAIN.md): a probationary member made full on 10/03,
            # an exemption from 15/05, a transfer to the next cell on 15/06 (attendance and
            # reviews stay generated in the first cell: they count as recorded).
            if i == 13 and ci % 4 == 0:
                status, since = MemberStatus.FULL, date(2026, 3, 10)
                history = [(MemberStatus.PROBATIONARY, None, since), (status, since, None)]
            elif i == 28 and ci % 5 == 0:
                status, since = MemberStatus.EXEMPT, date(2026, 5, 15)
                history = [(MemberStatus.FULL, None, since), (status, since, None)]
            moved_to = cells[(ci + 1) % len(cells)] if i == 7 and ci % 10 == 0 else None
            # Members imported after the history began have none recorded (every 7th cell).
            recorded = ci % 7 != 3
            loader.add(
                Member.__table__,
                {
                    "id": member_id,
                    "code": f"DV{member_id:07d}",
                    "org_id": moved_to or cell,
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
                    "status_since": since,
                    "external_code": None,
                    **ts,
                },
            )
            if recorded or moved_to:
                moved_on = date(2026, 6, 15)
                for place, lo, hi in (
                    [(cell, None, moved_on), (moved_to, moved_on, None)]
                    if moved_to
                    else [(cell, None, None)]
                ):
                    loader.add(
                        MemberPlacement.__table__,
                        {
                            "member_id": member_id,
                            "org_id": place,
                            "from_date": lo,
                            "to_date": hi,
                            "source": "seed",
                            "recorded_at": NOW,
                        },
                    )
            if recorded:
                for held, lo, hi in history:
                    loader.add(
                        MemberStatusPeriod.__table__,
                        {
                            "member_id": member_id,
                            "status": held,
                            "from_date": lo,
                            "to_date": hi,
                            "source": "seed",
                            "recorded_at": NOW,
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
    # Each grassroots party committee submits its own remedy reports (drafted from its cells'),
    # from a generator of its own so the cells' records stay the same.
    crng = random.Random(seed + 1)
    for committee in committees:
        for y in range(FIRST_MONTH[0], TODAY.year + 1):
            dues = [(f"{y}-Q{q}", "remedy_quarterly", date(y, 3 * q, 20)) for q in range(1, 5)]
            dues.append((str(y), "remedy_annual", date(y, 11, 15)))
            for key, kind, due in dues:
                if due >= TODAY or crng.random() > 0.8:
                    continue
                late = crng.random() < 0.2
                submitted = datetime(due.year, due.month, due.day, 3, tzinfo=UTC) + timedelta(
                    days=crng.randint(1, 20) if late else -crng.randint(0, 10)
                )
                loader.add(
                    Report.__table__,
                    {
                        "org_id": committee,
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


# --- The floor: the same figures from hand-written SQL -----------------------------------------

#: The per-cell figures the floor computes and the check compares with build_summary's.
FLOOR_FIELDS = (
    "members",
    "required_members",
    "regular_due",
    "regular_held",
    "meetings",
    "superior_visits",
    "present",
    "required",
    "excused",
    "unexcused",
    "thematic_held",
    "reviews_due",
    "reviews_done",
    "new_signs_total",
    "flagged",
    "warned",
    "considerations_done",
    "candidates",
    "cells_without_model",
    "reports_on_time",
    "reports_late",
)


def _month_sql(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"CAST(strftime('%m', {column}) AS INTEGER)"
    return f"CAST(EXTRACT(MONTH FROM {column}) AS INTEGER)"


def _covers(alias: str, day: str) -> str:
    return (
        f"({alias}.from_date IS NULL OR {alias}.from_date <= {day}) "
        f"AND ({alias}.to_date IS NULL OR {alias}.to_date > {day})"
    )


def _roll_sql(months: list[tuple[int, int]]) -> str:
    """One conditional count per month (full and probationary members placed in the cell on
    its first day, joined by its last) and per status in the last month."""

    def status_on(day: str) -> str:
        return (
            "(CASE WHEN s.id IS NULL THEN (CASE WHEN m.status_since IS NULL OR "
            f"m.status_since <= {day} THEN m.status WHEN m.status IN ('full', 'probationary') "
            "THEN 'probationary' ELSE 'full' END) "
            f"WHEN {_covers('s', day)} THEN s.status END)"
        )

    def counted(k: int) -> str:
        return (
            f"(p.id IS NULL OR ({_covers('p', f':d{k}')})) AND (m.admitted_on <= :e{k} OR "
            f"m.ceremony_on <= :e{k} OR (m.admitted_on IS NULL AND m.ceremony_on IS NULL))"
        )

    cols = [
        f"SUM(CASE WHEN {counted(k)} AND {status_on(f':d{k}')} IN ('full', 'probationary') "
        "THEN 1 ELSE 0 END)"
        for k in range(len(months))
    ]
    last = len(months) - 1
    cols += [
        f"SUM(CASE WHEN {counted(last)} AND {status_on(f':d{last}')} = '{st}' THEN 1 ELSE 0 END)"
        for st in ("full", "probationary", "exempt")
    ]
    return (
        f"SELECT COALESCE(p.org_id, m.org_id), {', '.join(cols)} FROM members m "
        "LEFT JOIN member_placements p ON p.member_id = m.id "
        "LEFT JOIN member_status_history s ON s.member_id = m.id "
        "GROUP BY COALESCE(p.org_id, m.org_id)"
    )


@dataclass(frozen=True)
class FloorInput:
    """What the floor needs besides the records: the calendar's configuration (the reports due
    in the year and their due dates, the three-months thresholds), read once outside the
    timing."""

    obligations: list[tuple[str, str, date]]  # (kind, period key, due date)
    warn_at: int
    flag_at: int


def floor_input(db: Database) -> FloorInput:
    """The configuration the floor takes as given."""
    period = Period("year", TODAY.year)
    with db.transaction() as session:
        owed = store.report_obligations(session, report_kinds.KINDS.values(), period, TODAY)
        rule = get_setting(session, "three_months_rule")
    return FloorInput(
        [(code, p.key, due) for code, p, due in owed],
        int(rule.get("warn_at", 2)),
        int(rule.get("flag_at", 3)),
    )


def floor(db: Database, given: FloorInput) -> dict[int, dict[str, int]]:
    """Cell id → the year's figures (2026 up to TODAY) of every cell of the Khối, from a few
    hand-written GROUP BY statements; Python only applies the month-in-progress rule (the
    default calendar: a month or quarter still running counts once its meeting is held) and
    the report states."""
    year, upto = TODAY.year, TODAY
    months = [(year, m) for m in range(1, upto.month + 1)]
    start = date(year, 1, 1)
    params: dict[str, Any] = {"start": start, "upto": upto, "year": year, "last": upto.month}
    dialect = db.engine.dialect.name
    month = _month_sql(dialect, "mt.held_on")
    live = "mt.deleted_at IS NULL AND mt.held_on >= :start AND mt.held_on <= :upto"
    regular = "mt.kind IN ('regular', 'combined')"
    out: dict[int, dict[str, int]] = {}
    with db.engine.connect() as conn:

        def q(sql: str, **extra: Any) -> list[Any]:
            return list(conn.execute(text(sql), {**params, **extra}).tuples())

        cells = [
            cid
            for (cid,) in q(
                "SELECT id FROM organizations WHERE kind IN ('cell', 'grassroots_cell') "
                "AND (active_to IS NULL OR active_to >= :start)"
            )
        ]
        for cid in cells:
            out[cid] = dict.fromkeys(FLOOR_FIELDS, 0)
            out[cid]["cells_without_model"] = 1
        # A grassroots party committee owes its own remedy reports (the calendar's owed_by), and
        # nothing else of these figures.
        committees = {
            cid
            for (cid,) in q(
                "SELECT id FROM organizations WHERE kind = 'committee' "
                "AND (active_to IS NULL OR active_to >= :start)"
            )
        }
        for cid in committees:
            out[cid] = dict.fromkeys(FLOOR_FIELDS, 0)
        regular_months: dict[int, set[int]] = defaultdict(set)
        thematic_quarters: dict[int, set[int]] = defaultdict(set)
        for cid, m, n, reg, them in q(
            f"SELECT mt.org_id, {month} AS m, COUNT(*), "
            f"SUM(CASE WHEN {regular} THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN mt.kind IN ('thematic', 'combined') THEN 1 ELSE 0 END) "
            f"FROM meetings mt WHERE {live} GROUP BY mt.org_id, {month}"
        ):
            out[cid]["meetings"] += n
            if reg:
                regular_months[cid].add(int(m))
            if them:
                thematic_quarters[cid].add((int(m) - 1) // 3 + 1)
        for cid, present, required, excused, unexcused in q(
            "SELECT mt.org_id, SUM(CASE WHEN a.status = 'present' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN a.status <> 'exempt' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN a.status = 'excused' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN a.status = 'unexcused' THEN 1 ELSE 0 END) "
            "FROM attendance a JOIN meetings mt ON mt.id = a.meeting_id "
            f"WHERE {live} AND {regular} GROUP BY mt.org_id"
        ):
            f = out[cid]
            f["present"], f["required"] = int(present), int(required)
            f["excused"], f["unexcused"] = int(excused), int(unexcused)
        for cid, n in q(
            "SELECT mt.org_id, COUNT(DISTINCT mt.id) FROM meetings mt "
            "JOIN meeting_guests g ON g.meeting_id = mt.id "
            f"WHERE {live} AND g.is_superior = :yes GROUP BY mt.org_id",
            yes=True,
        ):
            out[cid]["superior_visits"] = n
        for cid, n, new in q(
            "SELECT org_id, COUNT(*), SUM(CASE WHEN outcome = 'new_sign' THEN 1 ELSE 0 END) "
            "FROM reviews WHERE year = :year AND month >= 1 AND month <= :last "
            "GROUP BY org_id"
        ):
            out[cid]["reviews_done"], out[cid]["new_signs_total"] = n, int(new)
        days = {f"d{k}": date(y, m, 1) for k, (y, m) in enumerate(months)}
        ends = {f"e{k}": Period("month", y, m).end for k, (y, m) in enumerate(months)}
        for cid, *counts in q(_roll_sql(months), **days, **ends):
            if cid not in out:
                continue
            f = out[cid]
            # A month still running counts once its meeting is held (default calendar).
            due = [m for y, m in months if m < upto.month or m in regular_months.get(cid, set())]
            f["regular_due"] = len(due)
            f["regular_held"] = len([m for m in due if m in regular_months.get(cid, set())])
            f["reviews_due"] = sum(int(counts[m - 1]) for m in due)
            full, probationary, exempt = (int(c) for c in counts[len(months) :])
            f["members"] = full + probationary + exempt
            f["required_members"] = full + probationary
        quarter_now = (upto.month - 1) // 3 + 1
        for cid, quarters in thematic_quarters.items():
            out[cid]["thematic_held"] = len([x for x in quarters if x <= quarter_now])
        for cid, flagged, warned in q(
            "WITH absent AS (SELECT a.member_id, "
            f"COUNT(DISTINCT {month}) AS n FROM attendance a "
            f"JOIN meetings mt ON mt.id = a.meeting_id WHERE {live} AND {regular} "
            "AND a.status = 'unexcused' GROUP BY a.member_id "
            f"HAVING COUNT(DISTINCT {month}) >= :warn) "
            "SELECT COALESCE(p.org_id, m.org_id), "
            "SUM(CASE WHEN ab.n >= :flag THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN ab.n < :flag THEN 1 ELSE 0 END) "
            "FROM absent ab JOIN members m ON m.id = ab.member_id "
            "LEFT JOIN member_placements p ON p.member_id = m.id "
            f"WHERE p.id IS NULL OR ({_covers('p', ':day')}) "
            "GROUP BY COALESCE(p.org_id, m.org_id)",
            warn=given.warn_at,
            flag=given.flag_at,
            day=date(upto.year, upto.month, 1),
        ):
            out[cid]["flagged"], out[cid]["warned"] = int(flagged), int(warned)
        for what, cid, n in q(
            "SELECT 'model', org_id, COUNT(*) FROM study_models "
            "WHERE year = :year AND deleted_at IS NULL GROUP BY org_id "
            "UNION ALL SELECT 'considered', org_id, COUNT(*) FROM candidate_considerations "
            "WHERE year = :year AND month >= 1 AND month <= :last GROUP BY org_id "
            "UNION ALL SELECT 'candidates', org_id, COUNT(*) FROM candidates GROUP BY org_id"
        ):
            if cid in out:
                if what == "model":
                    out[cid]["cells_without_model"] = 0
                else:
                    out[cid]["considerations_done" if what == "considered" else "candidates"] = n
        due_on = {(kind, key): due for kind, key, due in given.obligations}
        if due_on:
            kinds = sorted({k for k, _p in due_on})
            keys = sorted({p for _k, p in due_on})
            rows = conn.execute(
                text(
                    "SELECT org_id, kind, period, submitted_at FROM reports "
                    "WHERE kind IN :kinds AND period IN :keys AND submitted_at IS NOT NULL"
                )
                .bindparams(bindparam("kinds", expanding=True), bindparam("keys", expanding=True))
                .columns(Report.org_id, Report.kind, Report.period, Report.submitted_at),
                {"kinds": kinds, "keys": keys},
            ).tuples()
            for cid, kind, key, submitted_at in rows:
                due_date = due_on.get((kind, key))
                if due_date is None or cid not in out:
                    continue
                if cid in committees and kind not in COMMITTEE_REPORT_KINDS:
                    continue
                submitted = submitted_at.astimezone(store.DEFAULT_TZ).date()
                state = report_state(submitted, due_date, upto).value
                if state == "on_time":
                    out[cid]["reports_on_time"] += 1
                elif state == "late":
                    out[cid]["reports_late"] += 1
    return out


def chibo_figures(s: store.Summary) -> dict[int, dict[str, int]]:
    """Organization id → the same figures as :func:`floor`, from build_summary's rows (a cell)
    and report lines (a committee's own reports)."""
    out = {row.id: {name: getattr(row.figures, name) for name in FLOOR_FIELDS} for row in s.cells}
    for line in s.reports:
        if line.org_kind != "committee":
            continue
        own = out.setdefault(line.org_id, dict.fromkeys(FLOOR_FIELDS, 0))
        if line.state in ("on_time", "late"):
            own[f"reports_{line.state}"] += 1
    return out


def agree(chibo: dict[int, dict[str, int]], hand: dict[int, dict[str, int]]) -> None:
    """Every cell, every figure: build_summary and the floor agree (else AssertionError)."""
    assert set(chibo) == set(hand), (len(chibo), len(hand))
    wrong = [
        (cid, name, chibo[cid][name], hand[cid][name])
        for cid in sorted(chibo)
        for name in FLOOR_FIELDS
        if chibo[cid][name] != hand[cid][name]
    ]
    assert not wrong, f"{len(wrong)} figures differ, e.g. {wrong[:5]}"


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


def leaders_summary(db: Database, period: Period) -> store.Summary:
    """The use case behind /summary for a leader: the top organization's scope, the summary."""
    with db.transaction() as session:
        top = session.scalar(select(Organization.id).where(Organization.kind == OrgKind.TOP))
        assert top is not None
        scope = store.scope_under(session, {top}, on=min(period.end, TODAY))
        return store.build_summary(
            session,
            scope=scope,
            subject=store.Subject(),
            period=period,
            today=TODAY,
            kinds=report_kinds.KINDS.values(),
            now=NOW,
        )


@dataclass
class Timing:
    """Wall times of one measured row."""

    chibo: list[float]
    floor: list[float]

    @staticmethod
    def median(xs: list[float]) -> float | None:
        """The median, None when nothing was measured."""
        return statistics.median(xs) if xs else None


def timed(db: Database, period: Period, repeat: int, given: FloorInput | None) -> Timing:
    """Wall times of the leader's summary for ``period`` and, when ``given``, of the floor,
    run alternately so both see the same load; the figures are checked to agree in every
    cell (the year only: the floor computes the year)."""
    out = Timing([], [])
    summary = hand = None
    for _ in range(repeat):
        start = time.perf_counter()
        summary = leaders_summary(db, period)
        out.chibo.append(time.perf_counter() - start)
        if given is not None:
            start = time.perf_counter()
            hand = floor(db, given)
            out.floor.append(time.perf_counter() - start)
    assert summary is not None
    check(db, summary)
    if hand is not None:
        agree(chibo_figures(summary), hand)
    return out


def check(db: Database, s: store.Summary) -> None:
    """A sanity check that the figures are counted, not invented: present at regular
    meetings of 2026, counted with one plain query, equal the summary's total."""
    with db.transaction() as session:
        present = session.scalar(
            select(func.count())
            .select_from(Attendance)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(
                Meeting.held_on >= s.period.start,
                Meeting.held_on <= s.upto,
                Meeting.kind.in_([MeetingKind.REGULAR, MeetingKind.COMBINED]),
                Attendance.status == AttendanceStatus.PRESENT,
            )
        )
    assert present == s.total.present, (present, s.total.present)


def rows(
    backends: list[str], scales: list[int], pg_url: str, repeat: int, records: list[dict[str, Any]]
) -> Iterator[str]:
    """Run every backend × scale, yield the table's lines and append the JSON records."""
    header = (
        f"{'backend':<10} {'scale':>5} {'cells':>6} {'members':>8} {'attendance':>11} "
        f"{'reviews':>9} {'load s':>7} {'year':>7} {'floor':>7} {'ratio':>6} {'month':>7} "
        f"{'µs/cell':>8}"
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
                    given = floor_input(db)
                    leaders_summary(db, Period("year", 2026))  # warm the caches once
                    floor(db, given)
                    year = timed(db, Period("year", 2026), repeat, given)
                    month = timed(db, Period("month", 2026, 11), repeat, None)
                    chibo_s, floor_s = Timing.median(year.chibo), Timing.median(year.floor)
                    month_s = Timing.median(month.chibo)
                    assert chibo_s is not None and floor_s is not None and month_s is not None
                    records.append(
                        _record("/summary, year 2026", backend, scale, chibo_s, floor_s)
                    )
                    records.append(
                        _record("/summary, month 11/2026", backend, scale, month_s, None)
                    )
                    yield (
                        f"{backend:<10} {scale:>4}× {counts.cells:>6} {counts.members:>8} "
                        f"{counts.attendance:>11} {counts.reviews:>9} {load:>7.1f} "
                        f"{chibo_s:>7.3f} {floor_s:>7.3f} {chibo_s / floor_s:>5.1f}× "
                        f"{month_s:>7.3f} {chibo_s / counts.cells * 1e6:>8.0f}"
                    )
                finally:
                    db.dispose()


def _record(
    row: str, backend: str, scale: int, chibo: float, floor_s: float | None
) -> dict[str, Any]:
    return {
        "row": row,
        "backend": backend,
        "scale": scale,
        "chibo": round(chibo, 6),
        "floor": None if floor_s is None else round(floor_s, 6),
        "unit": "s",
    }


def main(argv: list[str] | None = None) -> int:
    """Print the benchmark table (and write its records as JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", metavar="PATH", help="also write the records as JSON here")
    args = parser.parse_args(argv)
    scales = [int(x) for x in args.scales.split(",")]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(
        f"A year's summary (2026, as of {TODAY:%d/%m/%Y}) of the whole Khối; "
        f"{BASE_CELLS} cells × {MEMBERS_PER_CELL} members at 1×, records since "
        f"{FIRST_MONTH[1]:02d}/{FIRST_MONTH[0]}. Median seconds of {args.repeat} runs; the "
        "floor is the same year's figures from hand-written SQL in the same run, checked to "
        "agree in every cell."
    )
    records: list[dict[str, Any]] = []
    for line in rows(backends, scales, args.pg_url, args.repeat, records):
        print(line, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
