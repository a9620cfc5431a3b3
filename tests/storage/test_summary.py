"""Summary figures and scope, counted against records inserted by the test (the ledger).

The :class:`Records` helper and :func:`standard_records` story are reused by the handler,
render and CLI tests of the summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar import DEFAULT_CATALOG
from domain.errors import NotAllowed, NotInScope
from domain.rules.periods import parse_period
from services.calendar import load_text
from storage import people, reports
from storage import reviews as review_store
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi, DemoUser, seed_demo
from storage.models import (
    AbsenceReason,
    Attendance,
    AttendanceStatus,
    Candidate,
    Meeting,
    MeetingGuest,
    MeetingKind,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Person,
    Report,
    ReportStatus,
    Review,
    ReviewOutcome,
    Role,
    RoleAssignment,
    SignGroup,
    StudyModel,
)
from storage.people import Identity
from storage.report_kinds import KINDS
from storage.summary import (
    PLAN_ANNUAL,
    FuturePeriod,
    Subject,
    Summary,
    build_summary,
    cell_year,
    chart_data,
    plan_rollup,
    resolve_subject,
    review_counts,
    roll_counts,
    scope_of,
)

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


@dataclass
class LedgerMeeting:
    """What a test inserted for one meeting."""

    cell: str
    held_on: date
    kind: MeetingKind
    statuses: dict[int, AttendanceStatus]
    superior: bool


@dataclass
class Records:
    """Insert records for the demo Khối and remember them."""

    session: Session
    orgs: dict[str, int]
    meetings: list[LedgerMeeting] = field(default_factory=list)
    reviews: list[tuple[str, int, int, int, ReviewOutcome, SignGroup | None]] = field(
        default_factory=list
    )

    _members: dict[str, list[tuple[int, MemberStatus]]] = field(default_factory=dict)

    def members(self, cell: str) -> list[tuple[int, MemberStatus]]:
        """The cell's members (id, status) in code order, read once (the ledger's roll)."""
        if cell not in self._members:
            self._members[cell] = [
                (mid, status)
                for mid, status in self.session.execute(
                    select(Member.id, Member.status)
                    .where(Member.org_id == self.orgs[cell])
                    .order_by(Member.code)
                )
            ]
        return self._members[cell]

    def meeting(
        self,
        cell: str,
        held_on: date,
        kind: MeetingKind = MeetingKind.REGULAR,
        *,
        absent: dict[int, AttendanceStatus] | None = None,
        superior: bool = False,
    ) -> Meeting:
        """A meeting where everyone required is present except ``absent`` (index → status)."""
        org_id = self.orgs[cell]
        regular = kind.counts_as_regular
        m = Meeting(
            org_id=org_id,
            kind=kind,
            held_on=held_on,
            regular_key=f"{org_id}:{held_on:%Y-%m}" if regular else None,
            duration_min=120,
            content={},
            other_guests=0,
            created_at=NOW,
            updated_at=NOW,
        )
        self.session.add(m)
        self.session.flush()
        statuses: dict[int, AttendanceStatus] = {}
        for i, (member_id, member_status) in enumerate(self.members(cell)):
            if member_status is MemberStatus.EXEMPT:
                status = AttendanceStatus.EXEMPT
            else:
                status = (absent or {}).get(i, AttendanceStatus.PRESENT)
            statuses[member_id] = status
            self.session.add(
                Attendance(
                    meeting_id=m.id,
                    member_id=member_id,
                    status=status,
                    reason=AbsenceReason.TRIP if status is AttendanceStatus.EXCUSED else None,
                )
            )
        if superior:
            self.session.add(MeetingGuest(meeting_id=m.id, name="Phạm Quốc Huy", is_superior=True))
        self.session.flush()
        self.meetings.append(LedgerMeeting(cell, held_on, kind, statuses, superior))
        return m

    def review_month(
        self,
        cell: str,
        year: int,
        month: int,
        *,
        signs: dict[int, SignGroup] | None = None,
        skip: set[int] | None = None,
    ) -> None:
        """Review every required member of ``cell`` (index → new sign; ``skip`` not reviewed)."""
        for i, (member_id, member_status) in enumerate(self.members(cell)):
            if not member_status.must_attend or i in (skip or set()):
                continue
            group = (signs or {}).get(i)
            outcome = ReviewOutcome.NEW_SIGN if group else ReviewOutcome.PROGRESSING
            self.session.add(
                Review(
                    org_id=self.orgs[cell],
                    member_id=member_id,
                    year=year,
                    month=month,
                    outcome=outcome,
                    sign_group=group,
                    reviewed_at=NOW,
                )
            )
            self.reviews.append((cell, member_id, year, month, outcome, group))
        self.session.flush()

    def report(
        self,
        org: str,
        kind: str,
        period: str,
        due_on: date,
        submitted_at: datetime | None,
    ) -> None:
        """A report row: submitted at ``submitted_at`` (UTC), or a draft when None."""
        self.session.add(
            Report(
                org_id=self.orgs[org],
                kind=kind,
                period=period,
                due_on=due_on,
                status=ReportStatus.SUBMITTED if submitted_at else ReportStatus.DRAFT,
                figures={},
                submitted_at=submitted_at,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        self.session.flush()

    def model(self, cell: str, year: int, title: str = "Mô hình dân vận khéo") -> None:
        """A Hồ Chí Minh study model registered for ``year``."""
        self.session.add(
            StudyModel(
                org_id=self.orgs[cell],
                year=year,
                title=title,
                registered_on=date(year, 2, 1),
                created_at=NOW,
            )
        )
        self.session.flush()

    # --- independent counting over the ledger ---------------------------------------------

    def regular_held(self, cell: str, year: int, month: int) -> bool:
        """Whether the ledger holds a regular/combined meeting of ``cell`` in that month."""
        return any(
            m.cell == cell
            and m.kind.counts_as_regular
            and (m.held_on.year, m.held_on.month) == (year, month)
            for m in self.meetings
        )

    def attendance(self, cells: set[str], start: date, end: date) -> tuple[int, int, int, int]:
        """(present, required, excused, unexcused) at regular meetings, counted by hand."""
        present = required = excused = unexcused = 0
        for m in self.meetings:
            if m.cell not in cells or not m.kind.counts_as_regular:
                continue
            if not start <= m.held_on <= end:
                continue
            for status in m.statuses.values():
                if status is AttendanceStatus.EXEMPT:
                    continue
                required += 1
                present += status is AttendanceStatus.PRESENT
                excused += status is AttendanceStatus.EXCUSED
                unexcused += status is AttendanceStatus.UNEXCUSED
        return present, required, excused, unexcused

    def unexcused_months(self, cells: set[str], year: int, upto_month: int) -> dict[int, set]:
        """Member id → months with an unexcused absence from a regular meeting."""
        out: dict[int, set] = {}
        for m in self.meetings:
            if m.cell not in cells or not m.kind.counts_as_regular:
                continue
            if m.held_on.year != year or m.held_on.month > upto_month:
                continue
            for mid, status in m.statuses.items():
                if status is AttendanceStatus.UNEXCUSED:
                    out.setdefault(mid, set()).add(m.held_on.month)
        return out


def story_calendar(session: Session) -> None:
    """Load the shipped calendar with two of its options an admin may choose: due dates kept
    on days off (``if_day_off = "keep"``) and a grace rule of 0 days after the usual meeting
    day (``meeting_grace_days = 0``)."""
    text = DEFAULT_CATALOG.read_text(encoding="utf-8").replace(
        'if_day_off = "next_working_day"', 'if_day_off = "keep"\nmeeting_grace_days = 0'
    )
    load_text(session, text, source="keep.toml", actor=Actor.system("test"), now=NOW)
    session.flush()


def standard_records(session: Session, orgs: dict[str, int]) -> Records:
    """The story used across summary tests (the clock says Monday 16 November 2026).

    * CBVP-SYT meets every month of 2026 up to November; member #2 is absent without
      reason in March and October (warned), member #3 excused in November.
    * CBBV-DK meets January–October (October combined with a thematic meeting) and has
      not met in November; member #1 is absent without reason in January, March and October
      (flagged under the three-months rule); a superior committee member came in October.
    * CBDIEN meets in November only (with a superior guest) and held a thematic meeting in
      October; it reviewed commitments in November with one new sign of degradation.
    * CBMEKONG has no records at all.

    Its calendar (:func:`story_calendar`) keeps a due date that falls on a day off, so the
    annual reports stay due on Sunday 15/11/2026 and on 16/11 are late or missing; and it counts
    a month's meeting missing from the day after the cell's usual day (every usual day is
    before the 16th), so November counts for cells that have not met.
    """
    story_calendar(session)
    r = Records(session, orgs)
    u, e = AttendanceStatus.UNEXCUSED, AttendanceStatus.EXCUSED
    for month in range(1, 12):
        absent = {}
        if month in (3, 10):
            absent[2] = u
        if month == 11:
            absent[3] = e
        r.meeting("CBVP-SYT", date(2026, month, 5), absent=absent)
    for month in range(1, 11):
        absent = {1: u} if month in (1, 3, 10) else {}
        kind = MeetingKind.COMBINED if month == 10 else MeetingKind.REGULAR
        r.meeting("CBBV-DK", date(2026, month, 10), kind, absent=absent, superior=month == 10)
    r.meeting("CBDIEN", date(2026, 10, 20), MeetingKind.THEMATIC)
    r.meeting(
        "CBDIEN",
        date(2026, 11, 8),
        absent={0: u, 4: e},
        superior=True,
    )
    r.review_month("CBDIEN", 2026, 11, signs={5: SignGroup.ETHICS})
    r.review_month("CBVP-SYT", 2026, 11, skip={0, 1})
    r.review_month("CBVP-SYT", 2026, 10)
    r.model("CBVP-SYT", 2026)
    r.model("CBDIEN", 2026)
    # Annual reports due 15/11/2026: CBVP-SYT on time, CBDIEN late (16/11), the rest missing.
    on_time = datetime(2026, 11, 14, 3, 0, tzinfo=UTC)
    late = datetime(2026, 11, 16, 0, 30, tzinfo=UTC)
    for kind in ("remedy_annual", "plan_annual"):
        r.report("CBVP-SYT", kind, "2026", date(2026, 11, 15), on_time)
        r.report("CBDIEN", kind, "2026", date(2026, 11, 15), late)
    r.report("CBBV-DK", "remedy_annual", "2026", date(2026, 11, 15), None)
    for cell in ("CBVP-SYT", "CBBV-DK", "CBDIEN", "CBMEKONG"):
        r.members(cell)  # read every roll now: the ledger never queries after the transaction
    return r


# --- fixtures ----------------------------------------------------------------------------------

TODAY = date(2026, 11, 16)


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    """The demo Khối, seeded."""
    with db.transaction() as session:
        return seed_demo(session, now=NOW)


@pytest.fixture
def story(db: Database, khoi: DemoKhoi) -> Records:
    """The standard story's records (see :func:`standard_records`)."""
    with db.transaction() as session:
        return standard_records(session, khoi.orgs)


