"""Per-cell aggregates of the summary beyond :mod:`storage.figures`: reviews, the sympathizer
list, candidates and the members named."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    distinct,
    extract,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from domain.rules.membership import covers
from storage import figures
from storage.models import (
    Attendance,
    AttendanceStatus,
    Candidate,
    CandidateConsideration,
    Meeting,
    MeetingGuest,
    Member,
    MemberPlacement,
    Review,
    ReviewOutcome,
    SignGroup,
    StudyModel,
)
from storage.summary.cells import OrgInfo, among, quarter_bounds
from storage.summary.model import CANDIDATE_STAGES, PRIORITY_GROUPS, MemberLine


def stage_order(stage: str) -> tuple[int, str]:
    order = list(CANDIDATE_STAGES)
    return (order.index(stage) if stage in order else len(order), stage)


def review_counts(
    session: Session, cell_ids: list[int], months: list[tuple[int, int]]
) -> dict[int, tuple[int, dict[str, int]]]:
    """Cell → (reviews recorded, {sign group: new signs}) over ``months``, in one query.

    The same counts as :func:`storage.reviews.outcome_counts` and
    :func:`storage.reviews.sign_counts` (a test checks it), folded into one GROUP BY per cell
    and bounded by year so the (org_id, year, month) index narrows the scan to the period
    instead of every year on record.
    """
    if not cell_ids or not months:
        return {}
    (y0, m0), (y1, m1) = min(months), max(months)
    index = cast(Review.year, Integer) * 12 + cast(Review.month, Integer)
    new = Review.outcome == ReviewOutcome.NEW_SIGN

    def signs(group: SignGroup | None) -> Any:
        match = Review.sign_group.is_(None) if group is None else Review.sign_group == group
        return func.sum(case((and_(new, match), 1), else_=0))

    rows = session.execute(
        select(
            Review.org_id,
            func.count(Review.id),
            *[signs(g) for g in SignGroup],
            signs(None),
        )
        .where(
            among(session, Review.org_id, cell_ids),
            Review.year >= y0,
            Review.year <= y1,
            index >= y0 * 12 + m0,
            index <= y1 * 12 + m1,
        )
        .group_by(Review.org_id)
    ).all()
    out: dict[int, tuple[int, dict[str, int]]] = {}
    keys = [g.value for g in SignGroup] + ["unspecified"]
    for org_id, n, *by_group in rows:
        out[org_id] = (int(n), {k: int(v or 0) for k, v in zip(keys, by_group, strict=True) if v})
    return out


def reviews_done(
    session: Session, cell_ids: list[int], months: list[tuple[int, int]]
) -> dict[int, int]:
    """Cell → reviews recorded over ``months`` (one GROUP BY on the (org_id, year, month)
    index; the new signs among them come from :func:`new_sign_lines`)."""
    if not cell_ids or not months:
        return {}
    (y0, m0), (y1, m1) = min(months), max(months)
    if y0 == y1:  # a summary's period lies within one year: plain bounds on the index
        within: tuple[Any, ...] = (Review.year == y0, Review.month >= m0, Review.month <= m1)
    else:
        index = cast(Review.year, Integer) * 12 + cast(Review.month, Integer)
        within = (
            Review.year >= y0,
            Review.year <= y1,
            index >= y0 * 12 + m0,
            index <= y1 * 12 + m1,
        )
    rows = session.execute(
        select(Review.org_id, func.count(Review.id))
        .where(among(session, Review.org_id, cell_ids), *within)
        .group_by(Review.org_id)
    ).tuples()
    return {org_id: int(n) for org_id, n in rows}


def consideration_counts(
    session: Session, cell_ids: list[int], year: int, months: list[tuple[int, int]]
) -> dict[int, int]:
    """Cell id → months in which the sympathizer list was considered."""
    if not cell_ids or not months:
        return {}
    numbers = [m for y, m in months if y == year]
    rows = session.execute(
        select(CandidateConsideration.org_id, func.count(CandidateConsideration.id))
        .where(
            among(session, CandidateConsideration.org_id, cell_ids),
            CandidateConsideration.year == year,
            CandidateConsideration.month >= min(numbers),
            CandidateConsideration.month <= max(numbers),
        )
        .group_by(CandidateConsideration.org_id)
    ).all()
    return {org_id: int(n) for org_id, n in rows}


@dataclass
class CellRecords:
    """The small per-cell counts of a summary, read in one statement."""

    with_model: set[int] = field(default_factory=set)  # cells with a study model that year
    considered: dict[int, int] = field(default_factory=dict)  # cell → months considered
    candidates: dict[int, dict[str, int]] = field(default_factory=dict)  # cell → stage → n


def cell_records(
    session: Session, cell_ids: list[int], year: int, months: list[tuple[int, int]]
) -> CellRecords:
    """The cells with a live study model for ``year``, :func:`consideration_counts` and
    :func:`candidate_counts`, from one UNION ALL of three small GROUP BYs (one round trip
    instead of three)."""
    out = CellRecords()
    if not cell_ids:
        return out
    numbers = [m for y, m in months if y == year] or [0]
    models = select(
        literal("model"), StudyModel.org_id, cast(null(), String), func.count(StudyModel.id)
    ).where(
        among(session, StudyModel.org_id, cell_ids),
        StudyModel.year == year,
        StudyModel.deleted_at.is_(None),
    )
    considered = select(
        literal("considered"),
        CandidateConsideration.org_id,
        cast(null(), String),
        func.count(CandidateConsideration.id),
    ).where(
        among(session, CandidateConsideration.org_id, cell_ids),
        CandidateConsideration.year == year,
        CandidateConsideration.month >= min(numbers),
        CandidateConsideration.month <= max(numbers),
    )
    candidates = select(
        literal("candidate"), Candidate.org_id, Candidate.stage, func.count(Candidate.id)
    ).where(among(session, Candidate.org_id, cell_ids))
    rows = session.execute(
        union_all(
            models.group_by(StudyModel.org_id),
            considered.group_by(CandidateConsideration.org_id),
            candidates.group_by(Candidate.org_id, Candidate.stage),
        )
    ).tuples()
    for what, org_id, stage, n in rows:
        if what == "model":
            out.with_model.add(org_id)
        elif what == "considered":
            if months:
                out.considered[org_id] = int(n)
        else:
            out.candidates.setdefault(org_id, {})[stage] = int(n)
    return out


def candidate_counts(session: Session, cell_ids: list[int]) -> dict[int, dict[str, int]]:
    """Cell id → stage → candidates (the pipeline's current state)."""
    if not cell_ids:
        return {}
    rows = session.execute(
        select(Candidate.org_id, Candidate.stage, func.count(Candidate.id))
        .where(among(session, Candidate.org_id, cell_ids))
        .group_by(Candidate.org_id, Candidate.stage)
    ).all()
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for org_id, stage, n in rows:
        out[org_id][stage] = int(n)
    return out


def candidate_groups(session: Session, cell_ids: list[int]) -> dict[str, int]:
    """Priority group → candidates in it (a candidate may be in several groups).

    Grouping by the JSON list's text is portable (no json_each / jsonb functions): the
    distinct combinations are few, and each is expanded here.
    """
    if not cell_ids:
        return {}
    as_text = cast(Candidate.priority_groups, String)
    rows = session.execute(
        select(as_text, func.count(Candidate.id))
        .where(among(session, Candidate.org_id, cell_ids))
        .group_by(as_text)
    ).all()
    out: dict[str, int] = defaultdict(int)
    for text, n in rows:
        try:
            groups = json.loads(text) if text else []
        except ValueError:
            groups = []
        for group in set(groups if isinstance(groups, list) else []):
            out[str(group)] += int(n)
    order = list(PRIORITY_GROUPS)
    return dict(
        sorted(out.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0]))
    )


