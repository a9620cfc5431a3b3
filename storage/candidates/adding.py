"""Candidates: adding an outstanding non-member to the cell's sympathizer list."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.errors import InvalidInput, StaleAction
from domain.i18n import N_
from domain.rules import candidates as rules
from domain.rules.candidates import CandidateRules
from domain.text import clean, fold
from domain.vocab import CandidateStage, PriorityGroup
from storage import drafts
from storage.audit import Actor, record, snapshot
from storage.candidates.base import NAME_MAX, UNIT_MAX, DuplicateCandidate, State, _actor, _violate
from storage.candidates.conversation import _guard, _set, _start
from storage.meetings import require_writer
from storage.models import (
    Candidate,
    CandidateEvent,
    Draft,
    Gender,
    Organization,
)


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
