"""Candidates: the use cases behind /candidates (/camtinh).

Each public function is one use case: keyword-only, takes the open :class:`Session` of the
caller's transaction, checks the person's role *from the database* (a button is never
trusted), checks the admission rules of :mod:`domain.rules.candidates`, and writes an audit
row for every change. A file's ``version`` goes up with every move, and a move names the
version it started from: when two secretaries move the same candidate at once, the first one
wins and the second is told (:class:`ConcurrentChange`).

The conversation (one :class:`~storage.models.Draft` of flow ``candidate``; states are
:class:`State`) has three shapes::

    add:       name (typed) → gender → decade → year → month (→ duplicate?) → unit → groups → saved
    consider:  the list, with "to the class" / "propose" toggles → recorded (discharges the month)
    move:      a dated step of one file: date / form → introducers / votes / received date /
               reason (back, exit) (→ record a higher body's approval) → moved
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain.errors import AlreadyRecorded, ChiboError, InvalidInput, StaleAction
from domain.i18n import N_
from domain.rules import candidates as rules
from domain.rules.candidates import CandidateClosed, CandidateRules, RuleViolated, Violation
from domain.rules.deadlines import WorkCalendar
from domain.rules.meetings import DateError, parse_date
from domain.text import clean, fold
from domain.vocab import CandidateStage, IntroducerForm, PriorityGroup
from storage import drafts, membership, obligations, orgs
from storage.audit import Actor, record, snapshot
from storage.meetings import CellRef, require_writer, writable_cells
from storage.models import (
    Candidate,
    CandidateConsideration,
    CandidateEvent,
    Draft,
    Gender,
    Meeting,
    Member,
    MemberStatus,
    Organization,
    Person,
)
from storage.seed import get_setting

FLOW = "candidate"
NAME_MAX = 120
UNIT_MAX = 200
REASON_MAX = 300
#: Approval codes a secretary may record when the rules allow an exception.
APPROVAL_OVER_AGE = "over_age"
APPROVAL_LATE_CEREMONY = "late_ceremony"
#: The decision's deadline was extended (by at most 30 working days): a later decision.
APPROVAL_DECISION_EXTENDED = "decision_extended"
#: The direct superior committee accepted a full-membership consideration after its deadline.
APPROVAL_LATE_FULL = "late_full_membership"
_APPROVALS = {
    "too_old": APPROVAL_OVER_AGE,
    "ceremony_late": APPROVAL_LATE_CEREMONY,
    "decision_late": APPROVAL_DECISION_EXTENDED,
    "full_late": APPROVAL_LATE_FULL,
}


class State(enum.StrEnum):
    """Steps of the /candidates conversation."""

    CELL = "cell"
    NAME = "name"
    GENDER = "gender"
    DECADE = "decade"
    YEAR = "year"
    MONTH = "month"
    DUPLICATE = "duplicate"
    UNIT = "unit"
    GROUPS = "groups"
    CONSIDER = "consider"
    DATE = "date"
    RECEIVED = "received"
    FORM = "form"
    INTRODUCERS = "introducers"
    VOTES = "votes"
    REASON = "reason"
    APPROVAL = "approval"


class ConcurrentChange(ChiboError):
    """Someone else moved the file since this conversation started."""

    message = N_(
        "Someone else has just updated {name}'s file. Nothing was changed by you: "
        "please open the file again."
    )


class DuplicateCandidate(ChiboError):
    """Same name and birth month in the same cell."""

    message = N_("{name} (born {month}/{year}) is already on the cell's list.")


_BAD_DATE = N_("Please type the date as day/month/year, for example 05/11/2026.")


# --- Access and settings -----------------------------------------------------------------------


def cells(session: Session, *, person_id: int) -> list[CellRef]:
    """The cells whose candidates the person manages (secretary or deputy)."""
    return writable_cells(session, person_id=person_id)


def _actor(session: Session, person_id: int) -> Actor:
    person = session.get(Person, person_id)
    return Actor(person.display_name if person else f"person:{person_id}", person_id)


def candidate_rules(session: Session) -> CandidateRules:
    """The limits in force (setting ``candidate_rules``)."""
    return CandidateRules.from_setting(get_setting(session, "candidate_rules"))


def work_calendar(session: Session) -> WorkCalendar:
    """Working days in force: the weekend, the law's public holidays of every year and the
    Government's decisions (:func:`storage.obligations.work_calendar`, as for every deadline)."""
    return obligations.work_calendar(session)


def _violate(v: Violation | None) -> None:
    if v is not None:
        raise RuleViolated(v)


def _full_member_count(session: Session, org_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Member.id)).where(
                Member.org_id == org_id, Member.status == MemberStatus.FULL
            )
        )
        or 0
    )


# --- Reading -----------------------------------------------------------------------------------


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
    return _row(session, c, today, work_calendar(session), candidate_rules(session))


def org_of(session: Session, *, person_id: int, candidate_id: int) -> int:
    """The cell of a file the person manages."""
    return _candidate(session, person_id, candidate_id).org_id


