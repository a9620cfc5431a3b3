"""The access policy decides on plain facts: role assignments and the organization tree."""

from __future__ import annotations

from datetime import date

import pytest

from domain import access
from domain.access import Grant, Holder, OrgNode
from domain.errors import NotAllowed, NotInScope
from domain.vocab import OrgKind, Role

TREE = {
    1: OrgNode(1, None, OrgKind.TOP, "DUK", "Khối"),
    2: OrgNode(2, 1, OrgKind.COMMITTEE, "DBSYT", "Đảng bộ Sở Y tế"),
    3: OrgNode(3, 2, OrgKind.CELL, "CBVP", "Chi bộ Văn phòng"),
    4: OrgNode(4, 2, OrgKind.CELL, "CBBV", "Chi bộ Bệnh viện", active_to=date(2026, 6, 30)),
    5: OrgNode(5, 1, OrgKind.GRASSROOTS_CELL, "CBDIEN", "Chi bộ Điện lực"),
}


def holder(*grants: tuple[Role, int]) -> Holder:
    """A person with ``grants``, and the organizations at or below them."""
    held = tuple(Grant(r, o) for r, o in grants)
    below = access.subtree(TREE, {g.org_id for g in held})
    return Holder(7, held, {i: TREE[i] for i in below})


def ids(nodes) -> list[int]:
    return [n.id for n in nodes]


def test_a_secretary_writes_and_reads_only_their_cell() -> None:
    who = holder((Role.SECRETARY, 3))
    assert ids(access.writable_cells(who)) == [3]
    assert access.may_write(who, 3) and not access.may_write(who, 4)
    assert ids(access.readable_cells(who)) == [3]
    with pytest.raises(NotInScope):
        access.require_write(who, 5, "meeting")


def test_a_committee_member_reads_but_does_not_write() -> None:
    who = holder((Role.COMMITTEE_MEMBER, 3))
    assert access.writable_cells(who) == []
    assert ids(access.commitment_cells(who)) == [3]
    with pytest.raises(NotAllowed):
        access.require_write(who, 3, "review")


def test_a_leader_reads_every_cell_and_writes_none() -> None:
    who = holder((Role.STANDING, 1))
    assert ids(access.readable_cells(who)) == [4, 5, 3]  # by code: CBBV, CBDIEN, CBVP
    assert access.writable_cells(who) == []
    assert access.standing_cells(who, on=date(2026, 11, 16)) == [5, 3]  # CBBV closed in June
    with pytest.raises(NotAllowed):
        access.watch_cells(who, on=date(2026, 11, 16))
    scope = access.summary_scope(who, on=date(2026, 11, 16))
    assert scope.sees_all and scope.cell_ids == (5, 3) and scope.allows(2)


def test_a_grassroots_secretary_sees_the_committee_cells() -> None:
    who = holder((Role.GRASSROOTS_SECRETARY, 2))
    scope = access.summary_scope(who, on=date(2026, 1, 1))
    assert not scope.sees_all and scope.cell_ids == (4, 3) and not scope.allows(5)
    assert access.deadline_orgs(who, {o.id: o.parent_id for o in TREE.values()}) == {2, 3, 4}


def test_nobody_without_a_role_has_a_scope() -> None:
    with pytest.raises(NotAllowed):
        access.summary_scope(holder(), on=date(2026, 1, 1))
    assert access.menu_for([]) is None
    assert "meeting" not in access.default_menu()


def test_reminders_fall_back_to_the_committee_above() -> None:
    remind = (Role.SECRETARY, Role.DEPUTY)
    here = [(10, Role.SECRETARY), (11, Role.COMMITTEE_MEMBER), (10, Role.DEPUTY)]
    above = [(20, Role.GRASSROOTS_SECRETARY), (21, Role.FOLLOWER)]
    assert access.reminded(remind, here, parent_kind=OrgKind.COMMITTEE, above=above) == (
        [10],
        False,
    )
    assert access.reminded(remind, [], parent_kind=OrgKind.COMMITTEE, above=above) == ([20], True)
    assert access.reminded(remind, [], parent_kind=OrgKind.TOP, above=above) == ([], False)


def test_digest_notices_and_unreachable_people() -> None:
    assert access.gets_digest(Role.STANDING, OrgKind.TOP, {Role.STANDING})
    assert not access.gets_digest(Role.STANDING, OrgKind.COMMITTEE, {Role.STANDING})
    assert access.gets_notice(Role.SECRETARY) and not access.gets_notice(Role.DEPUTY)
    board = [(5, Role.ORGANIZATION, OrgKind.TOP), (6, Role.ORGANIZATION, OrgKind.CELL)]
    assert access.told_of_unreachable(board) == [5]
    assert access.told_of_unreachable([*board, (9, Role.ADMIN, OrgKind.TOP)]) == [9]


def test_a_founded_enterprise_points_at_a_cell_of_the_leaders_own_khoi() -> None:
    leader = holder((Role.STANDING, 1))
    assert access.office_top(leader) == 1
    assert ids(access.founding_cells(leader)) == [4, 5, 3]  # by code
    secretary = holder((Role.SECRETARY, 3))
    assert access.office_top(secretary) is None
    with pytest.raises(NotAllowed):
        access.founding_cells(secretary)
