"""Reading meetings: a cell's overview, one meeting, corrections and deletion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.errors import NotAllowed, NotFound
from domain.rules import meetings as rules
from storage import drafts, figures
from storage.audit import record
from storage.meetings.access import (
    FLOW,
    LIST_MONTHS,
    CellRef,
    State,
    _actor,
    _quorum,
    _require_reader,
    _require_writer,
)
from storage.meetings.conversation import Started, _new_key, conversation_key
from storage.meetings.saving import _meeting_after, _refresh_three_months
from storage.models import (
    AbsenceReason,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingGuest,
    MeetingKind,
    Member,
    Person,
)
from storage.seed import get_setting


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
            )
            .tuples()
            .all()
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
        quorum_ok=_quorum(
            session,
            [a.member_id for a in rows if a.status is AttendanceStatus.PRESENT],
            [a.member_id for a in rows if a.status is not AttendanceStatus.EXEMPT],
        ),
    )


def check_correctable(session: Session, *, person_id: int, meeting_id: int) -> None:
    """Raise unless the meeting exists and the person may still correct it."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.deleted_at is not None:
        raise NotFound()
    _require_writer(session, person_id, meeting.org_id)


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
            session.execute(select(Member.id, Member.name_folded).where(Member.id.in_(ids)))
            .tuples()
            .all()
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
        session,
        org_id=org.id,
        org_name=org.name,
        member_ids=unexcused,
        years={meeting.held_on.year},
        actor=actor,
        now=now,
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
