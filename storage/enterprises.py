"""Non-state enterprises the steering group works with: the use cases behind /enterprises.

Written by the top organization's offices (leaders' roles); every update is dated, kept as an
:class:`~storage.models.EnterpriseEvent` and audited. ``version`` guards concurrent updates like
a candidate's file: the second of two simultaneous updates is told and changes nothing.
Status moves one way: surveyed → working with the owner → conditions met (≥ 3 full members)
→ party organization founded (with the date and the new cell).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain import access
from domain.errors import ChiboError, InvalidInput, NotAllowed, NotInScope, StaleAction
from domain.i18n import N_
from domain.rules.deadlines import RuleError, parse_period_key, periods_due_between
from domain.rules.meetings import DateError, parse_date
from domain.text import clean, fold
from domain.vocab import EnterpriseStatus
from storage import access as access_facts
from storage import drafts, obligations
from storage.audit import Actor, record, snapshot
from storage.models import (
    Draft,
    Enterprise,
    EnterpriseEvent,
    Organization,
    Person,
    SteeringReview,
)

RULE_SOURCE = (
    "Kế hoạch 12-KH/ĐUK, mục 2.3c; Điều lệ Đảng, Điều 21 (chi bộ có từ 3 đảng viên chính thức)"
)
#: A cell needs at least three full members (Party Statute).
MIN_FULL_MEMBERS = 3
ORDER = list(EnterpriseStatus)
NAME_MAX = 300


class EnterpriseChanged(ChiboError):
    """Someone else updated the enterprise since it was opened."""

    message = N_(
        "Someone else has just updated {name}. Nothing was changed: please open it again."
    )


def _top_of_person(session: Session, person_id: int) -> Organization:
    """The top organization whose office the person works in (a leader's role there)."""
    top = access.office_top(access_facts.holder(session, person_id))
    org = session.get(Organization, top) if top is not None else None
    if org is None:
        raise NotAllowed()
    return org


def _founding_cells(session: Session, person_id: int) -> set[int]:
    """The cells of the person's own tree a founded enterprise may point at."""
    return {c.id for c in access.founding_cells(access_facts.holder(session, person_id))}


def _actor(session: Session, person_id: int) -> Actor:
    person = session.get(Person, person_id)
    return Actor(person.display_name if person else f"person:{person_id}", person_id)


@dataclass(frozen=True)
class EnterpriseRow:
    """An enterprise as the list and its card show it."""

    id: int
    version: int
    name: str
    location: str | None
    workforce: int | None
    members_elsewhere: int
    has_trade_union: bool
    has_youth_union: bool
    status: EnterpriseStatus
    status_since: date
    founded_on: date | None
    founded_org: str | None


def _row(session: Session, e: Enterprise) -> EnterpriseRow:
    org = session.get(Organization, e.founded_org_id) if e.founded_org_id else None
    return EnterpriseRow(
        e.id,
        e.version,
        e.name,
        e.location,
        e.workforce,
        e.members_elsewhere,
        e.has_trade_union,
        e.has_youth_union,
        e.status,
        e.status_since,
        e.founded_on,
        org.name if org else None,
    )


def listing(session: Session, *, person_id: int) -> list[EnterpriseRow]:
    """The enterprises of the person's top organization, by status then name."""
    top = _top_of_person(session, person_id)
    rows = session.scalars(select(Enterprise).where(Enterprise.top_id == top.id)).all()
    rows = sorted(rows, key=lambda e: (ORDER.index(e.status), e.name_folded))
    return [_row(session, e) for e in rows]


def get(session: Session, *, person_id: int, enterprise_id: int) -> EnterpriseRow:
    """One enterprise of the person's top organization."""
    return _row(session, _enterprise(session, person_id, enterprise_id))


def _enterprise(session: Session, person_id: int, enterprise_id: int) -> Enterprise:
    top = _top_of_person(session, person_id)
    e = session.get(Enterprise, enterprise_id)
    if e is None or e.top_id != top.id:
        raise StaleAction()
    return e


def check_workforce(value: int) -> None:
    """A workforce or a count of members is a whole number, not negative."""
    if value < 0:
        raise InvalidInput(N_("A number of people cannot be negative ({value})."), value=value)


def create(
    session: Session,
    *,
    person_id: int,
    name: str,
    location: str | None,
    workforce: int | None,
    members_elsewhere: int = 0,
    has_trade_union: bool = False,
    has_youth_union: bool = False,
    today: date,
    now: datetime,
) -> EnterpriseRow:
    """Add a surveyed enterprise (one transaction, audited)."""
    top = _top_of_person(session, person_id)
    name = clean(name)
    if not name or len(name) > NAME_MAX:
        raise InvalidInput(
            N_("Please type the enterprise's name (at most {limit} characters)."), limit=NAME_MAX
        )
    for value in (workforce or 0, members_elsewhere):
        check_workforce(value)
    e = Enterprise(
        top_id=top.id,
        name=name,
        name_folded=fold(name),
        location=clean(location)[:300] if location else None,
        workforce=workforce,
        members_elsewhere=members_elsewhere,
        has_trade_union=has_trade_union,
        has_youth_union=has_youth_union,
        status=EnterpriseStatus.SURVEYED,
        status_since=today,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(e)
    session.flush()
    actor = _actor(session, person_id)
    _event(session, e, today, now, actor, {"created": True})
    record(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="enterprise",
        entity_id=e.id,
        after=snapshot(e, ["name", "status", "workforce"]),
    )
    return _row(session, e)


def _event(
    session: Session, e: Enterprise, day: date, now: datetime, actor: Actor, detail: dict[str, Any]
) -> None:
    session.add(
        EnterpriseEvent(
            enterprise_id=e.id,
            status=e.status,
            happened_on=day,
            detail=detail,
            actor_person_id=actor.person_id,
            created_at=now,
        )
    )


def _bump(session: Session, e: Enterprise, version: int) -> None:
    won = session.execute(
        update(Enterprise)
        .where(Enterprise.id == e.id, Enterprise.version == version)
        .values(version=Enterprise.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if won != 1:
        raise EnterpriseChanged(name=e.name)
    session.refresh(e)


def update_figures(
    session: Session,
    *,
    person_id: int,
    enterprise_id: int,
    version: int,
    day: date,
    now: datetime,
    workforce: int | None = None,
    members_elsewhere: int | None = None,
    has_trade_union: bool | None = None,
    has_youth_union: bool | None = None,
    location: str | None = None,
) -> EnterpriseRow:
    """A dated update of the figures (workforce, members working there, unions, location)."""
    e = _enterprise(session, person_id, enterprise_id)
    for value in (workforce, members_elsewhere):
        if value is not None:
            check_workforce(value)
    before = snapshot(
        e, ["workforce", "members_elsewhere", "has_trade_union", "has_youth_union", "location"]
    )
    _bump(session, e, version)
    changes: dict[str, Any] = {
        "workforce": workforce,
        "members_elsewhere": members_elsewhere,
        "has_trade_union": has_trade_union,
        "has_youth_union": has_youth_union,
        "location": clean(location)[:300] if location else None,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    for key, value in changes.items():
        setattr(e, key, value)
    e.updated_at = now
    actor = _actor(session, person_id)
    _event(session, e, day, now, actor, changes)
    record(
        session,
        actor=actor,
        at=now,
        action="update",
        entity="enterprise",
        entity_id=e.id,
        before=before,
        after=changes,
    )
    return _row(session, e)


def advance(
    session: Session,
    *,
    person_id: int,
    enterprise_id: int,
    version: int,
    day: date,
    today: date,
    now: datetime,
    full_members: int | None = None,
    founded_org_id: int | None = None,
) -> EnterpriseRow:
    """Move the effort one status forward (dated, audited).

    "Conditions met" needs at least three full members working there; "founded" names the new
    cell (an organization of the tree) and the founding date.
    """
    e = _enterprise(session, person_id, enterprise_id)
    idx = ORDER.index(e.status)
    if idx + 1 >= len(ORDER):
        raise StaleAction()
    target = ORDER[idx + 1]
    if day > today or day < e.status_since:
        raise InvalidInput(N_("The date must be between {since} and today."), since=e.status_since)
    detail: dict[str, Any] = {"from": e.status.value, "to": target.value}
    if target is EnterpriseStatus.CONDITIONS_MET:
        count = full_members if full_members is not None else e.members_elsewhere
        if count < MIN_FULL_MEMBERS:
            raise InvalidInput(
                N_("A party cell needs at least {need} full members; {name} has {count}."),
                need=MIN_FULL_MEMBERS,
                name=e.name,
                count=count,
            )
        detail["full_members"] = count
    if target is EnterpriseStatus.FOUNDED:
        org = session.get(Organization, founded_org_id) if founded_org_id else None
        if org is None or not org.kind.holds_meetings:
            raise InvalidInput(N_("Please choose the new cell in the organization tree."))
        if org.id not in _founding_cells(session, person_id):
            raise NotInScope()
        e.founded_org_id = org.id
        e.founded_on = day
        detail["org_id"] = org.id
    before = snapshot(e, ["status", "status_since"])
    _bump(session, e, version)
    e.status = target
    e.status_since = day
    e.updated_at = now
    actor = _actor(session, person_id)
    _event(session, e, day, now, actor, detail)
    record(
        session,
        actor=actor,
        at=now,
        action="advance",
        entity="enterprise",
        entity_id=e.id,
        before=before,
        after=detail,
    )
    return _row(session, e)


def new_cells(session: Session, *, person_id: int) -> list[tuple[int, str]]:
    """Cells of the tree that a founded enterprise may point at (not already used)."""
    allowed = _founding_cells(session, person_id)
    used = set(
        session.scalars(
            select(Enterprise.founded_org_id).where(Enterprise.founded_org_id.is_not(None))
        )
    )
    rows = session.execute(
        select(Organization.id, Organization.name, Organization.kind).order_by(
            Organization.created_at.desc(), Organization.id.desc()
        )
    ).all()
    return [(i, n) for i, n, k in rows if i in allowed and i not in used][:10]


# --- The /enterprises conversation (typed answers, one draft) ----------------------------------

FLOW = "enterprise"
#: Steps of adding an enterprise, in order; ``update`` reads "workforce/members" of one;
#: ``review_day`` and ``review_note`` record a steering group's review.
STEPS = (
    "name",
    "location",
    "workforce",
    "members",
    "unions",
    "update",
    "review_day",
    "review_note",
)


def start_entry(
    session: Session,
    *,
    person_id: int,
    now: datetime,
    enterprise_id: int | None = None,
    review: tuple[str, str] | None = None,
) -> Draft:
    """Start adding an enterprise (its name first), updating one's figures, or recording the
    steering group's ``review`` = (obligation, period) (its date first)."""
    _top_of_person(session, person_id)
    data: dict[str, Any] = {"cid": secrets.randbelow(2_000_000_000) + 1}
    state = "name"
    if review is not None:
        obligation, period = review
        _steering_entry(session, obligation, period)
        data.update(rv_ob=obligation, rv_per=period)
        state = "review_day"
    elif enterprise_id is not None:
        e = _enterprise(session, person_id, enterprise_id)
        data.update(ent=e.id, version=e.version)
        state = "update"
    return drafts.start(session, person_id=person_id, flow=FLOW, state=state, data=data, now=now)


def _entry(session: Session, person_id: int, key: int, *states: str) -> Draft:
    draft = drafts.get(session, person_id)
    if (
        draft is None
        or draft.flow != FLOW
        or int(draft.data.get("cid", 0)) != key
        or draft.state not in states
    ):
        raise StaleAction()
    _top_of_person(session, person_id)
    return draft


def _count(text: str) -> int:
    value = text.strip().replace(".", "").replace(",", "")
    if value.startswith("-") and value[1:].isdigit():
        check_workforce(int(value))
    if not value.isdigit():
        raise InvalidInput(N_("Please type a whole number, e.g. 250."))
    return int(value)


def type_entry(
    session: Session, *, person_id: int, key: int, text: str, today: date, now: datetime
) -> Draft | EnterpriseRow:
    """Store a typed answer and go to the next step (an update is saved at once)."""
    draft = _entry(session, person_id, key, "name", "location", "workforce", "members", "update")
    state = draft.state
    if state == "name":
        name = clean(text)
        if not name or len(name) > NAME_MAX:
            raise InvalidInput(
                N_("Please type the enterprise's name (at most {limit} characters)."),
                limit=NAME_MAX,
            )
        return drafts.advance(draft, state="location", now=now, name=name)
    if state == "location":
        return drafts.advance(draft, state="workforce", now=now, location=clean(text)[:300])
    if state == "workforce":
        return drafts.advance(draft, state="members", now=now, workforce=_count(text))
    if state == "members":
        return drafts.advance(
            draft, state="unions", now=now, members=_count(text), tu=False, yu=False
        )
    parts = text.split("/")
    if len(parts) != 2:
        raise InvalidInput(N_("Please type workforce/members, e.g. 250/4."))
    row = update_figures(
        session,
        person_id=person_id,
        enterprise_id=int(draft.data["ent"]),
        version=int(draft.data["version"]),
        day=today,
        now=now,
        workforce=_count(parts[0]),
        members_elsewhere=_count(parts[1]),
    )
    drafts.finish(session, person_id)
    return row


def toggle_union(
    session: Session, *, person_id: int, key: int, which: str, now: datetime
) -> Draft:
    """Tick or untick "a trade union exists" (``tu``) or "a Youth Union exists" (``yu``)."""
    draft = _entry(session, person_id, key, "unions")
    if which not in ("tu", "yu"):
        raise StaleAction()
    flip: dict[str, Any] = {which: not draft.data.get(which)}
    return drafts.advance(draft, now=now, **flip)


def save_entry(
    session: Session, *, person_id: int, key: int, today: date, now: datetime
) -> EnterpriseRow:
    """Save the new enterprise as surveyed."""
    draft = _entry(session, person_id, key, "unions")
    d = draft.data
    row = create(
        session,
        person_id=person_id,
        name=d["name"],
        location=d.get("location"),
        workforce=d.get("workforce"),
        members_elsewhere=int(d.get("members", 0)),
        has_trade_union=bool(d.get("tu")),
        has_youth_union=bool(d.get("yu")),
        today=today,
        now=now,
    )
    drafts.finish(session, person_id)
    return row


def cancel_entry(session: Session, *, person_id: int, key: int) -> bool:
    """Leave the conversation; nothing of it is saved."""
    draft = drafts.get(session, person_id)
    if draft is None or draft.flow != FLOW or int(draft.data.get("cid", 0)) != key:
        return False
    return drafts.finish(session, person_id)


def by_status(session: Session, top_ids: list[int] | None = None) -> dict[str, int]:
    """Enterprises per status (all of them, or those of the given top organizations)."""
    stmt = select(Enterprise.status, func.count(Enterprise.id)).group_by(Enterprise.status)
    if top_ids is not None:
        stmt = stmt.where(Enterprise.top_id.in_(top_ids))
    counts = {s.value: 0 for s in EnterpriseStatus}
    for status, n in session.execute(stmt).all():
        counts[EnterpriseStatus(status).value] = int(n)
    return counts


# --- The steering group's reviews (half-yearly and yearly) ---------------------------------------

#: Where the reviews come from; each obligation of the calendar names its own source too.
REVIEW_RULE_SOURCE = "Kế hoạch 12-KH/ĐUK, mục 2.3c"
#: The longest note kept with a review (typed longer, it is refused with the limit).
REVIEW_NOTE_MAX = 500
#: How far back and ahead the list of reviews reaches from today.
REVIEWS_BACK = timedelta(days=400)
REVIEWS_AHEAD = timedelta(days=200)


@dataclass(frozen=True)
class SteeringDue:
    """One review the steering group owes, and whether it is recorded."""

    obligation: str
    title_vi: str
    title_en: str
    period: str
    due: date
    held_on: date | None
    note: str | None

    def title(self, locale: str) -> str:
        """The review's name in ``locale``."""
        return self.title_en if locale == "en" else self.title_vi


def _steering_entry(session: Session, obligation: str, period: str) -> obligations.DueEntry:
    entry = obligations.due_entries(session).get(obligation)
    if entry is None or entry.discharged_by != "steering_review":
        raise StaleAction()
    try:
        ref = parse_period_key(period)
    except RuleError as exc:
        raise StaleAction() from exc
    if ref.kind != entry.rule.every:
        raise StaleAction()
    return entry


def steering_reviews(session: Session, *, person_id: int, today: date) -> list[SteeringDue]:
    """The steering group's reviews due from about a year ago to half a year ahead, by due
    date, each with the date it was held if it is recorded."""
    top = _top_of_person(session, person_id)
    cal = obligations.work_calendar(session)
    recorded = {
        (r.obligation, r.period): r
        for r in session.scalars(select(SteeringReview).where(SteeringReview.top_id == top.id))
    }
    out = []
    for entry in obligations.due_entries(session).values():
        if entry.discharged_by != "steering_review":
            continue
        for period, due in periods_due_between(
            entry.rule, today - REVIEWS_BACK, today + REVIEWS_AHEAD, cal
        ):
            row = recorded.get((entry.code, period.key))
            if row is None and due < top.created_at.date():
                continue  # due before chibo followed the organization: not asked
            out.append(
                SteeringDue(
                    entry.code,
                    entry.title_vi or entry.code,
                    entry.title_en or entry.code,
                    period.key,
                    due,
                    row.held_on if row else None,
                    row.note if row else None,
                )
            )
    return sorted(out, key=lambda r: (r.due, r.obligation))


def check_review_day(period: str, held_on: date, today: date) -> None:
    """A review is dated between the start of its period and today."""
    start = parse_period_key(period).start
    if held_on > today:
        raise InvalidInput(
            N_("The review cannot be dated after today ({today})."), today=f"{today:%d/%m/%Y}"
        )
    if held_on < start:
        raise InvalidInput(
            N_("The review of {period} cannot be dated before {start}."),
            period=period,
            start=f"{start:%d/%m/%Y}",
        )


def check_review_note(note: str | None) -> str | None:
    """A review's note, cleaned; refused with the limit when too long (never cut)."""
    text = clean(note or "")
    if len(text) > REVIEW_NOTE_MAX:
        raise InvalidInput(
            N_("The note is {n} characters long; please keep it to at most {limit}."),
            n=len(text),
            limit=REVIEW_NOTE_MAX,
        )
    return text or None


def record_steering_review(
    session: Session,
    *,
    person_id: int,
    obligation: str,
    period: str,
    held_on: date,
    note: str | None,
    today: date,
    now: datetime,
) -> SteeringReview:
    """Record that the steering group's review of ``period`` took place on ``held_on``.

    One transaction, audited; recording it again corrects the date and the note. The record
    discharges the obligation: reminders, /deadlines, /summary and the digests stop asking.
    """
    top = _top_of_person(session, person_id)
    _steering_entry(session, obligation, period)
    check_review_day(period, held_on, today)
    text = check_review_note(note)
    row = session.scalar(
        select(SteeringReview).where(
            SteeringReview.top_id == top.id,
            SteeringReview.obligation == obligation,
            SteeringReview.period == period,
        )
    )
    before = snapshot(row, ["held_on", "note"]) if row is not None else None
    if row is None:
        row = SteeringReview(
            top_id=top.id,
            obligation=obligation,
            period=period,
            held_on=held_on,
            note=text,
            recorded_by=person_id,
            created_at=now,
        )
        session.add(row)
    else:
        row.held_on, row.note, row.recorded_by = held_on, text, person_id
    session.flush()
    record(
        session,
        actor=_actor(session, person_id),
        at=now,
        action="record" if before is None else "update",
        entity="steering_review",
        entity_id=row.id,
        before=before,
        after={
            "obligation": obligation,
            "period": period,
            "held_on": held_on,
            "note": text is not None,
        },
    )
    return row


def review_day(
    session: Session, *, person_id: int, key: int, day: date, today: date, now: datetime
) -> Draft:
    """The date the review was held (a button or typed); the note comes next."""
    draft = _entry(session, person_id, key, "review_day")
    check_review_day(str(draft.data["rv_per"]), day, today)
    return drafts.advance(draft, state="review_note", now=now, rv_day=day.isoformat())


def type_review(
    session: Session, *, person_id: int, key: int, text: str, today: date, now: datetime
) -> Draft | SteeringReview:
    """A typed answer while recording a review: its date, then its note (which saves it)."""
    draft = _entry(session, person_id, key, "review_day", "review_note")
    if draft.state == "review_day":
        try:
            day = parse_date(text, today)
        except DateError as exc:
            raise InvalidInput(
                N_("Please type the date as day/month/year, e.g. {example}."),
                example=today.strftime("%d/%m/%Y"),
            ) from exc
        return review_day(session, person_id=person_id, key=key, day=day, today=today, now=now)
    return save_review(session, person_id=person_id, key=key, note=text, today=today, now=now)


def save_review(
    session: Session,
    *,
    person_id: int,
    key: int,
    note: str | None,
    today: date,
    now: datetime,
) -> SteeringReview:
    """Save the review being recorded (with its note, or none)."""
    draft = _entry(session, person_id, key, "review_note")
    d = draft.data
    row = record_steering_review(
        session,
        person_id=person_id,
        obligation=str(d["rv_ob"]),
        period=str(d["rv_per"]),
        held_on=date.fromisoformat(str(d["rv_day"])),
        note=note,
        today=today,
        now=now,
    )
    drafts.finish(session, person_id)
    return row
