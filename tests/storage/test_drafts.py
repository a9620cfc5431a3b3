"""A person's draft is read once per transaction, and that read is forgotten whenever the
conversation is started, ended or deleted in the transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, event, select

from storage import drafts
from storage.db import Database
from storage.demo_seed import DemoKhoi, seed_demo
from storage.models import Draft

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def person(db: Database) -> int:
    with db.transaction() as session:
        khoi: DemoKhoi = seed_demo(session, now=NOW)
    return khoi.users["bt_bv"].person_id


def begin(db: Database, person: int, state: str = "one") -> None:
    with db.transaction() as session:
        drafts.start(session, person_id=person, flow="test", state=state, data={}, now=NOW)


def test_a_draft_read_twice_in_a_transaction_is_read_once(db: Database, person: int) -> None:
    begin(db, person)
    with db.transaction() as session:
        reads: list[str] = []

        def seen(_c: object, _cu: object, statement: str, *_a: object) -> None:
            if "FROM drafts" in statement:
                reads.append(statement)

        event.listen(session.get_bind(), "before_cursor_execute", seen)
        try:
            first = drafts.get(session, person)
            again = drafts.get(session, person)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", seen)
        assert first is again is not None
        assert len(reads) == 1
        drafts.advance(first, state="two", now=NOW)  # a step: the same object, moved on
        assert drafts.get(session, person).state == "two"  # type: ignore[union-attr]
    with db.reading() as session:  # saved, and a new transaction reads it afresh
        assert drafts.get(session, person).state == "two"  # type: ignore[union-attr]


def test_starting_ending_or_deleting_a_conversation_forgets_the_read(
    db: Database, person: int
) -> None:
    begin(db, person)
    with db.transaction() as session:
        old = drafts.get(session, person)
        assert old is not None
        new = drafts.start(session, person_id=person, flow="test", state="fresh", data={}, now=NOW)
        assert drafts.get(session, person) is new
        assert drafts.finish(session, person)
        assert drafts.get(session, person) is None
    begin(db, person)
    with db.transaction() as session:
        assert drafts.get(session, person) is not None
        session.execute(delete(Draft).where(Draft.person_id == person))  # as erasing data does
        assert drafts.get(session, person) is None
        assert session.scalar(select(Draft).where(Draft.person_id == person)) is None


def test_a_rolled_back_transaction_leaves_no_read_behind(db: Database, person: int) -> None:
    begin(db, person)
    session = db.sessions()
    with session.begin():
        assert drafts.get(session, person) is not None
    with db.transaction() as other:
        drafts.finish(other, person)
    with session.begin():  # the same session, a new transaction: read again
        assert drafts.get(session, person) is None
    session.close()
