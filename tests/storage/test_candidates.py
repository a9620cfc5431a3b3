"""Candidate use cases: one transaction each, audited, rules enforced, concurrent moves."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from documents import summary as render
from domain.errors import InvalidInput, NotAllowed, StaleAction
from domain.i18n import translator
from domain.rules.candidates import (
    RULE_SOURCE_STALE_FILE,
    CandidateClosed,
    RuleViolated,
    check_decision_deadline,
    check_full_membership_deadline,
)
from domain.rules.deadlines import WorkCalendar
from domain.rules.periods import parse_period
from domain.vocab import CandidateStage as S
from domain.vocab import Gender, IntroducerForm, PriorityGroup
from services.calendar import default_catalog
from storage import candidates as cs
from storage import enterprises as es
from storage import obligations as ob
from storage import summary as store
from storage.candidates_summary import pipeline
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo, seed_pipeline
from storage.models import (
    AuditLog,
    Candidate,
    CandidateConsideration,
    CandidateEvent,
    Enterprise,
    Member,
    MemberStatus,
    Person,
    Role,
    RoleAssignment,
)
from storage.report_kinds import KINDS

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    with db.transaction() as s:
        return seed_demo(s, now=NOW)


def _person(khoi: DemoKhoi, key: str = "bt_bv") -> int:
    return khoi.users[key].person_id


def add(db: Database, khoi: DemoKhoi, name: str = "Lê Thị Mai", year: int = 1998, month: int = 3):
    pid, org = _person(khoi), khoi.orgs["CBBV-DK"]
    with db.transaction() as s:
        d = cs.start_add(s, person_id=pid, org_id=org, now=NOW)
        k = cs.conversation_key(d)
        cs.set_name(s, person_id=pid, draft_id=k, text=name, now=NOW)
        cs.set_gender(s, person_id=pid, draft_id=k, gender=Gender.FEMALE, now=NOW)
        cs.set_decade(s, person_id=pid, draft_id=k, decade=year // 10 * 10, now=NOW)
        cs.set_year(s, person_id=pid, draft_id=k, year=year, today=TODAY, now=NOW)
        d = cs.set_month(s, person_id=pid, draft_id=k, month=month, today=TODAY, now=NOW)
        if d.state == cs.State.DUPLICATE:
            return d
        cs.set_unit(s, person_id=pid, draft_id=k, index=0, now=NOW)
        cs.toggle_group(s, person_id=pid, draft_id=k, group=PriorityGroup.WORKER, now=NOW)
        return cs.save_candidate(s, person_id=pid, draft_id=k, today=TODAY, now=NOW)


def move(db, khoi, cid, target, *, day=TODAY, key="bt_bv", **steps):
    pid = _person(khoi, key)
    with db.transaction() as s:
        c = s.get(Candidate, cid)
        d = cs.start_move(
            s, person_id=pid, candidate_id=cid, version=c.version, target=target, now=NOW
        )
        k = cs.conversation_key(d)
    with db.transaction() as s:
        if d.state == cs.State.REASON:
            return cs.type_reason(
                s, person_id=pid, draft_id=k, text=steps["reason"], today=TODAY, now=NOW
            )
        if d.state == cs.State.FORM:
            cs.set_form(s, person_id=pid, draft_id=k, form=steps["form"], now=NOW)
            for m in steps["members"]:
                cs.toggle_introducer(s, person_id=pid, draft_id=k, member_id=m, now=NOW)
            return cs.confirm_introducers(s, person_id=pid, draft_id=k, today=TODAY, now=NOW)
        r = cs.set_step_date(s, person_id=pid, draft_id=k, day=day, today=TODAY, now=NOW)
        if isinstance(r, cs.Moved):
            return r
        if r.state == cs.State.VOTES:
            return cs.type_votes(
                s, person_id=pid, draft_id=k, text=steps["votes"], today=TODAY, now=NOW
            )
        if r.state == cs.State.RECEIVED:
            return cs.set_step_date(
                s, person_id=pid, draft_id=k, day=steps["received"], today=TODAY, now=NOW
            )
        return r


def full_ids(db, khoi) -> list[int]:
    with db.transaction() as s:
        return [i for i, _n in cs.introducer_choices(s, khoi.orgs["CBBV-DK"])]


def test_adding_a_candidate_is_one_audited_record(db: Database, khoi: DemoKhoi) -> None:
    added = add(db, khoi)
    with db.transaction() as s:
        c = s.get(Candidate, added.candidate_id)
        assert c.stage == "sympathizer" and c.birth_month == 3
        assert c.priority_groups == ["women", "worker"]  # women follows from the gender
        assert c.unit == "Bệnh viện Đa khoa tỉnh"
        assert (
            s.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.entity == "candidate")
            )
            == 1
        )


def test_a_namesake_born_the_same_month_is_asked_about(db: Database, khoi: DemoKhoi) -> None:
    add(db, khoi)
    d = add(db, khoi)
    assert d.state == cs.State.DUPLICATE
    assert add(db, khoi, month=4).name == "Lê Thị Mai"  # another month: no question


def test_birth_year_3000_is_refused(db: Database, khoi: DemoKhoi) -> None:
    pid = _person(khoi)
    with db.transaction() as s:
        d = cs.start_add(s, person_id=pid, org_id=khoi.orgs["CBBV-DK"], now=NOW)
        k = cs.conversation_key(d)
        cs.set_name(s, person_id=pid, draft_id=k, text="Trần Văn B", now=NOW)
        cs.set_gender(s, person_id=pid, draft_id=k, gender=Gender.MALE, now=NOW)
        with pytest.raises(RuleViolated) as err:
            cs.type_year(s, person_id=pid, draft_id=k, text="3000", today=TODAY, now=NOW)
        assert err.value.violation.code == "birth"


def test_a_proposal_without_the_awareness_class_is_refused(db: Database, khoi: DemoKhoi) -> None:
    cid = add(db, khoi).candidate_id
    pid = _person(khoi)
    with db.transaction() as s:
        d = cs.start_consider(s, person_id=pid, org_id=khoi.orgs["CBBV-DK"], now=NOW)
        with pytest.raises(RuleViolated) as err:
            cs.toggle_consider(
                s,
                person_id=pid,
                draft_id=cs.conversation_key(d),
                candidate_id=cid,
                what="prop",
                today=TODAY,
                now=NOW,
            )
    assert err.value.violation.code == "no_certificate"


def test_the_consideration_is_recorded_once_a_month(db: Database, khoi: DemoKhoi) -> None:
    cid = add(db, khoi).candidate_id
    pid, org = _person(khoi), khoi.orgs["CBBV-DK"]
    for _ in range(2):
        with db.transaction() as s:
            d = cs.start_consider(s, person_id=pid, org_id=org, now=NOW)
            k = cs.conversation_key(d)
            cs.toggle_consider(
                s, person_id=pid, draft_id=k, candidate_id=cid, what="cls", today=TODAY, now=NOW
            )
            done = cs.record_consider(s, person_id=pid, draft_id=k, today=TODAY, now=NOW)
    assert done.to_class == 1 and not done.first
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(CandidateConsideration)) == 1
        assert s.get(Candidate, cid).class_planned_on == TODAY


def test_only_the_cells_writers_manage_its_list(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as s, pytest.raises(NotAllowed):
        cs.start_add(s, person_id=_person(khoi, "bt_vp"), org_id=khoi.orgs["CBBV-DK"], now=NOW)


def test_a_file_from_sympathizer_to_full_member(db: Database, khoi: DemoKhoi, clock) -> None:
    cid = add(db, khoi).candidate_id
    members = full_ids(db, khoi)
    move(db, khoi, cid, S.CLASS_DONE, day=date(2026, 1, 10))
    move(db, khoi, cid, S.MENTORS, form=IntroducerForm.TWO_MEMBERS, members=members[:2])
    move(db, khoi, cid, S.APPLICATION)
    move(db, khoi, cid, S.BACKGROUND_CHECK)
    with pytest.raises(RuleViolated) as err:
        move(db, khoi, cid, S.CELL_RESOLUTION, votes="30/20")
    assert err.value.violation.code == "votes_impossible"
    moved = move(db, khoi, cid, S.CELL_RESOLUTION, votes="18")
    assert moved.deadline is not None and moved.deadline.what == "decision"
    moved = move(db, khoi, cid, S.DECISION, received=TODAY)
    assert moved.deadline.what == "ceremony"
    moved = move(db, khoi, cid, S.PROBATION)
    assert moved.member_id is not None
    with db.transaction() as s:
        m = s.get(Member, moved.member_id)
        assert m.status is MemberStatus.PROBATIONARY and m.ceremony_on == TODAY
        assert m.probation_end_on == date(2027, 11, 16)
    with pytest.raises(RuleViolated):
        move(db, khoi, cid, S.FULL_MEMBER)  # probation still running
    with db.transaction() as s:
        events = s.scalars(select(CandidateEvent).where(CandidateEvent.candidate_id == cid)).all()
        assert [e.action for e in events][:2] == ["add", "forward"]
        assert all(e.actor_person_id == _person(khoi) for e in events)


def test_going_back_needs_a_reason_and_a_candidate_who_left_cannot_move(
    db: Database, khoi: DemoKhoi
) -> None:
    cid = add(db, khoi).candidate_id
    move(db, khoi, cid, S.CLASS_DONE)
    moved = move(db, khoi, cid, S.SYMPATHIZER, reason="certificate lost")
    assert moved.stage is S.SYMPATHIZER
    move(db, khoi, cid, S.WITHDRAWN, reason="moved away")
    with db.transaction() as s, pytest.raises(CandidateClosed):
        cs.start_move(
            s,
            person_id=_person(khoi),
            candidate_id=cid,
            version=s.get(Candidate, cid).version,
            target=S.CLASS_DONE,
            now=NOW,
        )


def test_two_secretaries_move_the_same_candidate_one_wins(db: Database, khoi: DemoKhoi) -> None:
    cid = add(db, khoi).candidate_id
    # A deputy of the same cell opens the same move at the same time.
    with db.transaction() as s:
        p = Person(display_name="Phó bí thư", created_at=NOW)
        s.add(p)
        s.flush()
        s.add(
            RoleAssignment(
                person_id=p.id,
                org_id=khoi.orgs["CBBV-DK"],
                role=Role.DEPUTY,
                granted_at=NOW,
                granted_by="t",
            )
        )
        deputy = p.id
    a, b = _person(khoi), deputy
    with db.transaction() as s:
        ka = cs.conversation_key(
            cs.start_move(
                s, person_id=a, candidate_id=cid, version=1, target=S.CLASS_DONE, now=NOW
            )
        )
        kb = cs.conversation_key(
            cs.start_move(
                s, person_id=b, candidate_id=cid, version=1, target=S.CLASS_DONE, now=NOW
            )
        )
    with db.transaction() as s:
        assert isinstance(
            cs.set_step_date(s, person_id=a, draft_id=ka, day=TODAY, today=TODAY, now=NOW),
            cs.Moved,
        )
    with db.transaction() as s, pytest.raises(cs.ConcurrentChange):
        cs.set_step_date(s, person_id=b, draft_id=kb, day=TODAY, today=TODAY, now=NOW)
    with db.transaction() as s:
        assert s.get(Candidate, cid).version == 2
        # A stale button of the old conversation does nothing.
        with pytest.raises(StaleAction):
            cs.set_step_date(s, person_id=a, draft_id=ka, day=TODAY, today=TODAY, now=NOW)


def test_an_enterprise_with_a_negative_workforce_is_refused(db: Database, khoi: DemoKhoi) -> None:
    pid = _person(khoi, "to_chuc")
    with db.transaction() as s, pytest.raises(InvalidInput):
        es.create(
            s,
            person_id=pid,
            name="Cty A",
            location="KCN Trà Nóc",
            workforce=-5,
            today=TODAY,
            now=NOW,
        )
    with db.transaction() as s:
        row = es.create(
            s,
            person_id=pid,
            name="Cty A",
            location="KCN Trà Nóc",
            workforce=120,
            members_elsewhere=2,
            today=TODAY,
            now=NOW,
        )
        row = es.advance(
            s,
            person_id=pid,
            enterprise_id=row.id,
            version=row.version,
            day=TODAY,
            today=TODAY,
            now=NOW,
        )
        with pytest.raises(InvalidInput):  # 2 members: conditions not met
            es.advance(
                s,
                person_id=pid,
                enterprise_id=row.id,
                version=row.version,
                day=TODAY,
                today=TODAY,
                now=NOW,
            )
        with pytest.raises(es.EnterpriseChanged):
            es.update_figures(
                s, person_id=pid, enterprise_id=row.id, version=1, day=TODAY, now=NOW, workforce=3
            )
        assert s.get(Enterprise, row.id).status.value == "working"
    with db.transaction() as s, pytest.raises(NotAllowed):
        es.listing(s, person_id=_person(khoi, "bt_bv"))


def test_the_demo_pipeline_and_its_deadlines(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as s:
        seed_pipeline(s, khoi, now=NOW)
    with db.transaction() as s:
        cells = [khoi.orgs[c] for c in ("CBVP-SYT", "CBBV-DK", "CBDIEN", "CBMEKONG")]
        p = pipeline(s, cells, today=TODAY, with_enterprises=True)
        assert p.enterprises == {"surveyed": 1, "working": 1, "conditions_met": 1, "founded": 1}
        assert p.by_committee["DBSYT"] == {
            "sympathizer": 1,
            "class_done": 1,
            "mentors": 1,
            "cell_resolution": 1,
        }
        assert p.groups_by_stage["probation"] == {"khmer": 1, "private_owner": 1}
        assert {o.what for o in p.overdue} == {"decision", "ceremony"}
        assert [x.name for x in p.lists["mentors"]] == ["Thạch Thị Sô Phia"]
        catalog = default_catalog()
        insts = ob.instances(
            s,
            catalog,
            WorkCalendar(),
            start=date(2026, 10, 1),
            end=date(2027, 2, 28),
            tz=TZ,
        )
        pipeline_insts = {
            (i.obligation, i.org_id)
            for i in insts
            if i.obligation.startswith("candidate_") and i.obligation != "candidate_consideration"
        }
        # The decision is owed by the grassroots committee above the cell; the ceremony by the
        # cell that received the decision.
        assert pipeline_insts == {
            ("candidate_decision", khoi.orgs["DBSYT"]),
            ("candidate_ceremony", khoi.orgs["CBDIEN"]),
        }
        dec = next(i for i in insts if i.obligation == "candidate_decision")
        who = ob.recipients(s, catalog, [dec], ob.org_rows(s))
        assert [r.person_id for r in who[dec.key]] == [khoi.users["bt_syt"].person_id]
        assert ob.period_of_instance(dec) is None


def test_a_late_ceremony_needs_a_recorded_approval(db: Database, khoi: DemoKhoi) -> None:
    cid = add(db, khoi).candidate_id
    with db.transaction() as s:  # a file recorded up to the decision, received on 4/8
        c = s.get(Candidate, cid)
        c.stage, c.stage_since = "decision", date(2026, 8, 4)
        c.certificate_on, c.resolution_on = date(2026, 1, 10), date(2026, 7, 3)
        c.decision_on = c.received_on = date(2026, 8, 4)
    pid = _person(khoi)
    draft = move(db, khoi, cid, S.PROBATION, day=TODAY)  # > 30 working days after 4/8
    assert draft.state == cs.State.APPROVAL
    with db.transaction() as s:
        assert s.get(Candidate, cid).stage == "decision"
        moved = cs.record_approval(
            s, person_id=pid, draft_id=cs.conversation_key(draft), today=TODAY, now=NOW
        )
    assert isinstance(moved, cs.Moved) and moved.stage is S.PROBATION
    with db.transaction() as s:
        assert s.get(Candidate, cid).approvals == [cs.APPROVAL_LATE_CEREMONY]


def _at(db, cid: int, stage: str, **dates: date) -> None:
    with db.transaction() as s:
        c = s.get(Candidate, cid)
        c.stage, c.stage_since = stage, max(dates.values())
        c.certificate_on = date(2025, 1, 10)
        for key, value in dates.items():
            setattr(c, key, value)


def test_a_decision_after_60_working_days_needs_the_extension_recorded(
    db: Database, khoi: DemoKhoi
) -> None:
    """Resolution 3/7/2026: due 25/9 (60 working days, 2/9 holidays off); extended, 6/11."""
    cid = add(db, khoi).candidate_id
    _at(db, cid, "cell_resolution", resolution_on=date(2026, 7, 3))
    pid = _person(khoi)
    draft = move(db, khoi, cid, S.DECISION, day=date(2026, 10, 5), received=date(2026, 10, 6))
    assert draft.state == cs.State.APPROVAL
    assert draft.data["pending_approval"] == cs.APPROVAL_DECISION_EXTENDED
    with db.transaction() as s:
        assert s.get(Candidate, cid).stage == "cell_resolution"  # nothing written yet
        moved = cs.record_approval(
            s, person_id=pid, draft_id=cs.conversation_key(draft), today=TODAY, now=NOW
        )
    assert isinstance(moved, cs.Moved) and moved.stage is S.DECISION and not moved.late
    with db.transaction() as s:
        c = s.get(Candidate, cid)
        assert c.decision_extended and c.approvals == [cs.APPROVAL_DECISION_EXTENDED]


def test_a_decision_after_the_extended_deadline_is_recorded_only_as_an_acknowledged_breach(
    db: Database, khoi: DemoKhoi
) -> None:
    """Resolution 1/6/2026: 90 working days end on 9/10/2026; the decision is of 2/11/2026."""
    cid = add(db, khoi).candidate_id
    _at(db, cid, "cell_resolution", resolution_on=date(2026, 6, 1))
    v = check_decision_deadline(date(2026, 6, 1), date(2026, 11, 2), WorkCalendar(), extended=True)
    assert v is not None and v.code == "decision_too_late" and v.waivable
    assert "294-QĐ/TW" in v.rule_source and v.params["days"] == 60 and v.params["extra"] == 30
    cell = khoi.orgs["CBBV-DK"]
    pid = _person(khoi)
    draft = move(db, khoi, cid, S.DECISION, day=date(2026, 11, 2), received=date(2026, 11, 3))
    # Not written, not refused: the secretary is asked to acknowledge the breach.
    assert draft.state == cs.State.APPROVAL
    assert draft.data["pending_approval"] == cs.APPROVAL_DECISION_BREACHED
    with db.transaction() as s:
        assert s.get(Candidate, cid).stage == "cell_resolution"
        before = [o for o in pipeline(s, [cell], today=TODAY).overdue if o.candidate_id == cid]
        assert [o.what for o in before] == ["decision"]
        moved = cs.record_approval(
            s, person_id=pid, draft_id=cs.conversation_key(draft), today=TODAY, now=NOW
        )
    assert isinstance(moved, cs.Moved) and moved.stage is S.DECISION and moved.late
    with db.transaction() as s:
        c = s.get(Candidate, cid)
        assert c.decision_on == date(2026, 11, 2)
        assert c.approvals == [cs.APPROVAL_DECISION_BREACHED]
        (audit,) = s.scalars(
            select(AuditLog).where(
                AuditLog.entity == "candidate",
                AuditLog.entity_id == str(cid),
                AuditLog.action == "acknowledge_violation",
            )
        ).all()
        assert audit.after["violation"] == "decision_too_late"
        assert "294-QĐ/TW" in audit.after["rule_source"]
        assert audit.actor_person_id == pid
        # The leaders' overdue view keeps it flagged: recorded 24 days after the last day.
        (flag,) = [o for o in pipeline(s, [cell], today=TODAY).overdue if o.candidate_id == cid]
    due = date.fromisoformat(draft.data["params"]["due"])
    assert due < date(2026, 11, 2)
    assert (flag.what, flag.due, flag.days) == (
        "decision_breached",
        due,
        (date(2026, 11, 2) - due).days,
    )


def test_full_membership_considered_late_needs_the_superiors_approval(
    db: Database, khoi: DemoKhoi
) -> None:
    """Ceremony 3/9/2025: probation ends 3/9/2026, the cell considers by 15/10/2026."""
    cid = add(db, khoi).candidate_id
    _at(
        db,
        cid,
        "probation",
        resolution_on=date(2025, 6, 2),
        decision_on=date(2025, 7, 1),
        received_on=date(2025, 7, 1),
        ceremony_on=date(2025, 9, 3),
    )
    pid = _person(khoi)
    # Within the 30 working days: no question asked (checked without writing).
    with db.transaction() as s:
        cal = cs.work_calendar(s)
    assert check_full_membership_deadline(date(2026, 9, 3), date(2026, 10, 15), cal) is None
    draft = move(db, khoi, cid, S.FULL_MEMBER, day=date(2026, 11, 2))
    assert draft.state == cs.State.APPROVAL
    assert draft.data["pending_approval"] == cs.APPROVAL_LATE_FULL
    with db.transaction() as s:
        moved = cs.record_approval(
            s, person_id=pid, draft_id=cs.conversation_key(draft), today=TODAY, now=NOW
        )
    assert isinstance(moved, cs.Moved) and moved.stage is S.FULL_MEMBER


def test_a_file_left_unconsidered_over_12_months_must_redo_its_introductions(
    db: Database, khoi: DemoKhoi
) -> None:
    cid = add(db, khoi).candidate_id
    members = full_ids(db, khoi)
    move(db, khoi, cid, S.CLASS_DONE, day=date(2025, 6, 10))
    move(db, khoi, cid, S.MENTORS, form=IntroducerForm.TWO_MEMBERS, members=members[:2])
    with db.transaction() as s:  # the introducers were recorded on 1/9/2025
        event = s.scalars(
            select(CandidateEvent).where(
                CandidateEvent.candidate_id == cid, CandidateEvent.stage == "mentors"
            )
        ).one()
        event.happened_on = date(2025, 9, 1)
    move(db, khoi, cid, S.APPLICATION)
    move(db, khoi, cid, S.BACKGROUND_CHECK)
    with pytest.raises(RuleViolated) as err:
        move(db, khoi, cid, S.CELL_RESOLUTION, votes="18")
    v = err.value.violation
    assert v.code == "file_stale" and v.params["date"] == date(2025, 9, 1)
    assert v.rule_source == RULE_SOURCE_STALE_FILE and "12 tháng" in v.rule_source
    # One action on the card: redo the introductions, the file staying where it is.
    pid = _person(khoi)
    with db.transaction() as s:
        card = cs.card(s, person_id=pid, candidate_id=cid, today=TODAY)
        assert card.introductions_stale and card.stage is S.BACKGROUND_CHECK
        # Not yet stale on 1/9/2026 (12 months to the day): no redo offered then.
        assert not cs.introductions_stale(s, s.get(Candidate, cid), date(2026, 9, 1))
        assert cs.introductions_stale(s, s.get(Candidate, cid), date(2026, 9, 2))
        d = cs.start_redo_introductions(
            s, person_id=pid, candidate_id=cid, version=card.version, today=TODAY, now=NOW
        )
        k = cs.conversation_key(d)
        assert d.state == cs.State.FORM
    with db.transaction() as s:
        # The same introducer rules as the first time: one full member is not two.
        cs.set_form(s, person_id=pid, draft_id=k, form=IntroducerForm.TWO_MEMBERS, now=NOW)
        cs.toggle_introducer(s, person_id=pid, draft_id=k, member_id=members[2], now=NOW)
    with pytest.raises(RuleViolated), db.transaction() as s:
        cs.confirm_introducers(s, person_id=pid, draft_id=k, today=TODAY, now=NOW)
    with db.transaction() as s:
        cs.toggle_introducer(s, person_id=pid, draft_id=k, member_id=members[3], now=NOW)
        redone = cs.confirm_introducers(s, person_id=pid, draft_id=k, today=TODAY, now=NOW)
    assert isinstance(redone, cs.Moved) and redone.redone and redone.stage is S.BACKGROUND_CHECK
    with db.transaction() as s:
        c = s.get(Candidate, cid)
        assert c.stage == "background_check" and c.introducers == members[2:4]
        assert cs.introduced_on(s, cid) == TODAY
        assert not cs.card(s, person_id=pid, candidate_id=cid, today=TODAY).introductions_stale
        (audit,) = s.scalars(
            select(AuditLog).where(
                AuditLog.entity_id == str(cid), AuditLog.action == "redo_introductions"
            )
        ).all()
        assert audit.before["introducers"] == members[:2]
        assert audit.after["introducers"] == members[2:4]
        assert audit.actor_person_id == pid
        # The redo button, pressed again now that the introductions are fresh, is stale.
        with pytest.raises(StaleAction):
            cs.start_redo_introductions(
                s, person_id=pid, candidate_id=cid, version=c.version, today=TODAY, now=NOW
            )
    moved = move(db, khoi, cid, S.CELL_RESOLUTION, votes="18")
    assert moved.stage is S.CELL_RESOLUTION


def test_the_files_carry_the_pipeline(db: Database, khoi: DemoKhoi) -> None:
    with db.transaction() as s:
        seed_pipeline(s, khoi, now=NOW)
    with db.transaction() as s:
        scope = store.scope_under(s, {khoi.top_id}, on=TODAY)
        summ = store.build_summary(
            s,
            scope=scope,
            subject=store.Subject(),
            period=parse_period("2026"),
            today=TODAY,
            kinds=KINDS.values(),
        )
        meta = store.document_meta(s, summ, scope)
    vi = translator("vi")
    wb = load_workbook(BytesIO(render.to_xlsx(summ, vi)))
    sheet = wb["Phát triển đảng viên"]
    cells = {c.value for row in sheet.iter_rows() for c in row}
    assert "Thạch Thị Sô Phia" in cells and "CBMEKONG" in cells
    doc = Document(BytesIO(render.to_docx(summ, vi, meta)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "PHÁT TRIỂN ĐẢNG VIÊN" in text.upper()
    assert "Doanh nghiệp ngoài nhà nước theo tình trạng" in text
    assert "Bước kết nạp quá hạn: 2." in text
