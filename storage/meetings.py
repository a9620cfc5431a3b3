"""Cell meetings: the use cases behind /meeting, /meetings and /model.

Each public function is one use case: keyword-only, takes the open :class:`Session` of the
caller's transaction, checks the person's role *from the database* (a button is never
trusted, and a role revoked mid-conversation stops the next step), raises domain errors
(:mod:`domain.errors`) and writes an audit row for every change of a record. Conversation
progress lives in a :class:`~storage.models.Draft` saved in the same transaction as the step.

The flow of ``/meeting`` (states are :class:`State`)::

    cell? → kind → topic (thematic, combined) → duration → date (→ confirm an old date)
      (→ a regular meeting exists this month: open it) → attendance → reasons → guests
      → content (+ minutes) → quality (when enabled) → confirm → saved

Corrections reuse the same draft, opened at the confirmation screen.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import access
from domain.errors import AlreadyRecorded, InvalidInput, NotAllowed, NotFound, StaleAction
from domain.i18n import N_
from domain.rules import meetings as rules
from domain.rules.attendance import can_vote_on_admission, three_months_rule
from domain.text import clean
from storage import access as access_facts
from storage import drafts, figures, orgs, reviews
from storage.audit import Actor, record, snapshot
from storage.models import (
    AbsenceReason,
    Attendance,
    AttendanceStatus,
    Draft,
    Flag,
    Meeting,
    MeetingGuest,
    MeetingKind,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Outbox,
    OutboxStatus,
    Person,
    Role,
    RoleAssignment,
    StudyModel,
)
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


# --- Who may do what -------------------------------------------------------------------------


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


def _require_writer(session: Session, person_id: int, org_id: int) -> Organization:
    """The cell, if the person may write its records; otherwise :class:`NotAllowed`."""
    if not access.may_write(access_facts.holder(session, person_id), org_id):
        raise NotAllowed()
    org = session.get(Organization, org_id)
    assert org is not None
    return org


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


def _quorum(session: Session, present: int, required: int) -> bool | None:
    """Whether enough members attended to vote on admissions (None: nobody required)."""
    if required <= 0:
        return None
    cfg = get_setting(session, "vote_quorum")
    quorum = Fraction(int(cfg.get("numerator", 2)), int(cfg.get("denominator", 3)))
    return can_vote_on_admission(present, required, quorum)


def _actor(session: Session, person_id: int) -> Actor:
    person = session.get(Person, person_id)
    return Actor(person.display_name if person else f"person:{person_id}", person_id)


# --- Reading a draft -------------------------------------------------------------------------


@dataclass(frozen=True)
class RollEntry:
    """A member on the roll of the meeting being recorded."""

    id: int
    name: str
    exempt: bool


@dataclass(frozen=True)
class GuestEntry:
    """A guest of the draft: a follower of the cell (``person_id``) or a typed name."""

    key: str
    name: str
    person_id: int | None


@dataclass
class DraftView:
    """Everything a screen of the /meeting conversation shows (read, not written)."""

    draft_id: int
    state: State
    org_id: int
    org_name: str
    editing: int | None  # the meeting being corrected
    kind: MeetingKind | None
    topic: str | None
    duration: int | None
    duration_minimum: int | None  # the guidance's minimum for this kind
    duration_short: bool
    held_on: date | None
    roll: list[RollEntry]  # members who must attend, in roll order
    exempt: list[RollEntry]
    absent: list[int]
    reasons: dict[int, str]
    page: int
    pages: int
    queue_member: RollEntry | None  # whose reason is asked now
    queue_left: int
    followers: list[tuple[int, str]]
    guests: list[GuestEntry]
    other_guests: int
    content: dict[str, bool]
    minutes_ref: str | None
    minutes_file: bool
    quality_enabled: bool
    quality: int | None
    quality_grade: rules.QualityGrade | None
    last_meeting: date | None  # the previous regular meeting ("same as last time")
    pending_date: date | None
    duplicate: tuple[int, date] | None
    cells: list[CellRef] = field(default_factory=list)
    today_choices: list[date] = field(default_factory=list)  # today, yesterday
    usual_day: date | None = None
    returning: bool = False  # changes go back to the confirmation screen
    quorum_ok: bool | None = None  # enough present to vote on admissions (2/3, configurable)

    @property
    def present_count(self) -> int:
        """Members present (the required roll minus the absent)."""
        absent = set(self.absent)
        return sum(1 for m in self.roll if m.id not in absent)

    def page_members(self) -> list[RollEntry]:
        """The members on the current page of the attendance screen."""
        return self.roll[self.page * PAGE_SIZE : (self.page + 1) * PAGE_SIZE]


def _d(data: dict[str, Any], key: str) -> date | None:
    value = data.get(key)
    return date.fromisoformat(value) if value else None


def _roll(session: Session, data: dict[str, Any]) -> tuple[list[RollEntry], list[RollEntry]]:
    """(required, exempt): the live roll for a new meeting, the recorded one for a correction."""
    if data.get("meeting_id"):
        ids = list(data.get("roll", []))
        exempt_ids = set(data.get("exempt", []))
        members = session.scalars(select(Member).where(Member.id.in_(ids))).all() if ids else []
        by_id = {m.id: m for m in members}
        ordered = [by_id[i] for i in ids if i in by_id]
        entries = [RollEntry(m.id, m.full_name, m.id in exempt_ids) for m in ordered]
    else:
        members = orgs.active_members(session, data["org_id"])
        entries = [RollEntry(m.id, m.full_name, m.status is MemberStatus.EXEMPT) for m in members]
    return [e for e in entries if not e.exempt], [e for e in entries if e.exempt]


def followers(session: Session, org_id: int) -> list[tuple[int, str]]:
    """The superior committee members assigned to follow the cell: (person id, name)."""
    rows = session.execute(
        select(Person.id, Person.display_name)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(
            RoleAssignment.org_id == org_id,
            RoleAssignment.role == Role.FOLLOWER,
            RoleAssignment.revoked_at.is_(None),
        )
        .order_by(Person.display_name)
    ).all()
    return [(int(i), n) for i, n in dict(rows).items()]


def _last_regular(
    session: Session, org_id: int, before: date, exclude: int | None
) -> Meeting | None:
    stmt = select(Meeting).where(
        Meeting.org_id == org_id,
        Meeting.deleted_at.is_(None),
        Meeting.kind.in_(figures.REGULAR_KINDS),
        Meeting.held_on <= before,
    )
    if exclude:
        stmt = stmt.where(Meeting.id != exclude)
    return session.scalar(stmt.order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(1))


def view(session: Session, draft: Draft, *, today: date) -> DraftView:
    """Gather what the screen of the draft's current step shows."""
    data = draft.data
    org = session.get(Organization, data["org_id"]) if data.get("org_id") else None
    kind = MeetingKind(data["kind"]) if data.get("kind") else None
    minimums = get_setting(session, "meeting_min_minutes")
    quality_cfg = get_setting(session, "quality_scoring")
    required, exempt = _roll(session, data) if org else ([], [])
    held_on = _d(data, "held_on")
    queue = [int(i) for i in data.get("queue", [])]
    by_id = {m.id: m for m in required}
    queue_entries = [by_id[i] for i in queue if i in by_id]
    pages = max(1, -(-len(required) // PAGE_SIZE))
    duration = data.get("duration")
    shortfall = rules.duration_shortfall(kind, duration, minimums) if kind else None
    quality = data.get("quality")
    grade = None
    if quality is not None:
        grade = rules.quality_grade(
            quality,
            quality_cfg,
            full_marks_known_missing=bool(shortfall)
            or not (data.get("minutes_ref") or data.get("minutes_file_id")),
        )
    last = None
    if org is not None and draft.state == State.ATTENDANCE:
        prev = _last_regular(session, org.id, held_on or today, data.get("meeting_id"))
        if prev is not None and prev.held_on != held_on:
            last = prev.held_on
    duplicate = None
    if data.get("dup_id"):
        dup = session.get(Meeting, data["dup_id"])
        if dup is not None:
            duplicate = (dup.id, dup.held_on)
    absent_ids = {int(i) for i in data.get("absent", [])}
    present = sum(1 for m in required if m.id not in absent_ids)
    cells: list[CellRef] = []
    if draft.state == State.CELL:
        allowed = {c.id: c for c in writable_cells(session, person_id=draft.person_id)}
        cells = [allowed[i] for i in data.get("cells", []) if i in allowed]
    return DraftView(
        draft_id=conversation_key(draft),
        state=State(draft.state),
        org_id=data.get("org_id") or 0,
        org_name=org.name if org else "",
        editing=data.get("meeting_id"),
        kind=kind,
        topic=data.get("topic"),
        duration=duration,
        duration_minimum=rules.minimum_minutes(kind, minimums) if kind else None,
        duration_short=shortfall is not None,
        held_on=held_on,
        roll=required,
        exempt=exempt,
        absent=[int(i) for i in data.get("absent", [])],
        reasons={int(k): v for k, v in data.get("reasons", {}).items()},
        page=min(int(data.get("page", 0)), pages - 1),
        pages=pages,
        queue_member=queue_entries[0] if queue_entries else None,
        queue_left=len(queue_entries),
        followers=followers(session, org.id) if org else [],
        guests=[
            GuestEntry(g["key"], g["name"], g.get("person_id")) for g in data.get("guests", [])
        ],
        other_guests=int(data.get("other_guests", 0)),
        content=dict(data.get("content") or {}),
        minutes_ref=data.get("minutes_ref"),
        minutes_file=bool(data.get("minutes_file_id")),
        quality_enabled=bool(quality_cfg.get("enabled")),
        quality=quality,
        quality_grade=grade,
        last_meeting=last,
        pending_date=_d(data, "pending_date"),
        duplicate=duplicate,
        cells=cells,
        today_choices=[today, today - timedelta(days=1)],
        usual_day=rules.usual_day_in_month(org.usual_meeting_day if org else None, today),
        returning=data.get("ret") == "confirm",
        quorum_ok=_quorum(session, present, len(required)),
    )


def conversation_key(draft: Draft) -> int:
    """The number the conversation's buttons carry.

    A random number drawn when the conversation starts, not the draft's row id: SQLite hands
    a deleted row's id to the next insert, so a button of a cancelled conversation would
    otherwise look current in the next one.
    """
    return int(draft.data.get("cid") or draft.id)


def _new_key() -> int:
    return secrets.randbelow(2_000_000_000) + 1


def current_draft(session: Session, *, person_id: int) -> Draft | None:
    """The person's conversation in progress (any flow)."""
    return drafts.get(session, person_id)


# --- Steps -----------------------------------------------------------------------------------


def _step(
    session: Session, person_id: int, draft_id: int, *states: State, flow: str = FLOW
) -> tuple[Draft, Organization]:
    """The draft, if a button for ``draft_id`` at ``states`` is current and the person may
    still write for its cell. Raises :class:`StaleAction` or :class:`NotAllowed`."""
    draft = _guard(session, person_id, draft_id, *states, flow=flow)
    org_id = draft.data.get("org_id")
    if not org_id:
        raise StaleAction()
    return draft, _require_writer(session, person_id, org_id)


def _guard(
    session: Session, person_id: int, draft_id: int, *states: State, flow: str = FLOW
) -> Draft:
    draft = drafts.get(session, person_id)
    if (
        draft is None
        or conversation_key(draft) != draft_id
        or draft.flow != flow
        or (states and draft.state not in states)
    ):
        raise StaleAction()
    return draft


def _set(draft: Draft, state: State | None, now: datetime, **changes: Any) -> Draft:
    return drafts.advance(draft, state=state.value if state else None, now=now, **changes)


@dataclass(frozen=True)
class Started:
    """What /meeting (or "correct") found: a new draft, or one already in progress."""

    draft: Draft
    resumed: bool


def start_meeting(
    session: Session, *, person_id: int, now: datetime, replace_draft: int | None = None
) -> Started:
    """Start logging a meeting. An unfinished conversation is offered back instead of being
    replaced, unless ``replace_draft`` names it (the person chose "start a new one")."""
    cells = writable_cells(session, person_id=person_id)
    if not cells:
        raise NotAllowed()
    existing = drafts.get(session, person_id)
    if existing is not None and conversation_key(existing) != replace_draft:
        return Started(existing, resumed=True)
    data: dict[str, Any] = {
        "cid": _new_key(),
        "org_id": None,
        "absent": [],
        "reasons": {},
        "guests": [],
    }
    if len(cells) == 1:
        data.update(_cell_data(session, cells[0].id))
        state = State.KIND
    else:
        data["cells"] = [c.id for c in cells]
        state = State.CELL
    draft = drafts.start(session, person_id=person_id, flow=FLOW, state=state, data=data, now=now)
    return Started(draft, resumed=False)


def _cell_data(session: Session, org_id: int) -> dict[str, Any]:
    roll = [m.id for m in orgs.active_members(session, org_id)]
    return {"org_id": org_id, "roll": roll, "other_guests": 0, "gseq": 0, "page": 0}


def choose_cell(
    session: Session, *, person_id: int, draft_id: int, org_id: int, now: datetime
) -> Draft:
    """Record which cell the meeting belongs to."""
    draft = _guard(session, person_id, draft_id, State.CELL)
    _require_writer(session, person_id, org_id)
    return _set(draft, State.KIND, now, cells=None, **_cell_data(session, org_id))


def _returning(draft: Draft) -> bool:
    return draft.data.get("ret") == "confirm"


def set_kind(
    session: Session, *, person_id: int, draft_id: int, kind: MeetingKind, now: datetime
) -> Draft:
    """Record the kind; thematic meetings ask their topic next, the others the duration."""
    draft, _ = _step(session, person_id, draft_id, State.KIND)
    changes: dict[str, Any] = {"kind": kind.value, "dup_id": None}
    if "content" not in draft.data or not _returning(draft):
        changes["content"] = rules.default_content(kind)
    if not kind.counts_as_thematic:
        changes["topic"] = None
    nxt = State.TOPIC if kind.counts_as_thematic else State.DURATION
    return _set(draft, nxt, now, **changes)


def set_topic(
    session: Session, *, person_id: int, draft_id: int, text: str | None, now: datetime
) -> Draft:
    """Record the topic of a thematic meeting (``None`` keeps the current one)."""
    draft, _ = _step(session, person_id, draft_id, State.TOPIC)
    if text is None:
        if not draft.data.get("topic"):
            raise StaleAction()
        return _set(draft, State.DURATION, now)
    topic = clean(text)
    if not topic:
        raise InvalidInput(N_("Please type the topic of the thematic meeting."))
    if len(topic) > rules.TOPIC_MAX:
        raise InvalidInput(
            N_(
                "That topic is {length} characters long; the limit is {limit}. "
                "Please shorten it and send it again — what you entered before is kept."
            ),
            length=len(topic),
            limit=rules.TOPIC_MAX,
        )
    return _set(draft, State.DURATION, now, topic=topic)


def set_duration(
    session: Session, *, person_id: int, draft_id: int, minutes: int, now: datetime
) -> Draft:
    """Record the duration (a short meeting is recorded with a warning, never refused)."""
    draft, _ = _step(session, person_id, draft_id, State.DURATION, State.DURATION_TYPED)
    if not rules.DURATION_MIN <= minutes <= rules.DURATION_MAX:
        raise StaleAction()
    nxt = State.CONFIRM if _returning(draft) and draft.data.get("held_on") else State.DATE
    return _set(draft, nxt, now, duration=minutes)


def type_duration(
    session: Session, *, person_id: int, draft_id: int, text: str, now: datetime
) -> Draft:
    """Read a typed duration ("100", "1h45") and record it."""
    minutes = rules.parse_minutes(text)
    if minutes is None:
        raise InvalidInput(
            N_(
                "Please type the duration in minutes, between {low} and {high} "
                "(for example 100 or 1h45)."
            ),
            low=rules.DURATION_MIN,
            high=rules.DURATION_MAX,
        )
    return set_duration(session, person_id=person_id, draft_id=draft_id, minutes=minutes, now=now)


def move(
    session: Session, *, person_id: int, draft_id: int, target: State, now: datetime
) -> Draft:
    """Go back, or to an "other…" step, from the current step (see :data:`MOVES`)."""
    draft = drafts.get(session, person_id)
    if draft is not None and conversation_key(draft) == draft_id and draft.state == target:
        _step(session, person_id, draft_id, target)
        return draft  # a repeated tap: already there
    sources = [s for s, targets in MOVES.items() if target in targets]
    if not sources:
        raise StaleAction()
    draft, _ = _step(session, person_id, draft_id, *sources)
    return _set(draft, target, now, dup_id=None, pending_date=None)


_DATE_PROBLEMS = {
    rules.DateProblem.FORMAT: N_(
        "I could not read that date. Please type it day first, like 5/11, 05/11/2026 "
        "or 5-11-2026, or use the buttons."
    ),
    rules.DateProblem.NO_SUCH_DATE: N_("There is no such day in the calendar. Please check it."),
    rules.DateProblem.TWO_DIGIT_YEAR: N_(
        "Please write the year with four digits (for example 05/11/2026)."
    ),
}


def type_date(
    session: Session, *, person_id: int, draft_id: int, text: str, today: date, now: datetime
) -> Draft:
    """Read a typed date ("5/11", "05/11/2026", "5-11-2026") and record it."""
    try:
        day = rules.parse_date(text, today)
    except rules.DateError as exc:
        raise InvalidInput(_DATE_PROBLEMS[exc.problem]) from exc
    return set_date(session, person_id=person_id, draft_id=draft_id, day=day, today=today, now=now)


def set_date(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    day: date,
    today: date,
    now: datetime,
    confirmed: bool = False,
) -> Draft:
    """Record the date: refuse a future or too old one, ask about an old one, and offer the
    existing record when this month's regular meeting is already recorded."""
    states = (State.DATE_CONFIRM,) if confirmed else (State.DATE,)
    draft, org = _step(session, person_id, draft_id, *states)
    if confirmed and draft.data.get("pending_date") != day.isoformat():
        raise StaleAction()
    verdict = rules.check_date(day, today)
    if verdict is rules.DateVerdict.FUTURE:
        raise InvalidInput(
            N_("{date} is in the future. A meeting is recorded once it has been held."),
            date=_dmy(day),
        )
    if verdict is rules.DateVerdict.TOO_OLD:
        raise InvalidInput(
            N_(
                "{date} is more than a year ago. Meetings that old stay in the minutes book; "
                "please check the date."
            ),
            date=_dmy(day),
        )
    if verdict is rules.DateVerdict.NEEDS_CONFIRMATION and not confirmed:
        return _set(draft, State.DATE_CONFIRM, now, pending_date=day.isoformat())
    kind = MeetingKind(draft.data["kind"])
    existing = _regular_in_month(session, org.id, kind, day, draft.data.get("meeting_id"))
    if existing is not None:
        return _set(draft, State.DUPLICATE, now, dup_id=existing.id, pending_date=None)
    nxt = State.CONFIRM if _returning(draft) else State.ATTENDANCE
    return _set(draft, nxt, now, held_on=day.isoformat(), pending_date=None, dup_id=None)


def _dmy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _regular_in_month(
    session: Session, org_id: int, kind: MeetingKind, day: date, exclude: int | None
) -> Meeting | None:
    key = rules.regular_key(org_id, kind, day)
    if key is None:
        return None
    stmt = select(Meeting).where(Meeting.regular_key == key, Meeting.deleted_at.is_(None))
    if exclude:
        stmt = stmt.where(Meeting.id != exclude)
    return session.scalar(stmt)


def _roll_ids(session: Session, data: dict[str, Any]) -> set[int]:
    required, _exempt = _roll(session, data)
    return {m.id for m in required}


def mark(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    member_id: int,
    absent: bool,
    now: datetime,
) -> Draft:
    """Mark one member absent or present (a repeated tap changes nothing)."""
    draft, _ = _step(session, person_id, draft_id, State.ATTENDANCE)
    if member_id not in _roll_ids(session, draft.data):
        raise StaleAction()
    current = [int(i) for i in draft.data.get("absent", [])]
    reasons = dict(draft.data.get("reasons", {}))
    if absent and member_id not in current:
        current.append(member_id)
    elif not absent and member_id in current:
        current.remove(member_id)
        reasons.pop(str(member_id), None)
    else:
        return draft
    return _set(draft, None, now, absent=current, reasons=reasons)


def everyone_present(session: Session, *, person_id: int, draft_id: int, now: datetime) -> Draft:
    """Mark every member present."""
    draft, _ = _step(session, person_id, draft_id, State.ATTENDANCE)
    if not draft.data.get("absent"):
        return draft
    return _set(draft, None, now, absent=[], reasons={})


def same_as_last(
    session: Session, *, person_id: int, draft_id: int, today: date, now: datetime
) -> Draft:
    """Start from the previous regular meeting: the same members absent, same reasons."""
    draft, org = _step(session, person_id, draft_id, State.ATTENDANCE)
    held_on = _d(draft.data, "held_on") or today
    prev = _last_regular(session, org.id, held_on, draft.data.get("meeting_id"))
    if prev is None:
        raise StaleAction()
    roll = _roll_ids(session, draft.data)
    absent: list[int] = []
    reasons: dict[str, str] = {}
    for row in sorted(prev.attendance, key=lambda a: a.member_id):
        if row.member_id not in roll:
            continue
        if row.status is AttendanceStatus.EXCUSED:
            absent.append(row.member_id)
            reasons[str(row.member_id)] = (row.reason or AbsenceReason.OTHER).value
        elif row.status is AttendanceStatus.UNEXCUSED:
            absent.append(row.member_id)
            reasons[str(row.member_id)] = rules.UNEXCUSED
    return _set(draft, None, now, absent=absent, reasons=reasons)


def set_page(
    session: Session, *, person_id: int, draft_id: int, page: int, now: datetime
) -> Draft:
    """Show another page of a large cell's roll."""
    draft, _ = _step(session, person_id, draft_id, State.ATTENDANCE)
    pages = max(1, -(-len(_roll_ids(session, draft.data)) // PAGE_SIZE))
    if not 0 <= page < pages:
        raise StaleAction()
    if draft.data.get("page") == page:
        return draft
    return _set(draft, None, now, page=page)


def attendance_done(session: Session, *, person_id: int, draft_id: int, now: datetime) -> Draft:
    """Finish the attendance: ask the reason of each absent member who has none yet."""
    draft, _ = _step(session, person_id, draft_id, State.ATTENDANCE)
    required, _ = _roll(session, draft.data)
    absent = {int(i) for i in draft.data.get("absent", [])}
    reasons = draft.data.get("reasons", {})
    queue = [m.id for m in required if m.id in absent and str(m.id) not in reasons]
    if queue:
        return _set(draft, State.REASONS, now, queue=queue)
    return _set(draft, _after_reasons(draft), now, queue=[])


def _after_reasons(draft: Draft) -> State:
    return State.CONFIRM if _returning(draft) else State.GUESTS


def set_reason(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    member_id: int,
    code: str,
    now: datetime,
) -> Draft:
    """Record why one member was absent (a category, or "no valid reason")."""
    draft, _ = _step(session, person_id, draft_id, State.REASONS)
    if code not in rules.REASON_CODES:
        raise StaleAction()
    absent = {int(i) for i in draft.data.get("absent", [])}
    roll = _roll_ids(session, draft.data)
    if member_id not in absent or member_id not in roll:
        raise StaleAction()
    reasons = dict(draft.data.get("reasons", {}))
    reasons[str(member_id)] = code
    queue = [int(i) for i in draft.data.get("queue", []) if int(i) != member_id]
    queue = [i for i in queue if i in roll and i in absent]
    nxt = State.REASONS if queue else _after_reasons(draft)
    return _set(draft, nxt, now, reasons=reasons, queue=queue)


def reasons_done(session: Session, *, person_id: int, draft_id: int, now: datetime) -> Draft:
    """Leave the reasons step when nobody is left to ask (members left the roll meanwhile)."""
    draft, _ = _step(session, person_id, draft_id, State.REASONS)
    roll = _roll_ids(session, draft.data)
    absent = {int(i) for i in draft.data.get("absent", [])}
    if any(int(i) in roll and int(i) in absent for i in draft.data.get("queue", [])):
        raise StaleAction()
    return _set(draft, _after_reasons(draft), now, queue=[])


def _after_guests(draft: Draft) -> State:
    return State.CONFIRM if _returning(draft) else State.CONTENT


def add_follower(
    session: Session, *, person_id: int, draft_id: int, guest_id: int, now: datetime
) -> Draft:
    """Record that a superior committee member assigned to the cell attended, and go on."""
    draft, org = _step(session, person_id, draft_id, State.GUESTS)
    names = dict(followers(session, org.id))
    if guest_id not in names:
        raise StaleAction()
    guests = list(draft.data.get("guests", []))
    if not any(g.get("person_id") == guest_id for g in guests):
        guests.append({"key": f"p{guest_id}", "person_id": guest_id, "name": names[guest_id]})
    return _set(draft, _after_guests(draft), now, guests=guests)


def add_guest_name(
    session: Session, *, person_id: int, draft_id: int, text: str, now: datetime
) -> Draft:
    """Record a superior committee member typed by name (not assigned to the cell)."""
    draft, _ = _step(session, person_id, draft_id, State.GUEST_NAME, State.GUESTS)
    name = clean(text)
    if not name or len(name) > rules.GUEST_NAME_MAX:
        raise InvalidInput(
            N_(
                "Please type the name of the superior committee member "
                "(at most {limit} characters)."
            ),
            limit=rules.GUEST_NAME_MAX,
        )
    guests = list(draft.data.get("guests", []))
    seq = int(draft.data.get("gseq", 0)) + 1
    if not any(g["name"].casefold() == name.casefold() for g in guests):
        guests.append({"key": f"n{seq}", "person_id": None, "name": name})
    return _set(draft, State.GUESTS, now, guests=guests, gseq=seq)


def remove_guest(
    session: Session, *, person_id: int, draft_id: int, key: str, now: datetime
) -> Draft:
    """Remove a guest recorded by mistake."""
    draft, _ = _step(session, person_id, draft_id, State.GUESTS)
    guests = [g for g in draft.data.get("guests", []) if g["key"] != key]
    if len(guests) == len(draft.data.get("guests", [])):
        return draft
    return _set(draft, None, now, guests=guests)


def set_other_guests(
    session: Session, *, person_id: int, draft_id: int, count: int, now: datetime
) -> Draft:
    """Set the number of other guests (the buttons carry the number they set)."""
    draft, _ = _step(session, person_id, draft_id, State.GUESTS)
    if not 0 <= count <= rules.OTHER_GUESTS_MAX:
        raise StaleAction()
    if draft.data.get("other_guests") == count:
        return draft
    return _set(draft, None, now, other_guests=count)


def guests_done(session: Session, *, person_id: int, draft_id: int, now: datetime) -> Draft:
    """Finish the guests."""
    draft, _ = _step(session, person_id, draft_id, State.GUESTS)
    return _set(draft, _after_guests(draft), now)


def set_content(
    session: Session, *, person_id: int, draft_id: int, item: str, done: bool, now: datetime
) -> Draft:
    """Tick or untick one item of the content checklist."""
    draft, _ = _step(session, person_id, draft_id, State.CONTENT)
    if item not in rules.CONTENT_ITEMS:
        raise StaleAction()
    content = dict(draft.data.get("content") or {})
    if content.get(item, False) == done:
        return draft
    content[item] = done
    return _set(draft, None, now, content=content)


def set_minutes_ref(
    session: Session, *, person_id: int, draft_id: int, text: str, now: datetime
) -> Draft:
    """Record the minutes' number in the cell's minutes book (typed at the content step)."""
    draft, _ = _step(session, person_id, draft_id, State.CONTENT)
    ref = clean(text)
    if not ref or len(ref) > rules.MINUTES_REF_MAX:
        raise InvalidInput(
            N_(
                "The minutes reference can be at most {limit} characters "
                "(for example: Biên bản số 11, sổ 2026)."
            ),
            limit=rules.MINUTES_REF_MAX,
        )
    if rules.is_marked_secret(ref):
        raise InvalidInput(SECRET_REFUSAL)
    return _set(draft, None, now, minutes_ref=ref)


#: Shown when an attachment is marked secret. Source: rules.RULE_SOURCE_SECRET.
SECRET_REFUSAL = N_(
    "⛔ This looks like a document marked secret (Mật / Tối mật / Tuyệt mật). Documents "
    "marked secret must never be sent through this bot, and nothing was saved. Please delete "
    "it from this chat. If it is not secret, rename the file or change the caption and send "
    "it again."
)


def attach_minutes(
    session: Session,
    *,
    person_id: int,
    draft_id: int,
    file_id: str,
    kind: str,
    file_name: str | None,
    caption: str | None,
    now: datetime,
) -> Draft:
    """Keep a photo or file of the minutes — refused when its name or caption is marked
    secret (Mật, Tối mật, Tuyệt mật)."""
    draft, _ = _step(session, person_id, draft_id, State.CONTENT)
    if rules.is_marked_secret(file_name, caption):
        raise InvalidInput(SECRET_REFUSAL)
    if kind not in ("photo", "document") or not file_id or len(file_id) > 190:
        raise InvalidInput(N_("I cannot keep that file. Please send a photo or a PDF."))
    return _set(draft, None, now, minutes_file_id=f"{kind}:{file_id}")


def clear_minutes(session: Session, *, person_id: int, draft_id: int, now: datetime) -> Draft:
    """Forget the minutes' photo/file and number."""
    draft, _ = _step(session, person_id, draft_id, State.CONTENT)
    if not (draft.data.get("minutes_ref") or draft.data.get("minutes_file_id")):
        return draft
    return _set(draft, None, now, minutes_ref=None, minutes_file_id=None)


def content_done(session: Session, *, person_id: int, draft_id: int, now: datetime) -> Draft:
    """Finish the content; ask the quality score when the province uses it."""
    draft, _ = _step(session, person_id, draft_id, State.CONTENT)
    enabled = bool(get_setting(session, "quality_scoring").get("enabled"))
    return _set(draft, State.QUALITY if enabled else State.CONFIRM, now, ret="confirm")


def set_quality(
    session: Session, *, person_id: int, draft_id: int, text: str | None, now: datetime
) -> Draft:
    """Record the self-rated quality score (0–100), or skip it with ``None``."""
    draft, _ = _step(session, person_id, draft_id, State.QUALITY)
    score = None
    if text is not None:
        score = rules.parse_score(text)
        if score is None:
            raise InvalidInput(N_("Please type a score from 0 to 100, or press “Skip”."))
    return _set(draft, State.CONFIRM, now, quality=score, ret="confirm")


def change(
    session: Session, *, person_id: int, draft_id: int, section: str, now: datetime
) -> Draft:
    """From the confirmation screen, open one section to change it."""
    draft = drafts.get(session, person_id)
    target = SECTIONS.get(section)
    if target is None:
        raise StaleAction()
    if draft is not None and conversation_key(draft) == draft_id and draft.state == target:
        _step(session, person_id, draft_id, target)
        return draft  # a repeated tap
    draft, _ = _step(session, person_id, draft_id, State.CONFIRM)
    changes: dict[str, Any] = {"ret": "confirm", "page": 0}
    if target is State.REASONS:
        required, _ = _roll(session, draft.data)
        absent = {int(i) for i in draft.data.get("absent", [])}
        changes["queue"] = [m.id for m in required if m.id in absent]
        if not changes["queue"]:
            raise StaleAction()
    return _set(draft, target, now, **changes)


def cancel(session: Session, *, person_id: int, draft_id: int) -> bool:
    """Leave the conversation; nothing of it is saved. False when it was already gone."""
    draft = drafts.get(session, person_id)
    if draft is None or conversation_key(draft) != draft_id:
        return False
    return drafts.finish(session, person_id)


# --- Saving ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagNotice:
    """A three-months flag raised by a save, for the message to the secretary."""

    member_id: int
    member_name: str
    org_name: str
    year: int
    months: tuple[int, ...]
    level: int  # 1: warned at two months; 2: flagged at three (Organization Board notified)
    board_notified: int = 0


@dataclass(frozen=True)
class SaveResult:
    """What a save did."""

    meeting_id: int
    kind: MeetingKind
    held_on: date
    updated: bool
    present: int
    required: int
    dropped: tuple[str, ...]  # left the roll while the conversation was open: not recorded
    flags: tuple[FlagNotice, ...]
    duration_minimum: int | None  # set when the meeting was shorter than the guidance
    quorum_ok: bool | None


def _meeting_after(meeting: Meeting, rows: Iterable[Attendance]) -> dict[str, Any]:
    after = snapshot(
        meeting,
        [
            "org_id",
            "kind",
            "held_on",
            "duration_min",
            "topic",
            "quality_score",
            "content",
            "minutes_ref",
            "other_guests",
            "deleted_at",
        ],
    )
    after["absent"] = {
        str(a.member_id): (a.reason.value if a.reason else a.status.value)
        for a in rows
        if a.status in (AttendanceStatus.EXCUSED, AttendanceStatus.UNEXCUSED)
    }
    after["minutes_file"] = bool(meeting.minutes_file_id)
    after["guests"] = [g.name for g in meeting.guests]
    return after


def save(
    session: Session, *, person_id: int, draft_id: int, today: date, now: datetime
) -> SaveResult:
    """Save the meeting (or the correction) with its attendance and guests, in one
    transaction with its audit row; raise the three-months flags it causes.

    Raises:
        StaleAction: the button is from a finished conversation (a double tap, a second
            device): nothing is saved twice.
        AlreadyRecorded: the cell's regular meeting of that month exists (``meeting_id``
            param names it).
    """
    draft, org = _step(session, person_id, draft_id, State.CONFIRM)
    data = draft.data
    actor = _actor(session, person_id)
    kind = MeetingKind(data["kind"])
    held_on = date.fromisoformat(data["held_on"])
    verdict = rules.check_date(held_on, today)
    if verdict in (rules.DateVerdict.FUTURE, rules.DateVerdict.TOO_OLD):
        raise InvalidInput(
            N_("The date {date} can no longer be recorded. Please change it."), date=_dmy(held_on)
        )
    editing = data.get("meeting_id")
    existing = _regular_in_month(session, org.id, kind, held_on, editing)
    if existing is not None:
        raise AlreadyRecorded(
            N_("The regular meeting of {month} is already recorded (held on {date})."),
            meeting_id=existing.id,
            month=f"{held_on.month:02d}/{held_on.year}",
            date=_dmy(existing.held_on),
        )

    required, exempt = _roll(session, data)
    absent = {int(i) for i in data.get("absent", [])}
    reasons = {int(k): v for k, v in data.get("reasons", {}).items()}
    statuses: dict[int, tuple[AttendanceStatus, AbsenceReason | None]] = {}
    for m in required:
        if m.id in absent:
            excused, reason = rules.reason_status(reasons.get(m.id, rules.UNEXCUSED))
            status = AttendanceStatus.EXCUSED if excused else AttendanceStatus.UNEXCUSED
            statuses[m.id] = (status, reason)
        else:
            statuses[m.id] = (AttendanceStatus.PRESENT, None)
    for m in exempt:
        statuses[m.id] = (AttendanceStatus.EXEMPT, None)
    dropped: tuple[str, ...] = ()
    if not editing:
        gone = set(data.get("roll", [])) - set(statuses)
        if gone:
            dropped = tuple(
                session.scalars(
                    select(Member.full_name).where(Member.id.in_(gone)).order_by(Member.full_name)
                )
            )

    minimums = get_setting(session, "meeting_min_minutes")
    fields = {
        "kind": kind,
        "held_on": held_on,
        "regular_key": rules.regular_key(org.id, kind, held_on),
        "duration_min": data.get("duration"),
        "topic": data.get("topic") if kind.counts_as_thematic else None,
        "quality_score": data.get("quality"),
        "content": {k: bool(v) for k, v in (data.get("content") or {}).items()},
        "minutes_ref": data.get("minutes_ref"),
        "minutes_file_id": data.get("minutes_file_id"),
        "other_guests": int(data.get("other_guests", 0)),
        "updated_at": now,
    }
    guests = [
        MeetingGuest(person_id=g.get("person_id"), name=g["name"][:120], is_superior=True)
        for g in data.get("guests", [])
    ]
    check_members: set[int] = set()
    years = {held_on.year}
    if editing:
        meeting = session.get(Meeting, editing)
        if meeting is None or meeting.deleted_at is not None or meeting.org_id != org.id:
            raise NotFound()
        before = _meeting_after(meeting, meeting.attendance)
        years.add(meeting.held_on.year)
        check_members |= {
            a.member_id for a in meeting.attendance if a.status is AttendanceStatus.UNEXCUSED
        }
        for key, value in fields.items():
            setattr(meeting, key, value)
        rows = {a.member_id: a for a in meeting.attendance}
        for member_id, (status, reason) in statuses.items():
            row = rows.get(member_id)
            if row is None:
                meeting.attendance.append(
                    Attendance(member_id=member_id, status=status, reason=reason)
                )
            else:
                row.status, row.reason = status, reason
        meeting.guests = guests
        _flush_unique(session, org.id, kind, held_on, editing)
        record(
            session,
            actor=actor,
            at=now,
            action="update",
            entity="meeting",
            entity_id=meeting.id,
            before=before,
            after=_meeting_after(meeting, meeting.attendance),
        )
    else:
        meeting = Meeting(
            org_id=org.id, created_at=now, created_by=person_id, deleted_at=None, **fields
        )
        meeting.attendance = [
            Attendance(member_id=mid, status=s, reason=r) for mid, (s, r) in statuses.items()
        ]
        meeting.guests = guests
        session.add(meeting)
        _flush_unique(session, org.id, kind, held_on, None)
        record(
            session,
            actor=actor,
            at=now,
            action="create",
            entity="meeting",
            entity_id=meeting.id,
            after=_meeting_after(meeting, meeting.attendance),
        )
    check_members |= {mid for mid, (s, _r) in statuses.items() if s is AttendanceStatus.UNEXCUSED}
    notices = _refresh_three_months(
        session, org=org, member_ids=check_members, years=years, actor=actor, now=now
    )
    if kind.counts_as_regular:
        # Reviews saved before the month's meeting was recorded now point at it.
        reviews.link_meeting(
            session, org_id=org.id, year=held_on.year, month=held_on.month, actor=actor, now=now
        )
    drafts.finish(session, person_id)
    present = sum(1 for s, _r in statuses.values() if s is AttendanceStatus.PRESENT)
    return SaveResult(
        meeting_id=meeting.id,
        kind=kind,
        held_on=held_on,
        updated=bool(editing),
        present=present,
        required=len(required),
        dropped=dropped,
        flags=tuple(notices),
        duration_minimum=rules.duration_shortfall(kind, data.get("duration"), minimums),
        quorum_ok=_quorum(session, present, len(required)),
    )


def _flush_unique(
    session: Session, org_id: int, kind: MeetingKind, held_on: date, exclude: int | None
) -> None:
    """Flush in a savepoint: a concurrent regular meeting of the month (another device, the
    deputy) hits the unique ``regular_key`` and becomes :class:`AlreadyRecorded`."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        with session.no_autoflush:
            existing = _regular_in_month(session, org_id, kind, held_on, exclude)
        raise AlreadyRecorded(
            N_("The regular meeting of {month} is already recorded (held on {date})."),
            meeting_id=existing.id if existing else None,
            month=f"{held_on.month:02d}/{held_on.year}",
            date=_dmy(existing.held_on) if existing else "?",
        ) from exc


# --- The three-months rule -------------------------------------------------------------------

#: Sent to the Organization Board through the outbox (plain text: escape params for HTML).
THREE_MONTHS_BOARD_MSGID = N_(
    "⚠️ Three-months rule: {member} (cell: {cell}) was absent without a valid reason from the "
    "regular meeting in {count} months of {year} ({months}). Under the Party Statute the cell "
    "is to consider removing the member from the list (xóa tên)."
)


def _top_of(session: Session, org: Organization) -> Organization | None:
    node: Organization | None = org
    for _ in range(10):  # the tree is shallow; guard against a cycle in bad data
        if node is None or node.kind is OrgKind.TOP:
            return node
        node = session.get(Organization, node.parent_id) if node.parent_id else None
    return None


def _months_text(year: int, months: Iterable[int]) -> str:
    return ", ".join(f"{m:02d}/{year}" for m in months)


def queue_flag_notice(
    session: Session, *, flag: Flag, member_name: str, org_name: str, now: datetime
) -> int:
    """Queue the three-months flag for the Organization Board (people holding
    ``Role.ORGANIZATION`` on the cell's top organization) in the outbox.

    One outbox row per person, keyed ``flag:<flag key>:<person>`` so queueing twice does
    nothing. ``payload`` is ``{"msgid": THREE_MONTHS_BOARD_MSGID, "params": {...}}``: the
    drainer translates the msgid in the recipient's language and formats it with the params
    (plain text — escape them when sending as HTML). Returns the number of rows queued.
    """
    org = session.get(Organization, flag.org_id)
    top = _top_of(session, org) if org else None
    if top is None:
        return 0
    people = session.scalars(
        select(RoleAssignment.person_id)
        .where(
            RoleAssignment.org_id == top.id,
            RoleAssignment.role.in_(access.THREE_MONTHS_BOARD),
            RoleAssignment.revoked_at.is_(None),
        )
        .distinct()
    ).all()
    months = tuple(flag.detail.get("months", []))
    payload = {
        "msgid": THREE_MONTHS_BOARD_MSGID,
        "params": {
            "member": member_name,
            "cell": org_name,
            "count": len(months),
            "year": flag.year,
            "months": _months_text(flag.year, months),
        },
        "flag_key": flag.key,
    }
    queued = 0
    for pid in sorted(people):
        key = f"flag:{flag.key}:{pid}"
        if session.scalar(select(Outbox.id).where(Outbox.key == key)) is not None:
            continue
        try:
            with session.begin_nested():
                session.add(
                    Outbox(
                        key=key,
                        person_id=pid,
                        kind="flag",
                        payload=payload,
                        not_before=now,
                        status=OutboxStatus.PENDING,
                        attempts=0,
                        created_at=now,
                    )
                )
                session.flush()
        except IntegrityError:
            continue  # queued by a concurrent save
        queued += 1
    return queued


def _refresh_three_months(
    session: Session,
    *,
    org: Organization,
    member_ids: set[int],
    years: set[int],
    actor: Actor,
    now: datetime,
) -> list[FlagNotice]:
    """Raise (once) or clear the three-months flags of ``member_ids`` in ``years``."""
    if not member_ids:
        return []
    cfg = get_setting(session, "three_months_rule")
    warn_at, flag_at = int(cfg.get("warn_at", 2)), int(cfg.get("flag_at", 3))
    names = dict(
        session.execute(select(Member.id, Member.full_name).where(Member.id.in_(member_ids))).all()
    )
    notices: list[FlagNotice] = []
    session.flush()
    for year in sorted(years):
        months = figures.member_unexcused_months(session, sorted(member_ids), year)
        for member_id in sorted(member_ids):
            verdict = three_months_rule(
                months.get(member_id, []), warn_at=warn_at, flag_at=flag_at
            )
            keys = {lvl: rules.three_months_flag_key(member_id, year, lvl) for lvl in (1, 2)}
            flags = {
                f.key: f for f in session.scalars(select(Flag).where(Flag.key.in_(keys.values())))
            }
            raised: list[tuple[int, Flag]] = []
            for level, key in keys.items():
                flag = flags.get(key)
                detail = {"months": list(verdict.months), "warn_at": warn_at, "flag_at": flag_at}
                if verdict.level >= level:
                    if flag is None:
                        flag = Flag(
                            key=key,
                            kind=figures.THREE_MONTHS_FLAG,
                            org_id=org.id,
                            member_id=member_id,
                            year=year,
                            level=level,
                            detail=detail,
                            raised_at=now,
                            cleared_at=None,
                        )
                        try:
                            with session.begin_nested():
                                session.add(flag)
                                session.flush()
                        except IntegrityError:
                            continue  # raised by a concurrent save: it is theirs to tell
                        action = "raise"
                    elif flag.cleared_at is not None:
                        flag.cleared_at, flag.detail, flag.raised_at = None, detail, now
                        action = "raise"
                    else:
                        if flag.detail.get("months") != detail["months"]:
                            flag.detail = detail
                        continue
                    record(
                        session,
                        actor=actor,
                        at=now,
                        action=action,
                        entity="flag",
                        entity_id=key,
                        after={"member_id": member_id, "year": year, **detail},
                    )
                    raised.append((level, flag))
                elif flag is not None and flag.cleared_at is None:
                    flag.cleared_at = now
                    record(
                        session,
                        actor=actor,
                        at=now,
                        action="clear",
                        entity="flag",
                        entity_id=key,
                        before={"months": flag.detail.get("months")},
                        after={"months": list(verdict.months)},
                    )
            if not raised:
                continue
            level, flag = max(raised, key=lambda r: r[0])
            name = names.get(member_id, "?")
            board = 0
            if level >= 2:
                board = queue_flag_notice(
                    session, flag=flag, member_name=name, org_name=org.name, now=now
                )
            notices.append(
                FlagNotice(member_id, name, org.name, year, verdict.months, level, board)
            )
    return notices


# --- Reading meetings ------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRow:
    """A line of /meetings."""

    id: int
    kind: MeetingKind
    held_on: date
    counts: figures.AttendanceCounts
    superior: bool


@dataclass(frozen=True)
class CellOverview:
    """The /meetings screen of one cell: recent months at a glance and the meetings."""

    org: CellRef
    months: list[tuple[tuple[int, int], figures.MonthFigures]]  # newest first
    thematic: dict[int, int]  # quarter → thematic meetings this year
    meetings: list[MeetingRow]  # newest first
    can_write: bool
    year: int


def _month_back(today: date, months: int) -> date:
    year, month = today.year, today.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def cell_overview(session: Session, *, person_id: int, org_id: int, today: date) -> CellOverview:
    """The cell's last months: regular meeting held or missing, attendance, unexcused
    absences, superior committee attendance, thematic meetings per quarter."""
    org = _require_reader(session, person_id, org_id)
    start = _month_back(today, LIST_MONTHS - 1)
    monthly = figures.monthly_figures(session, [org.id], start, today)[org.id]
    thematic = figures.thematic_by_quarter(session, [org.id], today.year)[org.id]
    rows = session.execute(
        select(Meeting.id, Meeting.kind, Meeting.held_on)
        .where(
            Meeting.org_id == org.id,
            Meeting.deleted_at.is_(None),
            Meeting.held_on >= start,
        )
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
    ).all()
    ids = [r[0] for r in rows]
    counts = figures.meeting_attendance(session, ids)
    superior = (
        set(
            session.scalars(
                select(MeetingGuest.meeting_id).where(
                    MeetingGuest.meeting_id.in_(ids), MeetingGuest.is_superior.is_(True)
                )
            )
        )
        if ids
        else set()
    )
    can_write = True
    try:
        _require_writer(session, person_id, org.id)
    except NotAllowed:
        can_write = False
    return CellOverview(
        org=CellRef(org.id, org.code, org.name),
        months=sorted(monthly.items(), reverse=True),
        thematic=thematic,
        meetings=[MeetingRow(i, k, d, counts[i], i in superior) for i, k, d in rows],
        can_write=can_write,
        year=today.year,
    )


@dataclass(frozen=True)
class MeetingDetail:
    """One meeting, as /meetings opens it."""

    id: int
    org: CellRef
    kind: MeetingKind
    held_on: date
    duration: int | None
    duration_minimum: int | None
    topic: str | None
    counts: figures.AttendanceCounts
    excused: list[tuple[str, AbsenceReason | None]]
    unexcused: list[str]
    exempt: list[str]
    guests: list[str]
    other_guests: int
    content: dict[str, bool]
    minutes_ref: str | None
    minutes_file: str | None  # "photo:<file_id>" or "document:<file_id>"
    quality: int | None
    quality_grade: rules.QualityGrade | None
    created_at: datetime
    created_by: str | None
    can_write: bool
    quorum_ok: bool | None


def meeting_detail(
    session: Session, *, person_id: int, meeting_id: int, now: datetime
) -> MeetingDetail:
    """Open one meeting (the list of absent members is personal data: the view is audited)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound()
    org = _require_reader(session, person_id, meeting.org_id)
    if meeting.deleted_at is not None:
        raise NotFound()
    names = (
        dict(
            session.execute(
                select(Member.id, Member.full_name).where(
                    Member.id.in_([a.member_id for a in meeting.attendance])
                )
            ).all()
        )
        if meeting.attendance
        else {}
    )

    def key(a: Attendance) -> str:
        return names.get(a.member_id, "?")

    rows = sorted(meeting.attendance, key=key)
    counts = figures.meeting_attendance(session, [meeting.id])[meeting.id]
    minimums = get_setting(session, "meeting_min_minutes")
    shortfall = rules.duration_shortfall(meeting.kind, meeting.duration_min, minimums)
    grade = None
    if meeting.quality_score is not None:
        grade = rules.quality_grade(
            meeting.quality_score,
            get_setting(session, "quality_scoring"),
            full_marks_known_missing=bool(shortfall)
            or not (meeting.minutes_ref or meeting.minutes_file_id),
        )
    author = session.get(Person, meeting.created_by) if meeting.created_by else None
    can_write = True
    try:
        _require_writer(session, person_id, org.id)
    except NotAllowed:
        can_write = False
    record(
        session,
        actor=_actor(session, person_id),
        at=now,
        action="view",
        entity="meeting",
        entity_id=meeting.id,
    )
    return MeetingDetail(
        id=meeting.id,
        org=CellRef(org.id, org.code, org.name),
        kind=meeting.kind,
        held_on=meeting.held_on,
        duration=meeting.duration_min,
        duration_minimum=shortfall,
        topic=meeting.topic,
        counts=counts,
        excused=[(key(a), a.reason) for a in rows if a.status is AttendanceStatus.EXCUSED],
        unexcused=[key(a) for a in rows if a.status is AttendanceStatus.UNEXCUSED],
        exempt=[key(a) for a in rows if a.status is AttendanceStatus.EXEMPT],
        guests=[g.name for g in meeting.guests if g.is_superior],
        other_guests=meeting.other_guests,
        content=dict(meeting.content or {}),
        minutes_ref=meeting.minutes_ref,
        minutes_file=meeting.minutes_file_id,
        quality=meeting.quality_score,
        quality_grade=grade,
        created_at=meeting.created_at,
        created_by=author.display_name if author else None,
        can_write=can_write,
        quorum_ok=_quorum(session, counts.present, counts.required),
    )


def start_correction(
    session: Session,
    *,
    person_id: int,
    meeting_id: int,
    now: datetime,
    replace_draft: int | None = None,
) -> Started:
    """Open a saved meeting for correction, at the confirmation screen. An unfinished
    conversation is offered back first (unless ``replace_draft`` names it)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.deleted_at is not None:
        raise NotFound()
    _require_writer(session, person_id, meeting.org_id)
    existing = drafts.get(session, person_id)
    if existing is not None:
        if existing.flow == FLOW and existing.data.get("meeting_id") == meeting_id:
            return Started(existing, resumed=False)
        if conversation_key(existing) != replace_draft:
            return Started(existing, resumed=True)
    folded: dict[int, str] = {}
    if meeting.attendance:
        ids = [a.member_id for a in meeting.attendance]
        folded = dict(
            session.execute(select(Member.id, Member.name_folded).where(Member.id.in_(ids))).all()
        )

    def roll_order(a: Attendance) -> tuple[list[str], str]:
        name = folded.get(a.member_id, "")
        return name.split()[-1:], name  # the order of orgs.active_members: by given name

    ordered = sorted(meeting.attendance, key=roll_order)
    absent = [
        a.member_id
        for a in ordered
        if a.status in (AttendanceStatus.EXCUSED, AttendanceStatus.UNEXCUSED)
    ]
    reasons = {
        str(a.member_id): (a.reason or AbsenceReason.OTHER).value
        if a.status is AttendanceStatus.EXCUSED
        else rules.UNEXCUSED
        for a in ordered
        if a.member_id in absent
    }
    guests = []
    for i, g in enumerate(meeting.guests, 1):
        key = f"p{g.person_id}" if g.person_id else f"n{i}"
        guests.append({"key": key, "person_id": g.person_id, "name": g.name})
    data = {
        "cid": _new_key(),
        "org_id": meeting.org_id,
        "meeting_id": meeting.id,
        "kind": meeting.kind.value,
        "topic": meeting.topic,
        "duration": meeting.duration_min,
        "held_on": meeting.held_on.isoformat(),
        "roll": [a.member_id for a in ordered],
        "exempt": [a.member_id for a in ordered if a.status is AttendanceStatus.EXEMPT],
        "absent": absent,
        "reasons": reasons,
        "guests": guests,
        "gseq": len(guests),
        "other_guests": meeting.other_guests,
        "content": dict(meeting.content or {}),
        "minutes_ref": meeting.minutes_ref,
        "minutes_file_id": meeting.minutes_file_id,
        "quality": meeting.quality_score,
        "page": 0,
        "ret": "confirm",
    }
    draft = drafts.start(
        session, person_id=person_id, flow=FLOW, state=State.CONFIRM, data=data, now=now
    )
    return Started(draft, resumed=False)


@dataclass(frozen=True)
class Deleted:
    """The outcome of a delete: the cell, and whether this call deleted it."""

    org_id: int
    deleted: bool


def delete_meeting(session: Session, *, person_id: int, meeting_id: int, now: datetime) -> Deleted:
    """Soft-delete a meeting (audited; frees the month for another regular meeting).
    A repeated tap finds it deleted already and changes nothing."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound()
    org = _require_writer(session, person_id, meeting.org_id)
    if meeting.deleted_at is not None:
        return Deleted(org.id, deleted=False)
    actor = _actor(session, person_id)
    before = _meeting_after(meeting, meeting.attendance)
    meeting.deleted_at = now
    meeting.regular_key = None
    meeting.updated_at = now
    record(
        session,
        actor=actor,
        at=now,
        action="delete",
        entity="meeting",
        entity_id=meeting.id,
        before=before,
    )
    unexcused = {a.member_id for a in meeting.attendance if a.status is AttendanceStatus.UNEXCUSED}
    _refresh_three_months(
        session, org=org, member_ids=unexcused, years={meeting.held_on.year}, actor=actor, now=now
    )
    return Deleted(org.id, deleted=True)


def minutes_file(session: Session, *, person_id: int, meeting_id: int) -> tuple[str, str]:
    """The kept photo or file of a meeting's minutes: ("photo" | "document", file id)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.deleted_at is not None or not meeting.minutes_file_id:
        raise NotFound()
    _require_reader(session, person_id, meeting.org_id)
    kind, _, file_id = meeting.minutes_file_id.partition(":")
    return kind, file_id


# --- Study models (mô hình học tập và làm theo Bác) ------------------------------------------


@dataclass(frozen=True)
class ModelRow:
    """A study model as /model lists it."""

    id: int
    year: int
    title: str
    registered_on: date
    reviewed_on: date | None
    result: str | None


@dataclass(frozen=True)
class ModelOverview:
    """The /model screen of one cell."""

    org: CellRef
    year: int
    models: list[ModelRow]  # this year's
    carry_over: list[ModelRow]  # last year's, offered when this year has none


def _model_row(m: StudyModel) -> ModelRow:
    return ModelRow(m.id, m.year, m.title, m.registered_on, m.reviewed_on, m.result)


def model_overview(session: Session, *, person_id: int, org_id: int, today: date) -> ModelOverview:
    """The cell's study models of this year (and last year's when none is registered)."""
    org = _require_writer(session, person_id, org_id)
    rows = session.scalars(
        select(StudyModel)
        .where(
            StudyModel.org_id == org.id,
            StudyModel.deleted_at.is_(None),
            StudyModel.year.in_([today.year, today.year - 1]),
        )
        .order_by(StudyModel.year.desc(), StudyModel.id)
    ).all()
    this_year = [_model_row(m) for m in rows if m.year == today.year]
    last_year = [_model_row(m) for m in rows if m.year == today.year - 1]
    return ModelOverview(
        CellRef(org.id, org.code, org.name),
        today.year,
        this_year,
        [] if this_year else last_year,
    )


def start_model_entry(
    session: Session,
    *,
    person_id: int,
    org_id: int,
    now: datetime,
    model_id: int | None = None,
) -> Draft:
    """Ask for a new model's title, or (``model_id``) for the result of its yearly review."""
    _require_writer(session, person_id, org_id)
    if model_id is not None:
        model = session.get(StudyModel, model_id)
        if model is None or model.deleted_at is not None or model.org_id != org_id:
            raise NotFound()
    state = ModelState.RESULT if model_id else ModelState.TITLE
    return drafts.start(
        session,
        person_id=person_id,
        flow=MODEL_FLOW,
        state=state,
        data={"cid": _new_key(), "org_id": org_id, "model_id": model_id},
        now=now,
    )


def save_model_text(
    session: Session, *, person_id: int, text: str, today: date, now: datetime
) -> ModelRow:
    """Register a model with the typed title, or record the typed review result."""
    draft = drafts.get(session, person_id)
    if draft is None or draft.flow != MODEL_FLOW:
        raise StaleAction()
    org = _require_writer(session, person_id, draft.data["org_id"])
    actor = _actor(session, person_id)
    value = clean(text)
    if draft.state == ModelState.TITLE:
        if not value or len(value) > 300:
            raise InvalidInput(
                N_("Please type the model's name, at most {limit} characters."), limit=300
            )
        model = StudyModel(
            org_id=org.id,
            year=today.year,
            title=value,
            registered_on=today,
            created_at=now,
            deleted_at=None,
        )
        session.add(model)
        session.flush()
        record(
            session,
            actor=actor,
            at=now,
            action="create",
            entity="study_model",
            entity_id=model.id,
            after=snapshot(model, ["org_id", "year", "title", "registered_on"]),
        )
    else:
        model = session.get(StudyModel, draft.data.get("model_id"))
        if model is None or model.deleted_at is not None or model.org_id != org.id:
            raise NotFound()
        if not value or len(value) > 500:
            raise InvalidInput(
                N_("Please type the result of the review, at most {limit} characters."),
                limit=500,
            )
        before = snapshot(model, ["reviewed_on", "result"])
        model.reviewed_on, model.result = today, value
        record(
            session,
            actor=actor,
            at=now,
            action="update",
            entity="study_model",
            entity_id=model.id,
            before=before,
            after=snapshot(model, ["reviewed_on", "result"]),
        )
    drafts.finish(session, person_id)
    return _model_row(model)


def carry_over_model(
    session: Session, *, person_id: int, model_id: int, today: date, now: datetime
) -> ModelRow:
    """Register last year's model again for this year (a repeated tap changes nothing)."""
    old = session.get(StudyModel, model_id)
    if old is None or old.deleted_at is not None:
        raise NotFound()
    org = _require_writer(session, person_id, old.org_id)
    same = session.scalar(
        select(StudyModel).where(
            StudyModel.org_id == org.id,
            StudyModel.year == today.year,
            StudyModel.title == old.title,
            StudyModel.deleted_at.is_(None),
        )
    )
    if same is not None:
        return _model_row(same)
    model = StudyModel(
        org_id=org.id,
        year=today.year,
        title=old.title,
        registered_on=today,
        created_at=now,
        deleted_at=None,
    )
    session.add(model)
    session.flush()
    record(
        session,
        actor=_actor(session, person_id),
        at=now,
        action="create",
        entity="study_model",
        entity_id=model.id,
        after={**snapshot(model, ["org_id", "year", "title"]), "from": old.id},
    )
    return _model_row(model)


def delete_model(session: Session, *, person_id: int, model_id: int, now: datetime) -> int:
    """Remove a model registered by mistake (soft delete). Returns its cell id."""
    model = session.get(StudyModel, model_id)
    if model is None:
        raise NotFound()
    org = _require_writer(session, person_id, model.org_id)
    if model.deleted_at is None:
        model.deleted_at = now
        record(
            session,
            actor=_actor(session, person_id),
            at=now,
            action="delete",
            entity="study_model",
            entity_id=model.id,
            before=snapshot(model, ["year", "title"]),
        )
    return org.id


def model_org(session: Session, *, person_id: int, model_id: int) -> int:
    """The cell of a study model the person may manage."""
    model = session.get(StudyModel, model_id)
    if model is None or model.deleted_at is not None:
        raise NotFound()
    _require_writer(session, person_id, model.org_id)
    return model.org_id


def cancel_model_entry(session: Session, *, person_id: int) -> bool:
    """Leave a model entry in progress (nothing is saved)."""
    draft = drafts.get(session, person_id)
    if draft is None or draft.flow != MODEL_FLOW:
        return False
    return drafts.finish(session, person_id)
