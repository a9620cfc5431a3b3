"""Meeting use cases and figures, without Telegram: stories told through storage.meetings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.errors import AlreadyRecorded, InvalidInput, NotAllowed, NotFound, StaleAction
from domain.text import fold
from storage import drafts, figures, orgs
from storage import meetings as m
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.meetings import State, conversation, saving
from storage.models import (
    AttendanceStatus,
    AuditLog,
    Flag,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Outbox,
    Person,
    Role,
    RoleAssignment,
    Setting,
)
from storage.people import revoke_role

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    with db.transaction() as s:
        return seed_demo(s, now=NOW)


class Secretary:
    """A person who logs meetings through the use cases, one transaction per step."""

    def __init__(self, db: Database, person_id: int, today: date = TODAY) -> None:
        self.db = db
        self.pid = person_id
        self.set_today(today)

    def set_today(self, today: date) -> None:
        self.today = today
        self.now = datetime(today.year, today.month, today.day, 3, 0, tzinfo=UTC)

    def do(self, fn: Callable[..., Any], **kw: Any) -> Any:
        with self.db.transaction() as s:
            return fn(s, person_id=self.pid, **kw)

    def step(self, fn: Callable[..., Any], **kw: Any) -> Any:
        """A step of the current draft."""
        kw.setdefault("now", self.now)
        return self.do(fn, draft_id=m.conversation_key(self.draft()), **kw)

    def draft(self) -> Any:
        with self.db.transaction() as s:
            d = drafts.get(s, self.pid)
            assert d is not None
            return d

    def start(self) -> Any:
        return self.do(m.start_meeting, now=self.now).draft

    def to_attendance(
        self, *, kind: MeetingKind = MeetingKind.REGULAR, day: date | None = None
    ) -> Any:
        self.start()
        self.step(m.set_kind, kind=kind)
        if kind.counts_as_thematic:
            self.step(m.set_topic, text="Học tập tư tưởng Hồ Chí Minh về xây dựng Đảng")
        self.step(m.set_duration, minutes=90)
        d = self.step(m.set_date, day=day or self.today, today=self.today)
        if d.state == State.DATE_CONFIRM:
            d = self.step(m.set_date, day=day, today=self.today, confirmed=True)
        assert d.state == State.ATTENDANCE, d.state
        return d

    def finish(
        self, absent: dict[int, str] | None = None, followers: list[int] | None = None
    ) -> m.SaveResult:
        for member_id in absent or {}:
            self.step(m.mark, member_id=member_id, absent=True)
        d = self.step(m.attendance_done)
        for member_id, code in (absent or {}).items():
            assert d.state == State.REASONS
            d = self.step(m.set_reason, member_id=member_id, code=code)
        assert d.state == State.GUESTS
        for pid in followers or []:
            self.step(m.move, target=State.GUESTS) if self.draft().state != State.GUESTS else None
            self.step(m.add_follower, guest_id=pid)
        if self.draft().state == State.GUESTS:
            self.step(m.guests_done)
        self.step(m.content_done)
        return self.step(m.save, today=self.today)

    def log(
        self,
        *,
        day: date | None = None,
        kind: MeetingKind = MeetingKind.REGULAR,
        absent: dict[int, str] | None = None,
        followers: list[int] | None = None,
    ) -> m.SaveResult:
        self.to_attendance(kind=kind, day=day)
        return self.finish(absent, followers)


def roll(db: Database, code: str) -> list[Member]:
    with db.transaction() as s:
        org = orgs.by_code(s, code)
        assert org is not None
        return orgs.active_members(s, org.id)


def required(db: Database, code: str) -> list[Member]:
    return [x for x in roll(db, code) if x.status is not MemberStatus.EXEMPT]


def count(db: Database, model: Any, *where: Any) -> int:
    with db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
def bv(db: Database, khoi: DemoKhoi) -> Secretary:
    return Secretary(db, khoi.users["bt_bv"].person_id)


# --- Logging a meeting -----------------------------------------------------------------------


def test_a_secretary_logs_a_regular_meeting_with_two_absences_and_a_follower(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    members = required(db, "CBBV-DK")
    assert len(members) == 24 and len(roll(db, "CBBV-DK")) == 25
    a, b = members[3], members[10]
    follower = khoi.users["to_chuc"].person_id
    result = bv.log(absent={a.id: "illness", b.id: "unexcused"}, followers=[follower])

    assert (result.present, result.required, result.updated) == (22, 24, False)
    assert result.dropped == () and result.flags == () and result.duration_minimum is None
    with db.transaction() as s:
        meeting = s.get(Meeting, result.meeting_id)
        assert meeting is not None
        assert meeting.kind is MeetingKind.REGULAR and meeting.held_on == TODAY
        assert meeting.regular_key == f"{khoi.orgs['CBBV-DK']}:2026-11"
        assert meeting.created_by == bv.pid and meeting.duration_min == 90
        assert all(meeting.content.values()) and len(meeting.content) == 5
        statuses = {x.member_id: (x.status, x.reason) for x in meeting.attendance}
        assert len(statuses) == 25
        assert statuses[a.id] == (AttendanceStatus.EXCUSED, "illness")
        assert statuses[b.id] == (AttendanceStatus.UNEXCUSED, None)
        assert sum(st is AttendanceStatus.EXEMPT for st, _ in statuses.values()) == 1
        assert [(g.person_id, g.is_superior) for g in meeting.guests] == [(follower, True)]
        assert drafts.get(s, bv.pid) is None
    audit = count(db, AuditLog, AuditLog.entity == "meeting", AuditLog.action == "create")
    assert audit == 1

    cell = khoi.orgs["CBBV-DK"]
    with db.transaction() as s:
        month = figures.monthly_figures(s, [cell], date(2026, 10, 1), TODAY)[cell]
        fig = figures.meeting_figures(s, [cell], date(2026, 11, 1), TODAY)[cell]
        visits = figures.superior_visits(s, [cell], date(2026, 1, 1), date(2026, 12, 31))
    assert month[(2026, 10)].regular_held is False
    nov = month[(2026, 11)]
    assert nov.regular_held and nov.superior_attended
    assert (nov.present, nov.required, nov.excused, nov.unexcused) == (22, 24, 1, 1)
    assert round(nov.attendance_rate or 0, 4) == round(22 / 24, 4)
    assert fig.regular_months == {(2026, 11)} and fig.superior_visits == 1
    assert [(v.person_id, v.visits) for v in visits] == [(follower, 1)]


def test_a_short_meeting_is_recorded_with_a_warning(bv: Secretary) -> None:
    bv.start()
    bv.step(m.set_kind, kind=MeetingKind.COMBINED)
    bv.step(m.set_topic, text="Chuyên đề quý IV")
    bv.step(m.type_duration, text="1h30")
    bv.step(m.set_date, day=TODAY, today=TODAY)
    result = bv.finish()
    assert result.duration_minimum == 120


def test_everyone_present_and_same_as_last_meeting(db: Database, bv: Secretary) -> None:
    members = required(db, "CBBV-DK")
    bv.log(day=date(2026, 10, 12), absent={members[0].id: "trip", members[1].id: "unexcused"})
    d = bv.to_attendance()
    with db.transaction() as s:
        assert m.view(s, d, today=TODAY).last_meeting == date(2026, 10, 12)
    d = bv.step(m.same_as_last, today=TODAY)
    assert d.data["absent"] == sorted([members[0].id, members[1].id])
    assert d.data["reasons"] == {str(members[0].id): "trip", str(members[1].id): "unexcused"}
    d = bv.step(m.everyone_present)
    assert d.data["absent"] == [] and d.data["reasons"] == {}


def test_repeated_taps_change_nothing(db: Database, bv: Secretary) -> None:
    members = required(db, "CBBV-DK")
    bv.to_attendance()
    first = bv.step(m.mark, member_id=members[0].id, absent=True)
    again = bv.step(m.mark, member_id=members[0].id, absent=True)
    assert again.step == first.step and again.data["absent"] == [members[0].id]
    d = bv.step(m.attendance_done)
    d = bv.step(m.set_reason, member_id=members[0].id, code="family")
    assert d.state == State.GUESTS
    with pytest.raises(StaleAction):  # the reason button of a screen already left
        bv.step(m.set_reason, member_id=members[0].id, code="family")
    bv.step(m.set_other_guests, count=2)
    assert bv.step(m.set_other_guests, count=2).data["other_guests"] == 2


def test_a_double_tap_on_save_records_one_meeting_and_one_audit_row(
    db: Database, bv: Secretary
) -> None:
    bv.to_attendance()
    bv.step(m.attendance_done)
    bv.step(m.guests_done)
    d = bv.step(m.content_done)
    key = m.conversation_key(d)
    bv.do(m.save, draft_id=key, today=TODAY, now=bv.now)
    with pytest.raises(StaleAction):
        bv.do(m.save, draft_id=key, today=TODAY, now=bv.now)
    assert count(db, Meeting) == 1
    assert count(db, AuditLog, AuditLog.entity == "meeting") == 1


def test_a_second_regular_meeting_in_the_month_offers_the_existing_one(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    first = bv.log(day=date(2026, 11, 10))
    bv.start()
    bv.step(m.set_kind, kind=MeetingKind.REGULAR)
    bv.step(m.set_duration, minutes=90)
    d = bv.step(m.set_date, day=TODAY, today=TODAY)
    assert d.state == State.DUPLICATE and d.data["dup_id"] == first.meeting_id
    # An extraordinary meeting the same month is fine.
    d = bv.step(m.move, target=State.KIND)
    bv.step(m.set_kind, kind=MeetingKind.EXTRAORDINARY)
    bv.step(m.set_duration, minutes=60)
    d = bv.step(m.set_date, day=TODAY, today=TODAY)
    assert d.state == State.ATTENDANCE


def test_two_devices_racing_get_already_recorded_not_two_meetings(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    """The secretary and a deputy both reach the confirmation for the same month."""
    with db.transaction() as s:
        deputy = Person(display_name="Phó bí thư", telegram_user_id=9001, created_at=NOW)
        s.add(deputy)
        s.flush()
        s.add(
            RoleAssignment(
                person_id=deputy.id,
                org_id=khoi.orgs["CBBV-DK"],
                role=Role.DEPUTY,
                granted_at=NOW,
                granted_by="test",
            )
        )
        deputy_id = deputy.id
    dep = Secretary(db, deputy_id)
    for who in (bv, dep):
        who.to_attendance()
        who.step(m.attendance_done)
        who.step(m.guests_done)
        who.step(m.content_done)
    bv.step(m.save, today=TODAY)
    with pytest.raises(AlreadyRecorded) as caught:
        dep.step(m.save, today=TODAY)
    assert caught.value.params["meeting_id"] is not None
    assert count(db, Meeting) == 1
    assert dep.draft().state == State.CONFIRM  # kept: they may change the kind or cancel


def test_the_unique_key_stops_a_race_the_pre_check_missed(
    db: Database, bv: Secretary, monkeypatch: pytest.MonkeyPatch
) -> None:
    bv.log(day=date(2026, 11, 10))
    bv.to_attendance(kind=MeetingKind.EXTRAORDINARY)
    bv.step(m.attendance_done)
    bv.step(m.guests_done)
    bv.step(m.content_done)
    # Change it to a regular meeting, as if the other record appeared after every check.
    for module in (conversation, saving):
        monkeypatch.setattr(module, "_regular_in_month", lambda *a, **k: None)
    bv.step(m.change, section="kind")
    bv.step(m.set_kind, kind=MeetingKind.REGULAR)
    bv.step(m.set_duration, minutes=90)
    with pytest.raises(AlreadyRecorded):
        bv.step(m.save, today=TODAY)
    assert count(db, Meeting) == 1


# --- Bad input -------------------------------------------------------------------------------


def test_dates_in_the_future_or_far_past_are_refused_and_old_ones_confirmed(
    bv: Secretary,
) -> None:
    bv.start()
    bv.step(m.set_kind, kind=MeetingKind.REGULAR)
    bv.step(m.set_duration, minutes=90)
    for text in ("17/11/2026", "31/2", "5/11/26", "01/01/2020", "hôm nay"):
        with pytest.raises(InvalidInput):
            bv.step(m.type_date, text=text, today=TODAY)
        assert bv.draft().state == State.DATE
    d = bv.step(m.type_date, text="15-9-2026", today=TODAY)
    assert d.state == State.DATE_CONFIRM and d.data["pending_date"] == "2026-09-15"
    with pytest.raises(StaleAction):  # a forged confirmation of another date
        bv.step(m.set_date, day=date(2026, 9, 1), today=TODAY, confirmed=True)
    d = bv.step(m.set_date, day=date(2026, 9, 15), today=TODAY, confirmed=True)
    assert d.state == State.ATTENDANCE and d.data["held_on"] == "2026-09-15"


def test_a_3000_character_topic_is_refused_and_the_draft_kept(bv: Secretary) -> None:
    bv.start()
    bv.step(m.set_kind, kind=MeetingKind.THEMATIC)
    before = bv.draft()
    with pytest.raises(InvalidInput) as caught:
        bv.step(m.set_topic, text="x" * 3000)
    assert caught.value.params == {"length": 3000, "limit": 500}
    after = bv.draft()
    assert (after.state, after.step) == (State.TOPIC, before.step)
    d = bv.step(m.set_topic, text="  Chuyên đề   năm 2026 ")
    assert d.data["topic"] == "Chuyên đề năm 2026" and d.state == State.DURATION


def test_a_member_removed_during_the_conversation_is_not_recorded(
    db: Database, bv: Secretary
) -> None:
    members = required(db, "CBBV-DK")
    gone, absent = members[5], members[6]
    bv.to_attendance()
    bv.step(m.mark, member_id=absent.id, absent=True)
    with db.transaction() as s:
        row = s.get(Member, gone.id)
        assert row is not None
        row.status = MemberStatus.TRANSFERRED
    result = bv.finish({absent.id: "study"})
    assert result.dropped == (gone.full_name,)
    assert result.required == 23
    with db.transaction() as s:
        meeting = s.get(Meeting, result.meeting_id)
        assert meeting is not None
        assert gone.id not in {x.member_id for x in meeting.attendance}
        assert len(meeting.attendance) == 24


def test_a_member_removed_while_marked_absent_drops_out_of_the_reasons(
    db: Database, bv: Secretary
) -> None:
    members = required(db, "CBBV-DK")
    bv.to_attendance()
    bv.step(m.mark, member_id=members[0].id, absent=True)
    d = bv.step(m.attendance_done)
    assert d.state == State.REASONS
    with db.transaction() as s:
        row = s.get(Member, members[0].id)
        assert row is not None
        row.status = MemberStatus.REMOVED
    with db.transaction() as s:
        view = m.view(s, bv.draft(), today=TODAY)
        assert view.queue_member is None
    with pytest.raises(StaleAction):
        bv.step(m.set_reason, member_id=members[0].id, code="other")
    assert bv.step(m.reasons_done).state == State.GUESTS


def test_a_user_who_loses_the_role_mid_conversation_is_refused(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    bv.to_attendance()
    with db.transaction() as s:
        assignment = s.scalar(
            select(RoleAssignment.id).where(
                RoleAssignment.person_id == bv.pid, RoleAssignment.role == Role.SECRETARY
            )
        )
        revoke_role(s, assignment_id=assignment, actor=Actor.system("admin"), now=NOW)
    with pytest.raises(NotAllowed):
        bv.step(m.attendance_done)
    with pytest.raises(NotAllowed):
        bv.do(m.start_meeting, now=NOW)
    assert count(db, Meeting) == 0


def test_a_forged_button_for_another_cell_or_member_is_refused(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    other_cell_member = roll(db, "CBDIEN")[0]
    bv.to_attendance()
    with pytest.raises(StaleAction):
        bv.step(m.mark, member_id=other_cell_member.id, absent=True)
    assert bv.step(m.attendance_done).state == State.GUESTS
    with pytest.raises(StaleAction):  # a person who does not follow this cell
        bv.step(m.add_follower, guest_id=khoi.users["lanh_dao"].person_id)
    assert bv.step(m.guests_done).state == State.CONTENT
    with pytest.raises(StaleAction):
        bv.step(m.set_content, item="sports", done=True)
    with pytest.raises(StaleAction):  # a button of a step already left
        bv.step(m.set_other_guests, count=3)
    assert bv.step(m.set_content, item="current_affairs", done=False).state == State.CONTENT


def test_a_cell_with_no_members(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as s:
        org = Organization(
            code="CBMOI",
            name="Chi bộ mới thành lập",
            name_folded=fold("Chi bộ mới thành lập"),
            kind=OrgKind.CELL,
            parent_id=khoi.top_id,
            created_at=NOW,
            updated_at=NOW,
        )
        s.add(org)
        s.flush()
        person = Person(display_name="Bí thư mới", telegram_user_id=9100, created_at=NOW)
        s.add(person)
        s.flush()
        s.add(
            RoleAssignment(
                person_id=person.id,
                org_id=org.id,
                role=Role.SECRETARY,
                granted_at=NOW,
                granted_by="t",
            )
        )
        org_id, pid = org.id, person.id
    sec = Secretary(db, pid)
    d = sec.to_attendance()
    with db.transaction() as s:
        view = m.view(s, d, today=TODAY)
    assert view.roll == [] and view.pages == 1 and view.quorum_ok is None
    result = sec.finish()
    assert (result.present, result.required) == (0, 0)
    with db.transaction() as s:
        fig = figures.monthly_figures(s, [org_id], TODAY, TODAY)[org_id][(2026, 11)]
    assert fig.regular_held and fig.attendance_rate is None


def test_a_cell_of_120_members_is_paged(db: Database, khoi: DemoKhoi, bv: Secretary) -> None:
    cell = khoi.orgs["CBBV-DK"]
    with db.transaction() as s:
        for i in range(96):
            name = f"Nguyễn Văn Thêm {i:03d}"
            s.add(
                Member(
                    code=f"X-{i:03d}",
                    org_id=cell,
                    full_name=name,
                    name_folded=fold(name),
                    status=MemberStatus.FULL,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    assert len(roll(db, "CBBV-DK")) == 121
    d = bv.to_attendance()
    with db.transaction() as s:
        view = m.view(s, d, today=TODAY)
    assert len(view.roll) == 120 and view.pages == 4 and len(view.page_members()) == 30
    last = view.roll[-1]
    with pytest.raises(StaleAction):
        bv.step(m.set_page, page=4)
    d = bv.step(m.set_page, page=3)
    with db.transaction() as s:
        view = m.view(s, d, today=TODAY)
    assert last in view.page_members()
    bv.step(m.mark, member_id=last.id, absent=True)
    result = bv.finish({last.id: "unexcused"})
    assert (result.present, result.required) == (119, 120)


def test_documents_marked_secret_are_refused(bv: Secretary) -> None:
    bv.to_attendance()
    bv.step(m.attendance_done)
    bv.step(m.guests_done)
    with pytest.raises(InvalidInput) as caught:
        bv.step(
            m.attach_minutes,
            file_id="F1",
            kind="document",
            file_name="Bien ban TOI-MAT.pdf",
            caption=None,
        )
    assert caught.value.message == m.SECRET_REFUSAL
    with pytest.raises(InvalidInput):
        bv.step(m.attach_minutes, file_id="F2", kind="photo", file_name=None, caption="MẬT")
    assert not bv.draft().data.get("minutes_file_id")
    d = bv.step(
        m.attach_minutes, file_id="F3", kind="document", file_name="bien_ban_11.pdf", caption=None
    )
    assert d.data["minutes_file_id"] == "document:F3"
    d = bv.step(m.set_minutes_ref, text="Biên bản số 11, sổ 2026")
    assert d.data["minutes_ref"] == "Biên bản số 11, sổ 2026"


# --- Corrections and deletion ----------------------------------------------------------------


def test_correcting_an_absence(db: Database, khoi: DemoKhoi, bv: Secretary) -> None:
    members = required(db, "CBBV-DK")
    a, b = members[3], members[10]
    saved = bv.log(absent={a.id: "illness", b.id: "unexcused"})
    d = bv.do(m.start_correction, meeting_id=saved.meeting_id, now=bv.now).draft
    assert d.state == State.CONFIRM and d.data["absent"] == sorted(
        [a.id, b.id], key=lambda i: [x.id for x in members].index(i)
    )
    d = bv.step(m.change, section="reasons")
    assert d.state == State.REASONS
    for member_id, code in ((a.id, "illness"), (b.id, "family")):
        d = bv.step(m.set_reason, member_id=member_id, code=code)
    assert d.state == State.CONFIRM
    result = bv.step(m.save, today=TODAY)
    assert result.updated and result.meeting_id == saved.meeting_id
    with db.transaction() as s:
        meeting = s.get(Meeting, saved.meeting_id)
        assert meeting is not None
        statuses = {x.member_id: (x.status, x.reason) for x in meeting.attendance}
    assert statuses[b.id] == (AttendanceStatus.EXCUSED, "family")
    assert count(db, Meeting) == 1
    assert count(db, AuditLog, AuditLog.entity == "meeting", AuditLog.action == "update") == 1
    cell = khoi.orgs["CBBV-DK"]
    with db.transaction() as s:
        nov = figures.monthly_figures(s, [cell], TODAY, TODAY)[cell][(2026, 11)]
    assert (nov.present, nov.excused, nov.unexcused) == (22, 2, 0)


def test_correcting_the_date_and_marking_someone_present(db: Database, bv: Secretary) -> None:
    members = required(db, "CBBV-DK")
    saved = bv.log(absent={members[0].id: "unexcused"})
    bv.do(m.start_correction, meeting_id=saved.meeting_id, now=bv.now)
    bv.step(m.change, section="attendance")
    bv.step(m.mark, member_id=members[0].id, absent=False)
    assert bv.step(m.attendance_done).state == State.CONFIRM
    bv.step(m.change, section="date")
    assert bv.step(m.type_date, text="10/11", today=TODAY).state == State.CONFIRM
    result = bv.step(m.save, today=TODAY)
    assert (result.present, result.held_on) == (24, date(2026, 11, 10))


def test_deleting_a_meeting_frees_the_month(db: Database, khoi: DemoKhoi, bv: Secretary) -> None:
    saved = bv.log()
    out = bv.do(m.delete_meeting, meeting_id=saved.meeting_id, now=bv.now)
    assert out.deleted and out.org_id == khoi.orgs["CBBV-DK"]
    again = bv.do(m.delete_meeting, meeting_id=saved.meeting_id, now=bv.now)
    assert not again.deleted
    assert count(db, AuditLog, AuditLog.entity == "meeting", AuditLog.action == "delete") == 1
    with db.transaction() as s:
        meeting = s.get(Meeting, saved.meeting_id)
        assert meeting is not None and meeting.deleted_at is not None
        assert meeting.regular_key is None
    with pytest.raises(NotFound):
        bv.do(m.meeting_detail, meeting_id=saved.meeting_id, now=bv.now)
    bv.log()  # the month can be recorded again
    assert count(db, Meeting, Meeting.deleted_at.is_(None)) == 1


def test_reading_is_scoped_and_audited(db: Database, khoi: DemoKhoi, bv: Secretary) -> None:
    saved = bv.log()
    follower = Secretary(db, khoi.users["to_chuc"].person_id)
    other = Secretary(db, khoi.users["bt_vp"].person_id)
    detail = follower.do(m.meeting_detail, meeting_id=saved.meeting_id, now=NOW)
    assert not detail.can_write and detail.counts.required == 24
    with pytest.raises(NotAllowed):
        other.do(m.meeting_detail, meeting_id=saved.meeting_id, now=NOW)
    with pytest.raises(NotAllowed):
        follower.do(m.start_correction, meeting_id=saved.meeting_id, now=NOW)
    with pytest.raises(NotAllowed):
        other.do(m.delete_meeting, meeting_id=saved.meeting_id, now=NOW)
    assert count(db, AuditLog, AuditLog.action == "view", AuditLog.entity == "meeting") == 1
    overview = bv.do(m.cell_overview, org_id=khoi.orgs["CBBV-DK"], today=TODAY)
    assert overview.can_write and [r.id for r in overview.meetings] == [saved.meeting_id]
    assert overview.months[0][0] == (2026, 11) and len(overview.months) == m.LIST_MONTHS
    cells = {c.code for c in follower.do(m.readable_cells)}
    assert {"CBBV-DK", "CBDIEN", "CBMEKONG", "CBVP-SYT"} <= cells  # a leader at the top
    assert {c.code for c in other.do(m.readable_cells)} == {"CBVP-SYT"}


# --- The three-months rule -------------------------------------------------------------------


def test_three_unexcused_months_flag_the_member_once(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    x = required(db, "CBBV-DK")[7]
    board = khoi.users["to_chuc"].person_id
    bv.set_today(date(2026, 3, 20))
    assert bv.log(day=date(2026, 3, 12), absent={x.id: "unexcused"}).flags == ()
    bv.set_today(date(2026, 5, 20))
    warned = bv.log(day=date(2026, 5, 12), absent={x.id: "unexcused"}).flags
    assert [(f.member_id, f.level, f.months, f.board_notified) for f in warned] == [
        (x.id, 1, (3, 5), 0)
    ]
    bv.set_today(date(2026, 6, 20))
    assert bv.log(day=date(2026, 6, 12), absent={x.id: "illness"}).flags == ()
    bv.set_today(date(2026, 9, 20))
    flagged = bv.log(day=date(2026, 9, 12), absent={x.id: "unexcused"}).flags
    assert [(f.level, f.months, f.year, f.board_notified) for f in flagged] == [
        (2, (3, 5, 9), 2026, 1)
    ]
    with db.transaction() as s:
        keys = set(s.scalars(select(Flag.key)))
        outbox = s.scalars(select(Outbox)).all()
        assert keys == {f"3m:{x.id}:2026:1", f"3m:{x.id}:2026:2"}
        assert len(outbox) == 1
        row = outbox[0]
        assert (row.person_id, row.kind, row.status.value) == (board, "flag", "pending")
        assert row.key == f"flag:3m:{x.id}:2026:2:{board}"
        assert row.payload["msgid"] == m.THREE_MONTHS_BOARD_MSGID
        assert row.payload["params"]["months"] == "03/2026, 05/2026, 09/2026"
        assert row.payload["params"]["member"] == x.full_name
        assert figures.three_months_flags(s, [khoi.orgs["CBBV-DK"]], 2026) == {x.id: 2}
    # A fourth month raises nothing new and queues nothing more.
    bv.set_today(date(2026, 10, 20))
    assert bv.log(day=date(2026, 10, 12), absent={x.id: "unexcused"}).flags == ()
    assert count(db, Outbox) == 1
    assert count(db, AuditLog, AuditLog.entity == "flag", AuditLog.action == "raise") == 2


def test_absences_across_the_new_year_are_not_three_in_one_year(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    x = required(db, "CBBV-DK")[2]
    for day in (date(2026, 11, 10), date(2026, 12, 10), date(2027, 1, 10)):
        bv.set_today(day + timedelta(days=2))
        result = bv.log(day=day, absent={x.id: "unexcused"})
    assert result.flags == ()
    with db.transaction() as s:
        assert set(s.scalars(select(Flag.key))) == {f"3m:{x.id}:2026:1"}
        cell = khoi.orgs["CBBV-DK"]
        assert figures.unexcused_months(s, [cell], 2026) == {x.id: [11, 12]}
        assert figures.unexcused_months(s, [cell], 2027) == {x.id: [1]}
        assert figures.three_months_flags(s, [cell], 2027) == {}
    assert count(db, Outbox) == 0


def test_correcting_an_absence_clears_the_flag(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    x = required(db, "CBBV-DK")[4]
    saved = None
    for month in (1, 2, 3):
        bv.set_today(date(2026, month, 20))
        saved = bv.log(day=date(2026, month, 10), absent={x.id: "unexcused"})
    assert saved is not None and [f.level for f in saved.flags] == [2]
    bv.do(m.start_correction, meeting_id=saved.meeting_id, now=bv.now)
    bv.step(m.change, section="reasons")
    bv.step(m.set_reason, member_id=x.id, code="illness")
    assert bv.step(m.save, today=bv.today).flags == ()
    with db.transaction() as s:
        open_flags = figures.three_months_flags(s, [khoi.orgs["CBBV-DK"]], 2026)
    assert open_flags == {x.id: 1}  # two months remain: the warning stands
    assert count(db, AuditLog, AuditLog.entity == "flag", AuditLog.action == "clear") == 1


def test_queue_flag_notice_is_idempotent(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as s:
        flag = Flag(
            key="3m:1:2026:2",
            kind=figures.THREE_MONTHS_FLAG,
            org_id=khoi.orgs["CBBV-DK"],
            member_id=None,
            year=2026,
            level=2,
            detail={"months": [1, 2, 3]},
            raised_at=NOW,
        )
        s.add(flag)
        s.flush()
        assert m.queue_flag_notice(s, flag=flag, member_name="A", org_name="B", now=NOW) == 1
        assert m.queue_flag_notice(s, flag=flag, member_name="A", org_name="B", now=NOW) == 0
    assert count(db, Outbox) == 1


def test_three_months_thresholds_come_from_the_settings(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    with db.transaction() as s:
        setting = s.get(Setting, "three_months_rule")
        assert setting is not None
        setting.value = {"warn_at": 1, "flag_at": 2}
    x = required(db, "CBBV-DK")[0]
    assert [f.level for f in bv.log(absent={x.id: "unexcused"}).flags] == [1]


# --- Figures ---------------------------------------------------------------------------------


def test_thematic_meetings_per_quarter_and_cells_without_a_study_model(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    bv.log(day=date(2026, 10, 5), kind=MeetingKind.COMBINED)
    bv.log(day=date(2026, 11, 3), kind=MeetingKind.THEMATIC)
    bv.log(day=date(2026, 11, 4), kind=MeetingKind.COMMITTEE)
    cell = khoi.orgs["CBBV-DK"]
    cells = [khoi.orgs[c] for c in ("CBVP-SYT", "CBBV-DK", "CBDIEN")]
    with db.transaction() as s:
        assert figures.thematic_by_quarter(s, [cell], 2026)[cell] == {1: 0, 2: 0, 3: 0, 4: 2}
        month = figures.monthly_figures(s, [cell], date(2026, 10, 1), TODAY)[cell]
        assert month[(2026, 11)].meetings == 2 and not month[(2026, 11)].regular_held
        assert month[(2026, 10)].regular_held and month[(2026, 10)].thematic == 1
        assert figures.cells_without_study_model(s, cells, 2026) == cells
    bv.do(m.start_model_entry, org_id=cell, now=NOW)
    row = bv.do(m.save_model_text, text="Kỷ cương, tận tụy, vì người bệnh", today=TODAY, now=NOW)
    with db.transaction() as s:
        assert figures.cells_without_study_model(s, cells, 2026) == [cells[0], cells[2]]
        assert figures.cells_without_study_model(s, cells, 2027) == cells
    assert row.year == 2026


def test_meeting_attendance_counts(db: Database, bv: Secretary) -> None:
    members = required(db, "CBBV-DK")
    saved = bv.log(absent={members[0].id: "trip", members[1].id: "unexcused"})
    with db.transaction() as s:
        c = figures.meeting_attendance(s, [saved.meeting_id, 999])
    assert (c[saved.meeting_id].present, c[saved.meeting_id].required) == (22, 24)
    assert c[saved.meeting_id].exempt == 1 and c[999].required == 0


# --- Study models ----------------------------------------------------------------------------


def test_study_model_register_review_carry_over_and_remove(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    cell = khoi.orgs["CBBV-DK"]
    bv.do(m.start_model_entry, org_id=cell, now=NOW)
    with pytest.raises(InvalidInput):
        bv.do(m.save_model_text, text="x" * 301, today=TODAY, now=NOW)
    assert bv.draft().flow == m.MODEL_FLOW  # kept after the refusal
    row = bv.do(m.save_model_text, text="Mô hình “Dân vận khéo”", today=TODAY, now=NOW)
    bv.do(m.start_model_entry, org_id=cell, model_id=row.id, now=NOW)
    reviewed = bv.do(m.save_model_text, text="Hoàn thành tốt", today=TODAY, now=NOW)
    assert (reviewed.reviewed_on, reviewed.result) == (TODAY, "Hoàn thành tốt")
    next_year = date(2027, 1, 5)
    overview = bv.do(m.model_overview, org_id=cell, today=next_year)
    assert overview.models == [] and [r.id for r in overview.carry_over] == [row.id]
    copied = bv.do(m.carry_over_model, model_id=row.id, today=next_year, now=NOW)
    again = bv.do(m.carry_over_model, model_id=row.id, today=next_year, now=NOW)
    assert copied.id == again.id and copied.year == 2027
    assert bv.do(m.delete_model, model_id=copied.id, now=NOW) == cell
    bv.do(m.delete_model, model_id=copied.id, now=NOW)
    assert count(db, AuditLog, AuditLog.entity == "study_model", AuditLog.action == "delete") == 1
    other = Secretary(db, khoi.users["bt_vp"].person_id)
    with pytest.raises(NotAllowed):
        other.do(m.carry_over_model, model_id=row.id, today=next_year, now=NOW)
