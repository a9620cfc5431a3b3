"""A person's data: everything chibo holds about one member or candidate, and erasing it.

:func:`export_person` gathers the rows that are about the person (the member or candidate
record, the Telegram account and roles bound to it, attendance, reviews, commitments, flags,
notices, reminders, drafts, audit rows) plus every other place their name appears, found by
scanning every text and JSON column of every table.

:func:`erase_person` anonymizes in place so the figures already reported do not change:
the member or candidate row stays, counted by its status, stage, gender and dates, but its
name, birth date, national code and own code are replaced; attendance and review rows stay
(their status, reason and outcome are what reports count) while their free text is removed;
the Telegram account is unbound and its roles revoked; drafts, snoozes and unsent messages are
deleted; then every text and JSON column of every table (the audit trail's before/after too)
is swept for the person's names and codes. One audit row records the erasure without any of
the erased data. Backups taken before keep the data until they are deleted (see the README).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, MetaData, String, Table, Text, delete, or_, select, update
from sqlalchemy.orm import Session

from domain.errors import NotFound
from domain.text import fold
from storage.audit import Actor, jsonable, record, snapshot
from storage.models import (
    Attendance,
    AuditLog,
    Candidate,
    CandidateEvent,
    Commitment,
    Draft,
    Flag,
    Invite,
    Meeting,
    MeetingGuest,
    Member,
    NoticeReply,
    Organization,
    Outbox,
    OutboxStatus,
    Person,
    Review,
    RoleAssignment,
    Snooze,
)

#: What an erased name becomes.
ERASED = "(đã xoá)"
#: Keys of audit before/after values that hold personal data, emptied on erasure.
PERSONAL_KEYS = frozenset(
    {
        "full_name",
        "name_folded",
        "display_name",
        "birth_year",
        "birth_month",
        "external_code",
        "telegram_user_id",
        "description",
        "measure",
        "comment",
        "items",
        "note",
        "name",
    }
)
#: Tables the sweep leaves alone (no personal data by construction).
SKIP_TABLES = frozenset({"alembic_version", "leases"})
#: Needles shorter than this are not swept (they would match unrelated text).
MIN_NEEDLE = 4


@dataclass
class Subject:
    """The person an export or erasure is about."""

    kind: str  # member | candidate
    code: str
    member: Member | None = None
    candidate: Candidate | None = None
    people: list[Person] = field(default_factory=list)

    @property
    def entity_id(self) -> int:
        row = self.member if self.member is not None else self.candidate
        assert row is not None
        return int(row.id)

    @property
    def person_ids(self) -> list[int]:
        return [p.id for p in self.people]

    def needles(self) -> list[str]:
        """The strings that identify the person, longest first."""
        found: set[str] = set()
        row = self.member if self.member is not None else self.candidate
        assert row is not None
        names = [row.full_name, *(p.display_name for p in self.people)]
        for name in names:
            if name and name != ERASED:
                found.update({name, fold(name)})
        if self.member is not None and self.member.external_code:
            found.add(self.member.external_code)
        found.add(self.code)
        return sorted((n for n in found if len(n) >= MIN_NEEDLE), key=len, reverse=True)

    def pattern(self) -> re.Pattern[str]:
        """Matches any needle as a whole word ("… Văn An" does not match "… Văn Anh")."""
        return needle_pattern(self.needles())


def needle_pattern(needles: Iterable[str]) -> re.Pattern[str]:
    """A case-insensitive whole-word pattern of ``needles`` (never matches when empty)."""
    alternatives = "|".join(re.escape(n) for n in needles)
    if not alternatives:
        return re.compile(r"(?!x)x")
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def find(session: Session, code: str) -> Subject:
    """The member or candidate with ``code`` (members first)."""
    member = session.scalar(select(Member).where(Member.code == code))
    if member is not None:
        people = list(session.scalars(select(Person).where(Person.member_id == member.id)))
        return Subject("member", code, member=member, people=people)
    candidate = session.scalar(select(Candidate).where(Candidate.code == code))
    if candidate is not None:
        return Subject("candidate", code, candidate=candidate)
    raise NotFound()


# --- Scanning every table ------------------------------------------------------------------------


def _text_columns(table: Table) -> list[Any]:
    return [c for c in table.columns if isinstance(c.type, String | Text | JSON)]


def _reflected(session: Session) -> list[Table]:
    meta = MetaData()
    meta.reflect(session.connection())
    return [t for t in meta.sorted_tables if t.name not in SKIP_TABLES]


def _contains(value: Any, pattern: re.Pattern[str]) -> bool:
    if value is None:
        return False
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            text = json.dumps(json.loads(value), ensure_ascii=False)
        except ValueError:
            pass
    return pattern.search(text) is not None


def mentions(session: Session, pattern: re.Pattern[str]) -> list[dict[str, Any]]:
    """Every (table, column, key) whose value matches ``pattern`` (scans every table)."""
    found: list[dict[str, Any]] = []
    for table in _reflected(session):
        cols = _text_columns(table)
        if not cols:
            continue
        keys = list(table.primary_key.columns)
        for row in session.execute(select(*keys, *cols)).all():
            pk = {k.name: jsonable(row[i]) for i, k in enumerate(keys)}
            for j, col in enumerate(cols):
                value = row[len(keys) + j]
                if _contains(value, pattern):
                    found.append(
                        {"table": table.name, "column": col.name, "key": pk, "value": value}
                    )
    return found


def _scrub(value: Any, pattern: re.Pattern[str], *, key: str | None = None) -> Any:
    if key in PERSONAL_KEYS and value not in (None, "", [], {}):
        return None
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, dict):
        return {k: _scrub(v, pattern, key=str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    return value


def _sweep(session: Session, pattern: re.Pattern[str]) -> int:
    """Replace every match of ``pattern`` in every text and JSON column; rows changed."""
    changed = 0
    for hit in mentions(session, pattern):
        table = Table(hit["table"], MetaData(), autoload_with=session.connection())
        col = table.columns[hit["column"]]
        value = hit["value"]
        if isinstance(value, str) and not isinstance(col.type, JSON):
            new: Any = pattern.sub(ERASED, value)
            if hit["column"] == "name_folded":
                new = fold(new)
        else:
            new = _scrub(value, pattern)
        where = [table.columns[k] == v for k, v in hit["key"].items()]
        session.execute(update(table).where(*where).values({col.name: new}))
        changed += 1
    return changed


# --- Export --------------------------------------------------------------------------------------


def _rows(objs: Iterable[Any], fields: list[str] | None = None) -> list[dict[str, Any]]:
    return [snapshot(o, fields) for o in objs]


def export_person(session: Session, code: str) -> dict[str, Any]:
    """Everything chibo holds about the member or candidate ``code``, JSON-friendly."""
    subject = find(session, code)
    out: dict[str, Any] = {"subject": {"kind": subject.kind, "code": code}}
    pids = subject.person_ids
    if subject.member is not None:
        m = subject.member
        org = session.get(Organization, m.org_id)
        out["member"] = {**snapshot(m), "org_code": org.code if org else None}
        out["attendance"] = [
            {
                "meeting_id": mid,
                "held_on": jsonable(held),
                "meeting_kind": jsonable(kind),
                "status": jsonable(status),
                "reason": jsonable(reason),
            }
            for mid, held, kind, status, reason in session.execute(
                select(
                    Meeting.id, Meeting.held_on, Meeting.kind, Attendance.status, Attendance.reason
                )
                .join(Attendance, Attendance.meeting_id == Meeting.id)
                .where(Attendance.member_id == m.id)
                .order_by(Meeting.held_on)
            )
        ]
        out["reviews"] = _rows(
            session.scalars(
                select(Review).where(Review.member_id == m.id).order_by(Review.year, Review.month)
            )
        )
        out["commitments"] = _rows(
            session.scalars(select(Commitment).where(Commitment.member_id == m.id))
        )
        out["flags"] = _rows(session.scalars(select(Flag).where(Flag.member_id == m.id)))
    if subject.candidate is not None:
        c = subject.candidate
        out["candidate"] = snapshot(c)
        out["candidate_events"] = _rows(
            session.scalars(select(CandidateEvent).where(CandidateEvent.candidate_id == c.id))
        )
    out["telegram_accounts"] = _rows(subject.people)
    if pids:
        out["roles"] = _rows(
            session.scalars(select(RoleAssignment).where(RoleAssignment.person_id.in_(pids)))
        )
        out["invites_used"] = _rows(
            session.scalars(select(Invite).where(Invite.used_by.in_(pids))),
            ["org_id", "role", "display_name", "created_at", "used_at"],
        )
        out["meetings_as_guest"] = _rows(
            session.scalars(select(MeetingGuest).where(MeetingGuest.person_id.in_(pids)))
        )
        out["notice_replies"] = _rows(
            session.scalars(select(NoticeReply).where(NoticeReply.person_id.in_(pids)))
        )
        out["drafts"] = _rows(session.scalars(select(Draft).where(Draft.person_id.in_(pids))))
        out["snoozes"] = _rows(session.scalars(select(Snooze).where(Snooze.person_id.in_(pids))))
        out["messages"] = _rows(
            session.scalars(
                select(Outbox).where(Outbox.person_id.in_(pids)).order_by(Outbox.created_at)
            ),
            ["kind", "status", "payload", "not_before", "sent_at", "created_at"],
        )
    out["audit"] = _rows(
        session.scalars(select(AuditLog).where(_audit_about(subject)).order_by(AuditLog.at))
    )
    if pids:
        # What they did: when and to which record, not the records' content (others' data).
        out["actions"] = _rows(
            session.scalars(
                select(AuditLog).where(AuditLog.actor_person_id.in_(pids)).order_by(AuditLog.at)
            ),
            ["at", "action", "entity", "entity_id"],
        )
    out["other_mentions"] = [
        {k: jsonable(v) for k, v in hit.items()}
        for hit in mentions(session, subject.pattern())
        if hit["table"] not in {"members", "candidates", "people", "audit_log"}
    ]
    return out


def _audit_about(subject: Subject) -> Any:
    """Audit rows whose subject is the person (not rows of what they did to others' records)."""
    conds: list[Any] = [
        (AuditLog.entity == subject.kind) & (AuditLog.entity_id == str(subject.entity_id)),
    ]
    if subject.person_ids:
        conds.append(
            (AuditLog.entity == "person")
            & AuditLog.entity_id.in_([str(p) for p in subject.person_ids])
        )
    return or_(*conds)


# --- Erase ---------------------------------------------------------------------------------------


def erase_person(session: Session, code: str, *, actor: Actor, now: datetime) -> dict[str, int]:
    """Anonymize the member or candidate ``code`` everywhere; returns rows changed by kind.

    Call in one transaction: either everything is erased or nothing is.
    """
    subject = find(session, code)
    pattern = subject.pattern()
    counts: dict[str, int] = {}
    pids = subject.person_ids
    entity_id = subject.entity_id
    if subject.member is not None:
        m = subject.member
        m.full_name = ERASED
        m.name_folded = fold(ERASED)
        m.birth_year = m.birth_month = None
        m.external_code = None
        m.code = f"X{m.id}"[:32]
        m.updated_at = now
        counts["reviews"] = _count(
            session.execute(
                update(Review)
                .where(Review.member_id == m.id)
                .values(description=None, measure=None, comment=None)
            )
        )
        counts["commitments"] = _count(
            session.execute(
                update(Commitment).where(Commitment.member_id == m.id).values(items=[])
            )
        )
        counts["flags"] = _count(
            session.execute(update(Flag).where(Flag.member_id == m.id).values(detail={}))
        )
    if subject.candidate is not None:
        c = subject.candidate
        c.full_name = ERASED
        c.name_folded = fold(ERASED)
        c.birth_year = c.birth_month = None
        c.code = f"X{c.id}"[:32]
        c.updated_at = now
        counts["candidate_events"] = _count(
            session.execute(
                update(CandidateEvent).where(CandidateEvent.candidate_id == c.id).values(detail={})
            )
        )
    if pids:
        for person in subject.people:
            person.display_name = ERASED
            person.telegram_user_id = None
            person.locale = None
        counts["roles_revoked"] = _count(
            session.execute(
                update(RoleAssignment)
                .where(RoleAssignment.person_id.in_(pids), RoleAssignment.revoked_at.is_(None))
                .values(revoked_at=now, revoked_by="privacy: erased")
            )
        )
        session.execute(update(Invite).where(Invite.used_by.in_(pids)).values(display_name=None))
        session.execute(
            update(MeetingGuest)
            .where(MeetingGuest.person_id.in_(pids))
            .values(name=ERASED, person_id=None)
        )
        session.execute(
            update(NoticeReply).where(NoticeReply.person_id.in_(pids)).values(reason=None)
        )
        counts["drafts"] = _count(session.execute(delete(Draft).where(Draft.person_id.in_(pids))))
        session.execute(delete(Snooze).where(Snooze.person_id.in_(pids)))
        counts["messages_unsent_deleted"] = _count(
            session.execute(
                delete(Outbox).where(
                    Outbox.person_id.in_(pids),
                    Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                )
            )
        )
        session.execute(update(Outbox).where(Outbox.person_id.in_(pids)).values(payload={}))
    # The audit trail about the person: personal keys emptied, names replaced.
    audit_rows = list(session.scalars(select(AuditLog).where(_audit_about(subject))))
    for row in audit_rows:
        row.before = _scrub(row.before, pattern) if row.before is not None else None
        row.after = _scrub(row.after, pattern) if row.after is not None else None
    counts["audit_rows"] = len(audit_rows)
    session.flush()
    counts["other_mentions"] = _sweep(session, pattern)
    record(
        session,
        actor=actor,
        at=now,
        action="erase",
        entity=subject.kind,
        entity_id=entity_id,
        after={"erased": True, "rows": dict(counts)},
    )
    return counts


def _count(result: Any) -> int:
    return int(result.rowcount or 0)
