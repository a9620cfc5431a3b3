"""The cells of a summary and the calendar they owe: active months and quarters."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Integer, String, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
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
        .where(among(session, Organization.id, cell_ids))
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


def among(session: Session, column: Any, ids: Collection[int]) -> Any:
    """SQL: ``column`` is one of ``ids``, sent as one parameter however many they are.

    A Khối of 3,000 cells would otherwise bind 3,000 parameters in each of the summary's
    queries (the driver parses and the database plans each one). The one dialect-specific
    helper of the summary: PostgreSQL takes an array (``= ANY``), SQLite a JSON list read by
    ``json_each``; any other database a plain ``IN``.
    """
    values = sorted(set(ids))
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(Integer)))
    if dialect == "sqlite":
        each = func.json_each(bindparam(None, json.dumps(values), type_=String)).table_valued(
            "value"
        )
        return column.in_(select(each.c.value))
    return column.in_(values)
