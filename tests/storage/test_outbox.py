"""The outbox (idempotent enqueue, claims, the single-statement mark) and discharge queries."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text

from domain.calendar import CatalogError
from services.calendar import current, load_default, load_file, work_calendar
from storage import obligations as ob
from storage import outbox
from storage.audit import Actor
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.models import (
    CandidateConsideration,
    Meeting,
    MeetingKind,
    Member,
    MemberStatus,
    Person,
    Report,
    ReportStatus,
    Review,
    ReviewOutcome,
    RoleAssignment,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hanoi


@pytest.fixture
def khoi(db: Database) -> DemoKhoi:
    with db.transaction() as session:
        seeded = seed_demo(session, now=NOW)
        load_default(session, now=NOW)
    return seeded


def rows(person_id: int, n: int, prefix: str = "k") -> list[outbox.NewRow]:
    return [
        outbox.NewRow(
            f"{prefix}:{i}", person_id, "flag", {"msgid": "hello {i}", "params": {"i": i}}, NOW
        )
        for i in range(n)
    ]


# --- Enqueue and claims ------------------------------------------------------------------------


def test_enqueueing_the_same_key_twice_keeps_one_row(db: Database, khoi: DemoKhoi) -> None:
    pid = khoi.users["bt_vp"].person_id
    with db.transaction() as session:
        assert outbox.insert_ignore(session, rows(pid, 3), now=NOW) == 3
    with db.transaction() as session:
        assert outbox.insert_ignore(session, rows(pid, 4), now=NOW) == 1
        assert (
            outbox.enqueue(
                session, key="k:0", person_id=pid, kind="flag", payload={}, not_before=NOW, now=NOW
            )
            is False
        )
        assert outbox.count(session) == 4


def test_a_claim_is_exclusive_until_it_goes_stale(db: Database, khoi: DemoKhoi) -> None:
    pid = khoi.users["bt_vp"].person_id
    with db.transaction() as session:
        outbox.insert_ignore(session, rows(pid, 3), now=NOW)
    with db.transaction() as session:
        first = outbox.claim(session, worker="a", now=NOW, limit=2)
    with db.transaction() as session:
        second = outbox.claim(session, worker="b", now=NOW, limit=10)
    assert len(first) == 2 and len(second) == 1
    assert {r.id for r in first}.isdisjoint({r.id for r in second})
    assert first[0].chat_id == khoi.users["bt_vp"].telegram_user_id
    with db.transaction() as session:
        assert outbox.claim(session, worker="c", now=NOW + timedelta(minutes=9)) == []
        taken = outbox.claim(session, worker="c", now=NOW + timedelta(minutes=11))
    assert {r.id for r in taken} == {r.id for r in first} | {r.id for r in second}
    assert all(r.attempts == 2 for r in taken)


def test_a_row_not_yet_due_is_not_claimed(db: Database, khoi: DemoKhoi) -> None:
    pid = khoi.users["bt_vp"].person_id
    with db.transaction() as session:
        outbox.enqueue(
            session,
            key="later",
            person_id=pid,
            kind="flag",
            payload={},
            not_before=NOW + timedelta(hours=1),
            now=NOW,
        )
        assert outbox.claim(session, worker="a", now=NOW) == []
        assert len(outbox.claim(session, worker="a", now=NOW + timedelta(hours=1))) == 1


def test_marking_sent_is_one_statement(db: Database, khoi: DemoKhoi) -> None:
    pid = khoi.users["bt_vp"].person_id
    with db.transaction() as session:
        outbox.insert_ignore(session, rows(pid, 2), now=NOW)
        claimed = outbox.claim(session, worker="a", now=NOW)
    statements: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        with db.transaction() as session:
            changed = outbox.mark_sent(
                session, ids=[r.id for r in claimed], worker="a", message_id=7, now=NOW
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert changed == 2
    assert [s for s in statements if s not in ("BEGIN", "COMMIT")] == ["UPDATE"]
    with db.transaction() as session:
        assert outbox.stats(session)["sent"] == 2
        # A worker whose claim was taken over cannot mark it.
        assert (
            outbox.mark_sent(session, ids=[claimed[0].id], worker="b", message_id=8, now=NOW) == 0
        )


def test_release_backs_off_and_fails_after_the_last_attempt(db: Database, khoi: DemoKhoi) -> None:
    pid = khoi.users["bt_vp"].person_id
    with db.transaction() as session:
        outbox.insert_ignore(session, rows(pid, 1), now=NOW)
    at = NOW
    for attempt in range(1, 4):
        with db.transaction() as session:
            (row,) = outbox.claim(session, worker="a", now=at, max_attempts=3)
            assert row.attempts == attempt
            outbox.release(
                session,
                ids=[row.id],
                worker="a",
                not_before=at + timedelta(minutes=1),
                error="502",
                max_attempts=3,
            )
        at += timedelta(minutes=1)
    with db.transaction() as session:
        assert outbox.claim(session, worker="a", now=at) == []
        assert outbox.stats(session)["failed"] == 1


def test_blocking_stops_all_pending_rows_of_the_person(db: Database, khoi: DemoKhoi) -> None:
    pid = khoi.users["bt_vp"].person_id
    with db.transaction() as session:
        outbox.insert_ignore(session, rows(pid, 3), now=NOW)
        (row,) = outbox.claim(session, worker="a", now=NOW, limit=1)
        assert outbox.block(session, ids=[row.id], person_id=pid, worker="a", error="403", now=NOW)
        assert not outbox.block(session, ids=[], person_id=pid, worker="a", error="403", now=NOW)
    with db.transaction() as session:
        assert outbox.stats(session)["blocked"] == 3
        person = session.get(Person, pid)
        assert person is not None and person.blocked_at == NOW
        (gone,) = ob.unreachable(session)
        assert gone.person_id == pid and gone.reason == "blocked" and gone.undelivered == 3


def test_postgresql_claims_skip_rows_locked_by_another_process(
    db: Database, khoi: DemoKhoi
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serializes whole transactions)")
    pid = khoi.users["bt_vp"].person_id
    with db.transaction() as session:
        outbox.insert_ignore(session, rows(pid, 6), now=NOW)
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    holding = threading.Event()
    done = threading.Event()
    locked: list[int] = []

    def first_process() -> None:
        with other.transaction() as session:
            locked.extend(outbox.select_claimable(session, now=NOW, limit=3))
            holding.set()
            done.wait(10)  # keep the row locks while the second process claims

    thread = threading.Thread(target=first_process)
    thread.start()
    try:
        assert holding.wait(10)
        with db.transaction() as session:
            session.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting would be a bug
            claimed = outbox.claim(session, worker="b", now=NOW, limit=10)
    finally:
        done.set()
        thread.join()
        other.dispose()
    # Reminder rows of one person are claimed together, but these are "flag" rows.
    assert len(locked) == 3
    assert {r.id for r in claimed}.isdisjoint(locked)
    assert len(claimed) == 3


# --- The catalog in the database ---------------------------------------------------------------


def test_a_bad_catalog_file_changes_nothing(db: Database, khoi: DemoKhoi, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text_ = (Path(__file__).parents[2] / "domain" / "data" / "calendar.toml").read_text()
    bad.write_text(text_.replace("month = 3\nday = 20", "month = 3\nday = 31"), encoding="utf-8")
    with (
        pytest.raises(CatalogError, match="'remedy_quarterly': bad date rule: day 31"),
        db.transaction() as session,
    ):
        load_file(session, bad, actor=Actor("test"), now=NOW)
    with db.transaction() as session:
        remedy = current(session).get("remedy_quarterly")
        assert remedy is not None and remedy.due.day == 20


def test_loading_a_catalog_deactivates_what_it_drops(
    db: Database, khoi: DemoKhoi, tmp_path: Path
) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(
        """
