"""The admission pipeline in the summary: the funnel, enterprises by status, overdue steps.

Computed in SQL over the cells of a summary's scope (a GROUP BY per breakdown), plus the list
of names behind each stage (a cell sees its own; leaders see the scope they may read) and the
files whose pipeline deadline has passed (decision, ceremony, full membership), which the
leaders' view shows. Enterprises by status belong to the top organization's offices: they are
counted only for a scope that sees everything.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from domain.rules import candidates as rules
from domain.vocab import CandidateStage, PriorityGroup
from storage import enterprises
from storage.candidates import (
    APPROVAL_DECISION_BREACHED,
    candidate_rules,
    deadline_of,
    work_calendar,
)
from storage.models import Candidate, Organization

V = TypeVar("V")

#: Stages in funnel order (the main path, then the exits).
STAGE_ORDER = [s.value for s in (*rules.PATH, *rules.EXITS)]
GROUP_ORDER = [g.value for g in PriorityGroup]


@dataclass(frozen=True)
class CellKey:
    """Where a cell sits in the breakdowns."""

    code: str
    name: str
    type_code: str | None
    committee_code: str


@dataclass(frozen=True)
class FunnelLine:
    """One candidate behind a figure."""

    candidate_id: int
    name: str
    cell_code: str
    stage: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class OverdueStep:
    """A file whose pipeline deadline has passed."""

    candidate_id: int
    name: str
    cell_code: str
    cell_name: str
    what: str  # decision | ceremony | full_membership | decision_breached (recorded after it)
    due: date
    days: int


@dataclass
class Pipeline:
    """Candidates by stage × cell / organization type / grassroots organization, by stage ×
    priority group, the names behind each stage, enterprises by status, overdue steps."""

    by_cell: dict[str, dict[str, int]] = field(default_factory=dict)
    by_type: dict[str, dict[str, int]] = field(default_factory=dict)
    by_committee: dict[str, dict[str, int]] = field(default_factory=dict)
    groups_by_stage: dict[str, dict[str, int]] = field(default_factory=dict)
    lists: dict[str, list[FunnelLine]] = field(default_factory=dict)
    enterprises: dict[str, int] | None = None
    overdue: list[OverdueStep] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Every file counted (open and closed)."""
        return sum(sum(v.values()) for v in self.by_cell.values())


def _sorted(counts: dict[str, V], order: list[str]) -> dict[str, V]:
    return dict(
        sorted(
            counts.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0])
        )
    )


def cell_keys(session: Session, cell_ids: list[int]) -> dict[int, CellKey]:
    """Code, name, type and grassroots organization of each cell (one query)."""
    if not cell_ids:
        return {}
    parent = select(Organization.id, Organization.code, Organization.kind).subquery()
    rows = session.execute(
        select(
            Organization.id,
            Organization.code,
            Organization.name,
            Organization.org_type,
            parent.c.code,
            parent.c.kind,
        )
        .outerjoin(parent, parent.c.id == Organization.parent_id)
        .where(Organization.id.in_(cell_ids))
    ).all()
    out = {}
    for oid, code, name, type_code, p_code, p_kind in rows:
        # A cell's grassroots organization: its committee, or the grassroots cell itself.
        committee = p_code if p_kind is not None and p_kind.value == "committee" else code
        out[int(oid)] = CellKey(code, name, type_code, committee)
    return out


def pipeline(
    session: Session, cell_ids: list[int], *, today: date, with_enterprises: bool = False
) -> Pipeline:
    """The pipeline figures of the cells ``cell_ids`` as of ``today``."""
    out = Pipeline()
    if with_enterprises:
        out.enterprises = enterprises.by_status(session)
    if not cell_ids:
        return out
    keys = cell_keys(session, cell_ids)
    rows = session.execute(
        select(Candidate.org_id, Candidate.stage, func.count(Candidate.id))
        .where(Candidate.org_id.in_(cell_ids))
        .group_by(Candidate.org_id, Candidate.stage)
    ).all()
    by_cell: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_type: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_committee: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for org_id, stage, n in rows:
        key = keys[int(org_id)]
        by_cell[key.code][stage] += int(n)
        by_type[key.type_code or "-"][stage] += int(n)
        by_committee[key.committee_code][stage] += int(n)
    out.by_cell = {k: _sorted(dict(v), STAGE_ORDER) for k, v in sorted(by_cell.items())}
    out.by_type = {k: _sorted(dict(v), STAGE_ORDER) for k, v in sorted(by_type.items())}
    out.by_committee = {k: _sorted(dict(v), STAGE_ORDER) for k, v in sorted(by_committee.items())}
    # Stage × priority group: grouping by the JSON list's text stays portable.
    as_text = cast(Candidate.priority_groups, String)
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for stage, text, n in session.execute(
        select(Candidate.stage, as_text, func.count(Candidate.id))
        .where(Candidate.org_id.in_(cell_ids))
        .group_by(Candidate.stage, as_text)
    ).all():
        try:
            listed = json.loads(text) if text else []
        except ValueError:
            listed = []
        for group in set(listed if isinstance(listed, list) else []):
            groups[stage][str(group)] += int(n)
    out.groups_by_stage = {
        s: _sorted(dict(v), GROUP_ORDER) for s, v in _sorted(dict(groups), STAGE_ORDER).items()
    }
    cal, rs = work_calendar(session), candidate_rules(session)
    lists: dict[str, list[FunnelLine]] = defaultdict(list)
    for c in session.scalars(
        select(Candidate).where(Candidate.org_id.in_(cell_ids)).order_by(Candidate.name_folded)
    ):
        key = keys[c.org_id]
        lists[c.stage].append(
            FunnelLine(c.id, c.full_name, key.code, c.stage, tuple(c.priority_groups or ()))
        )
        if rules.is_open(CandidateStage(c.stage)):
            if (
                APPROVAL_DECISION_BREACHED in (c.approvals or [])
                and c.resolution_on is not None
                and c.decision_on is not None
            ):
                # A decision recorded after even the extended deadline stays flagged.
                latest = rules.decision_due(c.resolution_on, cal, rs, extended=True)
                out.overdue.append(
                    OverdueStep(
                        c.id,
                        c.full_name,
                        key.code,
                        key.name,
                        "decision_breached",
                        latest,
                        (c.decision_on - latest).days,
                    )
                )
            d = deadline_of(c, today, cal, rs)
            if d is not None and d.overdue:
                out.overdue.append(
                    OverdueStep(
                        c.id, c.full_name, key.code, key.name, d.what, d.due, (today - d.due).days
                    )
                )
    out.lists = {s: lists[s] for s in STAGE_ORDER if s in lists}
    out.overdue.sort(key=lambda o: (o.due, o.cell_code, o.name))
    return out
