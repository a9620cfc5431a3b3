"""Candidates: moving a file a dated step forward, back or out, under the admission rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from domain.errors import InvalidInput, StaleAction
from domain.i18n import N_
from domain.rules import candidates as rules
from domain.rules.candidates import CandidateClosed, CandidateRules, Violation
from domain.rules.deadlines import WorkCalendar
from domain.rules.meetings import DateError, parse_date
from domain.text import clean
from domain.vocab import CandidateStage, IntroducerForm
from storage import drafts, membership, orgs
from storage.audit import Actor, record, snapshot
from storage.candidates.adding import _event
from storage.candidates.base import (
    _APPROVALS,
    _BAD_DATE,
    APPROVAL_DECISION_BREACHED,
    APPROVAL_DECISION_EXTENDED,
    APPROVAL_LATE_CEREMONY,
    APPROVAL_LATE_FULL,
    APPROVAL_OVER_AGE,
    REASON_MAX,
    ConcurrentChange,
    State,
    _actor,
    _full_member_count,
    _violate,
    candidate_rules,
    work_calendar,
)
from storage.candidates.conversation import _guard, _set, _start
from storage.candidates.reading import (
    CandidateRow,
    Deadline,
    _candidate,
    _row,
    deadline_of,
    introduced_on,
    introductions_stale,
)
from storage.models import (
    Candidate,
    Draft,
    Member,
    MemberStatus,
)

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


def _open_file(session: Session, person_id: int, candidate_id: int, version: int) -> Candidate:
    """The file a move starts on: one the person manages, still open, at ``version``."""
    c = _candidate(session, person_id, candidate_id)
    stage = CandidateStage(c.stage)
    if not rules.is_open(stage):
        raise CandidateClosed(name=c.full_name, stage=stage.value)
    _check_version(c, version)
    return c


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
    c = _open_file(session, person_id, candidate_id, version)
    stage = CandidateStage(c.stage)
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


def start_redo_introductions(
    session: Session,
    *,
    person_id: int,
    candidate_id: int,
    version: int,
    today: date,
    now: datetime,
) -> Draft:
    """Start recording new introducers for a file whose introductions are too old to be
    considered (:func:`domain.rules.candidates.check_file_fresh`); the stage stays."""
    c = _open_file(session, person_id, candidate_id, version)
    if not introductions_stale(session, c, today):
        raise StaleAction()
    data: dict[str, Any] = {
        "org_id": c.org_id,
        "cand": c.id,
        "version": c.version,
        "target": CandidateStage.MENTORS.value,
        "forward": True,
        "redo": True,
        "members": [],
    }
    return _start(session, person_id, State.FORM, data, now)


def _move_candidate(session: Session, draft: Draft) -> Candidate:
    c = session.get(Candidate, int(draft.data["cand"]))
    if c is None:
        raise StaleAction()
    _check_version(c, int(draft.data["version"]))
    return c


def _check_version(c: Candidate, version: int) -> None:
    """Refuse a move started from another version of the file than the one in the database."""
    if c.version != version:
        raise ConcurrentChange(name=c.full_name)


def _bump_version(session: Session, c: Candidate, version: int, **values: Any) -> None:
    """Write ``values`` and bump the file's version if it is still ``version``, in one
    statement: of two concurrent moves, one wins and the other is refused; ``c`` is reloaded."""
    won = session.execute(
        update(Candidate)
        .where(Candidate.id == c.id, Candidate.version == version)
        .values(version=Candidate.version + 1, **values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if won != 1:
        raise ConcurrentChange(name=c.full_name)
    session.refresh(c)


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
    redone: bool = False  # the introductions were redone; the stage stayed
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
    if data.get("redo"):
        return _finish_redo(session, person_id, draft, c, today, now, cal, rs)
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
    breach: Violation | None = None  # a broken rule recorded as acknowledged
    if data.get("forward"):
        if target is CandidateStage.CLASS_DONE:
            changes["certificate_on"] = day
        elif target is CandidateStage.MENTORS:
            changes.update(_introducers(session, c, data, day, rs))
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
            if (
                waivable is not None
                and waivable.code == "decision_too_late"
                and APPROVAL_DECISION_BREACHED in approvals
            ):
                breach, waivable = waivable, None
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
    _bump_version(session, c, int(data["version"]))
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
    if breach is not None:
        # The broken rule itself, named with its source, beside the move it let through.
        record(
            session,
            actor=actor,
            at=now,
            action="acknowledge_violation",
            entity="candidate",
            entity_id=c.id,
            after={
                "violation": breach.code,
                "rule_source": breach.rule_source,
                **{k: str(v) for k, v in breach.params.items()},
            },
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


def _introducers(
    session: Session, c: Candidate, data: dict[str, Any], day: date, rs: CandidateRules
) -> dict[str, Any]:
    """The introducers picked in the conversation, checked against the rule (who may introduce,
    the form the applicant's age and unions require, 12 months known): the file's new values."""
    form = IntroducerForm(data["form"])
    age = rules.age_months(c.birth_year, c.birth_month or 12, day) if c.birth_year else None
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
    return {"introducer_form": form.value, "introducers": [p.member_id for p in people]}


def _finish_redo(
    session: Session,
    person_id: int,
    draft: Draft,
    c: Candidate,
    today: date,
    now: datetime,
    cal: WorkCalendar,
    rs: CandidateRules,
) -> Moved:
    """Write the redone introductions (same rules as the first time), dated and audited; the
    file keeps its stage, and the 12 months run again from this date."""
    data = draft.data
    day = date.fromisoformat(data["day"]) if data.get("day") else today
    changes = _introducers(session, c, data, day, rs)
    before = snapshot(c, ["introducer_form", "introducers", "version"])
    _bump_version(session, c, int(data["version"]))
    for key, value in changes.items():
        setattr(c, key, value)
    c.updated_at = now
    actor = _actor(session, person_id)
    _event(
        session,
        c,
        "redo",
        CandidateStage.MENTORS,
        day,
        now,
        actor,
        from_stage=c.stage,
        detail={k: v for k, v in data.items() if k in ("form", "members")},
    )
    record(
        session,
        actor=actor,
        at=now,
        action="redo_introductions",
        entity="candidate",
        entity_id=c.id,
        before=before,
        after=snapshot(c, ["introducer_form", "introducers", "version"]),
    )
    drafts.finish(session, person_id)
    session.flush()
    stage = CandidateStage(c.stage)
    return Moved(
        c.id,
        c.org_id,
        c.full_name,
        stage,
        day,
        member_id=c.member_id,
        deadline=deadline_of(c, today, cal, rs),
        redone=True,
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
    _bump_version(session, c, version, decision_extended=True, updated_at=now)
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
