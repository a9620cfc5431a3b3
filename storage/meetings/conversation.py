"""The /meeting conversation: reading a draft and one use case per step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from domain.access import OrgNode
from domain.errors import InvalidInput, NotAllowed, StaleAction
from domain.i18n import N_
from domain.rules import meetings as rules
from domain.text import clean, has_letters
from storage import drafts, figures, orgs
from storage.cache import cached
from storage.db import plain_rows
from storage.meetings.access import (
    FLOW,
    MOVES,
    PAGE_SIZE,
    SECTIONS,
    CellRef,
    State,
    _quorum,
    _require_writer,
    writable_cell,
    writable_cells,
)
from storage.models import (
    AbsenceReason,
    AttendanceStatus,
    Draft,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Organization,
    Person,
    Role,
    RoleAssignment,
)
from storage.seed import get_setting


@dataclass(frozen=True)
class RollEntry:
    """A member on the roll of the meeting being recorded."""

    id: int
    name: str
    exempt: bool
    status: MemberStatus = MemberStatus.FULL  # full members alone count for the vote quorum


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
    """(required, exempt): the live roll for a new meeting, the recorded one for a correction.

    Read as plain rows, once per transaction (a tap both checks and shows the roll).
    """
    cache_key = ("roll", data.get("meeting_id"), data.get("org_id"), tuple(data.get("roll", [])))
    memo = session.info.get(cache_key)
    if memo is not None:
        return memo
    if data.get("meeting_id"):
        ids = list(data.get("roll", []))
        exempt_ids = set(data.get("exempt", []))
        rows = (
            session.execute(
                select(Member.id, Member.full_name, Member.status).where(Member.id.in_(ids))
            ).all()
            if ids
            else []
        )
        found = {r.id: r for r in rows}
        entries = [
            RollEntry(i, found[i].full_name, i in exempt_ids, found[i].status)
            for i in ids
            if i in found
        ]
    else:
        org_id = data["org_id"]
        entries = list(cached(session, ("roll", org_id), lambda: _live_roll(session, org_id)))
    result = [e for e in entries if not e.exempt], [e for e in entries if e.exempt]
    session.info[cache_key] = result
    return result


def _live_roll(session: Session, org_id: int) -> tuple[RollEntry, ...]:
    """The cell's active members in roll order (from the process's cache while no member has
    changed: :mod:`storage.cache`)."""
    live = list(plain_rows(session, _LIVE_ROLL, {"org": org_id}).all())
    live.sort(key=lambda r: (r.name_folded.split()[-1:], r.name_folded))  # as active_members
    return tuple(
        RollEntry(r.id, r.full_name, r.status is MemberStatus.EXEMPT, r.status) for r in live
    )


#: What a conversation's screens show of its cell, built once.
_CELL = select(Organization.id, Organization.name, Organization.usual_meeting_day).where(
    Organization.id == bindparam("org")
)


def _cell(session: Session, org_id: int) -> Any:
    return plain_rows(session, _CELL, {"org": org_id}).first()


#: The active members of cell ``:org`` as plain rows (every attendance tap reads them).
_LIVE_ROLL = select(Member.id, Member.full_name, Member.status, Member.name_folded).where(
    Member.org_id == bindparam("org"),
    Member.status.in_([st for st in MemberStatus if st.is_active]),
)


def followers(session: Session, org_id: int) -> list[tuple[int, str]]:
    """The superior committee members assigned to follow the cell: (person id, name)."""
    rows = (
        session.execute(
            select(Person.id, Person.display_name)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(
                RoleAssignment.org_id == org_id,
                RoleAssignment.role == Role.FOLLOWER,
                RoleAssignment.revoked_at.is_(None),
            )
            .order_by(Person.display_name)
        )
        .tuples()
        .all()
    )
    return [(int(i), n) for i, n in dict(rows).items()]


def _last_regular(
    session: Session, org_id: int, before: date, exclude: int | None
) -> Meeting | None:
    """The cell's last regular meeting on or before ``before`` (other than ``exclude``)."""
    newest = _LAST_REGULAR.with_only_columns(Meeting.id).scalar_subquery()
    last = select(Meeting).where(Meeting.id == newest)
    return session.scalar(last, _last_params(org_id, before, exclude))