# --- The conversation --------------------------------------------------------------------------


def conversation_key(draft: Draft) -> int:
    """The number the conversation's buttons carry (drawn at the start, never reused)."""
    return int(draft.data.get("cid") or draft.id)


def current(session: Session, *, person_id: int) -> Draft | None:
    """The person's conversation in progress (any flow)."""
    return drafts.get(session, person_id)


def _guard(session: Session, person_id: int, draft_id: int, *states: State) -> Draft:
    draft = drafts.get(session, person_id)
    if (
        draft is None
        or draft.flow != FLOW
        or conversation_key(draft) != draft_id
        or (states and draft.state not in states)
    ):
        raise StaleAction()
    org_id = draft.data.get("org_id")
    if org_id:
        require_writer(session, person_id, int(org_id))
    return draft


def _set(draft: Draft, state: State | None, now: datetime, **changes: Any) -> Draft:
    return drafts.advance(draft, state=state.value if state else None, now=now, **changes)


def _start(
    session: Session, person_id: int, state: State, data: dict[str, Any], now: datetime
) -> Draft:
    data = {"cid": secrets.randbelow(2_000_000_000) + 1, **data}
    return drafts.start(session, person_id=person_id, flow=FLOW, state=state, data=data, now=now)


def cancel(session: Session, *, person_id: int, draft_id: int) -> bool:
    """Leave the conversation; nothing of it is saved."""
    draft = drafts.get(session, person_id)
    if draft is None or draft.flow != FLOW or conversation_key(draft) != draft_id:
        return False
    return drafts.finish(session, person_id)


# --- Adding a non-member -----------------------------------------------------------------------


def start_add(session: Session, *, person_id: int, org_id: int, now: datetime) -> Draft:
    """Start adding an outstanding non-member to the cell's list: the name is asked first."""
    require_writer(session, person_id, org_id)
    return _start(session, person_id, State.NAME, {"org_id": org_id, "groups": []}, now)


def set_name(
    session: Session, *, person_id: int, draft_id: int, text: str, now: datetime
) -> Draft:
    """Store the typed name and ask for the gender."""
    draft = _guard(session, person_id, draft_id, State.NAME)
    name = clean(text)
    if not name or len(name) > NAME_MAX or any(ch.isdigit() for ch in name):
        raise InvalidInput(
            N_("Please type the full name (letters only, at most {limit} characters)."),
            limit=NAME_MAX,
        )
    return _set(draft, State.GENDER, now, name=name)


def set_gender(
    session: Session, *, person_id: int, draft_id: int, gender: Gender, now: datetime
) -> Draft:
    """Store the gender and ask for the decade of birth."""
    draft = _guard(session, person_id, draft_id, State.GENDER)
    changes: dict[str, Any] = {"gender": gender.value}
    if gender is Gender.FEMALE and PriorityGroup.WOMEN.value not in draft.data.get("groups", []):
        changes["groups"] = [*draft.data.get("groups", []), PriorityGroup.WOMEN.value]
    return _set(draft, State.DECADE, now, **changes)


