"""Per-cell aggregates of the summary beyond :mod:`storage.figures`: reviews, the sympathizer
list, candidates, the members named, and the roll to review month by month."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from domain.rules.membership import counting_day
from storage import membership
from storage.models import (
    Candidate,
    CandidateConsideration,
    Member,
    MemberPlacement,
    MemberStatus,
    Review,
    ReviewOutcome,
    SignGroup,
)
from storage.summary.cells import OrgInfo, month_bounds
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
            Review.org_id.in_(cell_ids),
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
            CandidateConsideration.org_id.in_(cell_ids),
            CandidateConsideration.year == year,
            CandidateConsideration.month >= min(numbers),
            CandidateConsideration.month <= max(numbers),
        )
        .group_by(CandidateConsideration.org_id)
    ).all()
    return {org_id: int(n) for org_id, n in rows}


def candidate_counts(session: Session, cell_ids: list[int]) -> dict[int, dict[str, int]]:
    """Cell id → stage → candidates (the pipeline's current state)."""
    if not cell_ids:
        return {}
    rows = session.execute(
        select(Candidate.org_id, Candidate.stage, func.count(Candidate.id))
        .where(Candidate.org_id.in_(cell_ids))
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
        .where(Candidate.org_id.in_(cell_ids))
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


def member_lines(
    session: Session, member_ids: list[int], orgs: dict[int, OrgInfo]
) -> list[MemberLine]:
    if not member_ids:
        return []
    rows = session.execute(
        select(Member.id, Member.full_name, Member.org_id).where(Member.id.in_(member_ids))
    ).all()
    lines = [
        MemberLine(
            member_id=mid,
            name=name,
            cell_id=org_id,
            cell_code=orgs[org_id].code if org_id in orgs else "",
        )
        for mid, name, org_id in rows
    ]
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
            Review.org_id.in_(cell_ids),
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


# --- The roll to review -----------------------------------------------------------------------


def roll_counts(
    session: Session, cell_ids: list[int], months: list[tuple[int, int]]
) -> dict[int, dict[tuple[int, int], int]]:
    """Cell → (year, month) → members to review that month, for many cells in one query.

    Same rule as :func:`domain.rules.reviews.on_roll` (which :func:`storage.reviews.roll_counts`
    applies one cell at a time), written as one conditional count per month so a year over
    hundreds of cells stays one GROUP BY; a test checks that both agree.
    """
    if not cell_ids or not months:
        return {}
    active = [s for s in MemberStatus if s.is_active]
    columns = []
    for y, m in months:
        first, last = month_bounds(y, m)
        joined = or_(
            Member.admitted_on <= last,
            Member.ceremony_on <= last,
            and_(Member.admitted_on.is_(None), Member.ceremony_on.is_(None)),
        )
        still_there = or_(
            Member.status.in_(active),
            and_(Member.status_since.is_not(None), Member.status_since >= first),
        )
        exempt = and_(
            Member.status == MemberStatus.EXEMPT,
            or_(Member.status_since.is_(None), Member.status_since <= last),
        )
        # Where the member was on the month's first day (domain.rules.membership).
        placed = membership.placed_on(counting_day(y, m))
        columns.append(func.sum(case((and_(joined, still_there, ~exempt, placed), 1), else_=0)))
    org = membership.placed_org
    rows = session.execute(
        select(org, *columns)
        .select_from(Member)
        .outerjoin(MemberPlacement, MemberPlacement.member_id == Member.id)
        .where(org.in_(cell_ids))
        .group_by(org)
    ).all()
    out: dict[int, dict[tuple[int, int], int]] = {}
    for org_id, *counts in rows:
        out[org_id] = {ym: int(n or 0) for ym, n in zip(months, counts, strict=True)}
    return out
