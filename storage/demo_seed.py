"""A seeded demo Khối: a few cells of different types, members with real-looking names.

Used by ``chibo demo`` and by the tests' seeded scenarios. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.rules.candidates import add_months, probation_end
from domain.text import clean, fold
from storage.audit import Actor, record
from storage.models import (
    Candidate,
    CandidateEvent,
    Enterprise,
    EnterpriseStatus,
    Gender,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Person,
    Role,
    RoleAssignment,
)
from storage.seed import ensure_defaults

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Huỳnh",
    "Võ",
    "Phan",
    "Trương",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Thạch",
    "Danh",
    "Lâm",
    "Châu",
    "Tô",
]
MIDDLE_M = ["Văn", "Minh", "Thanh", "Hoàng", "Quốc", "Đức", "Hữu", "Công"]
MIDDLE_F = ["Thị", "Ngọc", "Thanh", "Kim", "Thu", "Mỹ", "Bích", "Diễm"]
GIVEN_M = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hùng",
    "Khoa",
    "Long",
    "Nam",
    "Phúc",
    "Quang",
    "Sơn",
    "Tâm",
    "Thắng",
    "Tuấn",
    "Vinh",
    "Hiếu",
    "Trí",
]
GIVEN_F = [
    "Anh",
    "Hà",
    "Hạnh",
    "Hằng",
    "Lan",
    "Linh",
    "Mai",
    "Nga",
    "Nhung",
    "Phương",
    "Thảo",
    "Trang",
    "Tuyết",
    "Vy",
    "Yến",
    "Xuân",
    "Oanh",
    "Duyên",
]


def vietnamese_name(rng: random.Random, gender: Gender) -> str:
    """A plausible Vietnamese full name."""
    if gender is Gender.FEMALE:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"


@dataclass
class DemoUser:
    """A demo person who chats with the bot."""

    key: str
    name: str
    telegram_user_id: int
    person_id: int
    role: Role
    org_code: str


@dataclass
class DemoKhoi:
    """What the seed created."""

    top_id: int
    orgs: dict[str, int] = field(default_factory=dict)
    users: dict[str, DemoUser] = field(default_factory=dict)


#: (code, name, kind, parent code, org type, host unit, members, usual day)
DEMO_ORGS: list[tuple[str, str, OrgKind, str | None, str | None, str | None, int, int | None]] = [
    (
        "DUK",
        "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh",
        OrgKind.TOP,
        None,
        None,
        None,
        0,
        None,
    ),
    ("DBSYT", "Đảng bộ Sở Y tế", OrgKind.COMMITTEE, "DUK", "hanh_chinh", "Sở Y tế", 0, None),
    (
        "CBVP-SYT",
        "Chi bộ Văn phòng Sở Y tế",
        OrgKind.CELL,
        "DBSYT",
        "hanh_chinh",
        "Sở Y tế",
        14,
        5,
    ),
    (
        "CBBV-DK",
        "Chi bộ Bệnh viện Đa khoa",
        OrgKind.CELL,
        "DBSYT",
        "su_nghiep",
        "Bệnh viện Đa khoa tỉnh",
        25,
        10,
    ),
    (
        "CBDIEN",
        "Chi bộ Công ty Điện lực",
        OrgKind.GRASSROOTS_CELL,
        "DUK",
        "dn_nha_nuoc",
        "Công ty Điện lực tỉnh",
        18,
        8,
    ),
    (
        "CBMEKONG",
        "Chi bộ Công ty TNHH Thủy sản Mekong",
        OrgKind.GRASSROOTS_CELL,
        "DUK",
        "dn_tu_nhan",
        "Công ty TNHH Thủy sản Mekong",
        6,
        15,
    ),
]


#: The demo people who chat with the bot: (key, name, role, organization code).
DEMO_USERS: list[tuple[str, str, Role, str]] = [
    ("lanh_dao", "Trần Văn Minh", Role.STANDING, "DUK"),
    ("kiem_tra", "Lê Thị Hồng", Role.INSPECTION, "DUK"),
    ("to_chuc", "Phạm Quốc Huy", Role.ORGANIZATION, "DUK"),
    ("bt_syt", "Nguyễn Thanh Sơn", Role.GRASSROOTS_SECRETARY, "DBSYT"),
    ("bt_vp", "Võ Thị Thu Hà", Role.SECRETARY, "CBVP-SYT"),
    ("bt_bv", "Huỳnh Văn Tâm", Role.SECRETARY, "CBBV-DK"),
    ("bt_dien", "Đặng Minh Tuấn", Role.SECRETARY, "CBDIEN"),
    ("bt_mekong", "Thạch Thị Sa Ry", Role.SECRETARY, "CBMEKONG"),
]


def _existing(session: Session, first_user_id: int) -> DemoKhoi | None:
    """The demo Khối already in the database, or None."""
    orgs: dict[str, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Organization.code, Organization.id).where(
                Organization.code.in_([o[0] for o in DEMO_ORGS])
            )
        ).all()
    )
    if DEMO_ORGS[0][0] not in orgs:
        return None
    people: dict[int, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Person.telegram_user_id, Person.id).where(
                Person.telegram_user_id.in_([first_user_id + i for i in range(len(DEMO_USERS))])
            )
        ).all()
    )
    result = DemoKhoi(top_id=orgs[DEMO_ORGS[0][0]], orgs=orgs)
    for offset, (key, name, role, org_code) in enumerate(DEMO_USERS):
        tg = first_user_id + offset
        if tg in people:
            result.users[key] = DemoUser(key, name, tg, people[tg], role, org_code)
    return result


def seed_demo(session, *, now: datetime, seed: int = 2026, first_user_id: int = 1001) -> DemoKhoi:
    """Create the demo Khối, its members and the demo users with their roles.

    Seeding a database that already holds the demo Khối only reads it back, so the demo can
    run again and again on the same ``--database-url``.
    """
    ensure_defaults(session, now=now)
    session.flush()
    existing = _existing(session, first_user_id)
    if existing is not None:
        return existing
    rng = random.Random(seed)
    actor = Actor.system("demo-seed")
    result = DemoKhoi(top_id=0)
    for code, name, kind, parent, org_type, host, n_members, day in DEMO_ORGS:
        org = Organization(
            code=code,
            name=name,
            name_folded=fold(name),
            host_unit=host,
            kind=kind,
            org_type=org_type,
            parent_id=result.orgs.get(parent) if parent else None,
            active_from=date(2020, 1, 1),
            usual_meeting_day=day,
            # As if imported two months ago: reminders chase what fell due since then.
            created_at=now - timedelta(days=60),
            updated_at=now,
        )
        session.add(org)
        session.flush()
        result.orgs[code] = org.id
        if kind is OrgKind.TOP:
            result.top_id = org.id
        for i in range(n_members):
            gender = Gender.FEMALE if rng.random() < 0.45 else Gender.MALE
            status = MemberStatus.FULL
            if i == n_members - 1 and n_members > 10:
                status = MemberStatus.EXEMPT
            elif i % 7 == 6:
                status = MemberStatus.PROBATIONARY
            full = clean(vietnamese_name(rng, gender))
            ceremony = (
                date(2025, rng.randint(1, 12), rng.randint(1, 28))
                if (status is MemberStatus.PROBATIONARY)
                else None
            )
            session.add(
                Member(
                    code=f"{code}-{i + 1:03d}",
                    org_id=org.id,
                    full_name=full,
                    name_folded=fold(full),
                    gender=gender,
                    birth_year=rng.randint(1960, 2000),
                    status=status,
                    admitted_on=ceremony,
                    ceremony_on=ceremony,
                    probation_end_on=date(ceremony.year + 1, ceremony.month, ceremony.day)
                    if ceremony
                    else None,
                    created_at=now,
                    updated_at=now,
                )
            )
    for offset, (key, name, role, org_code) in enumerate(DEMO_USERS):
        person = Person(
            display_name=name,
            telegram_user_id=first_user_id + offset,
            created_at=now,
            started_at=now,
        )
        session.add(person)
        session.flush()
        session.add(
            RoleAssignment(
                person_id=person.id,
                org_id=result.orgs[org_code],
                role=role,
                granted_at=now,
                granted_by=actor.label,
            )
        )
        result.users[key] = DemoUser(key, name, first_user_id + offset, person.id, role, org_code)
    # A cell secretary's follower from the Khối, so meetings can record superior attendance.
    session.add(
        RoleAssignment(
            person_id=result.users["to_chuc"].person_id,
            org_id=result.orgs["CBBV-DK"],
            role=Role.FOLLOWER,
            granted_at=now,
            granted_by=actor.label,
        )
    )
    record(session, actor=actor, at=now, action="seed", entity="demo", entity_id=seed)
    session.flush()
    return result


# --- The admission pipeline and the enterprises (``chibo demo``) -------------------------------

#: (cell, name, gender, birth year, month, priority groups, stage, days since the step)
DEMO_CANDIDATES: list[tuple[str, str, Gender, int, int, list[str], str, int]] = [
    ("CBBV-DK", "Lê Thị Ngọc Hân", Gender.FEMALE, 1999, 4, ["women", "worker"], "sympathizer", 20),
    ("CBBV-DK", "Trần Minh Khoa", Gender.MALE, 1997, 9, ["youth_union"], "class_done", 40),
    ("CBBV-DK", "Thạch Thị Sô Phia", Gender.FEMALE, 2000, 1, ["women", "khmer"], "mentors", 30),
    ("CBVP-SYT", "Nguyễn Văn Phúc", Gender.MALE, 1994, 6, ["worker"], "cell_resolution", 95),
    ("CBDIEN", "Huỳnh Thị Mỹ Linh", Gender.FEMALE, 1996, 11, ["women", "worker"], "decision", 50),
    ("CBMEKONG", "Danh Sơn", Gender.MALE, 1988, 2, ["khmer", "private_owner"], "probation", 330),
]

#: (name, location, workforce, members working there, trade union, Youth Union, status)
DEMO_ENTERPRISES: list[tuple[str, str, int, int, bool, bool, str]] = [
    ("Công ty TNHH May Tây Đô", "KCN Trà Nóc 2", 850, 1, True, False, "surveyed"),
    ("Công ty CP Thực phẩm Hậu Giang", "KCN Sông Hậu", 420, 2, True, True, "working"),
    ("Công ty TNHH Cơ khí Cái Răng", "KCN Hưng Phú", 160, 3, True, False, "conditions_met"),
    ("Công ty TNHH Thủy sản Mekong", "KCN Trà Nóc 1", 600, 6, True, True, "founded"),
]


def seed_pipeline(session, khoi: DemoKhoi, *, now: datetime) -> None:
    """A few candidates at different stages and one enterprise of each status (once)."""
    if session.scalar(select(Candidate.id).where(Candidate.code == "QCDEMO01")) is not None:
        return
    today = now.date()
    actor = Actor.system("demo-seed")
    for i, (cell, name, gender, year, month, groups, stage, days) in enumerate(DEMO_CANDIDATES):
        since = today - timedelta(days=days)
        c = Candidate(
            code=f"QCDEMO{i + 1:02d}",
            org_id=khoi.orgs[cell],
            full_name=name,
            name_folded=fold(name),
            gender=gender,
            birth_year=year,
            birth_month=month,
            unit=None,
            priority_groups=groups,
            stage=stage,
            stage_since=since,
            version=1,
            introducers=[],
            approvals=[],
            created_at=now,
            updated_at=now,
        )
        if stage != "sympathizer":
            c.certificate_on = add_months(since, -2)
        if stage in ("cell_resolution", "decision", "probation"):
            c.resolution_on = since if stage == "cell_resolution" else since - timedelta(days=40)
            c.votes_for, c.full_members = 9, 12
        if stage in ("decision", "probation"):
            c.decision_on = c.received_on = (
                since if stage == "decision" else since - timedelta(days=10)
            )
        if stage == "probation":
            c.ceremony_on = since
        session.add(c)
        session.flush()
        session.add(
            CandidateEvent(
                candidate_id=c.id,
                stage=stage,
                happened_on=since,
                detail={"demo": True},
                created_at=now,
                action="add",
            )
        )
        if stage == "probation":
            member = Member(
                code=f"{c.code}-DB",
                org_id=c.org_id,
                full_name=name,
                name_folded=fold(name),
                gender=gender,
                birth_year=year,
                birth_month=month,
                status=MemberStatus.PROBATIONARY,
                admitted_on=c.decision_on,
                ceremony_on=since,
                probation_end_on=probation_end(since),
                status_since=since,
                created_at=now,
                updated_at=now,
            )
            session.add(member)
            session.flush()
            c.member_id = member.id
    for name, place, workforce, members, tu, yu, status in DEMO_ENTERPRISES:
        founded = status == "founded"
        session.add(
            Enterprise(
                top_id=khoi.top_id,
                name=name,
                name_folded=fold(name),
                location=place,
                workforce=workforce,
                members_elsewhere=members,
                has_trade_union=tu,
                has_youth_union=yu,
                status=EnterpriseStatus(status),
                status_since=today - timedelta(days=30),
                founded_on=today - timedelta(days=30) if founded else None,
                founded_org_id=khoi.orgs["CBMEKONG"] if founded else None,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    record(session, actor=actor, at=now, action="seed", entity="demo_pipeline", entity_id=None)
    session.flush()
