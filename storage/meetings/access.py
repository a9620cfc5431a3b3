"""Meetings: the conversation's vocabulary (states, sections) and who may do what."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import access
from domain.errors import NotAllowed
from domain.rules.attendance import can_vote_on_admission, full_member_counts
from storage import access as access_facts
from storage.audit import Actor
from storage.models import Member, MemberStatus, Organization, Person
from storage.seed import get_setting

FLOW = "meeting"


MODEL_FLOW = "model"


#: Members per page of the attendance screen (two buttons a row; Telegram allows 100).
PAGE_SIZE = 30


#: Months of meetings /meetings shows.
LIST_MONTHS = 6


class State(enum.StrEnum):
    """Steps of the /meeting conversation."""

    CELL = "cell"
    KIND = "kind"
    TOPIC = "topic"
    DURATION = "duration"
    DURATION_TYPED = "duration_typed"
    DATE = "date"
    DATE_CONFIRM = "date_confirm"
    DUPLICATE = "duplicate"
    ATTENDANCE = "attendance"
    REASONS = "reasons"
    GUESTS = "guests"
    GUEST_NAME = "guest_name"
    CONTENT = "content"
    QUALITY = "quality"
    CONFIRM = "confirm"


class ModelState(enum.StrEnum):
    """Steps of the /model conversation (typed answers only)."""

    TITLE = "title"
    RESULT = "result"


#: Sections the confirmation screen can change, and the step each one opens.
SECTIONS: dict[str, State] = {
    "kind": State.KIND,
    "date": State.DATE,
    "attendance": State.ATTENDANCE,
    "reasons": State.REASONS,
    "guests": State.GUESTS,
    "content": State.CONTENT,
}


#: "Back" and "other" buttons: the steps reachable from each step without an answer.
MOVES: dict[State, set[State]] = {
    State.TOPIC: {State.KIND},
    State.DURATION: {State.DURATION_TYPED, State.KIND},
    State.DURATION_TYPED: {State.DURATION},
    State.DATE: {State.DURATION},
    State.DATE_CONFIRM: {State.DATE},
    State.DUPLICATE: {State.DATE, State.KIND},
    State.GUESTS: {State.GUEST_NAME},
    State.GUEST_NAME: {State.GUESTS},
}


@dataclass(frozen=True)
class CellRef:
    """A cell as a choice: id, code and name."""

    id: int
    code: str
    name: str


def _active_cell(org: Organization | None, today: date | None = None) -> bool:
    if org is None or not org.kind.holds_meetings:
        return False
    return today is None or org.active_to is None or org.active_to >= today


def writable_cells(session: Session, *, person_id: int) -> list[CellRef]:
    """The cells whose meetings the person records (secretary or deputy of the cell)."""
    who = access_facts.holder(session, person_id)
    return [CellRef(c.id, c.code, c.name) for c in access.writable_cells(who)]


def writable_cell(session: Session, person_id: int, org_id: int) -> access.OrgNode:
    """What the access policy knows of the cell (id, kind, code, name, dates), if the person
    may write its records; otherwise :class:`NotAllowed`. Reads no row the access check has
    not read already, so a conversation step that needs only the cell's id costs nothing more."""
    who = access_facts.holder(session, person_id)
    if not access.may_write(who, org_id):
        raise NotAllowed()
    return who.orgs[org_id]


def _require_writer(session: Session, person_id: int, org_id: int) -> Organization:
    """The cell, if the person may write its records; otherwise :class:`NotAllowed`."""
    writable_cell(session, person_id, org_id)
    org = session.get(Organization, org_id)
    assert org is not None
    # Held for the rest of the transaction: the session keeps rows only while something refers
    # to them, and the step's screen reads the same cell again.
    session.info.setdefault("held", []).append(org)
    return org


#: The check every step use case runs inside its own transaction.
require_writer = _require_writer


def readable_cells(session: Session, *, person_id: int) -> list[CellRef]:
    """The cells whose meetings the person may read: at or below any organization where
    they hold a role (leaders at the top organization read every cell)."""
    who = access_facts.holder(session, person_id)
    return [CellRef(c.id, c.code, c.name) for c in access.readable_cells(who)]


def _require_reader(session: Session, person_id: int, org_id: int) -> Organization:
    if not access.may_read(access_facts.holder(session, person_id), org_id):
        raise NotAllowed()
    org = session.get(Organization, org_id)
    assert org is not None
    return org


def _quorum(
    session: Session,
    present_ids: Iterable[int],
    roll_ids: Iterable[int],
    *,
    statuses: Mapping[int, MemberStatus] | None = None,
) -> bool | None:
    """Whether enough *full* members attended to vote on admissions (None: nobody required).

    ``roll_ids`` is the required roll (exempt members left out), ``present_ids`` who was there;
    probationary members count for the attendance rate but not here (Party Statute art. 4).
    ``statuses`` (member id → status) spares reading the roll again when the caller has it.
    """
    roll = set(roll_ids)
    if not roll:
        return None
    if statuses is None:
        rows = session.execute(select(Member.id, Member.status).where(Member.id.in_(sorted(roll))))
        statuses = {mid: status for mid, status in rows}
    here = set(present_ids)
    full_present, full_members = full_member_counts(
        (statuses[i], i in here) for i in roll if i in statuses
    )
    cfg = get_setting(session, "vote_quorum")
    quorum = Fraction(int(cfg.get("numerator", 2)), int(cfg.get("denominator", 3)))
    return can_vote_on_admission(full_present, full_members, quorum)


def _actor(session: Session, person_id: int) -> Actor:
    person = session.get(Person, person_id)
    return Actor(person.display_name if person else f"person:{person_id}", person_id)