def _last_regular_on(
    session: Session, org_id: int, before: date, exclude: int | None
) -> date | None:
    """The date of :func:`_last_regular` (a plain row: every attendance tap shows it)."""
    row = plain_rows(session, _LAST_REGULAR, _last_params(org_id, before, exclude)).first()
    return row.held_on if row is not None else None


def _last_params(org_id: int, before: date, exclude: int | None) -> dict[str, Any]:
    return {"org": org_id, "before": before, "exclude": exclude or 0}


#: The id and date of a cell's last regular meeting on or before ``:before``, other than
#: ``:exclude`` (0: none), built once.
_LAST_REGULAR = (
    select(Meeting.id, Meeting.held_on)
    .where(
        Meeting.org_id == bindparam("org"),
        Meeting.deleted_at.is_(None),
        # Equalities, not an IN list (expanded into the statement on every execution).
        or_(*(Meeting.kind == kind for kind in figures.REGULAR_KINDS)),
        Meeting.held_on <= bindparam("before"),
        Meeting.id != bindparam("exclude"),
    )
    .order_by(Meeting.held_on.desc(), Meeting.id.desc())
    .limit(1)
)


#: The steps whose screens show the roll and what follows from it (quorum, reasons, pages).
ROLL_STEPS = frozenset({State.ATTENDANCE, State.REASONS, State.CONFIRM})
#: The steps whose screens offer the committee members following the cell as guests.
FOLLOWER_STEPS = frozenset({State.GUESTS})


def view(session: Session, draft: Draft, *, today: date, everything: bool = False) -> DraftView:
    """Gather what the screen of the draft's current step shows; ``everything``: all of it
    whatever the step (what discarding the conversation would lose)."""
    data = draft.data
    org_id = data.get("org_id")
    org = cached(session, ("cell", org_id), lambda: _cell(session, org_id)) if org_id else None
    kind = MeetingKind(data["kind"]) if data.get("kind") else None
    minimums = get_setting(session, "meeting_min_minutes")
    quality_cfg = get_setting(session, "quality_scoring")
    state = State(draft.state)
    with_roll = org is not None and (everything or state in ROLL_STEPS)
    required, exempt = _roll(session, data) if with_roll else ([], [])
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
        prev_on = _last_regular_on(session, org.id, held_on or today, data.get("meeting_id"))
        if prev_on is not None and prev_on != held_on:
            last = prev_on
    duplicate = None
    if data.get("dup_id"):
        dup = session.get(Meeting, data["dup_id"])
        if dup is not None:
            duplicate = (dup.id, dup.held_on)
    absent_ids = {int(i) for i in data.get("absent", [])}
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
        followers=followers(session, org.id)
        if org and (everything or state in FOLLOWER_STEPS)
        else [],
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
        quorum_ok=_quorum(
            session,
            [m.id for m in required if m.id not in absent_ids],
            [m.id for m in required],
            statuses={m.id: m.status for m in required},
        ),
    )


def conversation_key(draft: Draft) -> int:
    """The number the conversation's buttons carry (see :func:`storage.drafts.key`)."""
    return drafts.key(draft)


def _new_key() -> int:
    return drafts.new_key()


def current_draft(session: Session, *, person_id: int) -> Draft | None:
    """The person's conversation in progress (any flow)."""
    return drafts.get(session, person_id)


def _step(
    session: Session, person_id: int, draft_id: int, *states: State, flow: str = FLOW
) -> tuple[Draft, OrgNode]:
    """The draft and its cell, if a button for ``draft_id`` at ``states`` is current and the
    person may still write for its cell. Raises :class:`StaleAction` or :class:`NotAllowed`."""
    draft = _guard(session, person_id, draft_id, *states, flow=flow)
    org_id = draft.data.get("org_id")
    if not org_id:
        raise StaleAction()
    return draft, writable_cell(session, person_id, org_id)


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
    if not has_letters(name) or len(name) > rules.GUEST_NAME_MAX:
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
