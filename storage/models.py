"""The data model. Alembic owns the schema (``storage/migrations``); change both together.

Personal data kept is the minimum DOMAIN.md lists: display name, gender, birth year (and month),
status and its dates, an optional external member code. No ID numbers, religion, family or
personal histories.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from domain.vocab import (
    AbsenceReason,
    AttendanceStatus,
    EnterpriseStatus,
    Gender,
    MeetingKind,
    MemberStatus,
    OrgKind,
    OutboxStatus,
    ReportStatus,
    ReviewOutcome,
    Role,
    SignGroup,
)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite stores naive text; we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations are portable."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as short strings with a CHECK constraint: portable and readable in SQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class OrgType(Base):
    """Loại hình tổ chức: a configurable list; summaries break down by it."""

    __tablename__ = "org_types"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    sort: Mapped[int] = mapped_column(SmallInteger, default=0)


class Organization(Base):
    """A node of the organization tree."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_folded: Mapped[str] = mapped_column(String(300), index=True)
    host_unit: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"))
    org_type: Mapped[str | None] = mapped_column(ForeignKey("org_types.code"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    usual_meeting_day: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The names a Party document's header needs (storage.doc_names derives them when empty):
    # the committee's own name ("Đảng ủy Sở Y tế") and the code in the number line ("ĐU").
    committee_name: Mapped[str | None] = mapped_column(String(300))
    doc_code: Mapped[str | None] = mapped_column(String(16))

    parent: Mapped[Organization | None] = relationship(remote_side=[id])


class Member(Base):
    """A party member (đảng viên). The national database stays master of identity."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = mapped_column(String(120), index=True)
    gender: Mapped[Gender | None] = mapped_column(_enum(Gender, "gender"))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    birth_month: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[MemberStatus] = mapped_column(_enum(MemberStatus, "member_status"))
    admitted_on: Mapped[date | None] = mapped_column(Date)  # quyết định kết nạp
    ceremony_on: Mapped[date | None] = mapped_column(Date)  # lễ kết nạp
    probation_end_on: Mapped[date | None] = mapped_column(Date)
    full_member_on: Mapped[date | None] = mapped_column(Date)
    status_since: Mapped[date | None] = mapped_column(Date)
    external_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    org: Mapped[Organization] = relationship()


class MemberPlacement(Base):
    """Where a member belonged from one date to another (transfers between cells, arrivals,
    departures). ``from_date`` None: since before chibo knew; ``to_date`` None: still there
    (exclusive end: a transfer on 15/06 ends the old placement on 15/06 and starts the new)."""

    __tablename__ = "member_placements"
    __table_args__ = (Index("ix_member_placements_org", "org_id", "from_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    from_date: Mapped[date | None] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40))  # "seed" | "import" | "transfer"
    recorded_at: Mapped[datetime]


class MemberStatusPeriod(Base):
    """A member's status from a date (probationary → full, exempt from a month on…)."""

    __tablename__ = "member_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[MemberStatus] = mapped_column(_enum(MemberStatus, "member_status"))
    from_date: Mapped[date | None] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime]


class Person(Base):
    """Someone who uses the bot (linked to a Telegram account once they join)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reminder_hour: Mapped[int | None] = mapped_column(SmallInteger)
    mute_nonessential: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class RoleAssignment(Base):
    """A person holds a role in an organization (revoked rows are kept for the audit)."""

    __tablename__ = "role_assignments"
    __table_args__ = (Index("ix_role_assignments_active", "person_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    granted_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(120))

    person: Mapped[Person] = relationship()
    org: Mapped[Organization] = relationship()


class Invite(Base):
    """A one-time deep-link code that binds a Telegram account to a role."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    display_name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    org: Mapped[Organization] = relationship()


class AuditLog(Base):
    """One row per write: who, when, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


class Draft(Base):
    """A conversation in progress: one per person, written at every step."""

    __tablename__ = "drafts"
    # Never reuse an id: buttons carry the draft id, and a reused one would make a button of a
    # cancelled conversation look current again.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), unique=True)
    flow: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    step: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Setting(Base):
    """An admin-changeable setting or rule (level names, thresholds, quality scoring…)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]]
    rule_source: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class Holiday(Base):
    """A public holiday (working-day arithmetic, reminder placement)."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # A Government decision on top of the law's computed holidays: "day_off" (an extra day off)
    # or "working_day" (a Saturday worked in exchange); with the decision it comes from.
    kind: Mapped[str] = mapped_column(String(16), default="day_off", server_default="day_off")
    source: Mapped[str | None] = mapped_column(String(200))


# --- Cell meetings ---------------------------------------------------------------------------


class Meeting(Base):
    """A cell meeting. Soft-deleted rows keep ``deleted_at``."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_org_held", "org_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[MeetingKind] = mapped_column(_enum(MeetingKind, "meeting_kind"))
    held_on: Mapped[date] = mapped_column(Date)
    # "<org>:<YYYY-MM>" for live regular/combined meetings, else NULL: a portable unique key
    # that stops two devices from recording two regular meetings in one month.
    regular_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    duration_min: Mapped[int | None] = mapped_column(SmallInteger)
    topic: Mapped[str | None] = mapped_column(String(500))
    quality_score: Mapped[int | None] = mapped_column(SmallInteger)
    content: Mapped[dict[str, Any]]  # checklist flags
    minutes_ref: Mapped[str | None] = mapped_column(String(120))
    minutes_file_id: Mapped[str | None] = mapped_column(String(200))
    other_guests: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]

    org: Mapped[Organization] = relationship()
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )
    guests: Mapped[list[MeetingGuest]] = relationship(cascade="all, delete-orphan")


