"""Commitment reviews follow the membership history (DOMAIN.md, "Organizations and people"):
a member counts in a month where and as what they were on its first day
(domain.rules.membership)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from domain.errors import NotInScope
from domain.rules.membership import status_in_month
from domain.rules.reviews import NotReviewable
from storage import membership, reviews
from storage.db import Database
from storage.demo_seed import DemoKhoi
from storage.models import Member, MemberStatus, Organization
from tests.storage.test_reviews import ACTOR, NOW, TODAY, P, khoi, review

__all__ = ["khoi"]


def _member(db: Database, org_id: int, status: MemberStatus = MemberStatus.FULL) -> int:
    """A member of the cell admitted long ago, with ``status`` and no dated change."""
    with db.transaction() as s:
        member = s.scalars(
            select(Member).where(Member.org_id == org_id).order_by(Member.id)
        ).first()
        assert member is not None
        s.execute(
            update(Member)
            .where(Member.id == member.id)
            .values(
                status=status,
                status_since=None,
                admitted_on=date(2015, 3, 2),
                ceremony_on=date(2015, 3, 2),
            )
        )
        return member.id


def _board(db: Database, org_id: int, month: int) -> reviews.MonthBoard:
    with db.transaction() as s:
        return reviews.month_board(s, org_id=org_id, year=2026, month=month)


def _counts(db: Database, org_id: int, months: range) -> list[int]:
    with db.transaction() as s:
        got = reviews.roll_counts(s, org_id=org_id, months=[(2026, m) for m in months])
    return [got[(2026, m)] for m in months]


def test_a_member_transferred_on_15_june_is_reviewed_by_cell_a_through_june_then_by_b(
    db: Database, khoi: DemoKhoi
) -> None:
    a, b = khoi.orgs["CBVP-SYT"], khoi.orgs["CBBV-DK"]
    mid = _member(db, a)
    before_a, before_b = _counts(db, a, range(5, 9)), _counts(db, b, range(5, 9))
    with db.transaction() as s:
        member = s.get(Member, mid)
        assert member is not None
        membership.record_transfer(
            s,
            member=member,
            to_org_id=b,
            on=date(2026, 6, 15),
            source="test",
            actor=ACTOR,
            now=NOW,
        )
    on_board = {m: mid in {x.member_id for x in _board(db, a, m).members} for m in (5, 6, 7)}
    assert on_board == {5: True, 6: True, 7: False}
    on_b = {m: mid in {x.member_id for x in _board(db, b, m).members} for m in (5, 6, 7)}
    assert on_b == {5: False, 6: False, 7: True}
    # Cell A reviews the member for June; cell B may not (not its member on 01/06).
    assert review(db, a, mid, (2026, 6), P)
    with pytest.raises(NotInScope):
        review(db, b, mid, (2026, 6), P)
    assert review(db, b, mid, (2026, 7), P)
    # The counts move one member from A to B from July, not from June.
    assert _counts(db, a, range(5, 9)) == [
        n - (m >= 7) for n, m in zip(before_a, range(5, 9), strict=True)
    ]
    assert _counts(db, b, range(5, 9)) == [
        n + (m >= 7) for n, m in zip(before_b, range(5, 9), strict=True)
    ]


def test_an_exemption_from_15_june_counts_from_july_and_one_from_1_june_in_june(
    db: Database, khoi: DemoKhoi
) -> None:
    a = khoi.orgs["CBVP-SYT"]
    mid = _member(db, a)
    before = _counts(db, a, range(5, 9))
    with db.transaction() as s:
        member = s.get(Member, mid)
        assert member is not None
        membership.record_status(
            s,
            member=member,
            status=MemberStatus.EXEMPT,
            on=date(2026, 6, 15),
            source="test",
            now=NOW,
        )
    june, july = _board(db, a, 6), _board(db, a, 7)
    assert mid in {x.member_id for x in june.members}
    assert [x.reason for x in july.apart if x.member_id == mid] == [NotReviewable.EXEMPT]
    assert [x.status for x in june.members if x.member_id == mid] == [MemberStatus.FULL]
    assert _counts(db, a, range(5, 9)) == [
        n - (m >= 7) for n, m in zip(before, range(5, 9), strict=True)
    ]
    # Reviewed for June (exempt only from July), refused for July.
    assert review(db, a, mid, (2026, 6), P)
    with pytest.raises(Exception, match="exempt"):
        review(db, a, mid, (2026, 7), P)

    # The rule: dated on the 1st, the status counts that month.
    periods = [
        (MemberStatus.FULL, None, date(2026, 6, 1)),
        (MemberStatus.EXEMPT, date(2026, 6, 1), None),
    ]
    kw = {"current": MemberStatus.EXEMPT, "current_since": date(2026, 6, 1)}
    assert status_in_month(periods, 2026, 5, **kw) is MemberStatus.FULL
    assert status_in_month(periods, 2026, 6, **kw) is MemberStatus.EXEMPT


def test_probationary_to_full_on_10_march_counts_as_full_from_april(
    db: Database, khoi: DemoKhoi
) -> None:
    a = khoi.orgs["CBVP-SYT"]
    mid = _member(db, a, MemberStatus.PROBATIONARY)
    with db.transaction() as s:
        member = s.get(Member, mid)
        assert member is not None
        membership.record_status(
            s,
            member=member,
            status=MemberStatus.FULL,
            on=date(2026, 3, 10),
            source="test",
            now=NOW,
        )
    status = {
        m: [x.status for x in _board(db, a, m).members if x.member_id == mid] for m in (3, 4)
    }
    assert status == {3: [MemberStatus.PROBATIONARY], 4: [MemberStatus.FULL]}
    # Without a recorded history, the dated current status tells the same.
    kw = {"current": MemberStatus.FULL, "current_since": date(2026, 3, 10)}
    assert status_in_month([], 2026, 3, **kw) is MemberStatus.PROBATIONARY
    assert status_in_month([], 2026, 4, **kw) is MemberStatus.FULL


def test_a_member_removed_on_20_may_is_reviewed_in_may_and_gone_from_june(
    db: Database, khoi: DemoKhoi
) -> None:
    a = khoi.orgs["CBVP-SYT"]
    mid = _member(db, a)
    with db.transaction() as s:
        member = s.get(Member, mid)
        assert member is not None
        membership.record_status(
            s,
            member=member,
            status=MemberStatus.REMOVED,
            on=date(2026, 5, 20),
            source="test",
            now=NOW,
        )
    assert mid in {x.member_id for x in _board(db, a, 5).members}
    june = _board(db, a, 6)
    assert mid not in {x.member_id for x in (*june.members, *june.apart)}
    assert TODAY.year == 2026


def test_the_monthly_review_obligation_asks_for_the_months_roll_not_todays(
    db: Database, khoi: DemoKhoi
) -> None:
    from zoneinfo import ZoneInfo

    from services import calendar
    from storage import obligations

    a, b = khoi.orgs["CBVP-SYT"], khoi.orgs["CBBV-DK"]
    mid = _member(db, a)
    with db.transaction() as s:
        # chibo followed the cell since January.
        s.execute(
            update(Organization)
            .where(Organization.id == a)
            .values(created_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
        member = s.get(Member, mid)
        assert member is not None
        membership.record_transfer(
            s,
            member=member,
            to_org_id=b,
            on=date(2026, 6, 15),
            source="test",
            actor=ACTOR,
            now=NOW,
        )
    june = [x.member_id for x in _board(db, a, 6).members]
    assert mid in june
    for other in june:
        if other != mid:
            review(db, a, other, (2026, 6), P)

    def june_review() -> obligations.Instance:
        with db.transaction() as s:
            catalog = calendar.current(s)
            owed = obligations.instances(
                s,
                catalog,
                calendar.work_calendar(s, catalog),
                start=date(2026, 6, 1),
                end=date(2026, 6, 30),
                tz=ZoneInfo("Asia/Ho_Chi_Minh"),
                org_ids=[a],
                include_done=True,
            )
        (item,) = [i for i in owed if i.obligation == "commitment_review"]
        return item

    # The member transferred out on 15/06 is still on cell A's June roll: one review missing.
    item = june_review()
    assert not item.done
    assert [m["n"] for m in item.missing if m["what"] == "reviews"] == [1]
    review(db, a, mid, (2026, 6), P)
    assert june_review().done
