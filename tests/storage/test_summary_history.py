"""The summary counts each member where and as what they were in each month (DOMAIN.md,
"Organizations and people"; the rule of domain.rules.membership: on the month's first day).

A member transferred on 15/06 counts in cell A through June and in cell B from July; an
exemption dated 15/05 counts from June; a probationary member made full on 10/03 counts as
probationary in March and as full from April."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from domain.rules.periods import parse_period
from storage import membership
from storage import reviews as review_store
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi
from storage.models import AttendanceStatus, Member, MemberStatus, Organization, OrgKind
from storage.report_kinds import KINDS
from storage.summary import (
    CellRow,
    Subject,
    Summary,
    build_summary,
    cell_rolls,
    cell_year,
    roll_counts,
    scope_under,
)
from tests.storage.test_summary import NOW, TODAY, Records, khoi

__all__ = ["khoi"]

ACTOR = Actor("Ban Tổ chức", None)
A, B = "CBVP-SYT", "CBBV-DK"


def _member(db: Database, org_id: int, status: MemberStatus = MemberStatus.FULL) -> int:
    """The cell's first member, admitted long ago, with ``status`` and no dated change."""
    with db.transaction() as s:
        mid = s.scalars(select(Member.id).where(Member.org_id == org_id).order_by(Member.code))
        member_id = mid.first()
        assert member_id is not None
        s.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(status=status, status_since=None, admitted_on=date(2015, 3, 2))
        )
        return member_id


def _summary(db: Database, period: str) -> Summary:
    """The whole Khối's summary of ``period`` as of TODAY (16/11/2026)."""
    with db.transaction() as s:
        top_id = s.scalar(select(Organization.id).where(Organization.kind == OrgKind.TOP))
        assert top_id is not None
        scope = scope_under(s, {top_id}, on=TODAY)
        return build_summary(
            s,
            scope=scope,
            subject=Subject(),
            period=parse_period(period),
            today=TODAY,
            kinds=KINDS.values(),
            now=NOW,
        )


def _row(s: Summary, cell_id: int) -> CellRow:
    row = s.cell(cell_id)
    assert row is not None
    return row


def _members(db: Database, khoi: DemoKhoi, period: str) -> dict[str, tuple[int, int, int]]:
    """Cell → (members, required members, reviews due) in the summary of ``period``."""
    s = _summary(db, period)
    out = {}
    for code in (A, B):
        row = s.cell(khoi.orgs[code])
        assert row is not None
        f = row.figures
        out[code] = (f.members, f.required_members, f.reviews_due)
    return out


def _transfer(db: Database, member_id: int, to: int, on: date) -> None:
    with db.transaction() as s:
        member = s.get(Member, member_id)
        assert member is not None
        membership.record_transfer(
            s, member=member, to_org_id=to, on=on, source="test", actor=ACTOR, now=NOW
        )


def _status(db: Database, member_id: int, status: MemberStatus, on: date) -> None:
    with db.transaction() as s:
        member = s.get(Member, member_id)
        assert member is not None
        membership.record_status(s, member=member, status=status, on=on, source="test", now=NOW)


