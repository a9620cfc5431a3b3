"""The query layer behind /summary, reminders and reports: per-cell figures from SQL aggregates.

Every function takes a set of cell ids and a date range and answers with one or two
GROUP BY queries; nothing loads rows to count them in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Integer, and_, case, distinct, extract, func, select
from sqlalchemy.orm import Session

from storage.models import (
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingGuest,
    MeetingKind,
    Member,
    MemberStatus,
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
        """Present ÷ required over the range (see :mod:`bot.rules.attendance`)."""
        from bot.rules.attendance import attendance_rate

        return attendance_rate(self.present, self.required)


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
    _y, m = _year_month(Meeting.held_on)
    rows = session.execute(
        select(Attendance.member_id, m)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            Meeting.org_id.in_(cell_ids),
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
