"""What discharges an instance, so that its next reminder simply is not computed.

An instance is *discharged* as soon as its record exists:

==========================  ==================================================================
regular_meeting             a live regular or combined meeting held in the month
thematic_meeting            a live thematic or combined meeting held in the quarter
reviews                     a review, for the month, of every full and probationary member
candidate_consideration     the month's consideration of the sympathizer list
report                      the report of that kind and period, submitted
briefing                    a briefing notice dated in the quarter (the top organization)
steering_review             the steering group's review of that obligation and period, recorded
full_membership             the member is no longer probationary (full, or left the roll)
manual                      nothing records it yet: never discharged (no overdue reminders)
==========================  ==================================================================

Every discharge is one GROUP BY query over all the organizations concerned, not one query per
cell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, distinct, extract, func, select
from sqlalchemy.orm import Session

from domain.calendar import ObligationSpec
from domain.rules.deadlines import PeriodRef
from storage import reviews
from storage.figures import REGULAR_KINDS, THEMATIC_KINDS
from storage.models import (
    CandidateConsideration,
    Meeting,
    MeetingKind,
    MemberStatus,
    Notice,
    Report,
    ReportStatus,
    Review,
    SteeringReview,
)
from storage.obligations.organizations import OrgRow

#: Members whose commitment is reviewed each month (exempt members do not attend meetings).
REVIEWED_STATUSES = [MemberStatus.FULL, MemberStatus.PROBATIONARY]


@dataclass
class Pending:
    """An instance being computed: its owner and due date, then whether it is discharged."""

    spec: ObligationSpec
    org: OrgRow
    period: PeriodRef | None
    due: date
    member_id: int | None = None
    member_name: str | None = None
    probation_end: date | None = None
    missing: list[dict[str, Any]] = field(default_factory=list)
    key: str | None = None  # "c<id>": a candidate's file (pipeline deadlines)
    done: bool = False


def _settle(p: Pending, done: bool, **missing: Any) -> None:
    """Mark ``p`` discharged, or record what is still missing (``missing``, in that order)."""
    if done:
        p.done = True
    else:
        p.missing.append(missing)


def _span(items: Sequence[Pending]) -> tuple[date, date]:
    periods = [p.period for p in items if p.period is not None]
    return min(p.start for p in periods), max(p.end for p in periods)


def _org_ids(items: Sequence[Pending]) -> list[int]:
    return sorted({p.org.id for p in items})


def _ym(col: Any) -> tuple[Any, Any]:
    return extract("year", col).cast(Integer), extract("month", col).cast(Integer)


def _months_with_meeting(
    session: Session, items: Sequence[Pending], kinds: list[MeetingKind]
) -> set[tuple[int, int, int]]:
    start, end = _span(items)
    y, m = _ym(Meeting.held_on)
    rows = session.execute(
        select(Meeting.org_id, y, m)
        .where(
            Meeting.org_id.in_(_org_ids(items)),
            Meeting.kind.in_(kinds),
            Meeting.deleted_at.is_(None),
            Meeting.held_on >= start,
            Meeting.held_on <= end,
        )
        .group_by(Meeting.org_id, y, m)
    ).all()
    return {(int(o), int(yy), int(mm)) for o, yy, mm in rows}


def _regular_meeting(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    held = _months_with_meeting(session, items, REGULAR_KINDS)
    for p in items:
        assert p.period is not None
        hit = (p.org.id, p.period.year, p.period.index) in held
        _settle(p, hit, what="regular_meeting", period=p.period.key)


def _thematic_meeting(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    held = _months_with_meeting(session, items, THEMATIC_KINDS)
    quarters = {(o, y, (m - 1) // 3 + 1) for o, y, m in held}
    for p in items:
        assert p.period is not None
        # A thematic rule may be yearly or half-yearly in an edited catalog: any month counts.
        months = [
            (p.period.year, mm) for mm in range(p.period.first_month, p.period.end.month + 1)
        ]
        if p.period.kind == "quarter":
            hit = (p.org.id, p.period.year, p.period.index) in quarters
        else:
            hit = any((p.org.id, yy, mm) in held for yy, mm in months)
        _settle(p, hit, what="thematic_meeting", period=p.period.key)


def _reviews(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    """Every member on the month's roll reviewed: the roll of that month (where and as what
    the members were on its first day, :func:`storage.reviews.roll_counts`), not today's."""
    ids = _org_ids(items)
    months_of: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for p in items:
        assert p.period is not None
        months_of[p.org.id].add((p.period.year, p.period.index))
    required = {
        org_id: reviews.roll_counts(session, org_id=org_id, months=sorted(months))
        for org_id, months in months_of.items()
    }
    years = sorted({p.period.year for p in items if p.period is not None})
    rows = session.execute(
        select(Review.org_id, Review.year, Review.month, func.count(distinct(Review.member_id)))
        .where(Review.org_id.in_(ids), Review.year.in_(years))
        .group_by(Review.org_id, Review.year, Review.month)
    ).all()
    done = {(int(o), int(y), int(m)): int(n) for o, y, m, n in rows}
    for p in items:
        assert p.period is not None
        need = required[p.org.id].get((p.period.year, p.period.index), 0)
        have = done.get((p.org.id, p.period.year, p.period.index), 0)
        _settle(p, have >= need, what="reviews", n=need - have, period=p.period.key)


