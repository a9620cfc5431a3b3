"""The query layer behind /summary, reminders and reports: per-cell figures from SQL aggregates.

Every function takes a set of cell ids and a date range and answers with one or two
GROUP BY queries; nothing loads rows to count them in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Integer, and_, case, distinct, extract, func, select
from sqlalchemy.orm import Session

from domain.rules import attendance as rules
from storage.models import (
    Attendance,
    AttendanceStatus,
    Flag,
    Meeting,
    MeetingGuest,
    MeetingKind,
    Member,
    MemberStatus,
    Person,
    Role,
    RoleAssignment,
    StudyModel,
)

REGULAR_KINDS = [MeetingKind.REGULAR, MeetingKind.COMBINED]
THEMATIC_KINDS = [MeetingKind.THEMATIC, MeetingKind.COMBINED]


@dataclass
class CellMeetingFigures:
    """Meeting figures of one cell over a date range."""

    regular_months: set[tuple[int, int]] = field(default_factory=set)
    meetings: int = 0
    thematic: int = 0
    present: int = 0
    required: int = 0
    excused: int = 0
    unexcused: int = 0
    superior_visits: int = 0
    last_held: date | None = None

    @property
    def attendance_rate(self) -> float | None:
        """Present ÷ required over the range (see :mod:`domain.rules.attendance`)."""
        return rules.attendance_rate(self.present, self.required)


def _year_month(col):
    return (extract("year", col).cast(Integer), extract("month", col).cast(Integer))


def meeting_figures(
    session: Session, cell_ids: list[int], start: date, end: date
) -> dict[int, CellMeetingFigures]:
    """Meetings, attendance and superior visits per cell between ``start`` and ``end``."""
    out: dict[int, CellMeetingFigures] = {cid: CellMeetingFigures() for cid in cell_ids}
    if not cell_ids:
        return out
    live = and_(
        Meeting.org_id.in_(cell_ids),
        Meeting.deleted_at.is_(None),
        Meeting.held_on >= start,
        Meeting.held_on <= end,
    )
    y, m = _year_month(Meeting.held_on)
    rows = session.execute(
        select(Meeting.org_id, y, m, func.count(Meeting.id))
        .where(live, Meeting.kind.in_(REGULAR_KINDS))
        .group_by(Meeting.org_id, y, m)
    ).all()
    for org_id, year, month, _n in rows:
        out[org_id].regular_months.add((int(year), int(month)))
    rows = session.execute(
        select(
            Meeting.org_id,
            func.count(Meeting.id),
            func.sum(case((Meeting.kind.in_(THEMATIC_KINDS), 1), else_=0)),
            func.max(Meeting.held_on),
        )
        .where(live)
        .group_by(Meeting.org_id)
    ).all()
    for org_id, n, thematic, last in rows:
        fig = out[org_id]
        fig.meetings, fig.thematic, fig.last_held = int(n), int(thematic or 0), last
    # Attendance counts only at regular meetings: the monthly obligation and the three-month
    # rule are about the regular meeting.
    rows = session.execute(
        select(
            Meeting.org_id,
            func.sum(case((Attendance.status == AttendanceStatus.PRESENT, 1), else_=0)),
            func.sum(case((Attendance.status != AttendanceStatus.EXEMPT, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.EXCUSED, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.UNEXCUSED, 1), else_=0)),
        )
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(live, Meeting.kind.in_(REGULAR_KINDS))
        .group_by(Meeting.org_id)
    ).all()
    for org_id, present, required, excused, unexcused in rows:
        fig = out[org_id]
        fig.present, fig.required = int(present or 0), int(required or 0)
        fig.excused, fig.unexcused = int(excused or 0), int(unexcused or 0)
    rows = session.execute(
        select(Meeting.org_id, func.count(distinct(Meeting.id)))
        .join(MeetingGuest, MeetingGuest.meeting_id == Meeting.id)
        .where(live, MeetingGuest.is_superior.is_(True))
        .group_by(Meeting.org_id)
    ).all()
    for org_id, n in rows:
        out[org_id].superior_visits = int(n)
    return out


def unexcused_months(session: Session, cell_ids: list[int], year: int) -> dict[int, list[int]]:
    """Member id → months of ``year`` with an unexcused absence from the regular meeting."""
    if not cell_ids:
        return {}
    return _unexcused_months(session, year, Meeting.org_id.in_(cell_ids))


def _unexcused_months(session: Session, year: int, scope: Any) -> dict[int, list[int]]:
    _y, m = _year_month(Meeting.held_on)
    rows = session.execute(
        select(Attendance.member_id, m)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            scope,
            Meeting.deleted_at.is_(None),
            Meeting.kind.in_(REGULAR_KINDS),
            Meeting.held_on >= date(year, 1, 1),
            Meeting.held_on <= date(year, 12, 31),
            Attendance.status == AttendanceStatus.UNEXCUSED,
        )
        .group_by(Attendance.member_id, m)
    ).all()
    out: dict[int, list[int]] = defaultdict(list)
    for member_id, month in rows:
        out[member_id].append(int(month))
    return {k: sorted(v) for k, v in out.items()}


def member_counts(session: Session, cell_ids: list[int]) -> dict[int, dict[MemberStatus, int]]:
    """Cell id → number of members on the roll by status."""
    out: dict[int, dict[MemberStatus, int]] = {cid: {} for cid in cell_ids}
    if not cell_ids:
        return out
    rows = session.execute(
        select(Member.org_id, Member.status, func.count(Member.id))
        .where(Member.org_id.in_(cell_ids))
        .group_by(Member.org_id, Member.status)
    ).all()
    for org_id, status, n in rows:
        out[org_id][status] = int(n)
    return out


def cells_with_study_model(session: Session, cell_ids: list[int], year: int) -> set[int]:
    """The cells that have a live Hồ Chí Minh study model registered for ``year``."""
    if not cell_ids:
        return set()
    return set(
        session.scalars(
            select(distinct(StudyModel.org_id)).where(
                StudyModel.org_id.in_(cell_ids),
                StudyModel.year == year,
                StudyModel.deleted_at.is_(None),
            )
        )
    )


# --- Per month, per meeting, per quarter (cell meetings) -------------------------------------

#: The kind of flag the three-months rule raises (``Flag.kind``).
THREE_MONTHS_FLAG = "three_months"


@dataclass
class MonthFigures:
    """One cell in one calendar month."""

    regular_held: bool = False
    meetings: int = 0
    thematic: int = 0
    present: int = 0  # at the regular meeting
    required: int = 0  # full + probationary members on the roll of the regular meeting
    excused: int = 0
    unexcused: int = 0
    superior_attended: bool = False  # at any meeting of the cell that month

    @property
    def attendance_rate(self) -> float | None:
        """Present ÷ required at the month's regular meeting (None: no meeting or no members)."""
        return rules.attendance_rate(self.present, self.required)


