"""Who owes what, and what discharges it: the queries behind reminders, digests and /deadlines.

An *instance* is one obligation of the catalog for one organization and one period (or one
member, for the full-membership consideration). It is *discharged* as soon as its record
exists, so the next reminder simply is not computed:

==========================  ==================================================================
regular_meeting             a live regular or combined meeting held in the month
thematic_meeting            a live thematic or combined meeting held in the quarter
reviews                     a review, for the month, of every full and probationary member
candidate_consideration     the month's consideration of the sympathizer list
report                      the report of that kind and period, submitted
briefing                    a briefing notice dated in the quarter (the top organization)
steering_review             the steering group's review of that obligation and period, recorded
full_membership             the member is no longer probationary (full, or left the roll)
manual                      nothing records it yet: never discharged (no overdue reminders)
==========================  ==================================================================

Every discharge is one GROUP BY query over all the organizations concerned, not one query per
cell. The catalog itself (``obligations`` rows and the ``calendar`` setting) and the public
holidays are read and written here too.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, delete, distinct, extract, func, or_, select, update
from sqlalchemy.orm import Session

from domain import access
from domain.calendar import DATA, Catalog, ObligationSpec
from domain.rules.candidates import CandidateRules, ceremony_due, decision_due
from domain.rules.deadlines import (
    CANDIDATE_KINDS,
    DueRule,
    PeriodRef,
    WorkCalendar,
    due_date,
    due_rule_from,
    missing_from,
    parse_period_key,
    periods_due_between,
    probation_due,
    weekdays,
)
from domain.rules.holidays import (
    RULE_SOURCE_LABOUR_CODE,
    Decision,
    HolidayDecisions,
    added_value,
    parse_holiday_data,
    rules_from,
)
from storage import reviews
from storage.audit import Actor, record
from storage.models import (
    Candidate,
    CandidateConsideration,
    Holiday,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Notice,
    NoticeReply,
    Obligation,
    Organization,
    OrgKind,
    OrgType,
    Outbox,
    OutboxStatus,
    Person,
    Report,
    ReportStatus,
    Review,
    Role,
    RoleAssignment,
    Setting,
    Snooze,
    SteeringReview,
)

CALENDAR_SETTING = "calendar"
REGULAR_KINDS = [MeetingKind.REGULAR, MeetingKind.COMBINED]
THEMATIC_KINDS = [MeetingKind.THEMATIC, MeetingKind.COMBINED]
#: Members whose commitment is reviewed each month (exempt members do not attend meetings).
REVIEWED_STATUSES = [MemberStatus.FULL, MemberStatus.PROBATIONARY]


# --- Organizations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgRow:
    """What the calendar needs of an organization."""

    id: int
    code: str
    name: str
    kind: OrgKind
    org_type: str | None
    parent_id: int | None
    active_from: date | None
    active_to: date | None
    usual_day: int | None
    # When the organization was added to chibo: obligations due before that are not chased
    # (a cell imported on 23/11 is not reminded of September's meeting).
    tracked_since: datetime | None = None

    def tracked_on(self, due: date, tz: ZoneInfo) -> bool:
        """Tell whether chibo already followed the organization on ``due``."""
        return self.tracked_since is None or due >= self.tracked_since.astimezone(tz).date()

    def active_during(self, start: date, end: date) -> bool:
        """Tell whether the organization existed at some point of [start, end]."""
        return (self.active_from is None or self.active_from <= end) and (
            self.active_to is None or self.active_to >= start
        )


def org_rows(session: Session) -> dict[int, OrgRow]:
    """Every organization of the tree (a few thousand rows at most)."""
    rows = session.execute(
        select(
            Organization.id,
            Organization.code,
            Organization.name,
            Organization.kind,
            Organization.org_type,
            Organization.parent_id,
            Organization.active_from,
            Organization.active_to,
            Organization.usual_meeting_day,
            Organization.created_at,
        )
    ).all()
    return {r[0]: OrgRow(*r) for r in rows}


def org_type_names(session: Session) -> dict[str, tuple[str, str, int]]:
    """Organization type code → (Vietnamese name, English name, sort)."""
    return {
        code: (vi, en, sort)
        for code, vi, en, sort in session.execute(
            select(OrgType.code, OrgType.name_vi, OrgType.name_en, OrgType.sort)
        )
    }


def org_type_codes(session: Session) -> set[str]:
    """The organization type codes known to the database."""
    return set(session.scalars(select(OrgType.code)))


# --- Instances ---------------------------------------------------------------------------------


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


@dataclass
class _Pending:
    spec: ObligationSpec
    org: OrgRow
    period: PeriodRef | None
    due: date
    member_id: int | None = None
    member_name: str | None = None
    probation_end: date | None = None
    missing: list[dict[str, Any]] = field(default_factory=list)
    key: str | None = None  # "c<id>": a candidate's file (pipeline deadlines)
    done: bool = False


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
    pending: list[_Pending] = []
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
                    pending.append(_Pending(spec, org, period, due))
    grace = meeting_grace_days(session) if pending else None
    by_discharge: dict[str, list[_Pending]] = defaultdict(list)
    for p in pending:
        by_discharge[p.spec.discharged_by].append(p)
    for kind, items in by_discharge.items():
        _DISCHARGES[kind](session, items, tz)
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


def _late_from(p: _Pending, grace: int | None) -> date:
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
) -> list[_Pending]:
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
                _Pending(
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
) -> list[_Pending]:
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
                _Pending(
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


def _span(items: Sequence[_Pending]) -> tuple[date, date]:
    periods = [p.period for p in items if p.period is not None]
    return min(p.start for p in periods), max(p.end for p in periods)


def _org_ids(items: Sequence[_Pending]) -> list[int]:
    return sorted({p.org.id for p in items})


def _ym(col: Any) -> tuple[Any, Any]:
    return extract("year", col).cast(Integer), extract("month", col).cast(Integer)


def _months_with_meeting(
    session: Session, items: Sequence[_Pending], kinds: list[MeetingKind]
) -> set[tuple[int, int, int]]:
    start, end = _span(items)
    y, m = _ym(Meeting.held_on)
    rows = session.execute(
        select(Meeting.org_id, y, m)
        .where(
            Meeting.org_id.in_(_org_ids(items)),
            Meeting.kind.in_(kinds),
            Meeting.deleted_at.is_(None),
            Meeting.held_on >= start,
            Meeting.held_on <= end,
        )
        .group_by(Meeting.org_id, y, m)
    ).all()
    return {(int(o), int(yy), int(mm)) for o, yy, mm in rows}


def _regular_meeting(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    held = _months_with_meeting(session, items, REGULAR_KINDS)
    for p in items:
        assert p.period is not None
        if (p.org.id, p.period.year, p.period.index) in held:
            p.done = True
        else:
            p.missing.append({"what": "regular_meeting", "period": p.period.key})


def _thematic_meeting(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    held = _months_with_meeting(session, items, THEMATIC_KINDS)
    quarters = {(o, y, (m - 1) // 3 + 1) for o, y, m in held}
    for p in items:
        assert p.period is not None
        # A thematic rule may be yearly or half-yearly in an edited catalog: any month counts.
        months = [
            (p.period.year, mm) for mm in range(p.period.first_month, p.period.end.month + 1)
        ]
        if p.period.kind == "quarter":
            hit = (p.org.id, p.period.year, p.period.index) in quarters
        else:
            hit = any((p.org.id, yy, mm) in held for yy, mm in months)
        if hit:
            p.done = True
        else:
            p.missing.append({"what": "thematic_meeting", "period": p.period.key})


def _reviews(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    """Every member on the month's roll reviewed: the roll of that month (where and as what
    the members were on its first day, :func:`storage.reviews.roll_counts`), not today's."""
    ids = _org_ids(items)
    months_of: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for p in items:
        assert p.period is not None
        months_of[p.org.id].add((p.period.year, p.period.index))
    required = {
        org_id: reviews.roll_counts(session, org_id=org_id, months=sorted(months))
        for org_id, months in months_of.items()
    }
    years = sorted({p.period.year for p in items if p.period is not None})
    rows = session.execute(
        select(Review.org_id, Review.year, Review.month, func.count(distinct(Review.member_id)))
        .where(Review.org_id.in_(ids), Review.year.in_(years))
        .group_by(Review.org_id, Review.year, Review.month)
    ).all()
    done = {(int(o), int(y), int(m)): int(n) for o, y, m, n in rows}
    for p in items:
        assert p.period is not None
        need = required[p.org.id].get((p.period.year, p.period.index), 0)
        have = done.get((p.org.id, p.period.year, p.period.index), 0)
        if have >= need:
            p.done = True
        else:
            p.missing.append({"what": "reviews", "n": need - have, "period": p.period.key})