class Attendance(Base):
    """One member's attendance at one meeting (a snapshot of the roll at the time)."""

    __tablename__ = "attendance"
    __table_args__ = (Index("ix_attendance_member", "member_id", "status"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    status: Mapped[AttendanceStatus] = mapped_column(_enum(AttendanceStatus, "attendance_status"))
    reason: Mapped[AbsenceReason | None] = mapped_column(_enum(AbsenceReason, "absence_reason"))

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")


class MeetingGuest(Base):
    """A guest at a meeting: a superior committee member (by assignment or typed name)."""

    __tablename__ = "meeting_guests"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    name: Mapped[str] = mapped_column(String(120))
    is_superior: Mapped[bool] = mapped_column(Boolean, default=True)


class StudyModel(Base):
    """A cell's "học tập và làm theo Bác" model, registered and reviewed each year."""

    __tablename__ = "study_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(300))
    registered_on: Mapped[date] = mapped_column(Date)
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Flag(Base):
    """A raised flag (three-months rule, 12 months without progress…) — sent once."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    level: Mapped[int] = mapped_column(SmallInteger)
    detail: Mapped[dict[str, Any]]
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]


# --- Commitments and reviews -----------------------------------------------------------------


class Commitment(Base):
    """A member's annual self-improvement commitment (bản cam kết)."""

    __tablename__ = "commitments"
    __table_args__ = (UniqueConstraint("member_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    signed_on: Mapped[date | None] = mapped_column(Date)
    made_public: Mapped[bool] = mapped_column(Boolean, default=False)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Review(Base):
    """The monthly review of one member's commitment."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("member_id", "year", "month"),
        Index("ix_reviews_org_period", "org_id", "year", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    outcome: Mapped[ReviewOutcome] = mapped_column(_enum(ReviewOutcome, "review_outcome"))
    sign_group: Mapped[SignGroup | None] = mapped_column(_enum(SignGroup, "sign_group"))
    description: Mapped[str | None] = mapped_column(String(500))
    measure: Mapped[str | None] = mapped_column(String(500))
    comment: Mapped[str | None] = mapped_column(String(500))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reviewed_at: Mapped[datetime]
    # The sign of degradation picked from the list (TT1 … TD9, domain/data/signs-…md); None for
    # reviews recorded before the list (their typed description stays as the note).
    sign_code: Mapped[str | None] = mapped_column(String(8))


# --- Reports ---------------------------------------------------------------------------------


class Report(Base):
    """A report a cell owes (remedy quarterly/annual, annual plan report…)."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("org_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))  # "2026-Q4", "2026"
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus, "report_status"))
    assessment: Mapped[str | None] = mapped_column(Text)
    figures: Mapped[dict[str, Any]]
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reopen_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- Candidates (pipeline lands in a later round; the shape is here now) ----------------------


