"""Figures that follow the rules (issue 10): the admission-vote quorum on a real meeting."""

from __future__ import annotations

from sqlalchemy import update

from storage.db import Database
from storage.demo_seed import DemoKhoi
from storage.models import Member, MemberStatus
from tests.storage.test_meetings import Secretary, bv, khoi, required

__all__ = ["bv", "khoi"]


def test_a_meeting_with_13_of_21_full_members_cannot_vote_on_admissions(
    db: Database, khoi: DemoKhoi, bv: Secretary
) -> None:
    members = required(db, "CBBV-DK")
    assert len(members) == 24
    full, probationary = members[:21], members[21:]
    with db.transaction() as s:
        s.execute(
            update(Member)
            .where(Member.id.in_([x.id for x in full]))
            .values(status=MemberStatus.FULL)
        )
        s.execute(
            update(Member)
            .where(Member.id.in_([x.id for x in probationary]))
            .values(status=MemberStatus.PROBATIONARY)
        )
    # 8 full members away: 16 of 24 present (2/3 of the roll), 13 of 21 full members.
    result = bv.log(absent={x.id: "trip" for x in full[13:]})
    assert (result.present, result.required) == (16, 24)
    assert result.quorum_ok is False
    # 14 of 21 full members is 2/3: cleared.
    second = Secretary(db, bv.pid)
    second.set_today(bv.today.replace(month=10))
    ok = second.log(absent={x.id: "trip" for x in full[14:]} | {probationary[0].id: "trip"})
    assert (ok.present, ok.required) == (16, 24)
    assert ok.quorum_ok is True
