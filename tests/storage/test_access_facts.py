"""The access checks of an update reuse the roles its identity load read, in the same
transaction only, and never after the transaction changed role assignments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, update

from domain.access import OrgNode, subtree
from domain.clock import ManualClock
from storage import access as access_facts
from storage.db import Database
from storage.demo_seed import seed_demo
from storage.models import OrgKind, Role, RoleAssignment
from storage.people import identity


def _grant_reads(db: Database) -> tuple[list[str], Any]:
    seen: list[str] = []

    def on_sql(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM role_assignments" in statement:
            seen.append(statement)

    return seen, on_sql


def test_grants_read_with_the_identity_are_reused_until_roles_change(
    db: Database, clock: ManualClock
) -> None:
    with db.transaction() as session:
        khoi = seed_demo(session, now=clock.now())
    user = khoi.users["bt_bv"]
    seen, on_sql = _grant_reads(db)
    event.listen(db.engine, "before_cursor_execute", on_sql)
    try:
        with db.transaction() as session:
            who = identity(session, user.telegram_user_id)
            assert who is not None
            reads = len(seen)
            held = access_facts.grants(session, who.person_id)
            assert len(seen) == reads  # reused: not read again
            assert {g.role for g in held} == who.role_set
            # A role granted in the same transaction: read again, and seen.
            session.add(
                RoleAssignment(
                    person_id=who.person_id,
                    org_id=khoi.top_id,
                    role=Role.STANDING,
                    granted_at=clock.now(),
                    granted_by="test",
                )
            )
            session.flush()
            assert Role.STANDING in {g.role for g in access_facts.grants(session, who.person_id)}
            assert len(seen) == reads + 1
        # A role revoked by a bulk update in the same transaction: gone at once.
        with db.transaction() as session:
            who = identity(session, user.telegram_user_id)
            assert who is not None and Role.STANDING in who.role_set
            session.execute(
                update(RoleAssignment)
                .where(
                    RoleAssignment.person_id == who.person_id,
                    RoleAssignment.role == Role.STANDING,
                )
                .values(revoked_at=datetime(2026, 11, 16, 2, tzinfo=UTC))
            )
            assert Role.STANDING not in {
                g.role for g in access_facts.grants(session, who.person_id)
            }
        # Another transaction never sees what an earlier one remembered.
        with db.transaction() as session:
            before = len(seen)
            access_facts.grants(session, user.person_id)
            assert len(seen) == before + 1
    finally:
        event.remove(db.engine, "before_cursor_execute", on_sql)


def test_the_subtree_read_is_every_organization_at_or_below_the_roots(
    db: Database, clock: ManualClock
) -> None:
    """The statement that reads a person's organizations (PostgreSQL has one of its own)
    returns, for any roots, what walking the whole table's parent links gives, with the same
    facts of each organization."""
    with db.transaction() as session:
        seed_demo(session, now=clock.now())
    with db.reading() as session:
        everything = {
            r[0]: OrgNode(*r) for r in session.execute(select(*access_facts._NODE)).all()
        }
        assert len({n.kind for n in everything.values()}) >= 3  # a tree several levels deep
        for root in everything:
            below = access_facts.subtree(session, [root])
            assert set(below) == subtree(everything, [root])
            assert all(below[i] == everything[i] for i in below)
        committees = [i for i, n in everything.items() if n.kind is not OrgKind.CELL][:3]
        assert set(access_facts.subtree(session, committees)) == subtree(everything, committees)
        assert access_facts.subtree(session, []) == {}