def _candidate_consideration(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    years = sorted({p.period.year for p in items if p.period is not None})
    rows = session.execute(
        select(
            CandidateConsideration.org_id,
            CandidateConsideration.year,
            CandidateConsideration.month,
        ).where(
            CandidateConsideration.org_id.in_(_org_ids(items)),
            CandidateConsideration.year.in_(years),
        )
    ).all()
    done = {(int(o), int(y), int(m)) for o, y, m in rows}
    for p in items:
        assert p.period is not None
        hit = (p.org.id, p.period.year, p.period.index) in done
        _settle(p, hit, what="candidate_consideration", period=p.period.key)


def _report(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    kinds = sorted({p.spec.report_kind for p in items if p.spec.report_kind})
    periods = sorted({p.period.key for p in items if p.period is not None})
    rows = session.execute(
        select(Report.org_id, Report.kind, Report.period).where(
            Report.org_id.in_(_org_ids(items)),
            Report.kind.in_(kinds),
            Report.period.in_(periods),
            Report.status == ReportStatus.SUBMITTED,
        )
    ).all()
    done = {(int(o), k, per) for o, k, per in rows}
    for p in items:
        assert p.period is not None
        hit = (p.org.id, p.spec.report_kind, p.period.key) in done
        _settle(p, hit, what="report", obligation=p.spec.code, period=p.period.key)


def _local_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    lo = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return lo, hi


def _briefing(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    start, end = _span(items)
    lo, hi = _local_bounds(start, end, tz)
    dates = [
        at.astimezone(tz).date()
        for at in session.scalars(
            select(Notice.event_at).where(
                Notice.kind == "briefing",
                Notice.event_at.is_not(None),
                Notice.event_at >= lo,
                Notice.event_at < hi,
            )
        )
        if at is not None
    ]
    for p in items:
        assert p.period is not None
        hit = any(p.period.start <= d <= p.period.end for d in dates)
        _settle(p, hit, what="briefing", period=p.period.key)


def _steering_review(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    codes = sorted({p.spec.code for p in items})
    periods = sorted({p.period.key for p in items if p.period is not None})
    rows = session.execute(
        select(SteeringReview.top_id, SteeringReview.obligation, SteeringReview.period).where(
            SteeringReview.top_id.in_(_org_ids(items)),
            SteeringReview.obligation.in_(codes),
            SteeringReview.period.in_(periods),
        )
    ).all()
    done = {(int(o), c, per) for o, c, per in rows}
    for p in items:
        assert p.period is not None
        hit = (p.org.id, p.spec.code, p.period.key) in done
        _settle(p, hit, what="steering_review", obligation=p.spec.code, period=p.period.key)


def _full_membership(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    # Only still-probationary members were selected: nothing more to check.
    return None


def _manual(session: Session, items: list[Pending], tz: ZoneInfo) -> None:
    for p in items:
        p.missing.append({"what": "manual", "obligation": p.spec.code})


#: Discharge kind (the catalog's ``discharged_by``) → what marks its pending instances done.
DISCHARGES = {
    "regular_meeting": _regular_meeting,
    "thematic_meeting": _thematic_meeting,
    "reviews": _reviews,
    "candidate_consideration": _candidate_consideration,
    "report": _report,
    "briefing": _briefing,
    "steering_review": _steering_review,
    "full_membership": _full_membership,
    # Only files still waiting at that stage are selected: nothing more to check.
    "candidate_decision": _full_membership,
    "candidate_ceremony": _full_membership,
    "manual": _manual,
}