class Candidate(Base):
    """An outstanding non-member (quần chúng ưu tú) moving toward admission."""

    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = mapped_column(String(120), index=True)
    gender: Mapped[Gender | None] = mapped_column(_enum(Gender, "gender"))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    birth_month: Mapped[int | None] = mapped_column(SmallInteger)
    priority_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    stage: Mapped[str] = mapped_column(String(32), index=True)
    stage_since: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The pipeline (0002): the unit inside the host agency, the dates deadlines run from, the
    # approvals a higher body granted, the member row made at the ceremony. ``version`` is
    # bumped by every move: two secretaries moving the same file at once, one wins.
    unit: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    class_planned_on: Mapped[date | None] = mapped_column(Date)
    proposed_on: Mapped[date | None] = mapped_column(Date)
    certificate_on: Mapped[date | None] = mapped_column(Date)
    introducer_form: Mapped[str | None] = mapped_column(String(16))
    introducers: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")
    resolution_on: Mapped[date | None] = mapped_column(Date)
    votes_for: Mapped[int | None] = mapped_column(SmallInteger)
    full_members: Mapped[int | None] = mapped_column(SmallInteger)
    decision_extended: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    decision_on: Mapped[date | None] = mapped_column(Date)
    received_on: Mapped[date | None] = mapped_column(Date)
    ceremony_on: Mapped[date | None] = mapped_column(Date)
    approvals: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class CandidateEvent(Base):
    """A dated step of a candidate's file (class certificate, mentors, resolution…)."""

    __tablename__ = "candidate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    happened_on: Mapped[date] = mapped_column(Date)
    detail: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    # 0002: what kind of step (forward, back, exit, note), from where, who, and why.
    action: Mapped[str] = mapped_column(String(16), default="forward", server_default="forward")
    from_stage: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(300))
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class CandidateConsideration(Base):
    """The cell's monthly consideration of its sympathizer list."""

    __tablename__ = "candidate_considerations"
    __table_args__ = (UniqueConstraint("org_id", "year", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    considered_on: Mapped[date | None] = mapped_column(Date)  # 0002
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # 0002


class Enterprise(Base):
    """A non-state enterprise the top organization's steering group works with (plan 2.3c)."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    top_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    name_folded: Mapped[str] = mapped_column(String(300), index=True)
    location: Mapped[str | None] = mapped_column(String(300))
    workforce: Mapped[int | None] = mapped_column(Integer)
    members_elsewhere: Mapped[int] = mapped_column(Integer, default=0)
    has_trade_union: Mapped[bool] = mapped_column(Boolean, default=False)
    has_youth_union: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[EnterpriseStatus] = mapped_column(_enum(EnterpriseStatus, "enterprise_status"))
    status_since: Mapped[date] = mapped_column(Date)
    founded_on: Mapped[date | None] = mapped_column(Date)
    founded_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SteeringReview(Base):
    """The steering group's half-yearly or yearly review of the enterprises work, as held.

    Recorded by the top organization's offices; it discharges that period's obligation
    (``steering_half_year`` / ``steering_annual`` of the calendar) in reminders and digests.
    """

    __tablename__ = "steering_reviews"
    __table_args__ = (UniqueConstraint("top_id", "obligation", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    top_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    obligation: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]


class EnterpriseEvent(Base):
    """A dated update of an enterprise (status change or new figures), with its author."""

    __tablename__ = "enterprise_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    status: Mapped[EnterpriseStatus] = mapped_column(_enum(EnterpriseStatus, "enterprise_status"))
    happened_on: Mapped[date] = mapped_column(Date)
    detail: Mapped[dict[str, Any]]
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]


# --- Deadlines and delivery ------------------------------------------------------------------


class Obligation(Base):
    """A recurring obligation of the deadline calendar (loaded from a TOML catalog)."""

    __tablename__ = "obligations"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    spec: Mapped[dict[str, Any]]
    rule_source: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    loaded_at: Mapped[datetime]


class Snooze(Base):
    """ "Remind me tomorrow": no reminder for this obligation instance before ``until``."""

    __tablename__ = "snoozes"
    __table_args__ = (UniqueConstraint("person_id", "instance_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    instance_key: Mapped[str] = mapped_column(String(120))
    until: Mapped[datetime]


class Outbox(Base):
    """A message to deliver. The unique key makes enqueueing idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    not_before: Mapped[datetime]
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]


class Notice(Base):
    """A notice or briefing invitation sent by an office to a scope of secretaries."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # notice | briefing
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[dict[str, Any]]
    event_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]


class NoticeReply(Base):
    """A recipient's confirmation / RSVP / recorded presence for a notice."""

    __tablename__ = "notice_replies"
    __table_args__ = (UniqueConstraint("notice_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    answer: Mapped[str] = mapped_column(String(16))  # seen | attend | decline
    reason: Mapped[str | None] = mapped_column(String(300))
    attended: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime]


class Lease(Base):
    """Which bot process is the active one (the others wait); renewed while it lives."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Generation(Base):
    """A counter that every transaction writing people, role assignments, organizations,
    members or settings raises (database triggers, so the CLI's and the importer's writes count
    too; on PostgreSQL as the transaction commits). The bot's process-wide cache of those reads
    (:mod:`storage.cache`) trusts an entry only while the counter it was read under is the
    current one."""

    __tablename__ = "cache_generation"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