def who(session: Session, khoi: DemoKhoi, key: str) -> Identity:
    """The identity of a demo user."""
    ident = people.identity(session, khoi.users[key].telegram_user_id)
    assert ident is not None
    return ident


def summarize(
    db: Database, khoi: DemoKhoi, key: str, period: str, subject: Subject | None = None
) -> Summary:
    """The summary a demo user sees."""
    with db.transaction() as session:
        scope = scope_of(session, who(session, khoi, key).person_id, on=TODAY)
        return build_summary(
            session,
            scope=scope,
            subject=subject or Subject(),
            period=parse_period(period),
            today=TODAY,
            kinds=KINDS.values(),
            now=NOW,
        )


ALL = {"CBVP-SYT", "CBBV-DK", "CBDIEN", "CBMEKONG"}


def annual_kinds() -> int:
    """How many registered report kinds fall due once a year (15 November)."""
    return sum(1 for k in KINDS.values() if k.schedule.period_kind == "year")


# --- scope -------------------------------------------------------------------------------------


def test_a_leader_sees_every_cell_a_committee_secretary_its_cells_a_secretary_hers(
    db: Database, khoi: DemoKhoi
) -> None:
    with db.transaction() as session:
        codes = {
            key: {
                session.get(Organization, cid).code  # type: ignore[union-attr]
                for cid in scope_of(session, who(session, khoi, key).person_id, on=TODAY).cell_ids
            }
            for key in ("lanh_dao", "bt_syt", "bt_bv", "to_chuc")
        }
    assert codes["lanh_dao"] == ALL
    assert codes["bt_syt"] == {"CBVP-SYT", "CBBV-DK"}
    assert codes["bt_bv"] == {"CBBV-DK"}
    assert codes["to_chuc"] == ALL  # Organization Board on the top org (and follower of one)