def unexcused_absences(
    session: Session, cell_ids: list[int], year: int, upto: date, *, at_least: int = 1
) -> dict[int, dict[int, int]]:
    """Member id → month of ``year`` up to ``upto`` → the cell where they were absent without
    reason from the regular meeting (the three-months rule counts these months), for the
    members absent so in at least ``at_least`` months (the others raise nothing: counted in
    SQL, only they are read month by month)."""
    if not cell_ids:
        return {}
    month = extract("month", Meeting.held_on).cast(Integer)
    absent = and_(
        among(session, Meeting.org_id, cell_ids),
        Meeting.deleted_at.is_(None),
        Meeting.kind.in_(figures.REGULAR_KINDS),
        Meeting.held_on >= date(year, 1, 1),
        Meeting.held_on <= min(upto, date(year, 12, 31)),
        Attendance.status == AttendanceStatus.UNEXCUSED,
    )
    query = select(Attendance.member_id, month, func.max(Meeting.org_id)).join(
        Meeting, Meeting.id == Attendance.meeting_id
    )
    if at_least > 1:
        often = (
            select(Attendance.member_id)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(absent)
            .group_by(Attendance.member_id)
            .having(func.count(distinct(month)) >= at_least)
        )
        query = query.where(Attendance.member_id.in_(often))
    rows = session.execute(query.where(absent).group_by(Attendance.member_id, month)).tuples()
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for member_id, m, org_id in rows:
        out[member_id][int(m)] = org_id
    return out


