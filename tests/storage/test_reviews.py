"""Commitments and monthly reviews in the database: boards, corrections, the watch list."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from domain.errors import InvalidInput, NotInScope
from domain.rules.reviews import NotReviewable
from storage import reviews
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.models import (
    AuditLog,
    Commitment,
    Flag,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Review,
    ReviewOutcome,
    SignGroup,
)

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)
ACTOR = Actor("Huỳnh Văn Tâm", None)
P, N, S = ReviewOutcome.PROGRESSING, ReviewOutcome.NO_CHANGE, ReviewOutcome.NEW_SIGN


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    with db.transaction() as session:
        return seed_demo(session, now=NOW)


def add_meeting(db: Database, org_id: int, held_on: date, kind=MeetingKind.REGULAR) -> int:
    """Insert a recorded meeting directly (the meetings feature is built elsewhere)."""
    with db.transaction() as session:
        meeting = Meeting(
            org_id=org_id,
            kind=kind,
            held_on=held_on,
            regular_key=f"{org_id}:{held_on:%Y-%m}" if kind.counts_as_regular else None,
            content={},
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(meeting)
        session.flush()
        return meeting.id


def cell_members(db: Database, org_id: int) -> list[Member]:
    with db.transaction() as session:
        return list(session.scalars(select(Member).where(Member.org_id == org_id)))


def review(db: Database, org_id: int, member_id: int, ym: tuple[int, int], outcome, **kw) -> bool:
    with db.transaction() as session:
        return reviews.record_review(
            session,
            org_id=org_id,
            member_id=member_id,
            year=ym[0],
            month=ym[1],
            outcome=outcome,
            actor=ACTOR,
            now=NOW,
            today=TODAY,
            **kw,
        )


def audit_count(db: Database, entity: str) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).where(AuditLog.entity == entity)) or 0


def test_the_board_lists_full_and_probationary_members_and_the_exempt_apart(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    with db.transaction() as session:
        board = reviews.month_board(session, org_id=cell, year=2026, month=11)
    assert len(board.members) == 24
    assert [line.reason for line in board.apart] == [NotReviewable.EXEMPT]
    assert {m.status for m in board.members} == {MemberStatus.FULL, MemberStatus.PROBATIONARY}
    assert board.meeting is None and board.reviewed == 0


def test_a_review_links_to_the_months_meeting_and_a_repeat_is_a_no_op(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    member = next(m for m in cell_members(db, cell) if m.status is MemberStatus.FULL)
    meeting_id = add_meeting(db, cell, date(2026, 11, 10))
    assert review(db, cell, member.id, (2026, 11), P)
    assert not review(db, cell, member.id, (2026, 11), P)  # double tap
    assert audit_count(db, "review") == 1
    with db.transaction() as session:
        board = reviews.month_board(session, org_id=cell, year=2026, month=11)
    assert board.meeting is not None and board.meeting.id == meeting_id
    line = board.line(member.id)
    assert line is not None and line.review is not None
    assert line.review.meeting_id == meeting_id


def test_a_review_without_a_meeting_is_kept_and_linked_when_the_meeting_is_recorded(
    db, khoi
) -> None:
    cell = khoi.orgs["CBBV-DK"]
    first, second = [m for m in cell_members(db, cell) if m.status is MemberStatus.FULL][:2]
    review(db, cell, first.id, (2026, 11), P)
    meeting_id = add_meeting(db, cell, date(2026, 11, 12))
    review(db, cell, second.id, (2026, 11), N)
    with db.transaction() as session:
        linked = session.scalars(
            select(Review.meeting_id).where(Review.org_id == cell, Review.month == 11)
        ).all()
    assert linked == [meeting_id, meeting_id]


def test_a_review_can_be_corrected_with_before_and_after_audited(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    member = cell_members(db, cell)[0]
    review(
        db,
        cell,
        member.id,
        (2026, 11),
        S,
        sign_group=SignGroup.ETHICS,
        description="Đi làm muộn nhiều lần",
        measure="Chi ủy nhắc nhở, theo dõi",
    )
    review(db, cell, member.id, (2026, 11), N)
    with db.transaction() as session:
        row = session.scalar(select(Review).where(Review.member_id == member.id))
        assert row is not None
        assert (row.outcome, row.sign_group, row.description) == (N, None, None)
        update = session.scalar(
            select(AuditLog).where(AuditLog.entity == "review", AuditLog.action == "update")
        )
        assert update is not None and update.before is not None and update.after is not None
        assert update.before["outcome"] == "new_sign" and update.after["outcome"] == "no_change"


def test_bad_reviews_are_refused(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    members = cell_members(db, cell)
    member = members[0]
    with pytest.raises(InvalidInput):  # a month in the future
        review(db, cell, member.id, (2026, 12), P)
    with pytest.raises(InvalidInput):  # a new sign with an empty description
        review(
            db,
            cell,
            member.id,
            (2026, 11),
            S,
            sign_group=SignGroup.POLITICAL,
            description="  ",
            measure="Nhắc nhở",
        )
    exempt = next(m for m in members if m.status is MemberStatus.EXEMPT)
    with pytest.raises(InvalidInput):
        review(db, cell, exempt.id, (2026, 11), P)
    other_cell_member = cell_members(db, khoi.orgs["CBDIEN"])[0]
    with pytest.raises(NotInScope):
        review(db, cell, other_cell_member.id, (2026, 11), P)
    assert audit_count(db, "review") == 0


def test_members_who_joined_or_left_mid_year_are_reviewed_only_while_on_the_roll(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    members = [m for m in cell_members(db, cell) if m.status is MemberStatus.FULL]
    newcomer, leaver = members[0], members[1]
    with db.transaction() as session:
        session.get(Member, newcomer.id).admitted_on = date(2026, 9, 15)
        gone = session.get(Member, leaver.id)
        gone.status, gone.status_since = MemberStatus.TRANSFERRED, date(2026, 10, 5)
    with pytest.raises(InvalidInput):
        review(db, cell, newcomer.id, (2026, 8), P)
    assert review(db, cell, newcomer.id, (2026, 9), P)
    assert review(db, cell, leaver.id, (2026, 10), P)
    with pytest.raises(InvalidInput):
        review(db, cell, leaver.id, (2026, 11), P)
    with db.transaction() as session:
        roll = reviews.roll_counts(session, org_id=cell, months=[(2026, 8), (2026, 9), (2026, 11)])
        october = reviews.month_board(session, org_id=cell, year=2026, month=10)
        november = reviews.month_board(session, org_id=cell, year=2026, month=11)
    # 24 reviewed members in the seed: the newcomer counts from September, the leaver to October.
    assert roll == {(2026, 8): 23, (2026, 9): 24, (2026, 11): 23}
    assert october.line(leaver.id) in october.members
    assert november.line(leaver.id) is None


def test_everyone_progressing_applies_to_members_not_yet_reviewed(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    members = [m for m in cell_members(db, cell) if m.status is not MemberStatus.EXEMPT]
    review(db, cell, members[0].id, (2026, 11), N)
    with db.transaction() as session:
        done = reviews.mark_all_progressing(
            session, org_id=cell, year=2026, month=11, actor=ACTOR, now=NOW, today=TODAY
        )
    assert done == 23
    with db.transaction() as session:
        again = reviews.mark_all_progressing(
            session, org_id=cell, year=2026, month=11, actor=ACTOR, now=NOW, today=TODAY
        )
        board = reviews.month_board(session, org_id=cell, year=2026, month=11)
    assert again == 0
    assert board.reviewed == 24 and board.count(N) == 1 and board.count(P) == 23


def test_comments_need_a_review_first(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    member = cell_members(db, cell)[0]
    with db.transaction() as session, pytest.raises(InvalidInput):
        reviews.set_comment(
            session,
            org_id=cell,
            member_id=member.id,
            year=2026,
            month=11,
            comment="Tốt",
            actor=ACTOR,
            now=NOW,
        )
    review(db, cell, member.id, (2026, 11), P)
    with db.transaction() as session:
        assert reviews.set_comment(
            session,
            org_id=cell,
            member_id=member.id,
            year=2026,
            month=11,
            comment=" Gương mẫu ",
            actor=ACTOR,
            now=NOW,
        )
        assert not reviews.set_comment(
            session,
            org_id=cell,
            member_id=member.id,
            year=2026,
            month=11,
            comment="Gương mẫu",
            actor=ACTOR,
            now=NOW,
        )
        assert session.scalar(select(Review.comment)) == "Gương mẫu"


def test_the_watch_list_keeps_a_member_until_a_later_review_says_progressing(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    a, b, c = [m for m in cell_members(db, cell) if m.status is MemberStatus.FULL][:3]
    sign = {
        "sign_group": SignGroup.SELF_EVOLUTION,
        "description": "Chia sẻ tin xấu độc",
        "measure": "Gỡ bài, viết kiểm điểm",
    }
    review(db, cell, a.id, (2026, 9), S, **sign)
    review(db, cell, a.id, (2026, 10), N)
    for month in (9, 10, 11):
        review(db, cell, b.id, (2026, month), N)
    review(db, cell, c.id, (2026, 9), N)
    review(db, cell, c.id, (2026, 10), N)
    with db.transaction() as session:
        watch = reviews.watch_list(session, cell_ids=[cell])
        as_of_sept = reviews.watch_list(session, cell_ids=[cell], as_of=(2026, 9))
    by_id = {w.member_id: w for w in watch}
    assert set(by_id) == {a.id, b.id}
    assert by_id[a.id].verdict.new_sign and by_id[a.id].sign_group is SignGroup.SELF_EVOLUTION
    assert by_id[a.id].measure == "Gỡ bài, viết kiểm điểm"
    assert by_id[b.id].verdict.months_without_progress == 3 and by_id[b.id].since == (2026, 9)
    assert [w.member_id for w in as_of_sept] == [a.id]
    review(db, cell, a.id, (2026, 11), P)
    with db.transaction() as session:
        assert {w.member_id for w in reviews.watch_list(session, cell_ids=[cell])} == {b.id}


def test_twelve_months_without_progress_raises_a_flag_and_progress_clears_it(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    member = next(m for m in cell_members(db, cell) if m.status is MemberStatus.FULL)
    months = [(2025, 12)] + [(2026, m) for m in range(1, 11)]
    for ym in months:
        review(db, cell, member.id, ym, N)
    with db.transaction() as session:
        assert session.scalar(select(func.count(Flag.id))) == 0
    review(db, cell, member.id, (2026, 11), N)
    with db.transaction() as session:
        flag = session.scalar(select(Flag))
        assert flag is not None and flag.kind == "no_progress" and flag.cleared_at is None
        assert flag.detail["months"] == 12 and flag.detail["since"] == "2025-12"
        watch = reviews.watch_list(session, cell_ids=[cell])
        assert watch[0].verdict.removal_ground
    review(db, cell, member.id, (2026, 11), N)  # no-op: no second flag
    review(db, cell, member.id, (2026, 11), P)
    with db.transaction() as session:
        flags = session.scalars(select(Flag)).all()
        assert len(flags) == 1 and flags[0].cleared_at is not None


def test_aggregates_for_reports(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    a, b = [m for m in cell_members(db, cell) if m.status is MemberStatus.FULL][:2]
    review(
        db,
        cell,
        a.id,
        (2026, 10),
        S,
        sign_group=SignGroup.ETHICS,
        description="Nhậu",
        measure="Cam kết bỏ",
    )
    review(db, cell, b.id, (2026, 10), N)
    review(db, cell, a.id, (2026, 11), P)
    review(db, cell, b.id, (2026, 11), P)
    months = [(2026, 10), (2026, 11)]
    with db.transaction() as session:
        counts = reviews.outcome_counts(session, cell_ids=[cell], months=months)
        signs = reviews.new_signs(session, org_id=cell, months=months)
        improved = reviews.improvements(session, org_id=cell, months=months)
        groups = reviews.sign_counts(session, cell_ids=[cell], months=months)
        only_nov = reviews.improvements(session, org_id=cell, months=[(2026, 11)])
        progress = reviews.review_progress(session, cell_ids=[cell], year=2026, month=11)
    assert counts[cell][(2026, 10)] == {S: 1, N: 1}
    assert counts[cell][(2026, 11)] == {P: 2}
    assert [(s.member_id, s.measure) for s in signs] == [(a.id, "Cam kết bỏ")]
    assert {(i.member_id, i.before) for i in improved} == {(a.id, S), (b.id, N)}
    assert len(only_nov) == 2  # the review before may fall outside the window
    assert groups[cell] == {SignGroup.ETHICS: 1}
    assert progress == {cell: 2}


# --- Commitments -------------------------------------------------------------------------------


def commit(db, cell, member_id, signed_on, year=2026) -> bool:
    with db.transaction() as session:
        return reviews.record_commitment(
            session,
            org_id=cell,
            member_id=member_id,
            year=year,
            signed_on=signed_on,
            actor=ACTOR,
            now=NOW,
            today=TODAY,
        )


def test_commitments_board_lists_who_still_lacks_one(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    members = cell_members(db, cell)
    assert commit(db, cell, members[0].id, date(2026, 1, 10))
    assert not commit(db, cell, members[0].id, date(2026, 1, 10))
    with db.transaction() as session:
        board = reviews.commitment_board(session, org_id=cell, year=2026)
        counts = reviews.commitment_counts(session, cell_ids=[cell], year=2026)
    assert len(board.lines) == 25  # exempt members keep a commitment too
    assert len(board.missing) == 24
    assert counts == {cell: (25, 1)}


def test_a_probationary_member_commits_but_not_before_admission(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    probationary = next(m for m in cell_members(db, cell) if m.status is MemberStatus.PROBATIONARY)
    with db.transaction() as session:
        session.get(Member, probationary.id).admitted_on = date(2026, 3, 2)
        session.get(Member, probationary.id).ceremony_on = date(2026, 3, 20)
    with pytest.raises(InvalidInput):
        commit(db, cell, probationary.id, date(2026, 1, 10))
    assert commit(db, cell, probationary.id, date(2026, 3, 25))


def test_all_signed_skips_members_the_rules_refuse(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    newcomer = cell_members(db, cell)[0]
    with db.transaction() as session:
        session.get(Member, newcomer.id).admitted_on = date(2026, 5, 1)
    with db.transaction() as session:
        done, skipped = reviews.mark_all_signed(
            session,
            org_id=cell,
            year=2026,
            signed_on=date(2026, 2, 1),
            actor=ACTOR,
            now=NOW,
            today=TODAY,
        )
    assert (done, skipped) == (24, 1)


def test_commitment_items_and_made_public(db, khoi) -> None:
    cell = khoi.orgs["CBBV-DK"]
    member = cell_members(db, cell)[0]
    kw = {"org_id": cell, "member_id": member.id, "year": 2026, "actor": ACTOR, "now": NOW}
    with db.transaction() as session, pytest.raises(InvalidInput):
        reviews.set_made_public(session, made_public=True, **kw)
    commit(db, cell, member.id, date(2026, 1, 10))
    with db.transaction() as session:
        assert reviews.add_commitment_item(session, sign_group=SignGroup.ETHICS, text=None, **kw)
        assert reviews.add_commitment_item(session, sign_group=None, text="Đi họp muộn", **kw)
        assert not reviews.add_commitment_item(session, sign_group=None, text="Đi họp muộn", **kw)
        assert reviews.set_made_public(session, made_public=True, **kw)
        assert not reviews.set_made_public(session, made_public=True, **kw)
    with db.transaction() as session:
        row = session.scalar(select(Commitment))
        assert row is not None and row.made_public
        assert row.items == [{"group": "ethics"}, {"text": "Đi họp muộn"}]
        assert reviews.clear_commitment_items(session, **kw)
        assert row.items == []
