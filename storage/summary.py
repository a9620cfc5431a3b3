"""The Khối's summary: who sees what, and the figures of a period over that scope.

Scope follows the role (DOMAIN.md, "Organizations and people"): a leader on the top organization
sees every cell; a grassroots party committee's secretary the cells of that committee; a cell's
secretary, deputy, committee member or the superior committee member who follows it, that cell.
A :class:`Subject` narrows the scope (one organization type, one party committee, one cell) and
is checked against the scope every time, so button data is never trusted.

Figures come from SQL aggregates: the per-cell meeting figures of :mod:`storage.figures` (the
shared query layer) plus the aggregates below (thematic meetings by quarter, reviews, candidates,
reports, month-by-month figures). Nothing is counted by loading rows into Python; Python only
adds up per-cell rows into totals and groups.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from domain import access
from domain.errors import ChiboError, NotFound, NotInScope
from domain.i18n import N_
from domain.rules import reviews as review_rules
from domain.rules.attendance import attendance_rate, three_months_rule
from domain.rules.deadlines import Standing, period_standing
from domain.rules.membership import counting_day
from domain.rules.periods import Period
from domain.rules.reviews import report_state
from storage import access as access_facts
from storage import figures, membership, obligations, reports, reviews
from storage.audit import Actor, record
from storage.candidates_summary import Pipeline, pipeline
from storage.doc_names import Signer, doc_names
from storage.models import (
    Candidate,
    CandidateConsideration,
    Member,
    MemberPlacement,
    MemberStatus,
    Organization,
    OrgKind,
    OrgType,
    Report,
    ReportStatus,
    Review,
    ReviewOutcome,
    Role,
    SignGroup,
    StudyModel,
)
from storage.orgs import descendants
from storage.seed import get_setting

DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RULE_SOURCE_REGULAR = "Điều lệ Đảng; Kế hoạch 12-KH/ĐUK"
RULE_SOURCE_THEMATIC = "Hướng dẫn của Trung ương về sinh hoạt chi bộ"
RULE_SOURCE_REVIEWS = "Quy định 4842-QĐ/TU, khoản 3 điều 4"
RULE_SOURCE_MODEL = "Kế hoạch 12-KH/ĐUK (mô hình học tập và làm theo Bác)"

#: Candidate stages in pipeline order (DOMAIN.md, "Candidates and admission"): code → msgid.
CANDIDATE_STAGES: dict[str, str] = {
    "sympathizer": N_("sympathizer"),
    "class_done": N_("awareness class done"),
    "mentors": N_("mentors assigned"),
    "application": N_("application filed"),
    "background_check": N_("background check"),
    "cell_resolution": N_("cell resolution"),
    "decision": N_("admission decision"),
    "probation": N_("probationary member"),
    "full_member": N_("full member"),
    "withdrawn": N_("withdrawn"),
    "not_admitted": N_("not admitted"),
    "expired": N_("file expired"),
    "not_recognized": N_("not recognized as full member"),
}
#: Priority groups named by the plan: code → msgid.
PRIORITY_GROUPS: dict[str, str] = {
    "women": N_("women"),
    "khmer": N_("Khmer"),
    "ethnic_minority": N_("other ethnic minorities"),
    "youth_union": N_("Youth Union members"),
    "association": N_("association members"),
    "worker": N_("workers and employees"),
    "private_owner": N_("private enterprise owners"),
}


class FuturePeriod(ChiboError):
    """The period starts after today: there is nothing to summarize yet."""

    message = N_("The period {period} has not started yet (today is {today}).")


# --- Scope -------------------------------------------------------------------------------------


#: What a person may see (decided by :func:`domain.access.summary_scope`).
Scope = access.Scope


def scope_of(session: Session, person_id: int, *, on: date) -> Scope:
    """The scope of a person's active roles, read in this session; :class:`NotAllowed` when
    they hold none (see :func:`domain.access.summary_scope`)."""
    return access.summary_scope(access_facts.holder(session, person_id), on=on)


def scope_under(session: Session, roots: Iterable[int], *, on: date) -> Scope:
    """The scope of everything at or below ``roots`` (the CLI's ``--org``)."""
    root_set = set(roots)
    return access.scope_over(access_facts.subtree(session, root_set), root_set, on=on)


@dataclass(frozen=True)
class Subject:
    """What part of the scope a screen shows: all of it, one organization, or one type."""

    kind: str = "all"  # "all" | "org" | "type"
    org_id: int | None = None
    type_code: str | None = None

    @property
    def key(self) -> str:
        """Short text form used in callback data: ``-``, ``o42``, ``thanh_chinh``."""
        if self.kind == "org":
            return f"o{self.org_id}"
        if self.kind == "type":
            return f"t{self.type_code}"
        return "-"

    @classmethod
    def parse(cls, text: str) -> Subject:
        """Inverse of :attr:`key`; raises :class:`ValueError` on anything else."""
        if text == "-":
            return cls()
        if text.startswith("o") and text[1:].isdigit():
            return cls("org", org_id=int(text[1:]))
        if text.startswith("t") and len(text) > 1 and text[1:].replace("_", "").isalnum():
            return cls("type", type_code=text[1:])
        raise ValueError(text)


@dataclass(frozen=True)
class SubjectInfo:
    """The subject resolved against the scope: its cells and how to name it."""

    subject: Subject
    cell_ids: tuple[int, ...]
    org_ids: frozenset[int] = frozenset()  # every organization the subject covers
    org_code: str | None = None
    org_name: str | None = None
    org_kind: OrgKind | None = None
    type_name_vi: str | None = None
    type_name_en: str | None = None


def resolve_subject(session: Session, scope: Scope, subject: Subject) -> SubjectInfo:
    """Narrow ``scope`` to ``subject``; :class:`NotInScope` if it reaches outside the scope."""
    if subject.kind == "org":
        assert subject.org_id is not None
        if not scope.allows(subject.org_id):
            raise NotInScope()
        org = session.get(Organization, subject.org_id)
        if org is None:
            raise NotFound()
        below = frozenset(descendants(session, {org.id}))
        cells = tuple(c for c in scope.cell_ids if c in below)
        return SubjectInfo(
            subject, cells, below, org_code=org.code, org_name=org.name, org_kind=org.kind
        )
    if subject.kind == "type":
        org_type = session.get(OrgType, subject.type_code)
        if org_type is None:
            raise NotFound()
        types = _cell_types(session, scope.reachable)
        orgs = frozenset(o for o in scope.reachable if types.get(o) == org_type.code)
        cells = tuple(c for c in scope.cell_ids if c in orgs)
        return SubjectInfo(
            subject,
            cells,
            orgs,
            type_name_vi=org_type.name_vi,
            type_name_en=org_type.name_en,
        )
    label_org = None
    if len(scope.roots) == 1:
        label_org = session.get(Organization, next(iter(scope.roots)))
    if label_org is not None:
        return SubjectInfo(
            subject,
            scope.cell_ids,
            scope.reachable,
            org_code=label_org.code,
            org_name=label_org.name,
            org_kind=label_org.kind,
        )
    return SubjectInfo(subject, scope.cell_ids, scope.reachable)


def _cell_types(session: Session, cell_ids: Iterable[int]) -> dict[int, str | None]:
    """Cell id → its organization type (its own, else its parent's)."""
    ids = list(cell_ids)
    if not ids:
        return {}
    parent = aliased(Organization)
    rows = session.execute(
        select(Organization.id, func.coalesce(Organization.org_type, parent.org_type))
        .outerjoin(parent, parent.id == Organization.parent_id)
        .where(Organization.id.in_(ids))
    ).all()
    return {cid: code for cid, code in rows}


def summary_for(
    session: Session,
    *,
    person_id: int,
    period: Period,
    subject: Subject,
    today: date,
    now: datetime,
    kinds: Iterable[reports.ReportKind],
    tz: ZoneInfo = DEFAULT_TZ,
) -> tuple[Scope, Summary]:
    """The use case behind /summary: the person's scope (from their roles *now*) and the
    summary of ``subject`` for ``period`` (``kinds``: the reports cells owe, see
    :data:`storage.report_kinds.KINDS`). Raises :class:`NotAllowed` (no role left),
    :class:`NotInScope` (a subject outside the scope) or :class:`FuturePeriod`."""
    scope = scope_of(session, person_id, on=min(period.end, today))
    summary = build_summary(
        session,
        scope=scope,
        subject=subject,
        period=period,
        today=today,
        now=now,
        kinds=kinds,
        tz=tz,
    )
    return scope, summary


# --- Figures -----------------------------------------------------------------------------------


@dataclass
class Figures:
    """Figures that add up from cells to groups to the scope's total."""

    cells: int = 0
    members: int = 0  # on the roll: full, probationary, exempt
    required_members: int = 0  # full + probationary (exempt members are not counted)
    regular_due: int = 0  # cell-months
    regular_held: int = 0  # cell-months with a regular (or combined) meeting
    regular_in_progress: int = 0  # cell-months still running without a meeting (not due yet)
    cells_missing_regular: int = 0
    meetings: int = 0  # every live meeting
    superior_visits: int = 0  # meetings a superior committee member attended
    present: int = 0
    required: int = 0
    excused: int = 0
    unexcused: int = 0
    flagged: int = 0  # members at the flag level of the three-months rule
    warned: int = 0  # members at the warning level
    thematic_due: int = 0  # cell-quarters
    thematic_held: int = 0
    thematic_in_progress: int = 0  # cell-quarters still running without one (not due yet)
    cells_missing_thematic: int = 0
    reviews_due: int = 0  # member-months (required members × months)
    reviews_done: int = 0
    new_signs: dict[str, int] = field(default_factory=dict)  # sign group → reviews
    considerations_due: int = 0  # cell-months of sympathizer-list consideration
    considerations_done: int = 0
    candidates: int = 0
    reports_due: int = 0
    reports_on_time: int = 0
    reports_late: int = 0
    reports_missing: int = 0
    reports_pending: int = 0  # due today, not yet submitted (not due yet)
    cells_without_model: int = 0

    @property
    def attendance_rate(self) -> float | None:
        """Present ÷ required at regular meetings (None when nobody was required)."""
        return attendance_rate(self.present, self.required)

    @property
    def new_signs_total(self) -> int:
        """New signs of degradation found, all groups."""
        return sum(self.new_signs.values())

    def add(self, other: Figures) -> None:
        """Add ``other`` into these figures."""
        for name, value in vars(other).items():
            if name == "new_signs":
                for group, n in value.items():
                    self.new_signs[group] = self.new_signs.get(group, 0) + n
            else:
                setattr(self, name, getattr(self, name) + value)


@dataclass
class CellRow:
    """One cell's line of the summary."""

    id: int
    code: str
    name: str
    kind: OrgKind
    type_code: str | None
    group_id: int  # its grassroots party organization (itself for a chi bộ cơ sở)
    months_due: list[tuple[int, int]]
    months_held: list[tuple[int, int]]
    quarters_due: list[tuple[int, int]]
    quarters_held: list[tuple[int, int]]
    last_held: date | None
    has_model: bool
    figures: Figures
    # Months / quarters still running without their meeting: "chưa đến hạn", not missing.
    months_in_progress: list[tuple[int, int]] = field(default_factory=list)
    quarters_in_progress: list[tuple[int, int]] = field(default_factory=list)

    @property
    def missing_months(self) -> list[tuple[int, int]]:
        """Months due without a regular meeting."""
        held = set(self.months_held)
        return [m for m in self.months_due if m not in held]

    @property
    def missing_quarters(self) -> list[tuple[int, int]]:
        """Quarters due without a thematic meeting."""
        held = set(self.quarters_held)
        return [q for q in self.quarters_due if q not in held]


@dataclass
class Group:
    """A breakdown line: an organization type, or a grassroots party organization."""

    key: str  # the type code, or the organization id as text
    code: str  # the type code, or the organization code
    name_vi: str
    name_en: str
    cell_ids: list[int]
    figures: Figures

    def name(self, locale: str) -> str:
        """The name in ``locale``."""
        return self.name_en if locale == "en" else self.name_vi


@dataclass(frozen=True)
class MemberLine:
    """A member behind a figure (three-months rule, new sign of degradation)."""

    member_id: int
    name: str
    cell_id: int
    cell_code: str
    months: tuple[int, ...] = ()
    sign_group: str | None = None
    level: int = 0


@dataclass(frozen=True)
class ReportLine:
    """One report owed by an organization in the period."""

    org_id: int
    org_code: str
    org_name: str
    kind: str
    period: str
    due_on: date
    state: str  # "on_time" | "late" | "missing" | "pending"
    submitted_on: date | None


@dataclass
class CandidateFigures:
    """Candidates by stage and priority group; ``tracked`` is False while nothing is recorded."""

    tracked: bool = False
    by_stage: dict[str, int] = field(default_factory=dict)
    by_group: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    """The figures of one period over one subject of a scope."""

    period: Period
    today: date
    upto: date  # the last day counted: the period's end, or today if earlier
    months: list[tuple[int, int]]  # months of the period elapsed up to today
    quarters: list[tuple[int, int]]  # quarters counted for thematic meetings
    subject: SubjectInfo
    scope_sees_all: bool
    cells: list[CellRow]
    total: Figures
    by_type: list[Group]
    by_committee: list[Group]
    flagged: list[MemberLine]
    warned: list[MemberLine]
    new_signs: list[MemberLine]
    candidates: CandidateFigures
    reports: list[ReportLine]
    has_data: bool
    generated_at: datetime
    rule_sources: dict[str, str] = field(default_factory=dict)
    # Each follower assigned to a cell and their visits in the period's year up to ``upto``.
    assignments: list[figures.AssignmentVisits] = field(default_factory=list)
    # The admission pipeline's funnel, enterprises and overdue steps (storage.candidates_summary).
    pipeline: Pipeline | None = None

    @property
    def in_progress(self) -> bool:
        """The period is not over yet: figures are "so far"."""
        return self.upto < self.period.end

    def cell(self, cell_id: int) -> CellRow | None:
        """The row of one cell."""
        return next((c for c in self.cells if c.id == cell_id), None)

    @property
    def cells_missing_regular(self) -> list[CellRow]:
        """Cells with at least one month without a regular meeting."""
        return [c for c in self.cells if c.missing_months]

    @property
    def cells_missing_thematic(self) -> list[CellRow]:
        """Cells with a quarter without a thematic meeting."""
        return [c for c in self.cells if c.missing_quarters]

    @property
    def cells_without_model(self) -> list[CellRow]:
        """Cells without a Hồ Chí Minh study model registered for the year."""
        return [c for c in self.cells if not c.has_model]


@dataclass
class _OrgInfo:
    id: int
    code: str
    name: str
    kind: OrgKind
    type_code: str | None
    group_id: int
    active_from: date | None
    active_to: date | None
    usual_day: int | None = None


def _org_info(session: Session, cell_ids: list[int]) -> dict[int, _OrgInfo]:
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
        out[oid] = _OrgInfo(oid, code, name, kind, type_code, group, a_from, a_to, usual)
    return out


def _usual_date(ym: tuple[int, int], usual_day: int | None) -> date:
    """The cell's usual meeting day in a month (its last day when it has none)."""
    last = _month_bounds(*ym)[1]
    return last if usual_day is None else last.replace(day=min(max(usual_day, 1), last.day))


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    p = Period("month", year, month)
    return p.start, p.end


def _active_in(info: _OrgInfo, start: date, end: date) -> bool:
    return (info.active_from is None or info.active_from <= end) and (
        info.active_to is None or info.active_to >= start
    )


def _quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
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


def build_summary(
    session: Session,
    *,
    scope: Scope,
    subject: Subject,
    period: Period,
    today: date,
    kinds: Iterable[reports.ReportKind],
    now: datetime | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> Summary:
    """Compute the summary of ``period`` for ``subject`` within ``scope``, as of ``today``;
    ``kinds`` are the reports cells owe (:data:`storage.report_kinds.KINDS`).

    Raises :class:`FuturePeriod` when the period starts after today and :class:`NotInScope`
    when the subject lies outside the scope.
    """
    if period.start > today:
        raise FuturePeriod(period=period.key, today=today.strftime("%d/%m/%Y"))
    info = resolve_subject(session, scope, subject)
    upto = min(period.end, today)
    months = elapsed_months(period, today)
    quarters = counted_quarters(period, today)
    cell_ids = list(info.cell_ids)
    orgs = _org_info(session, cell_ids)
    grace = obligations.meeting_grace_days(session)
    rule = get_setting(session, "three_months_rule")
    warn_at, flag_at = int(rule.get("warn_at", 2)), int(rule.get("flag_at", 3))

    meeting = figures.meeting_figures(session, cell_ids, period.start, upto)
    roll = figures.member_counts(session, cell_ids)
    with_model = figures.cells_with_study_model(session, cell_ids, period.year)
    thematic = figures.thematic_by_quarter(session, cell_ids, period.year)
    review_figs = review_counts(session, cell_ids, months)
    on_roll = roll_counts(session, cell_ids, months)
    considered = _consideration_counts(session, cell_ids, period.year, months)
    candidates_by_cell = _candidate_counts(session, cell_ids)

    # The three-months rule counts the calendar year up to the end of the period.
    absent = figures.unexcused_months(session, cell_ids, period.year)
    verdicts = {
        mid: three_months_rule(
            [m for m in ms if m <= upto.month], warn_at=warn_at, flag_at=flag_at
        )
        for mid, ms in absent.items()
    }
    verdicts = {mid: v for mid, v in verdicts.items() if v.level > 0}
    member_lines = _member_lines(session, list(verdicts), orgs)
    flagged = [
        replace(line, months=verdicts[line.member_id].months, level=2)
        for line in member_lines
        if verdicts[line.member_id].level >= 2
    ]
    warned = [
        replace(line, months=verdicts[line.member_id].months, level=1)
        for line in member_lines
        if verdicts[line.member_id].level == 1
    ]
    flagged_by_cell: dict[int, int] = defaultdict(int)
    warned_by_cell: dict[int, int] = defaultdict(int)
    for line in flagged:
        flagged_by_cell[line.cell_id] += 1
    for line in warned:
        warned_by_cell[line.cell_id] += 1
    new_signs = _new_sign_lines(session, cell_ids, period.year, months, orgs)

    rows: list[CellRow] = []
    for cid in cell_ids:
        org = orgs[cid]
        fig = meeting[cid]
        counts = roll.get(cid, {})
        required_members = sum(n for s, n in counts.items() if s.must_attend)
        months_owed = [ym for ym in months if _active_in(org, *_month_bounds(*ym))]
        # A month still running without its meeting is in progress, not missing.
        months_running = [
            ym
            for ym in months_owed
            if period_standing(
                ym in fig.regular_months,
                _month_bounds(*ym)[1],
                today,
                due=_usual_date(ym, org.usual_day) if grace is not None else None,
                grace_days=grace,
            )
            is Standing.IN_PROGRESS
        ]
        months_due = [ym for ym in months_owed if ym not in months_running]
        months_held = [ym for ym in months_due if ym in fig.regular_months]
        held_q = {(period.year, q) for q, n in thematic.get(cid, {}).items() if n}
        quarters_owed = [q for q in quarters if _active_in(org, *_quarter_bounds(*q))]
        quarters_running = [
            q
            for q in quarters_owed
            if period_standing(q in held_q, _quarter_bounds(*q)[1], today) is Standing.IN_PROGRESS
        ]
        quarters_due = [q for q in quarters_owed if q not in quarters_running]
        quarters_held = [q for q in quarters_due if q in held_q]
        reviewed, new_signs_by_group = review_figs.get(cid, (0, {}))
        f = Figures(
            cells=1,
            members=sum(n for s, n in counts.items() if s.is_active),
            required_members=required_members,
            regular_due=len(months_due),
            regular_held=len(months_held),
            regular_in_progress=len(months_running),
            cells_missing_regular=int(len(months_held) < len(months_due)),
            meetings=fig.meetings,
            superior_visits=fig.superior_visits,
            present=fig.present,
            required=fig.required,
            excused=fig.excused,
            unexcused=fig.unexcused,
            flagged=flagged_by_cell.get(cid, 0),
            warned=warned_by_cell.get(cid, 0),
            thematic_due=len(quarters_due),
            thematic_held=len(quarters_held),
            thematic_in_progress=len(quarters_running),
            cells_missing_thematic=int(len(quarters_held) < len(quarters_due)),
            reviews_due=sum(on_roll.get(cid, {}).get(ym, 0) for ym in months_due),
            reviews_done=reviewed,
            new_signs=new_signs_by_group,
            considerations_due=len(months_due),
            considerations_done=considered.get(cid, 0),
            candidates=sum(candidates_by_cell.get(cid, {}).values()),
            cells_without_model=int(cid not in with_model),
        )
        rows.append(
            CellRow(
                id=cid,
                code=org.code,
                name=org.name,
                kind=org.kind,
                type_code=org.type_code,
                group_id=org.group_id,
                months_due=months_due,
                months_held=months_held,
                quarters_due=quarters_due,
                quarters_held=quarters_held,
                months_in_progress=months_running,
                quarters_in_progress=quarters_running,
                last_held=fig.last_held,
                has_model=cid in with_model,
                figures=f,
            )
        )
    rows.sort(key=lambda r: r.code)

    report_lines = _report_lines(session, rows, kinds, period, upto, today, tz)
    report_figs = _report_figures(report_lines)
    for row in rows:
        row.figures.add(report_figs.get(row.id, Figures()))

    by_type = _groups_by_type(session, rows)
    by_committee = _groups_by_committee(session, rows)
    total = Figures()
    for row in rows:
        total.add(row.figures)

    cand = CandidateFigures()
    stage_totals: dict[str, int] = defaultdict(int)
    for per_stage in candidates_by_cell.values():
        for stage, n in per_stage.items():
            stage_totals[stage] += n
    cand.by_stage = dict(sorted(stage_totals.items(), key=lambda kv: _stage_order(kv[0])))
    cand.by_group = _candidate_groups(session, cell_ids)
    cand.tracked = bool(stage_totals) or total.considerations_done > 0

    has_data = bool(
        total.meetings
        or total.reviews_done
        or total.considerations_done
        or any(r.state in ("on_time", "late") for r in report_lines)
    )
    return Summary(
        period=period,
        today=today,
        upto=upto,
        months=months,
        quarters=quarters,
        subject=info,
        scope_sees_all=scope.sees_all,
        cells=rows,
        total=total,
        by_type=by_type,
        by_committee=by_committee,
        flagged=flagged,
        warned=warned,
        new_signs=new_signs,
        candidates=cand,
        pipeline=pipeline(session, cell_ids, today=today, with_enterprises=scope.sees_all),
        reports=report_lines,
        has_data=has_data,
        generated_at=now or datetime.now(UTC),
        assignments=figures.assignment_visits(session, cell_ids, date(period.year, 1, 1), upto),
        rule_sources={
            "regular": RULE_SOURCE_REGULAR,
            "thematic": RULE_SOURCE_THEMATIC,
            "three_months": "Điều lệ Đảng; Quy định thi hành Điều lệ Đảng (xóa tên đảng viên)",
            "reviews": RULE_SOURCE_REVIEWS,
            "model": RULE_SOURCE_MODEL,
        },
    )


def _stage_order(stage: str) -> tuple[int, str]:
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


def _consideration_counts(
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


def _candidate_counts(session: Session, cell_ids: list[int]) -> dict[int, dict[str, int]]:
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


def _candidate_groups(session: Session, cell_ids: list[int]) -> dict[str, int]:
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


def _member_lines(
    session: Session, member_ids: list[int], orgs: dict[int, _OrgInfo]
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


def _new_sign_lines(
    session: Session,
    cell_ids: list[int],
    year: int,
    months: list[tuple[int, int]],
    orgs: dict[int, _OrgInfo],
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


# --- Reports -----------------------------------------------------------------------------------


def report_obligations(
    session: Session, kinds: Iterable[reports.ReportKind], period: Period, upto: date
) -> list[tuple[str, Period, date]]:
    """(kind code, report period, due date) of the registered report kinds falling due between
    the period's start and ``upto`` (the due dates follow the admin's settings)."""
    out: list[tuple[str, Period, date]] = []
    for kind in kinds:
        candidates: list[Period] = []
        for year in (period.year - 1, period.year):
            if kind.schedule.period_kind == "quarter":
                candidates += [Period("quarter", year, q) for q in range(1, 5)]
            else:
                candidates.append(Period("year", year))
        for report_period in candidates:
            due = reports.due_on(session, kind, report_period)
            if period.start <= due <= upto:
                out.append((kind.code, report_period, due))
    return sorted(out, key=lambda o: (o[2], o[0]))


def _report_lines(
    session: Session,
    rows: list[CellRow],
    kinds: Iterable[reports.ReportKind],
    period: Period,
    upto: date,
    today: date,
    tz: ZoneInfo,
) -> list[ReportLine]:
    """Each cell's standing for each report that fell due in the period, by the reports' own
    rule (:func:`domain.rules.reviews.report_state`: on time, late, missing, or not due yet when
    due today). One query for every kind and period, like :func:`storage.reports.status_rows`
    does for one."""
    if not rows:
        return []
    # Reports due later in the period count only once submitted (early): a report sent before
    # its due date shows as submitted, and one not yet due is not owed yet.
    obligations = report_obligations(session, kinds, period, period.end)
    if not obligations:
        return []
    found = {
        (org_id, kind, key): (status, submitted_at)
        for org_id, kind, key, status, submitted_at in session.execute(
            select(
                Report.org_id, Report.kind, Report.period, Report.status, Report.submitted_at
            ).where(
                Report.org_id.in_([r.id for r in rows]),
                Report.kind.in_(sorted({code for code, _p, _d in obligations})),
                Report.period.in_(sorted({p.key for _c, p, _d in obligations})),
            )
        )
    }
    lines = []
    for row in rows:
        for code, report_period, due in obligations:
            _status, submitted_at = found.get((row.id, code, report_period.key), (None, None))
            submitted_on = submitted_at.astimezone(tz).date() if submitted_at else None
            if due > upto and submitted_on is None:
                continue
            state = report_state(submitted_on, due, today)
            lines.append(
                ReportLine(
                    row.id,
                    row.code,
                    row.name,
                    code,
                    report_period.key,
                    due,
                    state.value,
                    submitted_on,
                )
            )
    return sorted(lines, key=lambda x: (x.org_code, x.due_on, x.kind))


def _report_figures(lines: list[ReportLine]) -> dict[int, Figures]:
    out: dict[int, Figures] = defaultdict(Figures)
    for line in lines:
        f = out[line.org_id]
        f.reports_due += 1
        if line.state == "on_time":
            f.reports_on_time += 1
        elif line.state == "late":
            f.reports_late += 1
        elif line.state == "missing":
            f.reports_missing += 1
        else:
            f.reports_pending += 1
    return out


# --- Breakdowns --------------------------------------------------------------------------------


def _groups_by_type(session: Session, rows: list[CellRow]) -> list[Group]:
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


def _groups_by_committee(session: Session, rows: list[CellRow]) -> list[Group]:
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
        first, last = _month_bounds(y, m)
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


# --- One cell, month by month ------------------------------------------------------------------


@dataclass
class MonthLine:
    """One month of one cell: its meetings (from :func:`storage.figures.monthly_figures`) and
    its commitment reviews."""

    year: int
    month: int
    due: bool  # the cell was active that month
    meeting: figures.MonthFigures
    to_review: int = 0
    reviewed: int = 0
    new_signs: int = 0
    in_progress: bool = False  # the month is still running without its meeting (not due yet)


@dataclass
class CellYear:
    """One cell's months of a year, with its figures and roll."""

    cell: CellRow
    year: int
    months: list[MonthLine]
    members: dict[MemberStatus, int]


def cell_year(
    session: Session,
    *,
    scope: Scope,
    cell_id: int,
    year: int,
    today: date,
    kinds: Iterable[reports.ReportKind],
) -> CellYear:
    """One cell month by month over ``year`` up to today; :class:`NotInScope` outside scope."""
    if cell_id not in scope.cell_ids:
        raise NotInScope()
    period = Period("year", year)
    if period.start > today:
        raise FuturePeriod(period=period.key, today=today.strftime("%d/%m/%Y"))
    summary = build_summary(
        session,
        scope=scope,
        subject=Subject("org", org_id=cell_id),
        period=period,
        today=today,
        kinds=kinds,
    )
    row = summary.cell(cell_id)
    if row is None:
        raise NotFound()
    months = summary.months
    found = figures.monthly_figures(session, [cell_id], period.start, summary.upto)[cell_id]
    outcomes = reviews.outcome_counts(session, cell_ids=[cell_id], months=months)[cell_id]
    roll = roll_counts(session, [cell_id], months).get(cell_id, {})
    running = set(row.months_in_progress)
    due = set(row.months_due) | running
    lines = []
    for ym in months:
        done = outcomes.get(ym, {})
        lines.append(
            MonthLine(
                ym[0],
                ym[1],
                ym in due,
                found.get(ym) or figures.MonthFigures(),
                to_review=roll.get(ym, 0) if ym in due else 0,
                reviewed=sum(done.values()),
                new_signs=done.get(ReviewOutcome.NEW_SIGN, 0),
                in_progress=ym in running,
            )
        )
    return CellYear(row, year, lines, figures.member_counts(session, [cell_id])[cell_id])


# --- The chart ---------------------------------------------------------------------------------


@dataclass
class Series:
    """One organization type's line on the chart: per month of the year."""

    type_code: str
    name_vi: str
    name_en: str
    held: list[int]  # cells with a regular meeting
    due: list[int]  # cells expected to meet
    present: list[int]
    required: list[int]

    def name(self, locale: str) -> str:
        """The name in ``locale``."""
        return self.name_en if locale == "en" else self.name_vi

    def rates(self) -> list[float | None]:
        """Attendance rate per month."""
        return [attendance_rate(p, r) for p, r in zip(self.present, self.required, strict=True)]


@dataclass
class ChartData:
    """Meetings held and attendance per month of a year, by organization type."""

    year: int
    months: list[int]  # months of the year that have started
    series: list[Series]


def chart_data(session: Session, summary: Summary) -> ChartData:
    """The month-by-month series of the summary's cells over the summary's year."""
    year = summary.period.year
    period = Period("year", year)
    upto = min(period.end, summary.today)
    months = [m for y, m in elapsed_months(period, summary.today)]
    cell_ids = [c.id for c in summary.cells]
    found = figures.monthly_figures(session, cell_ids, period.start, upto)
    orgs = _org_info(session, cell_ids)
    series: list[Series] = []
    for group in summary.by_type:
        if not group.cell_ids:
            continue
        s = Series(
            group.code or "-",
            group.name_vi,
            group.name_en,
            [0] * len(months),
            [0] * len(months),
            [0] * len(months),
            [0] * len(months),
        )
        for cid in group.cell_ids:
            for i, m in enumerate(months):
                if not _active_in(orgs[cid], *_month_bounds(year, m)):
                    continue
                s.due[i] += 1
                month = found[cid].get((year, m))
                if month is not None:
                    s.held[i] += int(month.regular_held)
                    s.present[i] += month.present
                    s.required[i] += month.required
        series.append(s)
    return ChartData(year, months, series)


# --- The annual report on carrying out the plan -----------------------------------------------

RULE_SOURCE_PLAN = "Kế hoạch 12-KH/ĐUK, mục III.1"
PLAN_KIND = "plan_annual"


def draft_plan_annual(session: Session, ctx: reports.DraftContext) -> dict[str, Any]:
    """Figures of one cell's annual report on carrying out the plan (Kế hoạch 12-KH/ĐUK,
    III.1), drafted from the records of the window the report covers (by default the 12 months
    ending on 15 November) up to today; the same machinery as the remedy reports snapshots them
    when the cell submits.
    """
    cell = ctx.org.id
    upto = min(ctx.end, ctx.today)
    covered = review_rules.months_in_window(ctx.start, ctx.end)
    started = [ym for ym in covered if date(ym[0], ym[1], 1) <= upto]
    start = ctx.start
    meet = figures.meeting_figures(session, [cell], start, upto)[cell]
    monthly = figures.monthly_figures(session, [cell], start, upto)[cell] if started else {}
    thematic_quarters = sorted(
        {(y, (m - 1) // 3 + 1) for (y, m), f in monthly.items() if f.thematic}
    )
    quarters = sorted({(y, (m - 1) // 3 + 1) for y, m in started})
    done = reviews.outcome_counts(session, cell_ids=[cell], months=started)[cell]
    by_group = reviews.sign_counts(session, cell_ids=[cell], months=started)[cell]
    to_review = roll_counts(session, [cell], started).get(cell, {})
    rule = get_setting(session, "three_months_rule")
    absent = figures.unexcused_months(session, [cell], ctx.period.year)
    verdicts = {
        mid: three_months_rule(
            [m for m in ms if date(ctx.period.year, m, 1) <= upto],
            warn_at=int(rule.get("warn_at", 2)),
            flag_at=int(rule.get("flag_at", 3)),
        )
        for mid, ms in absent.items()
    }
    flagged_ids = [mid for mid, v in verdicts.items() if v.level >= 2]
    names = dict(
        session.execute(select(Member.id, Member.full_name).where(Member.id.in_(flagged_ids)))
        .tuples()
        .all()
    )
    models = list(
        session.scalars(
            select(StudyModel.title).where(
                StudyModel.org_id == cell,
                StudyModel.year == ctx.period.year,
                StudyModel.deleted_at.is_(None),
            )
        )
    )
    considered: int | None = 0
    if started:
        idx = CandidateConsideration.year * 12 + CandidateConsideration.month
        considered = session.scalar(
            select(func.count(CandidateConsideration.id)).where(
                CandidateConsideration.org_id == cell,
                CandidateConsideration.year >= started[0][0],
                CandidateConsideration.year <= started[-1][0],
                idx >= started[0][0] * 12 + started[0][1],
                idx <= started[-1][0] * 12 + started[-1][1],
            )
        )
    stages = _candidate_counts(session, [cell]).get(cell, {})
    held = sorted(ym for ym in meet.regular_months if ym in set(started))
    return {
        "kind": ctx.kind.code,
        "period": ctx.period.key,
        "start": ctx.start.isoformat(),
        "end": ctx.end.isoformat(),
        "due_on": ctx.due_on.isoformat(),
        "drafted_on": ctx.today.isoformat(),
        "rule_source": ctx.kind.rule_source,
        "months_covered": len(covered),
        "months_started": len(started),
        "regular_held": len(held),
        "months_missing": [f"{y}-{m:02d}" for y, m in started if (y, m) not in set(held)],
        "thematic_quarters": len(thematic_quarters),
        "quarters": len(quarters),
        "meetings": meet.meetings,
        "superior_visits": meet.superior_visits,
        "present": meet.present,
        "required": meet.required,
        "excused": meet.excused,
        "unexcused": meet.unexcused,
        "flagged": [
            {"name": names.get(mid, ""), "months": list(verdicts[mid].months)}
            for mid in sorted(flagged_ids, key=lambda i: names.get(i, ""))
        ],
        "warned": sum(1 for v in verdicts.values() if v.level == 1),
        "reviews_due": sum(to_review.get(ym, 0) for ym in started),
        "reviews_done": sum(sum(c.values()) for c in done.values()),
        "new_signs": {g.value: by_group.get(g, 0) for g in SignGroup},
        "study_models": models,
        "considerations": int(considered or 0),
        "candidates": dict(sorted(stages.items(), key=lambda kv: _stage_order(kv[0]))),
    }


PLAN_ANNUAL = reports.ReportKind(
    code=PLAN_KIND,
    title=N_("Annual report on carrying out the plan"),
    schedule=reports.ANNUAL,
    recipient_roles=frozenset({Role.ORGANIZATION}),  # to the Standing Board via it
    draft=draft_plan_annual,
    rule_source=RULE_SOURCE_PLAN,
    notify_msgid=N_(
        "📥 {cell} submitted its annual report on carrying out the plan for {year} on {date}."
    ),
    renotify_msgid=N_(
        "📥 {cell} submitted a corrected annual report on carrying out the plan for {year} "
        "on {date}."
    ),
    # TRANSLATORS: short name of the annual plan report on a button, before the period
    short=N_("Plan"),
)


#: The figures of the plan report that add up across cells in the roll-up.
PLAN_SUMS = (
    "months_started",
    "regular_held",
    "thematic_quarters",
    "quarters",
    "meetings",
    "superior_visits",
    "present",
    "required",
    "excused",
    "unexcused",
    "warned",
    "reviews_due",
    "reviews_done",
    "considerations",
)


@dataclass
class PlanRollup:
    """The Khối's roll-up of the submitted annual plan reports of a year."""

    year: int
    due_on: date
    cells: int
    on_time: list[tuple[str, str]]  # (code, name)
    late: list[tuple[str, str]]
    missing: list[tuple[str, str]]
    not_due: list[tuple[str, str]]
    totals: dict[str, int]
    new_signs: dict[str, int]
    flagged: int
    with_model: int
    today: date

    @property
    def submitted(self) -> int:
        """Reports submitted (on time or late)."""
        return len(self.on_time) + len(self.late)


def plan_rollup(session: Session, *, scope: Scope, year: int, today: date) -> PlanRollup:
    """Add up the figures the cells in ``scope`` submitted in their plan reports for ``year``
    (the snapshots taken at submission), and list who is on time, late or missing."""
    kind = PLAN_ANNUAL
    period = Period("year", year)
    cells = list(scope.cell_ids)
    rows = reports.status_rows(session, cells, kind, period, today=today)
    states: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        states[row.state.value].append((row.code, row.name))
    snapshots = session.scalars(
        select(Report.figures).where(
            Report.org_id.in_(cells),
            Report.kind == kind.code,
            Report.period == period.key,
            Report.status == ReportStatus.SUBMITTED,
        )
    ).all()
    totals = dict.fromkeys(PLAN_SUMS, 0)
    signs = {g.value: 0 for g in SignGroup}
    flagged = with_model = 0
    for fig in snapshots:
        for key in PLAN_SUMS:
            totals[key] += int(fig.get(key, 0) or 0)
        for group, n in (fig.get("new_signs") or {}).items():
            signs[group] = signs.get(group, 0) + int(n or 0)
        flagged += len(fig.get("flagged") or [])
        with_model += bool(fig.get("study_models"))
    return PlanRollup(
        year=year,
        due_on=reports.due_on(session, kind, period),
        cells=len(cells),
        on_time=states["on_time"],
        late=states["late"],
        missing=states["missing"],
        not_due=states["not_due"],
        totals=totals,
        new_signs=signs,
        flagged=flagged,
        with_model=with_model,
        today=today,
    )


# --- The Word report's header ------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentMeta:
    """Who issues the summary report, and the names its header and recipients need."""

    kind: OrgKind  # of the issuing organization
    issuer: str  # its committee where there is one (storage.doc_names)
    issuer_short: str
    superior: str
    superior_short: str
    abbreviation: str  # in the number line: ĐUK, ĐU, CB
    place: str
    signer: Signer = Signer.CELL_COMMITTEE


def document_meta(session: Session, summary: Summary, scope: Scope) -> DocumentMeta:
    """The issuing body of a summary report: the committee of the organization it covers (a
    type's summary is issued by the scope's organization), the organization above, the place.

    The top organization's own superior is the setting ``document_superior`` ({"name": …};
    shipped default "Đảng bộ thành phố Cần Thơ"), or "Đảng bộ <place>" when it is emptied.
    """
    org = None
    if summary.subject.org_code:
        org = session.scalar(
            select(Organization).where(Organization.code == summary.subject.org_code)
        )
    if org is None and scope.sees_all:
        org = session.scalar(
            select(Organization).where(Organization.kind == OrgKind.TOP).order_by(Organization.id)
        )
    if org is None and scope.roots:
        org = session.get(Organization, min(scope.roots))
    place_setting = get_setting(session, "document_place")
    place = str(place_setting.get("place", "")) if isinstance(place_setting, dict) else ""
    if org is None:
        return DocumentMeta(OrgKind.TOP, "", "", "", "", "", place)
    names = doc_names(session, org)
    return DocumentMeta(
        kind=org.kind,
        issuer=names.issuer,
        issuer_short=names.issuer,
        superior=names.superior,
        superior_short=names.superior,
        abbreviation=names.doc_code,
        place=place,
        signer=names.signer,
    )


def audit_view(
    session: Session, *, actor: Actor, what: str, summary: Summary, now: datetime
) -> None:
    """Note that someone saw or exported a list naming members (DOMAIN.md, personal data)."""
    record(
        session,
        actor=actor,
        at=now,
        action=what,
        entity="summary",
        entity_id=summary.period.key,
        after={
            "subject": summary.subject.subject.key,
            "cells": len(summary.cells),
            "members_named": len(summary.flagged) + len(summary.warned) + len(summary.new_signs),
        },
    )