def member_lines(
    session: Session,
    absences: dict[int, dict[int, int]],
    orgs: dict[int, OrgInfo],
    *,
    day: date,
) -> list[MemberLine]:
    """The members behind the three-months figures, each in the cell where they were on
    ``day`` (the first day of the period's last month, :mod:`domain.rules.membership`); a
    member who was then in none of the summary's cells shows in the cell of their latest
    absence."""
    if not absences:
        return []
    rows = session.execute(
        select(
            Member.id,
            Member.full_name,
            Member.org_id,
            MemberPlacement.org_id,
            MemberPlacement.from_date,
            MemberPlacement.to_date,
        )
        .outerjoin(MemberPlacement, MemberPlacement.member_id == Member.id)
        .where(Member.id.in_(list(absences)))
    ).all()
    names: dict[int, str] = {}
    placed: dict[int, int] = {}
    for mid, name, current, org_id, lo, hi in rows:
        names[mid] = name
        if org_id is None:
            placed[mid] = current
        elif covers(lo, hi, day):
            placed[mid] = org_id
    lines = []
    for mid, name in names.items():
        cell = placed.get(mid)
        if cell not in orgs:
            months = absences[mid]
            cell = months[max(months)]
        lines.append(
            MemberLine(
                member_id=mid,
                name=name,
                cell_id=cell,
                cell_code=orgs[cell].code if cell in orgs else "",
            )
        )
    return sorted(lines, key=lambda x: (x.cell_code, x.name))


def new_sign_lines(
    session: Session,
    cell_ids: list[int],
    year: int,
    months: list[tuple[int, int]],
    orgs: dict[int, OrgInfo],
) -> list[MemberLine]:
    """The members in whom a new sign of degradation was found in the period."""
    if not cell_ids or not months:
        return []
    numbers = [m for y, m in months if y == year]
    rows = session.execute(
        select(
            Review.member_id,
            Member.full_name,
            Review.org_id,
            Review.month,
            Review.sign_group,
        )
        .join(Member, Member.id == Review.member_id)
        .where(
            among(session, Review.org_id, cell_ids),
            Review.year == year,
            Review.month >= min(numbers),
            Review.month <= max(numbers),
            Review.outcome == ReviewOutcome.NEW_SIGN,
        )
        .order_by(Review.org_id, Review.month, Member.full_name)
    ).all()
    return [
        MemberLine(
            member_id=mid,
            name=name,
            cell_id=org_id,
            cell_code=orgs[org_id].code,
            months=(int(month),),
            sign_group=group.value if group else None,
        )
        for mid, name, org_id, month, group in rows
    ]


