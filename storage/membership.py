"""Membership history: placements in cells and statuses over time (tables
``member_placements`` and ``member_status_history``).

A transfer or an import that moves a member records the move with its date instead of
rewriting the past: the member's current cell (``members.org_id``) follows, and every figure
of an earlier month counts the member where they were then
(:mod:`domain.rules.membership`). A member without any recorded placement counts in their
current cell (members created before the history existed, or by tools that do not move them).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from domain.rules import membership as rules
from domain.rules.membership import StatusPeriod
from storage.audit import Actor, record
from storage.models import Member, MemberPlacement, MemberStatus, MemberStatusPeriod

#: The organization a member counts in for a query joined with :data:`MemberPlacement`
#: (outer join): the placement's, else the member's current cell.
placed_org = func.coalesce(MemberPlacement.org_id, Member.org_id)


def placed_on(day: date) -> Any:
    """SQL: the (outer-joined) placement holds on ``day``, or the member has none."""
    return or_(
        MemberPlacement.id.is_(None),
        and_(
            or_(MemberPlacement.from_date.is_(None), MemberPlacement.from_date <= day),
            or_(MemberPlacement.to_date.is_(None), MemberPlacement.to_date > day),
        ),
    )


def placements(session: Session, member_id: int) -> list[MemberPlacement]:
    """A member's placements, oldest first."""
    return list(
        session.scalars(
            select(MemberPlacement)
            .where(MemberPlacement.member_id == member_id)
            .order_by(func.coalesce(MemberPlacement.from_date, date(1900, 1, 1)))
        )
    )


def record_transfer(
    session: Session,
    *,
    member: Member,
    to_org_id: int,
    on: date,
    source: str,
    actor: Actor,
    now: datetime,
) -> None:
    """Move a member to another cell from ``on``: the open placement ends on ``on`` and a new
    one starts; the member's current cell follows. Earlier months keep the old cell."""
    if member.org_id == to_org_id:
        return
    rows = placements(session, member.id)
    open_rows = [p for p in rows if p.to_date is None]
    if not rows:
        session.add(
            MemberPlacement(
                member_id=member.id,
                org_id=member.org_id,
                from_date=None,
                to_date=on,
                source="seed",
                recorded_at=now,
            )
        )
    for p in open_rows:
        p.to_date = on
    session.add(
        MemberPlacement(
            member_id=member.id,
            org_id=to_org_id,
            from_date=on,
            to_date=None,
            source=source,
            recorded_at=now,
        )
    )
    before = member.org_id
    member.org_id = to_org_id
    record(
        session,
        actor=actor,
        at=now,
        action="transfer",
        entity="member",
        entity_id=member.id,
        before={"org_id": before},
        after={"org_id": to_org_id, "on": on.isoformat(), "source": source},
    )


def record_status(
    session: Session,
    *,
    member: Member,
    status: MemberStatus,
    on: date,
    source: str,
    now: datetime,
) -> None:
    """A member's status from ``on`` (the open status period ends there); the current
    status follows. Earlier months keep the old status."""
    if member.status is status:
        return
    rows = list(
        session.scalars(
            select(MemberStatusPeriod).where(MemberStatusPeriod.member_id == member.id)
        )
    )
    if not rows:
        session.add(
            MemberStatusPeriod(
                member_id=member.id,
                status=member.status,
                from_date=None,
                to_date=on,
                source="seed",
                recorded_at=now,
            )
        )
    for p in rows:
        if p.to_date is None:
            p.to_date = on
    session.add(
        MemberStatusPeriod(
            member_id=member.id,
            status=status,
            from_date=on,
            to_date=None,
            source=source,
            recorded_at=now,
        )
    )
    member.status = status
    member.status_since = on


def status_on(session: Session, member_id: int, day: date) -> MemberStatus | None:
    """The member's status on ``day`` from the history (None: no history recorded)."""
    row = session.scalar(
        select(MemberStatusPeriod.status).where(
            MemberStatusPeriod.member_id == member_id,
            or_(MemberStatusPeriod.from_date.is_(None), MemberStatusPeriod.from_date <= day),
            or_(MemberStatusPeriod.to_date.is_(None), MemberStatusPeriod.to_date > day),
        )
    )
    return row


def status_periods(session: Session, member_ids: Collection[int]) -> dict[int, list[StatusPeriod]]:
    """Member id → their recorded status periods (empty when none is recorded)."""
    out: dict[int, list[StatusPeriod]] = {mid: [] for mid in member_ids}
    if not out:
        return out
    ids = list(out)
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(
                MemberStatusPeriod.member_id,
                MemberStatusPeriod.status,
                MemberStatusPeriod.from_date,
                MemberStatusPeriod.to_date,
            ).where(MemberStatusPeriod.member_id.in_(ids[i : i + 500]))
        ).all()
        for mid, status, lo, hi in rows:
            out[mid].append((status, lo, hi))
    return out


def status_in_month(
    member: Member, periods: Sequence[StatusPeriod], year: int, month: int
) -> MemberStatus:
    """What ``member`` counts as in a month (their status on its first day)."""
    return rules.status_in_month(
        periods, year, month, current=member.status, current_since=member.status_since
    )


def placed_in(session: Session, member_id: int, org_id: int, day: date) -> bool:
    """Whether the member belonged to ``org_id`` on ``day`` (their current cell when no
    placement is recorded)."""
    row = session.execute(
        select(Member.id)
        .outerjoin(MemberPlacement, MemberPlacement.member_id == Member.id)
        .where(Member.id == member_id, placed_org == org_id, placed_on(day))
        .limit(1)
    ).first()
    return row is not None


def members_placed(session: Session, org_id: int, day: date) -> list[Member]:
    """The members who belonged to ``org_id`` on ``day``, whatever their status."""
    rows = session.scalars(
        select(Member)
        .outerjoin(MemberPlacement, MemberPlacement.member_id == Member.id)
        .where(placed_org == org_id, placed_on(day))
    )
    return list({m.id: m for m in rows}.values())