def _candidate_consideration(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    years = sorted({p.period.year for p in items if p.period is not None})
    rows = session.execute(
        select(
            CandidateConsideration.org_id,
            CandidateConsideration.year,
            CandidateConsideration.month,
        ).where(
            CandidateConsideration.org_id.in_(_org_ids(items)),
            CandidateConsideration.year.in_(years),
        )
    ).all()
    done = {(int(o), int(y), int(m)) for o, y, m in rows}
    for p in items:
        assert p.period is not None
        if (p.org.id, p.period.year, p.period.index) in done:
            p.done = True
        else:
            p.missing.append({"what": "candidate_consideration", "period": p.period.key})


def _report(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    kinds = sorted({p.spec.report_kind for p in items if p.spec.report_kind})
    periods = sorted({p.period.key for p in items if p.period is not None})
    rows = session.execute(
        select(Report.org_id, Report.kind, Report.period).where(
            Report.org_id.in_(_org_ids(items)),
            Report.kind.in_(kinds),
            Report.period.in_(periods),
            Report.status == ReportStatus.SUBMITTED,
        )
    ).all()
    done = {(int(o), k, per) for o, k, per in rows}
    for p in items:
        assert p.period is not None
        if (p.org.id, p.spec.report_kind, p.period.key) in done:
            p.done = True
        else:
            p.missing.append({"what": "report", "obligation": p.spec.code, "period": p.period.key})


def _local_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    lo = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return lo, hi


def _briefing(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    start, end = _span(items)
    lo, hi = _local_bounds(start, end, tz)
    dates = [
        at.astimezone(tz).date()
        for at in session.scalars(
            select(Notice.event_at).where(
                Notice.kind == "briefing",
                Notice.event_at.is_not(None),
                Notice.event_at >= lo,
                Notice.event_at < hi,
            )
        )
        if at is not None
    ]
    for p in items:
        assert p.period is not None
        if any(p.period.start <= d <= p.period.end for d in dates):
            p.done = True
        else:
            p.missing.append({"what": "briefing", "period": p.period.key})


def _steering_review(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    codes = sorted({p.spec.code for p in items})
    periods = sorted({p.period.key for p in items if p.period is not None})
    rows = session.execute(
        select(SteeringReview.top_id, SteeringReview.obligation, SteeringReview.period).where(
            SteeringReview.top_id.in_(_org_ids(items)),
            SteeringReview.obligation.in_(codes),
            SteeringReview.period.in_(periods),
        )
    ).all()
    done = {(int(o), c, per) for o, c, per in rows}
    for p in items:
        assert p.period is not None
        if (p.org.id, p.spec.code, p.period.key) in done:
            p.done = True
        else:
            p.missing.append(
                {"what": "steering_review", "obligation": p.spec.code, "period": p.period.key}
            )


def _full_membership(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    # Only still-probationary members were selected: nothing more to check.
    return None


def _manual(session: Session, items: list[_Pending], tz: ZoneInfo) -> None:
    for p in items:
        p.missing.append({"what": "manual", "obligation": p.spec.code})


_DISCHARGES = {
    "regular_meeting": _regular_meeting,
    "thematic_meeting": _thematic_meeting,
    "reviews": _reviews,
    "candidate_consideration": _candidate_consideration,
    "report": _report,
    "briefing": _briefing,
    "steering_review": _steering_review,
    "full_membership": _full_membership,
    # Only files still waiting at that stage are selected: nothing more to check.
    "candidate_decision": _full_membership,
    "candidate_ceremony": _full_membership,
    "manual": _manual,
}


def period_of_instance(instance: Instance) -> PeriodRef | None:
    """The period of a periodic instance (None for a member's)."""
    if instance.period[:1] in ("m", "c"):
        return None
    return parse_period_key(instance.period)


# --- Recipients --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """Who gets an instance's reminder; ``fallback`` when it is the committee above."""

    person_id: int
    fallback: bool = False


def role_holders(session: Session, org_ids: Iterable[int]) -> dict[int, list[tuple[int, Role]]]:
    """Org id → (person id, role) of the active role assignments there."""
    ids = sorted(set(org_ids))
    out: dict[int, list[tuple[int, Role]]] = defaultdict(list)
    if not ids:
        return out
    for person_id, org_id, role in session.execute(
        select(RoleAssignment.person_id, RoleAssignment.org_id, RoleAssignment.role)
        .where(RoleAssignment.org_id.in_(ids), RoleAssignment.revoked_at.is_(None))
        .order_by(RoleAssignment.id)
    ):
        out[org_id].append((person_id, role))
    return out


def recipients(
    session: Session,
    catalog: Catalog,
    items: Sequence[Instance],
    orgs: dict[int, OrgRow],
) -> dict[str, list[Recipient]]:
    """Instance key → who is reminded.

    Who is decided by :func:`domain.access.reminded`: the holders of the obligation's roles in
    the owing organization, else the grassroots committee's secretary above (``fallback``).
    """
    wanted = {i.org_id for i in items}
    wanted |= {p for i in wanted if (p := orgs[i].parent_id) is not None}
    holders = role_holders(session, wanted)
    out: dict[str, list[Recipient]] = {}
    for inst in items:
        spec = catalog.get(inst.obligation)
        if spec is None:
            continue
        parent = orgs[inst.org_id].parent_id
        people, fallback = access.reminded(
            spec.remind,
            holders.get(inst.org_id, []),
            parent_kind=orgs[parent].kind if parent is not None else None,
            above=holders.get(parent, []) if parent is not None else [],
        )
        out[inst.key] = [Recipient(p, fallback=fallback) for p in people]
    return out


def role_org_ids(session: Session, person_id: int) -> set[int]:
    """The organizations where the person holds an active role."""
    return set(
        session.scalars(
            select(RoleAssignment.org_id).where(
                RoleAssignment.person_id == person_id, RoleAssignment.revoked_at.is_(None)
            )
        )
    )


@dataclass(frozen=True)
class PersonInfo:
    """What sending needs to know of a person."""

    id: int
    display_name: str
    telegram_user_id: int | None
    locale: str | None
    reminder_hour: int | None
    mute_nonessential: bool
    blocked_at: datetime | None

    @property
    def reachable(self) -> bool:
        """Linked to Telegram and not known to block the bot."""
        return self.telegram_user_id is not None and self.blocked_at is None


def people_info(session: Session, ids: Iterable[int]) -> dict[int, PersonInfo]:
    """Person id → :class:`PersonInfo`."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(
            Person.id,
            Person.display_name,
            Person.telegram_user_id,
            Person.locale,
            Person.reminder_hour,
            Person.mute_nonessential,
            Person.blocked_at,
        ).where(Person.id.in_(wanted))
    ).all()
    return {r[0]: PersonInfo(*r) for r in rows}


def _assignments(session: Session, roles: Iterable[Role]) -> list[tuple[int, Role, OrgKind]]:
    """(person, role, kind of the organization) of the active assignments of ``roles``."""
    return [
        (p, r, k)
        for p, r, k in session.execute(
            select(RoleAssignment.person_id, RoleAssignment.role, Organization.kind)
            .join(Organization, Organization.id == RoleAssignment.org_id)
            .where(RoleAssignment.role.in_(list(roles)), RoleAssignment.revoked_at.is_(None))
            .order_by(RoleAssignment.person_id)
        )
    ]


def leaders(session: Session, roles: Iterable[str]) -> list[int]:
    """Who receives the leaders' digest (:func:`domain.access.gets_digest`)."""
    wanted = frozenset(Role(r) for r in roles)
    return list(
        dict.fromkeys(
            p
            for p, role, kind in _assignments(session, wanted)
            if access.gets_digest(role, kind, wanted)
        )
    )


def admins(session: Session) -> list[int]:
    """Who is told about unreachable people (:func:`domain.access.told_of_unreachable`)."""
    return access.told_of_unreachable(_assignments(session, [Role.ADMIN, Role.ORGANIZATION]))


# --- Snoozes and preferences -------------------------------------------------------------------


def snoozes(
    session: Session, person_ids: Iterable[int], now: datetime
) -> dict[tuple[int, str], datetime]:
    """(person id, instance key) → snoozed until, for snoozes not older than a week."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Snooze.person_id, Snooze.instance_key, Snooze.until).where(
            Snooze.person_id.in_(ids), Snooze.until >= now - timedelta(days=7)
        )
    ).all()
    return {(p, k): u for p, k, u in rows}


def snooze(
    session: Session,
    *,
    person_id: int,
    instance_keys: Iterable[str],
    until: datetime,
    now: datetime,
) -> int:
    """Remind the person of these instances at ``until`` (idempotent); returns how many."""
    keys = sorted(set(instance_keys))
    existing = {
        s.instance_key: s
        for s in session.scalars(
            select(Snooze).where(Snooze.person_id == person_id, Snooze.instance_key.in_(keys))
        )
    }
    for key in keys:
        row = existing.get(key)
        if row is None:
            session.add(Snooze(person_id=person_id, instance_key=key[:120], until=until))
        else:
            row.until = until
    person = session.get(Person, person_id)
    record(
        session,
        actor=Actor(person.display_name if person else "?", person_id),
        at=now,
        action="snooze",
        entity="reminder",
        entity_id=person_id,
        after={"instances": keys, "until": until},
    )
    return len(keys)


def set_preferences(
    session: Session,
    *,
    person_id: int,
    now: datetime,
    hour: int | None = None,
    mute_nonessential: bool | None = None,
) -> Person:
    """Change a person's reminder hour and/or muting (audited)."""
    person = session.get(Person, person_id)
    if person is None:
        raise LookupError(person_id)
    before = {"reminder_hour": person.reminder_hour, "mute_nonessential": person.mute_nonessential}
    if hour is not None:
        person.reminder_hour = hour
    if mute_nonessential is not None:
        person.mute_nonessential = mute_nonessential
    after = {"reminder_hour": person.reminder_hour, "mute_nonessential": person.mute_nonessential}
    if before != after:
        record(
            session,
            actor=Actor(person.display_name, person.id),
            at=now,
            action="update",
            entity="person",
            entity_id=person.id,
            before=before,
            after=after,
        )
    return person


def sent_rows_of_message(session: Session, *, outbox_id: int, person_id: int) -> list[Outbox]:
    """The outbox rows delivered in the same Telegram message as row ``outbox_id``."""
    row = session.get(Outbox, outbox_id)
    if row is None or row.person_id != person_id:
        return []
    if row.telegram_message_id is None:
        return [row]
    return list(
        session.scalars(
            select(Outbox).where(
                Outbox.person_id == person_id,
                Outbox.telegram_message_id == row.telegram_message_id,
            )
        )
    )


# --- Reachability ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unreachable:
    """A person with a role whom the bot cannot reach."""

    person_id: int
    name: str
    reason: str  # "not_linked" | "never_started" | "blocked"
    since: datetime | None
    roles: tuple[tuple[Role, str], ...]  # (role, organization code)
    undelivered: int


def unreachable(session: Session) -> list[Unreachable]:
    """People holding a role who are not linked, never wrote to the bot, or blocked it."""
    rows = session.execute(
        select(Person, RoleAssignment.role, Organization.code)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .join(Organization, Organization.id == RoleAssignment.org_id)
        .where(
            RoleAssignment.revoked_at.is_(None),
            or_(
                Person.telegram_user_id.is_(None),
                Person.started_at.is_(None),
                Person.blocked_at.is_not(None),
            ),
        )
        .order_by(Person.display_name, Organization.code)
    ).all()
    people: dict[int, tuple[Person, list[tuple[Role, str]]]] = {}
    for person, role, code in rows:
        people.setdefault(person.id, (person, []))[1].append((role, code))
    counts = (
        dict(
            session.execute(
                select(Outbox.person_id, func.count(Outbox.id))
                .where(
                    Outbox.person_id.in_(list(people)),
                    Outbox.status.in_([OutboxStatus.BLOCKED, OutboxStatus.FAILED]),
                )
                .group_by(Outbox.person_id)
            )
            .tuples()
            .all()
        )
        if people
        else {}
    )
    out = []
    for pid, (person, roles) in people.items():
        if person.blocked_at is not None:
            reason, since = "blocked", person.blocked_at
        elif person.telegram_user_id is None:
            reason, since = "not_linked", None
        else:
            reason, since = "never_started", None
        out.append(
            Unreachable(
                pid, person.display_name, reason, since, tuple(roles), int(counts.get(pid, 0))
            )
        )
    return out


# --- The catalog and the holidays --------------------------------------------------------------


def catalog_rows(session: Session) -> tuple[list[Obligation], dict[str, Any] | None]:
    """The stored obligations and the calendar-wide settings (None when never loaded)."""
    rows = list(session.scalars(select(Obligation).order_by(Obligation.code)))
    setting = session.get(Setting, CALENDAR_SETTING)
    return rows, (setting.value if setting is not None else None)


def save_catalog(
    session: Session,
    *,
    rows: list[tuple[str, dict[str, Any], str, bool]],
    calendar: dict[str, Any],
    rule_source: str,
    actor: Actor,
    now: datetime,
) -> list[str]:
    """Replace the catalog: upsert ``rows``, deactivate the others; return the deactivated."""
    existing = {o.code: o for o in session.scalars(select(Obligation))}
    for code, spec, source, active in rows:
        row = existing.get(code)
        if row is None:
            session.add(
                Obligation(code=code, spec=spec, rule_source=source, active=active, loaded_at=now)
            )
        else:
            row.spec, row.rule_source, row.active, row.loaded_at = spec, source, active, now
    codes = {r[0] for r in rows}
    deactivated = sorted(c for c, o in existing.items() if c not in codes and o.active)
    if deactivated:
        session.execute(
            update(Obligation).where(Obligation.code.in_(deactivated)).values(active=False)
        )
    setting = session.get(Setting, CALENDAR_SETTING)
    if setting is None:
        session.add(
            Setting(
                key=CALENDAR_SETTING,
                value=calendar,
                rule_source=rule_source[:200],
                updated_at=now,
                updated_by=actor.label[:120],
            )
        )
    else:
        setting.value, setting.rule_source = calendar, rule_source[:200]
        setting.updated_at, setting.updated_by = now, actor.label[:120]
    record(
        session,
        actor=actor,
        at=now,
        action="load",
        entity="calendar",
        after={"obligations": sorted(codes), "deactivated": deactivated},
    )
    return deactivated


def holiday_days(session: Session) -> dict[date, str]:
    """The stored days off decided by the Government (not the law's computed holidays)."""
    return dict(
        session.execute(select(Holiday.day, Holiday.name).where(Holiday.kind == "day_off"))
        .tuples()
        .all()
    )


def holiday_decisions(session: Session) -> list[Decision]:
    """Every stored decision: days off and days worked, with their source."""
    return [
        Decision(day, kind or "day_off", name, source or "")
        for day, kind, name, source in session.execute(
            select(Holiday.day, Holiday.kind, Holiday.name, Holiday.source).order_by(Holiday.day)
        )
    ]


def save_holidays(
    session: Session,
    *,
    days: dict[date, str] | None = None,
    years: Iterable[int],
    actor: Actor,
    now: datetime,
    decisions: Iterable[Decision] = (),
    rules: dict[str, Any] | None = None,
    added: list[dict[str, Any]] | None = None,
    rule_source: str = "",
) -> None:
    """Replace the decisions of ``years``; store the layout rules and added holidays if given.

    ``days`` (day → name) are days off without a source, as older files gave them.
    """
    for year in sorted(set(years)):
        session.execute(
            delete(Holiday).where(
                Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31)
            )
        )
    session.flush()
    rows = {d.day: d for d in decisions}
    for day, name in (days or {}).items():
        rows.setdefault(day, Decision(day, "day_off", name, rule_source))
    for d in sorted(rows.values(), key=lambda d: d.day):
        session.add(Holiday(day=d.day, name=d.name[:120], kind=d.kind, source=(d.source or None)))
    if rules is not None or added is not None:
        setting = session.get(Setting, HOLIDAY_RULES_SETTING)
        value = dict(setting.value) if setting is not None else {}
        if rules is not None:
            value.update(rules)
        if added is not None:
            value["added"] = added
        if setting is None:
            session.add(
                Setting(
                    key=HOLIDAY_RULES_SETTING,
                    value=value,
                    rule_source=(rule_source or RULE_SOURCE_LABOUR_CODE)[:200],
                    updated_at=now,
                    updated_by=actor.label[:120],
                )
            )
        else:
            setting.value = value
            setting.updated_at, setting.updated_by = now, actor.label[:120]
    record(
        session,
        actor=actor,
        at=now,
        action="load",
        entity="holidays",
        after={"years": sorted(set(years)), "days": len(rows), "rules": rules is not None},
    )


# --- One source of truth for due dates ---------------------------------------------------------

HOLIDAY_RULES_SETTING = "holiday_rules"


@cache
def _shipped_toml(name: str) -> dict[str, Any]:
    return tomllib.loads((DATA / name).read_text(encoding="utf-8"))


def shipped_holidays() -> HolidayDecisions:
    """The shipped decisions and layout rules (``domain/data/holidays.toml``)."""
    return parse_holiday_data(_shipped_toml("holidays.toml"))


def _calendar_head(session: Session) -> dict[str, Any]:
    setting = session.get(Setting, CALENDAR_SETTING)
    if setting is not None and isinstance(setting.value, dict):
        return dict(setting.value)
    return dict(_shipped_toml("calendar.toml").get("calendar", {}))


def meeting_grace_days(session: Session) -> int | None:
    """The calendar's grace rule for what is done in the month (a meeting, the reviews): an
    undone one counts as missing this many days after the cell's usual day (``[calendar]
    meeting_grace_days``); None (the default): only once the month is over."""
    value = _calendar_head(session).get("meeting_grace_days")
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def decisions_in_force(session: Session) -> list[Decision]:
    """The Government's decisions in force: the loaded ones, else the shipped file's."""
    decisions = holiday_decisions(session)
    if not decisions and session.get(Setting, HOLIDAY_RULES_SETTING) is None:
        decisions = list(shipped_holidays().decisions)
    return decisions


def work_calendar(
    session: Session,
    *,
    weekend: frozenset[int] | None = None,
    no_reminders_on: frozenset[int] | None = None,
) -> WorkCalendar:
    """Working days in force: the law's holidays of every year, plus the stored decisions.

    Until holidays are loaded into the database, the shipped file's decisions and rules apply.
    The weekend defaults to the calendar in force (Saturday and Sunday).
    """
    head = _calendar_head(session)
    if weekend is None:
        weekend = weekdays(head.get("weekend", ["sat", "sun"]))
    if no_reminders_on is None:
        no_reminders_on = weekdays(head.get("no_reminders_on", ["sun"]))
    decisions = decisions_in_force(session)
    setting = session.get(Setting, HOLIDAY_RULES_SETTING)
    if setting is not None and isinstance(setting.value, dict):
        rules_value = dict(setting.value)
    else:
        shipped = shipped_holidays()
        rules_value = {**(shipped.rules or {}), "added": added_value(shipped.added or ())}
    return WorkCalendar(
        holidays=frozenset(d.day for d in decisions if d.kind == "day_off"),
        weekend=weekend,
        no_reminders_on=no_reminders_on,
        working_days=frozenset(d.day for d in decisions if d.kind == "working_day"),
        rules=rules_from(rules_value, weekend),
    )


@dataclass(frozen=True)
class DueEntry:
    """What the catalog in force says of one obligation's due date."""

    code: str
    rule: DueRule
    rule_source: str
    report_kind: str | None
    owed_by: tuple[str, ...]
    discharged_by: str = ""
    title_vi: str = ""
    title_en: str = ""


def due_entries(session: Session) -> dict[str, DueEntry]:
    """Obligation code → its due-date rule, from the catalog in force (loaded, else shipped).

    The catalog's ``[calendar] if_day_off`` is the default for obligations that do not say.
    """
    rows, stored = catalog_rows(session)
    if rows and stored is not None:
        head = dict(stored)
        raw = [{**r.spec, "code": r.code, "rule_source": r.rule_source} for r in rows if r.active]
    else:
        data = _shipped_toml("calendar.toml")
        head = dict(data.get("calendar", {}))
        raw = [o for o in data.get("obligation", []) if o.get("active", True)]
    default_roll = str(head.get("if_day_off", "keep"))
    out = {}
    for item in raw:
        out[item["code"]] = DueEntry(
            code=item["code"],
            rule=due_rule_from(item, default_roll),
            rule_source=str(item.get("rule_source", "")),
            report_kind=item.get("report_kind"),
            owed_by=tuple(item.get("owed_by", ())),
            discharged_by=str(item.get("discharged_by", "")),
            title_vi=str(item.get("title_vi", "")),
            title_en=str(item.get("title_en", "")),
        )
    return out


def due_date_of(
    session: Session,
    code: str,
    period: PeriodRef,
    *,
    usual_day: int | None = None,
    cal: WorkCalendar | None = None,
) -> date | None:
    """THE due date of obligation ``code`` for ``period`` (None: no such obligation in force).

    Reminders, /deadlines, /report, /summary, the digests and the documents all get their due
    dates from the catalog in force through this function (or :func:`instances`, which uses the
    same rule and calendar).
    """
    entry = due_entries(session).get(code)
    if entry is None or entry.rule.per_member:
        return None
    return due_date(entry.rule, period, cal or work_calendar(session), usual_day)


def report_due_date(session: Session, report_kind: str, period: PeriodRef) -> date | None:
    """THE due date of a report of ``report_kind`` for ``period`` (None: no obligation asks it)."""
    return report_due_dates(session, [(report_kind, period)])[0]


def report_due_dates(
    session: Session, asked: Sequence[tuple[str, PeriodRef]]
) -> list[date | None]:
    """:func:`report_due_date` of many (report kind, period) pairs, in order, reading the
    catalog and the working calendar once (a year's summary asks a dozen)."""
    entries = list(due_entries(session).values())
    cal: WorkCalendar | None = None
    out: list[date | None] = []
    for report_kind, period in asked:
        entry = next(
            (e for e in entries if e.report_kind == report_kind and e.rule.every == period.kind),
            None,
        )
        if entry is None:
            out.append(None)
            continue
        if cal is None:
            cal = work_calendar(session)
        out.append(due_date(entry.rule, period, cal))
    return out


# --- Notices and briefings ---------------------------------------------------------------------

NOTICE_KINDS = ("notice", "briefing")
NOTICE_ANSWERS = ("seen", "attend", "decline")


def parse_scope(text: str) -> dict[str, str]:
    """``all``, ``type:<org type code>`` or ``committee:<organization code>`` → scope dict."""
    text = text.strip()
    if text == "all":
        return {"kind": "all"}
    kind, _, code = text.partition(":")
    if kind in ("type", "committee") and code.strip():
        return {"kind": kind, "code": code.strip()}
    raise ValueError(f"scope must be all, type:<code> or committee:<code>, not {text!r}")


def scope_recipients(session: Session, scope: dict[str, Any], *, on: date) -> list[int]:
    """The secretaries a notice to ``scope`` goes to: cell secretaries and grassroots secretaries.

    ``all``: every active cell and grassroots committee; ``type``: those of one organization
    type; ``committee``: one grassroots party committee and the cells below it.
    """
    orgs = org_rows(session)
    active = {o.id: o for o in orgs.values() if o.active_during(on, on)}
    kind = scope.get("kind")
    if kind == "all":
        wanted = {o.id for o in active.values() if o.kind is not OrgKind.TOP}
    elif kind == "type":
        wanted = {o.id for o in active.values() if o.org_type == scope.get("code")}
    elif kind == "committee":
        root = next((o for o in active.values() if o.code == str(scope.get("code")).upper()), None)
        if root is None:
            raise LookupError(scope.get("code"))
        wanted = {root.id} | {o.id for o in active.values() if o.parent_id == root.id}
    else:
        raise ValueError(f"unknown scope {scope!r}")
    holders = role_holders(session, wanted)
    return sorted(
        {pid for items in holders.values() for pid, role in items if access.gets_notice(role)}
    )


def create_notice(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str | None,
    scope: dict[str, Any],
    event_at: datetime | None,
    place: str | None,
    actor: Actor,
    now: datetime,
) -> tuple[Notice, list[int]]:
    """Create a notice (or briefing invitation) and queue it to every secretary in scope."""
    if kind not in NOTICE_KINDS:
        raise ValueError(kind)
    recipients = scope_recipients(session, scope, on=now.date())
    notice = Notice(
        kind=kind,
        title=title[:300],
        body=body,
        scope=scope,
        event_at=event_at,
        place=place[:300] if place else None,
        created_by=actor.person_id,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    record(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="notice",
        entity_id=notice.id,
        after={"kind": kind, "scope": scope, "recipients": len(recipients)},
    )
    return notice, recipients


def reply_to_notice(
    session: Session, *, notice_id: int, person_id: int, answer: str, now: datetime
) -> bool:
    """Record a recipient's answer (idempotent); returns False if the answer was already it."""
    if answer not in NOTICE_ANSWERS:
        raise ValueError(answer)
    row = session.scalar(
        select(NoticeReply).where(
            NoticeReply.notice_id == notice_id, NoticeReply.person_id == person_id
        )
    )
    if row is not None and row.answer == answer:
        return False
    if row is None:
        session.add(
            NoticeReply(notice_id=notice_id, person_id=person_id, answer=answer, answered_at=now)
        )
    else:
        row.answer, row.answered_at = answer, now
    return True


@dataclass(frozen=True)
class NoticeStatus:
    """Who was sent a notice and how they answered."""

    notice: Notice
    answers: dict[str, list[str]]  # answer → names
    waiting: list[str]  # names of those who have not answered


def notice_status(session: Session, notice_id: int) -> NoticeStatus | None:
    """The answers to a notice, and who has not confirmed yet."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        return None
    sent_to = dict(
        session.execute(
            select(Person.id, Person.display_name)
            .join(Outbox, Outbox.person_id == Person.id)
            .where(Outbox.key.like(f"notice:{notice_id}:%"))
        )
        .tuples()
        .all()
    )
    answers: dict[str, list[str]] = defaultdict(list)
    answered: set[int] = set()
    for pid, answer in session.execute(
        select(NoticeReply.person_id, NoticeReply.answer).where(NoticeReply.notice_id == notice_id)
    ):
        answered.add(pid)
        answers[answer].append(sent_to.get(pid, "?"))
    waiting = sorted(name for pid, name in sent_to.items() if pid not in answered)
    return NoticeStatus(notice, {k: sorted(v) for k, v in answers.items()}, waiting)


def was_sent_notice(session: Session, *, notice_id: int, person_id: int) -> bool:
    """Whether the notice was addressed to this person (buttons are re-checked against it)."""
    return (
        session.scalar(select(Outbox.id).where(Outbox.key == f"notice:{notice_id}:{person_id}"))
        is not None
    )