def _months_between(start: date, end: date) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def monthly_figures(
    session: Session, cell_ids: list[int], start: date, end: date
) -> dict[int, dict[tuple[int, int], MonthFigures]]:
    """Cell id → (year, month) → regular meeting held, attendance, unexcused absences, superior
    committee attendance, for every month between ``start`` and ``end`` (months without a
    meeting are present with ``regular_held`` False)."""
    months = _months_between(start, end)
    out = {cid: {ym: MonthFigures() for ym in months} for cid in cell_ids}
    if not cell_ids:
        return out
    live = and_(
        Meeting.org_id.in_(cell_ids),
        Meeting.deleted_at.is_(None),
        Meeting.held_on >= start,
        Meeting.held_on <= end,
    )
    y, m = _year_month(Meeting.held_on)
    rows = session.execute(
        select(
            Meeting.org_id,
            y,
            m,
            func.count(Meeting.id),
            func.sum(case((Meeting.kind.in_(REGULAR_KINDS), 1), else_=0)),
            func.sum(case((Meeting.kind.in_(THEMATIC_KINDS), 1), else_=0)),
        )
        .where(live)
        .group_by(Meeting.org_id, y, m)
    ).all()
    for org_id, year, month, n, regular, thematic in rows:
        fig = out[org_id].setdefault((int(year), int(month)), MonthFigures())
        fig.meetings, fig.thematic = int(n), int(thematic or 0)
        fig.regular_held = bool(regular)
    rows = session.execute(
        select(
            Meeting.org_id,
            y,
            m,
            func.sum(case((Attendance.status == AttendanceStatus.PRESENT, 1), else_=0)),
            func.sum(case((Attendance.status != AttendanceStatus.EXEMPT, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.EXCUSED, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.UNEXCUSED, 1), else_=0)),
        )
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(live, Meeting.kind.in_(REGULAR_KINDS))
        .group_by(Meeting.org_id, y, m)
    ).all()
    for org_id, year, month, present, required, excused, unexcused in rows:
        fig = out[org_id].setdefault((int(year), int(month)), MonthFigures())
        fig.present, fig.required = int(present or 0), int(required or 0)
        fig.excused, fig.unexcused = int(excused or 0), int(unexcused or 0)
    rows = session.execute(
        select(Meeting.org_id, y, m, func.count(distinct(Meeting.id)))
        .join(MeetingGuest, MeetingGuest.meeting_id == Meeting.id)
        .where(live, MeetingGuest.is_superior.is_(True))
        .group_by(Meeting.org_id, y, m)
    ).all()
    for org_id, year, month, n in rows:
        out[org_id].setdefault((int(year), int(month)), MonthFigures()).superior_attended = n > 0
    return out