[reminders]
days_before = [2]
[[obligation]]
code = "regular_meeting"
title_vi = "Sinh hoạt"
title_en = "Meeting"
rule_source = "Điều lệ Đảng"
every = "month"
day = 25
owed_by = ["cell", "grassroots_cell"]
remind = ["secretary"]
discharged_by = "regular_meeting"
""",
        encoding="utf-8",
    )
    with db.transaction() as session:
        result = load_file(session, mine, actor=Actor("test"), now=NOW)
    assert result.obligations == 1 and "remedy_annual" in result.deactivated
    with db.transaction() as session:
        catalog = current(session)
        assert [o.code for o in catalog.active] == ["regular_meeting"]
        assert catalog.active[0].plan.days_before == (2,)
        assert catalog.active[0].due.day == 25


# --- Discharge ---------------------------------------------------------------------------------


def open_instances(db: Database, start: date, end: date, **kw: object) -> list[ob.Instance]:
    with db.transaction() as session:
        catalog = current(session)
        cal = work_calendar(session, catalog)
        return ob.instances(session, catalog, cal, start=start, end=end, tz=TZ, **kw)  # type: ignore[arg-type]


def by_key(items: list[ob.Instance]) -> dict[str, ob.Instance]:
    return {i.key: i for i in items}


def test_records_discharge_their_obligations(db: Database, khoi: DemoKhoi) -> None:
    cell = khoi.orgs["CBVP-SYT"]
    march = (date(2027, 3, 1), date(2027, 3, 31))
    before = by_key(open_instances(db, *march))
    assert f"regular_meeting:2027-03:{cell}" in before
    reviews = before[f"commitment_review:2027-03:{cell}"]
    assert reviews.missing[0]["what"] == "reviews" and reviews.missing[0]["n"] == 13
    assert before[f"regular_meeting:2027-03:{cell}"].due == date(2027, 3, 5)  # usual day 5
    with db.transaction() as session:
        session.add(
            Meeting(
                org_id=cell,
                kind=MeetingKind.COMBINED,
                held_on=date(2027, 3, 5),
                regular_key=f"{cell}:2027-03",
                content={},
                created_at=NOW,
                updated_at=NOW,
            )
        )
        members = session.scalars(
            select(Member).where(Member.org_id == cell, Member.status != MemberStatus.EXEMPT)
        ).all()
        for m in members[:-3]:
            session.add(
                Review(
                    org_id=cell,
                    member_id=m.id,
                    year=2027,
                    month=3,
                    outcome=ReviewOutcome.PROGRESSING,
                    reviewed_at=NOW,
                )
            )
        session.add(CandidateConsideration(org_id=cell, year=2027, month=3, created_at=NOW))
        session.add(
            Report(
                org_id=cell,
                kind="remedy_quarterly",
                period="2027-Q1",
                due_on=date(2027, 3, 20),
                status=ReportStatus.SUBMITTED,
                figures={},
                submitted_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    after = by_key(open_instances(db, *march))
    assert f"regular_meeting:2027-03:{cell}" not in after
    assert after[f"commitment_review:2027-03:{cell}"].missing[0]["n"] == 3
    assert f"candidate_consideration:2027-03:{cell}" not in after
    assert f"remedy_quarterly:2027-Q1:{cell}" not in after
    assert f"thematic_meeting:2027-Q1:{cell}" not in after  # the combined meeting counts
    done = by_key(open_instances(db, *march, include_done=True))
    assert done[f"regular_meeting:2027-03:{cell}"].done


def test_a_probationary_member_owes_full_membership_consideration(
    db: Database, khoi: DemoKhoi
) -> None:
    cell = khoi.orgs["CBDIEN"]
    with db.transaction() as session:
        member = session.scalars(
            select(Member).where(Member.org_id == cell, Member.status == MemberStatus.FULL)
        ).first()
        assert member is not None
        member.status = MemberStatus.PROBATIONARY
        member.probation_end_on = date(2027, 1, 18)
        member_id = member.id
    found = by_key(open_instances(db, date(2027, 3, 1), date(2027, 3, 31)))
    inst = found[f"full_membership:m{member_id}:{cell}"]
    assert inst.due == date(2027, 3, 8)  # 30 working days, Tết excluded
    assert inst.missing[0]["ended"] == "2027-01-18"
    with db.transaction() as session:
        member = session.get(Member, member_id)
        assert member is not None
        member.status, member.full_member_on = MemberStatus.FULL, date(2027, 1, 18)
    assert f"full_membership:m{member_id}:{cell}" not in by_key(
        open_instances(db, date(2027, 3, 1), date(2027, 3, 31))
    )


def test_a_cell_without_secretary_falls_back_to_the_committee_above(
    db: Database, khoi: DemoKhoi
) -> None:
    with db.transaction() as session:
        for key in ("bt_vp", "bt_dien"):
            assignment = session.scalar(
                select(RoleAssignment).where(RoleAssignment.person_id == khoi.users[key].person_id)
            )
            assert assignment is not None
            assignment.revoked_at = NOW
    items = open_instances(db, date(2027, 3, 1), date(2027, 3, 31))
    with db.transaction() as session:
        rec = ob.recipients(session, current(session), items, ob.org_rows(session))
    vp = rec[f"regular_meeting:2027-03:{khoi.orgs['CBVP-SYT']}"]
    assert vp == [ob.Recipient(khoi.users["bt_syt"].person_id, fallback=True)]
    assert rec[f"regular_meeting:2027-03:{khoi.orgs['CBDIEN']}"] == []  # directly under the top
    assert rec[f"regular_meeting:2027-03:{khoi.orgs['CBBV-DK']}"] == [
        ob.Recipient(khoi.users["bt_bv"].person_id)
    ]
