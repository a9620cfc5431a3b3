"""Saving a meeting, and the three-months rule it checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import access
from domain.errors import AlreadyRecorded, InvalidInput, NotFound
from domain.i18n import N_
from domain.rules import meetings as rules
from domain.rules.attendance import three_months_rule
from storage import drafts, figures, reviews
from storage.audit import Actor, record, snapshot
from storage.meetings.access import State, _actor, _quorum
from storage.meetings.conversation import _dmy, _regular_in_month, _roll, _step
from storage.models import (
    AbsenceReason,
    Attendance,
    AttendanceStatus,
    Flag,
    Meeting,
    MeetingGuest,
    MeetingKind,
    Member,
    Organization,
    OrgKind,
    Outbox,
    OutboxStatus,
    RoleAssignment,
)
from storage.seed import get_setting


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
        session,
        org_id=org.id,
        org_name=org.name,
        member_ids=check_members,
        years=years,
        actor=actor,
        now=now,
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
        quorum_ok=_quorum(
            session,
            [i for i, (st, _r) in statuses.items() if st is AttendanceStatus.PRESENT],
            [m.id for m in required],
            statuses={m.id: m.status for m in required},
        ),
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
    org_id: int,
    org_name: str,
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
        session.execute(select(Member.id, Member.full_name).where(Member.id.in_(member_ids)))
        .tuples()
        .all()
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
                            org_id=org_id,
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
                    session, flag=flag, member_name=name, org_name=org_name, now=now
                )
            notices.append(
                FlagNotice(member_id, name, org_name, year, verdict.months, level, board)
            )
    return notices