def birth_decades(today: date, rs: CandidateRules = CandidateRules()) -> list[int]:
    """The decades of birth an eligible candidate can have (1960, 1970, …)."""
    oldest = today.year - rs.max_age_months // 12 - 1
    youngest = today.year - rs.min_age_months // 12
    return list(range(oldest // 10 * 10, youngest // 10 * 10 + 1, 10))


def set_decade(
    session: Session, *, person_id: int, draft_id: int, decade: int, now: datetime
) -> Draft:
    """Store the decade and ask for the year."""
    draft = _guard(session, person_id, draft_id, State.DECADE, State.YEAR)
    if decade % 10 or not 1900 <= decade <= 2100:
        raise StaleAction()
    return _set(draft, State.YEAR, now, decade=decade)


def back_to_decades(session: Session, *, person_id: int, draft_id: int, now: datetime) -> Draft:
    """Go back from the years to the decades."""
    draft = _guard(session, person_id, draft_id, State.YEAR)
    return _set(draft, State.DECADE, now)


def set_year(
    session: Session, *, person_id: int, draft_id: int, year: int, today: date, now: datetime
) -> Draft:
    """Store the birth year (a button, or typed) and ask for the month."""
    draft = _guard(session, person_id, draft_id, State.DECADE, State.YEAR)
    _violate(rules.check_birth(year, None, today))
    return _set(draft, State.MONTH, now, year=year)


def type_year(
    session: Session, *, person_id: int, draft_id: int, text: str, today: date, now: datetime
) -> Draft:
    """Read a typed birth year."""
    value = text.strip()
    if not value.isdigit() or len(value) != 4:
        raise InvalidInput(N_("Please type the year of birth with four digits, e.g. 1995."))
    return set_year(
        session, person_id=person_id, draft_id=draft_id, year=int(value), today=today, now=now
    )


def _duplicate(session: Session, org_id: int, name: str, year: int, month: int | None) -> bool:
    stmt = select(Candidate.id).where(
        Candidate.org_id == org_id,
        Candidate.name_folded == fold(name),
        Candidate.birth_year == year,
        Candidate.birth_month.is_(None) if month is None else Candidate.birth_month == month,
    )
    return session.scalar(stmt) is not None


def set_month(
    session: Session, *, person_id: int, draft_id: int, month: int, today: date, now: datetime
) -> Draft:
    """Store the birth month (0: unknown); a namesake born the same month asks first."""
    draft = _guard(session, person_id, draft_id, State.MONTH)
    if not 0 <= month <= 12:
        raise StaleAction()
    year = int(draft.data["year"])
    _violate(rules.check_birth(year, month or None, today))
    dup = _duplicate(session, int(draft.data["org_id"]), draft.data["name"], year, month or None)
    return _set(draft, State.DUPLICATE if dup else State.UNIT, now, month=month)


def keep_duplicate(session: Session, *, person_id: int, draft_id: int, now: datetime) -> Draft:
    """The secretary confirms it is another person: go on to the unit."""
    draft = _guard(session, person_id, draft_id, State.DUPLICATE)
    return _set(draft, State.UNIT, now, duplicate_ok=True)


def unit_choices(session: Session, org_id: int) -> list[str]:
    """Units to pick from: the host unit and those already used by the cell's candidates."""
    org = session.get(Organization, org_id)
    used = session.scalars(
        select(Candidate.unit)
        .where(Candidate.org_id == org_id, Candidate.unit.is_not(None))
        .group_by(Candidate.unit)
        .order_by(func.count(Candidate.id).desc())
        .limit(7)
    ).all()
    out = [org.host_unit] if org is not None and org.host_unit else []
    return list(dict.fromkeys([*out, *(u for u in used if u)]))


def set_unit(
    session: Session, *, person_id: int, draft_id: int, index: int, now: datetime
) -> Draft:
    """Store a unit picked from the list and ask for the priority groups."""
    draft = _guard(session, person_id, draft_id, State.UNIT)
    choices = unit_choices(session, int(draft.data["org_id"]))
    if not 0 <= index < len(choices):
        raise StaleAction()
    return _set(draft, State.GROUPS, now, unit=choices[index])


def type_unit(
    session: Session, *, person_id: int, draft_id: int, text: str, now: datetime
) -> Draft:
    """Store a typed unit (a department not on the list yet)."""
    draft = _guard(session, person_id, draft_id, State.UNIT)
    unit = clean(text)
    if not unit or len(unit) > UNIT_MAX:
        raise InvalidInput(
            N_("Please type the unit (at most {limit} characters)."), limit=UNIT_MAX
        )
    return _set(draft, State.GROUPS, now, unit=unit)


def toggle_group(
    session: Session, *, person_id: int, draft_id: int, group: PriorityGroup, now: datetime
) -> Draft:
    """Tick or untick one priority group."""
    draft = _guard(session, person_id, draft_id, State.GROUPS)
    groups = list(draft.data.get("groups", []))
    if group.value in groups:
        groups.remove(group.value)
    else:
        groups.append(group.value)
    order = [g.value for g in PriorityGroup]
    return _set(draft, None, now, groups=sorted(groups, key=order.index))


@dataclass(frozen=True)
class Added:
    """A new file on the list."""

    candidate_id: int
    org_id: int
    name: str


def save_candidate(
    session: Session, *, person_id: int, draft_id: int, today: date, now: datetime
) -> Added:
    """Put the non-member on the sympathizer list (one transaction, audited)."""
    draft = _guard(session, person_id, draft_id, State.GROUPS)
    data = draft.data
    org_id = int(data["org_id"])
    month = int(data.get("month") or 0) or None
    if not data.get("duplicate_ok") and _duplicate(
        session, org_id, data["name"], int(data["year"]), month
    ):
        raise DuplicateCandidate(name=data["name"], month=month or "?", year=data["year"])
    c = Candidate(
        code=f"QC{secrets.token_hex(5).upper()}",
        org_id=org_id,
        full_name=data["name"],
        name_folded=fold(data["name"]),
        gender=Gender(data["gender"]) if data.get("gender") else None,
        birth_year=int(data["year"]),
        birth_month=month,
        unit=data.get("unit"),
        priority_groups=list(data.get("groups", [])),
        stage=CandidateStage.SYMPATHIZER.value,
        stage_since=today,
        version=1,
        introducers=[],
        approvals=[],
        created_at=now,
        updated_at=now,
    )
    session.add(c)
    session.flush()
    actor = _actor(session, person_id)
    _event(session, c, "add", CandidateStage.SYMPATHIZER, today, now, actor)
    record(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="candidate",
        entity_id=c.id,
        after=snapshot(c, ["org_id", "stage", "priority_groups", "birth_year", "birth_month"]),
    )
    drafts.finish(session, person_id)
    return Added(c.id, org_id, c.full_name)


def _event(
    session: Session,
    c: Candidate,
    action: str,
    stage: CandidateStage,
    day: date,
    now: datetime,
    actor: Actor,
    *,
    from_stage: str | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        CandidateEvent(
            candidate_id=c.id,
            stage=stage.value,
            happened_on=day,
            detail=detail or {},
            created_at=now,
            action=action,
            from_stage=from_stage,
            reason=reason,
            actor_person_id=actor.person_id,
        )
    )


# --- The monthly consideration -----------------------------------------------------------------


def start_consider(
    session: Session,
    *,
    person_id: int,
    org_id: int,
    now: datetime,
    today: date | None = None,
) -> Draft:
    """Open the month's consideration of the cell's list.

    When last month's consideration was owed and is not recorded (the month is over: it is
    late), the draft offers it too (``late``: ``[year, month]``); the secretary picks which
    month the consideration records (``for_late``), this month by default.
    """
    require_writer(session, person_id, org_id)
    data: dict[str, Any] = {"org_id": org_id, "cls": [], "prop": []}
    late = late_consideration(session, org_id, today) if today is not None else None
    if late is not None:
        data.update(late=list(late), for_late=False)
    return _start(session, person_id, State.CONSIDER, data, now)


def late_consideration(session: Session, org_id: int, today: date) -> tuple[int, int] | None:
    """Last month, if the cell owed its consideration (chibo followed the cell then) and it is
    not recorded: (year, month); else None. The month being over, it counts as late
    (:data:`storage.obligations.IN_THE_PERIOD`)."""
    last_day = today.replace(day=1) - timedelta(days=1)
    org = session.get(Organization, org_id)
    if org is None or (org.created_at is not None and org.created_at.date() > last_day):
        return None
    done = session.scalar(
        select(CandidateConsideration.id).where(
            CandidateConsideration.org_id == org_id,
            CandidateConsideration.year == last_day.year,
            CandidateConsideration.month == last_day.month,
        )
    )
    return None if done is not None else (last_day.year, last_day.month)


def toggle_consider_month(
    session: Session, *, person_id: int, draft_id: int, now: datetime
) -> Draft:
    """Switch the month the consideration records: this month ↔ the late last month."""
    draft = _guard(session, person_id, draft_id, State.CONSIDER)
    if not draft.data.get("late"):
        raise StaleAction()
    return _set(draft, None, now, for_late=not draft.data.get("for_late"))


def check_proposal(c: Candidate, on: date, rs: CandidateRules) -> None:
    """A candidate may be proposed once the class is done, within the age limits."""
    _violate(rules.check_certificate(c.certificate_on, on, rs))
    if c.birth_year is not None:
        _violate(
            rules.check_age(
                c.birth_year,
                c.birth_month,
                on,
                rs,
                over_age_approved=APPROVAL_OVER_AGE in (c.approvals or []),
            )
        )


def toggle_consider(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    candidate_id: int,
    what: str,
    today: date,
    now: datetime,
) -> Draft:
    """Tick "to the next awareness class" (``cls``) or "propose for admission" (``prop``)."""
    draft = _guard(session, person_id, draft_id, State.CONSIDER)
    c = session.get(Candidate, candidate_id)
    if what not in ("cls", "prop") or c is None or c.org_id != draft.data["org_id"]:
        raise StaleAction()
    stage = CandidateStage(c.stage)
    if not rules.is_open(stage):
        raise CandidateClosed(name=c.full_name, stage=stage.value)
    picked = list(draft.data.get(what, []))
    if candidate_id in picked:
        picked.remove(candidate_id)
    else:
        if what == "prop":
            check_proposal(c, today, candidate_rules(session))
        elif stage is not CandidateStage.SYMPATHIZER:
            raise StaleAction()
        picked.append(candidate_id)
    return _set(draft, None, now, **{what: picked})


@dataclass(frozen=True)
class Considered:
    """What the month's consideration recorded."""

    org_id: int
    year: int
    month: int
    to_class: int
    proposed: int
    first: bool  # False: the month was already recorded; the new choices were added


def _record_consideration(
    session: Session,
    org_id: int,
    day: date,
    person_id: int,
    now: datetime,
    meeting_id: int | None = None,
    month: tuple[int, int] | None = None,
) -> bool:
    """Record the consideration of ``month`` (default: ``day``'s month), held on ``day``."""
    year, mon = month if month is not None else (day.year, day.month)
    row = session.scalar(
        select(CandidateConsideration).where(
            CandidateConsideration.org_id == org_id,
            CandidateConsideration.year == year,
            CandidateConsideration.month == mon,
        )
    )
    if row is not None:
        if meeting_id and row.meeting_id is None:
            row.meeting_id = meeting_id
        return False
    row = CandidateConsideration(
        org_id=org_id,
        year=year,
        month=mon,
        meeting_id=meeting_id,
        created_at=now,
        considered_on=day,
        recorded_by=person_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=_actor(session, person_id),
        at=now,
        action="create",
        entity="candidate_consideration",
        entity_id=row.id,
        after={"org_id": org_id, "year": year, "month": mon, "meeting_id": meeting_id},
    )
    return True


def record_consider(
    session: Session, *, person_id: int, draft_id: int, today: date, now: datetime
) -> Considered:
    """Record the consideration and the choices made in it (one transaction)."""
    draft = _guard(session, person_id, draft_id, State.CONSIDER)
    org_id = int(draft.data["org_id"])
    actor = _actor(session, person_id)
    rs = candidate_rules(session)
    to_class = proposed = 0
    for cid in draft.data.get("cls", []):
        c = session.get(Candidate, cid)
        if c is None or c.org_id != org_id or c.stage != CandidateStage.SYMPATHIZER.value:
            continue
        c.class_planned_on = today
        c.version += 1
        c.updated_at = now
        _event(session, c, "to_class", CandidateStage(c.stage), today, now, actor)
        to_class += 1
    for cid in draft.data.get("prop", []):
        c = session.get(Candidate, cid)
        if c is None or c.org_id != org_id or not rules.is_open(CandidateStage(c.stage)):
            continue
        check_proposal(c, today, rs)
        c.proposed_on = today
        c.version += 1
        c.updated_at = now
        _event(session, c, "propose", CandidateStage(c.stage), today, now, actor)
        proposed += 1
    late = draft.data.get("late")
    month = (int(late[0]), int(late[1])) if late and draft.data.get("for_late") else None
    if month is not None and late_consideration(session, org_id, today) != month:
        raise StaleAction()  # recorded meanwhile, or the month changed since it was offered
    first = _record_consideration(session, org_id, today, person_id, now, month=month)
    record(
        session,
        actor=actor,
        at=now,
        action="consider",
        entity="candidate_list",
        entity_id=org_id,
        after={"to_class": to_class, "proposed": proposed},
    )
    drafts.finish(session, person_id)
    year, mon = month if month is not None else (today.year, today.month)
    return Considered(org_id, year, mon, to_class, proposed, first)


def meeting_asks(session: Session, *, person_id: int, meeting_id: int) -> bool:
    """Whether to ask if a saved meeting considered the list: a live regular meeting with
    "new-member work" ticked, in a month whose consideration is not recorded yet."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.deleted_at is not None or not meeting.kind.counts_as_regular:
        return False
    if not (meeting.content or {}).get("new_members"):
        return False
    require_writer(session, person_id, meeting.org_id)
    done = session.scalar(
        select(CandidateConsideration.id).where(
            CandidateConsideration.org_id == meeting.org_id,
            CandidateConsideration.year == meeting.held_on.year,
            CandidateConsideration.month == meeting.held_on.month,
        )
    )
    return done is None


def record_from_meeting(
    session: Session, *, person_id: int, meeting_id: int, now: datetime
) -> Considered:
    """The regular meeting with "new-member work" considered the list: record that month."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.deleted_at is not None:
        raise StaleAction()
    require_writer(session, person_id, meeting.org_id)
    first = _record_consideration(
        session, meeting.org_id, meeting.held_on, person_id, now, meeting_id
    )
    if not first:
        raise AlreadyRecorded()
    d = meeting.held_on
    return Considered(meeting.org_id, d.year, d.month, 0, 0, first)


# --- Moving a file -----------------------------------------------------------------------------

#: The step each forward move asks first.
_FIRST_STEP: dict[CandidateStage, State] = {
    CandidateStage.CLASS_DONE: State.DATE,
    CandidateStage.MENTORS: State.FORM,
    CandidateStage.APPLICATION: State.DATE,
    CandidateStage.BACKGROUND_CHECK: State.DATE,
    CandidateStage.CELL_RESOLUTION: State.DATE,
    CandidateStage.DECISION: State.DATE,
    CandidateStage.PROBATION: State.DATE,
    CandidateStage.FULL_MEMBER: State.DATE,
}


def start_move(
    session: Session,
    *,
    person_id: int,
    candidate_id: int,
    version: int,
    target: CandidateStage,
    now: datetime,
) -> Draft:
    """Start moving a file to ``target``: forward (dated), back or out (with a reason)."""
    c = _candidate(session, person_id, candidate_id)
    stage = CandidateStage(c.stage)
    if not rules.is_open(stage):
        raise CandidateClosed(name=c.full_name, stage=stage.value)
    if c.version != version:
        raise ConcurrentChange(name=c.full_name)
    forward = target is rules.next_stage(stage)
    if (
        not forward
        and target is not rules.previous_stage(stage)
        and (target not in rules.exits_from(stage))
    ):
        _violate(rules.check_transition(stage, target))
    state = _FIRST_STEP[target] if forward else State.REASON
    data: dict[str, Any] = {
        "org_id": c.org_id,
        "cand": c.id,
        "version": c.version,
        "target": target.value,
        "forward": forward,
        "members": [],
    }
    return _start(session, person_id, state, data, now)


def _move_candidate(session: Session, draft: Draft) -> Candidate:
    c = session.get(Candidate, int(draft.data["cand"]))
    if c is None:
        raise StaleAction()
    if c.version != int(draft.data["version"]):
        raise ConcurrentChange(name=c.full_name)
    return c


def _parse_day(text: str, today: date) -> date:
    try:
        return parse_date(text, today)
    except DateError as exc:
        raise InvalidInput(_BAD_DATE) from exc


def set_step_date(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    day: date,
    today: date,
    now: datetime,
    cal: WorkCalendar | None = None,
) -> Draft | Moved:
    """Store the date of the step; ask what else it needs or move the file."""
    draft = _guard(session, person_id, draft_id, State.DATE, State.RECEIVED)
    c = _move_candidate(session, draft)
    if draft.state == State.RECEIVED:
        _set(draft, None, now, received=day.isoformat())
        return _finish_move(session, person_id, draft, today, now, cal)
    target = CandidateStage(draft.data["target"])
    # A certificate may predate the listing (the class was done before): no lower bound then.
    since = None if target is CandidateStage.CLASS_DONE else c.stage_since
    _violate(rules.check_step_date(day, since, today))
    _set(draft, None, now, day=day.isoformat())
    if target is CandidateStage.CELL_RESOLUTION:
        return _set(draft, State.VOTES, now)
    if target is CandidateStage.DECISION:
        return _set(draft, State.RECEIVED, now)
    return _finish_move(session, person_id, draft, today, now, cal)


def type_step_date(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    text: str,
    today: date,
    now: datetime,
    cal: WorkCalendar | None = None,
) -> Draft | Moved:
    """Read a typed date for the step."""
    return set_step_date(
        session,
        person_id=person_id,
        draft_id=draft_id,
        day=_parse_day(text, today),
        today=today,
        now=now,
        cal=cal,
    )


def set_form(
    session: Session, *, person_id: int, draft_id: int, form: IntroducerForm, now: datetime
) -> Draft:
    """Store who introduces (which case of the rule applies) and ask for the member(s)."""
    draft = _guard(session, person_id, draft_id, State.FORM)
    _move_candidate(session, draft)
    return _set(draft, State.INTRODUCERS, now, form=form.value, members=[])


def introducer_choices(session: Session, org_id: int) -> list[tuple[int, str]]:
    """The cell's full members, who may introduce an applicant."""
    return [
        (m.id, m.full_name)
        for m in orgs.active_members(session, org_id)
        if m.status is MemberStatus.FULL
    ]


def toggle_introducer(
    session: Session, *, person_id: int, draft_id: int, member_id: int, now: datetime
) -> Draft:
    """Tick or untick a full member as introducer."""
    draft = _guard(session, person_id, draft_id, State.INTRODUCERS)
    if member_id not in {i for i, _ in introducer_choices(session, int(draft.data["org_id"]))}:
        raise StaleAction()
    picked = list(draft.data.get("members", []))
    if member_id in picked:
        picked.remove(member_id)
    else:
        picked.append(member_id)
    return _set(draft, None, now, members=picked)


def confirm_introducers(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    today: date,
    now: datetime,
) -> Moved | Draft:
    """The secretary confirms each introducer has worked with the applicant ≥ 12 months."""
    draft = _guard(session, person_id, draft_id, State.INTRODUCERS)
    _set(draft, None, now, known=True, day=today.isoformat())
    return _finish_move(session, person_id, draft, today, now, None)


def type_votes(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    text: str,
    today: date,
    now: datetime,
) -> Moved | Draft:
    """Read "7" (votes in favour) or "7/9" (in favour / full members of the cell)."""
    draft = _guard(session, person_id, draft_id, State.VOTES)
    parts = [p.strip() for p in text.replace(" ", "").split("/")]
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        raise InvalidInput(
            N_("Please type the votes in favour, e.g. 8, or in favour/full members, e.g. 8/10.")
        )
    votes = int(parts[0])
    members = (
        int(parts[1]) if len(parts) == 2 else _full_member_count(session, draft.data["org_id"])
    )
    _set(draft, None, now, votes=votes, full=members)
    return _finish_move(session, person_id, draft, today, now, None)


def type_reason(
    session: Session, *, person_id: int, draft_id: int, text: str, today: date, now: datetime
) -> Moved | Draft:
    """Read the reason for going back a stage or closing the file, and move it."""
    draft = _guard(session, person_id, draft_id, State.REASON)
    reason = clean(text)
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput(
            N_("Please type the reason (at most {limit} characters)."), limit=REASON_MAX
        )
    _set(draft, None, now, reason=reason, day=today.isoformat())
    return _finish_move(session, person_id, draft, today, now, None)


def introduced_on(session: Session, candidate_id: int) -> date | None:
    """The date of the introducers last recorded for the file (its last step to "mentors")."""
    return session.scalar(
        select(func.max(CandidateEvent.happened_on)).where(
            CandidateEvent.candidate_id == candidate_id,
            CandidateEvent.stage == CandidateStage.MENTORS.value,
            CandidateEvent.action == "forward",
        )
    )


def record_approval(
    session: Session, *, person_id: int, draft_id: int, today: date, now: datetime
) -> Moved | Draft:
    """The secretary records the higher body's approval of the exception, and the move goes on."""
    draft = _guard(session, person_id, draft_id, State.APPROVAL)
    code = draft.data.get("pending_approval")
    if code not in _APPROVALS.values():
        raise StaleAction()
    approved = [*draft.data.get("approved", []), code]
    _set(draft, None, now, approved=approved, pending_approval=None)
    return _finish_move(session, person_id, draft, today, now, None)


@dataclass(frozen=True)
class Moved:
    """A file moved: where it is now, and the member row made at the ceremony."""

    candidate_id: int
    org_id: int
    name: str
    stage: CandidateStage
    day: date
    member_id: int | None = None
    late: bool = False  # the decision came after its deadline (recorded, not refused)
    deadline: Deadline | None = None
    notes: list[str] = field(default_factory=list)


def _finish_move(
    session: Session,
    person_id: int,
    draft: Draft,
    today: date,
    now: datetime,
    cal: WorkCalendar | None,
) -> Moved | Draft:
    """Check every rule of the move; write it with the version check; or ask for an approval."""
    c = _move_candidate(session, draft)
    data = draft.data
    cal = cal or work_calendar(session)
    rs = candidate_rules(session)
    stage = CandidateStage(c.stage)
    target = CandidateStage(data["target"])
    day = date.fromisoformat(data["day"]) if data.get("day") else today
    reason = data.get("reason")
    approvals = list(dict.fromkeys([*(c.approvals or []), *data.get("approved", [])]))
    _violate(rules.check_transition(stage, target, reason))
    changes: dict[str, Any] = {}
    late = False
    member_id: int | None = None
    waivable: Violation | None = None
    if data.get("forward"):
        if target is CandidateStage.CLASS_DONE:
            changes["certificate_on"] = day
        elif target is CandidateStage.MENTORS:
            form = IntroducerForm(data["form"])
            age = (
                rules.age_months(c.birth_year, c.birth_month or 12, day) if c.birth_year else None
            )
            full = {m.id: m for m in orgs.active_members(session, c.org_id)}
            people = [
                rules.Introducer(
                    int(i),
                    full[int(i)].status if int(i) in full else MemberStatus.REMOVED,
                    bool(data.get("known")),
                )
                for i in data.get("members", [])
            ]
            _violate(rules.check_introducers(form, people, age, rs))
            changes.update(introducer_form=form.value, introducers=[p.member_id for p in people])
        elif target is CandidateStage.CELL_RESOLUTION:
            # The proposal rules hold at the cell's consideration: class, age, introducers.
            _violate(rules.check_certificate(c.certificate_on, day, rs))
            _violate(rules.check_file_fresh(introduced_on(session, c.id), day, rs))
            if c.birth_year is not None:
                waivable = rules.check_age(
                    c.birth_year,
                    c.birth_month,
                    day,
                    rs,
                    over_age_approved=APPROVAL_OVER_AGE in approvals,
                )
            if waivable is None or not waivable.waivable:
                _violate(waivable)
            _violate(rules.check_resolution(int(data["votes"]), int(data["full"]), rs))
            changes.update(resolution_on=day, votes_for=int(data["votes"]))
            changes["full_members"] = int(data["full"])
        elif target is CandidateStage.DECISION:
            received = date.fromisoformat(data["received"])
            _violate(rules.check_step_date(received, day, today))
            assert c.resolution_on is not None
            _violate(rules.check_decision(c.resolution_on, day, received))
            extended = c.decision_extended or APPROVAL_DECISION_EXTENDED in approvals
            waivable = rules.check_decision_deadline(
                c.resolution_on, day, cal, rs, extended=extended
            )
            if waivable is None or not waivable.waivable:
                _violate(waivable)
            due = rules.decision_due(c.resolution_on, cal, rs, extended=extended)
            late = day > due
            changes.update(decision_on=day, received_on=received, decision_extended=extended)
        elif target is CandidateStage.PROBATION:
            assert c.received_on is not None
            waivable = rules.check_ceremony(
                c.received_on,
                day,
                cal,
                rs,
                late_approved=APPROVAL_LATE_CEREMONY in approvals,
            )
            if waivable is None or not waivable.waivable:
                _violate(waivable)
            changes["ceremony_on"] = day
        elif target is CandidateStage.FULL_MEMBER:
            assert c.ceremony_on is not None
            ended = rules.probation_end(c.ceremony_on, rs)
            _violate(rules.check_full_membership(ended, day))
            waivable = rules.check_full_membership_deadline(
                ended, day, cal, rs, late_approved=APPROVAL_LATE_FULL in approvals
            )
            if waivable is None or not waivable.waivable:
                _violate(waivable)
        else:
            changes["stage_date"] = day
    if waivable is not None:
        code = _APPROVALS[waivable.code]
        _set(draft, State.APPROVAL, now, pending_approval=code, violation=waivable.code)
        draft.data = {**draft.data, "params": {k: str(v) for k, v in waivable.params.items()}}
        return draft
    changes.pop("stage_date", None)
    before = snapshot(c, ["stage", "stage_since", "version"])
    # The version check and bump in one statement: of two concurrent moves, one wins.
    won = session.execute(
        update(Candidate)
        .where(Candidate.id == c.id, Candidate.version == int(data["version"]))
        .values(version=Candidate.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if won != 1:
        raise ConcurrentChange(name=c.full_name)
    session.refresh(c)
    for key, value in changes.items():
        setattr(c, key, value)
    c.approvals = approvals
    c.stage = target.value
    c.stage_since = day
    c.updated_at = now
    actor = _actor(session, person_id)
    if target is CandidateStage.PROBATION:
        member_id = _admit(session, c, rs, now, actor)
    elif target is CandidateStage.FULL_MEMBER:
        _recognize(session, c, rs, now, actor)
    elif target is CandidateStage.NOT_RECOGNIZED and c.member_id:
        _remove(session, c, day, now, actor)
    action = "forward" if data.get("forward") else ("exit" if target in rules.EXITS else "back")
    _event(
        session,
        c,
        action,
        target,
        day,
        now,
        actor,
        from_stage=stage.value,
        reason=reason,
        detail={
            k: v
            for k, v in data.items()
            if k in ("votes", "full", "received", "form", "members", "approved")
        },
    )
    record(
        session,
        actor=actor,
        at=now,
        action=f"move_{action}",
        entity="candidate",
        entity_id=c.id,
        before=before,
        after=snapshot(c, ["stage", "stage_since", "version", "approvals"]),
    )
    drafts.finish(session, person_id)
    session.flush()
    return Moved(
        c.id,
        c.org_id,
        c.full_name,
        target,
        day,
        member_id=member_id or c.member_id,
        late=late,
        deadline=deadline_of(c, today, cal, rs),
    )


def _admit(session: Session, c: Candidate, rs: CandidateRules, now: datetime, actor: Actor) -> int:
    """At the ceremony the candidate becomes a probationary member of the cell."""
    assert c.ceremony_on is not None
    member = Member(
        code=f"{c.code}-DB",
        org_id=c.org_id,
        full_name=c.full_name,
        name_folded=c.name_folded,
        gender=c.gender,
        birth_year=c.birth_year,
        birth_month=c.birth_month,
        status=MemberStatus.PROBATIONARY,
        admitted_on=c.decision_on,
        ceremony_on=c.ceremony_on,
        probation_end_on=rules.probation_end(c.ceremony_on, rs),
        status_since=c.ceremony_on,
        created_at=now,
        updated_at=now,
    )
    session.add(member)
    session.flush()
    c.member_id = member.id
    record(
        session,
        actor=actor,
        at=now,
        action="admit",
        entity="member",
        entity_id=member.id,
        after=snapshot(member, ["org_id", "status", "admitted_on", "ceremony_on"]),
    )
    return member.id


def _recognize(
    session: Session, c: Candidate, rs: CandidateRules, now: datetime, actor: Actor
) -> None:
    """Full membership, recognized as of the end of probation."""
    member = session.get(Member, c.member_id) if c.member_id else None
    if member is None or c.ceremony_on is None:
        return
    before = snapshot(member, ["status", "full_member_on"])
    ended = rules.probation_end(c.ceremony_on, rs)
    # Dated in the membership history: months before count the member as probationary.
    membership.record_status(
        session, member=member, status=MemberStatus.FULL, on=ended, source="candidates", now=now
    )
    member.full_member_on = ended
    member.updated_at = now
    record(
        session,
        actor=actor,
        at=now,
        action="update",
        entity="member",
        entity_id=member.id,
        before=before,
        after=snapshot(member, ["status", "full_member_on"]),
    )


def _remove(session: Session, c: Candidate, day: date, now: datetime, actor: Actor) -> None:
    """Not recognized after probation: the probationary member leaves the roll."""
    member = session.get(Member, c.member_id)
    if member is None:
        return
    membership.record_status(
        session, member=member, status=MemberStatus.REMOVED, on=day, source="candidates", now=now
    )
    member.updated_at = now
    record(
        session,
        actor=actor,
        at=now,
        action="update",
        entity="member",
        entity_id=member.id,
        after={"status": MemberStatus.REMOVED.value},
    )


def extend_decision(
    session: Session,
    *,
    person_id: int,
    candidate_id: int,
    version: int,
    today: date,
    now: datetime,
) -> CandidateRow:
    """Record that the decision's deadline was extended by 30 working days (at most once)."""
    c = _candidate(session, person_id, candidate_id)
    if c.stage != CandidateStage.CELL_RESOLUTION.value or c.decision_extended:
        raise StaleAction()
    won = session.execute(
        update(Candidate)
        .where(Candidate.id == c.id, Candidate.version == version)
        .values(version=Candidate.version + 1, decision_extended=True, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if won != 1:
        raise ConcurrentChange(name=c.full_name)
    session.refresh(c)
    record(
        session,
        actor=_actor(session, person_id),
        at=now,
        action="extend",
        entity="candidate",
        entity_id=c.id,
        after={"decision_extended": True},
    )
    return _row(session, c, today, work_calendar(session), candidate_rules(session))
