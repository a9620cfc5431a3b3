"""Candidates: the monthly consideration of the sympathizer list (it discharges the month)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.errors import AlreadyRecorded, StaleAction
from domain.rules import candidates as rules
from domain.rules.candidates import CandidateClosed, CandidateRules
from domain.vocab import CandidateStage
from storage import drafts
from storage.audit import record
from storage.candidates.adding import _event
from storage.candidates.base import APPROVAL_OVER_AGE, State, _actor, _violate, candidate_rules
from storage.candidates.conversation import _guard, _set, _start
from storage.meetings import require_writer
from storage.models import (
    Candidate,
    CandidateConsideration,
    Draft,
    Meeting,
    Organization,
)


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
