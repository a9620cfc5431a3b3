"""The roll month by month: who counts in a cell, and as what, in each month of a summary.

A member counts in a month where and as what they were on its first day
(:mod:`domain.rules.membership`): the placement and the status period recorded in the
membership history (:mod:`storage.membership`) that hold on that day. A member without a
recorded placement counts in their current cell; a member without a recorded status history
counts as :func:`domain.rules.membership.status_on` reads their current row (their status from
``status_since`` on, what preceded it before). A member counts only from the month they joined
the Party (:func:`domain.rules.reviews.not_reviewable`: joined by the month's last day).

One GROUP BY per call, one conditional count per month and status, so a year over thousands
of cells stays one query and nothing is loaded row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from domain.rules.membership import counting_day
from domain.rules.reviews import month_bounds
from storage import membership
from storage.models import Member, MemberPlacement, MemberStatus, MemberStatusPeriod
from storage.summary.cells import among

#: The statuses that keep a member on the roll, in the order the roll is shown.
ON_ROLL = (MemberStatus.FULL, MemberStatus.PROBATIONARY, MemberStatus.EXEMPT)
#: Up to this many cells, the roll reads their members through the indexes; above it, one
#: scan of the members costs less than looking each cell's members up (measured on the
#: benchmark's Khối: 0.09 s against 0.32 s for 300 cells on PostgreSQL).
FEW_CELLS = 30
#: Counted in attendance denominators and reviewed monthly.
MUST_ATTEND = tuple(s for s in ON_ROLL if s.must_attend)


@dataclass(slots=True)
class CellRoll:
    """One cell's roll over the months asked."""

    #: (year, month) → members to review that month (full and probationary members there on
    #: its first day; exempt members are not reviewed).
    to_review: dict[tuple[int, int], int] = field(default_factory=dict)
    #: The roll of the last month asked, by status (full, probationary, exempt).
    last: dict[MemberStatus, int] = field(default_factory=dict)

    #: Members on the roll in the last month (full, probationary, exempt).
    members: int = 0
    #: Members required to attend in the last month (full and probationary).
    required: int = 0


def _status_then(day: date) -> Any:
    """SQL: the member's status on ``day``: the recorded period's when the member has a status
    history (NULL when none covers the day), else their current row's reading."""
    recorded = case(
        (
            and_(
                or_(MemberStatusPeriod.from_date.is_(None), MemberStatusPeriod.from_date <= day),
                or_(MemberStatusPeriod.to_date.is_(None), MemberStatusPeriod.to_date > day),
            ),
            MemberStatusPeriod.status,
        ),
    )
    # domain.rules.membership.status_on, for a member without history: the current status
    # holds from status_since on; before it, a full member was probationary and an exempt,
    # transferred or removed member was a full member.
    current = case(
        (or_(Member.status_since.is_(None), Member.status_since <= day), Member.status),
        (
            Member.status.in_([MemberStatus.FULL, MemberStatus.PROBATIONARY]),
            literal(MemberStatus.PROBATIONARY.value),
        ),
        else_=literal(MemberStatus.FULL.value),
    )
    return case((MemberStatusPeriod.id.is_(None), current), else_=recorded)


def _joined_by(day: date) -> Any:
    """SQL: the member joined the Party by ``day`` (or the records do not say when)."""
    return or_(
        Member.admitted_on <= day,
        Member.ceremony_on <= day,
        and_(Member.admitted_on.is_(None), Member.ceremony_on.is_(None)),
    )


def cell_rolls(
    session: Session, cell_ids: Sequence[int], months: Sequence[tuple[int, int]]
) -> dict[int, CellRoll]:
    """Cell id → its roll over ``months`` (every cell asked has an entry)."""
    out = {cid: CellRoll() for cid in cell_ids}
    if not cell_ids or not months:
        return out
    columns = []
    for y, m in months:
        day, last = counting_day(y, m), month_bounds(y, m)[1]
        counted = and_(membership.placed_on(day), _joined_by(last))
        columns.append(
            func.sum(case((and_(counted, _status_then(day).in_(MUST_ATTEND)), 1), else_=0))
        )
    day, last = counting_day(*months[-1]), month_bounds(*months[-1])[1]
    counted = and_(membership.placed_on(day), _joined_by(last))
    for status in ON_ROLL:
        columns.append(func.sum(case((and_(counted, _status_then(day) == status), 1), else_=0)))
    org = membership.placed_org
    ids = list(cell_ids)
    query = (
        select(org, *columns)
        .select_from(Member)
        .outerjoin(MemberPlacement, MemberPlacement.member_id == Member.id)
        .outerjoin(MemberStatusPeriod, MemberStatusPeriod.member_id == Member.id)
        .where(among(session, org, ids))
        .group_by(org)
    )
    if len(ids) <= FEW_CELLS:
        # A few cells read their members through the indexes (members.org_id, the
        # placements' org_id) instead of scanning every member of the Khối.
        moved_in = select(MemberPlacement.member_id).where(
            among(session, MemberPlacement.org_id, ids)
        )
        query = query.where(or_(among(session, Member.org_id, ids), Member.id.in_(moved_in)))
    rows = session.execute(query).all()
    n = len(months)
    for org_id, *counts in rows:
        roll = out[org_id]
        roll.to_review = {ym: int(c or 0) for ym, c in zip(months, counts[:n], strict=True)}
        roll.last = {s: int(c or 0) for s, c in zip(ON_ROLL, counts[n:], strict=True) if c}
        roll.members = sum(roll.last.values())
        roll.required = sum(c for s, c in roll.last.items() if s in MUST_ATTEND)
    for roll in out.values():
        if not roll.to_review:
            roll.to_review = dict.fromkeys(months, 0)
    return out


def roll_counts(
    session: Session, cell_ids: list[int], months: list[tuple[int, int]]
) -> dict[int, dict[tuple[int, int], int]]:
    """Cell → (year, month) → members to review that month, for many cells in one query.

    Same rule as :func:`domain.rules.reviews.on_roll` read through the membership history
    (which :func:`storage.reviews.roll_counts` applies one cell at a time); a test checks that
    both agree.
    """
    if not cell_ids or not months:
        return {}
    return {cid: roll.to_review for cid, roll in cell_rolls(session, cell_ids, months).items()}