def test_a_member_transferred_on_15_june_counts_in_a_through_june_and_in_b_from_july(
    db: Database, khoi: DemoKhoi
) -> None:
    a, b = khoi.orgs[A], khoi.orgs[B]
    mid = _member(db, a)
    months = ["2026-05", "2026-06", "2026-07", "2026-11"]
    before = {p: _members(db, khoi, p) for p in months}
    year_before = _summary(db, "2026")
    _transfer(db, mid, b, date(2026, 6, 15))
    after = {p: _members(db, khoi, p) for p in months}
    year_after = _summary(db, "2026")

    def moved(p: str, code: str) -> tuple[int, int]:
        return (after[p][code][0] - before[p][code][0], after[p][code][1] - before[p][code][1])

    # On the roll and required to attend: A through June, B from July (and in November).
    assert [moved(p, A) for p in months] == [(0, 0), (0, 0), (-1, -1), (-1, -1)]
    assert [moved(p, B) for p in months] == [(0, 0), (0, 0), (1, 1), (1, 1)]
    # The year's reviews due (as of 16/11): A keeps January–June, B owes July on.
    for code, sign in ((A, -1), (B, 1)):
        row, row_before = year_after.cell(khoi.orgs[code]), year_before.cell(khoi.orgs[code])
        assert row is not None and row_before is not None
        from_july = sum(1 for ym in row.months_due if ym >= (2026, 7))
        assert from_july >= 4
        assert row.figures.reviews_due - row_before.figures.reviews_due == sign * from_july
    with db.transaction() as s:
        got = roll_counts(s, [a, b], [(2026, m) for m in range(5, 9)])
    assert [got[a][(2026, m)] - got[a][(2026, 5)] for m in range(5, 9)] == [0, 0, -1, -1]
    assert [got[b][(2026, m)] - got[b][(2026, 5)] for m in range(5, 9)] == [0, 0, 1, 1]


def test_absences_before_a_transfer_are_flagged_where_the_member_was_at_the_period_s_end(
    db: Database, khoi: DemoKhoi
) -> None:
    a, b = khoi.orgs[A], khoi.orgs[B]
    mid = _member(db, a)
    with db.transaction() as s:
        r = Records(s, khoi.orgs)
        index = [m for m, _st in r.members(A)].index(mid)
        for month in (2, 3, 4):
            r.meeting(A, date(2026, month, 10), absent={index: AttendanceStatus.UNEXCUSED})
    _transfer(db, mid, b, date(2026, 6, 15))
    # April's summary: the member was in A on 01/04, flagged there.
    april = _summary(db, "2026-04")
    assert [(x.member_id, x.cell_id, x.months) for x in april.flagged] == [(mid, a, (2, 3, 4))]
    assert _row(april, a).figures.flagged == 1
    # The year's summary (as of 16/11): on 01/11 the member is in B, who must consider it.
    year = _summary(db, "2026")
    assert [(x.member_id, x.cell_id) for x in year.flagged] == [(mid, b)]
    assert _row(year, b).figures.flagged == 1
    assert _row(year, a).figures.flagged == 0
    # June: still in A on 01/06.
    june = _summary(db, "2026-06")
    assert [x.cell_id for x in june.flagged] == [a]


def test_an_exemption_from_15_may_counts_from_june(db: Database, khoi: DemoKhoi) -> None:
    a = khoi.orgs[A]
    mid = _member(db, a)
    months = ["2026-04", "2026-05", "2026-06", "2026-11"]
    before = {p: _members(db, khoi, p)[A] for p in months}
    _status(db, mid, MemberStatus.EXEMPT, date(2026, 5, 15))
    after = {p: _members(db, khoi, p)[A] for p in months}
    # Still on the roll every month; no longer required to attend nor reviewed from June.
    assert [after[p][0] - before[p][0] for p in months] == [0, 0, 0, 0]
    assert [after[p][1] - before[p][1] for p in months] == [0, 0, -1, -1]
    with db.transaction() as s:
        got = roll_counts(s, [a], [(2026, m) for m in (4, 5, 6, 7)])[a]
    assert [got[(2026, m)] - got[(2026, 4)] for m in (4, 5, 6, 7)] == [0, 0, -1, -1]


def test_an_exemption_dated_on_the_first_counts_that_month(db: Database, khoi: DemoKhoi) -> None:
    a = khoi.orgs[A]
    mid = _member(db, a)
    before = _members(db, khoi, "2026-06")[A]
    _status(db, mid, MemberStatus.EXEMPT, date(2026, 6, 1))
    after = _members(db, khoi, "2026-06")[A]
    assert (after[0] - before[0], after[1] - before[1]) == (0, -1)


