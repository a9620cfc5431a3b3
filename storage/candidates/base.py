"""Candidates: the vocabulary of the use cases (conversation states, errors, approvals), who may
manage a cell's list, and the limits and working days in force."""

from __future__ import annotations

import enum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.errors import ChiboError
from domain.i18n import N_
from domain.rules.candidates import CandidateRules, RuleViolated, Violation
from domain.rules.deadlines import WorkCalendar
from storage import obligations
from storage.audit import Actor
from storage.meetings import CellRef, writable_cells
from storage.models import (
    Member,
    MemberStatus,
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
#: A decision dated after even the extended deadline: not an exception the rules allow, but a
#: fact; the secretary records it acknowledging the breach, which the leaders then see.
APPROVAL_DECISION_BREACHED = "decision_deadline_breached"
_APPROVALS = {
    "too_old": APPROVAL_OVER_AGE,
    "ceremony_late": APPROVAL_LATE_CEREMONY,
    "decision_late": APPROVAL_DECISION_EXTENDED,
    "decision_too_late": APPROVAL_DECISION_BREACHED,
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
