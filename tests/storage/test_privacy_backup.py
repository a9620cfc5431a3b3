"""Backups round-trip every table; a person's data is exported and erased without a trace."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, func, select

from domain.clock import SystemClock
from domain.text import fold
from storage import backup, privacy
from storage.audit import Actor, record, snapshot
from storage.db import Database
from storage.demo_seed import seed_demo
from storage.models import (
    AbsenceReason,
    Attendance,
    AttendanceStatus,
    AuditLog,
    Candidate,
    CandidateEvent,
    Commitment,
    Draft,
    Flag,
    Meeting,
    MeetingGuest,
    MeetingKind,
    Member,
    MemberStatus,
    Notice,
    Outbox,
    OutboxStatus,
    Person,
    Review,
    ReviewOutcome,
    Role,
    RoleAssignment,
)

NAME = "Tôn Nữ Diệu Khuê"
CANDIDATE = "Lò Văn Pằng"


def _seed(db: Database) -> dict[str, Any]:
    """The demo Khối plus one member with a Telegram account and data in every corner."""
    now = SystemClock().now()
    with db.transaction() as session:
        khoi = seed_demo(session, now=now)
        org = khoi.orgs["CBDIEN"]
        member = Member(
            code="CBDIEN-900",
            org_id=org,
            full_name=NAME,
            name_folded=fold(NAME),
            birth_year=1988,
            birth_month=4,
            external_code="QG-7788991",
            status=MemberStatus.FULL,
            created_at=now,
            updated_at=now,
        )
        session.add(member)
        session.flush()
        person = Person(
            display_name=NAME,
            telegram_user_id=99001,
            member_id=member.id,
            locale="vi",
            created_at=now,
        )
        session.add(person)
        session.flush()
        session.add(
            RoleAssignment(
                person_id=person.id, org_id=org, role=Role.DEPUTY, granted_at=now, granted_by="t"
            )
        )
        record(
            session,
            actor=Actor("cli:admin"),
            at=now,
            action="create",
            entity="member",
            entity_id=member.id,
            after=snapshot(member),
        )
        meeting = Meeting(
            org_id=org,
            kind=MeetingKind.REGULAR,
            held_on=date(2026, 11, 5),
            regular_key=f"{org}:2026-11",
            content={},
            topic=f"Góp ý đồng chí {NAME}",
            created_at=now,
            updated_at=now,
        )
        session.add(meeting)
        session.flush()
        members = session.scalars(select(Member).where(Member.org_id == org)).all()
        for m in members:
            absent = m.id == member.id
            session.add(
                Attendance(
                    meeting_id=meeting.id,
                    member_id=m.id,
                    status=AttendanceStatus.EXCUSED if absent else AttendanceStatus.PRESENT,
                    reason=AbsenceReason.ILLNESS if absent else None,
                )
            )
            session.add(
                Review(
                    org_id=org,
                    member_id=m.id,
                    year=2026,
                    month=11,
                    outcome=ReviewOutcome.NO_CHANGE if absent else ReviewOutcome.PROGRESSING,
                    description=f"{NAME} chưa nộp bản cam kết" if absent else None,
                    measure="Nhắc nhở" if absent else None,
                    meeting_id=meeting.id,
                    reviewed_at=now,
                )
            )
        session.add(MeetingGuest(meeting_id=meeting.id, person_id=person.id, name=NAME))
        # Something she did to another member's record: that record's history is not hers.
        record(
            session,
            actor=Actor(NAME, person_id=person.id),
            at=now,
            action="review",
            entity="member",
            entity_id=members[0].id,
            after={"description": "Chưa tham gia sinh hoạt đều"},
        )
        session.add(
            Commitment(
                member_id=member.id,
                year=2026,
                items=[{"text": f"{NAME} khắc phục tính cục bộ"}],
                created_at=now,
                updated_at=now,
            )
        )
        session.add(
            Flag(
                key="flag:1",
                kind="three_months",
                org_id=org,
                member_id=member.id,
                year=2026,
                level=1,
                detail={"name": NAME},
                raised_at=now,
            )
        )
        session.add(
            Draft(
                person_id=person.id,
                flow="review",
                state="text",
                data={"typed": f"đồng chí {NAME}"},
                created_at=now,
                updated_at=now,
            )
        )
        for i, status in enumerate([OutboxStatus.SENT, OutboxStatus.PENDING]):
            session.add(
                Outbox(
                    key=f"notice:privacy:{i}",
                    person_id=person.id,
                    kind="notice",
                    payload={"msgid": "Hello, {name}!", "params": {"name": NAME}},
                    not_before=now,
                    status=status,
                    attempts=1,
                    sent_at=now if status is OutboxStatus.SENT else None,
                    created_at=now,
                )
            )
        session.add(
            Notice(
                kind="notice",
                title="Thông báo",
                body=f"Đề nghị đồng chí {NAME} (CBDIEN-900) báo cáo",
                scope={},
                created_at=now,
            )
        )
        candidate = Candidate(
            code="QC-0042",
            org_id=org,
            full_name=CANDIDATE,
            name_folded=fold(CANDIDATE),
            birth_year=2001,
            priority_groups=[],
            stage="learning",
            stage_since=date(2026, 9, 1),
            created_at=now,
            updated_at=now,
        )
        session.add(candidate)
        session.flush()
        session.add(
            CandidateEvent(
                candidate_id=candidate.id,
                stage="learning",
                happened_on=date(2026, 9, 1),
                detail={"note": f"{CANDIDATE} học lớp nhận thức"},
                created_at=now,
            )
        )
        record(
            session,
            actor=Actor("cli:admin"),
            at=now,
            action="create",
            entity="candidate",
            entity_id=candidate.id,
            after=snapshot(candidate),
        )
    return {"member": member.id, "person": person.id, "org": org}


def _traces(db: Database, needles: list[str]) -> list[str]:
    """Every (table.column) whose value contains a needle, over every table and column."""
    meta = MetaData()
    meta.reflect(db.engine)
    found = []
    with db.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    if isinstance(value, str) and value[:1] in "[{":
                        try:
                            text = json.dumps(json.loads(value), ensure_ascii=False)
                        except ValueError:
                            pass
                    elif not isinstance(value, str):
                        text = json.dumps(value, ensure_ascii=False, default=str)
                    for needle in needles:
                        if needle.casefold() in text.casefold():
                            found.append(f"{table.name}.{column}: {needle}")
    return found


def _aggregates(db: Database, org: int) -> dict[str, Any]:
    with db.transaction() as session:
        return {
            "members": Counter(
                s for (s,) in session.execute(select(Member.status).where(Member.org_id == org))
            ),
            "attendance": Counter(
                (s, r) for s, r in session.execute(select(Attendance.status, Attendance.reason))
            ),
            "reviews": Counter(o for (o,) in session.execute(select(Review.outcome))),
            "sent": session.scalar(
                select(func.count(Outbox.id)).where(Outbox.status == OutboxStatus.SENT)
            ),
            "candidates": Counter(s for (s,) in session.execute(select(Candidate.stage))),
        }


def test_export_gathers_everything_about_the_member(db: Database) -> None:
    ids = _seed(db)
    with db.transaction() as session:
        data = privacy.export_person(session, "CBDIEN-900")
    json.dumps(data, ensure_ascii=False)  # JSON-friendly throughout
    assert data["member"]["full_name"] == NAME
    assert data["member"]["external_code"] == "QG-7788991"
    assert [a["status"] for a in data["attendance"]] == ["excused"]
    assert data["reviews"][0]["description"].startswith(NAME)
    assert data["telegram_accounts"][0]["telegram_user_id"] == 99001
    assert data["roles"][0]["role"] == "deputy"
    assert len(data["messages"]) == 2 and data["drafts"] and data["commitments"]
    assert data["flags"] and data["meetings_as_guest"]
    # What she did to others is listed without their data.
    assert data["actions"] and "Chưa tham gia" not in json.dumps(data, ensure_ascii=False)
    assert any(a["entity"] == "member" for a in data["audit"])
    places = {(m["table"], m["column"]) for m in data["other_mentions"]}
    assert ("notices", "body") in places and ("meetings", "topic") in places
    assert ids["member"]


def test_erase_leaves_no_trace_of_the_name_and_keeps_the_counts(db: Database) -> None:
    ids = _seed(db)
    needles = [NAME, fold(NAME), "QG-7788991", "CBDIEN-900", "99001"]
    assert _traces(db, needles)  # the seed put it everywhere
    before = _aggregates(db, ids["org"])
    with db.transaction() as session:
        counts = privacy.erase_person(
            session, "CBDIEN-900", actor=Actor("cli:admin"), now=SystemClock().now()
        )
    assert counts["other_mentions"] >= 2  # the notice body and the meeting topic
    assert _traces(db, needles) == []
    assert _aggregates(db, ids["org"]) == before  # figures already reported do not move
    with db.transaction() as session:
        erase = session.scalars(select(AuditLog).where(AuditLog.action == "erase")).one()
        assert erase.entity == "member" and erase.before is None
        person = session.get(Person, ids["person"])
        assert person is not None and person.telegram_user_id is None
        theirs = session.scalars(
            select(AuditLog).where(AuditLog.actor_person_id == ids["person"])
        ).one()
        assert theirs.after == {"description": "Chưa tham gia sinh hoạt đều"}  # kept
        assert theirs.actor == privacy.ERASED
        roles = session.scalars(
            select(RoleAssignment).where(RoleAssignment.person_id == ids["person"])
        ).all()
        assert all(r.revoked_at is not None for r in roles)
        assert session.scalar(select(func.count(Draft.id))) == 0
        with pytest.raises(privacy.NotFound):
            privacy.find(session, "CBDIEN-900")
        # Other members are untouched.
        assert session.scalar(select(Member).where(Member.code == "CBDIEN-001")) is not None


def test_erase_a_candidate(db: Database) -> None:
    ids = _seed(db)
    before = _aggregates(db, ids["org"])
    with db.transaction() as session:
        exported = privacy.export_person(session, "QC-0042")
        assert exported["candidate"]["full_name"] == CANDIDATE
        assert exported["candidate_events"]
        privacy.erase_person(session, "QC-0042", actor=Actor("t"), now=SystemClock().now())
    assert _traces(db, [CANDIDATE, fold(CANDIDATE), "QC-0042"]) == []
    assert _traces(db, [NAME])  # the member was not erased
    assert _aggregates(db, ids["org"]) == before


def test_backup_and_restore_round_trip_every_table(db: Database, tmp_path: Path) -> None:
    _seed(db)
    original = backup.table_contents(db.engine)
    assert sum(len(rows) for rows in original.values()) > 100
    target = backup.backup(db.engine, tmp_path / "backup.bin")
    assert target.stat().st_size > 0
    # Damage: erase someone, add an outbox row, then restore.
    with db.transaction() as session:
        privacy.erase_person(session, "CBDIEN-900", actor=Actor("t"), now=SystemClock().now())
        session.execute(
            Outbox.__table__.update().values(not_before=SystemClock().now() + timedelta(days=1))
        )
    assert backup.table_contents(db.engine) != original
    backup.restore(db.engine, target)
    restored = backup.table_contents(db.engine)
    # Every row comes back but the cache's counter, which starts a count no process has cached
    # anything under (storage.cache).
    counter = restored.pop("cache_generation")
    assert counter != original.pop("cache_generation")
    assert restored == original


def test_restore_refuses_a_file_that_is_not_a_backup(db: Database, tmp_path: Path) -> None:
    bogus = tmp_path / "x.bin"
    bogus.write_bytes(b"not a backup at all")
    with pytest.raises(backup.BackupError):
        backup.restore(db.engine, bogus)