def thematic_by_quarter(
    session: Session, cell_ids: list[int], year: int
) -> dict[int, dict[int, int]]:
    """Cell id → quarter (1–4) → number of thematic (or combined) meetings held in ``year``."""
    out = {cid: dict.fromkeys((1, 2, 3, 4), 0) for cid in cell_ids}
    if not cell_ids:
        return out
    # Grouped by month (portable), folded into quarters: at most 12 rows per cell.
    _y, m = _year_month(Meeting.held_on)
    rows = session.execute(
        select(Meeting.org_id, m, func.count(Meeting.id))
        .where(
            Meeting.org_id.in_(cell_ids),
            Meeting.deleted_at.is_(None),
            Meeting.kind.in_(THEMATIC_KINDS),
            Meeting.held_on >= date(year, 1, 1),
            Meeting.held_on <= date(year, 12, 31),
        )
        .group_by(Meeting.org_id, m)
    ).all()
    for org_id, month, n in rows:
        out[org_id][(int(month) - 1) // 3 + 1] += int(n)
    return out


@dataclass(frozen=True)
class SuperiorVisit:
    """How often one superior committee member attended one cell's meetings."""

    org_id: int
    person_id: int | None  # None for a name typed by the secretary
    name: str
    visits: int


def superior_visits(
    session: Session, cell_ids: list[int], start: date, end: date
) -> list[SuperiorVisit]:
    """Visits of superior committee members per cell and person between ``start`` and ``end``
    (Quy định 784-QĐ/TU: attendance by assignment, counted per year)."""
    if not cell_ids:
        return []
    rows = session.execute(
        select(
            Meeting.org_id,
            MeetingGuest.person_id,
            MeetingGuest.name,
            func.count(distinct(Meeting.id)),
        )
        .join(MeetingGuest, MeetingGuest.meeting_id == Meeting.id)
        .where(
            Meeting.org_id.in_(cell_ids),
            Meeting.deleted_at.is_(None),
            Meeting.held_on >= start,
            Meeting.held_on <= end,
            MeetingGuest.is_superior.is_(True),
        )
        .group_by(Meeting.org_id, MeetingGuest.person_id, MeetingGuest.name)
        .order_by(Meeting.org_id, MeetingGuest.name)
    ).all()
    return [SuperiorVisit(o, p, n, int(v)) for o, p, n, v in rows]


@dataclass(frozen=True)
class AssignmentVisits:
    """One assignment of a superior committee member to follow a cell, and the visits made.

    Only the assigned person counts: a guest whose name the secretary typed is not them, even
    when the name is the same (Quy định 784-QĐ/TU: attendance by assignment, per year).
    """

    org_id: int
    person_id: int
    name: str
    visits: int  # meetings of the cell in the window the follower attended
    meetings: int  # meetings the cell held in the window while the assignment stood


def assignment_visits(
    session: Session, cell_ids: list[int], start: date, end: date
) -> list[AssignmentVisits]:
    """Each follower assigned to a cell during [start, end] and their visits there (two
    queries: the assignments, then the meetings with the guests who are people)."""
    if not cell_ids:
        return []
    assignments = session.execute(
        select(
            RoleAssignment.org_id,
            RoleAssignment.person_id,
            Person.display_name,
            RoleAssignment.granted_at,
            RoleAssignment.revoked_at,
        )
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(
            RoleAssignment.org_id.in_(cell_ids),
            RoleAssignment.role == Role.FOLLOWER,
        )
        .order_by(RoleAssignment.org_id, Person.display_name)
    ).all()
    if not assignments:
        return []
    meetings = session.execute(
        select(Meeting.id, Meeting.org_id, Meeting.held_on).where(
            Meeting.org_id.in_(cell_ids),
            Meeting.deleted_at.is_(None),
            Meeting.held_on >= start,
            Meeting.held_on <= end,
        )
    ).all()
    guests = {
        (mid, pid)
        for mid, pid in session.execute(
            select(MeetingGuest.meeting_id, MeetingGuest.person_id).where(
                MeetingGuest.meeting_id.in_([m[0] for m in meetings] or [-1]),
                MeetingGuest.person_id.is_not(None),
                MeetingGuest.is_superior.is_(True),
            )
        )
    }
    windows: dict[tuple[int, int], list[tuple[date, date]]] = {}
    names: dict[tuple[int, int], str] = {}
    for org_id, person_id, name, granted, revoked in assignments:
        first = max(granted.date() if granted is not None else start, start)
        last = min(revoked.date() if revoked is not None else end, end)
        if first <= last:  # assigned at some point of the window (twice: one line)
            windows.setdefault((org_id, person_id), []).append((first, last))
            names[(org_id, person_id)] = name
    out = []
    for (org_id, person_id), spans in windows.items():
        held = [
            m[0] for m in meetings if m[1] == org_id and any(lo <= m[2] <= hi for lo, hi in spans)
        ]
        visits = sum(1 for mid in held if (mid, person_id) in guests)
        out.append(
            AssignmentVisits(org_id, person_id, names[(org_id, person_id)], visits, len(held))
        )
    return out


@dataclass(frozen=True)
class AttendanceCounts:
    """Attendance at one meeting, by status."""

    present: int = 0
    excused: int = 0
    unexcused: int = 0
    exempt: int = 0

    @property
    def required(self) -> int:
        """Members required to attend (everyone recorded but the exempt)."""
        return self.present + self.excused + self.unexcused

    @property
    def rate(self) -> float | None:
        """Present ÷ required."""
        return rules.attendance_rate(self.present, self.required)


def meeting_attendance(session: Session, meeting_ids: list[int]) -> dict[int, AttendanceCounts]:
    """Meeting id → attendance counts (one GROUP BY)."""
    out = {mid: AttendanceCounts() for mid in meeting_ids}
    if not meeting_ids:
        return out
    rows = session.execute(
        select(
            Attendance.meeting_id,
            func.sum(case((Attendance.status == AttendanceStatus.PRESENT, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.EXCUSED, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.UNEXCUSED, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.EXEMPT, 1), else_=0)),
        )
        .where(Attendance.meeting_id.in_(meeting_ids))
        .group_by(Attendance.meeting_id)
    ).all()
    for mid, present, excused, unexcused, exempt in rows:
        out[mid] = AttendanceCounts(
            int(present or 0), int(excused or 0), int(unexcused or 0), int(exempt or 0)
        )
    return out


def member_unexcused_months(
    session: Session, member_ids: list[int], year: int
) -> dict[int, list[int]]:
    """Member id → months of ``year`` absent without reason from a regular meeting, in any
    cell (a member who moved cells keeps the months counted in the old one)."""
    if not member_ids:
        return {}
    return _unexcused_months(session, year, Attendance.member_id.in_(member_ids))


def three_months_flags(session: Session, cell_ids: list[int], year: int) -> dict[int, int]:
    """Member id → highest open three-months flag level raised in ``year`` (1 warned at two
    months, 2 flagged at three), for members of ``cell_ids``."""
    if not cell_ids:
        return {}
    rows = session.execute(
        select(Flag.member_id, func.max(Flag.level))
        .where(
            Flag.kind == THREE_MONTHS_FLAG,
            Flag.org_id.in_(cell_ids),
            Flag.year == year,
            Flag.cleared_at.is_(None),
            Flag.member_id.is_not(None),
        )
        .group_by(Flag.member_id)
    ).all()
    return {int(member): int(level) for member, level in rows}


def cells_without_study_model(session: Session, cell_ids: list[int], year: int) -> list[int]:
    """The cells (of ``cell_ids``, in the given order) with no live study model for ``year``."""
    have = cells_with_study_model(session, cell_ids, year)
    return [cid for cid in cell_ids if cid not in have]