def test_nobody_reaches_outside_their_scope(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        bv = scope_of(session, who(session, khoi, "bt_bv").person_id, on=TODAY)
        syt = scope_of(session, who(session, khoi, "bt_syt").person_id, on=TODAY)
        with pytest.raises(NotInScope):
            resolve_subject(session, bv, Subject("org", org_id=khoi.orgs["DBSYT"]))
        with pytest.raises(NotInScope):
            resolve_subject(session, bv, Subject("org", org_id=khoi.orgs["CBVP-SYT"]))
        with pytest.raises(NotInScope):
            resolve_subject(session, syt, Subject("org", org_id=khoi.orgs["CBDIEN"]))
        with pytest.raises(NotInScope):
            resolve_subject(session, syt, Subject("org", org_id=khoi.top_id))
        # A type narrows within the scope only: a cell secretary sees only her cell of it.
        info = resolve_subject(session, bv, Subject("type", type_code="su_nghiep"))
        assert info.cell_ids == (khoi.orgs["CBBV-DK"],)
        info = resolve_subject(session, bv, Subject("type", type_code="hanh_chinh"))
        assert info.cell_ids == ()


def test_a_revoked_role_leaves_no_scope(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        row = session.scalar(
            select(RoleAssignment).where(
                RoleAssignment.person_id == khoi.users["lanh_dao"].person_id
            )
        )
        assert row is not None
        row.revoked_at = NOW
    with db.transaction() as session, pytest.raises(NotAllowed):
        scope_of(session, who(session, khoi, "lanh_dao").person_id, on=TODAY)


# --- figures -----------------------------------------------------------------------------------


def test_the_leader_s_month_counts_match_the_records(db: Database, story: Records) -> None:
    khoi_orgs = story.orgs
    s = summarize(db, _khoi(db), "lanh_dao", "2026-11")
    t = s.total
    assert t.cells == 4
    held = [c for c in ALL if story.regular_held(c, 2026, 11)]
    assert t.regular_due == 4 and t.regular_held == len(held) == 2
    assert {c.code for c in s.cells_missing_regular} == {"CBBV-DK", "CBMEKONG"}
    present, required, excused, unexcused = story.attendance(
        ALL, date(2026, 11, 1), date(2026, 11, 30)
    )
    assert (t.present, t.required, t.excused, t.unexcused) == (
        present,
        required,
        excused,
        unexcused,
    )
    assert t.attendance_rate == pytest.approx(present / required)
    # Three-months rule over the calendar year up to November.
    absent = story.unexcused_months(ALL, 2026, 11)
    flagged = {mid for mid, ms in absent.items() if len(ms) >= 3}
    warned = {mid for mid, ms in absent.items() if len(ms) == 2}
    assert {m.member_id for m in s.flagged} == flagged and len(flagged) == 1
    assert {m.member_id for m in s.warned} == warned and len(warned) == 1
    assert s.flagged[0].cell_code == "CBBV-DK" and s.flagged[0].months == (1, 3, 10)
    # Superior committee attendance: meetings with a superior guest / meetings held.
    nov = [m for m in story.meetings if m.held_on.month == 11]
    assert t.meetings == len(nov)
    assert t.superior_visits == sum(m.superior for m in nov) == 1
    # Thematic meetings this quarter (Q4): CBBV-DK (combined, Oct) and CBDIEN (Oct); the
    # quarter is still running, so the other two are in progress, not missing.
    assert (t.thematic_due, t.thematic_held, t.thematic_in_progress) == (2, 2, 2)
    assert s.cells_missing_thematic == []
    # Reviews: required members × months due; done as recorded.
    done = [r for r in story.reviews if r[3] == 11]
    assert t.reviews_done == len(done)
    required_members = sum(1 for c in ALL for _mid, st in story.members(c) if st.must_attend)
    assert t.required_members == required_members
    assert t.reviews_due == required_members
    assert t.new_signs == {"ethics": 1}
    assert [(m.cell_code, m.sign_group) for m in s.new_signs] == [("CBDIEN", "ethics")]
    assert t.cells_without_model == 2
    assert {c.code for c in s.cells_without_model} == {"CBBV-DK", "CBMEKONG"}
    # Reports due 15/11 (every annual kind registered): CBVP-SYT on time, CBDIEN late,
    # CBBV-DK (a draft) and CBMEKONG missing; and the committee DBSYT's own annual remedy
    # report (the calendar asks it; it drafts no plan report) missing.
    n = annual_kinds()
    assert {r.kind for r in s.reports} <= {"remedy_annual", "plan_annual"}
    assert t.reports_due == 4 * n + 1
    assert (t.reports_on_time, t.reports_late, t.reports_missing) == (n, n, 2 * n + 1)
    assert {(r.org_code, r.org_kind) for r in s.reports if r.state == "missing"} == {
        ("CBBV-DK", "cell"),
        ("CBMEKONG", "cell"),
        ("DBSYT", "committee"),
    }
    assert not s.candidates.tracked
    assert s.has_data and s.in_progress
    assert khoi_orgs["CBDIEN"] in [c.id for c in s.cells]


def _khoi(db: Database) -> DemoKhoi:
    with db.transaction() as session:
        orgs = {o.code: o.id for o in session.scalars(select(Organization))}
        users = {}
        for key, (tg, role, code) in {
            "lanh_dao": (1001, Role.STANDING, "DUK"),
            "bt_syt": (1004, Role.GRASSROOTS_SECRETARY, "DBSYT"),
            "bt_bv": (1006, Role.SECRETARY, "CBBV-DK"),
        }.items():
            person = session.scalar(select(Person).where(Person.telegram_user_id == tg))
            assert person is not None
            users[key] = DemoUser(key, person.display_name, tg, person.id, role, code)
        return DemoKhoi(orgs["DUK"], orgs, users)


def test_a_year_counts_cell_months_elapsed(db: Database, story: Records) -> None:
    s = summarize(db, _khoi(db), "lanh_dao", "2026")
    t = s.total
    # 4 cells × 11 months started by 16 November.
    assert t.regular_due == 44
    held = sum(story.regular_held(c, 2026, m) for c in ALL for m in range(1, 12))
    assert t.regular_held == held == 11 + 10 + 1
    # Thematic: 4 cells × 4 quarters started; CBBV-DK and CBDIEN held one in Q4, the other
    # two have until the end of the quarter.
    assert (t.thematic_due, t.thematic_held, t.thematic_in_progress) == (14, 2, 2)
    p, r, e, u = story.attendance(ALL, date(2026, 1, 1), date(2026, 12, 31))
    assert (t.present, t.required, t.excused, t.unexcused) == (p, r, e, u)
    # Reports in the year so far: 3 quarterly + the annual ones, per cell; and the committee
    # DBSYT's own 3 quarterly remedy reports and its annual one, none submitted.
    per_cell = 3 + annual_kinds()
    assert t.reports_due == 4 * per_cell + 4
    assert t.reports_missing == 4 * per_cell - 2 * annual_kinds() + 4


def test_a_quarter_counts_months_up_to_today(db: Database, story: Records) -> None:
    s = summarize(db, _khoi(db), "bt_syt", "2026-Q4")
    assert [c.code for c in s.cells] == ["CBBV-DK", "CBVP-SYT"]
    # 2 cells × (October, November).
    assert s.total.regular_due == 4
    assert s.total.regular_held == 3  # CBVP-SYT Oct+Nov, CBBV-DK Oct
    bv = s.cell(_khoi(db).orgs["CBBV-DK"])
    assert bv is not None and bv.missing_months == [(2026, 11)]
    p, r, _e, u = story.attendance({"CBVP-SYT", "CBBV-DK"}, date(2026, 10, 1), date(2026, 11, 16))
    assert (s.total.present, s.total.required, s.total.unexcused) == (p, r, u)
    # Reports: the 2 cells owe the annual reports; the Q4 report is not due yet.
    # ... and the committee its own annual remedy report.
    assert s.total.reports_due == 2 * annual_kinds() + 1
    assert [g.code for g in s.by_committee] == ["DBSYT"]
    assert s.by_committee[0].figures.reports_due == 2 * annual_kinds() + 1


def test_a_cell_secretary_sees_only_her_cell(db: Database, story: Records) -> None:
    s = summarize(db, _khoi(db), "bt_bv", "2026-11")
    assert [c.code for c in s.cells] == ["CBBV-DK"]
    assert s.total.regular_held == 0 and s.total.cells_missing_regular == 1
    assert [m.cell_code for m in s.flagged] == ["CBBV-DK"]
    assert s.warned == []  # the warned member is in another cell
    assert s.total.reports_due == s.total.reports_missing == annual_kinds()


def test_breakdowns_add_up_to_the_total(db: Database, story: Records) -> None:
    s = summarize(db, _khoi(db), "lanh_dao", "2026")
    fields = ("cells", "regular_due", "regular_held", "present", "required", "reports_due")
    for groups in (s.by_type, s.by_committee):
        for name in fields:
            assert sum(getattr(g.figures, name) for g in groups) == getattr(s.total, name), name
    names = [g.code for g in s.by_type]
    assert names[:3] == ["dang_doan_the", "hanh_chinh", "su_nghiep"]
    empty = next(g for g in s.by_type if g.code == "dn_fdi")
    assert empty.cell_ids == [] and empty.figures.cells == 0
    assert [g.code for g in s.by_committee] == ["CBDIEN", "CBMEKONG", "DBSYT"]


def test_an_organization_type_with_no_cells(db: Database, story: Records) -> None:
    s = summarize(db, _khoi(db), "lanh_dao", "2026-11", Subject("type", type_code="dn_fdi"))
    assert s.cells == [] and s.total.cells == 0
    assert s.total.attendance_rate is None and s.total.reports_due == 0
    assert s.subject.type_name_vi == "Doanh nghiệp có vốn đầu tư nước ngoài"


def test_a_cell_with_no_members(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        now = NOW
        session.add(
            Organization(
                code="CBMOI",
                name="Chi bộ <Mới> & =SUM(A1)",
                name_folded="chi bo moi",
                kind=OrgKind.GRASSROOTS_CELL,
                org_type="hop_tac_xa",
                parent_id=khoi.top_id,
                active_from=date(2026, 1, 1),
                created_at=now,
                updated_at=now,
            )
        )
    s = summarize(db, khoi, "lanh_dao", "2026-11", Subject("type", type_code="hop_tac_xa"))
    assert [c.code for c in s.cells] == ["CBMOI"]
    row = s.cells[0]
    assert row.figures.members == 0 and row.figures.attendance_rate is None
    # No usual meeting day: November is in progress until its last day.
    assert row.figures.reviews_due == 0 and row.missing_months == []
    assert row.months_in_progress == [(2026, 11)] and row.figures.regular_in_progress == 1


def test_a_cell_created_mid_year_owes_only_its_months(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        session.add(
            Organization(
                code="CBMOI",
                name="Chi bộ mới",
                name_folded="chi bo moi",
                kind=OrgKind.GRASSROOTS_CELL,
                org_type="hop_tac_xa",
                parent_id=khoi.top_id,
                active_from=date(2026, 9, 15),
                created_at=NOW,
                updated_at=NOW,
            )
        )
    s = summarize(db, khoi, "lanh_dao", "2026", Subject("type", type_code="hop_tac_xa"))
    assert s.cells[0].months_due == [(2026, 9), (2026, 10)]
    assert s.cells[0].months_in_progress == [(2026, 11)]
    assert s.cells[0].quarters_due == [(2026, 3)]
    assert s.cells[0].quarters_in_progress == [(2026, 4)]


def test_a_period_with_no_data_shows_honest_zeros(db: Database, khoi: DemoKhoi) -> None:
    s = summarize(db, khoi, "lanh_dao", "2025-06")
    assert not s.has_data and not s.in_progress
    assert s.total.regular_due == 4 and s.total.regular_held == 0
    assert s.total.attendance_rate is None
    # The Q2 remedy report was due on 20/6/2025 from the 4 cells and the committee DBSYT.
    assert (s.total.reports_due, s.total.reports_missing) == (5, 5)
    assert len(s.cells_missing_regular) == 4


def test_a_future_period_is_refused(db: Database, khoi: DemoKhoi) -> None:
    with pytest.raises(FuturePeriod):
        summarize(db, khoi, "lanh_dao", "2026-12")
    with pytest.raises(FuturePeriod):
        summarize(db, khoi, "lanh_dao", "2027")
    # A period that has started is fine even if it ends later.
    assert summarize(db, khoi, "lanh_dao", "2026-Q4").in_progress


def test_candidates_by_stage_and_priority_group(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        for i, (stage, groups) in enumerate(
            [
                ("sympathizer", ["women", "khmer"]),
                ("sympathizer", ["women"]),
                ("class_done", []),
                ("mentors", ["youth_union", "women"]),
            ]
        ):
            session.add(
                Candidate(
                    code=f"QC{i}",
                    org_id=khoi.orgs["CBMEKONG"],
                    full_name=f"Quần chúng {i}",
                    name_folded=f"quan chung {i}",
                    priority_groups=groups,
                    stage=stage,
                    stage_since=date(2026, 10, 1),
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    s = summarize(db, khoi, "lanh_dao", "2026-11")
    assert s.candidates.tracked
    assert s.candidates.by_stage == {"sympathizer": 2, "class_done": 1, "mentors": 1}
    assert s.candidates.by_group == {"women": 3, "khmer": 1, "youth_union": 1}
    assert s.total.candidates == 4
    # A cell secretary elsewhere sees none of them.
    assert not summarize(db, khoi, "bt_bv", "2026-11").candidates.tracked


def test_deleted_meetings_do_not_count(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as session:
        r = Records(session, khoi.orgs)
        m = r.meeting("CBMEKONG", date(2026, 11, 2))
        m.deleted_at = NOW
        m.regular_key = None
    s = summarize(db, khoi, "lanh_dao", "2026-11")
    assert s.total.regular_held == 0 and s.total.meetings == 0


def test_one_cell_month_by_month(db: Database, story: Records) -> None:
    k = _khoi(db)
    with db.transaction() as session:
        scope = scope_of(session, who(session, k, "bt_syt").person_id, on=TODAY)
        year = cell_year(
            session,
            scope=scope,
            cell_id=k.orgs["CBBV-DK"],
            year=2026,
            today=TODAY,
            kinds=KINDS.values(),
        )
        with pytest.raises(NotInScope):
            cell_year(
                session,
                scope=scope,
                cell_id=k.orgs["CBDIEN"],
                year=2026,
                today=TODAY,
                kinds=KINDS.values(),
            )
    assert [m.month for m in year.months] == list(range(1, 12))
    held = [m.month for m in year.months if m.meeting.regular_held]
    assert held == list(range(1, 11))
    october = year.months[9].meeting
    assert october.thematic == 1 and october.superior_attended
    assert october.unexcused == 1
    p, r, _e, _u = story.attendance({"CBBV-DK"}, date(2026, 10, 1), date(2026, 10, 31))
    assert (october.present, october.required) == (p, r)
    assert all(m.reviewed == 0 for m in year.months)  # CBBV-DK recorded no reviews
    assert year.months[10].to_review == 24  # 25 members, one exempt


def test_chart_data_per_month_by_type(db: Database, story: Records) -> None:
    s = summarize(db, _khoi(db), "lanh_dao", "2026-11")
    with db.transaction() as session:
        chart = chart_data(session, s)
    assert chart.months == list(range(1, 12))
    names = {x.type_code: x for x in chart.series}
    assert set(names) == {"hanh_chinh", "su_nghiep", "dn_nha_nuoc", "dn_tu_nhan"}
    assert names["hanh_chinh"].held == [1] * 11
    assert names["su_nghiep"].held == [1] * 10 + [0]
    assert names["dn_tu_nhan"].held == [0] * 11 and names["dn_tu_nhan"].due == [1] * 11
    assert names["dn_tu_nhan"].rates() == [None] * 11


def test_the_roll_to_review_follows_the_reviews_rule(db: Database, khoi: DemoKhoi) -> None:
    """The one-query roll agrees with storage.reviews.roll_counts (one cell at a time)."""
    cell = khoi.orgs["CBMEKONG"]
    cases = [
        (MemberStatus.FULL, None, None, None),
        (MemberStatus.PROBATIONARY, date(2026, 3, 10), date(2026, 3, 20), None),
        (MemberStatus.PROBATIONARY, None, date(2026, 5, 1), None),
        # Exempt from 01/06 (an exemption dated mid-month counts from the next month in the
        # reviews, domain.rules.membership: tests/storage/test_history_reviews.py).
        (MemberStatus.EXEMPT, date(2000, 1, 1), None, date(2026, 6, 1)),
        (MemberStatus.EXEMPT, None, None, None),
        (MemberStatus.TRANSFERRED, date(2010, 1, 1), None, date(2026, 4, 2)),
        (MemberStatus.REMOVED, None, None, None),
        (MemberStatus.TRANSFERRED, date(2027, 1, 1), None, date(2026, 9, 30)),
    ]
    with db.transaction() as session:
        for i, (status, admitted, ceremony, since) in enumerate(cases):
            session.add(
                Member(
                    code=f"R{i}",
                    org_id=cell,
                    full_name=f"Đảng viên {i}",
                    name_folded=f"dang vien {i}",
                    status=status,
                    admitted_on=admitted,
                    ceremony_on=ceremony,
                    status_since=since,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    months = [(2026, m) for m in range(1, 13)]
    with db.transaction() as session:
        ours = roll_counts(session, [cell], months)[cell]
        theirs = review_store.roll_counts(session, org_id=cell, months=months)
    assert ours == theirs


# --- the annual report on carrying out the plan ------------------------------------------------


def test_the_annual_plan_report_is_drafted_from_the_year(db: Database, story: Records) -> None:
    bv = story.orgs["CBBV-DK"]
    with db.transaction() as session:
        view = reports.view(session, org_id=bv, kind=PLAN_ANNUAL, period="2026", today=TODAY)
    f = view.figures
    # The 12 months ending on the due date (15/11/2026): December 2025 … November 2026.
    assert (view.start, view.due_on) == (date(2025, 11, 16), date(2026, 11, 15))
    assert f["months_started"] == 12
    held = sum(
        story.regular_held("CBBV-DK", y, m)
        for y, m in [(2025, 12)] + [(2026, m) for m in range(1, 12)]
    )
    assert f["regular_held"] == held == 10
    assert f["months_missing"] == ["2025-12", "2026-11"]
    p, r, e, u = story.attendance({"CBBV-DK"}, date(2025, 11, 16), date(2026, 11, 15))
    assert (f["present"], f["required"], f["excused"], f["unexcused"]) == (p, r, e, u)
    assert [x["months"] for x in f["flagged"]] == [[1, 3, 10]]
    assert (f["thematic_quarters"], f["quarters"]) == (1, 5)
    assert f["superior_visits"] == 1 and f["study_models"] == []
    assert f["reviews_done"] == 0 and f["reviews_due"] == 24 * 12


def test_the_khoi_rolls_up_the_submitted_plan_reports(db: Database, story: Records) -> None:
    khoi = _khoi(db)
    with db.transaction() as session:
        reports.submit(
            session,
            org_id=story.orgs["CBBV-DK"],
            kind=PLAN_ANNUAL,
            period="2026",
            expected=None,
            actor=Actor("Huỳnh Văn Tâm", khoi.users["bt_bv"].person_id),
            now=NOW,
            today=TODAY,
        )
    with db.transaction() as session:
        scope = scope_of(session, who(session, khoi, "lanh_dao").person_id, on=TODAY)
        rollup = plan_rollup(session, scope=scope, year=2026, today=TODAY)
    assert [code for code, _name in rollup.on_time] == ["CBVP-SYT"]
    assert sorted(code for code, _name in rollup.late) == ["CBBV-DK", "CBDIEN"]
    assert [code for code, _name in rollup.missing] == ["CBMEKONG"]
    assert rollup.submitted == 3 and rollup.cells == 4
    # The story's other two reports were stored with empty figures: only CBBV-DK's snapshot adds.
    assert rollup.totals["regular_held"] == 10 and rollup.flagged == 1


def test_review_counts_agree_with_the_reviews_layer(db: Database, story: Records) -> None:
    """One year-bounded query per scope gives what storage.reviews counts per month."""
    cells = [story.orgs[c] for c in sorted(ALL)]
    months = [(2026, m) for m in range(1, 12)]
    with db.transaction() as session:
        session.add(
            Review(
                org_id=story.orgs["CBVP-SYT"],
                member_id=story.members("CBVP-SYT")[0][0],
                year=2026,
                month=11,
                outcome=ReviewOutcome.NEW_SIGN,
                sign_group=None,
                reviewed_at=NOW,
            )
        )
    with db.transaction() as session:
        ours = review_counts(session, cells, months)
        done = review_store.outcome_counts(session, cell_ids=cells, months=months)
        signs = review_store.sign_counts(session, cell_ids=cells, months=months)
    for cell in cells:
        n, groups = ours.get(cell, (0, {}))
        assert n == sum(sum(c.values()) for c in done[cell].values())
        assert {g: k for g, k in groups.items() if g != "unspecified"} == {
            g.value: k for g, k in signs[cell].items() if k
        }
    assert ours[story.orgs["CBVP-SYT"]][1] == {"unspecified": 1}
    assert ours[story.orgs["CBDIEN"]][1] == {"ethics": 1}