def test_probationary_to_full_on_10_march_counts_as_probationary_in_march(
    db: Database, khoi: DemoKhoi
) -> None:
    a = khoi.orgs[A]
    mid = _member(db, a, MemberStatus.PROBATIONARY)

    def rolls() -> tuple[dict[int, dict[MemberStatus, int]], dict[int, dict[MemberStatus, int]]]:
        with db.transaction() as s:
            months = {m: cell_rolls(s, [a], [(2026, m)])[a].last for m in (3, 4)}
            scope = scope_under(s, {a}, on=TODAY)
            years = {
                y: cell_year(s, scope=scope, cell_id=a, year=y, today=TODAY, kinds=[]).members
                for y in (2025, 2026)
            }
        return months, years

    months_before, years_before = rolls()
    _status(db, mid, MemberStatus.FULL, date(2026, 3, 10))
    months_after, years_after = rolls()

    def moved(got: dict[MemberStatus, int], was: dict[MemberStatus, int]) -> tuple[int, int]:
        prob, full = MemberStatus.PROBATIONARY, MemberStatus.FULL
        return (got.get(prob, 0) - was.get(prob, 0), got.get(full, 0) - was.get(full, 0))

    assert moved(months_after[3], months_before[3]) == (0, 0)  # probationary on 01/03
    assert moved(months_after[4], months_before[4]) == (-1, 1)  # full on 01/04
    # One cell's year shows the roll of its last month counted: 2025 keeps the member
    # probationary, 2026 (to November) counts them full.
    assert moved(years_after[2025], years_before[2025]) == (0, 0)
    assert moved(years_after[2026], years_before[2026]) == (-1, 1)


def test_a_dated_status_without_history_reads_as_the_rule_says(
    db: Database, khoi: DemoKhoi
) -> None:
    """A member whose status carries a date but no recorded history (an import before the
    history existed): full since 10/03 was probationary before."""
    a = khoi.orgs[A]
    mid = _member(db, a, MemberStatus.PROBATIONARY)
    with db.transaction() as s:
        before = {m: cell_rolls(s, [a], [(2026, m)])[a].last for m in (3, 4)}
        s.execute(
            update(Member)
            .where(Member.id == mid)
            .values(status=MemberStatus.FULL, status_since=date(2026, 3, 10))
        )
    with db.transaction() as s:
        after = {m: cell_rolls(s, [a], [(2026, m)])[a].last for m in (3, 4)}
    assert after[3] == before[3]
    assert after[4].get(MemberStatus.FULL, 0) == before[4].get(MemberStatus.FULL, 0) + 1


def test_the_summary_roll_agrees_with_the_reviews_roll_through_the_history(
    db: Database, khoi: DemoKhoi
) -> None:
    """Transfers and dated statuses, recorded or not: the one-query roll of the summary and
    storage.reviews.roll_counts (one cell at a time) give the same months."""
    a, b = khoi.orgs[A], khoi.orgs[B]
    with db.transaction() as s:
        ids = list(
            s.scalars(select(Member.id).where(Member.org_id == a).order_by(Member.code).limit(5))
        )
        s.execute(update(Member).where(Member.id.in_(ids)).values(admitted_on=date(2015, 1, 1)))
    _transfer(db, ids[0], b, date(2026, 6, 15))
    _status(db, ids[1], MemberStatus.EXEMPT, date(2026, 5, 15))
    _status(db, ids[2], MemberStatus.REMOVED, date(2026, 8, 1))
    _transfer(db, ids[3], b, date(2026, 3, 1))
    _transfer(db, ids[3], a, date(2026, 9, 20))
    with db.transaction() as s:
        s.execute(
            update(Member)
            .where(Member.id == ids[4])
            .values(status=MemberStatus.EXEMPT, status_since=date(2026, 7, 15))
        )
    months = [(2026, m) for m in range(1, 13)]
    with db.transaction() as s:
        ours = roll_counts(s, [a, b], months)
        for cell in (a, b):
            assert ours[cell] == review_store.roll_counts(s, org_id=cell, months=months)
