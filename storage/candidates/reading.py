"""Candidates: reading a cell's list and a file's card, with the deadline each file waits on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.errors import StaleAction
from domain.rules import candidates as rules
from domain.rules.candidates import CandidateRules
from domain.rules.deadlines import WorkCalendar
from domain.vocab import CandidateStage
from storage.candidates.base import (
    APPROVAL_LATE_CEREMONY,
    _full_member_count,
    candidate_rules,
    work_calendar,
)
from storage.meetings import require_writer
from storage.models import (
    Candidate,
    CandidateConsideration,
    CandidateEvent,
    Gender,
    Member,
)


@dataclass(frozen=True)
class Deadline:
    """A pipeline deadline of one file."""

    what: str  # decision | ceremony | full_membership
    due: date
    overdue: bool


@dataclass(frozen=True)
class CandidateRow:
    """A line of the cell's list and the data of one file's card."""

    id: int
    version: int
    name: str
    gender: Gender | None
    birth_year: int | None
    birth_month: int | None
    unit: str | None
    groups: tuple[str, ...]
    stage: CandidateStage
    stage_since: date
    class_planned_on: date | None
    proposed_on: date | None
    certificate_on: date | None
    introducer_form: str | None
    introducers: tuple[str, ...]
    resolution_on: date | None
    votes: tuple[int, int] | None
    decision_extended: bool
    decision_on: date | None
    received_on: date | None
    ceremony_on: date | None
    probation_end: date | None
    approvals: tuple[str, ...]
    deadline: Deadline | None
    #: The introductions are too old for the cell to consider the file: redo them first.
    introductions_stale: bool = False

    @property
    def open(self) -> bool:
        """Whether the file can still move."""
        return rules.is_open(self.stage)


def deadline_of(
    c: Candidate, today: date, cal: WorkCalendar, rs: CandidateRules
) -> Deadline | None:
    """The pipeline deadline a file waits on now, if any."""
    stage = CandidateStage(c.stage)
    due: date | None = None
    what = ""
    if stage is CandidateStage.CELL_RESOLUTION and c.resolution_on:
        what = "decision"
        due = rules.decision_due(c.resolution_on, cal, rs, extended=c.decision_extended)
    elif stage is CandidateStage.DECISION and c.received_on:
        if APPROVAL_LATE_CEREMONY in (c.approvals or []):
            return None
        what, due = "ceremony", rules.ceremony_due(c.received_on, cal, rs)
    elif stage is CandidateStage.PROBATION and c.ceremony_on:
        what = "full_membership"
        due = rules.full_membership_due(rules.probation_end(c.ceremony_on, rs), cal, rs)
    if due is None:
        return None
    return Deadline(what, due, today > due)


def _row(
    session: Session, c: Candidate, today: date, cal: WorkCalendar, rs: CandidateRules
) -> CandidateRow:
    names: tuple[str, ...] = ()
    if c.introducers:
        found: dict[int, str] = dict(
            session.execute(  # type: ignore[arg-type]
                select(Member.id, Member.full_name).where(Member.id.in_(c.introducers))
            ).all()
        )
        names = tuple(found.get(i, "?") for i in c.introducers)
    return CandidateRow(
        id=c.id,
        version=c.version,
        name=c.full_name,
        gender=c.gender,
        birth_year=c.birth_year,
        birth_month=c.birth_month,
        unit=c.unit,
        groups=tuple(c.priority_groups or ()),
        stage=CandidateStage(c.stage),
        stage_since=c.stage_since,
        class_planned_on=c.class_planned_on,
        proposed_on=c.proposed_on,
        certificate_on=c.certificate_on,
        introducer_form=c.introducer_form,
        introducers=names,
        resolution_on=c.resolution_on,
        votes=(c.votes_for, c.full_members)
        if c.votes_for is not None and c.full_members
        else None,
        decision_extended=c.decision_extended,
        decision_on=c.decision_on,
        received_on=c.received_on,
        ceremony_on=c.ceremony_on,
        probation_end=rules.probation_end(c.ceremony_on, rs) if c.ceremony_on else None,
        approvals=tuple(c.approvals or ()),
        deadline=deadline_of(c, today, cal, rs),
    )


@dataclass(frozen=True)
class CellList:
    """The cell's candidates and whether this month's consideration is recorded."""

    org_id: int
    org_name: str
    open: list[CandidateRow]
    closed: int
    considered: bool
    full_members: int


def cell_list(session: Session, *, person_id: int, org_id: int, today: date) -> CellList:
    """The cell's open files in pipeline order (closed files are only counted)."""
    org = require_writer(session, person_id, org_id)
    cal, rs = work_calendar(session), candidate_rules(session)
    rows = session.scalars(
        select(Candidate).where(Candidate.org_id == org_id).order_by(Candidate.name_folded)
    ).all()
    order = {s.value: i for i, s in enumerate(rules.PATH)}
    live = sorted(
        (c for c in rows if rules.is_open(CandidateStage(c.stage))),
        key=lambda c: (order.get(c.stage, 99), c.name_folded),
    )
    considered = session.scalar(
        select(CandidateConsideration.id).where(
            CandidateConsideration.org_id == org_id,
            CandidateConsideration.year == today.year,
            CandidateConsideration.month == today.month,
        )
    )
    return CellList(
        org_id=org.id,
        org_name=org.name,
        open=[_row(session, c, today, cal, rs) for c in live],
        closed=len(rows) - len(live),
        considered=considered is not None,
        full_members=_full_member_count(session, org_id),
    )


def _candidate(session: Session, person_id: int, candidate_id: int) -> Candidate:
    c = session.get(Candidate, candidate_id)
    if c is None:
        raise StaleAction()
    require_writer(session, person_id, c.org_id)
    return c


def card(session: Session, *, person_id: int, candidate_id: int, today: date) -> CandidateRow:
    """One file, for its card."""
    c = _candidate(session, person_id, candidate_id)
    row = _row(session, c, today, work_calendar(session), candidate_rules(session))
    return replace(row, introductions_stale=introductions_stale(session, c, today))


def introduced_on(session: Session, candidate_id: int) -> date | None:
    """The date of the introducers last recorded for the file (its last step to "mentors", or
    the introductions redone since)."""
    return session.scalar(
        select(func.max(CandidateEvent.happened_on)).where(
            CandidateEvent.candidate_id == candidate_id,
            CandidateEvent.stage == CandidateStage.MENTORS.value,
            CandidateEvent.action.in_(("forward", "redo")),
        )
    )


#: The stages at which the introducers are recorded and the cell has not yet resolved: where a
#: file left unconsidered too long has its introductions redone.
REDO_STAGES = (
    CandidateStage.MENTORS,
    CandidateStage.APPLICATION,
    CandidateStage.BACKGROUND_CHECK,
)


def introductions_stale(session: Session, c: Candidate, on: date) -> bool:
    """Whether the file's introductions are too old for the cell to consider it on ``on``
    (they must be redone first)."""
    if CandidateStage(c.stage) not in REDO_STAGES:
        return False
    stale = rules.check_file_fresh(introduced_on(session, c.id), on, candidate_rules(session))
    return stale is not None


def org_of(session: Session, *, person_id: int, candidate_id: int) -> int:
    """The cell of a file the person manages."""
    return _candidate(session, person_id, candidate_id).org_id
