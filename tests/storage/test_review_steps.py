"""The step use cases of /review, /commitments and the report's typed steps, without Telegram:
one transaction each, a stale key or state refused, the writer checked from the database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from domain.errors import InvalidInput, NotAllowed, StaleAction
from storage import drafts, report_steps
from storage import review_steps as steps
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.models import Member, Review, ReviewOutcome, RoleAssignment, SignGroup

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)
ACTOR = Actor("Huỳnh Văn Tâm", None)


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    with db.transaction() as session:
        return seed_demo(session, now=NOW)


def start(db: Database, khoi: DemoKhoi) -> tuple[int, int, int]:
    person = khoi.users["bt_bv"].person_id
    org = khoi.orgs["CBBV-DK"]
    with db.transaction() as s:
        draft = steps.start_review(
            s, person_id=person, org_id=org, year=2026, month=11, actor=ACTOR, today=TODAY, now=NOW
        )
        return person, org, drafts.key(draft)


def first_member(db: Database, org: int) -> int:
    with db.transaction() as s:
        return s.scalars(select(Member.id).where(Member.org_id == org).order_by(Member.id)).first()


def test_a_new_sign_is_picked_from_the_list_step_by_step_refusing_a_stale_key(
    db: Database, khoi: DemoKhoi
) -> None:
    person, org, key = start(db, khoi)
    member = first_member(db, org)
    with db.transaction() as s:
        steps.set_outcome(
            s,
            person_id=person,
            key=key,
            member_id=member,
            outcome=None,
            actor=ACTOR,
            today=TODAY,
            now=NOW,
        )
    with pytest.raises(StaleAction), db.transaction() as s:
        steps.set_group(
            s, person_id=person, key=key + 1, member_id=member, group=SignGroup.ETHICS, now=NOW
        )
    with db.transaction() as s:
        steps.set_group(
            s, person_id=person, key=key, member_id=member, group=SignGroup.ETHICS, now=NOW
        )
    with pytest.raises(StaleAction), db.transaction() as s:  # an older key
        steps.set_sign(s, person_id=person, key=key + 1, member_id=member, code="DD9", now=NOW)
    with pytest.raises(StaleAction), db.transaction() as s:  # a sign of another group
        steps.set_sign(s, person_id=person, key=key, member_id=member, code="TT1", now=NOW)
    with pytest.raises(StaleAction), db.transaction() as s:  # not a sign in force
        steps.set_sign(s, person_id=person, key=key, member_id=member, code="DD0", now=NOW)
    with db.transaction() as s:
        draft = steps.set_sign(s, person_id=person, key=key, member_id=member, code="DD9", now=NOW)
        assert draft.state == steps.ReviewState.MEASURE
    with pytest.raises(StaleAction), db.transaction() as s:  # not at the description step
        steps.set_description(s, person_id=person, key=key, text="x", now=NOW)
    with pytest.raises(InvalidInput), db.transaction() as s:  # too long: refused, not cut
        steps.set_measure(
            s, person_id=person, key=key, text="x" * 501, actor=ACTOR, today=TODAY, now=NOW
        )
    with db.transaction() as s:
        draft = steps.set_measure(
            s, person_id=person, key=key, text="Nhắc nhở", actor=ACTOR, today=TODAY, now=NOW
        )
        assert draft.state == steps.ReviewState.BOARD and draft.data.get("sign") is None
        review = s.scalars(select(Review).where(Review.member_id == member)).one()
        assert (review.outcome, review.sign_group, review.sign_code, review.description) == (
            ReviewOutcome.NEW_SIGN,
            SignGroup.ETHICS,
            "DD9",
            None,
        )
        assert review.measure == "Nhắc nhở"


def test_a_revoked_secretary_cannot_take_the_next_step(db: Database, khoi: DemoKhoi) -> None:
    person, _org, key = start(db, khoi)
    with db.transaction() as s:
        for role in s.scalars(select(RoleAssignment).where(RoleAssignment.person_id == person)):
            role.revoked_at = NOW
    with pytest.raises(NotAllowed), db.transaction() as s:
        steps.everyone_progressing(s, person_id=person, key=key, actor=ACTOR, today=TODAY, now=NOW)


def test_a_report_step_refuses_a_reason_over_the_limit(db: Database, khoi: DemoKhoi) -> None:
    person, org = khoi.users["bt_bv"].person_id, khoi.orgs["CBBV-DK"]
    with db.transaction() as s:
        draft = report_steps.start(
            s,
            person_id=person,
            org_id=org,
            kind="remedy_quarterly",
            period="2026-Q4",
            step=report_steps.ReportStep.REASON,
            now=NOW,
        )
        key = drafts.key(draft)
    with pytest.raises(StaleAction), db.transaction() as s:
        report_steps.save_assessment(
            s, person_id=person, key=key, text="x", actor=ACTOR, today=TODAY, now=NOW
        )
    with db.transaction() as s:
        assert drafts.get(s, person) is not None  # the refused step changed nothing
