"""The cells of a summary and the calendar they owe: active months and quarters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from domain.rules.periods import Period
from storage.models import (
    Organization,
    OrgKind,
)


@dataclass
class OrgInfo:
    id: int
    code: str
    name: str
    kind: OrgKind
    type_code: str | None
    group_id: int
    active_from: date | None
    active_to: date | None
    usual_day: int | None = None


def org_info(session: Session, cell_ids: list[int]) -> dict[int, OrgInfo]:
    """Cells with their type and grassroots organization (one query)."""
    if not cell_ids:
        return {}
    parent = aliased(Organization)
    rows = session.execute(
        select(
            Organization.id,
            Organization.code,
            Organization.name,
            Organization.kind,
            func.coalesce(Organization.org_type, parent.org_type),
            Organization.parent_id,
            parent.kind,
            Organization.active_from,
            Organization.active_to,
            Organization.usual_meeting_day,
        )
        .outerjoin(parent, parent.id == Organization.parent_id)
        .where(Organization.id.in_(cell_ids))
    ).all()
    out = {}
    for oid, code, name, kind, type_code, parent_id, parent_kind, a_from, a_to, usual in rows:
        # A chi bộ trực thuộc belongs to its đảng bộ cơ sở; a chi bộ cơ sở is its own.
        group = parent_id if parent_id and parent_kind is OrgKind.COMMITTEE else oid
        out[oid] = OrgInfo(oid, code, name, kind, type_code, group, a_from, a_to, usual)
    return out


@cache
def usual_date(ym: tuple[int, int], usual_day: int | None) -> date:
    """The cell's usual meeting day in a month (its last day when it has none)."""
    last = month_bounds(*ym)[1]
    return last if usual_day is None else last.replace(day=min(max(usual_day, 1), last.day))


@cache
def month_bounds(year: int, month: int) -> tuple[date, date]:
    p = Period("month", year, month)
    return p.start, p.end


def active_in(info: OrgInfo, start: date, end: date) -> bool:
    return (info.active_from is None or info.active_from <= end) and (
        info.active_to is None or info.active_to >= start
    )


@cache
def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    p = Period("quarter", year, quarter)
    return p.start, p.end


def elapsed_months(period: Period, today: date) -> list[tuple[int, int]]:
    """The months of ``period`` that have started by ``today``."""
    return [(y, m) for y, m in period.months() if date(y, m, 1) <= today]


def counted_quarters(period: Period, today: date) -> list[tuple[int, int]]:
    """The quarters whose thematic meeting a period's summary counts.

    A month or a quarter counts its quarter; a year its quarters that have started.
    """
    quarters: list[tuple[int, int]] = []
    for y, m in elapsed_months(period, today):
        q = (y, (m - 1) // 3 + 1)
        if q not in quarters:
            quarters.append(q)
    return quarters