def cell_meetings(
    session: Session,
    cell_ids: list[int],
    start: date,
    upto: date,
    quarters: list[tuple[int, int]],
) -> tuple[dict[int, figures.CellMeetingFigures], dict[int, set[tuple[int, int]]]]:
    """The meeting figures of :func:`storage.figures.meeting_figures` between ``start`` and
    ``upto``, and each cell's ``quarters`` with a thematic (or combined) meeting held in them,
    from three GROUP BY queries (meetings by cell and month, attendance at the regular
    meetings, meetings with a superior committee member)."""
    out = {cid: figures.CellMeetingFigures() for cid in cell_ids}
    thematic: dict[int, set[tuple[int, int]]] = {cid: set() for cid in cell_ids}
    if not cell_ids:
        return out, thematic
    lo, hi = start, upto
    if quarters:
        lo = min(lo, quarter_bounds(*quarters[0])[0])
        hi = max(hi, quarter_bounds(*quarters[-1])[1])
    y = extract("year", Meeting.held_on).cast(Integer)
    m = extract("month", Meeting.held_on).cast(Integer)
    live = and_(among(session, Meeting.org_id, cell_ids), Meeting.deleted_at.is_(None))
    inside = and_(Meeting.held_on >= start, Meeting.held_on <= upto)
    regular = Meeting.kind.in_(figures.REGULAR_KINDS)
    them = Meeting.kind.in_(figures.THEMATIC_KINDS)
    # Read through the connection, not the ORM session: the session would fetch every row
    # (cells × months) into a list before the first one is used; the connection streams them.
    rows = (
        session.connection()
        .execute(
            select(
                Meeting.org_id,
                y,
                m,
                func.sum(case((inside, 1), else_=0)),
                func.sum(case((and_(inside, regular), 1), else_=0)),
                func.sum(case((and_(inside, them), 1), else_=0)),
                func.sum(case((them, 1), else_=0)),
                func.max(case((inside, Meeting.held_on))),
            )
            .where(live, Meeting.held_on >= lo, Meeting.held_on <= hi)
            .group_by(Meeting.org_id, y, m)
        )
        .tuples()
    )
    counted = set(quarters)
    for org_id, year, month, n, held_regular, held_them, any_them, latest in rows:
        quarter = (year, (month - 1) // 3 + 1)
        if any_them and quarter in counted:
            thematic[org_id].add(quarter)
        if not n:
            continue
        fig = out[org_id]
        fig.meetings += int(n)
        fig.thematic += int(held_them or 0)
        if held_regular:
            fig.regular_months.add((year, month))
        if fig.last_held is None or latest > fig.last_held:
            fig.last_held = latest
    regular_live = and_(live, regular, inside)
    for org_id, present, required, excused, unexcused in session.execute(
        select(
            Meeting.org_id,
            func.sum(case((Attendance.status == AttendanceStatus.PRESENT, 1), else_=0)),
            func.sum(case((Attendance.status != AttendanceStatus.EXEMPT, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.EXCUSED, 1), else_=0)),
            func.sum(case((Attendance.status == AttendanceStatus.UNEXCUSED, 1), else_=0)),
        )
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(regular_live)
        .group_by(Meeting.org_id)
    ).tuples():
        fig = out[org_id]
        fig.present, fig.required = int(present or 0), int(required or 0)
        fig.excused, fig.unexcused = int(excused or 0), int(unexcused or 0)
    for org_id, n in session.execute(
        select(Meeting.org_id, func.count(distinct(Meeting.id)))
        .join(MeetingGuest, MeetingGuest.meeting_id == Meeting.id)
        .where(live, inside, MeetingGuest.is_superior.is_(True))
        .group_by(Meeting.org_id)
    ).tuples():
        out[org_id].superior_visits = int(n)
    return out, thematic
