"""The instances owed: one obligation of the catalog for one organization and one period (or
one member, for the full-membership consideration; or one candidate's file, for the admission
pipeline's deadlines), with what is still missing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar import Catalog, ObligationSpec
from domain.rules.candidates import CandidateRules, ceremony_due, decision_due
from domain.rules.deadlines import (
    CANDIDATE_KINDS,
    PeriodRef,
    WorkCalendar,
    missing_from,
    parse_period_key,
    periods_due_between,
    probation_due,
)
from storage.models import Candidate, Member, MemberStatus
from storage.obligations.discharges import DISCHARGES, Pending
from storage.obligations.due_dates import meeting_grace_days
from storage.obligations.organizations import OrgRow, org_rows


@dataclass(frozen=True)
class Instance:
    """One obligation owed by one organization for one period (or one member).

    ``missing`` says what is still missing, as data rendered later in the reader's language:
    ``{"what": "reviews", "n": 3, "period": "2026-11"}``.
    """

    obligation: str
    period: str
    org_id: int
    due: date
    missing: tuple[dict[str, Any], ...] = ()
    member_id: int | None = None
    done: bool = False
    # The first day an open instance counts as late for leaders (digest, /summary): the day
    # after its period for what is done "in the month" (a meeting, the reviews), else the day
    # after the due date (:func:`domain.rules.deadlines.missing_from`).
    late_from: date | None = None

    def late_on(self, today: date) -> bool:
        """Whether the instance, still open, counts as late on ``today``."""
        return not self.done and today >= (self.late_from or self.due + timedelta(days=1))

    @property
    def key(self) -> str:
        """Stable identity: ``regular_meeting:2026-11:12`` (also the snooze key)."""
        return f"{self.obligation}:{self.period}:{self.org_id}"


def _owners(spec: ObligationSpec, orgs: dict[int, OrgRow], only: set[int] | None) -> list[OrgRow]:
    return [
        o
        for o in orgs.values()
        if o.kind in spec.owed_by
        and (not spec.org_types or o.org_type in spec.org_types)
        and (only is None or o.id in only)
    ]


def instances(
    session: Session,
    catalog: Catalog,
    cal: WorkCalendar,
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    org_ids: Iterable[int] | None = None,
    include_done: bool = False,
    orgs: dict[int, OrgRow] | None = None,
) -> list[Instance]:
    """The instances due between ``start`` and ``end`` (inclusive), open ones only by default.

    Args:
        session: The session.
        catalog: The catalog in force.
        cal: Working days and holidays.
        start: First due date wanted.
        end: Last due date wanted.
        tz: Local time zone (briefing notices are dated in UTC).
        org_ids: Only these owing organizations (default: all).
        include_done: Also return discharged instances (``done=True``).
        orgs: The organization rows, if the caller has them already.
    """
    orgs = orgs if orgs is not None else org_rows(session)
    only = set(org_ids) if org_ids is not None else None
    pending: list[Pending] = []
    for spec in catalog.active:
        owners = _owners(spec, orgs, only)
        if not owners:
            continue
        if spec.due.every in CANDIDATE_KINDS:
            pending.extend(pipeline_instances(session, spec, owners, orgs, cal, start, end))
            continue
        if spec.due.per_member:
            pending.extend(_member_instances(session, spec, owners, cal, start, end))
            continue
        by_day: dict[int | None, list[tuple[PeriodRef, date]]] = {}
        for org in owners:
            usual = org.usual_day if spec.due.per_cell_day else None
            if usual not in by_day:
                by_day[usual] = periods_due_between(spec.due, start, end, cal, usual)
            for period, due in by_day[usual]:
                if org.active_during(period.start, due) and org.tracked_on(due, tz):
                    pending.append(Pending(spec, org, period, due))
    grace = meeting_grace_days(session) if pending else None
    by_discharge: dict[str, list[Pending]] = defaultdict(list)
    for p in pending:
        by_discharge[p.spec.discharged_by].append(p)
    for kind, items in by_discharge.items():
        DISCHARGES[kind](session, items, tz)
    out = [
        Instance(
            obligation=p.spec.code,
            period=p.period.key if p.period else (p.key or f"m{p.member_id}"),
            org_id=p.org.id,
            due=p.due,
            missing=tuple(p.missing),
            member_id=p.member_id,
            done=p.done,
            late_from=_late_from(p, grace),
        )
        for p in pending
        if include_done or not p.done
    ]
    return sorted(out, key=lambda i: (i.due, i.obligation, orgs[i.org_id].code, i.period))


#: Obligations done "in the period" (a meeting, the month's reviews): an open one is in progress
#: until the period is over, whatever its nominal day (the cell's usual meeting day).
IN_THE_PERIOD = ("regular_meeting", "thematic_meeting", "reviews", "candidate_consideration")


def _late_from(p: Pending, grace: int | None) -> date:
    if p.period is not None and p.spec.discharged_by in IN_THE_PERIOD:
        return missing_from(max(p.period.end, p.due), p.due, grace)
    return p.due + timedelta(days=1)


def _member_instances(
    session: Session,
    spec: ObligationSpec,
    owners: list[OrgRow],
    cal: WorkCalendar,
    start: date,
    end: date,
) -> list[Pending]:
    """Probationary members whose full-membership consideration falls due in [start, end]."""
    by_id = {o.id: o for o in owners}
    # 30 working days are at most ~60 calendar days (Tết included): bound the query.
    slack = timedelta(days=2 * spec.due.working_days + 30)
    rows = session.execute(
        select(Member.id, Member.org_id, Member.full_name, Member.probation_end_on).where(
            Member.org_id.in_(list(by_id)),
            Member.status == MemberStatus.PROBATIONARY,
            Member.full_member_on.is_(None),
            Member.probation_end_on.is_not(None),
            Member.probation_end_on >= start - slack,
            Member.probation_end_on <= end,
        )
    ).all()
    out = []
    for member_id, org_id, name, ended in rows:
        due = probation_due(ended, spec.due, cal)
        if start <= due <= end:
            out.append(
                Pending(
                    spec,
                    by_id[org_id],
                    None,
                    due,
                    member_id=member_id,
                    member_name=name,
                    probation_end=ended,
                    missing=[
                        {"what": "full_membership", "member": name, "ended": ended.isoformat()}
                    ],
                )
            )
    return out


def pipeline_instances(
    session: Session,
    spec: ObligationSpec,
    owners: list[OrgRow],
    orgs: dict[int, OrgRow],
    cal: WorkCalendar,
    start: date,
    end: date,
) -> list[Pending]:
    """Candidates' files waiting on a deadline of the admission pipeline in [start, end].

    ``candidate_decision``: the cell's resolution waits for the admission decision, owed by the
    body above the cell (its grassroots committee, or the top organization for a grassroots
    cell): N working days, +30 when extended. ``candidate_ceremony``: the decision received,
    the cell owes the ceremony within N working days (none once a late ceremony is approved).
    Source: Quy định 294-QĐ/TW (2025); Hướng dẫn 06-HD/TW (2025).
    """
    decision = spec.due.every == "candidate_decision"
    by_id = {o.id: o for o in owners}
    stage = "cell_resolution" if decision else "decision"
    when = Candidate.resolution_on if decision else Candidate.received_on
    # N working days are at most ~2N + 30 calendar days (Tết included): bound the query.
    slack = timedelta(days=2 * (spec.due.working_days + 30) + 30)
    rows = session.execute(
        select(
            Candidate.id,
            Candidate.org_id,
            Candidate.full_name,
            when,
            Candidate.decision_extended,
            Candidate.approvals,
        ).where(Candidate.stage == stage, when.is_not(None), when >= start - slack, when <= end)
    ).all()
    rs = CandidateRules(
        decision_working_days=spec.due.working_days, ceremony_working_days=spec.due.working_days
    )
    out = []
    for cand_id, cell_id, name, since, extended, approvals in rows:
        cell = orgs.get(cell_id)
        if cell is None:
            continue
        owner = by_id.get(cell.parent_id if decision else cell_id)  # type: ignore[arg-type]
        if owner is None:
            continue
        if decision:
            due = decision_due(since, cal, rs, extended=bool(extended))
        elif "late_ceremony" in (approvals or []):
            continue
        else:
            due = ceremony_due(since, cal, rs)
        if start <= due <= end:
            out.append(
                Pending(
                    spec,
                    owner,
                    None,
                    due,
                    key=f"c{cand_id}",
                    missing=[
                        {
                            "what": spec.due.every,
                            "name": name,
                            "cell": cell.name,
                            "since": since.isoformat(),
                        }
                    ],
                )
            )
    return out


def period_of_instance(instance: Instance) -> PeriodRef | None:
    """The period of a periodic instance (None for a member's)."""
    if instance.period[:1] in ("m", "c"):
        return None
    return parse_period_key(instance.period)
