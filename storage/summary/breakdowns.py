"""The summary's breakdowns: by organization type and by grassroots party organization."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import (
    Organization,
    OrgType,
)
from storage.summary.model import CellRow, Figures, Group

# --- Breakdowns --------------------------------------------------------------------------------


def groups_by_type(session: Session, rows: list[CellRow]) -> list[Group]:
    """Every organization type of the configurable list, in order, even those with no cells."""
    groups: list[Group] = []
    known = set()
    for ot in session.scalars(select(OrgType).order_by(OrgType.sort, OrgType.code)):
        known.add(ot.code)
        groups.append(Group(ot.code, ot.code, ot.name_vi, ot.name_en, [], Figures()))
    untyped = [r for r in rows if r.type_code not in known]
    if untyped:
        groups.append(Group("", "", "Chưa phân loại", "Not classified", [], Figures()))
    index = {g.key: g for g in groups}
    for row in rows:
        group = index[row.type_code if row.type_code in known else ""]
        group.cell_ids.append(row.id)
        group.figures.add(row.figures)
    return groups


def groups_by_committee(session: Session, rows: list[CellRow]) -> list[Group]:
    """One line per grassroots party organization (a đảng bộ cơ sở, or a chi bộ cơ sở)."""
    by_group: dict[int, list[CellRow]] = defaultdict(list)
    for row in rows:
        by_group[row.group_id].append(row)
    if not by_group:
        return []
    names = {
        oid: (code, name)
        for oid, code, name in session.execute(
            select(Organization.id, Organization.code, Organization.name).where(
                Organization.id.in_(list(by_group))
            )
        )
    }
    groups = []
    for gid, members in by_group.items():
        code, name = names[gid]
        fig = Figures()
        for row in members:
            fig.add(row.figures)
        groups.append(Group(str(gid), code, name, name, [r.id for r in members], fig))
    return sorted(groups, key=lambda g: g.code)
